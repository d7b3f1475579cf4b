// SPDX-License-Identifier: MIT
// Integer (I32) GEMM and CONV against an int64 reference wrapped to int32,
// over random shapes: batch broadcast and transposes; groups, pads,
// strides, dilations, 2-D and 3-D; values that overflow int32 (the result
// wraps). Then CAST I8/U8 -> I32 (q - zero point, exact), chunking and
// abort, the validation rules and the timing model's rate.
#include <atomic>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "compute_ref.h"
#include "compute_stop.h"
#include "mtia_compute.h"

namespace {

using cref::Arena;
using cref::Dims;

uint32_t rnd(std::mt19937 &rng, uint32_t lo, uint32_t hi)
{
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
}

// 8-bit-like values (the ONNX case), or any int32 (products that wrap).
std::vector<int32_t> ivalues(Arena &a, const mtia_tensor_desc &t, std::mt19937 &rng, bool wide)
{
    std::vector<int32_t> v(cref::count(cref::dims(t)));
    for (auto &x : v) x = wide ? static_cast<int32_t>(rng()) : static_cast<int32_t>(rnd(rng, 0, 510)) - 255;
    std::memcpy(a.data() + t.offset, v.data(), v.size() * 4);
    return v;
}

std::vector<int32_t> iget(Arena &a, const mtia_tensor_desc &t)
{
    std::vector<int32_t> v(cref::count(cref::dims(t)));
    std::memcpy(v.data(), a.data() + t.offset, v.size() * 4);
    return v;
}

// An int64 sum's low 32 bits, as two's complement int32.
int32_t wrap(int64_t s) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(s))); }

uint16_t run(Arena &a, const mtia_op &o)
{
    uint64_t r = 0;
    return mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &r);
}

void expect_equal(const std::vector<int32_t> &got, const std::vector<int32_t> &want, const std::string &what)
{
    ASSERT_EQ(got.size(), want.size());
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); i++)
        if (got[i] != want[i] && bad++ < 3)
            ADD_FAILURE() << what << " element " << i << " got " << got[i] << " want " << want[i];
    EXPECT_EQ(bad, 0u) << what;
}

std::vector<int32_t> gemm_ref(const std::vector<int32_t> &A, const Dims &ad, const std::vector<int32_t> &B,
                              const Dims &bd, const Dims &yd, bool ta, bool tb)
{
    const size_t nd = yd.size();
    const uint64_t M = yd[nd - 2], N = yd[nd - 1], K = ad[ad.size() - (ta ? 2 : 1)];
    const Dims yb(yd.begin(), yd.end() - 2);
    std::vector<int32_t> y(cref::count(yd));
    for (uint64_t bt = 0; bt < cref::count(yb); bt++) {
        const auto bc = cref::coords(bt, yb);
        const int32_t *pa = A.data() + (ad.size() == nd ? cref::bindex(bc, Dims(ad.begin(), ad.end() - 2)) * M * K : 0);
        const int32_t *pb = B.data() + (bd.size() == nd ? cref::bindex(bc, Dims(bd.begin(), bd.end() - 2)) * K * N : 0);
        for (uint64_t i = 0; i < M; i++)
            for (uint64_t j = 0; j < N; j++) {
                int64_t s = 0;
                for (uint64_t k = 0; k < K; k++)  // int64 products; the sum wraps mod 2^64, its low bits exact
                    s = static_cast<int64_t>(static_cast<uint64_t>(s) +
                                             static_cast<uint64_t>(int64_t(ta ? pa[k * M + i] : pa[i * K + k]) *
                                                                   int64_t(tb ? pb[j * K + k] : pb[k * N + j])));
                y[(bt * M + i) * N + j] = wrap(s);
            }
    }
    return y;
}

TEST(ComputeIntMatmul, GemmRandomShapesBroadcastTransposes)
{
    std::mt19937 rng(71);
    for (int t = 0; t < 60; t++) {
        Arena a;
        const unsigned nd = rnd(rng, 2, 4);
        Dims yd(nd);
        for (auto &d : yd) d = rnd(rng, 1, 4);
        yd[nd - 2] = rnd(rng, 1, 9), yd[nd - 1] = rnd(rng, 1, 11);
        const uint32_t K = rnd(rng, 1, 40);
        const bool ta = rnd(rng, 0, 1), tb = rnd(rng, 0, 1);
        Dims ad = yd, bd = yd;
        ad[nd - 2] = ta ? K : yd[nd - 2], ad[nd - 1] = ta ? yd[nd - 2] : K;
        bd[nd - 2] = tb ? yd[nd - 1] : K, bd[nd - 1] = tb ? K : yd[nd - 1];
        if (nd > 2) {
            const uint32_t mode = rnd(rng, 0, 3);  // 0: both batched; 1: A 2-D; 2: B 2-D; 3: broadcast 1s
            if (mode == 1) ad.erase(ad.begin(), ad.end() - 2);
            if (mode == 2) bd.erase(bd.begin(), bd.end() - 2);
            if (mode == 3)
                for (unsigned d = 0; d + 2 < nd; d++) (rnd(rng, 0, 1) ? ad : bd)[d] = 1;
        }
        auto A = a.alloc(ad, MTIA_DTYPE_I32), B = a.alloc(bd, MTIA_DTYPE_I32), Y = a.alloc(yd, MTIA_DTYPE_I32);
        const bool wide = t % 3 == 0;
        const auto av = ivalues(a, A, rng, wide), bv = ivalues(a, B, rng, wide);
        const mtia_op o = cref::op(MTIA_OP_GEMM, {A, B}, Y, {ta, tb, cref::bits(1.0f), 0});
        ASSERT_EQ(run(a, o), MTIA_CQE_OK) << "case " << t;
        expect_equal(iget(a, Y), gemm_ref(av, ad, bv, bd, yd, ta, tb), "gemm case " + std::to_string(t));
    }
}

struct ConvCase {
    Dims xd, wd, yd;
    std::vector<uint32_t> attrs;
};

// A random valid 2-D or 3-D convolution: groups, strides, dilations and
// pads smaller than the dilated kernel.
ConvCase random_conv(std::mt19937 &rng, bool d3)
{
    const unsigned nsp = d3 ? 3 : 2;
    const uint32_t g = rnd(rng, 1, 3), cg = rnd(rng, 1, 3), mg = rnd(rng, 1, 3);
    ConvCase c;
    c.xd = {rnd(rng, 1, 2), g * cg}, c.wd = {g * mg, cg}, c.yd = {c.xd[0], g * mg};
    uint32_t k[3], s[3], dl[3], p0[3], p1[3];
    for (unsigned i = 0; i < nsp; i++) {
        k[i] = rnd(rng, 1, 3), s[i] = rnd(rng, 1, 2), dl[i] = rnd(rng, 1, 2);
        const uint32_t ext = dl[i] * (k[i] - 1) + 1;
        p0[i] = rnd(rng, 0, ext - 1), p1[i] = rnd(rng, 0, ext - 1);
        const uint32_t in = rnd(rng, ext > p0[i] + p1[i] ? ext - p0[i] - p1[i] : 1, 7);
        c.xd.push_back(in), c.wd.push_back(k[i]), c.yd.push_back((in + p0[i] + p1[i] - ext) / s[i] + 1);
    }
    const unsigned h = nsp - 2, w = nsp - 1;
    c.attrs = {s[h], s[w], p0[h], p0[w], p1[h], p1[w], dl[h], dl[w], g};
    if (d3) c.attrs.insert(c.attrs.end(), {s[0], dl[0], p0[0], p1[0]});
    return c;
}

// 2-D cases are 3-D with depth 1 (no depth attrs).
std::vector<int32_t> conv_ref(const std::vector<int32_t> &x, const std::vector<int32_t> &w, const ConvCase &c)
{
    const bool d3 = c.xd.size() == 5;
    auto sp = [&](const Dims &d, unsigned i) -> int64_t { return d3 ? d[2 + i] : i == 0 ? 1 : d[1 + i]; };
    const uint32_t *a = c.attrs.data();
    const int64_t st[3] = {d3 ? a[MTIA_CONV_STRIDE_D] : 1, a[MTIA_CONV_STRIDE_H], a[MTIA_CONV_STRIDE_W]};
    const int64_t dl[3] = {d3 ? a[MTIA_CONV_DIL_D] : 1, a[MTIA_CONV_DIL_H], a[MTIA_CONV_DIL_W]};
    const int64_t pd[3] = {d3 ? a[MTIA_CONV_PAD_FRONT] : 0, a[MTIA_CONV_PAD_T], a[MTIA_CONV_PAD_L]};
    const int64_t N = c.xd[0], C = c.xd[1], M = c.wd[0], G = a[MTIA_CONV_GROUPS], cg = C / G, mg = M / G;
    std::vector<int32_t> y(cref::count(c.yd));
    uint64_t yi = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t od = 0; od < sp(c.yd, 0); od++)
                for (int64_t oh = 0; oh < sp(c.yd, 1); oh++)
                    for (int64_t ow = 0; ow < sp(c.yd, 2); ow++) {
                        int64_t s = 0;
                        for (int64_t ci = 0; ci < cg; ci++)
                            for (int64_t kd = 0; kd < sp(c.wd, 0); kd++)
                                for (int64_t kh = 0; kh < sp(c.wd, 1); kh++)
                                    for (int64_t kw = 0; kw < sp(c.wd, 2); kw++) {
                                        const int64_t id = od * st[0] + kd * dl[0] - pd[0];
                                        const int64_t ih = oh * st[1] + kh * dl[1] - pd[1];
                                        const int64_t iw = ow * st[2] + kw * dl[2] - pd[2];
                                        if (id < 0 || ih < 0 || iw < 0 || id >= sp(c.xd, 0) || ih >= sp(c.xd, 1) ||
                                            iw >= sp(c.xd, 2))
                                            continue;
                                        const int64_t xv =
                                            x[(((n * C + m / mg * cg + ci) * sp(c.xd, 0) + id) * sp(c.xd, 1) + ih) *
                                                  sp(c.xd, 2) +
                                              iw];
                                        const int64_t wv =
                                            w[(((m * cg + ci) * sp(c.wd, 0) + kd) * sp(c.wd, 1) + kh) * sp(c.wd, 2) +
                                              kw];
                                        s = static_cast<int64_t>(static_cast<uint64_t>(s) +
                                                                 static_cast<uint64_t>(xv * wv));
                                    }
                        y[yi++] = wrap(s);
                    }
    return y;
}

TEST(ComputeIntMatmul, ConvRandomShapesGroupsPadsStridesDilations)
{
    std::mt19937 rng(72);
    for (int t = 0; t < 80; t++) {
        Arena a;
        const ConvCase c = random_conv(rng, t % 4 == 3);
        auto X = a.alloc(c.xd, MTIA_DTYPE_I32), W = a.alloc(c.wd, MTIA_DTYPE_I32), Y = a.alloc(c.yd, MTIA_DTYPE_I32);
        const bool wide = t % 3 == 0;
        const auto xv = ivalues(a, X, rng, wide), wv = ivalues(a, W, rng, wide);
        const mtia_op o = cref::op(MTIA_OP_CONV, {X, W}, Y, c.attrs);
        ASSERT_EQ(run(a, o), MTIA_CQE_OK) << "case " << t;
        expect_equal(iget(a, Y), conv_ref(xv, wv, c), "conv case " + std::to_string(t));
    }
}

// The chunked kernel gives the same result and stops between chunks.
TEST(ComputeIntMatmul, ChunkedAndAbortable)
{
    std::mt19937 rng(73);
    for (const bool conv : {false, true}) {
        Arena a;
        ConvCase c{{2, 8, 12, 12}, {8, 8, 3, 3}, {2, 8, 12, 12}, {1, 1, 1, 1, 1, 1, 1, 1, 1}};
        const Dims ad{64, 96}, bd{96, 40}, yd{64, 40};
        auto A = a.alloc(conv ? c.xd : ad, MTIA_DTYPE_I32), B = a.alloc(conv ? c.wd : bd, MTIA_DTYPE_I32);
        auto Y = a.alloc(conv ? c.yd : yd, MTIA_DTYPE_I32);
        const auto av = ivalues(a, A, rng, true), bv = ivalues(a, B, rng, true);
        const mtia_op o = conv ? cref::op(MTIA_OP_CONV, {A, B}, Y, c.attrs)
                               : cref::op(MTIA_OP_GEMM, {A, B}, Y, {0, 0, cref::bits(1.0f), 0});
        const auto want = conv ? conv_ref(av, bv, c) : gemm_ref(av, ad, bv, bd, yd, false, false);
        setenv("MTIA_COMPUTE_CHUNK_WORK", "4096", 1);
        ASSERT_EQ(run(a, o), MTIA_CQE_OK);
        expect_equal(iget(a, Y), want, conv ? "chunked conv" : "chunked gemm");
        int polls = 0;
        EXPECT_EQ(cref::run_stopping_at_second_poll(a, o, &polls), MTIA_CQE_ABORTED);
        EXPECT_EQ(polls, 2);  // before the op, then after its first chunk
        unsetenv("MTIA_COMPUTE_CHUNK_WORK");
    }
}

// CAST I8/U8 -> I32 is q - zero_point whatever the scale; the other
// integer pairs stay invalid.
TEST(ComputeIntMatmul, CastQuantizedToI32IsExact)
{
    for (const uint8_t dt : {uint8_t(MTIA_DTYPE_U8), uint8_t(MTIA_DTYPE_I8)}) {
        Arena a;
        auto q = a.alloc({256}, dt);
        q.scale = cref::bits(0.37f);
        q.zero_point = dt == MTIA_DTYPE_U8 ? 201 : -77;
        for (int i = 0; i < 256; i++) a.data()[q.offset + i] = uint8_t(i);
        auto y = a.alloc({256}, MTIA_DTYPE_I32);
        ASSERT_EQ(run(a, cref::op(MTIA_OP_CAST, {q}, y)), MTIA_CQE_OK);
        const auto got = iget(a, y);
        for (int i = 0; i < 256; i++) {
            const int32_t v = dt == MTIA_DTYPE_U8 ? i : int32_t(int8_t(uint8_t(i)));
            ASSERT_EQ(got[i], v - q.zero_point) << "dtype " << int(dt) << " q " << v;
        }
        auto i64 = a.alloc({256}, MTIA_DTYPE_I64), b = a.alloc({256}, MTIA_DTYPE_BOOL);
        EXPECT_EQ(run(a, cref::op(MTIA_OP_CAST, {q}, i64)), MTIA_CQE_BAD_PROGRAM);
        EXPECT_EQ(run(a, cref::op(MTIA_OP_CAST, {q}, b)), MTIA_CQE_BAD_PROGRAM);
        EXPECT_EQ(run(a, cref::op(MTIA_OP_CAST, {y}, q)), MTIA_CQE_BAD_PROGRAM);
    }
}

TEST(ComputeIntMatmul, ValidationRules)
{
    Arena a;
    auto A = a.alloc({4, 8}, MTIA_DTYPE_I32), B = a.alloc({8, 5}, MTIA_DTYPE_I32), Y = a.alloc({4, 5}, MTIA_DTYPE_I32);
    auto Bf = a.alloc({8, 5}), Yf = a.alloc({4, 5}), C = a.alloc({4, 5}, MTIA_DTYPE_I32);
    const std::vector<uint32_t> g = {0, 0, cref::bits(1.0f), 0};
    auto invalid = [&](mtia_op o, const char *what) { EXPECT_EQ(run(a, o), MTIA_CQE_BAD_PROGRAM) << what; };
    ASSERT_EQ(run(a, cref::op(MTIA_OP_GEMM, {A, B}, Y, g)), MTIA_CQE_OK);
    invalid(cref::op(MTIA_OP_GEMM, {A, Bf}, Y, g), "float B");
    invalid(cref::op(MTIA_OP_GEMM, {A, B}, Yf, g), "float out");
    invalid(cref::op(MTIA_OP_GEMM, {A, B, C}, Y, {0, 0, cref::bits(1.0f), cref::bits(1.0f)}), "C");
    invalid(cref::op(MTIA_OP_GEMM, {A, B}, Y, {0, 0, cref::bits(2.0f), 0}), "alpha 2");
    invalid(cref::op(MTIA_OP_GEMM, {A, B}, Y, g, MTIA_ACT_RELU), "fused act");
    invalid(cref::op(MTIA_OP_GEMM, {A, A}, Y, g), "K mismatch");
    auto X = a.alloc({1, 2, 5, 5}, MTIA_DTYPE_I32), W = a.alloc({3, 2, 3, 3}, MTIA_DTYPE_I32);
    auto O = a.alloc({1, 3, 3, 3}, MTIA_DTYPE_I32), bias = a.alloc({3}, MTIA_DTYPE_I32);
    const std::vector<uint32_t> ca = {1, 1, 0, 0, 0, 0, 1, 1, 1};
    ASSERT_EQ(run(a, cref::op(MTIA_OP_CONV, {X, W}, O, ca)), MTIA_CQE_OK);
    invalid(cref::op(MTIA_OP_CONV, {X, W, bias}, O, ca), "conv bias");
    invalid(cref::op(MTIA_OP_CONV, {X, W}, O, {1, 1, 1, 1, 0, 0, 1, 1, 1}), "out dims inconsistent");
    auto Wf = a.alloc({3, 2, 3, 3});
    invalid(cref::op(MTIA_OP_CONV, {X, Wf}, O, ca), "float W");
}

// The I32 GEMM runs at the fp32 matrix rate: its estimate is the F32 one's.
TEST(ComputeIntMatmul, TimedAtTheF32Rate)
{
    Arena a;
    auto A = a.alloc({256, 512}, MTIA_DTYPE_I32), B = a.alloc({512, 256}, MTIA_DTYPE_I32);
    auto Y = a.alloc({256, 256}, MTIA_DTYPE_I32);
    auto Af = a.alloc({256, 512}), Bf = a.alloc({512, 256}), Yf = a.alloc({256, 256});
    const std::vector<uint32_t> g = {0, 0, cref::bits(1.0f), 0};
    const mtia_op oi = cref::op(MTIA_OP_GEMM, {A, B}, Y, g), of = cref::op(MTIA_OP_GEMM, {Af, Bf}, Yf, g);
    EXPECT_EQ(mtia_compute_op_ns(nullptr, &oi), mtia_compute_op_ns(nullptr, &of));
    EXPECT_GT(mtia_compute_op_ns(nullptr, &oi), 2000u);  // compute-bound: well above the launch cost
}

}  // namespace
