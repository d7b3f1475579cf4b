// SPDX-License-Identifier: MIT
// QLinearConv and QLinearMatMul, ONNX's operator form of quantized models,
// by their definition: DequantizeLinear of the inputs, the float Conv or
// MatMul, QuantizeLinear of the result. Constant inputs (the weights) and
// the int32 bias (scale x_scale * w_scale, zero point 0) are dequantized
// here; activations get DequantizeLinear nodes, and quant_fuse.h turns the
// whole back into the device's int8 CONV/GEMM.
#include "errors.h"
#include "node_util.h"
#include "passes.h"
#include "quant_linear.h"

namespace mtia::compiler {

namespace {

// The float value of quantized input @x with scale @s and zero point @zp
// (@axis for per-axis weights): a folded constant, or a DequantizeLinear.
std::string dequantized(Graph &g, const onnx::NodeProto &n, const std::string &x, const std::string &s,
                        const std::string &zp, int64_t axis, std::vector<onnx::NodeProto> &with)
{
    onnx::NodeProto dq = make_node("DequantizeLinear", {x, s, zp}, {}, n.name() + "." + x + ".dq");
    if (zp.empty()) dq.mutable_input()->RemoveLast();
    set_attr_int(dq, "axis", axis);
    if (g.is_const(x))
        return g.add_const(x + ".dq",
                           dequantize_linear(dq, g.opset, g.cst(x), g.cst(s), zp.empty() ? nullptr : &g.cst(zp)));
    const std::string v = g.add_value(x + ".dq", g.shape(x, n));
    dq.add_output(v);
    with.push_back(dq);
    return v;
}

}  // namespace

bool decompose_qlinear(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with)
{
    const bool conv = n.op_type() == "QLinearConv";
    if (!conv && n.op_type() != "QLinearMatMul") return false;
    const std::string label = node_label(n), &out = n.output(0);
    auto in = [&](int k) { return input_name(n, k); };
    for (int k : {1, 4, 6})  // scales (zero points are optional)
        if (in(k).empty() || !g.is_const(in(k))) unsupported(label + ": scales and zero points must be constants");
    for (int k : {2, 5, 7})
        if (!in(k).empty() && !g.is_const(in(k))) unsupported(label + ": scales and zero points must be constants");
    // Weights per output channel: a Conv's along axis 0, a MatMul's B (K, N) along 1.
    const std::string x = dequantized(g, n, in(0), in(1), in(2), 1, with);
    const std::string w = dequantized(g, n, in(3), in(4), in(5), conv ? 0 : 1, with);
    onnx::NodeProto op = n;
    op.set_op_type(conv ? "Conv" : "MatMul");
    op.clear_input();
    op.add_input(x);
    op.add_input(w);
    if (conv && !in(8).empty()) {
        const std::string &b = in(8);
        if (!g.is_const(b)) unsupported(label + ": the bias must be a constant");
        const ConstTensor &xs = g.cst(in(1)), &ws = g.cst(in(4)), &bq = g.cst(b);
        if (bq.dtype != onnx::TensorProto::INT32) bad_input(label + ": the bias must be int32");
        if (xs.size() != 1 || (ws.size() != 1 && ws.size() != bq.size()))
            bad_input(label + ": the bias does not match the scales");
        std::vector<float> bias(static_cast<size_t>(bq.size()));
        for (int64_t m = 0; m < bq.size(); ++m)
            bias[static_cast<size_t>(m)] = static_cast<float>(static_cast<double>(bq.i[static_cast<size_t>(m)]) *
                                                              (xs.at(0) * ws.at(ws.size() == 1 ? 0 : m)));
        op.add_input(g.add_const(b + ".dq", ConstTensor::floats(bq.shape, std::move(bias))));
    }
    const std::string y = g.add_value(out + ".f", g.shape(out, n));
    op.set_output(0, y);
    with.push_back(op);
    onnx::NodeProto q = make_node("QuantizeLinear", {y, in(6), in(7)}, {out}, n.name() + ".q");
    if (in(7).empty()) q.mutable_input()->RemoveLast();
    with.push_back(q);
    return true;
}

}  // namespace mtia::compiler
