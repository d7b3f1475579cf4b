// SPDX-License-Identifier: MIT
// Lowering of ids and embeddings: Gather with runtime indices (nn.Embedding,
// index_select) to GATHER, and to EMBEDDING_BAG when its only reader pools
// the bag axis (nn.Embedding + sum/mean/max over dim 1, a fixed bag size);
// Cast to CAST.
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
    if (!dt) unsupported_here("Cast to " + dtype_name(to) + " (the device has float32, int32, int64 and bool)");
    const int x = tensor(n_->input(0));
    if (d_.tensors[x].dtype == dt) return bind(n_->output(0), x);
    const int out = new_activation(n_->output(0), shape(n_->input(0)), dt);
    emit(MTIA_OP_CAST, {x}, out, {}, d_.tensors[x].bytes() / mtia_dtype_size(d_.tensors[x].dtype));
    bind(n_->output(0), out);
}

}  // namespace mtia::compiler
