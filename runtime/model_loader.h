// SPDX-License-Identifier: MIT
// Compiled-model (.mtia) reader: verifies a whole file and lowers its ops to
// the device's struct mtia_op program. Host only (no device); the FlatBuffers
// types stay inside model_loader.cc. Not installed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"
#include "mtia/mtia_spec.h"

namespace mtia::detail {

// Limits the reader enforces beyond the schema's own (so that a run is
// always one job within the UAPI's per-job command and BO limits).
constexpr size_t kModelMaxIo = 100;  // inputs, and outputs
constexpr size_t kModelMaxTensors = 1u << 20;

// A model input or output as the runtime moves it.
struct ModelIo {
    TensorInfo info;      // info.batch_axis: 0 if dim 0 is the batch (bucketed models), else -1
    uint64_t offset = 0;  // in the arena
};

// One program: the file's top level, or one batch bucket's.
struct ParsedProgram {
    uint32_t batch = 0;  // the bucket's batch; 0 for the top level
    uint64_t arena_size = 0;
    uint64_t flops = 0;
    std::vector<ModelIo> inputs;
    std::vector<ModelIo> outputs;
    std::vector<mtia_op> program;       // one per Op, in execution order
    std::vector<std::string> op_names;  // "op i (Conv 'name')", for messages
    std::vector<std::string> op_nodes;  // the ONNX node names ("name")
    std::vector<std::string> op_kinds;  // "Conv", "Gemm", ...
    // The float and quantized dtypes among its tensors (weights,
    // activations, inputs, outputs), ascending: what
    // Model::compute_dtypes() reports.
    std::vector<DType> compute_dtypes;
};

// The top level's program (the largest bucket's in a bucketed file) and
// the batch buckets (Model.programs, ascending; empty if the file has none).
// Every program's weight tensors sit at the same offsets in one image.
struct ParsedModel : ParsedProgram {
    uint32_t format_version = 0;
    std::string name;
    std::string producer;
    std::vector<ParsedProgram> buckets;
    // The weights image: arena bytes [0, weights_size), pointing into the
    // buffer given to parse_model (valid while that buffer is).
    const uint8_t *weights = nullptr;
    size_t weights_size = 0;
};

// Verifies data[0, size) completely and lowers it. Throws
// Error(MTIA_ERROR_INVALID_MODEL, "<what is wrong>") for anything invalid;
// never reads outside the buffer. data must be 8-byte aligned.
ParsedModel parse_model(const void *data, size_t size);

}  // namespace mtia::detail
