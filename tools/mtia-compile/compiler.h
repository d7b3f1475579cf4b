// SPDX-License-Identifier: MIT
// mtia-compile's library entry points: ONNX model in, .mtia bytes and a
// summary out. Stages: load -> fix input shapes -> fold constants and infer
// shapes -> graph passes -> lower to device ops -> fuse activations ->
// check device rules -> plan memory -> serialize.
#pragma once

#include <map>
#include <optional>
#include <string>

#include <onnx/onnx_pb.h>

#include "const_tensor.h"
#include "dev_graph.h"
#include "errors.h"
#include "memory_plan.h"
#include "ptq.h"
#include "summary.h"

namespace mtia::compiler {

struct CompileOptions {
    std::map<std::string, Shape> input_shapes;                 // --input-shape name=dims
    std::map<std::string, onnx::TensorProto> constant_inputs;  // --constant-input name=file
    std::vector<uint32_t> batch_buckets;                       // --batch-buckets (buckets.h); empty: one program
    uint8_t dtype = 0;                   // --dtype (precision.h): MTIA_DTYPE_F16 or _BF16; 0: float32 throughout
    std::optional<PtqOptions> quantize;  // --quantize int8 --calibrate (ptq.h)
    bool channels_last = true;           // --layout nchw turns it off (layout_plan.h)
    bool blocked = true;                 // nChw16c where it may be; --layout nhwc turns it off
    bool fuse_residual_adds = true;      // --no-fuse-residual turns it off (fuse.h)
};

struct CompileResult {
    std::string bytes;  // the .mtia file
    Summary summary;
    DevGraph program;    // placed program (for tests and reports); the largest bucket's
    ArenaLayout layout;  // its memory plan and weights image
};

std::string compiler_version();  // "0.1.0"

// One program at the graph's own (static) shapes, not serialized: the
// stages up to the memory plan. compile_model() serializes one or, with
// batch buckets, several (buckets.cc).
CompileResult compile_program(onnx::ModelProto model, const std::string &base_dir, const CompileOptions &opts);

// base_dir resolves external tensor data. Throws CompileError.
CompileResult compile_model(onnx::ModelProto model, const std::string &base_dir, const CompileOptions &opts);
CompileResult compile_file(const std::string &onnx_path, const CompileOptions &opts);

}  // namespace mtia::compiler
