// SPDX-License-Identifier: MIT
// The int8 CONV/GEMM micro-kernel (mtia_compute_qdot.cc): an 8 x 32 block of
// exact int32 dot products, each int32 lane of its operands holding a few
// consecutive k: two int16s (x - zero point, and w: one vpmaddwd does two
// steps of K) or, on AVX-512 VNNI, four bytes (x as u8, w as s8: one
// vpdpbusd does four; the caller subtracts the zero point's share, zp *
// sum of w, after). Every variant gives the same integers: the ISA only
// changes the speed.
#ifndef MTIA_COMPUTE_QDOT_H
#define MTIA_COMPUTE_QDOT_H

#include <cstdint>

namespace mtia {
namespace compute {

// Output channels x pixels of one block.
constexpr unsigned kQdotM = 8, kQdotN = 32;

// acc[i * kQdotN + j] = sum over lanes l < kl of the products of
// w[l * kQdotM + i] (channel i's weights k = L l .. L l + L - 1, the lowest
// k in the lowest bits) and x[l * ldx + j] (pixel j's values at the same
// k), L the variant's k per lane. Every int32 sum must fit (|x - zp| <=
// 255, |w| <= 128, K <= MTIA_QUANT_MAX_K; with bytes, u8 x * s8 w also).
using QdotFn = void (*)(const int32_t *w, const int32_t *x, uint64_t ldx, uint64_t kl, int32_t *acc);

struct Qdot {
    QdotFn fn;
    unsigned k_per_lane;  // 2: int16 pairs, 4: u8 x and s8 w quads
};

// The fastest variant the host runs, or the one MTIA_QDOT_ISA names
// (avx512vnni8, avx512vnni, avx512bw, avx2, scalar, scalar8) when the host
// runs it (tests: every variant gives the same result; scalar8 is the
// portable form of the byte layout).
Qdot qdot_kernel();

}  // namespace compute
}  // namespace mtia

#endif  // MTIA_COMPUTE_QDOT_H
