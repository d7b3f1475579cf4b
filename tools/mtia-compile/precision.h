// SPDX-License-Identifier: MIT
// --dtype fp16|bf16 (docs/mtia-compile.md, "Reduced precision"): runs the
// program's ops in 16-bit floats where that is safe and keeps the
// numerically sensitive ones (softmax, layer norm, reductions, embedding
// bags) and the model's inputs and outputs in float32, with CAST ops where
// the two meet; embedding tables are stored in 16 bits and summed in float32.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "dev_graph.h"

namespace mtia::compiler {

struct PrecisionReport {
    std::map<std::string, std::map<std::string, int>> ops;  // "bf16"/"f32" -> op kind -> count
    int casts = 0;                                          // CAST ops added
};

// MTIA_DTYPE_F16 or MTIA_DTYPE_BF16 for "fp16"/"f16"/"float16" or
// "bf16"/"bfloat16", 0 for "fp32"/"f32"/"float32"; throws CompileError
// (kUsage) naming the choices otherwise.
uint8_t parse_dtype_option(const std::string &s);

// Rewrites @d (lowered, fused, before check_program) so that every op whose
// output may be 16-bit computes in @dtype (MTIA_DTYPE_F16 or _BF16): their
// activations and the weights only they read become @dtype (weights are
// rounded to nearest even when the image is written), and CAST ops convert
// where a tensor meets an op of the other precision.
PrecisionReport lower_precision(DevGraph &d, uint8_t dtype);

}  // namespace mtia::compiler
