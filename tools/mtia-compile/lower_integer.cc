// SPDX-License-Identifier: MIT
// ONNX's integer ops: MatMulInteger and ConvInteger (their 8-bit operands
// minus zero points, as I32, into the device's exact integer GEMM/CONV;
// the shapes are matmul()'s and conv()'s) and DynamicQuantizeLinear (its
// scale and zero point computed on the device in F32, its rounding that
// of the device's quantized outputs).
//
// An 8-bit operand becomes exact I32 values q - zero_point: a constant one
// (weights) at compile time; a runtime one by the device's CAST I8/U8 ->
// I32, which gives q minus its descriptor's zero point (mtia_spec.h,
// "Reduced precision"). A raw 8-bit graph input is read with scale 1 and,
// when its zero point is a constant scalar, that zero point, so the CAST
// alone subtracts it; any other zero point is an integer BINARY SUB.
#include <cstring>

#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

namespace {

bool is_8bit(int32_t dt) { return dt == onnx::TensorProto::INT8 || dt == onnx::TensorProto::UINT8; }

// The single value of a constant scalar (or one-element) tensor.
bool const_scalar(const Graph &g, const std::string &v, int32_t *out)
{
    if (v.empty()) {
        *out = 0;
        return true;
    }
    if (!g.is_const(v) || g.cst(v).size() != 1) return false;
    *out = static_cast<int32_t>(g.cst(v).int_at(0));
    return true;
}

}  // namespace

int Lowerer::i32_weight(const std::string &name, const Shape &shape, std::vector<int64_t> v)
{
    DevTensor t;
    t.name = name;
    t.shape = dev_shape(shape, "constant '" + name + "'");
    t.kind = TensorKind::Weight;
    t.dtype = MTIA_DTYPE_I32;
    t.data = std::make_shared<const ConstTensor>(ConstTensor::int64s(t.shape, std::move(v)));
    return d_.add_tensor(std::move(t));
}

int Lowerer::sub_i32(int a, int b, const std::string &name)
{
    const int out = new_activation(name, d_.tensors[a].shape, MTIA_DTYPE_I32);
    emit(MTIA_OP_BINARY, {a, b}, out, {MTIA_BINARY_SUB}, numel(d_.tensors[a].shape, name));
    return out;
}

int Lowerer::minus_zero_point(const std::string &value, const std::string &zp, const Shape &zshape)
{
    const int32_t dt = g_.value(value).dtype;
    if (!is_8bit(dt)) bad_input(label() + ": '" + value + "' is " + dtype_name(dt) + ", not int8 or uint8");
    if (!zp.empty() && g_.value(zp).dtype != dt)
        bad_input(label() + ": zero point '" + zp + "' is not " + dtype_name(dt) + " like '" + value + "'");
    const Shape vs = dev_shape(shape(value), "'" + value + "'");
    const int64_t n = numel(vs, value);
    // zshape's element of value's element i (zshape broadcasts to vs).
    auto zindex = [&](int64_t i) {
        int64_t zi = 0, stride = 1, rest = i;
        for (size_t d = vs.size(); d-- > 0;) {
            const int64_t c = rest % vs[d];
            rest /= vs[d];
            if (zshape[d] != 1) zi += c * stride;
            stride *= zshape[d];
        }
        return zi;
    };
    const bool zp_known = zp.empty() || g_.is_const(zp);
    if (g_.is_const(value) && zp_known) {  // weights: exact at compile time
        const ConstTensor &c = g_.cst(value);
        std::vector<int64_t> v(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) v[i] = c.int_at(i) - (zp.empty() ? 0 : g_.cst(zp).int_at(zindex(i)));
        return i32_weight(value + ".int32", vs, std::move(v));
    }
    int t;
    int32_t zdesc = 0;  // what the CAST subtracts already
    if (g_.is_const(value)) {
        t = i32_weight(value + ".int32", vs, g_.cst(value).ints());
    } else {
        t = tensor(value);
        if (!mtia_dtype_is_quant(d_.tensors[t].dtype))
            internal_error(label() + ": '" + value + "' is not an 8-bit device tensor");
        const int r = d_.root(t);
        if (d_.tensors[r].kind == TensorKind::Input && d_.tensors[r].scale == 0.0f) {
            int32_t z = 0;
            if (!const_scalar(g_, zp, &z)) z = 0;
            for (size_t k = 0; k < d_.tensors.size(); ++k)
                if (d_.root(static_cast<int>(k)) == r) d_.tensors[k].scale = 1.0f, d_.tensors[k].zero_point = z;
        }
        zdesc = d_.tensors[t].zero_point;
        t = cast_to(t, MTIA_DTYPE_I32);
    }
    if (zp_known) {
        std::vector<int64_t> z(static_cast<size_t>(numel(zshape, zp)));
        bool any = false;
        for (size_t i = 0; i < z.size(); ++i) {
            z[i] = (zp.empty() ? 0 : g_.cst(zp).int_at(static_cast<int64_t>(i))) - zdesc;
            any |= z[i] != 0;
        }
        if (!any) return t;
        return sub_i32(t, i32_weight(value + ".zero_point", zshape, std::move(z)), value + ".minus_zp");
    }
    // A runtime zero point: its own integer values, then what the CAST
    // took off beyond them put back.
    const Shape one(zshape.size(), 1);
    const int z = as_shape(minus_zero_point(zp, "", Shape(dev_shape(shape(zp), "'" + zp + "'").size(), 1)), zshape);
    t = sub_i32(t, z, value + ".minus_zp");
    if (zdesc) t = sub_i32(t, i32_weight(value + ".zp_fix", one, {-int64_t{zdesc}}), value + ".minus_zp_fix");
    return t;
}

// A zero point's shape broadcast against an operand of rank @rank: a
// single value (any rank) as all ones, or a 1-D one of @len values along
// dim @axis (negative: from the end); kUnsupported otherwise.
Shape Lowerer::zero_point_shape(const std::string &zp, size_t rank, int64_t axis, int64_t len, const char *what)
{
    Shape s(rank, 1);
    if (zp.empty()) return s;
    const Shape &zs = shape(zp);
    const int64_t n = numel(zs, zp);
    if (n == 1) return s;
    if (zs.size() != 1 || zs[0] != len)
        unsupported_here(std::string(what) + " zero point '" + zp + "' of shape " + shape_str(zs) +
                         " (the device takes a single value or one per " + (axis == -1 ? "column" : "row/channel") +
                         ", " + std::to_string(len) + " values)");
    s[static_cast<size_t>(axis < 0 ? static_cast<int64_t>(rank) + axis : axis)] = len;
    return s;
}

void Lowerer::dynamic_quantize_linear()
{
    const int x = tensor(n_->input(0));
    if (d_.tensors[x].dtype != MTIA_DTYPE_F32) unsupported_here("input is not float32");
    const Shape xs = d_.tensors[x].shape, ones(xs.size(), 1);
    const std::string nm = n_->output(0);
    auto cst = [&](const std::string &name, float v) {
        DevTensor t;
        t.name = nm + "." + name;
        t.shape = ones;
        t.kind = TensorKind::Weight;
        t.data = std::make_shared<const ConstTensor>(ConstTensor::floats(ones, {v}));
        return d_.add_tensor(std::move(t));
    };
    auto bin = [&](uint32_t kind, int a, int b, const std::string &name, uint8_t dt = MTIA_DTYPE_F32) {
        // One side is x's shape or all ones (the reductions).
        const Shape &sa = d_.tensors[a].shape, &sb = d_.tensors[b].shape;
        const Shape s = numel(sa, name) >= numel(sb, name) ? sa : sb;
        const int out = new_activation(nm + "." + name, s, dt);
        if (mtia_dtype_is_quant(dt)) d_.tensors[out].scale = 1.0f;  // integers 0..255 as they are
        emit(MTIA_OP_BINARY, {a, b}, out, {kind}, numel(s, name));
        return out;
    };
    const uint32_t axes = (1u << xs.size()) - 1;
    auto reduce = [&](uint32_t kind, const std::string &name) {
        const int out = new_activation(nm + "." + name, ones);
        emit(MTIA_OP_REDUCE, {x}, out, {kind, axes}, numel(xs, name));
        return out;
    };
    const int zero = cst("zero", 0.0f);
    // ONNX: scale = (max(0, max x) - min(0, min x)) / 255, in float32.
    const int hi = bin(MTIA_BINARY_MAX, reduce(MTIA_REDUCE_MAX, "max"), zero, "hi");
    const int lo = bin(MTIA_BINARY_MIN, reduce(MTIA_REDUCE_MIN, "min"), zero, "lo");
    const int scale = bin(MTIA_BINARY_DIV, bin(MTIA_BINARY_SUB, hi, lo, "range"), cst("255", 255.0f), "scale");
    // zero point = saturate(round((0 - lo) / scale)): a uint8 output of
    // scale 1 rounds half to even and saturates (mtia_quant.h).
    const int zp = bin(MTIA_BINARY_DIV, bin(MTIA_BINARY_SUB, zero, lo, "neg_lo"), scale, "zero_point", MTIA_DTYPE_U8);
    // y = saturate(round(x / scale) + zp). round(v) is sat(round(v)) -
    // sat(round(-v)) on [0, 255] each (-v = x / -scale exactly), which is
    // exact wherever y does not saturate anyway; the sum is an integer that
    // the uint8 output takes as it is.
    const int up = bin(MTIA_BINARY_DIV, x, scale, "up", MTIA_DTYPE_U8);
    const int down = bin(MTIA_BINARY_DIV, x, bin(MTIA_BINARY_SUB, zero, scale, "neg_scale"), "down", MTIA_DTYPE_U8);
    const int y = bin(MTIA_BINARY_ADD, bin(MTIA_BINARY_SUB, up, down, "rounded"), zp, "y", MTIA_DTYPE_U8);
    bind(n_->output(0), y);
    if (n_->output_size() > 1 && !n_->output(1).empty()) bind(n_->output(1), scale);
    if (n_->output_size() > 2 && !n_->output(2).empty()) bind(n_->output(2), zp);
}

}  // namespace mtia::compiler
