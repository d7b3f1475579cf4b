// SPDX-License-Identifier: MIT
#include "quant_fuse.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <vector>

#include "errors.h"
#include "mtia/mtia_fp16.h"
#include "mtia/mtia_quant.h"

namespace mtia::compiler {

namespace {

bool is_cast(const DevGraph &d, const DevOp &op, bool from_quant)
{
    if (op.kind != MTIA_OP_CAST) return false;
    const uint8_t a = d.tensors[op.in[0]].dtype, b = d.tensors[op.out].dtype;
    return from_quant ? mtia_dtype_is_quant(a) && b == MTIA_DTYPE_F32 : a == MTIA_DTYPE_F32 && mtia_dtype_is_quant(b);
}

// Slot k of op (MTIA_OP_MAX_IN: its output) computes on float32 data, so a
// quantized tensor may stand there (mtia_spec.h, "Reduced precision").
// GATHER, EMBEDDING_BAG and CAST have rules of their own.
bool float_slot(const DevGraph &d, const DevOp &op, uint32_t k)
{
    if (op.kind == MTIA_OP_CAST || op.kind == MTIA_OP_GATHER || op.kind == MTIA_OP_EMBEDDING_BAG) return false;
    const uint32_t kind = op.attrs.empty() ? 0 : op.attrs[0];
    return mtia_op_tensor_dtype(op.kind, kind, k, d.tensors[op.in[0]].dtype, d.tensors[op.out].dtype) == MTIA_DTYPE_F32;
}

// The root whose whole storage @t is (itself, or a view of all of it
// such as a reshape or a fused activation's output), else -1.
int whole_root(const DevGraph &d, int t)
{
    const int r = d.root(t);
    return d.offset_in_root(t) == 0 && d.tensors[t].bytes() == d.tensors[r].bytes() ? r : -1;
}

// Readers of each root: ops reading it or a view of it, graph outputs.
std::vector<int> reader_counts(const DevGraph &d, const std::vector<bool> &dead)
{
    std::vector<int> n(d.tensors.size(), 0);
    for (size_t i = 0; i < d.ops.size(); ++i)
        if (!dead[i])
            for (int t : d.ops[i].in) ++n[d.root(t)];
    for (int t : d.outputs) ++n[d.root(t)];
    return n;
}

// Ops read the quantized tensor a dequantizing CAST reads, not its output.
void read_quantized(DevGraph &d)
{
    std::map<int, int> deq;  // float root written by a dequantizing CAST -> the tensor it reads
    for (const DevOp &op : d.ops)
        if (is_cast(d, op, true) && !d.tensors[op.out].is_view()) deq[op.out] = op.in[0];
    for (size_t i = 0; i < d.ops.size(); ++i) {
        for (uint32_t k = 0; k < d.ops[i].in.size(); ++k) {
            const int t = d.ops[i].in[k], r = d.root(t);
            auto it = deq.find(r);
            if (it == deq.end() || !float_slot(d, d.ops[i], k)) continue;
            const uint64_t off = d.offset_in_root(t);
            if (off % 4) continue;
            const int q = it->second;
            d.ops[i].in[k] = t == r ? q : d.add_view(q, d.tensors[t].shape, off / 4, d.tensors[t].name + ".q");
        }
    }
}

// An op whose float output only a quantizing CAST reads writes the CAST's
// quantized output itself.
void write_quantized(DevGraph &d, std::vector<bool> &dead)
{
    const std::vector<int> readers = reader_counts(d, dead);
    std::vector<int> writers(d.tensors.size(), 0), writer(d.tensors.size(), -1);
    for (size_t i = 0; i < d.ops.size(); ++i) {
        if (dead[i]) continue;
        const int r = d.root(d.ops[i].out);
        ++writers[r];
        writer[r] = static_cast<int>(i);
    }
    for (size_t c = 0; c < d.ops.size(); ++c) {
        if (dead[c] || !is_cast(d, d.ops[c], false)) continue;
        const int f = whole_root(d, d.ops[c].in[0]);
        if (f < 0 || d.tensors[f].kind != TensorKind::Activation || readers[f] != 1 || writers[f] != 1 ||
            d.ops[writer[f]].out != f)
            continue;
        const int w = writer[f];
        if (d.ops[w].kind != MTIA_OP_CAST && !float_slot(d, d.ops[w], MTIA_OP_MAX_IN)) continue;
        const int q = d.ops[c].out;  // the writer's shape, if the CAST read a reshape of it
        d.ops[w].out = d.tensors[q].shape == d.tensors[f].shape
                           ? q
                           : d.add_view(q, d.tensors[f].shape, 0, d.tensors[f].name + ".q");
        dead[c] = true;
    }
}

// CASTs whose output nothing reads (and is no graph output).
void drop_unread_casts(DevGraph &d, std::vector<bool> &dead)
{
    for (bool changed = true; changed;) {
        changed = false;
        const std::vector<int> readers = reader_counts(d, dead);
        for (size_t i = 0; i < d.ops.size(); ++i)
            if (!dead[i] && d.ops[i].kind == MTIA_OP_CAST && !readers[d.root(d.ops[i].out)]) dead[i] = changed = true;
    }
}

// Float weights @w (M channels of @per elements each, channel-major, or
// N columns of a (K, N) matrix with @columns) as I8 per channel, and their
// scales.
struct Quantized {
    std::vector<int64_t> q;
    std::vector<float> scale;
};
Quantized quantize_per_channel(const std::vector<float> &w, int64_t m, bool columns)
{
    const int64_t per = static_cast<int64_t>(w.size()) / m;
    auto at = [&](int64_t c, int64_t j) -> size_t { return static_cast<size_t>(columns ? j * m + c : c * per + j); };
    Quantized r;
    r.q.resize(w.size());
    r.scale.resize(static_cast<size_t>(m));
    for (int64_t c = 0; c < m; ++c) {
        float amax = 0.0f;
        for (int64_t j = 0; j < per; ++j) amax = std::max(amax, std::fabs(w[at(c, j)]));
        const float s = amax > 0.0f && std::isfinite(amax) ? amax / 127.0f : 1.0f;
        r.scale[static_cast<size_t>(c)] = s;
        for (int64_t j = 0; j < per; ++j) r.q[at(c, j)] = mtia_quantize(w[at(c, j)], s, 0, -127, 127);
    }
    return r;
}

int add_weight(DevGraph &d, const std::string &name, Shape shape, uint8_t dtype, ConstTensor c)
{
    DevTensor t;
    t.name = name;
    t.shape = std::move(shape);
    t.dtype = dtype;
    t.kind = TensorKind::Weight;
    t.data = std::make_shared<const ConstTensor>(std::move(c));
    return d.add_tensor(std::move(t));
}

const ConstTensor *float_weight(const DevGraph &d, int t)
{
    const int r = whole_root(d, t);
    if (r < 0) return nullptr;
    const DevTensor &w = d.tensors[r];
    if (w.kind != TensorKind::Weight || w.dtype != MTIA_DTYPE_F32 || !w.data || !w.data->is_float()) return nullptr;
    return w.data.get();
}

// The int8 form's (M, K, per-column weights, bias) of a CONV or GEMM with
// constant float weights (and bias), if it has one.
struct Int8Shape {
    int64_t m = 0, k = 0;
    bool columns = false;
    std::vector<float> bias;
};
bool int8_shape(const DevGraph &d, const DevOp &op, Int8Shape *r)
{
    if (op.kind != MTIA_OP_CONV && op.kind != MTIA_OP_GEMM) return false;
    const ConstTensor *w = float_weight(d, op.in[1]);
    if (!w) return false;
    const Shape &ws = d.tensors[op.in[1]].shape;
    r->m = ws[0];
    r->k = w->size() / ws[0];
    r->columns = false;
    if (op.kind == MTIA_OP_GEMM) {
        const bool tb = op.attrs[MTIA_GEMM_TRANS_B] != 0;
        if (ws.size() != 2 || op.attrs[MTIA_GEMM_TRANS_A] || op.attrs[MTIA_GEMM_ALPHA] != f32_bits(1.0f)) return false;
        r->m = tb ? ws[0] : ws[1];
        r->k = tb ? ws[1] : ws[0];
        r->columns = !tb;
    }
    if (r->k > static_cast<int64_t>(MTIA_QUANT_MAX_K)) return false;
    // The bias: CONV's (M); GEMM's C times BETA if it is a constant of N
    // values broadcast along the rows.
    r->bias.assign(static_cast<size_t>(r->m), 0.0f);
    if (op.in.size() == 3) {
        const ConstTensor *b = float_weight(d, op.in[2]);
        if (!b || b->size() != r->m) return false;
        const Shape &bs = d.tensors[op.in[2]].shape;
        if (op.kind == MTIA_OP_GEMM && bs.back() != r->m) return false;
        const float beta = op.kind == MTIA_OP_GEMM ? mtia_bits_f32(op.attrs[MTIA_GEMM_BETA]) : 1.0f;
        for (int64_t c = 0; c < r->m; ++c) r->bias[static_cast<size_t>(c)] = beta * b->f[static_cast<size_t>(c)];
    }
    return true;
}

// CONV/GEMM op reading a quantized tensor with constant float weights ->
// the per-channel int8 form. false if op does not qualify.
bool to_int8(DevGraph &d, DevOp &op)
{
    Int8Shape sh;
    if (!mtia_dtype_is_quant(d.tensors[op.in[0]].dtype) || !int8_shape(d, op, &sh)) return false;
    const Shape ws = d.tensors[op.in[1]].shape;
    Quantized qw = quantize_per_channel(float_weight(d, op.in[1])->f, sh.m, sh.columns);
    ConstTensor wq;
    wq.dtype = onnx::TensorProto::INT8;
    wq.shape = ws;
    wq.i = std::move(qw.q);
    std::vector<float> sb = qw.scale;
    sb.insert(sb.end(), sh.bias.begin(), sh.bias.end());
    const std::string base = d.tensors[op.in[1]].name;
    const int wt = add_weight(d, base + ".int8", ws, MTIA_DTYPE_I8, std::move(wq));
    const int st = add_weight(d, base + ".scales_bias", {2, sh.m}, MTIA_DTYPE_F32, ConstTensor::floats({2, sh.m}, sb));
    op.in = {op.in[0], wt, st};
    if (op.kind == MTIA_OP_GEMM) op.attrs[MTIA_GEMM_BETA] = 0;
    return true;
}

}  // namespace

bool int8_capable(const DevGraph &d, const DevOp &op)
{
    Int8Shape sh;
    return int8_shape(d, op, &sh);
}

QuantReport fuse_quantized(DevGraph &d)
{
    QuantReport rep;
    bool any = false;
    for (const DevTensor &t : d.tensors) any |= mtia_dtype_is_quant(t.dtype);
    if (!any) return rep;
    std::vector<bool> dead(d.ops.size(), false);
    read_quantized(d);
    write_quantized(d, dead);
    drop_unread_casts(d, dead);
    std::vector<DevOp> kept;
    for (size_t i = 0; i < d.ops.size(); ++i) {
        if (dead[i]) {
            ++rep.casts_removed;
            continue;
        }
        kept.push_back(std::move(d.ops[i]));
    }
    d.ops = std::move(kept);
    for (DevOp &op : d.ops) rep.int8_ops += to_int8(d, op);
    return rep;
}

}  // namespace mtia::compiler
