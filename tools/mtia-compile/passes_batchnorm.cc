// SPDX-License-Identifier: MIT
// BatchNormalization (inference): y = (x - mean) * scale / sqrt(var + eps) + B,
// i.e. y = x * s + t per channel with s = scale / sqrt(var + eps), t = B - mean * s.
#include <cmath>
#include <set>

#include "errors.h"
#include "node_util.h"
#include "passes.h"

namespace mtia::compiler {

namespace {

struct ChannelAffine {
    std::vector<float> s, t;
};

ChannelAffine bn_affine(const Graph &g, const onnx::NodeProto &bn)
{
    const std::string label = node_label(bn);
    for (int k = 1; k < 5; ++k)
        if (!g.is_const(input_name(bn, k))) unsupported(label + ": scale, B, mean and var must be constants");
    const auto &scale = g.cst(bn.input(1)), &b = g.cst(bn.input(2)), &mean = g.cst(bn.input(3)),
               &var = g.cst(bn.input(4));
    const int64_t c = scale.size();
    if (b.size() != c || mean.size() != c || var.size() != c)
        bad_input(label + ": scale, B, mean, var differ in length");
    const double eps = attr_f(bn, "epsilon", 1e-5f);
    ChannelAffine a;
    for (int64_t k = 0; k < c; ++k) {
        double s = scale.at(k) / std::sqrt(var.at(k) + eps);
        a.s.push_back(static_cast<float>(s));
        a.t.push_back(static_cast<float>(b.at(k) - mean.at(k) * s));
    }
    return a;
}

// The Conv producing x if BN can fold into it.
onnx::NodeProto *foldable_conv(Graph &g, size_t bn_index, const std::string &x)
{
    if (g.use_count(x) != 1 || g.is_output(x)) return nullptr;
    for (size_t k = bn_index; k-- > 0;) {
        auto &n = g.nodes[k];
        if (n.output_size() && n.output(0) == x) {
            if (n.op_type() != "Conv" || !g.is_const(input_name(n, 1))) return nullptr;
            std::string b = input_name(n, 2);
            if (!b.empty() && !g.is_const(b)) return nullptr;
            return &n;
        }
    }
    return nullptr;
}

}  // namespace

int fold_batchnorm(Graph &g)
{
    int count = 0;
    std::vector<onnx::NodeProto> out;
    std::set<size_t> drop;
    std::vector<std::pair<size_t, std::vector<onnx::NodeProto>>> replace;
    for (size_t k = 0; k < g.nodes.size(); ++k) {
        const onnx::NodeProto bn = g.nodes[k];
        if (bn.op_type() != "BatchNormalization") continue;
        const std::string label = node_label(bn);
        if (bn.input_size() != 5) bad_input(label + ": needs 5 inputs");
        if (attr_i(bn, "training_mode", 0) != 0) unsupported(label + ": training_mode=1 is not supported");
        for (int o = 1; o < bn.output_size(); ++o)
            if (!bn.output(o).empty() && g.use_count(bn.output(o)) > 0)
                unsupported(label + ": training outputs (running mean/var) are used");
        ChannelAffine a = bn_affine(g, bn);
        const int64_t c = static_cast<int64_t>(a.s.size());

        if (onnx::NodeProto *conv = foldable_conv(g, k, bn.input(0))) {
            const ConstTensor &w = g.cst(conv->input(1));
            if (w.shape.empty() || w.shape[0] != c || !w.is_float())
                bad_input(label + ": " + std::to_string(c) + " channels, the Conv has weights " + shape_str(w.shape));
            ConstTensor w2 = w;
            const int64_t per = w.size() / c;
            for (int64_t m = 0; m < c; ++m)
                for (int64_t j = 0; j < per; ++j) w2.f[m * per + j] *= a.s[m];
            std::vector<float> bias(c, 0.0f);
            std::string bname = input_name(*conv, 2);
            if (!bname.empty()) {
                const ConstTensor &b = g.cst(bname);
                if (b.size() != c) bad_input(node_label(*conv) + ": bias length differs from the output channels");
                for (int64_t m = 0; m < c; ++m) bias[m] = static_cast<float>(b.at(m));
            }
            for (int64_t m = 0; m < c; ++m) bias[m] = bias[m] * a.s[m] + a.t[m];
            conv->set_input(1, g.add_const(conv->input(1) + ".bnfold", std::move(w2)));
            std::string bn_b = g.add_const(bn.output(0) + ".bias", ConstTensor::floats({c}, bias));
            if (conv->input_size() < 3)
                conv->add_input(bn_b);
            else
                conv->set_input(2, bn_b);
            conv->set_output(0, bn.output(0));
            drop.insert(k);
            ++count;
            continue;
        }
        // Standalone: per-channel constants shaped (C, 1, ..., 1) broadcast along dim 1.
        const Shape &xs = g.shape(bn.input(0), bn);
        if (xs.size() < 2 || xs[1] != c)
            bad_input(label + ": input " + shape_str(xs) + " does not have " + std::to_string(c) + " channels");
        Shape cs = {c};
        for (size_t d = 2; d < xs.size(); ++d) cs.push_back(1);
        std::string s = g.add_const(bn.output(0) + ".scale", ConstTensor::floats(cs, a.s));
        std::string t = g.add_const(bn.output(0) + ".shift", ConstTensor::floats(cs, a.t));
        std::string mid = g.add_value(bn.output(0) + ".scaled", xs);
        replace.push_back({k,
                           {make_node("Mul", {bn.input(0), s}, {mid}, bn.name() + ".mul"),
                            make_node("Add", {mid, t}, {bn.output(0)}, bn.name())}});
        ++count;
    }
    size_t r = 0;
    for (size_t k = 0; k < g.nodes.size(); ++k) {
        if (drop.count(k)) continue;
        if (r < replace.size() && replace[r].first == k) {
            for (auto &n : replace[r].second) out.push_back(std::move(n));
            ++r;
            continue;
        }
        out.push_back(std::move(g.nodes[k]));
    }
    g.nodes = std::move(out);
    return count;
}

}  // namespace mtia::compiler
