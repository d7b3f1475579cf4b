// SPDX-License-Identifier: MIT
#include "quant_linear.h"

#include <cmath>

#include "dev_graph.h"
#include "errors.h"
#include "mtia/mtia_quant.h"
#include "node_util.h"

namespace mtia::compiler {

using onnx::TensorProto;

namespace {

bool is_8bit(int32_t dt) { return dt == TensorProto::INT8 || dt == TensorProto::UINT8; }

// Where element k of a tensor of @shape finds its parameter: 0 per tensor,
// else its index along @axis.
struct ParamIndex {
    int64_t inner = 1, count = 1;  // product of dims after axis; the axis dim
    bool per_axis = false;
    int64_t of(int64_t k) const { return per_axis ? (k / inner) % count : 0; }
};

ParamIndex param_index(const onnx::NodeProto &n, int opset, const Shape &shape, const ConstTensor &s,
                       const ConstTensor *zp)
{
    const std::string label = node_label(n);
    ParamIndex p;
    if (zp && zp->shape != s.shape) bad_input(label + ": scale and zero point differ in shape");
    if (s.shape.empty() || (s.shape.size() == 1 && s.shape[0] == 1)) return p;
    if (s.shape.size() != 1 || opset < 13)
        bad_input(label + ": scale must be a scalar" + std::string(opset >= 13 ? " or 1-D (per axis)" : ""));
    int64_t axis = attr_i(n, "axis", 1);
    const int64_t r = static_cast<int64_t>(shape.size());
    if (axis < -r || axis >= r) bad_input(label + ": axis " + std::to_string(axis) + " out of range");
    if (axis < 0) axis += r;
    if (s.shape[0] != shape[axis]) bad_input(label + ": per-axis scale length differs from the axis' dim");
    p.per_axis = true;
    p.count = shape[axis];
    for (int64_t d = axis + 1; d < r; ++d) p.inner *= shape[d];
    return p;
}

float scale_at(const std::string &label, const ConstTensor &s, int64_t k)
{
    const float v = static_cast<float>(s.at(k));
    if (!std::isfinite(v) || v <= 0.0f) bad_input(label + ": scale " + std::to_string(v) + " is not finite and > 0");
    return v;
}

}  // namespace

QuantParams per_tensor_params(const onnx::NodeProto &n, const ConstTensor &s, const ConstTensor *zp)
{
    const std::string label = node_label(n);
    if (s.size() != 1 || (zp && zp->size() != 1))
        unsupported(label + ": per-axis quantization of an activation (only weights may be quantized per axis)");
    QuantParams q;
    q.onnx_dtype = zp ? zp->dtype : TensorProto::UINT8;
    if (!is_8bit(q.onnx_dtype))
        unsupported(label + ": " + dtype_name(q.onnx_dtype) + " quantization (the device has int8 and uint8)");
    q.scale = scale_at(label, s, 0);
    q.zero_point = zp ? static_cast<int32_t>(zp->int_at(0)) : 0;
    return q;
}

ConstTensor dequantize_linear(const onnx::NodeProto &n, int opset, const ConstTensor &x, const ConstTensor &s,
                              const ConstTensor *zp)
{
    const std::string label = node_label(n);
    if (x.is_float()) bad_input(label + ": input is " + dtype_name(x.dtype) + ", not an integer type");
    const ParamIndex p = param_index(n, opset, x.shape, s, zp);
    ConstTensor out;
    out.dtype = TensorProto::FLOAT;
    out.shape = x.shape;
    out.f.resize(x.i.size());
    for (size_t k = 0; k < x.i.size(); ++k) {
        const int64_t j = p.of(static_cast<int64_t>(k));
        const int64_t z = zp ? zp->int_at(j) : 0;
        const float sc = scale_at(label, s, j);
        // 8-bit: the device's rule. int32 (biases, scale x_scale * w_scale):
        // x - z may leave int32, so in double.
        out.f[k] = is_8bit(x.dtype) ? mtia_dequantize(static_cast<int32_t>(x.i[k]), sc, static_cast<int32_t>(z))
                                    : static_cast<float>(static_cast<double>(x.i[k] - z) * sc);
    }
    return out;
}

ConstTensor quantize_linear(const onnx::NodeProto &n, int opset, const ConstTensor &x, const ConstTensor &s,
                            const ConstTensor *zp)
{
    const std::string label = node_label(n);
    const int32_t dt = zp ? zp->dtype : TensorProto::UINT8;
    if (!is_8bit(dt)) unsupported(label + ": " + dtype_name(dt) + " quantization (the device has int8 and uint8)");
    const ParamIndex p = param_index(n, opset, x.shape, s, zp);
    ConstTensor out;
    out.dtype = dt;
    out.shape = x.shape;
    out.i.resize(static_cast<size_t>(x.size()));
    for (int64_t k = 0; k < x.size(); ++k) {
        const int64_t j = p.of(k);
        const int32_t z = zp ? static_cast<int32_t>(zp->int_at(j)) : 0;
        out.i[k] = mtia_quantize(static_cast<float>(x.at(k)), scale_at(label, s, j), z,
                                 mtia_quant_min(mtia_dtype_of(dt)), mtia_quant_max(mtia_dtype_of(dt)));
    }
    return out;
}

}  // namespace mtia::compiler
