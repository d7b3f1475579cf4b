// SPDX-License-Identifier: MIT
#include "memory_plan.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "errors.h"
#include "mtia/mtia_fp16.h"
#include "mtia/mtia_model.h"

namespace mtia::compiler {

namespace {

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

bool overlap_time(const LiveRange &a, const LiveRange &b) { return a.first <= b.last && b.first <= a.last; }

}  // namespace

std::vector<uint64_t> plan_offsets(const std::vector<LiveRange> &ranges, uint64_t align, uint64_t *peak)
{
    std::vector<size_t> order(ranges.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (ranges[a].size != ranges[b].size) return ranges[a].size > ranges[b].size;
        return ranges[a].first < ranges[b].first;
    });
    std::vector<uint64_t> offsets(ranges.size(), 0);
    std::vector<size_t> placed;
    uint64_t top = 0;
    for (size_t i : order) {
        const uint64_t size = align_up(std::max<uint64_t>(ranges[i].size, 1), align);
        // Blocks in use during i's lifetime, by offset.
        std::vector<std::pair<uint64_t, uint64_t>> busy;
        for (size_t j : placed)
            if (overlap_time(ranges[i], ranges[j]))
                busy.push_back({offsets[j], offsets[j] + align_up(std::max<uint64_t>(ranges[j].size, 1), align)});
        std::sort(busy.begin(), busy.end());
        uint64_t best = UINT64_MAX, best_gap = UINT64_MAX, cursor = 0;
        for (const auto &b : busy) {
            if (b.first > cursor && b.first - cursor >= size && b.first - cursor < best_gap) {
                best = cursor;
                best_gap = b.first - cursor;
            }
            cursor = std::max(cursor, b.second);
        }
        if (best == UINT64_MAX) best = cursor;  // above every live block
        offsets[i] = best;
        top = std::max(top, best + size);
        placed.push_back(i);
    }
    *peak = top;
    return offsets;
}

bool plan_is_valid(const std::vector<LiveRange> &ranges, const std::vector<uint64_t> &offsets)
{
    for (size_t i = 0; i < ranges.size(); ++i)
        for (size_t j = i + 1; j < ranges.size(); ++j)
            if (overlap_time(ranges[i], ranges[j]) && offsets[i] < offsets[j] + ranges[j].size &&
                offsets[j] < offsets[i] + ranges[i].size)
                return false;
    return true;
}

ArenaLayout place_tensors(DevGraph &d, bool reuse)
{
    const uint64_t A = MTIA_MODEL_TENSOR_ALIGN;
    const int nt = static_cast<int>(d.tensors.size());
    const int n_ops = static_cast<int>(d.ops.size());
    ArenaLayout L;

    // Which roots any op or graph I/O touches.
    std::vector<int> first(nt, INT32_MAX), last(nt, -1);
    auto touch = [&](int t, int step) {
        int r = d.root(t);
        first[r] = std::min(first[r], step);
        last[r] = std::max(last[r], step);
    };
    for (int t : d.inputs) touch(t, 0);
    for (int o = 0; o < n_ops; ++o) {
        for (int t : d.ops[o].in) touch(t, o + 1);
        touch(d.ops[o].out, o + 1);
    }
    for (int t = 0; t < nt; ++t)
        if (d.tensors[t].kind == TensorKind::Output) touch(t, n_ops + 1);

    // Weights: packed in tensor order. An 8-bit rowwise table's parameters
    // are its values, not the scale and bias bytes of its rows.
    std::vector<char> rowwise(nt, 0);
    for (const auto &op : d.ops)
        if (op.kind == MTIA_OP_EMBEDDING_BAG && mtia_dtype_is_quant(d.tensors[op.in[0]].dtype))
            rowwise[d.root(op.in[0])] = 1;
    for (int t = 0; t < nt; ++t) {
        DevTensor &w = d.tensors[t];
        if (w.is_view() || w.kind != TensorKind::Weight || last[t] < 0) continue;
        w.offset = L.weights_bytes;
        L.weight_elements += static_cast<int64_t>(w.bytes() / mtia_dtype_size(w.dtype));
        if (rowwise[t]) L.weight_elements -= w.shape[0] * MTIA_ROWWISE_PARAM_BYTES;
        L.weights_bytes = align_up(L.weights_bytes + w.bytes(), A);
    }
    L.weights.assign(L.weights_bytes, 0);
    for (int t = 0; t < nt; ++t) {
        const DevTensor &w = d.tensors[t];
        if (w.is_view() || w.kind != TensorKind::Weight || last[t] < 0) continue;
        if (w.dtype == MTIA_DTYPE_I64) {  // constant indices (lower_embed.cc)
            if (!w.data || w.data->is_float() || static_cast<uint64_t>(w.data->i.size()) * 8 != w.bytes())
                internal_error("weight '" + w.name + "' has no int64 data of its size");
            std::memcpy(L.weights.data() + w.offset, w.data->i.data(), w.bytes());
            continue;
        }
        if (w.dtype == MTIA_DTYPE_I32) {  // integer ops' operands (lower_integer.cc), values in range
            if (!w.data || w.data->is_float() || static_cast<uint64_t>(w.data->i.size()) * 4 != w.bytes())
                internal_error("weight '" + w.name + "' has no int32 data of its size");
            for (size_t i = 0; i < w.data->i.size(); ++i) {
                const int32_t v = static_cast<int32_t>(w.data->i[i]);
                std::memcpy(L.weights.data() + w.offset + i * 4, &v, 4);
            }
            continue;
        }
        if (mtia_dtype_is_quant(w.dtype)) {  // quantized weights (quant_fuse.h), values in range
            if (!w.data || w.data->is_float() || static_cast<uint64_t>(w.data->i.size()) != w.bytes())
                internal_error("weight '" + w.name + "' has no 8-bit data of its size");
            for (size_t i = 0; i < w.data->i.size(); ++i)
                L.weights[w.offset + i] = static_cast<uint8_t>(w.data->i[i] & 0xff);  // two's complement
            continue;
        }
        const uint64_t es = mtia_dtype_size(w.dtype);
        if (!w.data || !w.data->is_float() || static_cast<uint64_t>(w.data->f.size()) * es != w.bytes())
            internal_error("weight '" + w.name + "' has no float data of its size");
        if (w.dtype == MTIA_DTYPE_F32) {
            std::memcpy(L.weights.data() + w.offset, w.data->f.data(), w.bytes());
            continue;
        }
        for (size_t i = 0; i < w.data->f.size(); ++i) {  // --dtype (precision.h): rounded to nearest even
            const float v = w.data->f[i];
            const uint16_t h = w.dtype == MTIA_DTYPE_F16 ? mtia_f32_to_f16(v) : mtia_f32_to_bf16(v);
            std::memcpy(L.weights.data() + w.offset + i * 2, &h, 2);
        }
    }

    // Activations.
    std::vector<int> roots;
    std::vector<LiveRange> ranges;
    for (int t = 0; t < nt; ++t) {
        if (d.tensors[t].is_view() || d.tensors[t].kind == TensorKind::Weight || last[t] < 0) continue;
        roots.push_back(t);
        ranges.push_back({d.tensors[t].bytes(), reuse ? first[t] : 0, reuse ? last[t] : n_ops + 1});
        L.activations_total += align_up(d.tensors[t].bytes(), A);
    }
    std::vector<uint64_t> off = plan_offsets(ranges, A, &L.activations_peak);
    if (!plan_is_valid(ranges, off)) internal_error("memory plan overlaps live tensors");
    for (size_t k = 0; k < roots.size(); ++k) d.tensors[roots[k]].offset = L.weights_bytes + off[k];
    L.arena_size = L.weights_bytes + L.activations_peak;
    if (reuse && L.arena_size > MTIA_MAX_DEVMEM_BYTES)
        unsupported("the model needs a " + std::to_string(L.arena_size >> 20) +
                    " MiB arena, over the device's maximum memory");

    for (int t = 0; t < nt; ++t)
        if (d.tensors[t].is_view()) d.tensors[t].offset = d.tensors[d.root(t)].offset + d.offset_in_root(t);
    return L;
}

}  // namespace mtia::compiler
