// SPDX-License-Identifier: MIT
// Small helpers over onnx::NodeProto: attributes with defaults, the label
// every error message uses, and NumPy broadcasting of shapes.
#pragma once

#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "const_tensor.h"

namespace mtia::compiler {

// "node 'Conv_12' (op Conv)"; unnamed nodes are named by their first output.
std::string node_label(const onnx::NodeProto &n);

const onnx::AttributeProto *find_attr(const onnx::NodeProto &n, const std::string &name);
int64_t attr_i(const onnx::NodeProto &n, const std::string &name, int64_t dflt);
float attr_f(const onnx::NodeProto &n, const std::string &name, float dflt);
std::string attr_s(const onnx::NodeProto &n, const std::string &name, const std::string &dflt);
std::vector<int64_t> attr_ints(const onnx::NodeProto &n, const std::string &name,
                               const std::vector<int64_t> &dflt = {});

// Input k's name, "" when absent (optional inputs may be "" or missing).
std::string input_name(const onnx::NodeProto &n, int k);

// NumPy broadcast of a and b; throws kBadInput naming `where` if incompatible.
Shape broadcast_shapes(const Shape &a, const Shape &b, const std::string &where);
// Row-major strides of shape, with stride 0 for dims broadcast into out
// (shape right-aligned to out.size()).
std::vector<int64_t> broadcast_strides(const Shape &shape, const Shape &out);

// Dropout (opset >= 12) is the identity unless training_mode is true and
// ratio is not 0; then it is random, and a compiled model would silently
// answer wrong: kUnsupported. ratio/training_mode are the constants of
// inputs 1 and 2 (nullptr when absent); training_known is false when
// training_mode is a runtime value (also kUnsupported).
void check_dropout_is_identity(const onnx::NodeProto &n, const ConstTensor *ratio, const ConstTensor *training_mode,
                               bool training_known);

// Normalizes a possibly negative axis for rank; throws naming `where`.
int64_t norm_axis(int64_t axis, int64_t rank, const std::string &where);

}  // namespace mtia::compiler
