// SPDX-License-Identifier: MIT
// Constant folding interleaved with ONNX shape inference, to a fixed point:
// inference gives Shape nodes static inputs, folding gives Reshape & co.
// constant shape inputs, which lets inference resolve the next layer.
#pragma once

#include <map>
#include <string>

#include <onnx/onnx_pb.h>

#include "const_tensor.h"

namespace mtia::compiler {

struct FoldResult {
    std::map<std::string, ConstPtr> constants;  // every constant value by name
    int folded_nodes = 0;                       // nodes replaced by constants
};

// Runs ONNX shape inference (strict) on m; throws kBadInput with ONNX's
// message (which names the node) if the model is inconsistent.
void infer_shapes(onnx::ModelProto &m, int opset);

// Folds every node whose value is computable at compile time (Constant,
// Shape/Size of a static shape, foldable ops on constant inputs) into an
// initializer, repeating inference until nothing more folds. On return m's
// value_info holds the inferred shapes of the remaining graph.
FoldResult fold_constants(onnx::ModelProto &m, int opset, const std::string &base_dir);

}  // namespace mtia::compiler
