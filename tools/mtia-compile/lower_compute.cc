// SPDX-License-Identifier: MIT
// Lowering of the compute-heavy ops: Conv, pooling (POOL), reductions (POOL
// for a mean/max over adjacent axes, REDUCE otherwise), Gemm and MatMul
// (GEMM, batch dims broadcast).
#include <algorithm>

#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

Window window(const std::string &label, const std::string &auto_pad, int64_t in, int64_t k, int64_t s, int64_t d,
              int64_t pb, int64_t pe, bool ceil_mode)
{
    if (k < 1 || s < 1 || d < 1 || pb < 0 || pe < 0)
        bad_input(label + ": kernel, strides and dilations must be >= 1 and pads >= 0");
    const int64_t eff = (k - 1) * d + 1;
    Window w;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
        w.out = (in + s - 1) / s;
        int64_t total = std::max<int64_t>((w.out - 1) * s + eff - in, 0);
        w.pad_begin = auto_pad == "SAME_UPPER" ? total / 2 : total - total / 2;
        w.pad_end = total - w.pad_begin;
        return w;
    }
    if (auto_pad == "VALID")
        pb = pe = 0;
    else if (!auto_pad.empty() && auto_pad != "NOTSET")
        bad_input(label + ": unknown auto_pad '" + auto_pad + "'");
    const int64_t span = in + pb + pe - eff;
    if (span < 0) bad_input(label + ": the window is larger than the padded input");
    w.out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    // A last window starting in the end padding is dropped (PyTorch, ONNX).
    if (ceil_mode && (w.out - 1) * s >= in + pb) --w.out;
    w.pad_begin = pb;
    w.pad_end = std::max(pe, (w.out - 1) * s + eff - in - pb);
    w.ceil_extra = w.pad_end - pe;
    if (w.pad_begin >= eff || w.pad_end >= eff)
        unsupported(label + ": a pad of " + std::to_string(std::max(w.pad_begin, w.pad_end)) +
                    " is not smaller than the (dilated) kernel " + std::to_string(eff) + "; the device needs it to be");
    return w;
}

namespace {

std::vector<int64_t> spatial_attr(const onnx::NodeProto &n, const std::string &name, size_t count, int64_t dflt)
{
    std::vector<int64_t> v = attr_ints(n, name);
    if (v.empty()) v.assign(count, dflt);
    if (v.size() != count)
        bad_input(node_label(n) + ": attribute " + name + " has " + std::to_string(v.size()) + " values, expected " +
                  std::to_string(count));
    return v;
}

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

}  // namespace

bool Lowerer::flag_attr(const std::string &name) const
{
    const int64_t v = attr_i(*n_, name, 0);
    if (v != 0 && v != 1) bad_input(label() + ": attribute " + name + " is " + std::to_string(v) + ", not 0 or 1");
    return v == 1;
}

namespace {

}  // namespace

void Lowerer::conv()
{
    const Shape &xs = shape(n_->input(0));
    const Shape &ws = shape(n_->input(1));
    const size_t sp = xs.size() - 2;  // spatial dims
    if (xs.size() < 3 || xs.size() > 5)
        unsupported_here("only 1-D, 2-D and 3-D convolutions are supported (input " + shape_str(xs) + ")");
    if (ws.size() != xs.size())
        bad_input(label() + ": weights " + shape_str(ws) + " do not match input " + shape_str(xs));
    const int64_t group = attr_i(*n_, "group", 1);
    if (group < 1 || xs[1] % group || ws[0] % group || ws[1] * group != xs[1])
        bad_input(label() + ": input channels " + std::to_string(xs[1]) + ", weights " + shape_str(ws) + ", group " +
                  std::to_string(group) + " do not agree");
    Shape kernel(ws.begin() + 2, ws.end());
    if (auto ks = attr_ints(*n_, "kernel_shape"); !ks.empty() && ks != kernel)
        bad_input(label() + ": kernel_shape differs from the weights' shape");
    auto strides = spatial_attr(*n_, "strides", sp, 1), dil = spatial_attr(*n_, "dilations", sp, 1);
    auto pads = spatial_attr(*n_, "pads", 2 * sp, 0);
    const std::string ap = attr_s(*n_, "auto_pad", "NOTSET");
    // 1-D runs as 2-D with H = 1.
    Shape x4 = xs, w4 = ws;
    if (sp == 1) {
        x4.insert(x4.begin() + 2, 1);
        w4.insert(w4.begin() + 2, 1);
        kernel.insert(kernel.begin(), 1);
        strides.insert(strides.begin(), 1);
        dil.insert(dil.begin(), 1);
        pads = {0, pads[0], 0, pads[1]};
    }
    const size_t nsp = kernel.size();  // 2 or 3
    std::vector<Window> win;
    for (size_t i = 0; i < nsp; i++)
        win.push_back(window(label(), ap, x4[2 + i], kernel[i], strides[i], dil[i], pads[i], pads[nsp + i], false));
    // ConvInteger: I32 x - x_zero_point (a single value; the pads are then
    // zeros) and w - w_zero_point (one value or one per output channel)
    // into the integer CONV (lower_integer.cc).
    const bool integer = n_->op_type() == "ConvInteger";
    std::vector<int> in;
    if (integer) {
        const std::string zx = input_name(*n_, 2), zw = input_name(*n_, 3);
        const Shape zxs = zero_point_shape(zx, xs.size(), 0, 1, "input");
        in = {as_shape(minus_zero_point(n_->input(0), zx, zxs), x4),
              as_shape(minus_zero_point(n_->input(1), zw, zero_point_shape(zw, ws.size(), 0, ws[0], "weight")), w4)};
    } else {
        in = {operand(n_->input(0), x4), operand(n_->input(1), w4)};
    }
    const std::string b = integer ? "" : input_name(*n_, 2);
    if (!b.empty()) {
        if (shape(b) != Shape{ws[0]})
            bad_input(label() + ": bias " + shape_str(shape(b)) + " is not (" + std::to_string(ws[0]) + ")");
        in.push_back(tensor(b));
    }
    Shape os = {x4[0], ws[0]};
    uint64_t flops = 2ull * x4[0] * ws[0] * ws[1];
    for (size_t i = 0; i < nsp; i++) {
        os.push_back(win[i].out);
        flops *= win[i].out * kernel[i];
    }
    int out = new_activation(n_->output(0), os, integer ? MTIA_DTYPE_I32 : MTIA_DTYPE_F32);
    const size_t h = nsp - 2, w = nsp - 1;  // depth, if any, is spatial dim 0
    std::vector<uint32_t> attrs = {u32(strides[h]),       u32(strides[w]),     u32(win[h].pad_begin),
                                   u32(win[w].pad_begin), u32(win[h].pad_end), u32(win[w].pad_end),
                                   u32(dil[h]),           u32(dil[w]),         u32(group)};
    if (nsp == 3)  // MTIA_CONV_STRIDE_D, DIL_D, PAD_FRONT, PAD_BACK
        attrs.insert(attrs.end(), {u32(strides[0]), u32(dil[0]), u32(win[0].pad_begin), u32(win[0].pad_end)});
    emit(MTIA_OP_CONV, in, out, attrs, flops);
    bind(n_->output(0), out);
}

void Lowerer::pool()
{
    const std::string &op = n_->op_type();
    const Shape &xs = shape(n_->input(0));
    if (xs.size() < 3 || xs.size() > 5)
        unsupported_here("only 1-D, 2-D and 3-D pooling is supported (input " + shape_str(xs) + ")");
    const size_t sp = xs.size() - 2;
    const bool global = op.rfind("Global", 0) == 0;
    const bool is_max = op == "MaxPool" || op == "GlobalMaxPool";
    std::vector<int64_t> kernel, strides, dil, pads;
    std::string ap = "NOTSET";
    bool ceil_mode = false, count_pad = false;
    if (global) {
        kernel.assign(xs.begin() + 2, xs.end());
        strides.assign(sp, 1);
        dil.assign(sp, 1);
        pads.assign(2 * sp, 0);
    } else {
        kernel = attr_ints(*n_, "kernel_shape");
        if (kernel.size() != sp) bad_input(label() + ": kernel_shape must have " + std::to_string(sp) + " values");
        strides = spatial_attr(*n_, "strides", sp, 1);
        dil = spatial_attr(*n_, "dilations", sp, 1);
        pads = spatial_attr(*n_, "pads", 2 * sp, 0);
        ap = attr_s(*n_, "auto_pad", "NOTSET");
        ceil_mode = flag_attr("ceil_mode");
        count_pad = !is_max && flag_attr("count_include_pad");
    }
    Shape x4 = xs;
    if (sp == 1) {
        x4.insert(x4.begin() + 2, 1);
        kernel.insert(kernel.begin(), 1);
        strides.insert(strides.begin(), 1);
        dil.insert(dil.begin(), 1);
        pads = {0, pads[0], 0, pads[1]};
    }
    const size_t nsp = kernel.size();  // 2 or 3
    std::vector<Window> win;
    bool explicit_pads = false, ceil_extra = false;
    for (size_t i = 0; i < nsp; i++) {
        win.push_back(window(label(), ap, x4[2 + i], kernel[i], strides[i], dil[i], pads[i], pads[nsp + i], ceil_mode));
        explicit_pads = explicit_pads || win[i].pad_begin || win[i].pad_end - win[i].ceil_extra;
        ceil_extra = ceil_extra || win[i].ceil_extra;
    }
    if (count_pad) {
        // With no explicit padding, counting it or not is the same; with both
        // padding and ceil_mode windows ONNX counts only the explicit part.
        if (!explicit_pads)
            count_pad = false;
        else if (ceil_extra)
            unsupported_here("count_include_pad=1 with ceil_mode=1 windows past the padding is not supported");
    }
    Shape os = {x4[0], x4[1]};
    uint64_t taps = 1;
    for (size_t i = 0; i < nsp; i++) {
        os.push_back(win[i].out);
        taps *= kernel[i];
    }
    int out = new_activation(n_->output(0), os);
    const uint64_t flops = static_cast<uint64_t>(numel(os, "pool")) * taps;
    const size_t h = nsp - 2, w = nsp - 1;  // depth, if any, is spatial dim 0
    std::vector<uint32_t> attrs = {is_max ? 0u + MTIA_POOL_MAX : 0u + MTIA_POOL_AVG,
                                   u32(kernel[h]),
                                   u32(kernel[w]),
                                   u32(strides[h]),
                                   u32(strides[w]),
                                   u32(win[h].pad_begin),
                                   u32(win[w].pad_begin),
                                   u32(win[h].pad_end),
                                   u32(win[w].pad_end),
                                   count_pad ? 1u : 0u,
                                   is_max ? u32(dil[h]) : 1u,
                                   is_max ? u32(dil[w]) : 1u};
    if (nsp == 3) {  // MTIA_POOL_K_D, STRIDE_D, PAD_D (front | back << 16), DIL_D
        if (win[0].pad_begin > 0xffff || win[0].pad_end > 0xffff)
            unsupported_here("3-D pooling with a depth pad over 65535 is not supported");
        attrs.insert(attrs.end(), {u32(kernel[0]), u32(strides[0]), u32(win[0].pad_begin | win[0].pad_end << 16),
                                   is_max ? u32(dil[0]) : 1u});
    }
    emit(MTIA_OP_POOL, {operand(n_->input(0), x4)}, out, attrs, flops);
    bind(n_->output(0), out);
}

// ReduceMean/ReduceMax over a contiguous block of axes: the input viewed
// as (1, P, Q, R) (P: dims before the block, Q: the block, R: after it)
// pooled by a (Q, 1) window. ReduceSum/ReduceMin and non-adjacent axes:
// REDUCE (reduced dims kept as 1; the output's ONNX shape is a view).
void Lowerer::reduce()
{
    if (n_->op_type() == "ReduceSum" || n_->op_type() == "ReduceMin") return reduce_any();
    const Shape &xs = shape(n_->input(0));
    const int64_t r = static_cast<int64_t>(xs.size());
    std::vector<int64_t> axes = attr_ints(*n_, "axes");
    if (n_->input_size() > 1 && !n_->input(1).empty()) {
        if (!g_.is_const(n_->input(1))) unsupported_here("axes must be constant");
        axes = g_.cst(n_->input(1)).ints();
    }
    if (axes.empty())
        for (int64_t k = 0; k < r; ++k) axes.push_back(k);
    for (auto &a : axes) a = norm_axis(a, r, label());
    std::sort(axes.begin(), axes.end());
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
    if (axes.empty()) return bind(n_->output(0), tensor(n_->input(0)));  // a scalar
    if (axes.back() - axes.front() + 1 != static_cast<int64_t>(axes.size())) return reduce_any();
    int64_t p = 1, q = 1, rr = 1;
    for (int64_t k = 0; k < r; ++k) (k < axes.front() ? p : k > axes.back() ? rr : q) *= xs[k];
    int t = tensor(n_->input(0));
    if (q == 1) return bind(n_->output(0), t);
    const bool is_max = n_->op_type() == "ReduceMax";
    int out = new_activation(n_->output(0), {1, p, 1, rr});
    emit(MTIA_OP_POOL, {as_shape(t, {1, p, q, rr})}, out,
         {is_max ? 0u + MTIA_POOL_MAX : 0u + MTIA_POOL_AVG, u32(q), 1, 1, 1, 0, 0, 0, 0, 0, 1, 1},
         static_cast<uint64_t>(p * q * rr));
    bind(n_->output(0), out);
}

void Lowerer::reduce_any()
{
    const std::string &op = n_->op_type();
    const Shape xs = dev_shape(shape(n_->input(0)), "input");
    const int64_t r = static_cast<int64_t>(shape(n_->input(0)).size());
    std::vector<int64_t> axes = attr_ints(*n_, "axes");
    const bool axes_input = n_->input_size() > 1 && !n_->input(1).empty();
    if (axes_input) {
        if (!g_.is_const(n_->input(1))) unsupported_here("axes must be constant");
        axes = g_.cst(n_->input(1)).ints();
    }
    if (axes.empty() && attr_i(*n_, "noop_with_empty_axes", 0)) return bind(n_->output(0), tensor(n_->input(0)));
    if (axes.empty())
        for (int64_t k = 0; k < r; ++k) axes.push_back(k);
    uint32_t mask = 0;
    Shape os = xs;
    for (int64_t a : axes) {
        const int64_t k = norm_axis(a, std::max<int64_t>(r, 1), label());
        mask |= 1u << k;
        os[k] = 1;
    }
    const int x = operand(n_->input(0), xs);
    if (os == xs) return bind(n_->output(0), x);  // every reduced dim is 1
    const uint32_t kind = op == "ReduceSum"    ? MTIA_REDUCE_SUM
                          : op == "ReduceMean" ? MTIA_REDUCE_MEAN
                          : op == "ReduceMax"  ? MTIA_REDUCE_MAX
                                               : MTIA_REDUCE_MIN;
    int out = new_activation(n_->output(0), os);
    emit(MTIA_OP_REDUCE, {x}, out, {kind, mask}, numel(xs, "reduce"));
    bind(n_->output(0), out);
}

void Lowerer::gemm()
{
    const Shape &as = shape(n_->input(0)), &bs = shape(n_->input(1));
    if (as.size() != 2 || bs.size() != 2) bad_input(label() + ": A and B must be 2-D");
    const bool ta = attr_i(*n_, "transA", 0) != 0, tb = attr_i(*n_, "transB", 0) != 0;
    const int64_t m = ta ? as[1] : as[0], k = ta ? as[0] : as[1];
    const int64_t kb = tb ? bs[1] : bs[0], nn = tb ? bs[0] : bs[1];
    if (k != kb) bad_input(label() + ": A " + shape_str(as) + " and B " + shape_str(bs) + " do not multiply");
    std::vector<int> in = {tensor(n_->input(0)), tensor(n_->input(1))};
    const std::string c = input_name(*n_, 2);
    if (!c.empty()) {
        Shape cs = shape(c);
        while (cs.size() < 2) cs.insert(cs.begin(), 1);
        if (cs.size() != 2 || (cs[0] != 1 && cs[0] != m) || (cs[1] != 1 && cs[1] != nn))
            bad_input(label() + ": C " + shape_str(shape(c)) + " does not broadcast to " + shape_str({m, nn}));
        in.push_back(operand(c, cs));
    }
    int out = new_activation(n_->output(0), {m, nn});
    emit(MTIA_OP_GEMM, in, out,
         {ta ? 1u : 0u, tb ? 1u : 0u, f32_bits(attr_f(*n_, "alpha", 1.0f)), f32_bits(attr_f(*n_, "beta", 1.0f))},
         2ull * m * nn * k);
    bind(n_->output(0), out);
}

// MatMul with NumPy semantics on the device's GEMM: 1-D operands become
// matrices; a side whose batch dims are all 1 is shared (2-D); otherwise
// the batch shapes broadcast (GEMM takes batch dims of 1 under out's).
// An optional third input is the bias (fuse_matmul_bias).
void Lowerer::matmul()
{
    Shape a = shape(n_->input(0)), b = shape(n_->input(1));
    if (a.empty() || b.empty()) bad_input(label() + ": scalar operands");
    if (a.size() == 1) a.insert(a.begin(), 1);
    if (b.size() == 1) b.push_back(1);
    const int64_t m = a[a.size() - 2], k = a.back(), kb = b[b.size() - 2], nn = b.back();
    if (k != kb) bad_input(label() + ": " + shape_str(a) + " and " + shape_str(b) + " do not multiply");
    Shape ba(a.begin(), a.end() - 2), bb(b.begin(), b.end() - 2);
    auto prod = [](const Shape &s) {
        int64_t p = 1;
        for (int64_t v : s) p *= v;
        return p;
    };
    Shape batch;
    if (prod(bb) == 1) {
        b = {k, nn};
        batch = ba;
    } else if (prod(ba) == 1) {
        a = {m, k};
        batch = bb;
    } else {
        Shape x = ba, y = bb;
        while (x.size() < y.size()) x.insert(x.begin(), 1);
        while (y.size() < x.size()) y.insert(y.begin(), 1);
        batch = x;
        for (size_t d = 0; d < x.size(); ++d) {
            if (x[d] != y[d] && x[d] != 1 && y[d] != 1)
                bad_input(label() + ": batch dims " + shape_str(ba) + " and " + shape_str(bb) + " do not broadcast");
            batch[d] = std::max(x[d], y[d]);
        }
        a.erase(a.begin(), a.end() - 2);
        a.insert(a.begin(), x.begin(), x.end());
        b.erase(b.begin(), b.end() - 2);
        b.insert(b.begin(), y.begin(), y.end());
    }
    Shape os = batch;
    os.push_back(m);
    os.push_back(nn);
    if (os.size() > MTIA_MAX_DIMS) unsupported_here("output rank over " + std::to_string(MTIA_MAX_DIMS));
    // MatMulInteger: I32 A - a_zero_point (one value or one per row) and
    // B - b_zero_point (one value or one per column) into the integer GEMM
    // (lower_integer.cc).
    const bool integer = n_->op_type() == "MatMulInteger";
    std::vector<int> in;
    if (integer) {
        const Shape &sa = shape(n_->input(0)), &sb = shape(n_->input(1));
        const std::string za = input_name(*n_, 2), zb = input_name(*n_, 3);
        const Shape zas = zero_point_shape(za, std::max<size_t>(sa.size(), 1), -2, m, "A's");
        const Shape zbs = zero_point_shape(zb, std::max<size_t>(sb.size(), 1), -1, nn, "B's");
        in = {as_shape(minus_zero_point(n_->input(0), za, zas), a),
              as_shape(minus_zero_point(n_->input(1), zb, zbs), b)};
    } else {
        in = {operand(n_->input(0), a), operand(n_->input(1), b)};
    }
    const std::string c = integer ? "" : input_name(*n_, 2);
    if (!c.empty()) {
        Shape cs = shape(c);
        while (cs.size() > os.size() && cs.front() == 1) cs.erase(cs.begin());
        while (cs.size() < os.size()) cs.insert(cs.begin(), 1);
        for (size_t d = 0; d < cs.size(); ++d)
            if (cs.size() != os.size() || (cs[d] != 1 && cs[d] != os[d]))
                internal_error(label() + ": bias " + shape_str(shape(c)) + " does not fit " + shape_str(os));
        in.push_back(operand(c, cs));
    }
    int out = new_activation(n_->output(0), os, integer ? MTIA_DTYPE_I32 : MTIA_DTYPE_F32);
    emit(MTIA_OP_GEMM, in, out, {0, 0, f32_bits(1.0f), f32_bits(integer ? 0.0f : 1.0f)},
         2ull * prod(batch) * m * nn * k);
    bind(n_->output(0), out);
}

}  // namespace mtia::compiler
