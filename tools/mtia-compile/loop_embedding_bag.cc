// SPDX-License-Identifier: MIT
// Matching the Loop torch exports for nn.EmbeddingBag (loop_embedding_bag.h).
// The exporter (torch 1.13, opsets 13..17) writes, for offsets S:
//   E = Slice(S, 1, INT64_MAX, axis 0)            ends of the bags
//   M = Gather(Shape(E), 0)                       trip count: one per bag
//   y = Loop(M, true) { i ->
//         a = Unsqueeze(Gather(S, i), 0); b = Unsqueeze(Gather(E, i), 0)
//         r = Gather(table, Slice(ids, a, b, axis 0))
//         [r = Mul(r, Unsqueeze(Slice(weights, a, b, axis 0), 1))]  sum only
//         out: true, ReduceSum|ReduceMean|ReduceMax(r, axis 0, keepdims 0) }
// with S = Concat(offsets, Unsqueeze(Gather(Shape(ids), 0), 0)) when
// include_last_offset is False (2-D ids: reshaped to 1-D, constant offsets
// 0, L, 2L, ..). Every body node must be one of these (or a Constant): a
// body that computes anything else is not an embedding bag. ONNX's Loop
// would give NaN / -inf for an empty bag's mean / max; PyTorch gives 0, as
// EMBEDDING_BAG does.
#include "loop_embedding_bag.h"

#include <map>
#include <optional>
#include <set>

#include "errors.h"
#include "fold_eval.h"
#include "node_util.h"

#include "mtia/mtia_spec.h"

namespace mtia::compiler {

namespace {

// The nodes and constants of one graph, and the graph around it.
class Scope {
public:
    Scope(const onnx::GraphProto &g, const std::string &base_dir, const Scope *outer)
        : outer_(outer), base_dir_(base_dir)
    {
        for (const auto &n : g.node())
            for (const auto &o : n.output()) producer_[o] = &n;
        for (const auto &t : g.initializer()) init_[t.name()] = &t;
    }
    // The node of this graph writing v, if any.
    const onnx::NodeProto *node(const std::string &v) const
    {
        auto it = v.empty() ? producer_.end() : producer_.find(v);
        return it == producer_.end() ? nullptr : it->second;
    }
    bool defines(const std::string &v) const { return producer_.count(v) || init_.count(v); }
    // Integer (or bool) constant v: an initializer or a Constant's output,
    // here or in an enclosing graph.
    std::optional<std::vector<int64_t>> ints(const std::string &v) const
    {
        std::optional<ConstTensor> c;
        if (const onnx::NodeProto *p = node(v)) {
            if (p->op_type() == "Constant") c = constant_value(*p, base_dir_);
        } else if (init_.count(v)) {
            c = from_proto(*init_.at(v), base_dir_);
        } else if (outer_) {
            return outer_->ints(v);
        }
        if (!c || c->is_float()) return std::nullopt;
        return c->ints();
    }
    bool is_ints(const std::string &v, const std::vector<int64_t> &want) const
    {
        auto c = ints(v);
        return c && *c == want;
    }

private:
    std::map<std::string, const onnx::NodeProto *> producer_;
    std::map<std::string, const onnx::TensorProto *> init_;
    const Scope *outer_;
    const std::string &base_dir_;
};

struct BagLoop {
    std::string table, ids, offsets, weights;
    int64_t mode = MTIA_EMBEDDING_BAG_SUM;
    bool include_last = true;
};

class Matcher {
public:
    Matcher(const onnx::NodeProto &loop, const Scope &outer, const std::string &base_dir)
        : loop_(loop), outer_(outer), base_dir_(base_dir)
    {
    }

    BagLoop match()
    {
        const auto *body_attr = find_attr(loop_, "body");
        if (!body_attr || !body_attr->has_g()) refuse("it has no body");
        const onnx::GraphProto &body = body_attr->g();
        if (loop_.input_size() != 2 || loop_.output_size() != 1) refuse("it carries state or has several outputs");
        if (!loop_.input(1).empty() && !outer_.is_ints(loop_.input(1), {1}))
            refuse("its condition is not the constant true");
        if (body.input_size() != 2 || body.output_size() != 2) refuse("its body is not (iteration, condition) -> 2");
        Scope in(body, base_dir_, &outer_);
        body_ = &in;
        iter_ = body.input(0).name();
        check_condition(body.input(1).name(), body.output(0).name());

        BagLoop bag;
        const onnx::NodeProto *red = take(body.output(1).name());
        const std::string &op = red ? red->op_type() : "";
        if (op == "ReduceSum")
            bag.mode = MTIA_EMBEDDING_BAG_SUM;
        else if (op == "ReduceMean")
            bag.mode = MTIA_EMBEDDING_BAG_MEAN;
        else if (op == "ReduceMax")
            bag.mode = MTIA_EMBEDDING_BAG_MAX;
        else
            refuse("its body does not end in ReduceSum, ReduceMean or ReduceMax");
        if (attr_i(*red, "keepdims", 1) != 0 || !axes_are(*red, 1, {0}))
            refuse("its reduction is not over axis 0 without keepdims");

        const onnx::NodeProto *rows = take(input_name(*red, 0));
        std::string a, b;
        if (rows && rows->op_type() == "Mul" && bag.mode == MTIA_EMBEDDING_BAG_SUM) {
            const onnx::NodeProto *mul = rows;
            const onnx::NodeProto *g0 = body_->node(input_name(*mul, 0));
            const int k = g0 && g0->op_type() == "Gather" ? 0 : 1;
            rows = take(input_name(*mul, k));
            const onnx::NodeProto *uw = take(input_name(*mul, 1 - k));
            if (!uw || uw->op_type() != "Unsqueeze" || !axes_are(*uw, 1, {1}))
                refuse("its per-sample weights are not unsqueezed on axis 1");
            const std::string w = slice_of_bag(take(input_name(*uw, 0)), a, b);
            bag.weights = w;
        }
        if (!rows || rows->op_type() != "Gather" || attr_i(*rows, "axis", 0) != 0)
            refuse("its body does not gather rows of a table");
        bag.table = outer_value(input_name(*rows, 0), "the table");
        std::string a2, b2;
        bag.ids = slice_of_bag(take(input_name(*rows, 1)), a2, b2);
        if (!bag.weights.empty() && (a2 != a || b2 != b)) refuse("its weights and ids are sliced differently");

        // a = Unsqueeze(Gather(S, i), 0), b = Unsqueeze(Gather(E, i), 0).
        const std::string s = bag_bound(a2), e = bag_bound(b2);
        for (const auto &n : body.node())
            if (!taken_.count(&n) && n.op_type() != "Constant") refuse("its body also computes " + node_label(n));
        check_ends(s, e);
        check_trip_count(e);
        offsets_of(s, bag);
        return bag;
    }

private:
    [[noreturn]] void refuse(const std::string &why) const
    {
        unsupported(node_label(loop_) +
                    ": only the embedding-bag loop torch exports for nn.EmbeddingBag is supported (this one: " + why +
                    ")");
    }

    // The body node writing v, marked as part of the pattern.
    const onnx::NodeProto *take(const std::string &v)
    {
        const onnx::NodeProto *n = body_->node(v);
        if (n) taken_.insert(n);
        return n;
    }

    // A value of the enclosing graph (not computed in the body).
    std::string outer_value(const std::string &v, const std::string &what) const
    {
        if (v.empty() || body_->defines(v) || v == iter_) refuse(what + " is computed in the body");
        return v;
    }

    // n's axes (attribute, or input k from opset 13) equal want.
    bool axes_are(const onnx::NodeProto &n, int k, const std::vector<int64_t> &want) const
    {
        if (find_attr(n, "axes")) return attr_ints(n, "axes") == want;
        return n.input_size() > k && body_->is_ints(n.input(k), want);
    }

    void check_condition(const std::string &cond_in, const std::string &cond_out)
    {
        if (cond_out == cond_in) return;
        const onnx::NodeProto *c = take(cond_out);
        if (c &&
            (c->op_type() == "Identity" ||
             (c->op_type() == "Cast" && attr_i(*c, "to", 0) == onnx::TensorProto::BOOL)) &&
            body_->is_ints(input_name(*c, 0), {1}))
            return;
        refuse("its body's condition is not the constant true");
    }

    // Slice(x, a, b, axes [0] [, steps [1]]): x, with a and b its bounds.
    std::string slice_of_bag(const onnx::NodeProto *sl, std::string &a, std::string &b) const
    {
        if (!sl || sl->op_type() != "Slice" || sl->input_size() < 4 || !body_->is_ints(input_name(*sl, 3), {0}) ||
            (sl->input_size() > 4 && !input_name(*sl, 4).empty() && !body_->is_ints(input_name(*sl, 4), {1})))
            refuse("its ids are not a slice along axis 0");
        a = input_name(*sl, 1);
        b = input_name(*sl, 2);
        return outer_value(input_name(*sl, 0), "the sliced tensor");
    }

    // v = Unsqueeze(Gather(X, iteration), 0): returns X.
    std::string bag_bound(const std::string &v)
    {
        const onnx::NodeProto *u = take(v);
        if (!u || u->op_type() != "Unsqueeze" || !axes_are(*u, 1, {0}))
            refuse("a bag's bound is not an unsqueezed scalar");
        const onnx::NodeProto *g = take(input_name(*u, 0));
        if (!g || g->op_type() != "Gather" || attr_i(*g, "axis", 0) != 0 || input_name(*g, 1) != iter_)
            refuse("a bag's bound is not indexed by the iteration");
        return outer_value(input_name(*g, 0), "a bag's bounds");
    }

    // e = Slice(s, 1, to the end, axis 0): bag k ends where bag k + 1 starts.
    void check_ends(const std::string &s, const std::string &e) const
    {
        const onnx::NodeProto *sl = outer_.node(e);
        if (!sl || sl->op_type() != "Slice" || sl->input_size() < 4 || input_name(*sl, 0) != s ||
            !outer_.is_ints(input_name(*sl, 1), {1}) || !outer_.is_ints(input_name(*sl, 3), {0}) ||
            (sl->input_size() > 4 && !input_name(*sl, 4).empty() && !outer_.is_ints(input_name(*sl, 4), {1})))
            refuse("a bag does not end where the next one starts");
        auto end = outer_.ints(input_name(*sl, 2));
        if (!end || end->size() != 1 || (*end)[0] < INT32_MAX) refuse("the bag ends are not sliced to the end");
    }

    // The trip count is the number of bag ends: Gather(Shape(e), 0).
    void check_trip_count(const std::string &e) const
    {
        const onnx::NodeProto *g = outer_.node(loop_.input(0));
        const onnx::NodeProto *sh = g ? outer_.node(input_name(*g, 0)) : nullptr;
        if (!g || g->op_type() != "Gather" || attr_i(*g, "axis", 0) != 0 || !outer_.is_ints(input_name(*g, 1), {0}) ||
            !sh || sh->op_type() != "Shape" || input_name(*sh, 0) != e || find_attr(*sh, "start") ||
            find_attr(*sh, "end"))
            refuse("its trip count is not the number of bags");
    }

    // s = Concat(offsets, Unsqueeze(Gather(Shape(ids), 0), 0)): the offsets
    // without their last entry; else s holds all K + 1.
    void offsets_of(const std::string &s, BagLoop &bag) const
    {
        bag.offsets = s;
        bag.include_last = true;
        const onnx::NodeProto *c = outer_.node(s);
        if (!c || c->op_type() != "Concat" || c->input_size() != 2 || attr_i(*c, "axis", -1) != 0) return;
        const onnx::NodeProto *u = outer_.node(input_name(*c, 1));
        if (!u || u->op_type() != "Unsqueeze") return;
        const bool axes0 = find_attr(*u, "axes") ? attr_ints(*u, "axes") == std::vector<int64_t>{0}
                                                 : u->input_size() > 1 && outer_.is_ints(input_name(*u, 1), {0});
        const onnx::NodeProto *g = outer_.node(input_name(*u, 0));
        const onnx::NodeProto *sh = g ? outer_.node(input_name(*g, 0)) : nullptr;
        if (!axes0 || !g || g->op_type() != "Gather" || attr_i(*g, "axis", 0) != 0 ||
            !outer_.is_ints(input_name(*g, 1), {0}) || !sh || sh->op_type() != "Shape" ||
            input_name(*sh, 0) != bag.ids || find_attr(*sh, "start") || find_attr(*sh, "end"))
            return;
        bag.offsets = input_name(*c, 0);
        bag.include_last = false;
    }

    const onnx::NodeProto &loop_;
    const Scope &outer_;
    const std::string &base_dir_;
    const Scope *body_ = nullptr;
    std::string iter_;
    std::set<const onnx::NodeProto *> taken_;
};

onnx::NodeProto bag_node(const onnx::NodeProto &loop, const BagLoop &bag)
{
    onnx::NodeProto n;
    n.set_op_type("EmbeddingBag");
    n.set_domain(kMtiaDomain);
    n.set_name(loop.name().empty() ? loop.output(0) : loop.name());
    for (const std::string &v : {bag.table, bag.ids, bag.offsets}) n.add_input(v);
    if (!bag.weights.empty()) n.add_input(bag.weights);
    n.add_output(loop.output(0));
    auto *a = n.add_attribute();
    a->set_name("mode");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(bag.mode);
    a = n.add_attribute();
    a->set_name("include_last");
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(bag.include_last ? 1 : 0);
    return n;
}

// Drops nodes none of whose outputs is read (the Loop's bounds and trip
// count), repeatedly.
void remove_unread(onnx::GraphProto &g)
{
    for (bool again = true; again;) {
        again = false;
        std::set<std::string> read;
        for (const auto &n : g.node())
            for (const auto &i : n.input()) read.insert(i);
        for (const auto &o : g.output()) read.insert(o.name());
        onnx::GraphProto kept;
        for (const auto &n : g.node()) {
            bool used = n.op_type() != "Constant" && n.output_size() == 0;
            for (const auto &o : n.output()) used |= read.count(o) > 0;
            if (used)
                *kept.add_node() = n;
            else
                again = true;
        }
        g.mutable_node()->Swap(kept.mutable_node());
    }
}

}  // namespace

int rewrite_embedding_bag_loops(onnx::ModelProto &m, const std::string &base_dir)
{
    auto *g = m.mutable_graph();
    std::vector<std::pair<int, onnx::NodeProto>> repl;
    {
        Scope outer(*g, base_dir, nullptr);
        for (int k = 0; k < g->node_size(); ++k) {
            const auto &n = g->node(k);
            if (n.domain() == kMtiaDomain)
                unsupported(node_label(n) + ": domain " + kMtiaDomain + " is the compiler's own");
            if (n.op_type() != "Loop" || !(n.domain().empty() || n.domain() == "ai.onnx")) continue;
            repl.emplace_back(k, bag_node(n, Matcher(n, outer, base_dir).match()));
        }
    }
    if (repl.empty()) return 0;
    for (auto &r : repl) *g->mutable_node(r.first) = std::move(r.second);
    remove_unread(*g);
    return static_cast<int>(repl.size());
}

onnx::TypeProto embedding_bag_type(const onnx::NodeProto &n,
                                   const std::unordered_map<std::string, onnx::TypeProto *> &types)
{
    auto shape_of = [&](int k, int rank, const char *what) {
        auto it = k < n.input_size() ? types.find(n.input(k)) : types.end();
        if (it == types.end() || !it->second->has_tensor_type())
            bad_input(node_label(n) + ": the type of " + what + " is unknown");
        const auto &tt = it->second->tensor_type();
        if (tt.has_shape() && tt.shape().dim_size() != rank)
            bad_input(node_label(n) + ": " + what + " must have rank " + std::to_string(rank));
        return tt;
    };
    const auto table = shape_of(0, 2, "the table");
    shape_of(1, 1, "the ids");
    const auto offsets = shape_of(2, 1, "the offsets");
    if (n.input_size() > 3) shape_of(3, 1, "the per-sample weights");
    onnx::TypeProto t;
    auto *tt = t.mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto::FLOAT);
    auto *bags = tt->mutable_shape()->add_dim();
    auto *d = tt->mutable_shape()->add_dim();
    if (offsets.has_shape() && offsets.shape().dim(0).has_dim_value())
        bags->set_dim_value(offsets.shape().dim(0).dim_value() - attr_i(n, "include_last", 0));
    if (table.has_shape() && table.shape().dim(1).has_dim_value()) d->set_dim_value(table.shape().dim(1).dim_value());
    return t;
}

}  // namespace mtia::compiler
