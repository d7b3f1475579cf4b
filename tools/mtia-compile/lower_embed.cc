// SPDX-License-Identifier: MIT
// Lowering of ids and embeddings: Gather with runtime indices (nn.Embedding,
// index_select) to GATHER, and to EMBEDDING_BAG when its only reader pools
// the bag axis (nn.Embedding + sum/mean/max over dim 1, a fixed bag size);
// the EmbeddingBag node made of nn.EmbeddingBag's Loop (loop_embedding_bag.h)
// to EMBEDDING_BAG; Cast to CAST. Embedding tables stay in the form the
// model ships them (embedding_table()): int8/uint8 ones through
// DequantizeLinear as 8-bit rowwise tables, float16/bfloat16 ones through
// Cast as 16-bit tables.
#include <algorithm>
#include <cstring>
#include <set>

#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

namespace {

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

bool is_index(uint8_t dtype) { return dtype == MTIA_DTYPE_I32 || dtype == MTIA_DTYPE_I64; }

// The 8-bit rowwise form (mtia_spec.h, EMBEDDING_BAG) of DequantizeLinear
// @src of a 2-D int8/uint8 table, per tensor or per row (axis 0): each row
// its values, then its scale s and bias -zero_point * s as F32 bytes (so
// (q - zp) * s is q * s + b, within an ulp of each term); null for any
// other parameters (per column: left to the float path).
ConstPtr rowwise_table(const ConstSource &src)
{
    const ConstTensor &q = *src.x;
    if (q.shape.size() != 2) return nullptr;
    const int64_t r = q.shape[0], d = q.shape[1];
    const bool per_row = src.axis == 0 && src.scale->size() == r;
    if (!per_row && src.axis != -1) return nullptr;
    const bool i8 = q.dtype == onnx::TensorProto::INT8;
    auto c = std::make_shared<ConstTensor>();
    c->dtype = q.dtype;
    c->shape = {r, d + MTIA_ROWWISE_PARAM_BYTES};
    c->i.reserve(static_cast<size_t>(r * (d + MTIA_ROWWISE_PARAM_BYTES)));
    for (int64_t row = 0; row < r; ++row) {
        const int64_t j = per_row ? row : 0;
        const float s = static_cast<float>(src.scale->at(j));
        const int64_t z = src.zero_point ? src.zero_point->int_at(j) : 0;
        const float sb[2] = {s, z ? -(static_cast<float>(z) * s) : 0.0f};
        c->i.insert(c->i.end(), q.i.begin() + row * d, q.i.begin() + (row + 1) * d);
        uint8_t bytes[MTIA_ROWWISE_PARAM_BYTES];
        std::memcpy(bytes, sb, sizeof bytes);  // little endian (model_writer.cc)
        for (uint8_t b : bytes) c->i.push_back(i8 ? static_cast<int8_t>(b) : b);
    }
    return c;
}

}  // namespace

// The table of an embedding op reading constant @value (R, D): the float
// constant (F32), unless it was folded from the form recommendation models
// ship tables in (Graph::sources) — DequantizeLinear of an int8/uint8 table,
// per tensor or per row: an I8/U8 8-bit rowwise table (R, D + 8); Cast to
// float of a float16/bfloat16 one: an F16/BF16 table.
int Lowerer::embedding_table(const std::string &value)
{
    auto it = tables_.find(value);
    if (it != tables_.end()) return it->second;
    auto src = g_.sources.find(value);
    if (src == g_.sources.end() || g_.cst(value).shape.size() != 2) return tables_[value] = tensor(value);
    DevTensor t;
    t.shape = dev_shape(g_.cst(value).shape, "table '" + value + "'");
    t.kind = TensorKind::Weight;
    if (src->second.op == "DequantizeLinear") {
        t.data = rowwise_table(src->second);
        if (!t.data) return tables_[value] = tensor(value);
        t.name = value + ".rowwise";
        t.shape = t.data->shape;
        t.dtype = mtia_dtype_of(src->second.x->dtype);  // scale and zero point 0: rowwise
    } else {
        t.name = value + (src->second.x->dtype == onnx::TensorProto::FLOAT16 ? ".f16" : ".bf16");
        t.dtype = src->second.x->dtype == onnx::TensorProto::FLOAT16 ? MTIA_DTYPE_F16 : MTIA_DTYPE_BF16;
        t.data = src->second.x;  // values exact in 16 bits; model memory_plan.cc writes them so
    }
    return tables_[value] = d_.add_tensor(std::move(t));
}

// Rows @ids (N ids) of @table (an embedding_table(), D wide) as float32
// (N, D): GATHER of an F32 table, GATHER and CAST of a 16-bit one, and for
// an 8-bit rowwise one EMBEDDING_BAG of bags of one id (so ids must be in
// [0, R), nn.Embedding's rule: a negative one fails the run with BAD_INDEX
// where ONNX Gather would count it from the end).
int Lowerer::table_rows(int table, int ids, int64_t n, int64_t d, const std::string &name)
{
    const uint8_t dt = d_.tensors[table].dtype;  // copies: tensors grow
    const int64_t r = d_.tensors[table].shape[0];
    const int out = new_activation(name, {n, d});
    const auto flops = static_cast<uint64_t>(n * d);
    if (mtia_dtype_is_quant(dt)) {
        emit(MTIA_OP_EMBEDDING_BAG, {table, as_shape(ids, {1, n, 1})}, out, {MTIA_EMBEDDING_BAG_SUM, 1, 1, 0, u32(r)},
             flops);
        return out;
    }
    if (dt == MTIA_DTYPE_F32) {
        emit(MTIA_OP_GATHER, {table, as_shape(ids, {n})}, out, {0}, static_cast<uint64_t>(n));
        return out;
    }
    const int rows = new_activation(name + "." + (dt == MTIA_DTYPE_F16 ? "f16" : "bf16"), {n, d}, dt);
    emit(MTIA_OP_GATHER, {table, as_shape(ids, {n})}, rows, {0}, static_cast<uint64_t>(n));
    emit(MTIA_OP_CAST, {rows}, out, {}, flops);
    return out;
}

void count_embedding_tables(const DevGraph &d, std::map<std::string, int> &passes)
{
    std::set<int> int8, half;
    for (const auto &op : d.ops) {
        if ((op.kind != MTIA_OP_EMBEDDING_BAG && op.kind != MTIA_OP_GATHER) || op.in.empty()) continue;
        const int r = d.root(op.in[0]);
        const DevTensor &t = d.tensors[r];
        if (t.kind != TensorKind::Weight) continue;
        if (mtia_dtype_is_quant(t.dtype) && t.scale == 0.0f) int8.insert(r);
        if (t.dtype == MTIA_DTYPE_F16 || t.dtype == MTIA_DTYPE_BF16) half.insert(r);
    }
    passes["int8 embedding tables"] = static_cast<int>(int8.size());
    passes["16-bit embedding tables"] = static_cast<int>(half.size());
}

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
bool Lowerer::embedding_bag(const std::string &tv, int ids, int64_t axis)
{
    if (axis != 0 || !g_.is_const(tv)) return false;
    const Shape ts = shape(tv), is = shape(n_->input(1));
    if (ts.size() != 2 || is.size() != 2) return false;
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
    const int table = embedding_table(tv);
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
    const int ix = g_.is_const(idx) ? index_weight(idx) : tensor(idx);
    if (!is_index(d_.tensors[ix].dtype)) unsupported_here("indices must be int32 or int64");
    if (embedding_bag(n_->input(0), ix, axis)) return;
    Shape is = shape(n_->input(1));
    if (is.empty()) is = {1};  // a scalar index: gathered as (1), viewed back below
    // nn.Embedding's lookup in a table shipped as int8 or 16 bits: rows of
    // that table (table_rows()).
    if (axis == 0 && r == 2 && g_.is_const(n_->input(0)) && g_.sources.count(n_->input(0))) {
        const int table = embedding_table(n_->input(0));
        if (d_.tensors[table].dtype != MTIA_DTYPE_F32) {
            const int64_t n = numel(is, "indices");
            return bind(n_->output(0), table_rows(table, as_shape(ix, {n}), n, xs[1], n_->output(0)));
        }
    }
    const int x = tensor(n_->input(0));
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
    const int table = embedding_table(tv);
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
    const int rows = table_rows(table, ids, n, d, n_->output(0) + ".rows");
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
