// SPDX-License-Identifier: MIT
// Device-level fusion of a standalone activation (ACT op) into the Conv,
// Gemm or Binary op that produces its input, when that op's output is read
// by nothing else. The ACT's output becomes a view of the producer's.
#pragma once

#include "dev_graph.h"

namespace mtia::compiler {

int fuse_activations(DevGraph& d);  // returns the number of fused ACT ops

}  // namespace mtia::compiler
