// SPDX-License-Identifier: MIT
// Helpers of the compute engine's layout and fusion tests: channels-last
// and nChw16c storage of NCHW values, and running one op with MTIA_OP_F_* flags on
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

// (N, C, H, W) values, dims @d, to a storage order whose index of element
// (n, c, h, w) is @at(n, c, h, w), and back.
template <typename At>
std::vector<float> to_storage(const std::vector<float> &x, const Dims &d, At at)
{
    std::vector<float> y(x.size());
    for (uint64_t n = 0, i = 0; n < d[0]; n++)
        for (uint64_t c = 0; c < d[1]; c++)
            for (uint64_t h = 0; h < d[2]; h++)
                for (uint64_t w = 0; w < d[3]; w++) y[at(n, c, h, w)] = x[i++];
    return y;
}

template <typename At>
std::vector<float> from_storage(const std::vector<float> &y, const Dims &d, At at)
{
    std::vector<float> x(y.size());
    for (uint64_t n = 0, i = 0; n < d[0]; n++)
        for (uint64_t c = 0; c < d[1]; c++)
            for (uint64_t h = 0; h < d[2]; h++)
                for (uint64_t w = 0; w < d[3]; w++) x[i++] = y[at(n, c, h, w)];
    return x;
}

// (N, H, W, C) storage.
inline auto nhwc_at(const Dims &d)
{
    return [d](uint64_t n, uint64_t c, uint64_t h, uint64_t w) { return ((n * d[2] + h) * d[3] + w) * d[1] + c; };
}
inline std::vector<float> to_nhwc(const std::vector<float> &x, const Dims &d) { return to_storage(x, d, nhwc_at(d)); }
inline std::vector<float> from_nhwc(const std::vector<float> &y, const Dims &d)
{
    return from_storage(y, d, nhwc_at(d));
}
inline Dims nhwc_dims(const Dims &d) { return {d[0], d[2], d[3], d[1]}; }

// (N, C/16, H, W, 16) storage (C a multiple of 16).
inline auto blk16_at(const Dims &d)
{
    return [d](uint64_t n, uint64_t c, uint64_t h, uint64_t w) {
        return (((n * d[1] / 16 + c / 16) * d[2] + h) * d[3] + w) * 16 + c % 16;
    };
}
inline std::vector<float> to_blk16(const std::vector<float> &x, const Dims &d) { return to_storage(x, d, blk16_at(d)); }
inline std::vector<float> from_blk16(const std::vector<float> &y, const Dims &d)
{
    return from_storage(y, d, blk16_at(d));
}
inline Dims blk16_dims(const Dims &d) { return {d[0], d[1] / 16, d[2], d[3], 16}; }

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
// flags say, channels-last or nChw16c (with MTIA_OP_F_ACCUM, out's values in
// @a are what the sum adds to); returns out in NCHW order.
inline std::vector<float> run_flagged(Arena &a, mtia_op o, uint32_t flags)
{
    const Dims xd = cref::dims(o.in[0]), yd = cref::dims(o.out);
    Arena b = a;  // same offsets; X and out stored as asked
    const auto store = [&](mtia_tensor_desc &t, const Dims &d, uint32_t nhwc, uint32_t blk, bool load) {
        if (flags & nhwc) {
            if (load) b.set(t, to_nhwc(a.get(t), d));
            t = cref::tensor(t.offset, nhwc_dims(d));
        } else if (flags & blk) {
            if (load) b.set(t, to_blk16(a.get(t), d));
            t = cref::tensor(t.offset, blk16_dims(d));
        }
    };
    store(o.in[0], xd, MTIA_OP_F_IN_NHWC, MTIA_OP_F_IN_BLK16, true);
    store(o.out, yd, MTIA_OP_F_OUT_NHWC, MTIA_OP_F_OUT_BLK16, flags & MTIA_OP_F_ACCUM);
    o.flags = flags;
    uint64_t result = 0;
    const uint16_t st = mtia_compute_run(&o, 1, b.data(), b.size(), nullptr, nullptr, &result);
    EXPECT_EQ(st, MTIA_CQE_OK) << "bad op " << result;
    std::vector<float> y(b.at(o.out), b.at(o.out) + cref::count(yd));
    if (flags & MTIA_OP_F_OUT_NHWC) return from_nhwc(y, yd);
    if (flags & MTIA_OP_F_OUT_BLK16) return from_blk16(y, yd);
    return y;
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

// act(conv(X, W) + bias [+ out's values if @accum]) of @o by the naive
// reference, in NCHW order.
inline std::vector<float> conv_reference(Arena &a, const mtia_op &o, bool accum)
{
    mtia_op plain = o;
    plain.act = MTIA_ACT_NONE;
    const std::vector<float> bias = o.n_in == 3 ? a.get(o.in[2]) : std::vector<float>();
    auto want = cref::conv(a.get(o.in[0]), cref::dims(o.in[0]), a.get(o.in[1]), cref::dims(o.in[1]),
                           o.n_in == 3 ? &bias : nullptr, cref::dims(o.out), plain);
    const auto residual = a.get(o.out);
    for (size_t i = 0; i < want.size(); i++) want[i] = float(cref::act(double(want[i]) + (accum ? residual[i] : 0), o));
    return want;
}

// A 3x3 stride-1 CONV with pads of 1 from X of @xd (N, C, H, W) to @m
// channels in @a, with a bias unless @bias is false; every tensor filled
// (out too: the residual, with MTIA_OP_F_ACCUM).
inline mtia_op same_conv3x3(Arena &a, std::mt19937 &rng, const Dims &xd, uint32_t m, bool bias = true)
{
    const auto x = a.alloc(xd), w = a.alloc({m, xd[1], 3, 3}), b = a.alloc({m});
    const auto y = a.alloc({xd[0], m, xd[2], xd[3]});
    for (const auto &t : {x, w, b, y}) a.fill_random(t, rng);
    mtia_op o = cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    if (!bias) o.n_in = 2, o.in[2] = {};
    return o;
}

// The validator's status for the one op @o in an arena of @arena bytes.
inline uint16_t validate(const mtia_op &o, uint64_t arena)
{
    uint32_t bad = 0;
    return mtia_compute_validate(&o, 1, arena, &bad);
}

}  // namespace clayout
