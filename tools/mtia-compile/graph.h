// SPDX-License-Identifier: MIT
// The compiler's ONNX-level graph after constant folding: nodes in
// topological order (kept as onnx::NodeProto so attribute helpers apply),
// every value with its dtype, static shape and constant data if any.
// Graph passes (passes.h) rewrite it; lower.h turns it into device ops.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "const_fold.h"
#include "const_tensor.h"

namespace mtia::compiler {

struct Value {
    std::string name;
    int32_t dtype = 0;  // onnx::TensorProto_DataType, 0 if unknown
    Shape shape;
    bool known = false;  // shape is static
    ConstPtr cst;        // constant data, or null
};

class Graph {
public:
    std::string name;
    int opset = 0;
    std::vector<onnx::NodeProto> nodes;
    std::map<std::string, Value> values;
    std::vector<std::string> inputs, outputs;    // ONNX order
    std::map<std::string, ConstSource> sources;  // of folded constants (FoldResult::sources)

    bool has(const std::string &v) const { return values.count(v) > 0; }
    const Value &value(const std::string &v) const;
    bool is_const(const std::string &v) const { return has(v) && values.at(v).cst != nullptr; }
    const ConstTensor &cst(const std::string &v) const;
    // Static shape of v, used by node n; throws kUnsupported naming n if unknown.
    const Shape &shape(const std::string &v, const onnx::NodeProto &n) const;
    bool is_output(const std::string &v) const;
    // Number of reads of v: node inputs plus graph outputs.
    int use_count(const std::string &v) const;

    std::string unique_name(const std::string &hint);
    std::string add_const(const std::string &hint, ConstTensor c);
    std::string add_value(const std::string &hint, const Shape &shape);  // float activation
    // Makes every read of `from` read `to` (graph outputs excluded).
    void replace_uses(const std::string &from, const std::string &to);

private:
    std::map<std::string, int> name_counter_;
};

// Builds the Graph of a folded model (value_info holds inferred shapes).
// Checks dtypes: graph inputs and computed values must be float32.
Graph import_graph(const onnx::ModelProto &m, const FoldResult &folded, int opset);

}  // namespace mtia::compiler
