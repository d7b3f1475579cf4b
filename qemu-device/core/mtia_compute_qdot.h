// SPDX-License-Identifier: MIT
// The int8 CONV/GEMM micro-kernel (mtia_compute_qdot.cc): an 8 x 32 block of
// exact int32 dot products over int16 operands (x - zero point, and weights),
// the pairs of K interleaved so that one vpmaddwd does two steps of K.
// Every variant gives the same integers: the ISA only changes the speed.
#ifndef MTIA_COMPUTE_QDOT_H
#define MTIA_COMPUTE_QDOT_H

#include <cstdint>

namespace mtia {
namespace compute {

// Output channels x pixels of one block.
constexpr unsigned kQdotM = 8, kQdotN = 32;

// acc[i * kQdotN + j] = sum over kp < kh of the two int16 products of the
// pair w[kp * kQdotM + i] (channel i's weights k = 2kp, 2kp+1, the low half
// first) and x[kp * ldx + j] (pixel j's values at the same k). Every int32
// sum must fit (|x| <= 255, |w| <= 128, K <= MTIA_QUANT_MAX_K).
using QdotFn = void (*)(const int32_t *w, const int32_t *x, uint64_t ldx, uint64_t kh, int32_t *acc);

// The fastest variant the host runs, or the one MTIA_QDOT_ISA names
// (scalar, avx2, avx512bw, avx512vnni) when the host runs it (tests: every
// variant gives the same result).
QdotFn qdot_kernel();

}  // namespace compute
}  // namespace mtia

#endif  // MTIA_COMPUTE_QDOT_H
