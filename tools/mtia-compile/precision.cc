// SPDX-License-Identifier: MIT
// Reduced precision (precision.h). The device's rule (mtia_op_tensor_dtype):
// every float tensor of an op has the op's float type, so precision is
// decided per storage (a root tensor and its views), then per op:
//  - an activation storage becomes 16-bit when every op writing it may
//    compute in 16 bits and it is not (a view of) a model input or output;
//  - an op computes in 16 bits when its output storage is 16-bit (a
//    comparison: when its in[0]'s is);
//  - a weight storage becomes 16-bit when every op reading it does (an
//    embedding bag's table may be 16-bit whatever the bag computes in);
//  - any other meeting of precisions gets a CAST, made once per tensor and
//    precision until an op writes that tensor's storage again.
#include "precision.h"

#include <set>

#include "errors.h"

namespace mtia::compiler {

namespace {

bool is_f32(const DevTensor &t) { return t.dtype == MTIA_DTYPE_F32; }

// Ops that may compute in 16 bits: the matrix and data-movement ops and the
// elementwise ones. Softmax, layer norm statistics, reductions and embedding
// bags (sums of many terms) stay in float32.
bool may_be_16bit(const DevOp &op)
{
    switch (op.kind) {
        case MTIA_OP_CONV:
        case MTIA_OP_CONV_TRANSPOSE:
        case MTIA_OP_GEMM:
        case MTIA_OP_BINARY:
        case MTIA_OP_ACT:
        case MTIA_OP_POOL:
        case MTIA_OP_TRANSPOSE:
        case MTIA_OP_COPY_INTO:
        case MTIA_OP_SLICE:
        case MTIA_OP_PAD:
        case MTIA_OP_EXPAND:
        case MTIA_OP_RESIZE:
        case MTIA_OP_WHERE:
        case MTIA_OP_GATHER:
            return true;
        default:
            return false;
    }
}

// Ops that only move values (a 16-bit copy of an integer beyond 2048 (F16)
// or 256 (BF16) would change it).
bool moves_values(const DevOp &op)
{
    switch (op.kind) {
        case MTIA_OP_TRANSPOSE:
        case MTIA_OP_COPY_INTO:
        case MTIA_OP_SLICE:
        case MTIA_OP_PAD:
        case MTIA_OP_EXPAND:
        case MTIA_OP_GATHER:
            return true;
        case MTIA_OP_ACT:
            return op.act == MTIA_ACT_NONE;
        default:
            return false;
    }
}

// A model output written whole by one op that may compute in 16 bits: that
// op writes a new tensor and a CAST converts it into the output (so the
// last layer, often the largest, computes in 16 bits too).
void split_output_writers(DevGraph &d)
{
    std::vector<int> writers(d.tensors.size(), 0);
    for (const auto &op : d.ops) ++writers[d.root(op.out)];
    std::vector<DevOp> ops;
    for (auto &op : d.ops) {
        const int y = op.out;
        const DevTensor &t = d.tensors[y];
        bool reads_y = false;
        for (int i : op.in) reads_y |= d.root(i) == y;
        if (t.kind != TensorKind::Output || t.is_view() || !is_f32(t) || writers[y] != 1 || reads_y ||
            !may_be_16bit(op) || op.kind == MTIA_OP_GATHER) {
            ops.push_back(std::move(op));
            continue;
        }
        DevTensor v;
        v.name = t.name + "/computed";
        v.shape = t.shape;
        const int vt = d.add_tensor(std::move(v));
        DevOp cast;
        cast.kind = MTIA_OP_CAST;
        cast.name = op.name + "/cast_output";
        cast.in = {vt};
        cast.out = y;
        cast.flops = d.tensors[y].bytes() / 4;
        op.out = vt;
        ops.push_back(std::move(op));
        ops.push_back(std::move(cast));
    }
    d.ops = std::move(ops);
}

// Slots that take any float type: EMBEDDING_BAG's tables (16-bit rows are
// summed in float32; tables are most of a recommendation model's bytes).
bool any_float(const DevOp &op, size_t k) { return op.kind == MTIA_OP_EMBEDDING_BAG && k == 0; }

const char *dtype_label(uint8_t dt) { return dt == MTIA_DTYPE_F16 ? "fp16" : dt == MTIA_DTYPE_BF16 ? "bf16" : "f32"; }

}  // namespace

uint8_t parse_dtype_option(const std::string &s)
{
    if (s == "fp16" || s == "f16" || s == "float16") return MTIA_DTYPE_F16;
    if (s == "bf16" || s == "bfloat16") return MTIA_DTYPE_BF16;
    if (s == "fp32" || s == "f32" || s == "float32") return 0;
    fail(ErrorKind::kUsage, "--dtype '" + s + "': want fp32, fp16 or bf16");
}

PrecisionReport lower_precision(DevGraph &d, uint8_t dt)
{
    PrecisionReport rep;
    split_output_writers(d);
    const int nt = static_cast<int>(d.tensors.size());
    std::vector<int> root(nt);
    for (int t = 0; t < nt; ++t) root[t] = d.root(t);

    // Float slots of each op under the float32 rule: the inputs (and output)
    // that carry the op's float type.
    std::vector<std::vector<bool>> float_in(d.ops.size());
    std::vector<bool> float_out(d.ops.size());
    for (size_t i = 0; i < d.ops.size(); ++i) {
        const DevOp &op = d.ops[i];
        const uint32_t kind = op.attrs.empty() ? 0 : op.attrs[0];
        const uint32_t in0 = op.in.empty() ? 0 : d.tensors[op.in[0]].dtype, out = d.tensors[op.out].dtype;
        for (size_t k = 0; k < op.in.size(); ++k) {
            // GATHER's data and EMBEDDING_BAG's tables and weights are
            // float slots too (their own rules): the bag's stay F32.
            const uint32_t want = (op.kind == MTIA_OP_GATHER && k == 0) || op.kind == MTIA_OP_EMBEDDING_BAG
                                      ? d.tensors[op.in[k]].dtype
                                      : mtia_op_tensor_dtype(op.kind, kind, uint32_t(k), in0, out);
            float_in[i].push_back(want == MTIA_DTYPE_F32 && is_f32(d.tensors[op.in[k]]));
        }
        float_out[i] = is_f32(d.tensors[op.out]) && op.kind != MTIA_OP_CAST && op.kind != MTIA_OP_EMBEDDING_BAG;
    }

    // Activation storages that may be 16-bit.
    std::vector<char> pinned(nt, 0), written(nt, 0), exact(nt, 0), low(nt, 0);
    for (int t = 0; t < nt; ++t)
        if (d.tensors[t].kind == TensorKind::Input || d.tensors[t].kind == TensorKind::Output) pinned[root[t]] = 1;
    for (size_t i = 0; i < d.ops.size(); ++i) {
        const int r = root[d.ops[i].out];
        written[r] = 1;
        if (!may_be_16bit(d.ops[i]) || !float_out[i]) pinned[r] = 1;
    }
    // Values that must stay exact: integers carried in float32 (ids cast to
    // float for a float-only op) and anything compared. Pinned where they
    // are read by a CAST to an integer type or a comparison, and back
    // through the ops that only moved them there.
    for (size_t i = d.ops.size(); i-- > 0;) {
        const DevOp &op = d.ops[i];
        const bool exact_reader = (op.kind == MTIA_OP_CAST && !mtia_dtype_is_float(d.tensors[op.out].dtype)) ||
                                  (op.kind == MTIA_OP_BINARY && d.tensors[op.out].dtype == MTIA_DTYPE_BOOL);
        if (!exact_reader && !(moves_values(op) && exact[root[op.out]])) continue;
        for (int t : op.in)
            if (is_f32(d.tensors[t])) exact[root[t]] = 1;
    }
    for (int t = 0; t < nt; ++t)
        low[t] = !exact[t] && t == root[t] && d.tensors[t].kind == TensorKind::Activation && is_f32(d.tensors[t]) &&
                 written[t] && !pinned[t];

    // Each op's float type.
    std::vector<uint8_t> ft(d.ops.size(), MTIA_DTYPE_F32);
    for (size_t i = 0; i < d.ops.size(); ++i) {
        const DevOp &op = d.ops[i];
        if (float_out[i])
            ft[i] = low[root[op.out]] ? dt : MTIA_DTYPE_F32;
        else if (may_be_16bit(op) && !float_in[i].empty() && float_in[i][0])  // a comparison
            ft[i] = low[root[op.in[0]]] ? dt : MTIA_DTYPE_F32;
    }

    // Weights read only by 16-bit ops become 16-bit.
    std::vector<char> weight_reads(nt, 0), weight_f32(nt, 0);
    for (size_t i = 0; i < d.ops.size(); ++i)
        for (size_t k = 0; k < d.ops[i].in.size(); ++k) {
            const int r = root[d.ops[i].in[k]];
            if (d.tensors[r].kind != TensorKind::Weight) continue;
            weight_reads[r] = 1;
            if (any_float(d.ops[i], k)) continue;
            if (!float_in[i][k] || ft[i] == MTIA_DTYPE_F32) weight_f32[r] = 1;
        }
    for (int t = 0; t < nt; ++t)
        if (t == root[t] && d.tensors[t].kind == TensorKind::Weight && is_f32(d.tensors[t]) && weight_reads[t] &&
            !weight_f32[t])
            low[t] = 1;

    // Retype the 16-bit storages and their views (byte offsets halve).
    for (int t = 0; t < nt; ++t) {
        if (!low[root[t]]) continue;
        d.tensors[t].dtype = dt;
        d.tensors[t].base_offset /= 2;
    }

    // CASTs where precisions meet.
    std::map<std::pair<int, uint8_t>, int> casts;  // (tensor, dtype) -> its converted copy
    std::vector<DevOp> ops;
    for (size_t i = 0; i < d.ops.size(); ++i) {
        DevOp op = d.ops[i];
        for (size_t k = 0; k < op.in.size(); ++k) {
            const int t = op.in[k];
            if (!float_in[i][k] || d.tensors[t].dtype == ft[i] || any_float(op, k)) continue;
            auto it = casts.find({t, ft[i]});
            if (it == casts.end()) {
                DevTensor c;
                c.name = d.tensors[t].name + "/" + dtype_label(ft[i]);
                c.shape = d.tensors[t].shape;
                c.dtype = ft[i];
                const int ct = d.add_tensor(std::move(c));
                root.push_back(ct);
                DevOp cast;
                cast.kind = MTIA_OP_CAST;
                cast.name = op.name + "/cast_" + dtype_label(ft[i]);
                cast.in = {t};
                cast.out = ct;
                cast.flops = d.tensors[ct].bytes() / mtia_dtype_size(ft[i]);
                ops.push_back(std::move(cast));
                ++rep.casts;
                it = casts.emplace(std::make_pair(t, ft[i]), ct).first;
            }
            op.in[k] = it->second;
        }
        // The op's output storage changes: copies of tensors in it are stale.
        const int r = root[op.out];
        for (auto c = casts.begin(); c != casts.end();) c = root[c->first.first] == r ? casts.erase(c) : std::next(c);
        if (float_out[i] || (!float_in[i].empty() && float_in[i][0]))
            ++rep.ops[dtype_label(ft[i])][op_kind_name(op.kind)];
        ops.push_back(std::move(op));
    }
    d.ops = std::move(ops);
    return rep;
}

}  // namespace mtia::compiler
