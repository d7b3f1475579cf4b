// SPDX-License-Identifier: MIT
// Compile-time evaluation of ONNX nodes whose inputs are all constant: the
// shape arithmetic exporters emit (Shape -> Gather -> Unsqueeze -> Concat ->
// Reshape), Constant nodes, casts and small elementwise math on weights.
#pragma once

#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "const_tensor.h"

namespace mtia::compiler {

// Ops eval_node() can evaluate (Shape and Size are folded by the caller,
// which knows inferred shapes).
bool is_foldable_op(const std::string &op_type);

// Evaluates n; in[k] is input k or nullptr when absent. Returns one tensor
// per output of n that the op defines. Throws CompileError naming the node
// for invalid inputs (bad axis, shape mismatch, division by zero, ...).
std::vector<ConstTensor> eval_node(const onnx::NodeProto &n, int opset, const std::vector<const ConstTensor *> &in);

// Evaluates a Constant node's value attribute.
ConstTensor constant_value(const onnx::NodeProto &n, const std::string &base_dir);

}  // namespace mtia::compiler
