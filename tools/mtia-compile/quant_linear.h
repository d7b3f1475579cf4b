// SPDX-License-Identifier: MIT
// ONNX QuantizeLinear / DequantizeLinear (opset 10 per-tensor, 13 per-axis)
// as the compiler needs them: folding them on constants (weights and biases
// of QDQ models), and the per-tensor parameters of an activation's pair,
// which become a quantized tensor's scale and zero point on the device.
// Rounding and saturation are the device's (include/mtia/mtia_quant.h).
#pragma once

#include <cstdint>
#include <string>

#include <onnx/onnx_pb.h>

#include "const_tensor.h"

namespace mtia::compiler {

// A quantized tensor's parameters: its ONNX element type (INT8 or UINT8),
// scale and zero point.
struct QuantParams {
    int32_t onnx_dtype = onnx::TensorProto::UINT8;
    float scale = 0.0f;
    int32_t zero_point = 0;
};

// The per-tensor parameters of node @n (QuantizeLinear or DequantizeLinear)
// from its constant scale @s and optional zero point @zp; throws
// kUnsupported naming @n for per-axis parameters or a non-8-bit type, and
// kBadInput for a scale that is not finite and > 0.
QuantParams per_tensor_params(const onnx::NodeProto &n, const ConstTensor &s, const ConstTensor *zp);

// DequantizeLinear / QuantizeLinear of constant @x with scale @s and zero
// point @zp (null: 0, and QuantizeLinear then gives UINT8), per tensor or
// along attribute axis of @n.
ConstTensor dequantize_linear(const onnx::NodeProto &n, int opset, const ConstTensor &x, const ConstTensor &s,
                              const ConstTensor *zp);
ConstTensor quantize_linear(const onnx::NodeProto &n, int opset, const ConstTensor &x, const ConstTensor &s,
                            const ConstTensor *zp);

}  // namespace mtia::compiler
