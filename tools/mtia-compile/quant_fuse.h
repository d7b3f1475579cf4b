// SPDX-License-Identifier: MIT
// Quantized models on the device's int8 path (docs/mtia-compile.md,
// "Quantized models"). Lowering leaves a CAST to float32 after every
// quantized activation and a CAST to int8/uint8 before it (lower_quant.cc).
// This pass lets the ops around them read and write the quantized tensors
// themselves: the device dequantizes what an op reads and quantizes what it
// writes, once, which is what the CASTs did, so the results do not change.
// CASTs nothing reads any more go. A CONV or GEMM that then reads a
// quantized tensor with constant float weights becomes the device's
// per-channel int8 op: weights quantized symmetric per output channel to
// [-127, 127] (scale max|w| / 127; the QDQ weights of onnxruntime's and
// PyTorch's quantizers come back exactly), their scales and the bias in a
// (2, M) tensor, int32 accumulation on the device.
#pragma once

#include "dev_graph.h"

namespace mtia::compiler {

struct QuantReport {
    int casts_removed = 0;
    int int8_ops = 0;  // per-channel int8 CONV/GEMM
};

// True if @op (of a float program) is a CONV or GEMM that fuse_quantized
// makes the per-channel int8 op once its in[0] is quantized: constant float
// weights and bias, GEMM's B 2-D, no TRANS_A, ALPHA 1, K small enough.
bool int8_capable(const DevGraph &d, const DevOp &op);

// Runs on a lowered, fused program (after fuse_activations and
// concat_in_place, before check_program).
QuantReport fuse_quantized(DevGraph &d);

}  // namespace mtia::compiler
