// SPDX-License-Identifier: MIT
// Lowering of ids and embeddings: Gather with runtime indices (nn.Embedding,
// index_select) to GATHER, and to EMBEDDING_BAG when its only reader pools
// the bag axis (nn.Embedding + sum/mean/max over dim 1, a fixed bag size);
// the EmbeddingBag node made of nn.EmbeddingBag's Loop (loop_embedding_bag.h)
// to EMBEDDING_BAG; Cast to CAST.
#include <algorithm>

#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

namespace {

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

bool is_index(uint8_t dtype) { return dtype == MTIA_DTYPE_I32 || dtype == MTIA_DTYPE_I64; }

}  // namespace

// The reader of @value if it is exactly one node, else nullptr.
const onnx::NodeProto *Lowerer::only_reader(const std::string &value) const
{
    const onnx::NodeProto *r = nullptr;
    for (const auto &n : g_.nodes) {
        for (const auto &in : n.input()) {
            if (in != value) continue;
            if (r) return nullptr;
            r = &n;
        }
    }
    for (const auto &o : g_.outputs)
        if (o == value) return nullptr;
    return r;
}

// Gather(table (R, D) constant, ids (B, L), axis 0) read only by a
// ReduceSum/ReduceMean/ReduceMax over axis 1: one EMBEDDING_BAG with a
// fixed bag of L, writing the reduction's output. False if not that shape.
bool Lowerer::embedding_bag(int table, int ids, int64_t axis)
{
    const Shape ts = d_.tensors[table].shape, is = shape(n_->input(1));  // copies: tensors grow
    if (axis != 0 || ts.size() != 2 || is.size() != 2 || d_.tensors[table].kind != TensorKind::Weight) return false;
    const onnx::NodeProto *red = only_reader(n_->output(0));
    if (!red) return false;
    const std::string &op = red->op_type();
    uint32_t mode;
    if (op == "ReduceSum")
        mode = MTIA_EMBEDDING_BAG_SUM;
    else if (op == "ReduceMean")
        mode = MTIA_EMBEDDING_BAG_MEAN;
    else if (op == "ReduceMax")
        mode = MTIA_EMBEDDING_BAG_MAX;
    else
        return false;
    std::vector<int64_t> axes = attr_ints(*red, "axes");
    if (red->input_size() > 1 && !red->input(1).empty()) {
        if (!g_.is_const(red->input(1))) return false;
        axes = g_.cst(red->input(1)).ints();
    }
    if (axes.size() != 1 || (axes[0] != 1 && axes[0] != -2)) return false;
    const int64_t b = is[0], l = is[1];
    const int out = new_activation(red->output(0), {b, ts[1]});
    emit(MTIA_OP_EMBEDDING_BAG, {table, as_shape(ids, {1, b, l})}, out, {mode, 1, u32(l), 0, u32(ts[0])},
         static_cast<uint64_t>(b * l * ts[1]));
    // The reduction is done: its output is this op's (viewed to keepdims).
    const onnx::NodeProto *self = n_;
    n_ = red;
    bind(red->output(0), out);
    n_ = self;
    fused_.insert(red);
    return true;
}

// Constant indices as an I64 weight tensor (GATHER's in[1]).
int Lowerer::index_weight(const std::string &value)
{
    auto it = map_.find(value);
    if (it != map_.end()) return it->second;
    DevTensor t;
    t.name = value;
    t.shape = dev_shape(g_.cst(value).shape, "indices '" + value + "'");
    t.kind = TensorKind::Weight;
    t.dtype = MTIA_DTYPE_I64;
    t.data = std::make_shared<const ConstTensor>(ConstTensor::int64s(g_.cst(value).shape, g_.cst(value).ints()));
    const int id = d_.add_tensor(std::move(t));
    map_[value] = id;
    return id;
}

// Gather with runtime indices, or constant ones that are not a contiguous
// range (those are slices and views, lower_layout.cc).
void Lowerer::gather_ids()
{
    const Shape &xs = shape(n_->input(0));
    const int64_t r = static_cast<int64_t>(xs.size());
    if (r == 0) bad_input(label() + ": input is a scalar");
    const int64_t axis = norm_axis(attr_i(*n_, "axis", 0), r, label());
    const std::string &idx = n_->input(1);
    const int x = tensor(n_->input(0)), ix = g_.is_const(idx) ? index_weight(idx) : tensor(idx);
    if (!is_index(d_.tensors[ix].dtype)) unsupported_here("indices must be int32 or int64");
    if (embedding_bag(x, ix, axis)) return;
    Shape is = shape(n_->input(1));
    if (is.empty()) is = {1};  // a scalar index: gathered as (1), viewed back below
    Shape os(xs.begin(), xs.begin() + axis);
    os.insert(os.end(), is.begin(), is.end());
    os.insert(os.end(), xs.begin() + axis + 1, xs.end());
    const int out = new_activation(n_->output(0), os, d_.tensors[x].dtype);
    uint64_t rows = 1;
    for (int64_t v : os) rows *= static_cast<uint64_t>(v);
    emit(MTIA_OP_GATHER, {x, as_shape(ix, is)}, out, {u32(axis)}, rows);
    bind(n_->output(0), out);
}

void Lowerer::cast()
{
    const auto to = static_cast<int32_t>(attr_i(*n_, "to", 0));
    const uint8_t dt = mtia_dtype_of(to);
    if (!dt || mtia_dtype_is_quant(dt))
        unsupported_here("Cast to " + dtype_name(to) +
                         " (the device has float32, int32, int64 and bool; its int8/uint8 tensors are quantized: "
                         "QuantizeLinear makes them)");
    const int x = tensor(n_->input(0));
    if (mtia_dtype_is_quant(d_.tensors[x].dtype))
        unsupported_here("Cast of a quantized tensor (DequantizeLinear reads int8/uint8 data)");
    if (d_.tensors[x].dtype == dt) return bind(n_->output(0), x);
    const int out = new_activation(n_->output(0), shape(n_->input(0)), dt);
    emit(MTIA_OP_CAST, {x}, out, {}, d_.tensors[x].bytes() / mtia_dtype_size(d_.tensors[x].dtype));
    bind(n_->output(0), out);
}

// nn.EmbeddingBag: constant offsets of equal bags (2-D ids) take the fixed
// bag form, others the offsets form. Per-sample weights with offsets (which
// EMBEDDING_BAG takes with fixed bags only): the rows are gathered and
// scaled first, then bags of them summed by ids 0..N-1.
void Lowerer::embedding_bag_loop()
{
    const std::string &tv = n_->input(0), &iv = n_->input(1), &ov = n_->input(2);
    const std::string wv = input_name(*n_, 3);
    const auto mode = static_cast<uint32_t>(attr_i(*n_, "mode", 0));
    const int64_t last = attr_i(*n_, "include_last", 0);
    if (mode > MTIA_EMBEDDING_BAG_MAX || (last != 0 && last != 1)) internal_error(label() + ": bad attributes");
    if (!g_.is_const(tv) || !g_.cst(tv).is_float()) unsupported_here("the table must be a float constant");
    const Shape ts = shape(tv), is = shape(iv), os = shape(ov);
    if (ts.size() != 2 || is.size() != 1 || os.size() != 1)
        bad_input(label() + ": table, ids and offsets must be 2-D, 1-D and 1-D");
    const int64_t n = is[0], bags = os[0] - last, d = ts[1];
    if (bags < 1) unsupported_here("no bags (empty offsets)");
    const int table = tensor(tv);
    const int ids = g_.is_const(iv) ? index_weight(iv) : tensor(iv);
    const uint8_t it = d_.tensors[ids].dtype;
    if (!is_index(it)) unsupported_here("ids must be int32 or int64");
    if (!wv.empty() && g_.value(wv).dtype != onnx::TensorProto::FLOAT)
        unsupported_here("per-sample weights must be float32");
    const uint64_t flops = static_cast<uint64_t>(n * d);
    const int out = new_activation(n_->output(0), {bags, d});
    if (g_.is_const(ov)) {
        const std::vector<int64_t> off = g_.cst(ov).ints();
        const int64_t l = n / bags;
        bool equal = l > 0 && l * bags == n && (!last || off[static_cast<size_t>(bags)] == n);
        for (int64_t k = 0; k < bags && equal; ++k) equal = off[static_cast<size_t>(k)] == k * l;
        if (equal) {
            std::vector<int> in = {table, as_shape(ids, {1, bags, l})};
            if (!wv.empty()) in.push_back(operand(wv, {1, bags, l}));
            emit(MTIA_OP_EMBEDDING_BAG, in, out, {mode, 1, u32(l), 0, u32(ts[0])}, flops);
            return bind(n_->output(0), out);
        }
    }
    const int offs = cast_tensor(g_.is_const(ov) ? index_weight(ov) : tensor(ov), it);
    if (d_.tensors[offs].dtype != it) unsupported_here("offsets must be int32 or int64 like the ids");
    if (wv.empty()) {
        emit(MTIA_OP_EMBEDDING_BAG, {table, ids, offs}, out, {mode, 1, 0, u32(last), u32(ts[0])}, flops);
        return bind(n_->output(0), out);
    }
    const int rows = new_activation(n_->output(0) + ".rows", {n, d});
    emit(MTIA_OP_GATHER, {table, ids}, rows, {0}, static_cast<uint64_t>(n));
    const int scaled = new_activation(n_->output(0) + ".weighted", {n, d});
    emit(MTIA_OP_BINARY, {rows, operand(wv, {n, 1})}, scaled, {MTIA_BINARY_MUL}, flops);
    std::vector<int64_t> iota(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) iota[static_cast<size_t>(k)] = k;
    DevTensor t;
    t.name = n_->output(0) + ".rows_ids";
    t.shape = {n};
    t.kind = TensorKind::Weight;
    t.dtype = MTIA_DTYPE_I64;
    t.data = std::make_shared<const ConstTensor>(ConstTensor::int64s({n}, std::move(iota)));
    const int seq = cast_tensor(d_.add_tensor(std::move(t)), it);
    emit(MTIA_OP_EMBEDDING_BAG, {scaled, seq, offs}, out, {MTIA_EMBEDDING_BAG_SUM, 1, 0, u32(last), u32(n)}, flops);
    bind(n_->output(0), out);
}

}  // namespace mtia::compiler
