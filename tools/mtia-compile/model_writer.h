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

// One batch bucket's placed program. batched_in/out[k]: graph input/output
// k carries the batch in dim 0 (Tensor.batch_axis 0).
struct BucketProgram {
    uint32_t batch = 0;
    const DevGraph *graph = nullptr;
    uint64_t arena_size = 0;
    uint64_t flops = 0;
};

// A bucketed .mtia: Model.programs in the given (ascending) order, the top
// level the last (largest) one, and the one weights image they all share.
std::string serialize_buckets(const std::vector<BucketProgram> &programs, const std::vector<uint8_t> &weights,
                              const std::vector<bool> &batched_in, const std::vector<bool> &batched_out,
                              const std::string &producer);

// Writes bytes to path via a temporary file and rename, so a failed write
// never leaves a truncated model (a path that exists and is not a regular
// file, e.g. /dev/null, is written in place); throws kOutput.
void write_file(const std::string &path, const std::string &bytes);

}  // namespace mtia::compiler
