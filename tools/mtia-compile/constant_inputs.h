// SPDX-License-Identifier: MIT
// Graph inputs bound to values at compile time (--constant-input).
#pragma once

#include <map>
#include <string>

#include <onnx/onnx_pb.h>

#include "const_tensor.h"

namespace mtia::compiler {

// Reads a value for --constant-input: a .npy file or, for names ending in
// .pb, an ONNX TensorProto. kUsage errors name the file.
onnx::TensorProto read_constant_input(const std::string &path);

// Turns each named graph input into an initializer holding its value; the
// value's element type and shape must match the input's (kUsage otherwise,
// also for a name the model has no input of).
void bind_constant_inputs(onnx::ModelProto &m, const std::map<std::string, onnx::TensorProto> &values);

}  // namespace mtia::compiler
