// SPDX-License-Identifier: MIT
// Channels-last and nChw16c planning (MTIA_OP_F_*_NHWC and _BLK16 in
// mtia_spec.h; docs/mtia-compile.md, "Channels-last", "Blocked layouts").
// oneDNN's convolutions run on channels-last or blocked activations, so a
// plain NCHW tensor between two convolutions costs a reorder on each side
// of it. This pass stores such tensors in one of those layouts instead.
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
//
// Such a group is stored nChw16c instead -- (N, C/16, H, W, 16), oneDNN's
// layout for its Winograd and AVX-512 blocked kernels, which then need no
// reorder between convolutions -- when every tensor of it has whole blocks
// of 16 channels, its convolutions are all of groups 1, and no CONV/POOL
// would mix it with a channels-last group (plan_blk16 in the .cc).
#pragma once

#include "dev_graph.h"

namespace mtia::compiler {

// Tensors stored channels-last, and nChw16c.
struct LayoutCounts {
    int nhwc = 0, blk16 = 0;
};

// Plans and rewrites @d (before placement); nChw16c only if @blocked
// (--layout nhwc turns it off).
LayoutCounts plan_channels_last(DevGraph &d, bool blocked);

}  // namespace mtia::compiler
