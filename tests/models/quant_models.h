// SPDX-License-Identifier: MIT
// A hand-built .mtia model with quantized (I8/U8, format 1.2) tensors: what
// the runtime's quantized paths (the loader's checks, TensorInfo's scale
// and zero point, raw int8/uint8 inputs and outputs) are tested with on the
// host, independent of mtia-compile's quantizer.
//
// quant_model():
//   input  x: U8 [2, 5], scale 0.5, zero point 128
//   weight W: I8 [5, 3], scale 0, zero point 0 (per-channel)
//   weight C: F32 [2, 3]: row 0 W's scales, row 1 the bias
//   output y: F32 [2, 3] = quantized Gemm(x, W, C)
//   output z: I8 [2, 5], scale 0.25, zero point -10 = Relu(x)
//   arena: [0,15) W, [64,88) C | [128,138) x, [192,216) y, [256,266) z
#pragma once

#include <cstring>

#include "../unit/model_test_util.h"
#include "mtia/mtia.hpp"

namespace model_test {

constexpr float kQuantXScale = 0.5f, kQuantZScale = 0.25f;
constexpr int32_t kQuantXZero = 128, kQuantZZero = -10;

// A quantized tensor's TensorInfo, for the conversion tests.
inline mtia::TensorInfo quant_info(mtia::DType t, float scale, int32_t zero_point, const std::string &name = "q")
{
    mtia::TensorInfo i;
    i.name = name;
    i.dtype = t;
    i.scale = scale;
    i.zero_point = zero_point;
    return i;
}

inline ModelSpec quant_model()
{
    ModelSpec m;
    m.name = "quant";
    m.weights.assign(128, 0);
    const int8_t w[15] = {1, -2, 3, 4, -5, 6, 7, 8, -9, 10, 11, 12, -13, 14, 15};
    std::memcpy(m.weights.data(), w, sizeof(w));
    const float c[6] = {0.5f, 0.25f, 0.125f, 1.0f, -1.0f, 0.0f};
    std::memcpy(m.weights.data() + 64, c, sizeof(c));
    m.tensors = {
        {"W", fb::TensorKind::Weight, {5, 3}, 0, 15, MTIA_DTYPE_I8},
        {"C", fb::TensorKind::Weight, {2, 3}, 64, 24, MTIA_DTYPE_F32},
        {"x", fb::TensorKind::Input, {2, 5}, 128, 10, MTIA_DTYPE_U8, false, kQuantXScale, kQuantXZero},
        {"y", fb::TensorKind::Output, {2, 3}, 192, 24, MTIA_DTYPE_F32},
        {"z", fb::TensorKind::Output, {2, 5}, 256, 10, MTIA_DTYPE_I8, false, kQuantZScale, kQuantZZero},
    };
    OpSpec gemm;
    gemm.kind = MTIA_OP_GEMM;
    gemm.name = "qgemm";
    gemm.inputs = {2, 0, 1};
    gemm.output = 3;
    gemm.attrs = {0, 0, 0x3f800000, 0};  // TRANS_A 0, TRANS_B 0, ALPHA 1.0f, BETA 0
    OpSpec relu;
    relu.kind = MTIA_OP_ACT;
    relu.name = "relu";
    relu.inputs = {2};
    relu.output = 4;
    relu.act = MTIA_ACT_RELU;
    m.ops = {gemm, relu};
    m.inputs = {2};
    m.outputs = {3, 4};
    m.arena = 320;
    return m;
}

}  // namespace model_test
