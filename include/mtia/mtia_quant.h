/* SPDX-License-Identifier: MIT */
/*
 * Quantized (affine) tensors, MTIA_DTYPE_I8 and MTIA_DTYPE_U8: element q
 * stands for the real value (q - zero_point) * scale. The conversions the
 * device, mtia-compile and libmtia all use, so that every host rounds the
 * same way whatever its ISA:
 *   dequantize: (float)(q - zero_point) * scale, one F32 multiply;
 *   quantize:   saturate(round_half_even(x / scale) + zero_point) to the
 *               dtype's range, one F32 division (ONNX QuantizeLinear);
 *               NaN gives the zero point.
 */
#ifndef MTIA_QUANT_H
#define MTIA_QUANT_H

#include <math.h>
#include <stdint.h>

#include "mtia_spec.h"

/* The largest reduction length K of a quantized CONV/GEMM: |q - zp| <= 255
 * times |w| <= 128, summed K times, stays inside int32. */
#define MTIA_QUANT_MAX_K          65536u

static inline int32_t mtia_quant_min(uint32_t dtype) { return dtype == MTIA_DTYPE_U8 ? 0 : -128; }
static inline int32_t mtia_quant_max(uint32_t dtype) { return dtype == MTIA_DTYPE_U8 ? 255 : 127; }

static inline float mtia_dequantize(int32_t q, float scale, int32_t zero_point)
{
    return (float)(q - zero_point) * scale;
}

/* x / scale rounded to nearest, ties to even, plus zero_point, saturated to
 * [lo, hi]. */
static inline int32_t mtia_quantize(float x, float scale, int32_t zero_point, int32_t lo, int32_t hi)
{
    const float v = x / scale;
    if (v != v) return zero_point;
    if (v <= (float)(lo - zero_point) - 1.0f) return lo; /* also -inf */
    if (v >= (float)(hi - zero_point) + 1.0f) return hi; /* also +inf */
    int32_t q = (int32_t)nearbyintf(v) + zero_point;    /* FE_TONEAREST: ties to even */
    return q < lo ? lo : q > hi ? hi : q;
}

#endif /* MTIA_QUANT_H */
