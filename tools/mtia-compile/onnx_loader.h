// SPDX-License-Identifier: MIT
// Reading an ONNX file into a ModelProto and the structural checks that let
// every later stage trust it: opset range, known domains, node order,
// graph inputs with static shapes (after --input-shape).
#pragma once

#include <map>
#include <set>
#include <string>

#include <onnx/onnx_pb.h>

#include "const_tensor.h"

namespace mtia::compiler {

constexpr int kMinOpset = 7;       // oldest default-domain opset accepted
constexpr int kMaxOpset = 17;      // newest opset whose semantics are implemented (Debian's onnx 1.12)
constexpr int kUpgradeOpset = 13;  // older models are upgraded to this one

// Parses bytes (what names them in errors). Throws kBadInput if they are
// not an ONNX model.
onnx::ModelProto parse_onnx(const std::string &bytes, const std::string &what);
onnx::ModelProto load_onnx_file(const std::string &path);

// Models older than kMinOpset (opsets 1..6: most of ONNX's PyTorch-converted
// conformance tests and older model-zoo models) are rewritten to
// kUpgradeOpset by ONNX's own version converter; kUnsupported if it cannot.
void upgrade_opset(onnx::ModelProto &m);

// Opset of the default domain; throws if missing or outside [kMinOpset, kMaxOpset].
int default_opset(const onnx::ModelProto &m);

// Checks the graph is a DAG in topological order, every node input is
// defined, names are unique, and nodes are in the default domain.
void check_structure(const onnx::ModelProto &m);

// ONNX element types a graph input may have (`mtia-compile --list-input-types`).
const std::set<int32_t> &claimed_input_types();

// Fixes graph input dims: each entry name -> full static shape. Unknown
// names are usage errors. Afterwards every graph input (that is not an
// initializer) must be fully static, else kUnsupported naming the input.
void apply_input_shapes(onnx::ModelProto &m, const std::map<std::string, Shape> &shapes);

// Parses "1x3x224x224" (kUsage on error).
Shape parse_shape(const std::string &text);

}  // namespace mtia::compiler
