// SPDX-License-Identifier: MIT
#include "fold_eval.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "errors.h"
#include "node_util.h"
#include "quant_linear.h"

namespace mtia::compiler {

using onnx::TensorProto;

namespace {

using Index = std::vector<int64_t>;

std::vector<int64_t> strides_of(const Shape &s)
{
    std::vector<int64_t> st(s.size(), 1);
    for (size_t k = s.size(); k-- > 1;) st[k - 1] = st[k] * s[k];
    return st;
}

// Calls fn(index) for every element of shape in row-major order.
void for_each_index(const Shape &shape, const std::function<void(const Index &)> &fn)
{
    for (int64_t d : shape)
        if (d == 0) return;
    Index idx(shape.size(), 0);
    while (true) {
        fn(idx);
        size_t k = shape.size();
        while (k > 0) {
            if (++idx[k - 1] < shape[k - 1]) break;
            idx[k - 1] = 0;
            --k;
        }
        if (k == 0) return;
    }
}

// out[k] = in[src[k]].
ConstTensor take(const ConstTensor &in, Shape shape, const std::vector<int64_t> &src)
{
    ConstTensor out;
    out.dtype = in.dtype;
    out.shape = std::move(shape);
    if (in.is_float()) {
        out.f.resize(src.size());
        for (size_t k = 0; k < src.size(); ++k) out.f[k] = in.f[src[k]];
    } else {
        out.i.resize(src.size());
        for (size_t k = 0; k < src.size(); ++k) out.i[k] = in.i[src[k]];
    }
    return out;
}

ConstTensor reshaped(const ConstTensor &in, Shape shape)
{
    ConstTensor out = in;
    out.shape = std::move(shape);
    return out;
}

class Evaluator {
public:
    Evaluator(const onnx::NodeProto &n, int opset, const std::vector<const ConstTensor *> &in)
        : n_(n), opset_(opset), in_(in), label_(node_label(n))
    {
    }

    std::vector<ConstTensor> run()
    {
        const std::string &op = n_.op_type();
        if (op == "Dropout") check_dropout_is_identity(n_, opt(1), opt(2), true);
        if (op == "Identity" || op == "Dropout") return {arg(0)};
        if (op == "Cast") return {cast(arg(0), static_cast<int32_t>(attr_i(n_, "to", TensorProto::FLOAT)))};
        if (op == "DequantizeLinear") return {dequantize_linear(n_, opset_, arg(0), arg(1), opt(2))};
        if (op == "QuantizeLinear") return {quantize_linear(n_, opset_, arg(0), arg(1), opt(2))};
        if (op == "Reshape") return {reshape()};
        if (op == "Flatten") return {flatten()};
        if (op == "Squeeze" || op == "Unsqueeze") return {squeeze_unsqueeze(op == "Unsqueeze")};
        if (op == "Concat") return {concat()};
        if (op == "Gather") return {gather()};
        if (op == "Slice") return {slice()};
        if (op == "Transpose") return {transpose()};
        if (op == "Expand") return {expand()};
        if (op == "Where") return {where()};
        if (op == "ConstantOfShape") return {constant_of_shape()};
        if (op == "Range") return {range()};
        if (op == "Min" || op == "Max" || op == "Sum") return {variadic(op)};
        if (is_binary(op)) return {binary(op, arg(0), arg(1))};
        return {unary(op, arg(0))};
    }

    static bool is_binary(const std::string &op)
    {
        static const std::set<std::string> ops = {"Add",   "Sub",  "Mul",     "Div",         "Pow",
                                                  "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
                                                  "And",   "Or",   "Mod"};
        return ops.count(op) > 0;
    }

private:
    [[noreturn]] void error(const std::string &msg) const { bad_input(label_ + ": " + msg); }

    const ConstTensor &arg(size_t k) const
    {
        if (k >= in_.size() || !in_[k]) error("missing input " + std::to_string(k));
        return *in_[k];
    }
    const ConstTensor *opt(size_t k) const { return k < in_.size() ? in_[k] : nullptr; }

    // Axes from attribute (older opsets) or from input k (newer).
    std::vector<int64_t> axes_arg(size_t k) const
    {
        if (const auto *t = opt(k)) return t->ints();
        return attr_ints(n_, "axes");
    }

    ConstTensor cast(const ConstTensor &x, int32_t to) const
    {
        ConstTensor out;
        out.dtype = to;
        out.shape = x.shape;
        if (is_float_dtype(to)) {
            out.f.resize(x.size());
            for (int64_t k = 0; k < x.size(); ++k) out.f[k] = static_cast<float>(x.at(k));
        } else if (is_int_dtype(to)) {
            out.i.resize(x.size());
            for (int64_t k = 0; k < x.size(); ++k) out.i[k] = to == TensorProto::BOOL ? (x.at(k) != 0) : x.int_at(k);
        } else {
            unsupported(label_ + ": cast to " + dtype_name(to) + " is not supported");
        }
        return out;
    }

    ConstTensor reshape() const
    {
        const ConstTensor &x = arg(0);
        std::vector<int64_t> want = arg(1).ints();
        const bool allowzero = attr_i(n_, "allowzero", 0) != 0;
        Shape out(want.size());
        int64_t known = 1, infer = -1;
        for (size_t k = 0; k < want.size(); ++k) {
            if (want[k] == 0 && !allowzero) {
                if (k >= x.shape.size()) error("shape entry 0 at " + std::to_string(k) + " has no input dim");
                out[k] = x.shape[k];
            } else if (want[k] == -1) {
                if (infer >= 0) error("more than one -1 in the target shape");
                infer = static_cast<int64_t>(k);
                continue;
            } else if (want[k] < 0) {
                error("negative target dim " + std::to_string(want[k]));
            } else {
                out[k] = want[k];
            }
            known *= std::max<int64_t>(out[k], 1);
            if (known > kMaxElements) error("target shape too large");
        }
        if (infer >= 0) {
            if (known == 0 || x.size() % known) error("cannot infer -1 for " + shape_str(x.shape));
            out[infer] = x.size() / known;
        }
        if (numel(out, label_) != x.size()) error("cannot reshape " + shape_str(x.shape) + " to " + shape_str(out));
        return reshaped(x, out);
    }

    ConstTensor flatten() const
    {
        const ConstTensor &x = arg(0);
        int64_t r = static_cast<int64_t>(x.shape.size());
        int64_t axis = attr_i(n_, "axis", 1);
        if (axis < -r || axis > r) error("axis out of range");
        if (axis < 0) axis += r;
        int64_t a = 1, b = 1;
        for (int64_t k = 0; k < r; ++k) (k < axis ? a : b) *= x.shape[k];
        return reshaped(x, {a, b});
    }

    ConstTensor squeeze_unsqueeze(bool unsq) const
    {
        const ConstTensor &x = arg(0);
        std::vector<int64_t> axes = axes_arg(1);
        int64_t r = static_cast<int64_t>(x.shape.size());
        if (unsq) {
            int64_t outr = r + static_cast<int64_t>(axes.size());
            std::vector<bool> ins(outr, false);
            for (int64_t a : axes) ins[norm_axis(a, outr, label_)] = true;
            Shape out;
            size_t j = 0;
            for (int64_t k = 0; k < outr; ++k) out.push_back(ins[k] ? 1 : (j < x.shape.size() ? x.shape[j++] : 1));
            if (j != x.shape.size()) error("duplicate axes");
            return reshaped(x, out);
        }
        std::vector<bool> drop(r, false);
        if (axes.empty()) {
            for (int64_t k = 0; k < r; ++k) drop[k] = x.shape[k] == 1;
        } else {
            for (int64_t a : axes) {
                int64_t k = norm_axis(a, r, label_);
                if (x.shape[k] != 1) error("cannot squeeze dim " + std::to_string(k) + " of " + shape_str(x.shape));
                drop[k] = true;
            }
        }
        Shape out;
        for (int64_t k = 0; k < r; ++k)
            if (!drop[k]) out.push_back(x.shape[k]);
        return reshaped(x, out);
    }

    ConstTensor concat() const
    {
        if (in_.empty()) error("no inputs");
        const ConstTensor &x0 = arg(0);
        int64_t r = static_cast<int64_t>(x0.shape.size());
        int64_t axis = norm_axis(attr_i(n_, "axis", 0), r, label_);
        Shape out = x0.shape;
        out[axis] = 0;
        for (size_t k = 0; k < in_.size(); ++k) {
            const ConstTensor &x = arg(k);
            if (static_cast<int64_t>(x.shape.size()) != r || x.is_float() != x0.is_float())
                error("inputs differ in rank or type");
            for (int64_t d = 0; d < r; ++d)
                if (d != axis && x.shape[d] != x0.shape[d]) error("inputs differ outside the axis");
            out[axis] += x.shape[axis];
        }
        ConstTensor res = ConstTensor::zeros(x0.dtype, out);
        int64_t outer = 1, inner = 1;
        for (int64_t d = 0; d < axis; ++d) outer *= out[d];
        for (int64_t d = axis + 1; d < r; ++d) inner *= out[d];
        int64_t off = 0;
        for (size_t k = 0; k < in_.size(); ++k) {
            const ConstTensor &x = arg(k);
            int64_t chunk = x.shape[axis] * inner;
            for (int64_t o = 0; o < outer; ++o)
                for (int64_t c = 0; c < chunk; ++c) {
                    int64_t dst = o * out[axis] * inner + off + c, src = o * chunk + c;
                    if (res.is_float())
                        res.f[dst] = x.f[src];
                    else
                        res.i[dst] = x.i[src];
                }
            off += chunk;
        }
        return res;
    }

    ConstTensor gather() const
    {
        const ConstTensor &x = arg(0);
        const ConstTensor &ix = arg(1);
        int64_t r = static_cast<int64_t>(x.shape.size());
        if (r == 0) error("cannot gather from a scalar");
        int64_t axis = norm_axis(attr_i(n_, "axis", 0), r, label_);
        Shape out(x.shape.begin(), x.shape.begin() + axis);
        out.insert(out.end(), ix.shape.begin(), ix.shape.end());
        out.insert(out.end(), x.shape.begin() + axis + 1, x.shape.end());
        numel(out, label_);
        int64_t outer = 1, inner = 1, n = x.shape[axis];
        for (int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
        for (int64_t d = axis + 1; d < r; ++d) inner *= x.shape[d];
        std::vector<int64_t> src;
        for (int64_t o = 0; o < outer; ++o)
            for (int64_t j = 0; j < ix.size(); ++j) {
                int64_t v = ix.int_at(j);
                if (v < -n || v >= n) error("index " + std::to_string(v) + " out of range");
                if (v < 0) v += n;
                for (int64_t c = 0; c < inner; ++c) src.push_back((o * n + v) * inner + c);
            }
        return take(x, out, src);
    }

    ConstTensor slice() const
    {
        const ConstTensor &x = arg(0);
        int64_t r = static_cast<int64_t>(x.shape.size());
        std::vector<int64_t> starts, ends, axes, steps;
        if (opset_ < 10) {
            starts = attr_ints(n_, "starts");
            ends = attr_ints(n_, "ends");
            axes = attr_ints(n_, "axes");
        } else {
            starts = arg(1).ints();
            ends = arg(2).ints();
            if (opt(3)) axes = opt(3)->ints();
            if (opt(4)) steps = opt(4)->ints();
        }
        if (axes.empty())
            for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
        if (steps.empty()) steps.assign(starts.size(), 1);
        if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
            error("starts/ends/axes/steps differ in length");
        std::vector<int64_t> b(r, 0), st(r, 1);
        Shape out = x.shape;
        for (size_t k = 0; k < starts.size(); ++k) {
            int64_t a = norm_axis(axes[k], r, label_), d = x.shape[a], s = steps[k];
            if (s == 0) error("slice step 0");
            auto clampi = [&](int64_t v, int64_t lo, int64_t hi) { return std::min(std::max(v, lo), hi); };
            int64_t lo = starts[k] < 0 ? starts[k] + d : starts[k];
            int64_t hi = ends[k] < 0 ? ends[k] + d : ends[k];
            if (starts[k] < -d) lo = 0;
            if (ends[k] < -d) hi = s > 0 ? 0 : -1;
            if (s > 0) {
                lo = clampi(lo, 0, d);
                hi = clampi(hi, 0, d);
                out[a] = hi > lo ? (hi - lo + s - 1) / s : 0;
            } else {
                lo = clampi(lo, 0, d - 1);
                hi = clampi(hi, -1, d - 1);
                out[a] = lo > hi ? (lo - hi - s - 1) / -s : 0;
            }
            b[a] = lo;
            st[a] = s;
        }
        auto xs = strides_of(x.shape);
        std::vector<int64_t> src;
        for_each_index(out, [&](const Index &idx) {
            int64_t off = 0;
            for (int64_t d = 0; d < r; ++d) off += (b[d] + idx[d] * st[d]) * xs[d];
            src.push_back(off);
        });
        return take(x, out, src);
    }

    ConstTensor transpose() const
    {
        const ConstTensor &x = arg(0);
        int64_t r = static_cast<int64_t>(x.shape.size());
        std::vector<int64_t> perm = attr_ints(n_, "perm");
        if (perm.empty())
            for (int64_t k = r; k-- > 0;) perm.push_back(k);
        if (static_cast<int64_t>(perm.size()) != r) error("perm length differs from rank");
        std::vector<int64_t> sorted = perm;
        std::sort(sorted.begin(), sorted.end());
        for (int64_t k = 0; k < r; ++k)
            if (sorted[k] != k) error("perm is not a permutation");
        Shape out(r);
        for (int64_t k = 0; k < r; ++k) out[k] = x.shape[perm[k]];
        auto xs = strides_of(x.shape);
        std::vector<int64_t> src;
        for_each_index(out, [&](const Index &idx) {
            int64_t off = 0;
            for (int64_t d = 0; d < r; ++d) off += idx[d] * xs[perm[d]];
            src.push_back(off);
        });
        return take(x, out, src);
    }

    // Elements of x broadcast to out.
    std::vector<int64_t> broadcast_src(const Shape &xshape, const Shape &out) const
    {
        auto st = broadcast_strides(xshape, out);
        std::vector<int64_t> src;
        for_each_index(out, [&](const Index &idx) {
            int64_t off = 0;
            for (size_t d = 0; d < out.size(); ++d) off += idx[d] * st[d];
            src.push_back(off);
        });
        return src;
    }

    ConstTensor expand() const
    {
        const ConstTensor &x = arg(0);
        Shape out = broadcast_shapes(x.shape, arg(1).ints(), label_);
        numel(out, label_);
        return take(x, out, broadcast_src(x.shape, out));
    }

    ConstTensor where() const
    {
        const ConstTensor &c = arg(0), &a = arg(1), &b = arg(2);
        Shape out = broadcast_shapes(broadcast_shapes(c.shape, a.shape, label_), b.shape, label_);
        numel(out, label_);
        auto sc = broadcast_src(c.shape, out), sa = broadcast_src(a.shape, out), sb = broadcast_src(b.shape, out);
        ConstTensor res = ConstTensor::zeros(a.dtype, out);
        for (size_t k = 0; k < sc.size(); ++k) {
            bool pick = c.at(sc[k]) != 0;
            if (res.is_float())
                res.f[k] = pick ? a.f[sa[k]] : b.f[sb[k]];
            else
                res.i[k] = pick ? a.i[sa[k]] : b.i[sb[k]];
        }
        return res;
    }

    ConstTensor constant_of_shape() const
    {
        ConstTensor value = ConstTensor::floats({1}, {0.0f});
        if (const auto *a = find_attr(n_, "value")) value = from_proto(a->t(), "");
        if (value.size() != 1) error("value must have one element");
        ConstTensor res = ConstTensor::zeros(value.dtype, arg(0).ints());
        if (res.is_float())
            std::fill(res.f.begin(), res.f.end(), value.f[0]);
        else
            std::fill(res.i.begin(), res.i.end(), value.i[0]);
        return res;
    }

    ConstTensor range() const
    {
        const ConstTensor &s = arg(0), &l = arg(1), &d = arg(2);
        if (d.at(0) == 0) error("delta is 0");
        double n = std::ceil((l.at(0) - s.at(0)) / d.at(0));
        int64_t count = n > 0 ? static_cast<int64_t>(std::min<double>(n, static_cast<double>(kMaxElements) + 1)) : 0;
        ConstTensor res = ConstTensor::zeros(s.dtype, {count});
        for (int64_t k = 0; k < count; ++k) {
            if (res.is_float())
                res.f[k] = static_cast<float>(s.at(0) + k * d.at(0));
            else
                res.i[k] = s.i[0] + k * d.int_at(0);
        }
        return res;
    }

    ConstTensor variadic(const std::string &op) const
    {
        if (in_.empty()) error("no inputs");
        ConstTensor acc = arg(0);
        const std::string bop = op == "Sum" ? "Add" : op;
        for (size_t k = 1; k < in_.size(); ++k) acc = binary(bop, acc, arg(k));
        return acc;
    }

    ConstTensor binary(const std::string &op, const ConstTensor &a, const ConstTensor &b) const
    {
        Shape out = broadcast_shapes(a.shape, b.shape, label_);
        numel(out, label_);
        auto sa = broadcast_src(a.shape, out), sb = broadcast_src(b.shape, out);
        const bool cmp = op == "Equal" || op == "Less" || op == "Greater" || op == "LessOrEqual" ||
                         op == "GreaterOrEqual" || op == "And" || op == "Or";
        const bool fl = a.is_float() || b.is_float();
        ConstTensor res =
            ConstTensor::zeros(cmp ? TensorProto::BOOL : (fl ? (a.is_float() ? a.dtype : b.dtype) : a.dtype), out);
        for (size_t k = 0; k < sa.size(); ++k) {
            if (cmp) {
                double x = a.at(sa[k]), y = b.at(sb[k]);
                bool v = op == "Equal"            ? x == y
                         : op == "Less"           ? x < y
                         : op == "Greater"        ? x > y
                         : op == "LessOrEqual"    ? x <= y
                         : op == "GreaterOrEqual" ? x >= y
                         : op == "And"            ? (x != 0 && y != 0)
                                                  : (x != 0 || y != 0);
                res.i[k] = v;
            } else if (fl) {
                float x = static_cast<float>(a.at(sa[k])), y = static_cast<float>(b.at(sb[k]));
                res.f[k] = op == "Add"   ? x + y
                           : op == "Sub" ? x - y
                           : op == "Mul" ? x * y
                           : op == "Div" ? x / y
                           : op == "Pow" ? std::pow(x, y)
                           : op == "Min" ? std::min(x, y)
                           : op == "Max" ? std::max(x, y)
                                         : std::fmod(x, y);
            } else {
                int64_t x = a.i[sa[k]], y = b.i[sb[k]];
                if ((op == "Div" || op == "Mod") && y == 0) error("integer division by zero");
                if (op == "Pow") {
                    res.i[k] = static_cast<int64_t>(std::pow(static_cast<double>(x), static_cast<double>(y)));
                } else if (op == "Mod") {
                    int64_t m = x % y;  // ONNX Mod (fmod=0): the sign of the divisor
                    res.i[k] = (m != 0 && ((m < 0) != (y < 0))) ? m + y : m;
                } else {
                    // Unsigned wrap-around: shape arithmetic never overflows, garbage must not be UB.
                    auto ux = static_cast<uint64_t>(x), uy = static_cast<uint64_t>(y);
                    res.i[k] = op == "Add"   ? static_cast<int64_t>(ux + uy)
                               : op == "Sub" ? static_cast<int64_t>(ux - uy)
                               : op == "Mul" ? static_cast<int64_t>(ux * uy)
                               : op == "Div" ? (x == INT64_MIN && y == -1 ? x : x / y)
                               : op == "Min" ? std::min(x, y)
                                             : std::max(x, y);
                }
            }
        }
        return res;
    }

    ConstTensor unary(const std::string &op, const ConstTensor &x) const
    {
        ConstTensor res = x;
        if (op == "Not") {
            for (auto &v : res.i) v = !v;
            return res;
        }
        if (!x.is_float()) {
            if (op == "Neg") {
                for (auto &v : res.i) v = static_cast<int64_t>(0ull - static_cast<uint64_t>(v));
                return res;
            }
            if (op == "Abs") {
                for (auto &v : res.i) v = v < 0 ? static_cast<int64_t>(0ull - static_cast<uint64_t>(v)) : v;
                return res;
            }
            if (op == "Floor" || op == "Ceil" || op == "Round") return res;
            error("not defined on integers");
        }
        std::function<float(float)> fn;
        if (op == "Neg")
            fn = [](float v) { return -v; };
        else if (op == "Abs")
            fn = [](float v) { return std::fabs(v); };
        else if (op == "Sqrt")
            fn = [](float v) { return std::sqrt(v); };
        else if (op == "Exp")
            fn = [](float v) { return std::exp(v); };
        else if (op == "Log")
            fn = [](float v) { return std::log(v); };
        else if (op == "Floor")
            fn = [](float v) { return std::floor(v); };
        else if (op == "Ceil")
            fn = [](float v) { return std::ceil(v); };
        else if (op == "Round")
            fn = [](float v) { return std::nearbyint(v); };
        else if (op == "Reciprocal")
            fn = [](float v) { return 1.0f / v; };
        else if (op == "Relu")
            fn = [](float v) { return v > 0 ? v : 0.0f; };
        else if (op == "Sigmoid")
            fn = [](float v) { return 1.0f / (1.0f + std::exp(-v)); };
        else if (op == "Tanh")
            fn = [](float v) { return std::tanh(v); };
        else if (op == "Erf")
            fn = [](float v) { return std::erf(v); };
        else
            internal_error(label_ + ": no constant evaluator");
        for (auto &v : res.f) v = fn(v);
        return res;
    }

    const onnx::NodeProto &n_;
    int opset_;
    const std::vector<const ConstTensor *> &in_;
    std::string label_;
};

}  // namespace

bool is_foldable_op(const std::string &op)
{
    static const std::set<std::string> ops = {"Identity",
                                              "Dropout",
                                              "Cast",
                                              "Reshape",
                                              "Flatten",
                                              "Squeeze",
                                              "Unsqueeze",
                                              "Concat",
                                              "Gather",
                                              "Slice",
                                              "Transpose",
                                              "Expand",
                                              "Where",
                                              "ConstantOfShape",
                                              "Range",
                                              "Min",
                                              "Max",
                                              "Sum",
                                              "Neg",
                                              "Abs",
                                              "Sqrt",
                                              "Exp",
                                              "Log",
                                              "Floor",
                                              "Ceil",
                                              "Round",
                                              "Reciprocal",
                                              "Relu",
                                              "Sigmoid",
                                              "Tanh",
                                              "Erf",
                                              "Not",
                                              "DequantizeLinear",
                                              "QuantizeLinear"};
    return ops.count(op) > 0 || Evaluator::is_binary(op);
}

std::vector<ConstTensor> eval_node(const onnx::NodeProto &n, int opset, const std::vector<const ConstTensor *> &in)
{
    return Evaluator(n, opset, in).run();
}

ConstTensor constant_value(const onnx::NodeProto &n, const std::string &base_dir)
{
    for (const auto &a : n.attribute()) {
        const std::string &k = a.name();
        if (k == "value") return from_proto(a.t(), base_dir);
        if (k == "value_float") return ConstTensor::floats({}, {a.f()});
        if (k == "value_floats") return ConstTensor::floats({a.floats_size()}, {a.floats().begin(), a.floats().end()});
        if (k == "value_int") return ConstTensor::int64s({}, {a.i()});
        if (k == "value_ints") return ConstTensor::int64s({a.ints_size()}, {a.ints().begin(), a.ints().end()});
    }
    unsupported(node_label(n) + ": Constant without a supported value attribute");
}

}  // namespace mtia::compiler
