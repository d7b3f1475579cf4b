// SPDX-License-Identifier: MIT
// Helpers of the compute engine's layout and fusion tests: channels-last
// storage of NCHW values, and running one op with MTIA_OP_F_* flags on
// data given in NCHW order.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "compute_ref.h"
#include "mtia_compute.h"

namespace clayout {

using cref::Arena;
using cref::Dims;

// (N, C, H, W) values <-> (N, H, W, C) storage.
inline std::vector<float> to_nhwc(const std::vector<float> &x, const Dims &d)
{
    std::vector<float> y(x.size());
    const uint64_t C = d[1], H = d[2], W = d[3];
    for (uint64_t n = 0; n < d[0]; n++)
        for (uint64_t c = 0; c < C; c++)
            for (uint64_t h = 0; h < H; h++)
                for (uint64_t w = 0; w < W; w++) y[((n * H + h) * W + w) * C + c] = x[((n * C + c) * H + h) * W + w];
    return y;
}

inline std::vector<float> from_nhwc(const std::vector<float> &y, const Dims &d)
{
    std::vector<float> x(y.size());
    const uint64_t C = d[1], H = d[2], W = d[3];
    for (uint64_t n = 0; n < d[0]; n++)
        for (uint64_t c = 0; c < C; c++)
            for (uint64_t h = 0; h < H; h++)
                for (uint64_t w = 0; w < W; w++) x[((n * C + c) * H + h) * W + w] = y[((n * H + h) * W + w) * C + c];
    return x;
}

inline Dims nhwc_dims(const Dims &d) { return {d[0], d[2], d[3], d[1]}; }

inline uint32_t rnd(std::mt19937 &rng, uint32_t lo, uint32_t hi)
{
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
}

inline uint32_t out_size(uint32_t in, uint32_t k, uint32_t s, uint32_t d, uint32_t p0, uint32_t p1)
{
    return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

inline void expect_near(const std::vector<float> &got, const std::vector<float> &want, double tol,
                        const std::string &what)
{
    ASSERT_EQ(got.size(), want.size()) << what;
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); i++)
        if (!(std::fabs(double(got[i]) - want[i]) <= tol * (1 + std::fabs(want[i]))))
            if (bad++ < 5) ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << want[i];
    EXPECT_EQ(bad, 0u) << what;
}

// Runs @o (NCHW dims, NCHW data in @a) with @flags: X and out stored as the
// flags say (with MTIA_OP_F_ACCUM, out's values in @a are what the sum adds
// to); returns out in NCHW order.
inline std::vector<float> run_flagged(Arena &a, mtia_op o, uint32_t flags)
{
    const Dims xd = cref::dims(o.in[0]), yd = cref::dims(o.out);
    Arena b = a;  // same offsets; X stored channels-last if asked
    if (flags & MTIA_OP_F_IN_NHWC) {
        b.set(o.in[0], to_nhwc(a.get(o.in[0]), xd));
        o.in[0] = cref::tensor(o.in[0].offset, nhwc_dims(xd));
    }
    if (flags & MTIA_OP_F_OUT_NHWC) {
        if (flags & MTIA_OP_F_ACCUM) b.set(o.out, to_nhwc(a.get(o.out), yd));
        o.out = cref::tensor(o.out.offset, nhwc_dims(yd));
    }
    o.flags = flags;
    uint64_t result = 0;
    const uint16_t st = mtia_compute_run(&o, 1, b.data(), b.size(), nullptr, nullptr, &result);
    EXPECT_EQ(st, MTIA_CQE_OK) << "bad op " << result;
    std::vector<float> y(b.at(o.out), b.at(o.out) + cref::count(yd));
    return (flags & MTIA_OP_F_OUT_NHWC) ? from_nhwc(y, yd) : y;
}

inline std::string str(const Dims &d)
{
    std::string s = "(";
    for (size_t i = 0; i < d.size(); i++) s += (i ? "," : "") + std::to_string(d[i]);
    return s + ")";
}

// A random 2-D CONV (N, C, H, W) -> (N, M, OH, OW) in @a, data filled.
inline mtia_op random_conv(Arena &a, std::mt19937 &rng, uint32_t n, uint32_t c, uint32_t hw, uint32_t m, uint32_t g)
{
    const uint32_t k = rnd(rng, 1, 3), s = rnd(rng, 1, 2), d = rnd(rng, 1, 2), p = rnd(rng, 0, k - 1);
    const Dims xd{n, c, hw, hw + 1}, wd{m, c / g, k, k};
    const Dims yd{n, m, out_size(hw, k, s, d, p, p), out_size(hw + 1, k, s, d, p, p)};
    auto x = a.alloc(xd), w = a.alloc(wd), b = a.alloc({m}), y = a.alloc(yd);
    a.fill_random(x, rng);
    a.fill_random(w, rng);
    a.fill_random(b, rng);
    mtia_op o = cref::op(MTIA_OP_CONV, {x, w, b}, y, {s, s, p, p, p, p, d, d, g});
    o.act = rnd(rng, 0, 1) ? MTIA_ACT_RELU : MTIA_ACT_NONE;
    return o;
}

// Case @i of a series of random convolutions: plain, grouped (2) and
// depthwise (8) in turn, 1-3 images of 5-12 rows, in @a.
inline mtia_op random_conv_case(Arena &a, std::mt19937 &rng, int i)
{
    const uint32_t g = i % 4 == 3 ? 8 : i % 4 == 2 ? 2 : 1;
    const uint32_t c = g == 8 ? 8 : 2 * rnd(rng, 1, 12), m = g == 8 ? 8 : 2 * rnd(rng, 1, 12);
    return random_conv(a, rng, rnd(rng, 1, 3), c, rnd(rng, 5, 12), m, g);
}

// The validator's status for the one op @o in an arena of @arena bytes.
inline uint16_t validate(const mtia_op &o, uint64_t arena)
{
    uint32_t bad = 0;
    return mtia_compute_validate(&o, 1, arena, &bad);
}

}  // namespace clayout
