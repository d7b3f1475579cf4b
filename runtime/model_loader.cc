// SPDX-License-Identifier: MIT
// Reads a compiled model (.mtia, include/mtia/mtia_model.fbs).
//
// Order of checks: size and file identifier, the FlatBuffers verifier (every
// offset of the file stays inside it), the format's major version, then the
// model's own rules: tensor shapes/sizes/offsets against the arena and the
// weights image, op indices/counts/enums, model inputs/outputs, and that no
// op overwrites a tensor that is still needed (the compiler reuses arena
// bytes by lifetime). A file with batch buckets (Model.programs, format
// 1.1) has every program checked the same way, plus that they share the
// top level's weight tensors exactly and have its inputs/outputs with dim
// 0 = their batch on the batched ones. Quantized (I8/U8) tensors carry a
// scale and zero point (format 1.2), checked here because the device takes
// them as given. The device validates the lowered
// program again (MTIA_CQE_BAD_PROGRAM), so these are the structural checks
// only: per-op shape rules are the device's.
#include "model_loader.h"

#include <flatbuffers/flatbuffers.h>

#include <algorithm>
#include <tuple>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "mtia/mtia_model.h"
#include "mtia/mtia_model_generated.h"
#include "mtia/mtia_quant.h"

namespace mtia::detail {

namespace {

namespace fb = ::mtia::model;

constexpr int64_t kNever = INT64_MAX;

[[noreturn]] void bad(const std::string &what) { throw Error(MTIA_ERROR_INVALID_MODEL, "invalid model: " + what); }

std::string str(const flatbuffers::String *s)
{
    if (!s) return {};
    std::string r = s->str();
    if (r.size() > 64) r = r.substr(0, 61) + "...";
    return r;
}

std::string range(uint64_t off, uint64_t size)
{
    return "[" + std::to_string(off) + ", +" + std::to_string(size) + ")";
}

struct TensorRec {
    std::string label;  // "tensor 3 'conv1.weight'"
    fb::TensorKind kind = fb::TensorKind::Activation;
    uint64_t offset = 0;
    uint64_t size = 0;
    mtia_tensor_desc desc{};
    std::vector<uint32_t> shape;
    int batch_axis = -1;
};

const char *kind_name(fb::TensorKind k)
{
    const char *n = fb::EnumNameTensorKind(k);
    return n && *n ? n : "?";
}

uint32_t f32_bits(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

// A tensor's scale and zero point: an I8/U8 tensor's finite scale > 0 and
// zero point in the dtype's range, or both 0 on an I8/U8 weight (per-channel
// CONV/GEMM weights, whose scales are the op's in[2]; 8-bit rowwise
// embedding tables, a scale and bias in each row); 0 and 0 for any other
// dtype (the device reads them only on quantized tensors, but a stray value
// is a corrupt file).
void check_quant(const std::string &label, const fb::Tensor *t, uint32_t dtype)
{
    const float scale = t->scale();
    const int32_t zp = t->zero_point();
    char sc[32];
    std::snprintf(sc, sizeof(sc), "%.9g", static_cast<double>(scale));
    const std::string got = "scale " + std::string(sc) + ", zero point " + std::to_string(zp);
    if (!mtia_dtype_is_quant(dtype)) {
        if (f32_bits(scale) != 0 || zp != 0) bad(label + ": " + got + " on a tensor that is not quantized (I8/U8)");
        return;
    }
    const char *dt = dtype == MTIA_DTYPE_I8 ? "I8" : "U8";
    if (f32_bits(scale) == 0 && zp == 0) {
        if (t->kind() == fb::TensorKind::Weight) return;  // per-channel weights, 8-bit rowwise tables
        bad(label + ": " + dt + " " + kind_name(t->kind()) +
            " tensor with scale 0 (only Weight tensors, per-channel CONV/GEMM weights and 8-bit rowwise embedding "
            "tables, have no scale)");
    }
    if (!std::isfinite(scale) || !(scale > 0))
        bad(label + ": " + dt + " " + got + " (the scale must be finite and > 0)");
    const int32_t lo = mtia_quant_min(dtype), hi = mtia_quant_max(dtype);
    if (zp < lo || zp > hi) {
        bad(label + ": " + dt + " " + got + " (the zero point must be in [" + std::to_string(lo) + ", " +
            std::to_string(hi) + "])");
    }
}

TensorRec check_tensor(uint32_t i, const fb::Tensor *t, uint64_t arena, uint64_t weights)
{
    TensorRec r;
    r.label = "tensor " + std::to_string(i) + " '" + str(t->name()) + "'";
    const auto kind = static_cast<uint8_t>(t->kind());
    if (kind > static_cast<uint8_t>(fb::TensorKind::MAX)) bad(r.label + ": unknown kind " + std::to_string(kind));
    r.kind = t->kind();
    const uint32_t dtype = static_cast<uint32_t>(t->dtype());
    const uint64_t esize = mtia_dtype_size(dtype);
    if (!esize) {
        bad(r.label + ": unsupported dtype " + std::to_string(dtype) + " (F32, F16, BF16, I8, I32, I64, Bool or U8)");
    }
    const auto *shape = t->shape();
    const size_t nd = shape ? shape->size() : 0;
    if (nd < 1 || nd > MTIA_MAX_DIMS) {
        bad(r.label + ": " + std::to_string(nd) + " dims (must be 1.." + std::to_string(MTIA_MAX_DIMS) + ")");
    }
    uint64_t elems = 1;
    for (size_t d = 0; d < nd; d++) {
        const uint32_t v = shape->Get(static_cast<flatbuffers::uoffset_t>(d));
        if (v == 0) bad(r.label + ": dim " + std::to_string(d) + " is 0");
        if (elems > UINT64_MAX / esize / v) bad(r.label + ": element count overflows");
        elems *= v;
        r.shape.push_back(v);
    }
    r.offset = t->offset();
    r.size = t->size();
    if (elems * esize != r.size) {
        bad(r.label + ": size " + std::to_string(r.size) + " bytes, but its shape holds " +
            std::to_string(elems * esize));
    }
    if (r.offset % MTIA_MODEL_TENSOR_ALIGN) {
        bad(r.label + ": offset " + std::to_string(r.offset) + " is not a multiple of " +
            std::to_string(MTIA_MODEL_TENSOR_ALIGN));
    }
    if (r.offset > arena || r.size > arena - r.offset) {
        bad(r.label + ": bytes " + range(r.offset, r.size) + " are outside the arena of " + std::to_string(arena) +
            " bytes");
    }
    if (r.kind == fb::TensorKind::Weight) {
        if (r.offset + r.size > weights) {
            bad(r.label + ": weight bytes " + range(r.offset, r.size) + " are outside the weights image of " +
                std::to_string(weights) + " bytes");
        }
    } else if (r.offset < weights) {
        bad(r.label + " (" + kind_name(r.kind) + "): bytes " + range(r.offset, r.size) +
            " overlap the weights image [0, " + std::to_string(weights) + ")");
    }
    r.batch_axis = t->batch_axis();
    if (r.batch_axis != -1 && r.batch_axis != 0) {
        bad(r.label + ": batch_axis " + std::to_string(r.batch_axis) + " (0 or -1)");
    }
    check_quant(r.label, t, dtype);
    r.desc.scale = f32_bits(t->scale());
    r.desc.zero_point = static_cast<int16_t>(t->zero_point());  // in range: checked
    r.desc.offset = r.offset;
    r.desc.dtype = static_cast<uint8_t>(dtype);
    r.desc.ndim = static_cast<uint8_t>(nd);
    for (size_t d = 0; d < nd; d++) r.desc.dims[d] = r.shape[d];
    return r;
}

// Inputs an opcode takes (min, max).
std::pair<unsigned, unsigned> op_arity(fb::OpKind k)
{
    switch (k) {
        case fb::OpKind::Conv:
        case fb::OpKind::ConvTranspose:
        case fb::OpKind::Gemm:
            return {2, 3};
        case fb::OpKind::Binary:
        case fb::OpKind::Gather:
            return {2, 2};
        case fb::OpKind::Where:
            return {3, 3};
        case fb::OpKind::LayerNorm:
            return {1, 3};
        case fb::OpKind::EmbeddingBag:
            return {2, 3};
        default:
            return {1, 1};
    }
}

mtia_op lower_op(const std::string &label, const fb::Op *o, const std::vector<TensorRec> &ts)
{
    const auto kind = static_cast<uint16_t>(o->kind());
    if (kind < MTIA_OP_CONV || kind > MTIA_OP_LAST) bad(label + ": unknown op kind " + std::to_string(kind));
    const auto *in = o->inputs();
    const size_t n_in = in ? in->size() : 0;
    const auto [lo, hi] = op_arity(o->kind());
    if (n_in < lo || n_in > hi) {
        bad(label + ": " + std::to_string(n_in) + " inputs (" + fb::EnumNameOpKind(o->kind()) + " takes " +
            std::to_string(lo) + (lo == hi ? "" : ".." + std::to_string(hi)) + ")");
    }
    const uint32_t out = o->output();
    if (out >= ts.size()) bad(label + ": output index " + std::to_string(out) + " is not a tensor");
    if (ts[out].kind != fb::TensorKind::Activation && ts[out].kind != fb::TensorKind::Output) {
        bad(label + ": writes " + ts[out].label + " of kind " + kind_name(ts[out].kind) +
            " (ops write Activation or Output tensors)");
    }
    const auto act = static_cast<uint8_t>(o->act());
    if (act > MTIA_ACT_LAST) bad(label + ": unknown activation " + std::to_string(act));
    if (o->act() == fb::Activation::Clip && !(o->act_min() <= o->act_max())) {
        bad(label + ": Clip bounds [" + std::to_string(o->act_min()) + ", " + std::to_string(o->act_max()) +
            "] are empty or NaN");
    }
    const auto *attrs = o->attrs();
    const size_t n_attrs = attrs ? attrs->size() : 0;
    if (n_attrs > MTIA_OP_MAX_ATTRS) {
        bad(label + ": " + std::to_string(n_attrs) + " attrs (at most " + std::to_string(MTIA_OP_MAX_ATTRS) + ")");
    }

    mtia_op op;
    std::memset(&op, 0, sizeof(op));
    op.opcode = kind;
    op.n_in = static_cast<uint8_t>(n_in);
    op.act = act;
    op.act_min = f32_bits(o->act_min());
    op.act_max = f32_bits(o->act_max());
    op.flags = o->flags();  // MTIA_OP_F_*: the device checks which ops may have them
    for (flatbuffers::uoffset_t i = 0; i < n_in; i++) {
        const uint32_t t = in->Get(i);
        if (t >= ts.size())
            bad(label + ": input " + std::to_string(i) + " index " + std::to_string(t) + " is not a tensor");
        op.in[i] = ts[t].desc;
    }
    op.out = ts[out].desc;
    for (flatbuffers::uoffset_t i = 0; i < n_attrs; i++) op.attrs[i] = attrs->Get(i);
    return op;
}

bool overlap(const TensorRec &a, const TensorRec &b)
{
    return a.offset < b.offset + b.size && b.offset < a.offset + a.size;
}

// Model inputs or outputs: valid distinct indices of the right kind, every
// tensor of that kind listed, and no two overlapping (inputs are copied in
// together; outputs must all survive to the end). Outputs may share bytes
// only as exact aliases.
std::vector<uint32_t> check_io(const flatbuffers::Vector<uint32_t> *v, const std::vector<TensorRec> &ts,
                               fb::TensorKind kind, const char *what)
{
    std::vector<uint32_t> idx;
    const size_t n = v ? v->size() : 0;
    if (n > kModelMaxIo) bad(std::to_string(n) + " model " + what + "s (at most " + std::to_string(kModelMaxIo) + ")");
    std::vector<bool> listed(ts.size(), false);
    for (flatbuffers::uoffset_t i = 0; i < n; i++) {
        const uint32_t t = v->Get(i);
        const std::string label = std::string("model ") + what + " " + std::to_string(i);
        if (t >= ts.size()) bad(label + ": index " + std::to_string(t) + " is not a tensor");
        if (ts[t].kind != kind) bad(label + ": " + ts[t].label + " is of kind " + kind_name(ts[t].kind));
        if (listed[t]) bad(label + ": " + ts[t].label + " is listed twice");
        listed[t] = true;
        for (uint32_t p : idx) {
            const bool alias = ts[p].offset == ts[t].offset && ts[p].size == ts[t].size;
            if (overlap(ts[p], ts[t]) && !(kind == fb::TensorKind::Output && alias)) {
                bad(label + ": " + ts[t].label + " " + range(ts[t].offset, ts[t].size) + " overlaps " + ts[p].label +
                    " " + range(ts[p].offset, ts[p].size));
            }
        }
        idx.push_back(t);
    }
    for (size_t t = 0; t < ts.size(); t++) {
        if (ts[t].kind == kind && !listed[t])
            bad(ts[t].label + " is of kind " + kind_name(kind) + " but not a model " + what);
    }
    return idx;
}

// No op may overwrite bytes of another tensor that is live at that op:
// defined before it (a model input, or written/first read by an earlier op)
// and still read after it (or a model output, needed at the end).
template <class Table>
void check_lifetimes(const Table *m, const std::vector<TensorRec> &ts, const std::vector<uint32_t> &outputs,
                     const std::vector<std::string> &op_labels)
{
    const size_t nt = ts.size();
    const auto *ops = m->ops();
    const int64_t n = ops->size();
    std::vector<int64_t> first_write(nt, kNever), first_read(nt, kNever), last_read(nt, -1);
    for (int64_t k = 0; k < n; k++) {
        const fb::Op *o = ops->Get(static_cast<flatbuffers::uoffset_t>(k));
        for (uint32_t t : *o->inputs()) {
            first_read[t] = std::min(first_read[t], k);
            last_read[t] = std::max(last_read[t], k);
        }
        first_write[o->output()] = std::min(first_write[o->output()], k);
    }
    std::vector<int64_t> def(nt), last(nt);
    for (size_t t = 0; t < nt; t++) {
        if (first_write[t] != kNever && first_read[t] < first_write[t]) {
            bad(op_labels[first_read[t]] + " reads " + ts[t].label + " before " + op_labels[first_write[t]] +
                " writes it");
        }
        def[t] = ts[t].kind == fb::TensorKind::Input ? -1 : std::min(first_write[t], first_read[t]);
        last[t] = last_read[t];
    }
    for (uint32_t t : outputs) last[t] = n;

    // Non-weight tensors by offset; an overlap with [a, b) starts after a - max_size.
    std::vector<uint32_t> by_off;
    uint64_t max_size = 0;
    for (uint32_t t = 0; t < nt; t++) {
        if (ts[t].kind == fb::TensorKind::Weight) continue;
        by_off.push_back(t);
        max_size = std::max(max_size, ts[t].size);
    }
    std::sort(by_off.begin(), by_off.end(), [&](uint32_t x, uint32_t y) { return ts[x].offset < ts[y].offset; });
    for (int64_t k = 0; k < n; k++) {
        const uint32_t w = ops->Get(static_cast<flatbuffers::uoffset_t>(k))->output();
        const TensorRec &W = ts[w];
        const uint64_t from = W.offset >= max_size ? W.offset - max_size + 1 : 0;
        auto it = std::lower_bound(by_off.begin(), by_off.end(), from,
                                   [&](uint32_t t, uint64_t off) { return ts[t].offset < off; });
        for (; it != by_off.end() && ts[*it].offset < W.offset + W.size; ++it) {
            const uint32_t u = *it;
            if (u == w || !overlap(W, ts[u]) || def[u] >= k || last[u] <= k) continue;
            bad(op_labels[k] + " writes " + W.label + " " + range(W.offset, W.size) + " over " + ts[u].label + " " +
                range(ts[u].offset, ts[u].size) + ", which is still needed " +
                (last[u] == n ? std::string("as a model output") : "by " + op_labels[last[u]]));
        }
    }
}

// Weight tensors as (offset, size, name): the same in every program.
using WeightSet = std::vector<std::tuple<uint64_t, uint64_t, std::string>>;

// One program (the Model's top level or a Program table: the same fields),
// checked against the arena and the shared weights image. where prefixes
// its messages ("" or "bucket 8: ").
template <class Table>
ParsedProgram parse_program(const Table *m, const std::string &where, size_t weights_size, WeightSet *weights)
{
    ParsedProgram p;
    auto fail = [&](const std::string &what) { bad(where + what); };
    p.flops = m->flops();
    p.arena_size = m->arena_size();
    if (p.arena_size == 0) fail("arena_size is 0");
    if (p.arena_size > MTIA_MAX_DEVMEM_BYTES) {
        fail("arena_size " + std::to_string(p.arena_size) + " exceeds the largest device memory (" +
             std::to_string(MTIA_MAX_DEVMEM_BYTES) + " bytes)");
    }
    if (weights_size > p.arena_size) {
        fail("weights image of " + std::to_string(weights_size) + " bytes is larger than the arena (" +
             std::to_string(p.arena_size) + ")");
    }

    const auto *tensors = m->tensors();
    const size_t nt = tensors ? tensors->size() : 0;
    if (nt == 0) fail("no tensors");
    if (nt > kModelMaxTensors) fail(std::to_string(nt) + " tensors (at most " + std::to_string(kModelMaxTensors) + ")");
    std::vector<TensorRec> ts;
    ts.reserve(nt);
    try {
        for (flatbuffers::uoffset_t i = 0; i < nt; i++) {
            ts.push_back(check_tensor(i, tensors->Get(i), p.arena_size, weights_size));
            const auto dt = static_cast<DType>(ts.back().desc.dtype);
            if ((mtia_dtype_is_float(ts.back().desc.dtype) || mtia_dtype_is_quant(ts.back().desc.dtype)) &&
                std::find(p.compute_dtypes.begin(), p.compute_dtypes.end(), dt) == p.compute_dtypes.end())
                p.compute_dtypes.push_back(dt);
            const fb::Tensor *t = tensors->Get(i);
            if (ts.back().kind == fb::TensorKind::Weight)
                weights->emplace_back(ts.back().offset, ts.back().size, t->name() ? t->name()->str() : "");
        }

        const auto *ops = m->ops();
        const size_t nops = ops ? ops->size() : 0;
        if (nops == 0) bad("no ops");
        if (nops > MTIA_MAX_PROGRAM_OPS) {
            bad(std::to_string(nops) + " ops (a program has at most " + std::to_string(MTIA_MAX_PROGRAM_OPS) + ")");
        }
        p.program.reserve(nops);
        p.op_names.reserve(nops);
        for (flatbuffers::uoffset_t k = 0; k < nops; k++) {
            const fb::Op *o = ops->Get(k);
            const char *kn = fb::EnumNameOpKind(o->kind());
            p.op_nodes.push_back(str(o->name()));
            p.op_kinds.push_back(kn && *kn ? kn : "?");
            p.op_names.push_back("op " + std::to_string(k) + " (" + p.op_kinds.back() + " '" + p.op_nodes.back() +
                                 "')");
            p.program.push_back(lower_op(p.op_names.back(), o, ts));
        }

        const auto in_idx = check_io(m->inputs(), ts, fb::TensorKind::Input, "input");
        const auto out_idx = check_io(m->outputs(), ts, fb::TensorKind::Output, "output");
        if (out_idx.empty()) bad("no model outputs");
        check_lifetimes(m, ts, out_idx, p.op_names);

        auto io = [&](uint32_t t, const fb::Tensor *ft) {
            ModelIo r;
            r.info.name = ft->name() ? ft->name()->str() : "";
            r.info.dtype = static_cast<DType>(ts[t].desc.dtype);
            r.info.shape = ts[t].shape;
            r.info.bytes = ts[t].size;
            r.info.batch_axis = ts[t].batch_axis;
            std::memcpy(&r.info.scale, &ts[t].desc.scale, 4);
            r.info.zero_point = ts[t].desc.zero_point;
            r.offset = ts[t].offset;
            return r;
        };
        for (uint32_t t : in_idx) p.inputs.push_back(io(t, tensors->Get(t)));
        for (uint32_t t : out_idx) p.outputs.push_back(io(t, tensors->Get(t)));
    } catch (const Error &e) {
        if (where.empty()) throw;
        const std::string msg = e.what();
        const std::string pre = "invalid model: ";
        bad(where + (msg.compare(0, pre.size(), pre) == 0 ? msg.substr(pre.size()) : msg));
    }
    std::sort(weights->begin(), weights->end());
    std::sort(p.compute_dtypes.begin(), p.compute_dtypes.end());
    return p;
}

// A bucket's inputs/outputs against the top level's (the largest bucket's):
// same names, dtypes, scales, zero points and batch axes; a batched one is the top's with dim 0
// = the bucket's batch, an unbatched one the same shape.
void check_bucket_io(const std::string &where, const std::vector<ModelIo> &got, const std::vector<ModelIo> &top,
                     uint32_t batch, const char *what)
{
    if (got.size() != top.size()) {
        bad(where + std::to_string(got.size()) + " " + what + "s, the model has " + std::to_string(top.size()));
    }
    for (size_t i = 0; i < got.size(); i++) {
        const TensorInfo &g = got[i].info, &t = top[i].info;
        const std::string label = where + what + " " + std::to_string(i) + " '" + g.name + "'";
        if (g.name != t.name || g.dtype != t.dtype || g.batch_axis != t.batch_axis ||
            g.shape.size() != t.shape.size() || f32_bits(g.scale) != f32_bits(t.scale) ||
            g.zero_point != t.zero_point) {
            bad(label + " differs from the model's " + what + " '" + t.name +
                "' in name, dtype, rank, batch axis, scale or zero point");
        }
        std::vector<uint32_t> want = t.shape;
        if (g.batch_axis == 0) want[0] = batch;
        if (g.shape != want) bad(label + " has a shape that does not follow the batch");
    }
}

void parse_buckets(const fb::Model *m, ParsedModel &p, const WeightSet &top_weights)
{
    const auto *progs = m->programs();
    for (const auto &io : p.inputs)
        if (io.info.batch_axis != -1 && !progs) bad("input '" + io.info.name + "' has a batch axis but no buckets");
    for (const auto &io : p.outputs)
        if (io.info.batch_axis != -1 && !progs) bad("output '" + io.info.name + "' has a batch axis but no buckets");
    if (!progs) return;
    if (progs->size() == 0 || progs->size() > MTIA_MODEL_MAX_BUCKETS) {
        bad(std::to_string(progs->size()) + " batch buckets (1.." + std::to_string(MTIA_MODEL_MAX_BUCKETS) + ")");
    }
    bool batched = false;
    for (const auto &io : p.inputs) batched |= io.info.batch_axis == 0;
    if (!batched) bad("batch buckets, but no input has a batch axis");
    for (flatbuffers::uoffset_t k = 0; k < progs->size(); k++) {
        const fb::Program *g = progs->Get(k);
        const std::string where = "bucket " + std::to_string(k) + " (batch " + std::to_string(g->batch()) + "): ";
        if (g->batch() == 0) bad(where + "batch 0");
        if (k && g->batch() <= p.buckets.back().batch) bad(where + "the buckets are not in ascending order");
        WeightSet w;
        p.buckets.push_back(parse_program(g, where, p.weights_size, &w));
        p.buckets.back().batch = g->batch();
        if (w != top_weights) {
            bad(where +
                "its weight tensors are not those of the model at the same offsets (the buckets share one "
                "weights image)");
        }
        check_bucket_io(where, p.buckets.back().inputs, p.inputs, g->batch(), "input");
        check_bucket_io(where, p.buckets.back().outputs, p.outputs, g->batch(), "output");
    }
    const ParsedProgram &last = p.buckets.back();
    for (const auto &io : p.inputs) {
        if (io.info.batch_axis == 0 && io.info.shape[0] != last.batch) {
            bad("input '" + io.info.name + "' has batch " + std::to_string(io.info.shape[0]) +
                ", the largest bucket is " + std::to_string(last.batch));
        }
    }
}

}  // namespace

ParsedModel parse_model(const void *data, size_t size)
{
    const auto *buf = static_cast<const uint8_t *>(data);
    if (!buf) bad("no data");
    if (reinterpret_cast<uintptr_t>(buf) % 8) bad("buffer is not 8-byte aligned (internal)");
    if (size < 8) bad("file is " + std::to_string(size) + " bytes, too small to be a model");
    if (size >= FLATBUFFERS_MAX_BUFFER_SIZE) bad("file is " + std::to_string(size) + " bytes, over the 2 GiB limit");
    if (!fb::ModelBufferHasIdentifier(buf)) {
        std::string id;
        for (int i = 4; i < 8; i++) {
            char esc[8];
            const unsigned char c = buf[i];
            std::snprintf(esc, sizeof(esc), c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
            id += esc;
        }
        bad("not an mtia model: file identifier '" + id + "', expected '" MTIA_MODEL_FILE_IDENTIFIER "'");
    }
    flatbuffers::Verifier::Options vo;
    vo.max_tables = 4 * kModelMaxTensors * (1 + MTIA_MODEL_MAX_BUCKETS);
    flatbuffers::Verifier verifier(buf, size, vo);
    if (!fb::VerifyModelBuffer(verifier)) {
        bad("the file is corrupt or truncated (FlatBuffers verification failed, " + std::to_string(size) + " bytes)");
    }
    const fb::Model *m = fb::GetModel(buf);
    const uint32_t version = m->format_version();
    if (version >> 16 < 1 || version >> 16 > MTIA_MODEL_FORMAT_MAJOR) {
        bad("format version " + std::to_string(version >> 16) + "." + std::to_string(version & 0xffff) +
            " is not supported (this runtime reads 1.x to " + std::to_string(MTIA_MODEL_FORMAT_MAJOR) + ".x)");
    }
    const auto *w = m->weights();
    const size_t weights_size = w ? w->size() : 0;
    WeightSet top_weights;
    ParsedModel p;
    static_cast<ParsedProgram &>(p) = parse_program(m, "", weights_size, &top_weights);
    p.format_version = version;
    p.name = m->name() ? m->name()->str() : "";
    p.producer = m->producer() ? m->producer()->str() : "";
    p.weights = w ? w->data() : nullptr;
    p.weights_size = weights_size;
    parse_buckets(m, p, top_weights);
    return p;
}

}  // namespace mtia::detail
