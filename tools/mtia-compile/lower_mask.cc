// SPDX-License-Identifier: MIT
// Lowering of masks: Equal / Less / Greater to BINARY's comparisons (BOOL
// out), Not to x == 0, Where to WHERE. Integers of one type (I32 or I64:
// ids, int64 attention masks) are compared exactly by the device; other
// operands (bool masks, int mixed with float) are cast to float32 first:
// exact for |v| < 2^24. Where's branches must be float.
#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

namespace {

Shape with_rank(Shape s, size_t r)
{
    while (s.size() < r) s.insert(s.begin(), 1);
    return s;
}

}  // namespace

int Lowerer::cast_tensor(int t, uint8_t dtype)
{
    if (d_.tensors[t].dtype == dtype) return t;
    const int out = new_activation(d_.tensors[t].name + ".as_" + std::to_string(dtype), d_.tensors[t].shape, dtype);
    emit(MTIA_OP_CAST, {t}, out, {}, d_.tensors[t].bytes() / mtia_dtype_size(d_.tensors[t].dtype));
    return out;
}

// value as float32 viewed to shape: integer constants become float weights,
// integer and bool activations a CAST.
int Lowerer::float_operand(const std::string &value, const Shape &shape)
{
    if (g_.is_const(value) && !g_.cst(value).is_float()) {
        const std::string name = value + ".f32";
        auto it = map_.find(name);
        if (it == map_.end()) {
            const ConstTensor &c = g_.cst(value);
            std::vector<float> f(c.i.begin(), c.i.end());
            DevTensor t;
            t.name = name;
            t.shape = dev_shape(c.shape, "constant '" + value + "'");
            t.kind = TensorKind::Weight;
            t.data = std::make_shared<const ConstTensor>(ConstTensor::floats(c.shape, std::move(f)));
            it = map_.emplace(name, d_.add_tensor(std::move(t))).first;
        }
        return as_shape(it->second, shape);
    }
    return as_shape(cast_tensor(tensor(value), MTIA_DTYPE_F32), shape);
}

int Lowerer::int_operand(const std::string &value)
{
    if (g_.is_const(value) && g_.cst(value).dtype != onnx::TensorProto::INT64) return -1;
    const int t = tensor(value);  // an int64 constant: an I64 weight
    return d_.tensors[t].dtype == MTIA_DTYPE_I32 || d_.tensors[t].dtype == MTIA_DTYPE_I64 ? t : -1;
}

void Lowerer::compare()
{
    const std::string &op = n_->op_type();
    const Shape os = dev_shape(shape(n_->output(0)), "output");
    const int i0 = int_operand(n_->input(0)), i1 = int_operand(n_->input(1));
    const bool ints = i0 >= 0 && i1 >= 0 && d_.tensors[i0].dtype == d_.tensors[i1].dtype;
    std::vector<int> in;
    for (int k = 0; k < 2; ++k) {
        const Shape s = with_rank(shape(n_->input(k)), os.size());
        if (s.size() != os.size()) bad_input(label() + ": an input has a higher rank than the output");
        in.push_back(ints ? as_shape(k ? i1 : i0, s) : float_operand(n_->input(k), s));
    }
    const uint32_t kind = op == "Equal" ? MTIA_BINARY_EQUAL : op == "Less" ? MTIA_BINARY_LESS : MTIA_BINARY_GREATER;
    const int out = new_activation(n_->output(0), os, MTIA_DTYPE_BOOL);
    emit(MTIA_OP_BINARY, in, out, {kind}, numel(os, "compare"));
    bind(n_->output(0), out);
}

// Not x: x == 0 (x bool, cast to float).
void Lowerer::logical_not()
{
    const Shape os = dev_shape(shape(n_->output(0)), "output");
    const int x = float_operand(n_->input(0), os);
    const std::string zero = n_->output(0) + ".zero";
    DevTensor t;
    t.name = zero;
    t.shape = {1};
    t.kind = TensorKind::Weight;
    t.data = std::make_shared<const ConstTensor>(ConstTensor::floats({1}, {0.0f}));
    const int z = as_shape(d_.add_tensor(std::move(t)), Shape(os.size(), 1));
    const int out = new_activation(n_->output(0), os, MTIA_DTYPE_BOOL);
    emit(MTIA_OP_BINARY, {x, z}, out, {MTIA_BINARY_EQUAL}, numel(os, "not"));
    bind(n_->output(0), out);
}

void Lowerer::where()
{
    const Shape os = dev_shape(shape(n_->output(0)), "output");
    for (int k = 1; k < 3; ++k)
        if (g_.value(n_->input(k)).dtype != onnx::TensorProto::FLOAT)
            unsupported_here("the branches must be float32 (input '" + n_->input(k) + "' is " +
                             dtype_name(g_.value(n_->input(k)).dtype) + ")");
    const Shape cs = with_rank(shape(n_->input(0)), os.size());
    if (cs.size() != os.size()) bad_input(label() + ": an input has a higher rank than the output");
    std::vector<int> in;
    if (g_.is_const(n_->input(0)))
        in.push_back(cast_tensor(float_operand(n_->input(0), cs), MTIA_DTYPE_BOOL));
    else
        in.push_back(as_shape(cast_tensor(tensor(n_->input(0)), MTIA_DTYPE_BOOL), cs));
    for (int k = 1; k < 3; ++k) {
        const Shape s = with_rank(shape(n_->input(k)), os.size());
        if (s.size() != os.size()) bad_input(label() + ": an input has a higher rank than the output");
        in.push_back(operand(n_->input(k), s));
    }
    const int out = new_activation(n_->output(0), os);
    emit(MTIA_OP_WHERE, in, out, {}, numel(os, "where"));
    bind(n_->output(0), out);
}

}  // namespace mtia::compiler
