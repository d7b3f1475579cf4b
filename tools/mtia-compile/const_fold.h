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

// Where a folded float constant came from, when embedding tables may keep
// that form on the device (lower_embed.cc): a DequantizeLinear of an
// int8/uint8 constant (its scale and zero point, per tensor or along axis),
// or a Cast to float of a float16/bfloat16 constant.
struct ConstSource {
    std::string op;              // "DequantizeLinear" or "Cast"
    ConstPtr x;                  // the int8/uint8 or 16-bit constant
    ConstPtr scale, zero_point;  // DequantizeLinear (zero point may be null)
    int64_t axis = -1;           // DequantizeLinear: -1 per tensor, else the (non-negative) axis
};

struct FoldResult {
    std::map<std::string, ConstPtr> constants;   // every constant value by name
    std::map<std::string, ConstSource> sources;  // of some folded constants, by name
    int folded_nodes = 0;                        // nodes replaced by constants
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
