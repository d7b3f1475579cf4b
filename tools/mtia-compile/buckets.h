// SPDX-License-Identifier: MIT
// Batch buckets (mtia-compile --batch-buckets 1,8,32): one .mtia holding a
// program per batch size that all share one weights image, so a runtime
// pads a request up to the smallest bucket that fits instead of anyone
// recompiling per batch (docs/mtia-compile.md "Batch buckets").
//
// The batched inputs are those whose ONNX dim 0 is symbolic (all inputs
// if none is: a fixed-shape export). Each bucket compiles the graph with
// their dim 0 set to the bucket; the batched outputs are found by shape
// inference at two batch sizes (the first two buckets, or a probe at
// bucket + 1 for a single one): dim 0 must follow the batch, other dims
// must not. Every bucket must lower to the same weights image and weight
// offsets, else a constant depends on the batch and the file is refused.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "compiler.h"

namespace mtia::compiler {

// Parses "1,8,32" (kUsage on error) and checks it (check_buckets).
std::vector<uint32_t> parse_buckets(const std::string &text);
// A bucket list must be non-empty, ascending without duplicates, each >= 1,
// at most MTIA_MODEL_MAX_BUCKETS of them; kUsage otherwise.
void check_buckets(const std::vector<uint32_t> &buckets);

// compile_model() with opts.batch_buckets set.
CompileResult compile_buckets(onnx::ModelProto model, const std::string &base_dir, const CompileOptions &opts);

}  // namespace mtia::compiler
