// SPDX-License-Identifier: MIT
// Device-level fusion of a standalone activation (ACT op) into the Conv,
// Gemm or Binary op that produces its input, when that op's output is read
// by nothing else. The ACT's output becomes a view of the producer's.
#pragma once

#include "dev_graph.h"

namespace mtia::compiler {

int fuse_activations(DevGraph &d);  // returns the number of fused ACT ops

// Concat in place: when a COPY_INTO's source is written by one op, read by
// no other COPY_INTO, and its destination region is one contiguous
// 64-byte aligned block (all dims before the axis are 1, e.g. channels at
// batch 1), the producer writes straight into the concatenation and the
// copy is dropped. Returns the number of copies removed.
int concat_in_place(DevGraph &d);

// Residual adds into the convolution feeding them (MTIA_OP_F_ACCUM): for
// y = ADD(a, r) (F32, no broadcasting, any fused activation) where a is
// written only by a float CONV without activation and read only by the
// ADD, and r's storage is read by nothing from that CONV on (but the ADD)
// nor written after it, the CONV adds into r's storage in place and y
// names it; the ADD goes. Run after channels-last planning (which takes
// no views), before placement. Returns the number of adds fused.
int fuse_residual_adds(DevGraph &d);

}  // namespace mtia::compiler
