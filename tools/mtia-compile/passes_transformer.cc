// SPDX-License-Identifier: MIT
// Fusions of what PyTorch (Debian's torch 1.13) exports for transformer
// blocks at opsets below 17, back into the ops the device has:
//   LayerNorm: ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div
//              [, Mul scale [, Add bias]]           -> LayerNormalization
//   GELU:      Div sqrt2, Erf, Add 1, Mul x, Mul 0.5 -> Gelu
//              x*x*x, Mul 0.044715, Add x, Mul sqrt(2/pi), Tanh, Add 1,
//              Mul x, Mul 0.5                      -> Gelu(approximate=tanh)
// Patterns are matched from their last node backwards; every intermediate
// value must be read only inside the pattern (and not be a graph output).
// The last node is replaced in place (so topological order holds) and the
// rest is left to remove_dead_nodes.
#include <algorithm>
#include <cmath>
#include <map>

#include "node_util.h"
#include "passes.h"

namespace mtia::compiler {

namespace {

class Matcher {
public:
    explicit Matcher(Graph &g) : g_(g)
    {
        for (size_t k = 0; k < g.nodes.size(); ++k)
            for (const auto &o : g.nodes[k].output()) producer_[o] = static_cast<int>(k);
    }
    // The node producing v if it is an @op whose output only @uses readers read.
    const onnx::NodeProto *node(const std::string &v, const char *op, int uses = 1) const
    {
        auto it = producer_.find(v);
        if (it == producer_.end()) return nullptr;
        const onnx::NodeProto &n = g_.nodes[it->second];
        if (n.op_type() != op || g_.is_output(v) || g_.use_count(v) != uses) return nullptr;
        return &n;
    }
    // v is a constant scalar near @want.
    bool scalar(const std::string &v, double want) const
    {
        if (!g_.is_const(v) || g_.cst(v).size() != 1) return false;
        return std::fabs(g_.cst(v).at(0) - want) <= 1e-4 * std::max(1.0, std::fabs(want));
    }
    // n has inputs {a, b} in either order with pred(b) for some a; returns a.
    template <class Pred>
    std::string other(const onnx::NodeProto &n, Pred pred) const
    {
        if (n.input_size() != 2) return "";
        if (pred(n.input(1))) return n.input(0);
        if (pred(n.input(0))) return n.input(1);
        return "";
    }
    // The only node reading v, if it is an @op.
    const onnx::NodeProto *reader(const std::string &v, const char *op) const
    {
        if (g_.use_count(v) != 1 || g_.is_output(v)) return nullptr;
        for (const auto &n : g_.nodes)
            for (const auto &i : n.input())
                if (i == v) return n.op_type() == op ? &n : nullptr;
        return nullptr;
    }

private:
    Graph &g_;
    std::map<std::string, int> producer_;
};

// Normalised, sorted reduction axes of a ReduceMean (attribute or input),
// or empty if not static or keepdims is 0.
std::vector<int64_t> mean_axes(const Graph &g, const onnx::NodeProto &n, int64_t rank)
{
    if (attr_i(n, "keepdims", 1) != 1) return {};
    std::vector<int64_t> axes = attr_ints(n, "axes");
    if (n.input_size() > 1 && !n.input(1).empty()) {
        if (!g.is_const(n.input(1))) return {};
        axes = g.cst(n.input(1)).ints();
    }
    for (auto &a : axes) {
        if (a < -rank || a >= rank) return {};
        if (a < 0) a += rank;
    }
    std::sort(axes.begin(), axes.end());
    return axes;
}

// Replaces the node at @at (whose output is @out) with @with.
void replace_node(Graph &g, const onnx::NodeProto &at, onnx::NodeProto with)
{
    for (auto &n : g.nodes)
        if (&n == &at) {
            n = std::move(with);
            return;
        }
}

// The Div of a decomposed LayerNorm -> {x, axis, eps}; false if @div is not one.
bool match_layernorm_core(const Graph &g, const Matcher &m, const onnx::NodeProto &div, std::string *x, int64_t *axis,
                          float *eps)
{
    if (div.op_type() != "Div" || div.input_size() != 2) return false;
    const std::string &d = div.input(0);
    const onnx::NodeProto *sq = m.node(div.input(1), "Sqrt");
    if (!sq) return false;
    const onnx::NodeProto *add = m.node(sq->input(0), "Add");
    if (!add) return false;
    std::string e;
    const std::string v = m.other(*add, [&](const std::string &c) {
        if (!g.is_const(c) || g.cst(c).size() != 1) return false;
        e = c;
        return true;
    });
    if (v.empty()) return false;
    const onnx::NodeProto *var = m.node(v, "ReduceMean");
    if (!var) return false;
    const onnx::NodeProto *pw = m.node(var->input(0), "Pow");
    if (!pw || pw->input(0) != d || !m.scalar(pw->input(1), 2.0)) return false;
    const onnx::NodeProto *sub = m.node(d, "Sub", 2);  // read by Pow and Div
    if (!sub) return false;
    const onnx::NodeProto *mean = m.node(sub->input(1), "ReduceMean");
    if (!mean || mean->input(0) != sub->input(0) || !g.has(sub->input(0)) || !g.value(sub->input(0)).known)
        return false;
    const int64_t r = static_cast<int64_t>(g.value(sub->input(0)).shape.size());
    const std::vector<int64_t> a1 = mean_axes(g, *mean, r), a2 = mean_axes(g, *var, r);
    if (a1.empty() || a1 != a2) return false;
    for (size_t k = 0; k < a1.size(); ++k)  // the trailing axes
        if (a1[k] != r - static_cast<int64_t>(a1.size()) + static_cast<int64_t>(k)) return false;
    *x = sub->input(0);
    *axis = a1.front();
    *eps = static_cast<float>(g.cst(e).at(0));
    return *eps > 0.0f;
}

// A constant shaped as x's dims from @axis (leading 1s allowed).
bool per_element(const Graph &g, const std::string &c, const std::string &x, int64_t axis)
{
    if (!g.is_const(c)) return false;
    const Shape &xs = g.value(x).shape;
    Shape cs = g.cst(c).shape;
    while (!cs.empty() && cs.size() > xs.size() - static_cast<size_t>(axis) && cs.front() == 1) cs.erase(cs.begin());
    return cs == Shape(xs.begin() + axis, xs.end());
}

// The per-element constant that binary node @n combines with @v, or "".
std::string const_operand(const Graph &g, const onnx::NodeProto &n, const std::string &v, const std::string &x,
                          int64_t axis)
{
    if (n.input_size() != 2) return "";
    for (int side = 0; side < 2; ++side)
        if (n.input(side) == v && n.input(1 - side) != v && per_element(g, n.input(1 - side), x, axis))
            return n.input(1 - side);
    return "";
}

int fuse_layernorm(Graph &g)
{
    int fused = 0;
    for (size_t k = 0; k < g.nodes.size(); ++k) {
        Matcher m(g);
        const onnx::NodeProto &div = g.nodes[k];
        std::string x;
        int64_t axis = 0;
        float eps = 0.0f;
        if (!match_layernorm_core(g, m, div, &x, &axis, &eps)) continue;
        // Optional affine tail: Mul by a per-element constant, Add of one.
        const onnx::NodeProto *last = &div;
        std::string scale, bias;
        if (const onnx::NodeProto *mul = m.reader(div.output(0), "Mul")) {
            scale = const_operand(g, *mul, div.output(0), x, axis);
            if (!scale.empty()) {
                last = mul;
                if (const onnx::NodeProto *add = m.reader(mul->output(0), "Add")) {
                    bias = const_operand(g, *add, mul->output(0), x, axis);
                    if (!bias.empty()) last = add;
                }
            }
        }
        if (scale.empty()) {
            const Shape &xs = g.value(x).shape;
            const Shape tail(xs.begin() + axis, xs.end());
            int64_t n = 1;
            for (int64_t v : tail) n *= v;
            scale = g.add_const(x + ".ln_scale", ConstTensor::floats(tail, std::vector<float>(n, 1.0f)));
        }
        std::vector<std::string> in = {x, scale};
        if (!bias.empty()) in.push_back(bias);
        onnx::NodeProto ln = make_node("LayerNormalization", in, {last->output(0)}, div.name() + ".layernorm");
        set_attr_int(ln, "axis", axis);
        set_attr_float(ln, "epsilon", eps);
        replace_node(g, *last, std::move(ln));
        ++fused;
    }
    return fused;
}

// Erf form, from its Erf: Div(x, sqrt 2) -> Erf -> Add 1 -> Mul x -> Mul 0.5.
bool gelu_erf(const Matcher &m, const onnx::NodeProto &erf, std::string *x, const onnx::NodeProto **last)
{
    const onnx::NodeProto *div = m.node(erf.input(0), "Div");
    if (!div || !m.scalar(div->input(1), std::sqrt(2.0))) return false;
    *x = div->input(0);
    const onnx::NodeProto *add = m.reader(erf.output(0), "Add");
    if (!add || m.other(*add, [&](const std::string &c) { return m.scalar(c, 1.0); }) != erf.output(0)) return false;
    const onnx::NodeProto *mul = m.reader(add->output(0), "Mul");
    if (!mul || m.other(*mul, [&](const std::string &c) { return c == add->output(0); }) != *x) return false;
    const onnx::NodeProto *half = m.reader(mul->output(0), "Mul");
    if (!half || m.other(*half, [&](const std::string &c) { return m.scalar(c, 0.5); }) != mul->output(0)) return false;
    *last = half;
    return true;
}

// Tanh form, from its Tanh: Mul(sqrt(2/pi), Add(x, Mul(0.044715, x^3))) ->
// Tanh -> Add 1 -> Mul x -> Mul 0.5, x^3 as Mul(x, Mul(x, x)).
bool gelu_tanh(const Matcher &m, const onnx::NodeProto &tanh, std::string *x, const onnx::NodeProto **last)
{
    const onnx::NodeProto *scaled = m.node(tanh.input(0), "Mul");
    if (!scaled) return false;
    const std::string u = m.other(*scaled, [&](const std::string &c) { return m.scalar(c, std::sqrt(2.0 / M_PI)); });
    const onnx::NodeProto *sum = u.empty() ? nullptr : m.node(u, "Add");
    if (!sum) return false;
    for (int side = 0; side < 2; ++side) {
        const std::string cand = sum->input(side);
        const onnx::NodeProto *k = m.node(sum->input(1 - side), "Mul");
        if (!k) continue;
        const std::string cube = m.other(*k, [&](const std::string &c) { return m.scalar(c, 0.044715); });
        const onnx::NodeProto *c3 = cube.empty() ? nullptr : m.node(cube, "Mul");
        if (!c3) continue;
        const std::string sq = m.other(*c3, [&](const std::string &c) { return c == cand; });
        const onnx::NodeProto *c2 = sq.empty() ? nullptr : m.node(sq, "Mul");
        if (!c2 || c2->input(0) != cand || c2->input(1) != cand) continue;
        *x = cand;
        break;
    }
    if (x->empty()) return false;
    const onnx::NodeProto *add = m.reader(tanh.output(0), "Add");
    if (!add || m.other(*add, [&](const std::string &c) { return m.scalar(c, 1.0); }) != tanh.output(0)) return false;
    const onnx::NodeProto *mul = m.reader(add->output(0), "Mul");
    if (!mul || m.other(*mul, [&](const std::string &c) { return c == add->output(0); }) != *x) return false;
    const onnx::NodeProto *half = m.reader(mul->output(0), "Mul");
    if (!half || m.other(*half, [&](const std::string &c) { return m.scalar(c, 0.5); }) != mul->output(0)) return false;
    *last = half;
    return true;
}

int fuse_gelu(Graph &g)
{
    int fused = 0;
    for (size_t k = 0; k < g.nodes.size(); ++k) {
        const onnx::NodeProto &n = g.nodes[k];
        if (n.op_type() != "Erf" && n.op_type() != "Tanh") continue;
        Matcher m(g);
        std::string x;
        const onnx::NodeProto *last = nullptr;
        const bool tanh = n.op_type() == "Tanh";
        if (tanh ? !gelu_tanh(m, n, &x, &last) : !gelu_erf(m, n, &x, &last)) continue;
        onnx::NodeProto gelu = make_node("Gelu", {x}, {last->output(0)}, n.name() + ".gelu");
        if (tanh) set_attr_string(gelu, "approximate", "tanh");
        replace_node(g, *last, std::move(gelu));
        ++fused;
    }
    return fused;
}

}  // namespace

int fuse_transformer_ops(Graph &g)
{
    // Dead pattern nodes go first so later matches see true use counts.
    int n = fuse_layernorm(g);
    remove_dead_nodes(g);
    n += fuse_gelu(g);
    remove_dead_nodes(g);
    return n;
}

}  // namespace mtia::compiler
