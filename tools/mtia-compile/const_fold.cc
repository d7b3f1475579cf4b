// SPDX-License-Identifier: MIT
#include "const_fold.h"

#include <set>

#include <onnx/defs/schema.h>
#include <onnx/shape_inference/implementation.h>

#include "errors.h"
#include "fold_eval.h"
#include "node_util.h"

namespace mtia::compiler {

namespace {

// A static shape for a type, or false.
bool static_shape(const onnx::TypeProto& t, Shape* out) {
  if (!t.has_tensor_type() || !t.tensor_type().has_shape()) return false;
  out->clear();
  for (const auto& d : t.tensor_type().shape().dim()) {
    if (!d.has_dim_value() || d.dim_value() < 0) return false;
    out->push_back(d.dim_value());
  }
  return true;
}

std::map<std::string, Shape> known_shapes(const onnx::GraphProto& g) {
  std::map<std::string, Shape> shapes;
  Shape s;
  for (const auto* list : {&g.input(), &g.value_info(), &g.output()})
    for (const auto& vi : *list)
      if (static_shape(vi.type(), &s)) shapes[vi.name()] = s;
  return shapes;
}

// Shape/Size of a value with a static shape.
ConstTensor shape_of(const onnx::NodeProto& n, const Shape& s) {
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

void infer_shapes(onnx::ModelProto& m, int opset) {
  auto* g = m.mutable_graph();
  // Start from the inputs only: stale exporter shapes (e.g. a batch fixed
  // differently by --input-shape) would otherwise conflict.
  g->clear_value_info();
  for (auto& o : *g->mutable_output())
    if (o.type().has_tensor_type()) o.mutable_type()->mutable_tensor_type()->clear_shape();
  for (const auto& n : g->node()) {
    const auto* schema = onnx::OpSchemaRegistry::Schema(n.op_type(), opset, n.domain());
    if (!schema) bad_input(node_label(n) + ": unknown op for this opset");
    try {
      schema->Verify(n);
    } catch (const std::exception& e) {
      bad_input(node_label(n) + ": invalid node: " + e.what());
    }
  }
  try {
    onnx::ShapeInferenceOptions opts(/*check_type=*/false, /*strict_mode=*/1, /*data_prop=*/false);
    onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(), opts);
  } catch (const std::exception& e) {
    bad_input(std::string("shape inference failed: ") + e.what());
  }
}

FoldResult fold_constants(onnx::ModelProto& m, int opset, const std::string& base_dir) {
  FoldResult res;
  auto* g = m.mutable_graph();
  for (const auto& t : g->initializer())
    res.constants[t.name()] = std::make_shared<const ConstTensor>(from_proto(t, base_dir));

  for (int round = 0;; ++round) {
    infer_shapes(m, opset);
    if (round > 64) internal_error("constant folding did not converge");
    const auto shapes = known_shapes(*g);
    std::set<int> folded;
    for (int k = 0; k < g->node_size(); ++k) {
      const auto& n = g->node(k);
      const std::string& op = n.op_type();
      std::vector<ConstTensor> outs;
      if (op == "Constant") {
        outs.push_back(constant_value(n, base_dir));
      } else if ((op == "Shape" || op == "Size") && n.input_size() == 1) {
        auto it = shapes.find(n.input(0));
        auto c = res.constants.find(n.input(0));
        if (c != res.constants.end()) outs.push_back(shape_of(n, c->second->shape));
        else if (it != shapes.end()) outs.push_back(shape_of(n, it->second));
        else continue;
      } else if (is_foldable_op(op)) {
        std::vector<const ConstTensor*> in;
        bool all = true;
        for (const auto& name : n.input()) {
          if (name.empty()) { in.push_back(nullptr); continue; }
          auto c = res.constants.find(name);
          if (c == res.constants.end()) { all = false; break; }
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
      folded.insert(k);
    }
    if (folded.empty()) break;
    res.folded_nodes += static_cast<int>(folded.size());

    // Rebuild: drop folded nodes, add initializers for the values still read.
    std::set<std::string> used;
    onnx::GraphProto rest;
    for (int k = 0; k < g->node_size(); ++k) {
      if (folded.count(k)) continue;
      for (const auto& in : g->node(k).input()) used.insert(in);
      *rest.add_node() = g->node(k);
    }
    for (const auto& o : g->output()) used.insert(o.name());
    std::set<std::string> have;
    for (const auto& t : g->initializer()) have.insert(t.name());
    for (int k : folded)
      for (const auto& out : g->node(k).output())
        if (!out.empty() && used.count(out) && !have.count(out))
          *g->add_initializer() = to_proto(*res.constants.at(out), out);
    g->mutable_node()->Swap(rest.mutable_node());
  }
  return res;
}

}  // namespace mtia::compiler
