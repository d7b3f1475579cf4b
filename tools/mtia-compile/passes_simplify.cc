// SPDX-License-Identifier: MIT
// Graph clean-ups: identities, zero pads and pads foldable into their
// consumer, dead nodes.
#include <set>

#include "errors.h"
#include "node_util.h"
#include "passes.h"

namespace mtia::compiler {

onnx::NodeProto make_node(const std::string &op, const std::vector<std::string> &inputs,
                          const std::vector<std::string> &outputs, const std::string &name)
{
    onnx::NodeProto n;
    n.set_op_type(op);
    n.set_name(name);
    for (const auto &i : inputs) n.add_input(i);
    for (const auto &o : outputs) n.add_output(o);
    return n;
}

void set_attr_ints(onnx::NodeProto &n, const std::string &name, const std::vector<int64_t> &v)
{
    for (auto &a : *n.mutable_attribute())
        if (a.name() == name) {
            a.clear_ints();
            for (int64_t x : v) a.add_ints(x);
            return;
        }
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
}

void set_attr_float(onnx::NodeProto &n, const std::string &name, float v)
{
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(v);
}

void set_attr_int(onnx::NodeProto &n, const std::string &name, int64_t v)
{
    for (auto &a : *n.mutable_attribute())
        if (a.name() == name) {
            a.set_i(v);
            return;
        }
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(v);
}

void set_attr_string(onnx::NodeProto &n, const std::string &name, const std::string &v)
{
    for (auto &a : *n.mutable_attribute())
        if (a.name() == name) {
            a.set_s(v);
            return;
        }
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(v);
}

namespace {

void check_dropout(const Graph &g, const onnx::NodeProto &n)
{
    const std::string ratio = input_name(n, 1), training = input_name(n, 2);
    check_dropout_is_identity(n, !ratio.empty() && g.is_const(ratio) ? &g.cst(ratio) : nullptr,
                              !training.empty() && g.is_const(training) ? &g.cst(training) : nullptr,
                              training.empty() || g.is_const(training));
}

}  // namespace

namespace {

// An inference-mode Dropout's mask is all true: a 1 broadcast to its shape
// (EXPAND) and cast to bool. The nodes replace the Dropout's second output.
void dropout_mask(Graph &g, onnx::NodeProto &n, std::vector<onnx::NodeProto> &out)
{
    const std::string mask = n.output(1);
    const Shape &s = g.shape(mask, n);
    const std::string one = g.add_const(mask + ".one", ConstTensor::floats(Shape(s.size(), 1), {1.0f}));
    const std::string dims = g.add_const(mask + ".shape", ConstTensor::int64s({static_cast<int64_t>(s.size())}, s));
    const std::string ones = g.add_value(mask + ".ones", s);
    out.push_back(make_node("Expand", {one, dims}, {ones}, n.name() + ".mask_ones"));
    out.push_back(make_node("Cast", {ones}, {mask}, n.name() + ".mask"));
    set_attr_int(out.back(), "to", onnx::TensorProto::BOOL);
    n.set_output(1, "");
}

}  // namespace

int remove_identities(Graph &g)
{
    int dropped = 0;
    std::vector<onnx::NodeProto> out;
    for (auto &n : g.nodes) {
        if (n.op_type() == "Dropout") {
            check_dropout(g, n);  // also one kept as a graph output's copy
            if (n.output_size() > 1 && !n.output(1).empty() && g.use_count(n.output(1)) > 0) dropout_mask(g, n, out);
        }
        if ((n.op_type() == "Identity" || n.op_type() == "Dropout") && n.input_size() >= 1 && n.output_size() >= 1 &&
            !g.is_output(n.output(0))) {
            g.replace_uses(n.output(0), n.input(0));
            ++dropped;
            continue;
        }
        out.push_back(std::move(n));
    }
    g.nodes = std::move(out);
    return dropped;
}

namespace {

// Pads of a Pad node as [begin..., end...], or false if not a constant-zero pad.
bool zero_pad_amounts(const Graph &g, const onnx::NodeProto &n, std::vector<int64_t> *pads)
{
    if (attr_s(n, "mode", "constant") != "constant") return false;
    if (g.opset < 11) {
        *pads = attr_ints(n, "pads");
        if (attr_f(n, "value", 0.0f) != 0.0f) return false;
    } else {
        if (!g.is_const(input_name(n, 1))) return false;
        *pads = g.cst(n.input(1)).ints();
        std::string v = input_name(n, 2);
        if (!v.empty() && (!g.is_const(v) || g.cst(v).size() != 1 || g.cst(v).at(0) != 0)) return false;
        if (n.input_size() > 3 && !n.input(3).empty()) return false;  // axes (opset 18)
    }
    for (int64_t p : *pads)
        if (p < 0) return false;
    return true;
}

}  // namespace

int fold_pads(Graph &g)
{
    int folded = 0;
    std::set<size_t> drop;
    for (size_t k = 0; k < g.nodes.size(); ++k) {
        auto &n = g.nodes[k];
        std::vector<int64_t> pads;
        if (n.op_type() != "Pad" || !zero_pad_amounts(g, n, &pads) || !g.value(n.input(0)).known) continue;
        const int64_t r = static_cast<int64_t>(g.value(n.input(0)).shape.size());
        if (static_cast<int64_t>(pads.size()) != 2 * r) continue;
        bool all_zero = true;
        for (int64_t p : pads) all_zero &= p == 0;
        if (all_zero) {
            if (g.is_output(n.output(0))) {
                n = make_node("Identity", {n.input(0)}, {n.output(0)}, n.name());
            } else {
                g.replace_uses(n.output(0), n.input(0));
                drop.insert(k);
            }
            ++folded;
            continue;
        }
        // Only spatial dims of a 4-D (NCHW) tensor, into one consumer.
        if (r != 4 || pads[0] || pads[1] || pads[4] || pads[5]) continue;
        if (g.use_count(n.output(0)) != 1 || g.is_output(n.output(0))) continue;
        onnx::NodeProto *user = nullptr;
        for (size_t j = k + 1; j < g.nodes.size(); ++j)
            if (g.nodes[j].input_size() && g.nodes[j].input(0) == n.output(0)) user = &g.nodes[j];
        if (!user) continue;
        const std::string ap = attr_s(*user, "auto_pad", "NOTSET");
        if (ap != "NOTSET" && ap != "VALID" && !ap.empty()) continue;
        if (user->op_type() == "AveragePool") {
            // Padding counted in the divisor, like the explicit zeros were.
            std::vector<int64_t> own = attr_ints(*user, "pads", {0, 0, 0, 0});
            bool own_zero = true;
            for (int64_t p : own) own_zero &= p == 0;
            if (!own_zero && attr_i(*user, "count_include_pad", 0) == 0) continue;
            set_attr_int(*user, "count_include_pad", 1);
        } else if (user->op_type() != "Conv") {
            continue;
        }
        std::vector<int64_t> own = attr_ints(*user, "pads", {0, 0, 0, 0});
        if (ap == "VALID") own = {0, 0, 0, 0};
        if (own.size() != 4) continue;
        own[0] += pads[2];
        own[1] += pads[3];
        own[2] += pads[6];
        own[3] += pads[7];
        set_attr_ints(*user, "pads", own);
        set_attr_string(*user, "auto_pad", "NOTSET");
        user->set_input(0, n.input(0));
        drop.insert(k);
        ++folded;
    }
    std::vector<onnx::NodeProto> out;
    for (size_t k = 0; k < g.nodes.size(); ++k)
        if (!drop.count(k)) out.push_back(std::move(g.nodes[k]));
    g.nodes = std::move(out);
    return folded;
}

int remove_dead_nodes(Graph &g)
{
    int removed = 0;
    std::set<std::string> live(g.outputs.begin(), g.outputs.end());
    std::vector<bool> keep(g.nodes.size(), false);
    for (size_t k = g.nodes.size(); k-- > 0;) {
        for (const auto &o : g.nodes[k].output()) keep[k] = keep[k] || (!o.empty() && live.count(o));
        if (!keep[k]) {
            ++removed;
            continue;
        }
        for (const auto &i : g.nodes[k].input()) live.insert(i);
    }
    std::vector<onnx::NodeProto> out;
    for (size_t k = 0; k < g.nodes.size(); ++k)
        if (keep[k]) out.push_back(std::move(g.nodes[k]));
    g.nodes = std::move(out);
    return removed;
}

}  // namespace mtia::compiler
