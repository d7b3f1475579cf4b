// SPDX-License-Identifier: MIT
// Lowering of the (passed) ONNX-level graph to device ops: one or more
// DevOps per node, or none for nodes that only reinterpret memory
// (Reshape, Flatten, Squeeze, Unsqueeze, Identity, contiguous slices).
#pragma once

#include <map>
#include <set>
#include <string>

#include "dev_graph.h"
#include "graph.h"

namespace mtia::compiler {

// ONNX op types the compiler accepts: lowered, decomposed by a pass, or
// folded when their inputs are constant (Shape, Cast, ...).
bool is_supported_op(const std::string &op_type);
const std::set<std::string> &lowered_op_types();
// The ONNX ops compiled for the device on runtime data (lowered, or
// rewritten into lowered ones): `mtia-compile --list-ops`. Others are only
// folded when their inputs are constants.
std::set<std::string> claimed_op_types();

DevGraph lower_graph(const Graph &g);

// Embedding tables the lowering kept in the form the model ships them
// (lower_embed.cc): "int8 embedding tables" (8-bit rowwise) and "16-bit
// embedding tables", counted into @passes (the summary's pass counts).
void count_embedding_tables(const DevGraph &d, std::map<std::string, int> &passes);

}  // namespace mtia::compiler
