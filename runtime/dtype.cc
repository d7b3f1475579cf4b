// SPDX-License-Identifier: MIT
// Model tensor element types (mtia::DType): their names and sizes, and the
// quantize/dequantize of I8/U8 tensors' data for callers that hold real
// values (mtia-run --convert, the Python bindings). The element rule is
// include/mtia/mtia_quant.h's, the device's and mtia-compile's, so a host
// quantizes exactly as they do whatever its ISA; these are its array loops
// with the tensor's parameters checked once.
#include <cstdio>
#include <cstring>

#include "mtia/mtia.hpp"
#include "mtia/mtia_quant.h"

namespace mtia {

const char *dtype_name(DType t)
{
    switch (t) {
        case DType::F32:
            return "f32";
        case DType::F16:
            return "f16";
        case DType::BF16:
            return "bf16";
        case DType::I32:
            return "i32";
        case DType::I64:
            return "i64";
        case DType::Bool:
            return "bool";
        case DType::I8:
            return "i8";
        case DType::U8:
            return "u8";
    }
    return "?";
}

size_t dtype_size(DType t) { return mtia_dtype_size(static_cast<uint32_t>(t)); }

bool is_quantized(DType t) { return mtia_dtype_is_quant(static_cast<uint32_t>(t)); }

namespace {

// t's scale, zero point and range, or Error(INVALID_ARGUMENT) if it is not a
// quantized tensor with parameters (a per-channel weight has none).
struct QuantParams {
    float scale;
    int32_t zero_point, lo, hi;
};

QuantParams params_of(const TensorInfo &t, const char *what)
{
    const auto dt = static_cast<uint32_t>(t.dtype);
    const std::string label = std::string(what) + " '" + t.name + "'";
    if (!is_quantized(t.dtype)) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, label + ": a " + dtype_name(t.dtype) + " tensor is not quantized");
    }
    const int32_t lo = mtia_quant_min(dt), hi = mtia_quant_max(dt);
    if (!(t.scale > 0) || t.scale == INFINITY || t.zero_point < lo || t.zero_point > hi) {
        char sc[32];
        std::snprintf(sc, sizeof(sc), "%.9g", static_cast<double>(t.scale));
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, label + ": scale " + sc + ", zero point " +
                                                     std::to_string(t.zero_point) + " (a " + dtype_name(t.dtype) +
                                                     " tensor needs a finite scale > 0 and a zero point in [" +
                                                     std::to_string(lo) + ", " + std::to_string(hi) + "])");
    }
    return {t.scale, t.zero_point, lo, hi};
}

}  // namespace

void quantize(const TensorInfo &t, const float *x, size_t n, void *q)
{
    const QuantParams p = params_of(t, "quantize");
    if (t.dtype == DType::U8) {
        auto *o = static_cast<uint8_t *>(q);
        for (size_t i = 0; i < n; i++)
            o[i] = static_cast<uint8_t>(mtia_quantize(x[i], p.scale, p.zero_point, p.lo, p.hi));
    } else {
        auto *o = static_cast<int8_t *>(q);
        for (size_t i = 0; i < n; i++)
            o[i] = static_cast<int8_t>(mtia_quantize(x[i], p.scale, p.zero_point, p.lo, p.hi));
    }
}

void dequantize(const TensorInfo &t, const void *q, size_t n, float *x)
{
    const QuantParams p = params_of(t, "dequantize");
    if (t.dtype == DType::U8) {
        const auto *in = static_cast<const uint8_t *>(q);
        for (size_t i = 0; i < n; i++) x[i] = mtia_dequantize(in[i], p.scale, p.zero_point);
    } else {
        const auto *in = static_cast<const int8_t *>(q);
        for (size_t i = 0; i < n; i++) x[i] = mtia_dequantize(in[i], p.scale, p.zero_point);
    }
}

}  // namespace mtia
