// SPDX-License-Identifier: MIT
// ONNX ops without a device opcode that are exact compositions of ones the
// compiler lowers (decompose_ops, passes.h): the ReduceSum family (an
// elementwise op before and/or after a ReduceSum with the node's axes and
// keepdims), Softsign, PRelu, DepthToSpace / SpaceToDepth (Reshape,
// Transpose, Reshape) and InstanceNormalization (LayerNormalization over
// the spatial dims, then the per-channel scale and bias).
#include "errors.h"
#include "node_util.h"
#include "passes.h"

namespace mtia::compiler {

namespace {

std::string scalar(Graph &g, const std::string &hint, float v)
{
    return g.add_const(hint, ConstTensor::floats({}, {v}));
}

std::string dims_const(Graph &g, const std::string &hint, const Shape &s)
{
    return g.add_const(hint, ConstTensor::int64s({static_cast<int64_t>(s.size())}, s));
}

// ReduceL1 = ReduceSum(|x|), ReduceL2 = Sqrt(ReduceSum(x*x)), ReduceSumSquare
// = ReduceSum(x*x), ReduceLogSum = Log(ReduceSum(x)), ReduceLogSumExp =
// Log(ReduceSum(Exp(x))), as ONNX defines them (no max subtracted).
bool reduce_family(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with)
{
    const std::string &op = n.op_type();
    const bool square = op == "ReduceL2" || op == "ReduceSumSquare";
    const std::string pre = op == "ReduceL1" ? "Abs" : op == "ReduceLogSumExp" ? "Exp" : square ? "Mul" : "";
    const std::string post = op == "ReduceL2" ? "Sqrt" : op == "ReduceLogSum" || op == "ReduceLogSumExp" ? "Log" : "";
    const std::string &out = n.output(0);
    std::string x = n.input(0);
    if (!pre.empty()) {
        const std::string v = g.add_value(out + ".pre", g.shape(x, n));
        with.push_back(make_node(pre, square ? std::vector<std::string>{x, x} : std::vector<std::string>{x}, {v},
                                 n.name() + ".pre"));
        x = v;
    }
    onnx::NodeProto sum = n;  // axes (attribute or input) and keepdims as they are
    sum.set_op_type("ReduceSum");
    sum.set_input(0, x);
    if (!post.empty()) sum.set_output(0, g.add_value(out + ".sum", g.shape(out, n)));
    with.push_back(sum);
    if (!post.empty()) with.push_back(make_node(post, {sum.output(0)}, {out}, n.name()));
    return true;
}

// DepthToSpace (DCR and CRD) and SpaceToDepth on NCHW by blocksize b.
bool space_depth(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with)
{
    const std::string label = node_label(n);
    const Shape xs = g.shape(n.input(0), n);
    const int64_t b = attr_i(n, "blocksize", 0);
    if (xs.size() != 4 || b < 1) bad_input(label + ": needs a 4-D input and blocksize >= 1");
    const int64_t N = xs[0], C = xs[1], H = xs[2], W = xs[3];
    Shape split;
    std::vector<int64_t> perm;
    if (n.op_type() == "DepthToSpace") {
        if (C % (b * b)) bad_input(label + ": channels not a multiple of blocksize^2");
        const bool crd = attr_s(n, "mode", "DCR") == "CRD";
        split = crd ? Shape{N, C / (b * b), b, b, H, W} : Shape{N, b, b, C / (b * b), H, W};
        perm = crd ? std::vector<int64_t>{0, 1, 4, 2, 5, 3} : std::vector<int64_t>{0, 3, 4, 1, 5, 2};
    } else {
        if (H % b || W % b) bad_input(label + ": height or width not a multiple of blocksize");
        split = {N, C, H / b, b, W / b, b};
        perm = {0, 3, 5, 1, 2, 4};
    }
    Shape moved(6);
    for (int k = 0; k < 6; ++k) moved[k] = split[perm[k]];
    const std::string &out = n.output(0);
    const std::string s = g.add_value(out + ".split", split), t = g.add_value(out + ".moved", moved);
    with.push_back(
        make_node("Reshape", {n.input(0), dims_const(g, out + ".split_dims", split)}, {s}, n.name() + ".split"));
    with.push_back(make_node("Transpose", {s}, {t}, n.name() + ".moved"));
    set_attr_ints(with.back(), "perm", perm);
    with.push_back(make_node("Reshape", {t, dims_const(g, out + ".dims", g.shape(out, n))}, {out}, n.name()));
    return true;
}

// InstanceNormalization: LAYERNORM over dims 2.. (scale 1), then x scale[c]
// + bias[c] with both viewed as (C, 1, ..., 1).
bool instance_norm(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with)
{
    const Shape xs = g.shape(n.input(0), n);
    if (xs.size() < 3 || n.input_size() < 3) bad_input(node_label(n) + ": needs (N, C, D1, ...) input, scale and B");
    const Shape tail(xs.begin() + 2, xs.end());
    Shape per_channel(xs.size() - 1, 1);
    per_channel[0] = xs[1];
    int64_t count = 1;
    for (int64_t d : tail) count *= d;
    const std::string &out = n.output(0);
    const std::string ones = g.add_const(out + ".ones", ConstTensor::floats(tail, std::vector<float>(count, 1.0f)));
    const std::string normed = g.add_value(out + ".normed", xs), scaled = g.add_value(out + ".scaled", xs);
    const std::string sc = g.add_value(out + ".scale", per_channel), bc = g.add_value(out + ".bias", per_channel);
    const std::string dims = dims_const(g, out + ".channel_dims", per_channel);
    with.push_back(make_node("LayerNormalization", {n.input(0), ones}, {normed}, n.name() + ".normed"));
    set_attr_int(with.back(), "axis", 2);
    set_attr_float(with.back(), "epsilon", attr_f(n, "epsilon", 1e-5f));
    with.push_back(make_node("Reshape", {n.input(1), dims}, {sc}, n.name() + ".scale"));
    with.push_back(make_node("Reshape", {n.input(2), dims}, {bc}, n.name() + ".bias"));
    with.push_back(make_node("Mul", {normed, sc}, {scaled}, n.name() + ".scaled"));
    with.push_back(make_node("Add", {scaled, bc}, {out}, n.name()));
    return true;
}

// PRelu = relu(x) + slope * min(x, 0), exact; the slope broadcasts to x
// unidirectionally (opset >= 7; ONNX's version converter keeps an opset-6
// per-channel slope of C values as it is, which then does not broadcast).
bool prelu(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with)
{
    const std::string &out = n.output(0), &slope = n.input(1);
    const Shape &s = g.shape(n.input(0), n), &ss = g.shape(slope, n);
    if (ss.size() > s.size()) bad_input(node_label(n) + ": slope " + shape_str(ss) + " does not broadcast to x");
    for (size_t k = 0; k < ss.size(); ++k) {
        const int64_t d = ss[ss.size() - 1 - k];
        if (d != 1 && d != s[s.size() - 1 - k])
            bad_input(node_label(n) + ": slope " + shape_str(ss) + " does not broadcast to x " + shape_str(s));
    }
    const std::string m = g.add_value(out + ".neg", s), ms = g.add_value(out + ".neg_scaled", s),
                      r = g.add_value(out + ".relu", s);
    with.push_back(make_node("Min", {n.input(0), scalar(g, out + ".zero", 0.0f)}, {m}, n.name() + ".neg"));
    with.push_back(make_node("Mul", {m, slope}, {ms}, n.name() + ".neg_scaled"));
    with.push_back(make_node("Relu", {n.input(0)}, {r}, n.name() + ".relu"));
    with.push_back(make_node("Add", {r, ms}, {out}, n.name()));
    return true;
}

}  // namespace

bool decompose_onnx_op(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with)
{
    const std::string &op = n.op_type();
    const std::string &out = n.output(0);
    if (op == "ReduceL1" || op == "ReduceL2" || op == "ReduceSumSquare" || op == "ReduceLogSum" ||
        op == "ReduceLogSumExp")
        return reduce_family(g, n, with);
    if (op == "DepthToSpace" || op == "SpaceToDepth") return space_depth(g, n, with);
    if (op == "InstanceNormalization") return instance_norm(g, n, with);
    if (op == "Softsign") {  // x / (1 + |x|)
        const Shape &s = g.shape(n.input(0), n);
        const std::string a = g.add_value(out + ".abs", s), d = g.add_value(out + ".den", s);
        with.push_back(make_node("Abs", {n.input(0)}, {a}, n.name() + ".abs"));
        with.push_back(make_node("Add", {a, scalar(g, out + ".one", 1.0f)}, {d}, n.name() + ".den"));
        with.push_back(make_node("Div", {n.input(0), d}, {out}, n.name()));
        return true;
    }
    if (op == "PRelu") return prelu(g, n, with);
    return decompose_qlinear(g, n, with);
}

}  // namespace mtia::compiler
