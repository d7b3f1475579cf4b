// SPDX-License-Identifier: MIT
// Hand-built .mtia models with 16-bit float inputs and outputs (mtia-compile
// takes only float32 graph inputs/outputs): what the runtime's F16/BF16
// input/output paths are tested with, on the host (model_loader_test) and
// in the VM (make_half_models writes them for test-precision.sh and
// model_vm_tests).
//
// half_model(h), h = MTIA_DTYPE_F16 or MTIA_DTYPE_BF16:
//   input  x: h   [2, 5]
//   output y: f32 [2, 5]  = Cast(x)     (exact widening)
//   output z: h   [2, 5]  = Relu(x)
#pragma once

#include "../unit/model_test_util.h"

namespace model_test {

constexpr uint32_t kHalfRows = 2, kHalfCols = 5;

inline ModelSpec half_model(uint8_t h)
{
    ModelSpec m;
    m.name = h == MTIA_DTYPE_F16 ? "half_f16" : "half_bf16";
    const int64_t n = kHalfRows * kHalfCols;
    m.tensors = {
        {"x", fb::TensorKind::Input, {kHalfRows, kHalfCols}, 0, n * 2, h},
        {"y", fb::TensorKind::Output, {kHalfRows, kHalfCols}, 64, n * 4, MTIA_DTYPE_F32},
        {"z", fb::TensorKind::Output, {kHalfRows, kHalfCols}, 128, n * 2, h},
    };
    OpSpec cast;
    cast.kind = MTIA_OP_CAST;
    cast.name = "cast";
    cast.inputs = {0};
    cast.output = 1;
    OpSpec relu;
    relu.kind = MTIA_OP_ACT;
    relu.name = "relu";
    relu.inputs = {0};
    relu.output = 2;
    relu.act = MTIA_ACT_RELU;
    m.ops = {cast, relu};
    m.inputs = {0};
    m.outputs = {1, 2};
    m.arena = 192;
    return m;
}

}  // namespace model_test
