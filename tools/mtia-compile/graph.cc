// SPDX-License-Identifier: MIT
#include "graph.h"

#include <algorithm>
#include <set>

#include "dev_graph.h"
#include "errors.h"
#include "node_util.h"

namespace mtia::compiler {

const Value &Graph::value(const std::string &v) const
{
    auto it = values.find(v);
    if (it == values.end()) internal_error("unknown value '" + v + "'");
    return it->second;
}

const ConstTensor &Graph::cst(const std::string &v) const
{
    const Value &val = value(v);
    if (!val.cst) internal_error("value '" + v + "' is not constant");
    return *val.cst;
}

const Shape &Graph::shape(const std::string &v, const onnx::NodeProto &n) const
{
    const Value &val = value(v);
    if (!val.known)
        unsupported(node_label(n) + ": the shape of '" + v +
                    "' is not static (fix the model's dynamic input dims with --input-shape)");
    return val.shape;
}

bool Graph::is_output(const std::string &v) const
{
    return std::find(outputs.begin(), outputs.end(), v) != outputs.end();
}

int Graph::use_count(const std::string &v) const
{
    int n = static_cast<int>(std::count(outputs.begin(), outputs.end(), v));
    for (const auto &node : nodes) n += static_cast<int>(std::count(node.input().begin(), node.input().end(), v));
    return n;
}

std::string Graph::unique_name(const std::string &hint)
{
    std::string name = hint;
    while (values.count(name)) name = hint + "." + std::to_string(++name_counter_[hint]);
    return name;
}

std::string Graph::add_const(const std::string &hint, ConstTensor c)
{
    Value v;
    v.name = unique_name(hint);
    v.dtype = c.is_float() ? onnx::TensorProto::FLOAT : onnx::TensorProto::INT64;
    v.shape = c.shape;
    v.known = true;
    v.cst = std::make_shared<const ConstTensor>(std::move(c));
    values[v.name] = v;
    return v.name;
}

std::string Graph::add_value(const std::string &hint, const Shape &shape)
{
    Value v;
    v.name = unique_name(hint);
    v.dtype = onnx::TensorProto::FLOAT;
    v.shape = shape;
    v.known = true;
    values[v.name] = v;
    return v.name;
}

void Graph::replace_uses(const std::string &from, const std::string &to)
{
    for (auto &n : nodes)
        for (int k = 0; k < n.input_size(); ++k)
            if (n.input(k) == from) n.set_input(k, to);
}

namespace {

void set_type(Value &v, const onnx::TypeProto &t)
{
    if (!t.has_tensor_type()) return;
    const auto &tt = t.tensor_type();
    if (tt.elem_type()) v.dtype = tt.elem_type();
    if (!tt.has_shape()) return;
    Shape s;
    for (const auto &d : tt.shape().dim()) {
        if (!d.has_dim_value() || d.dim_value() < 0) return;
        s.push_back(d.dim_value());
    }
    v.shape = s;
    v.known = true;
}

}  // namespace

Graph import_graph(const onnx::ModelProto &m, const FoldResult &folded, int opset)
{
    const auto &g = m.graph();
    Graph G;
    G.name = g.name().empty() ? "model" : g.name();
    G.opset = opset;
    G.sources = folded.sources;
    for (const auto &kv : folded.constants) {
        Value v;
        v.name = kv.first;
        v.dtype = kv.second->dtype;
        v.shape = kv.second->shape;
        v.known = true;
        v.cst = kv.second;
        G.values[v.name] = v;
    }
    for (const auto &in : g.input()) {
        if (G.is_const(in.name())) continue;  // an initializer also listed as input
        Value v;
        v.name = in.name();
        set_type(v, in.type());
        if (!mtia_dtype_of(v.dtype))
            unsupported("graph input '" + in.name() + "' has element type " + dtype_name(v.dtype) +
                        "; the device takes float32, int32, int64, bool and (quantized) int8/uint8 inputs");
        numel(v.shape, "graph input '" + in.name() + "'");
        G.values[v.name] = v;
        G.inputs.push_back(v.name);
    }
    for (const auto *list : {&g.value_info(), &g.output()})
        for (const auto &vi : *list) {
            if (G.is_const(vi.name())) continue;
            Value &v = G.values[vi.name()];
            v.name = vi.name();
            set_type(v, vi.type());
        }
    for (const auto &n : g.node()) {
        for (const auto &out : n.output()) {
            if (out.empty()) continue;
            Value &v = G.values[out];
            v.name = out;
            if (v.known) numel(v.shape, node_label(n) + " output '" + out + "'");
            // Every computed value is on the device, so float32 (shape arithmetic
            // was folded away) but for what Gather and Cast make of ids and
            // views of them (views keep the dtype), masks (comparisons, Not,
            // Where), integer arithmetic (BINARY on int32/int64,
            // device_rules.cc checks its inputs) and the integer ops
            // (lower_integer.cc); an unused secondary output is
            // checked at lowering.
            static const std::set<std::string> ids_ops = {"Gather",
                                                          "Cast",
                                                          "Reshape",
                                                          "Flatten",
                                                          "Squeeze",
                                                          "Unsqueeze",
                                                          "Identity",
                                                          "Expand",
                                                          "Equal",
                                                          "Less",
                                                          "Greater",
                                                          "Not",
                                                          "Where",
                                                          "QuantizeLinear",
                                                          "QLinearConv",
                                                          "QLinearMatMul",
                                                          "MatMulInteger",
                                                          "ConvInteger",
                                                          "DynamicQuantizeLinear"};
            static const std::set<std::string> int_ops = {"Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "Sum"};
            const bool ids_op = ids_ops.count(n.op_type()) > 0 ||
                                (int_ops.count(n.op_type()) > 0 &&
                                 (v.dtype == onnx::TensorProto::INT32 || v.dtype == onnx::TensorProto::INT64));
            if (v.dtype != onnx::TensorProto::FLOAT && v.dtype != 0 && out == n.output(0) &&
                !(ids_op && mtia_dtype_of(v.dtype)))
                unsupported(node_label(n) + ": output '" + out + "' has element type " + dtype_name(v.dtype) +
                            " and is not constant; the device computes float32 only");
        }
        G.nodes.push_back(n);
    }
    for (const auto &o : g.output()) G.outputs.push_back(o.name());
    return G;
}

}  // namespace mtia::compiler
