// SPDX-License-Identifier: MIT
// Serializes a placed program to the .mtia FlatBuffer (mtia_model.fbs).
#pragma once

#include <string>

#include "dev_graph.h"
#include "memory_plan.h"

namespace mtia::compiler {

// The .mtia bytes. Only tensors an op or the graph's I/O uses are written
// (view roots are not: a view carries its own absolute offset).
std::string serialize_model(const DevGraph &d, const ArenaLayout &layout, uint64_t flops, const std::string &producer);

// Writes bytes to path via a temporary file and rename, so a failed write
// never leaves a truncated model; throws kOutput.
void write_file(const std::string &path, const std::string &bytes);

}  // namespace mtia::compiler
