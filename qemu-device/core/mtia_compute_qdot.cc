// SPDX-License-Identifier: MIT
// The int8 CONV/GEMM micro-kernel (mtia_compute_qdot.h) in one variant per
// x86 ISA level, picked at run time: the core is built for baseline x86-64,
// and a host with AVX-512 should not run at SSE2 speed. VNNI's vpdpbusd
// (four u8 x s8 products summed into int32 lanes without the saturating
// int16 step of AVX2's vpmaddubsw) does twice the work of vpdpwssd. The block's 16 (or
// 8) accumulators stay in registers for the whole K loop; each step loads a
// row of 32 pixel pairs once and broadcasts each channel's weight pair.
// Integer sums are exact whatever the order, so every variant (and the
// scalar one, the reference of the others) gives the same int32s: no
// saturating int16 step anywhere (which is why this is not oneDNN's u8s8).
#include "mtia_compute_qdot.h"

#include <immintrin.h>

#include <cstdlib>
#include <cstring>

namespace mtia {
namespace compute {

namespace {

void qdot_scalar(const int32_t *w, const int32_t *x, uint64_t ldx, uint64_t kh, int32_t *acc)
{
    int32_t c[kQdotM][kQdotN] = {};
    for (uint64_t kp = 0; kp < kh; kp++) {
        const int32_t *xr = x + kp * ldx, *wr = w + kp * kQdotM;
        for (unsigned i = 0; i < kQdotM; i++) {
            const int32_t w0 = int16_t(wr[i] & 0xffff), w1 = int16_t(uint32_t(wr[i]) >> 16);
            for (unsigned j = 0; j < kQdotN; j++)
                c[i][j] += w0 * int16_t(xr[j] & 0xffff) + w1 * int16_t(uint32_t(xr[j]) >> 16);
        }
    }
    std::memcpy(acc, c, sizeof(c));
}

// Four channels x sixteen pixels (8 ymm accumulators) at a time.
__attribute__((target("avx2"))) void qdot_avx2(const int32_t *w, const int32_t *x, uint64_t ldx, uint64_t kh,
                                               int32_t *acc)
{
    for (unsigned i0 = 0; i0 < kQdotM; i0 += 4) {
        for (unsigned j0 = 0; j0 < kQdotN; j0 += 16) {
            __m256i c[4][2];
            for (unsigned i = 0; i < 4; i++) c[i][0] = c[i][1] = _mm256_setzero_si256();
            for (uint64_t kp = 0; kp < kh; kp++) {
                const int32_t *xr = x + kp * ldx + j0, *wr = w + kp * kQdotM + i0;
                const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xr));
                const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(xr + 8));
#pragma GCC unroll 4
                for (unsigned i = 0; i < 4; i++) {
                    const __m256i b = _mm256_set1_epi32(wr[i]);
                    c[i][0] = _mm256_add_epi32(c[i][0], _mm256_madd_epi16(b, x0));
                    c[i][1] = _mm256_add_epi32(c[i][1], _mm256_madd_epi16(b, x1));
                }
            }
            for (unsigned i = 0; i < 4; i++) {
                int32_t *a = acc + (i0 + i) * kQdotN + j0;
                _mm256_storeu_si256(reinterpret_cast<__m256i *>(a), c[i][0]);
                _mm256_storeu_si256(reinterpret_cast<__m256i *>(a + 8), c[i][1]);
            }
        }
    }
}

// The whole block in 16 zmm accumulators.
__attribute__((target("avx512f,avx512bw"))) void qdot_avx512bw(const int32_t *w, const int32_t *x, uint64_t ldx,
                                                               uint64_t kh, int32_t *acc)
{
    __m512i c[kQdotM][2];
    for (unsigned i = 0; i < kQdotM; i++) c[i][0] = c[i][1] = _mm512_setzero_si512();
    for (uint64_t kp = 0; kp < kh; kp++) {
        const int32_t *xr = x + kp * ldx, *wr = w + kp * kQdotM;
        const __m512i x0 = _mm512_loadu_si512(xr), x1 = _mm512_loadu_si512(xr + 16);
#pragma GCC unroll 8
        for (unsigned i = 0; i < kQdotM; i++) {
            const __m512i b = _mm512_set1_epi32(wr[i]);
            c[i][0] = _mm512_add_epi32(c[i][0], _mm512_madd_epi16(b, x0));
            c[i][1] = _mm512_add_epi32(c[i][1], _mm512_madd_epi16(b, x1));
        }
    }
    for (unsigned i = 0; i < kQdotM; i++) {
        _mm512_storeu_si512(acc + i * kQdotN, c[i][0]);
        _mm512_storeu_si512(acc + i * kQdotN + 16, c[i][1]);
    }
}

// As avx512bw with VNNI's fused multiply-add of pairs (vpdpwssd: no
// saturation, the same sums).
__attribute__((target("avx512f,avx512bw,avx512vnni"))) void qdot_avx512vnni(const int32_t *w, const int32_t *x,
                                                                            uint64_t ldx, uint64_t kh, int32_t *acc)
{
    __m512i c[kQdotM][2];
    for (unsigned i = 0; i < kQdotM; i++) c[i][0] = c[i][1] = _mm512_setzero_si512();
    for (uint64_t kp = 0; kp < kh; kp++) {
        const int32_t *xr = x + kp * ldx, *wr = w + kp * kQdotM;
        const __m512i x0 = _mm512_loadu_si512(xr), x1 = _mm512_loadu_si512(xr + 16);
#pragma GCC unroll 8
        for (unsigned i = 0; i < kQdotM; i++) {
            const __m512i b = _mm512_set1_epi32(wr[i]);
            c[i][0] = _mm512_dpwssd_epi32(c[i][0], b, x0);
            c[i][1] = _mm512_dpwssd_epi32(c[i][1], b, x1);
        }
    }
    for (unsigned i = 0; i < kQdotM; i++) {
        _mm512_storeu_si512(acc + i * kQdotN, c[i][0]);
        _mm512_storeu_si512(acc + i * kQdotN + 16, c[i][1]);
    }
}

// Quads of bytes: x u8 (the low byte the lowest k), w s8.
void qdot_scalar8(const int32_t *w, const int32_t *x, uint64_t ldx, uint64_t kq, int32_t *acc)
{
    int32_t c[kQdotM][kQdotN] = {};
    for (uint64_t l = 0; l < kq; l++) {
        const int32_t *xr = x + l * ldx, *wr = w + l * kQdotM;
        for (unsigned i = 0; i < kQdotM; i++)
            for (unsigned j = 0; j < kQdotN; j++)
                for (unsigned b = 0; b < 32; b += 8)
                    c[i][j] += int32_t(uint8_t(uint32_t(xr[j]) >> b)) * int32_t(int8_t(uint32_t(wr[i]) >> b));
    }
    std::memcpy(acc, c, sizeof(c));
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void qdot_avx512vnni8(const int32_t *w, const int32_t *x,
                                                                             uint64_t ldx, uint64_t kq, int32_t *acc)
{
    __m512i c[kQdotM][2];
    for (unsigned i = 0; i < kQdotM; i++) c[i][0] = c[i][1] = _mm512_setzero_si512();
    for (uint64_t l = 0; l < kq; l++) {
        const int32_t *xr = x + l * ldx, *wr = w + l * kQdotM;
        const __m512i x0 = _mm512_loadu_si512(xr), x1 = _mm512_loadu_si512(xr + 16);
#pragma GCC unroll 8
        for (unsigned i = 0; i < kQdotM; i++) {
            const __m512i b = _mm512_set1_epi32(wr[i]);
            c[i][0] = _mm512_dpbusd_epi32(c[i][0], x0, b);
            c[i][1] = _mm512_dpbusd_epi32(c[i][1], x1, b);
        }
    }
    for (unsigned i = 0; i < kQdotM; i++) {
        _mm512_storeu_si512(acc + i * kQdotN, c[i][0]);
        _mm512_storeu_si512(acc + i * kQdotN + 16, c[i][1]);
    }
}

bool has_vnni()
{
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
}

struct Variant {
    const char *name;
    Qdot qdot;
    bool (*runs)();
};

const Variant kVariants[] = {
    // Fastest first; scalar8 only when named.
    {"avx512vnni8", {qdot_avx512vnni8, 4}, has_vnni},
    {"avx512vnni", {qdot_avx512vnni, 2}, has_vnni},
    {"avx512bw",
     {qdot_avx512bw, 2},
     [] { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"); }},
    {"avx2", {qdot_avx2, 2}, [] { return bool(__builtin_cpu_supports("avx2")); }},
    {"scalar", {qdot_scalar, 2}, [] { return true; }},
    {"scalar8", {qdot_scalar8, 4}, [] { return true; }},
};

}  // namespace

Qdot qdot_kernel()
{
    const char *want = std::getenv("MTIA_QDOT_ISA");
    if (want)
        for (const Variant &v : kVariants)
            if (!std::strcmp(want, v.name) && v.runs()) return v.qdot;
    for (const Variant &v : kVariants)
        if (v.runs()) return v.qdot;
    return {qdot_scalar, 2};
}

}  // namespace compute
}  // namespace mtia
