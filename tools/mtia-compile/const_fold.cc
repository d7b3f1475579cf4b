// SPDX-License-Identifier: MIT
#include "const_fold.h"

#include <set>
#include <unordered_map>

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include "errors.h"
#include "fold_eval.h"
#include "loop_embedding_bag.h"
#include "node_util.h"

namespace mtia::compiler {

namespace {

// A static shape for a type, or false.
bool static_shape(const onnx::TypeProto &t, Shape *out)
{
    if (!t.has_tensor_type() || !t.tensor_type().has_shape()) return false;
    out->clear();
    for (const auto &d : t.tensor_type().shape().dim()) {
        if (!d.has_dim_value() || d.dim_value() < 0) return false;
        out->push_back(d.dim_value());
    }
    return true;
}

std::map<std::string, Shape> known_shapes(const onnx::GraphProto &g)
{
    std::map<std::string, Shape> shapes;
    Shape s;
    for (const auto *list : {&g.input(), &g.value_info(), &g.output()})
        for (const auto &vi : *list)
            if (static_shape(vi.type(), &s)) shapes[vi.name()] = s;
    return shapes;
}

// Shape/Size of a value with a static shape.
ConstTensor shape_of(const onnx::NodeProto &n, const Shape &s)
{
    if (n.op_type() == "Size") {
        int64_t count = 1;
        for (int64_t d : s) count *= d;
        return ConstTensor::int64s({}, {count});
    }
    const int64_t r = static_cast<int64_t>(s.size());
    int64_t start = attr_i(n, "start", 0), end = attr_i(n, "end", r);
    auto clampi = [r](int64_t v) { return std::min(std::max(v < 0 ? v + r : v, int64_t{0}), r); };
    start = clampi(start);
    end = clampi(end);
    std::vector<int64_t> v;
    for (int64_t k = start; k < end; ++k) v.push_back(s[k]);
    return ConstTensor::int64s({static_cast<int64_t>(v.size())}, v);
}

}  // namespace

namespace {

// ONNX 1.12's conv/pool shape inference indexes attribute lists and the
// weights' dims without bounds checks; refuse what would crash it.
void precheck_conv_pool(const onnx::NodeProto &n, const std::unordered_map<std::string, onnx::TypeProto *> &types)
{
    static const std::set<std::string> ops = {"Conv",      "ConvTranspose", "MaxPool",     "AveragePool", "LpPool",
                                              "MaxUnpool", "ConvInteger",   "QLinearConv", "MaxRoiPool"};
    if (!ops.count(n.op_type())) return;
    auto rank_of = [&](int k) -> int {
        if (k >= n.input_size()) return -1;
        auto it = types.find(n.input(k));
        if (it == types.end() || !it->second->has_tensor_type() || !it->second->tensor_type().has_shape()) return -1;
        return it->second->tensor_type().shape().dim_size();
    };
    const std::string label = node_label(n);
    const int r = rank_of(0);
    if (r < 0) return;
    if (r < 3) bad_input(label + ": input rank " + std::to_string(r) + " (need N, C and spatial dims)");
    const size_t sp = static_cast<size_t>(r - 2);
    auto check = [&](const char *name, size_t count, int64_t min) {
        const auto *a = find_attr(n, name);
        if (!a) return;
        if (static_cast<size_t>(a->ints_size()) != count)
            bad_input(label + ": attribute " + name + " has " + std::to_string(a->ints_size()) + " values, expected " +
                      std::to_string(count));
        for (int64_t v : a->ints())
            if (v < min || v > (int64_t{1} << 30))
                bad_input(label + ": attribute " + name + " value " + std::to_string(v));
    };
    check("kernel_shape", sp, 1);
    check("strides", sp, 1);
    check("dilations", sp, 1);
    check("pads", 2 * sp, 0);
    check("output_padding", sp, 0);
    check("output_shape", sp, 1);
    if (n.op_type() == "Conv" || n.op_type() == "ConvTranspose") {
        const int wr = rank_of(1);
        if (wr >= 0 && wr != r) bad_input(label + ": weights rank " + std::to_string(wr) + " differs from input rank");
        if (attr_i(n, "group", 1) < 1) bad_input(label + ": group < 1");
    }
}

onnx::TypeProto tensor_type_of(const onnx::TensorProto &t)
{
    onnx::TypeProto type;
    auto *tt = type.mutable_tensor_type();
    tt->set_elem_type(t.data_type());
    auto *s = tt->mutable_shape();
    for (int64_t d : t.dims()) s->add_dim()->set_dim_value(d);
    return type;
}

// Notes where folded node @n's output came from (FoldResult::sources): a
// DequantizeLinear of an 8-bit constant, a Cast of a 16-bit one to float.
void record_source(const onnx::NodeProto &n, FoldResult &res)
{
    auto cst = [&](int k) -> ConstPtr {
        if (k >= n.input_size() || n.input(k).empty()) return nullptr;
        auto it = res.constants.find(n.input(k));
        return it == res.constants.end() ? nullptr : it->second;
    };
    const ConstPtr x = cst(0);
    if (!x || n.output_size() < 1) return;
    ConstSource src;
    src.op = n.op_type();
    src.x = x;
    if (src.op == "DequantizeLinear" && (x->dtype == onnx::TensorProto::INT8 || x->dtype == onnx::TensorProto::UINT8)) {
        src.scale = cst(1);
        src.zero_point = cst(2);
        if (!src.scale) return;
        if (src.scale->size() != 1) {  // per axis (dequantize_linear() checked it against x)
            const int64_t r = static_cast<int64_t>(x->shape.size());
            src.axis = attr_i(n, "axis", 1);
            if (src.axis < 0) src.axis += r;
        }
    } else if (src.op == "Cast" && attr_i(n, "to", 0) == onnx::TensorProto::FLOAT &&
               (x->dtype == onnx::TensorProto::FLOAT16 || x->dtype == onnx::TensorProto::BFLOAT16)) {
    } else {
        return;
    }
    res.sources[n.output(0)] = std::move(src);
}

}  // namespace

// Node by node (rather than onnx::shape_inference::InferShapes) so each
// node can be checked before ONNX's inference function sees it.
void infer_shapes(onnx::ModelProto &m, int opset)
{
    auto *g = m.mutable_graph();
    // Start from the inputs only: stale exporter shapes (e.g. a batch fixed
    // differently by --input-shape) would otherwise conflict.
    g->clear_value_info();
    for (auto &o : *g->mutable_output())
        if (o.type().has_tensor_type()) o.mutable_type()->mutable_tensor_type()->clear_shape();

    std::map<std::string, onnx::TypeProto> storage;  // stable addresses
    std::unordered_map<std::string, onnx::TypeProto *> types;
    std::unordered_map<std::string, const onnx::TensorProto *> data;
    for (const auto &in : g->input()) types[in.name()] = &(storage[in.name()] = in.type());
    for (const auto &t : g->initializer()) {
        types[t.name()] = &(storage[t.name()] = tensor_type_of(t));
        data[t.name()] = &t;
    }
    const std::unordered_map<std::string, const onnx::SparseTensorProto *> sparse;
    for (auto &n : *g->mutable_node()) {
        const std::string label = node_label(n);
        if (n.domain() == kMtiaDomain) {  // the compiler's own EmbeddingBag
            auto *vi = g->add_value_info();
            vi->set_name(n.output(0));
            *vi->mutable_type() = storage[n.output(0)] = embedding_bag_type(n, types);
            types[n.output(0)] = &storage[n.output(0)];
            continue;
        }
        const auto *schema = onnx::OpSchemaRegistry::Schema(n.op_type(), opset, n.domain());
        if (!schema) bad_input(label + ": unknown op for opset " + std::to_string(opset));
        try {
            schema->Verify(n);
        } catch (const std::exception &e) {
            bad_input(label + ": invalid node: " + e.what());
        }
        precheck_conv_pool(n, types);
        if (!schema->has_type_and_shape_inference_function()) continue;
        onnx::shape_inference::InferenceContextImpl ctx(n, types, data, sparse);
        try {
            schema->GetTypeAndShapeInferenceFunction()(ctx);
        } catch (const std::exception &e) {
            bad_input(label + ": shape inference failed: " + e.what());
        }
        for (int k = 0; k < n.output_size(); ++k) {
            const std::string &out = n.output(k);
            const onnx::TypeProto *t = ctx.getOutputType(k);
            if (out.empty() || !t || t->value_case() == onnx::TypeProto::VALUE_NOT_SET) continue;
            types[out] = &(storage[out] = *t);
            auto *vi = g->add_value_info();
            vi->set_name(out);
            *vi->mutable_type() = *t;
        }
    }
}

FoldResult fold_constants(onnx::ModelProto &m, int opset, const std::string &base_dir)
{
    FoldResult res;
    auto *g = m.mutable_graph();
    for (const auto &t : g->initializer())
        res.constants[t.name()] = std::make_shared<const ConstTensor>(from_proto(t, base_dir));

    for (int round = 0;; ++round) {
        infer_shapes(m, opset);
        if (round > 64) internal_error("constant folding did not converge");
        const auto shapes = known_shapes(*g);
        std::set<int> folded;
        for (int k = 0; k < g->node_size(); ++k) {
            const auto &n = g->node(k);
            const std::string &op = n.op_type();
            std::vector<ConstTensor> outs;
            if (op == "Constant") {
                outs.push_back(constant_value(n, base_dir));
            } else if ((op == "Shape" || op == "Size") && n.input_size() == 1) {
                auto it = shapes.find(n.input(0));
                auto c = res.constants.find(n.input(0));
                if (c != res.constants.end())
                    outs.push_back(shape_of(n, c->second->shape));
                else if (it != shapes.end())
                    outs.push_back(shape_of(n, it->second));
                else
                    continue;
            } else if (is_foldable_op(op)) {
                std::vector<const ConstTensor *> in;
                bool all = true;
                for (const auto &name : n.input()) {
                    if (name.empty()) {
                        in.push_back(nullptr);
                        continue;
                    }
                    auto c = res.constants.find(name);
                    if (c == res.constants.end()) {
                        all = false;
                        break;
                    }
                    in.push_back(c->second.get());
                }
                if (!all) continue;
                outs = eval_node(n, opset, in);
            } else {
                continue;
            }
            // Every used output must be computed (e.g. Dropout's mask is not).
            for (int o = 0; o < n.output_size(); ++o) {
                if (n.output(o).empty()) continue;
                if (o >= static_cast<int>(outs.size())) {
                    outs.clear();
                    break;
                }
            }
            if (outs.empty()) continue;
            for (int o = 0; o < n.output_size(); ++o)
                if (!n.output(o).empty())
                    res.constants[n.output(o)] = std::make_shared<const ConstTensor>(std::move(outs[o]));
            record_source(n, res);
            folded.insert(k);
        }
        if (folded.empty()) break;
        res.folded_nodes += static_cast<int>(folded.size());

        // Rebuild: drop folded nodes, add initializers for the values still read.
        std::set<std::string> used;
        onnx::GraphProto rest;
        for (int k = 0; k < g->node_size(); ++k) {
            if (folded.count(k)) continue;
            for (const auto &in : g->node(k).input()) used.insert(in);
            *rest.add_node() = g->node(k);
        }
        for (const auto &o : g->output()) used.insert(o.name());
        std::set<std::string> have;
        for (const auto &t : g->initializer()) have.insert(t.name());
        for (int k : folded)
            for (const auto &out : g->node(k).output())
                if (!out.empty() && used.count(out) && !have.count(out))
                    *g->add_initializer() = to_proto(*res.constants.at(out), out);
        g->mutable_node()->Swap(rest.mutable_node());
    }
    return res;
}

}  // namespace mtia::compiler
