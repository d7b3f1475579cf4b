// SPDX-License-Identifier: MIT
// A COMPUTE program that is still running when a test acts on it, on any
// host: tests of abort, reset and VM stop must never depend on how fast the
// host computes. The program repeats one conv (2 x 64 x 56 x 56, 3x3, 231 M
// MACs) over an arena whose inputs are ones, so the output turns non-zero
// once the first op has run: started() is a state to wait for, not a sleep.
// - kMaxOps ops (the spec's limit) take minutes on any host: a test that
//   aborts such a program can never see it finish first.
// - calibrated_ops(s) sizes a program that runs about s seconds on this
//   host, for tests that must also see it finish.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include "compute_ref.h"
#include "mtia_compute.h"

namespace long_program {

constexpr uint64_t kX = 0, kW = 4ull << 20, kY = 5ull << 20;  // arena offsets
constexpr uint64_t kArenaBytes = 8ull << 20;
constexpr uint32_t kMaxOps = MTIA_MAX_PROGRAM_OPS;

inline mtia_op conv()
{
    const auto x = cref::tensor(kX, {2, 64, 56, 56}), w = cref::tensor(kW, {64, 64, 3, 3});
    const auto y = cref::tensor(kY, {2, 64, 56, 56});
    return cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
}

inline std::vector<mtia_op> ops(uint32_t n) { return std::vector<mtia_op>(n, conv()); }

// Inputs of ones, output zeroed: what started() looks at.
inline void prepare_arena(uint8_t *arena)
{
    const float one = 1.0f;
    for (uint64_t i = 0; i < 2 * 64 * 56 * 56; i++) std::memcpy(arena + kX + i * 4, &one, 4);
    for (uint64_t i = 0; i < 64 * 64 * 9; i++) std::memcpy(arena + kW + i * 4, &one, 4);
    std::memset(arena + kY, 0, 2 * 64 * 56 * 56 * 4);
}

// The first op has written its output: the program is running. (The last
// element is written by the last chunk of the op; volatile: another thread
// writes it.)
inline bool started(const uint8_t *arena)
{
    const volatile float *y = reinterpret_cast<const volatile float *>(arena + kY);
    return y[2 * 64 * 56 * 56 - 1] != 0.0f;
}

// Ops that run for about @seconds on this host, measured now (a warm-up op,
// then a timed one), at least @min_ops.
inline uint32_t calibrated_ops(double seconds, uint32_t min_ops = 8)
{
    std::vector<uint8_t> arena(kArenaBytes);
    prepare_arena(arena.data());
    const mtia_op op = conv();
    uint64_t est = 0;
    mtia_compute_run(&op, 1, arena.data(), arena.size(), nullptr, nullptr, &est);
    const auto t0 = std::chrono::steady_clock::now();
    mtia_compute_run(&op, 1, arena.data(), arena.size(), nullptr, nullptr, &est);
    const double op_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double n = seconds / std::max(op_s, 1e-6);
    return static_cast<uint32_t>(std::clamp(n, static_cast<double>(min_ops), static_cast<double>(kMaxOps)));
}

}  // namespace long_program
