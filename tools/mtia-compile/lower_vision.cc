// SPDX-License-Identifier: MIT
// Lowering of the vision ops beyond convolution and pooling: Pad of runtime
// data (PAD; zero H/W pads before Conv/AveragePool are folded earlier, by
// fold_pads, and pads of constants by constant folding) and ConvTranspose
// (CONV_TRANSPOSE; 1-D as 2-D with H = 1).
#include <algorithm>
#include <cstdint>

#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

namespace {

std::vector<int64_t> ints_or(const onnx::NodeProto &n, const std::string &name, size_t count, int64_t dflt,
                             const std::string &label)
{
    std::vector<int64_t> v = attr_ints(n, name);
    if (v.empty()) v.assign(count, dflt);
    if (v.size() != count)
        bad_input(label + ": attribute " + name + " has " + std::to_string(v.size()) + " values, expected " +
                  std::to_string(count));
    return v;
}

uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

}  // namespace

void Lowerer::conv_transpose()
{
    const Shape xs = shape(n_->input(0)), ws = shape(n_->input(1));
    if (xs.size() < 3 || xs.size() > 5)
        unsupported_here("only 1-D, 2-D and 3-D transposed convolutions are supported (input " + shape_str(xs) + ")");
    const size_t sp = xs.size() - 2;
    if (ws.size() != xs.size() || ws[0] != xs[1])
        bad_input(label() + ": weights " + shape_str(ws) + " do not match input " + shape_str(xs));
    const int64_t group = attr_i(*n_, "group", 1);
    if (group < 1 || xs[1] % group) bad_input(label() + ": group " + std::to_string(group) + " does not divide C");
    const Shape kernel(ws.begin() + 2, ws.end());
    if (auto ks = attr_ints(*n_, "kernel_shape"); !ks.empty() && ks != kernel)
        bad_input(label() + ": kernel_shape differs from the weights' shape");
    auto strides = ints_or(*n_, "strides", sp, 1, label()), dil = ints_or(*n_, "dilations", sp, 1, label());
    auto pads = ints_or(*n_, "pads", 2 * sp, 0, label());
    auto outpad = ints_or(*n_, "output_padding", sp, 0, label());
    const std::vector<int64_t> out_shape = attr_ints(*n_, "output_shape");
    const std::string ap = attr_s(*n_, "auto_pad", "NOTSET");
    if (ap != "NOTSET" && ap != "VALID" && ap != "SAME_UPPER" && ap != "SAME_LOWER" && !ap.empty())
        bad_input(label() + ": unknown auto_pad '" + ap + "'");
    if (!out_shape.empty() && out_shape.size() != sp && out_shape.size() != sp + 2)
        bad_input(label() + ": output_shape must have " + std::to_string(sp) + " values");
    Shape os = {xs[0], ws[1] * group};
    for (size_t i = 0; i < sp; ++i) {
        if (strides[i] < 1 || dil[i] < 1 || pads[i] < 0 || pads[sp + i] < 0 || outpad[i] < 0)
            bad_input(label() + ": strides and dilations must be >= 1, pads and output_padding >= 0");
        const int64_t full = (xs[2 + i] - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1;
        // output_shape (or SAME's in * stride) fixes the pads: ONNX's
        // total_padding, the odd one at the end for SAME_UPPER, else at the
        // start (the operator's definition).
        int64_t want = -1;
        if (!out_shape.empty())
            want = out_shape[out_shape.size() - sp + i];
        else if (ap == "SAME_UPPER" || ap == "SAME_LOWER")
            want = xs[2 + i] * strides[i];
        if (ap == "VALID") pads[i] = pads[sp + i] = 0;
        if (want >= 0) {
            int64_t total = full + outpad[i] - want;
            if (total < 0) {  // more output than the full result: output padding
                outpad[i] -= total;
                total = 0;
            }
            const bool upper = ap == "SAME_UPPER";
            pads[i] = upper ? total / 2 : total - total / 2;
            pads[sp + i] = total - pads[i];
        }
        const int64_t o = full - pads[i] - pads[sp + i] + outpad[i];
        if (o < 1) bad_input(label() + ": the output would be empty");
        if (outpad[i] >= std::max(strides[i], dil[i]))
            unsupported_here("output padding " + std::to_string(outpad[i]) +
                             " not smaller than the stride or dilation is not supported");
        if (pads[i] >= full) unsupported_here("a pad not smaller than the full output is not supported");
        os.push_back(o);
    }
    // 1-D runs as 2-D with H = 1.
    Shape x4 = xs, w4 = ws, o4 = os;
    if (sp == 1) {
        x4.insert(x4.begin() + 2, 1);
        w4.insert(w4.begin() + 2, 1);
        o4.insert(o4.begin() + 2, 1);
        strides.insert(strides.begin(), 1);
        dil.insert(dil.begin(), 1);
        pads = {0, pads[0], 0, pads[1]};
    }
    const size_t nsp = x4.size() - 2, h = nsp - 2, w = nsp - 1;
    std::vector<int> in = {operand(n_->input(0), x4), operand(n_->input(1), w4)};
    const std::string b = input_name(*n_, 2);
    if (!b.empty()) {
        if (shape(b) != Shape{os[1]})
            bad_input(label() + ": bias " + shape_str(shape(b)) + " is not (" + std::to_string(os[1]) + ")");
        in.push_back(tensor(b));
    }
    std::vector<uint32_t> attrs = {u32(strides[h]),    u32(strides[w]), u32(pads[h]), u32(pads[w]), u32(pads[nsp + h]),
                                   u32(pads[nsp + w]), u32(dil[h]),     u32(dil[w]),  u32(group)};
    if (nsp == 3)  // MTIA_CONV_STRIDE_D, DIL_D, PAD_FRONT, PAD_BACK
        attrs.insert(attrs.end(), {u32(strides[0]), u32(dil[0]), u32(pads[0]), u32(pads[nsp])});
    uint64_t flops = 2ull * numel(xs, "input") * ws[1];
    for (int64_t k : kernel) flops *= k;
    int out = new_activation(n_->output(0), dev_shape(o4, "output"));
    emit(MTIA_OP_CONV_TRANSPOSE, in, out, attrs, flops);
    bind(n_->output(0), out);
}

void Lowerer::pad()
{
    const Shape xs = dev_shape(shape(n_->input(0)), "input");
    const int64_t r = static_cast<int64_t>(shape(n_->input(0)).size());
    const std::string mode = attr_s(*n_, "mode", "constant");
    uint32_t dev_mode;
    if (mode == "constant")
        dev_mode = MTIA_PAD_CONSTANT;
    else if (mode == "reflect")
        dev_mode = MTIA_PAD_REFLECT;
    else if (mode == "edge")
        dev_mode = MTIA_PAD_EDGE;
    else
        unsupported_here("mode '" + mode + "' is not supported (constant, reflect and edge are)");
    std::vector<int64_t> pads;
    float value = 0;
    std::vector<int64_t> axes;
    if (g_.opset < 11) {
        pads = attr_ints(*n_, "pads");
        value = attr_f(*n_, "value", 0.0f);
    } else {
        const std::string p = input_name(*n_, 1), v = input_name(*n_, 2), a = input_name(*n_, 3);
        if (p.empty() || !g_.is_const(p)) unsupported_here("pads must be constant");
        pads = g_.cst(p).ints();
        if (!v.empty()) {
            if (!g_.is_const(v)) unsupported_here("constant_value must be constant");
            const ConstTensor &c = g_.cst(v);
            if (c.size() != 1) bad_input(label() + ": constant_value must hold one value");
            value = static_cast<float>(c.at(0));
        }
        if (!a.empty()) {
            if (!g_.is_const(a)) unsupported_here("axes must be constant");
            axes = g_.cst(a).ints();
        }
    }
    if (axes.empty())
        for (int64_t k = 0; k < r; ++k) axes.push_back(k);
    const size_t na = axes.size();
    if (pads.size() != 2 * na)
        bad_input(label() + ": " + std::to_string(pads.size()) + " pads for " + std::to_string(na) + " axes");
    std::vector<int64_t> begin(r, 0), end(r, 0);
    std::vector<bool> seen(r, false);
    for (size_t k = 0; k < na; ++k) {
        const int64_t ax = norm_axis(axes[k], r, label());
        if (seen[ax]) bad_input(label() + ": axis " + std::to_string(ax) + " repeated");
        seen[ax] = true;
        begin[ax] = pads[k];
        end[ax] = pads[na + k];
    }
    Shape os = xs;
    std::vector<uint32_t> attrs = {dev_mode, dev_mode == MTIA_PAD_CONSTANT ? f32_bits(value) : 0u};
    bool identity = true;
    for (int64_t k = 0; k < static_cast<int64_t>(xs.size()); ++k) {
        const int64_t b = k < r ? begin[k] : 0, e = k < r ? end[k] : 0;
        if (b < INT32_MIN || b > INT32_MAX || e < INT32_MIN || e > INT32_MAX)
            bad_input(label() + ": pad " + std::to_string(b < INT32_MIN || b > INT32_MAX ? b : e) + " out of range");
        // Negative pads crop first; at least one input element must remain.
        if (xs[k] + std::min<int64_t>(b, 0) + std::min<int64_t>(e, 0) < 1)
            unsupported_here("pads crop all of dim " + std::to_string(k) + " (empty tensors are not supported)");
        os[k] = xs[k] + b + e;
        identity = identity && b == 0 && e == 0;
        attrs.push_back(static_cast<uint32_t>(static_cast<int32_t>(b)));
    }
    if (identity) return bind(n_->output(0), tensor(n_->input(0)));
    os = dev_shape(os, "output");
    int out = new_activation(n_->output(0), os);
    emit(MTIA_OP_PAD, {tensor(n_->input(0))}, out, attrs, 0);
    bind(n_->output(0), out);
}

}  // namespace mtia::compiler
