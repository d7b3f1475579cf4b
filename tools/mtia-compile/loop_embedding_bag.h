// SPDX-License-Identifier: MIT
// nn.EmbeddingBag as PyTorch's ONNX exporter writes it: a Loop over the bags
// whose body slices the ids between consecutive offsets, gathers their rows
// of the table, optionally scales them by per-sample weights and reduces
// them over the bag. Such a Loop is matched structurally and replaced by one
// EmbeddingBag node of the compiler's own domain (lowered to EMBEDDING_BAG,
// lower_embed.cc); any other Loop is refused naming the node. It runs on the
// ModelProto before folding and shape inference, which do not enter
// subgraphs.
#pragma once

#include <string>
#include <unordered_map>

#include <onnx/onnx_pb.h>

namespace mtia::compiler {

// Domain of the nodes the compiler makes; refused in input models.
inline constexpr const char *kMtiaDomain = "ai.mtia";

// The EmbeddingBag node: inputs (table (R, D), ids (N), offsets[, weights
// (N)]), attributes mode (MTIA_EMBEDDING_BAG_*) and include_last (offsets
// end with N: K + 1 entries for K bags, else K); output (K, D) float.
// Returns the number of Loops rewritten; throws kUnsupported for any other
// Loop and for a node of kMtiaDomain in the input.
int rewrite_embedding_bag_loops(onnx::ModelProto &m, const std::string &base_dir);

// Output type of an EmbeddingBag node from its inputs' types (for shape
// inference); throws kBadInput naming the node on wrong ranks or types.
onnx::TypeProto embedding_bag_type(const onnx::NodeProto &n,
                                   const std::unordered_map<std::string, onnx::TypeProto *> &types);

}  // namespace mtia::compiler
