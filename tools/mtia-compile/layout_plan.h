// SPDX-License-Identifier: MIT
// Channels-last planning (MTIA_OP_F_*_NHWC in mtia_spec.h; docs/mtia-compile.md,
// "Channels-last"). oneDNN's convolutions run on channels-last activations,
// so a plain NCHW tensor between two convolutions costs a reorder on each
// side of it. This pass stores such tensors channels-last instead.
//
// Tensors that must share a layout (the 4-D operands of an elementwise op:
// ACT, a float CAST, an arithmetic BINARY) form a group. A group goes
// channels-last when it touches a float 2-D convolution and every op that
// reads or writes one of its tensors can take it so: a float 2-D CONV or
// POOL as its X or out (through the op's flags), or an elementwise op of the
// group (it sees every operand in stored order, broadcasting unchanged).
// Its tensors must be activations that are neither views nor viewed; model
// inputs, outputs, weights and other views may join only when their bytes
// read the same either way (C == 1 or H * W == 1), through a view with the
// dims reordered. Everything else stays NCHW, and the CONV/POOL on a
// boundary converts (reads NCHW and writes NHWC, or the reverse), so no op
// is added.
#pragma once

#include "dev_graph.h"

namespace mtia::compiler {

// Plans and rewrites @d (before placement); returns how many tensors it
// stored channels-last.
int plan_channels_last(DevGraph &d);

}  // namespace mtia::compiler
