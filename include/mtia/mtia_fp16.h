/* SPDX-License-Identifier: MIT */
/*
 * The device's 16-bit float formats (MTIA_DTYPE_F16, MTIA_DTYPE_BF16) and
 * their conversions to and from float32, in plain integer arithmetic: the
 * device, mtia-compile and libmtia round the same way on every host,
 * whatever its ISA (F16C and AVX-512 BF16 are not assumed).
 *
 * F16 is IEEE 754 binary16 (1 sign, 5 exponent, 10 fraction bits; subnormals
 * kept). BF16 is the top half of a float32 (8 exponent, 7 fraction bits).
 * float32 -> 16 bits rounds to nearest, ties to even; a value beyond the
 * format's largest finite rounds to infinity; NaN stays NaN (quiet, sign
 * kept). 16 bits -> float32 is exact.
 */
#ifndef MTIA_FP16_H
#define MTIA_FP16_H

#include <stdint.h>
#include <string.h>

static inline uint32_t mtia_f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static inline float mtia_bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static inline uint16_t mtia_f32_to_bf16(float f)
{
    const uint32_t u = mtia_f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u); /* NaN: quiet */
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);                 /* RNE; overflow -> inf */
}

static inline float mtia_bf16_to_f32(uint16_t h) { return mtia_bits_f32((uint32_t)h << 16); }

static inline uint16_t mtia_f32_to_f16(float f)
{
    const uint32_t u = mtia_f32_bits(f);
    const uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((a >> 13) & 0x1ffu)); /* NaN: quiet */
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 (rounds past 65504), inf */
    if (a < 0x38800000u) {                                    /* below 2^-14: an F16 subnormal or 0 */
        if (a < 0x33000000u) return sign;                     /* below half the least subnormal (2^-25) */
        /* value = m * 2^(e-150) with the implicit bit in m; as 2^-24 units: m >> (126 - e) */
        const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u, shift = 126 - e;
        const uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        return (uint16_t)(sign | (r + (rem > half || (rem == half && (r & 1u)))));
    }
    /* normal: rebias the exponent (127 -> 15), round the 13 dropped bits */
    const uint32_t v = a - 0x38000000u;
    return (uint16_t)(sign | ((v + 0xfffu + ((v >> 13) & 1u)) >> 13));
}

static inline float mtia_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0x1f) return mtia_bits_f32(sign | 0x7f800000u | (m << 13)); /* inf, NaN */
    if (e == 0) {                                                       /* 0 or subnormal: m * 2^-24 */
        const float v = (float)m * mtia_bits_f32(0x33800000u);
        return mtia_bits_f32(sign | mtia_f32_bits(v));
    }
    return mtia_bits_f32(sign | ((e + 112u) << 23) | (m << 13));
}

#endif /* MTIA_FP16_H */
