// SPDX-License-Identifier: MIT
// Rewrites of ops without a device opcode into ops that have one (and Pow
// x^1, x^2 into cheaper ones), of what an op's device opcode lacks
// (LayerNormalization's Mean and InvStdDev outputs, variadic Max/Min/Mean),
// and the MatMul + bias pattern.
#include <limits>

#include "errors.h"
#include "node_util.h"
#include "passes.h"

namespace mtia::compiler {

namespace {

std::string scalar(Graph &g, const std::string &hint, float v)
{
    return g.add_const(hint, ConstTensor::floats({}, {v}));
}

// hard_sigmoid(x) = clip(alpha * x + beta, 0, 1) writing out.
void hard_sigmoid(Graph &g, const onnx::NodeProto &n, const std::string &x, const std::string &out, float alpha,
                  float beta, std::vector<onnx::NodeProto> &nodes)
{
    const Shape &s = g.shape(x, n);
    std::string scaled = g.add_value(out + ".scaled", s), shifted = g.add_value(out + ".shifted", s);
    nodes.push_back(make_node("Mul", {x, scalar(g, out + ".alpha", alpha)}, {scaled}, n.name() + ".mul"));
    nodes.push_back(make_node("Add", {scaled, scalar(g, out + ".beta", beta)}, {shifted}, n.name() + ".add"));
    nodes.push_back(
        make_node("Clip", {shifted, scalar(g, out + ".min", 0.0f), scalar(g, out + ".max", 1.0f)}, {out}, n.name()));
}

bool used(const Graph &g, const onnx::NodeProto &n, int k)
{
    return k < n.output_size() && !n.output(k).empty() && g.use_count(n.output(k)) > 0;
}

// LayerNormalization's optional outputs (ONNX opset 17, stash_type float):
// Mean = ReduceMean(X) and InvStdDev = 1 / Sqrt(ReduceMean((X - Mean)^2) +
// epsilon) over dims axis..rank-1, kept as 1s. The device's LAYERNORM
// computes Y alone; it stays, with its first output only.
bool layernorm_stats(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with)
{
    if (!used(g, n, 1) && !used(g, n, 2)) return false;
    const std::string label = node_label(n);
    if (attr_i(n, "stash_type", 1) != onnx::TensorProto::FLOAT)
        unsupported(label + ": stash_type " + std::to_string(attr_i(n, "stash_type", 1)) +
                    " (the device computes the statistics in float32)");
    const std::string &x = n.input(0);
    const Shape xs = g.shape(x, n);
    const int64_t r = static_cast<int64_t>(xs.size());
    const int64_t axis = norm_axis(attr_i(n, "axis", -1), r, label);
    std::vector<int64_t> axes;
    Shape ss = xs;
    for (int64_t k = axis; k < r; ++k) axes.push_back(k), ss[k] = 1;
    onnx::NodeProto y = n;
    y.clear_output();
    y.add_output(n.output(0));
    with.push_back(y);
    const std::string o = n.output(0).empty() ? n.name() : n.output(0);
    const std::string mean = used(g, n, 1) ? n.output(1) : g.add_value(o + ".mean", ss);
    with.push_back(make_node("ReduceMean", {x}, {mean}, n.name() + ".mean"));
    set_attr_ints(with.back(), "axes", axes);
    if (!used(g, n, 2)) return true;
    const std::string d = g.add_value(o + ".centered", xs), d2 = g.add_value(o + ".squared", xs),
                      var = g.add_value(o + ".var", ss), ve = g.add_value(o + ".var_eps", ss),
                      sd = g.add_value(o + ".stddev", ss);
    with.push_back(make_node("Sub", {x, mean}, {d}, n.name() + ".centered"));
    with.push_back(make_node("Mul", {d, d}, {d2}, n.name() + ".squared"));
    with.push_back(make_node("ReduceMean", {d2}, {var}, n.name() + ".var"));
    set_attr_ints(with.back(), "axes", axes);
    with.push_back(
        make_node("Add", {var, scalar(g, o + ".eps", attr_f(n, "epsilon", 1e-5f))}, {ve}, n.name() + ".var_eps"));
    with.push_back(make_node("Sqrt", {ve}, {sd}, n.name() + ".stddev"));
    with.push_back(make_node("Reciprocal", {sd}, {n.output(2)}, n.name() + ".inv_stddev"));
    return true;
}

// Max/Min of 1 input (a copy) or of 3 or more (a chain of the binary op);
// Mean is their Sum divided by the count.
bool variadic(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with)
{
    const std::string &op = n.op_type();
    if (op != "Sum" && op != "Mean" && op != "Max" && op != "Min") return false;
    if ((op == "Max" || op == "Min") && n.input_size() == 2) return false;  // BINARY
    if (n.input_size() < 1) bad_input(node_label(n) + ": no inputs");
    const Shape &out = g.shape(n.output(0), n);
    const std::string step = op == "Mean" || op == "Sum" ? "Add" : op;
    const std::string sum = op == "Mean" ? g.add_value(n.output(0) + ".sum", out) : n.output(0);
    if (n.input_size() == 1) {
        with.push_back(make_node("Identity", {n.input(0)}, {sum}, n.name() + (op == "Mean" ? ".sum" : "")));
    } else {
        std::string acc = n.input(0);
        for (int k = 1; k < n.input_size(); ++k) {
            const bool last = k + 1 == n.input_size();
            std::string dst = last ? sum : g.add_value(n.output(0) + ".partial", out);
            with.push_back(make_node(step, {acc, n.input(k)}, {dst},
                                     n.name() + (!last          ? ".partial"
                                                 : op == "Mean" ? ".sum"
                                                                : "")));
            acc = dst;
        }
    }
    if (op == "Mean")
        with.push_back(make_node("Div", {sum, scalar(g, n.output(0) + ".count", static_cast<float>(n.input_size()))},
                                 {n.output(0)}, n.name()));
    return true;
}

// Returns true and fills `with` if n is rewritten.
bool decompose(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with)
{
    const std::string &op = n.op_type();
    const std::string label = node_label(n);
    if (op == "HardSigmoid") {
        hard_sigmoid(g, n, n.input(0), n.output(0), attr_f(n, "alpha", 0.2f), attr_f(n, "beta", 0.5f), with);
        return true;
    }
    if (op == "HardSwish") {
        std::string hs = g.add_value(n.output(0) + ".hsig", g.shape(n.input(0), n));
        hard_sigmoid(g, n, n.input(0), hs, 1.0f / 6.0f, 0.5f, with);
        with.back().set_name(n.name() + ".hsig");
        with.push_back(make_node("Mul", {n.input(0), hs}, {n.output(0)}, n.name()));
        return true;
    }
    if (op == "LeakyRelu") {
        // x + (1 - a) * relu(-x) = x + relu((a - 1) * x) for 0 <= a < 1.
        const float a = attr_f(n, "alpha", 0.01f);
        if (!(a >= 0.0f && a < 1.0f)) unsupported(label + ": alpha " + std::to_string(a) + " outside [0, 1)");
        const Shape &s = g.shape(n.input(0), n);
        std::string m = g.add_value(n.output(0) + ".neg", s), r = g.add_value(n.output(0) + ".relu", s);
        with.push_back(make_node("Mul", {n.input(0), scalar(g, n.output(0) + ".k", a - 1.0f)}, {m}, n.name() + ".mul"));
        with.push_back(make_node("Relu", {m}, {r}, n.name() + ".relu"));
        with.push_back(make_node("Add", {n.input(0), r}, {n.output(0)}, n.name()));
        return true;
    }
    if (op == "Neg") {
        with.push_back(make_node("Mul", {n.input(0), scalar(g, n.output(0) + ".k", -1.0f)}, {n.output(0)}, n.name()));
        return true;
    }
    if (op == "Pow") {
        std::string e = input_name(n, 1);
        if (!g.is_const(e) || g.cst(e).size() != 1 || !(g.cst(e).at(0) == 2.0 || g.cst(e).at(0) == 1.0))
            return false;  // BINARY POW
        if (g.cst(e).at(0) == 1.0)
            with.push_back(make_node("Identity", {n.input(0)}, {n.output(0)}, n.name()));
        else
            with.push_back(make_node("Mul", {n.input(0), n.input(0)}, {n.output(0)}, n.name()));
        return true;
    }
    if (op == "LayerNormalization") return layernorm_stats(g, n, with);
    return variadic(g, n, with) || decompose_onnx_op(g, n, with);
}

}  // namespace

int decompose_ops(Graph &g)
{
    int count = 0;
    std::vector<onnx::NodeProto> out;
    const std::vector<onnx::NodeProto> nodes = g.nodes;
    for (const auto &n : nodes) {
        std::vector<onnx::NodeProto> with;
        if (decompose(g, n, with)) {
            ++count;
            for (auto &w : with) out.push_back(std::move(w));
        } else {
            out.push_back(n);
        }
    }
    g.nodes = std::move(out);
    return count;
}

int fuse_matmul_bias(Graph &g)
{
    int count = 0;
    std::vector<bool> drop(g.nodes.size(), false);
    for (size_t k = 0; k < g.nodes.size(); ++k) {
        auto &add = g.nodes[k];
        if (add.op_type() != "Add" || add.input_size() != 2) continue;
        for (int side = 0; side < 2; ++side) {
            const std::string x = add.input(side), c = add.input(1 - side);
            if (!g.is_const(c) || !g.cst(c).is_float() || g.use_count(x) != 1 || g.is_output(x)) continue;
            onnx::NodeProto *mm = nullptr;
            for (size_t j = 0; j < k; ++j)
                if (!drop[j] && g.nodes[j].op_type() == "MatMul" && g.nodes[j].input_size() == 2 &&
                    g.nodes[j].output(0) == x)
                    mm = &g.nodes[j];
            if (!mm || !g.value(x).known || !g.value(add.output(0)).known) continue;
            // The sum must have the MatMul's shape (the bias only broadcasts), and
            // both MatMul operands must be at least 2-D (no squeezed dims).
            if (g.value(x).shape != g.value(add.output(0)).shape || g.value(x).shape.size() < 2) continue;
            if (!g.value(mm->input(0)).known || !g.value(mm->input(1)).known ||
                g.value(mm->input(0)).shape.size() < 2 || g.value(mm->input(1)).shape.size() < 2)
                continue;
            mm->add_input(c);
            mm->set_output(0, add.output(0));
            drop[k] = true;
            ++count;
            break;
        }
    }
    std::vector<onnx::NodeProto> out;
    for (size_t k = 0; k < g.nodes.size(); ++k)
        if (!drop[k]) out.push_back(std::move(g.nodes[k]));
    g.nodes = std::move(out);
    return count;
}

}  // namespace mtia::compiler
