// SPDX-License-Identifier: MIT
// The compute engine's ops against naive references (compute_ref.h) over
// many random shapes and attributes, each with every fused activation,
// through the public C ABI (mtia_compute_run).
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "compute_ref.h"
#include "compute_stop.h"
#include "mtia_compute.h"

namespace {

using cref::Arena;
using cref::Dims;

constexpr uint8_t kActs[] = {MTIA_ACT_NONE, MTIA_ACT_RELU, MTIA_ACT_CLIP, MTIA_ACT_SIGMOID, MTIA_ACT_TANH};

void set_act(mtia_op &o, uint8_t act)
{
    if (act == MTIA_ACT_CLIP)
        cref::set_clip(o, -0.3f, 0.45f);
    else
        o.act = act;
}

uint64_t run(Arena &a, const mtia_op &o)
{
    uint64_t result = 0;
    const uint16_t st = mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &result);
    EXPECT_EQ(st, MTIA_CQE_OK) << "bad op " << result;
    return result;
}

// |got - want| <= tol * (1 + |want|), elementwise.
void expect_near(const std::vector<float> &got, const std::vector<float> &want, double tol, const std::string &what)
{
    ASSERT_EQ(got.size(), want.size()) << what;
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); i++) {
        const double d = std::fabs(double(got[i]) - want[i]);
        if (!(d <= tol * (1 + std::fabs(want[i])))) {
            if (bad++ < 5) ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << want[i];
        }
    }
    EXPECT_EQ(bad, 0u) << what;
}

std::string str(const Dims &d)
{
    std::string s = "(";
    for (size_t i = 0; i < d.size(); i++) s += (i ? "," : "") + std::to_string(d[i]);
    return s + ")";
}

uint32_t rnd(std::mt19937 &rng, uint32_t lo, uint32_t hi)
{
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
}

// ---- CONV ----------------------------------------------------------------------

struct ConvCase {
    uint32_t n, c, h, w, m, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, g;
    bool bias;
};

uint32_t conv_out(uint32_t in, uint32_t k, uint32_t s, uint32_t d, uint32_t p0, uint32_t p1)
{
    return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
}

void check_conv(const ConvCase &k, uint8_t act, uint64_t seed)
{
    std::mt19937 rng(static_cast<uint32_t>(seed));
    Arena a;
    const Dims xd{k.n, k.c, k.h, k.w}, wd{k.m, k.c / k.g, k.kh, k.kw};
    const Dims yd{k.n, k.m, conv_out(k.h, k.kh, k.sh, k.dh, k.pt, k.pb), conv_out(k.w, k.kw, k.sw, k.dw, k.pl, k.pr)};
    auto x = a.alloc(xd), w = a.alloc(wd), b = a.alloc({k.m}), y = a.alloc(yd);
    a.fill_random(x, rng);
    a.fill_random(w, rng);
    a.fill_random(b, rng);
    std::vector<mtia_tensor_desc> in{x, w};
    if (k.bias) in.push_back(b);
    mtia_op o = cref::op(MTIA_OP_CONV, in, y, {k.sh, k.sw, k.pt, k.pl, k.pb, k.pr, k.dh, k.dw, k.g});
    set_act(o, act);
    const auto bv = a.get(b);
    const auto want = cref::conv(a.get(x), xd, a.get(w), wd, k.bias ? &bv : nullptr, yd, o);
    EXPECT_GT(run(a, o), 0u);
    expect_near(a.get(y), want, 1e-4,
                "conv x" + str(xd) + " w" + str(wd) + " g" + std::to_string(k.g) + " act" + std::to_string(act));
}

TEST(ComputeConv, FixedShapes)
{
    const ConvCase cases[] = {
        {1, 3, 8, 8, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true},       // same conv
        {2, 8, 9, 7, 16, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, false},     // stride 2
        {1, 16, 10, 10, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, true},  // depthwise
        {1, 8, 12, 12, 8, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 2, true},     // dilation 2, groups 2
        {1, 4, 7, 9, 6, 2, 3, 1, 2, 0, 2, 1, 0, 1, 1, 1, true},       // asymmetric pads
        {3, 32, 5, 5, 64, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, true},     // 1x1
        {1, 3, 32, 32, 16, 7, 7, 2, 2, 3, 3, 3, 3, 1, 1, 1, false},   // resnet stem-like
    };
    for (size_t i = 0; i < std::size(cases); i++)
        for (uint8_t act : kActs) check_conv(cases[i], act, i * 31 + act);
}

TEST(ComputeConv, RandomShapes)
{
    std::mt19937 rng(1234);
    for (int t = 0; t < 60; t++) {
        ConvCase k{};
        k.g = rnd(rng, 0, 3) == 0 ? rnd(rng, 2, 4) : 1;
        k.n = rnd(rng, 1, 3);
        k.c = k.g * rnd(rng, 1, 6);
        k.m = k.g * rnd(rng, 1, 6);
        if (rnd(rng, 0, 5) == 0) k.m = k.c = k.g = rnd(rng, 2, 12);  // depthwise
        k.kh = rnd(rng, 1, 4);
        k.kw = rnd(rng, 1, 4);
        k.dh = rnd(rng, 1, 2);
        k.dw = rnd(rng, 1, 2);
        k.sh = rnd(rng, 1, 3);
        k.sw = rnd(rng, 1, 3);
        const uint32_t eh = k.dh * (k.kh - 1) + 1, ew = k.dw * (k.kw - 1) + 1;
        k.pt = rnd(rng, 0, eh - 1);
        k.pb = rnd(rng, 0, eh - 1);
        k.pl = rnd(rng, 0, ew - 1);
        k.pr = rnd(rng, 0, ew - 1);
        k.h = rnd(rng, std::max<int>(1, int(eh) - int(k.pt + k.pb)), 14);
        k.w = rnd(rng, std::max<int>(1, int(ew) - int(k.pl + k.pr)), 14);
        k.bias = rnd(rng, 0, 1);
        check_conv(k, kActs[t % 5], t);
    }
}

// Many images (2.3 G MACs): the kernel runs them in two chunks. Images on
// both sides of the chunk boundary are checked against the reference.
// 3-D convolution (NCDHW) over random shapes, groups, pads and dilations.
TEST(ComputeConv, ThreeDimensionalRandom)
{
    std::mt19937 rng(77);
    for (int t = 0; t < 30; t++) {
        const uint32_t g = rnd(rng, 0, 2) == 0 ? 2 : 1;
        uint32_t k[3], s[3], d[3], p0[3], p1[3], in[3], out[3];
        for (int i = 0; i < 3; i++) {
            k[i] = rnd(rng, 1, 3);
            s[i] = rnd(rng, 1, 2);
            d[i] = rnd(rng, 1, 2);
            const uint32_t e = d[i] * (k[i] - 1) + 1;
            p0[i] = rnd(rng, 0, e - 1);
            p1[i] = rnd(rng, 0, e - 1);
            in[i] = rnd(rng, std::max<int>(1, int(e) - int(p0[i] + p1[i])), 7);
            out[i] = conv_out(in[i], k[i], s[i], d[i], p0[i], p1[i]);
        }
        const uint32_t n = rnd(rng, 1, 2), c = g * rnd(rng, 1, 3), m = g * rnd(rng, 1, 3);
        const Dims xd{n, c, in[0], in[1], in[2]}, wd{m, c / g, k[0], k[1], k[2]}, yd{n, m, out[0], out[1], out[2]};
        Arena a;
        auto x = a.alloc(xd), w = a.alloc(wd), b = a.alloc({m}), y = a.alloc(yd);
        a.fill_random(x, rng);
        a.fill_random(w, rng);
        a.fill_random(b, rng);
        const bool bias = t % 2;
        std::vector<mtia_tensor_desc> ins{x, w};
        if (bias) ins.push_back(b);
        mtia_op o = cref::op(MTIA_OP_CONV, ins, y,
                             {s[1], s[2], p0[1], p0[2], p1[1], p1[2], d[1], d[2], g, s[0], d[0], p0[0], p1[0]});
        set_act(o, kActs[t % 5]);
        const auto bv = a.get(b);
        const auto want = cref::conv3d(a.get(x), xd, a.get(w), wd, bias ? &bv : nullptr, yd, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-4, "conv3d x" + str(xd) + " w" + str(wd) + " g" + std::to_string(g));
    }
}

TEST(ComputeConv, LargeBatchInChunks)
{
    std::mt19937 rng(7);
    Arena a;
    const uint32_t n = 80;
    const Dims xd{n, 64, 28, 28}, wd{64, 64, 3, 3}, yd{n, 64, 28, 28};
    auto x = a.alloc(xd), w = a.alloc(wd), b = a.alloc({64}), y = a.alloc(yd);
    a.fill_random(x, rng);
    a.fill_random(w, rng);
    a.fill_random(b, rng);
    mtia_op o = cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1}, MTIA_ACT_RELU);
    run(a, o);
    const uint64_t img = cref::count(xd) / n;
    const auto xv = a.get(x), yv = a.get(y), bv = a.get(b);
    for (uint32_t i : {0u, 1u, 73u, 74u, 79u}) {
        const std::vector<float> xi(xv.begin() + i * img, xv.begin() + (i + 1) * img);
        const auto want = cref::conv(xi, {1, 64, 28, 28}, a.get(w), wd, &bv, {1, 64, 28, 28}, o);
        expect_near(std::vector<float>(yv.begin() + i * img, yv.begin() + (i + 1) * img), want, 1e-4,
                    "image " + std::to_string(i));
    }
}

// One image that is more than a chunk of work (4.8 G MACs, groups 2): the
// kernel runs chunks of 113 output channels within each group (113 + 15).
// Channels on both sides of every boundary are checked.
TEST(ComputeConv, HugeImageInChannelChunks)
{
    std::mt19937 rng(8);
    Arena a;
    const Dims xd{1, 256, 128, 128}, wd{256, 128, 3, 3}, yd{1, 256, 128, 128};
    auto x = a.alloc(xd), w = a.alloc(wd), b = a.alloc({256}), y = a.alloc(yd);
    a.fill_random(x, rng);
    a.fill_random(w, rng);
    a.fill_random(b, rng);
    mtia_op o = cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, 2}, MTIA_ACT_TANH);
    run(a, o);
    const uint64_t plane = 128 * 128, filt = 128 * 9;
    const auto xv = a.get(x), wv = a.get(w), bv = a.get(b), yv = a.get(y);
    for (uint32_t m : {0u, 112u, 113u, 127u, 128u, 240u, 241u, 255u}) {
        const uint32_t g = m / 128;  // its group's 128 input channels
        const std::vector<float> xg(xv.begin() + g * 128 * plane, xv.begin() + (g + 1) * 128 * plane);
        const std::vector<float> wm(wv.begin() + m * filt, wv.begin() + (m + 1) * filt);
        const std::vector<float> bm{bv[m]};
        mtia_op one = o;
        one.attrs[MTIA_CONV_GROUPS] = 1;
        const auto want = cref::conv(xg, {1, 128, 128, 128}, wm, {1, 128, 3, 3}, &bm, {1, 1, 128, 128}, one);
        expect_near(std::vector<float>(yv.begin() + m * plane, yv.begin() + (m + 1) * plane), want, 1e-4,
                    "output channel " + std::to_string(m));
    }
}

// The same with chunks of at most 2^20 MACs: output channels of one group
// of one image at a time (groups 1 and 3), checked in full.
TEST(ComputeConv, SmallChannelChunks)
{
    setenv("MTIA_COMPUTE_CHUNK_WORK", "1048576", 1);
    // 30 output channels of 43 K MACs each: 24 + 6.
    check_conv({2, 12, 20, 20, 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, true}, MTIA_ACT_RELU, 3);
    // 3 groups of 20 output channels of 115 K MACs: 9 + 9 + 2 per group.
    check_conv({2, 24, 40, 40, 60, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3, true}, MTIA_ACT_CLIP, 4);
    // Depthwise, 16 channels of 147 K MACs: one at a time.
    check_conv({1, 16, 128, 128, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 16, false}, MTIA_ACT_NONE, 5);
    unsetenv("MTIA_COMPUTE_CHUNK_WORK");
}

// The conv kernel reuses reordered weights across runs only while the
// arena's weight bytes are unchanged: a change of a single weight between
// runs, and two ops of one shape with different weights in one program,
// give the right results.
TEST(ComputeConv, ChangedWeightsAreNeverStale)
{
    std::mt19937 rng(77);
    Arena a;
    const Dims xd{1, 32, 20, 20}, wd{32, 32, 3, 3}, yd{1, 32, 20, 20};
    auto x = a.alloc(xd), w1 = a.alloc(wd), w2 = a.alloc(wd), y1 = a.alloc(yd), y2 = a.alloc(yd);
    a.fill_random(x, rng);
    a.fill_random(w1, rng);
    a.fill_random(w2, rng);
    const std::vector<uint32_t> attrs{1, 1, 1, 1, 1, 1, 1, 1, 1};
    std::vector<mtia_op> prog{cref::op(MTIA_OP_CONV, {x, w1}, y1, attrs), cref::op(MTIA_OP_CONV, {x, w2}, y2, attrs)};
    for (int round = 0; round < 4; round++) {
        if (round == 1) a.at(w1)[1234] += 0.5f;                 // one weight
        if (round == 2) a.at(w2)[cref::count(wd) - 1] = -3.0f;  // the last byte range
        if (round == 3) std::swap_ranges(a.at(w1), a.at(w1) + cref::count(wd), a.at(w2));
        uint64_t r;
        ASSERT_EQ(mtia_compute_run(prog.data(), 2, a.data(), a.size(), nullptr, nullptr, &r), MTIA_CQE_OK);
        expect_near(a.get(y1), cref::conv(a.get(x), xd, a.get(w1), wd, nullptr, yd, prog[0]), 1e-4,
                    "round " + std::to_string(round) + " op 0");
        expect_near(a.get(y2), cref::conv(a.get(x), xd, a.get(w2), wd, nullptr, yd, prog[1]), 1e-4,
                    "round " + std::to_string(round) + " op 1");
    }
}

// ---- GEMM ----------------------------------------------------------------------

void check_gemm(const Dims &batch, uint32_t m, uint32_t n, uint32_t k, bool ta, bool tb, bool a2d, bool b2d, int c_mode,
                float alpha, float beta, uint8_t act, uint64_t seed)
{
    std::mt19937 rng(static_cast<uint32_t>(seed));
    Arena a;
    Dims ad = a2d ? Dims{} : batch, bd = b2d ? Dims{} : batch, yd = batch;
    ad.insert(ad.end(), {ta ? k : m, ta ? m : k});
    bd.insert(bd.end(), {tb ? n : k, tb ? k : n});
    yd.insert(yd.end(), {m, n});
    auto A = a.alloc(ad), B = a.alloc(bd), y = a.alloc(yd);
    a.fill_random(A, rng);
    a.fill_random(B, rng);
    std::vector<mtia_tensor_desc> in{A, B};
    Dims cd;
    mtia_tensor_desc C{};
    if (c_mode) {
        cd = yd;
        // 1: full; 2: row vector (bias); 3: column; 4: random broadcast dims
        for (size_t i = 0; i < cd.size(); i++) {
            const bool last = i + 1 == cd.size(), row = i + 2 == cd.size();
            if ((c_mode == 2 && !last) || (c_mode == 3 && !row) || (c_mode == 4 && rnd(rng, 0, 1))) cd[i] = 1;
        }
        C = a.alloc(cd);
        a.fill_random(C, rng);
        in.push_back(C);
    }
    mtia_op o = cref::op(MTIA_OP_GEMM, in, y, {ta, tb, cref::bits(alpha), cref::bits(beta)});
    set_act(o, act);
    const auto cv = c_mode ? a.get(C) : std::vector<float>();
    const auto want = cref::gemm(a.get(A), ad, a.get(B), bd, c_mode ? &cv : nullptr, cd, yd, o);
    EXPECT_GT(run(a, o), 0u);
    expect_near(
        a.get(y), want, 1e-4,
        "gemm A" + str(ad) + " B" + str(bd) + " C" + str(cd) + " ta" + std::to_string(ta) + " tb" + std::to_string(tb));
}

TEST(ComputeGemm, FixedShapes)
{
    for (uint8_t act : kActs) {
        check_gemm({}, 4, 5, 6, false, false, true, true, 0, 1, 0, act, 1);
        check_gemm({}, 1, 1000, 512, false, true, true, true, 2, 1, 1, act, 2);  // FC + bias
        check_gemm({3}, 7, 9, 5, true, false, false, false, 1, 0.5f, 2, act, 3);
        check_gemm({2, 3}, 4, 8, 16, false, true, false, true, 4, -1, 0.25f, act, 4);
        check_gemm({5}, 6, 3, 4, true, true, true, false, 3, 2, 1, act, 5);
    }
}

TEST(ComputeGemm, RandomShapes)
{
    std::mt19937 rng(99);
    for (int t = 0; t < 60; t++) {
        Dims batch;
        const uint32_t nb = rnd(rng, 0, 3);
        for (uint32_t i = 0; i < nb; i++) batch.push_back(rnd(rng, 1, 3));
        const bool a2d = nb && rnd(rng, 0, 2) == 0, b2d = nb && !a2d && rnd(rng, 0, 1);
        check_gemm(batch, rnd(rng, 1, 17), rnd(rng, 1, 17), rnd(rng, 1, 33), rnd(rng, 0, 1), rnd(rng, 0, 1), a2d, b2d,
                   rnd(rng, 0, 4), rnd(rng, 0, 1) ? 1.0f : 0.75f, rnd(rng, 0, 2) * 0.5f, kActs[t % 5], t);
    }
}

// out == C (in place: out = alpha AB + beta out).
TEST(ComputeGemm, AccumulateIntoC)
{
    std::mt19937 rng(5);
    Arena a;
    auto A = a.alloc({3, 4}), B = a.alloc({4, 5}), y = a.alloc({3, 5});
    a.fill_random(A, rng);
    a.fill_random(B, rng);
    a.fill_random(y, rng);
    mtia_op o = cref::op(MTIA_OP_GEMM, {A, B, y}, y, {0, 0, cref::bits(1), cref::bits(0.5f)});
    const auto c0 = a.get(y);
    const auto want = cref::gemm(a.get(A), {3, 4}, a.get(B), {4, 5}, &c0, {3, 5}, {3, 5}, o);
    run(a, o);
    expect_near(a.get(y), want, 1e-5, "gemm in place");
}

// Rows of a big product (2.5 G MACs) run in chunks of 256 rows; rows on
// both sides of a boundary are checked.
TEST(ComputeGemm, LargeInChunks)
{
    std::mt19937 rng(9);
    Arena a;
    const uint32_t m = 300, n = 2048, k = 4096;
    auto A = a.alloc({m, k}), B = a.alloc({n, k}), C = a.alloc({n}), y = a.alloc({m, n});
    a.fill_random(A, rng);
    a.fill_random(B, rng);
    a.fill_random(C, rng);
    C.ndim = 2;  // (1, n)
    C.dims[0] = 1;
    C.dims[1] = n;
    mtia_op o = cref::op(MTIA_OP_GEMM, {A, B, C}, y, {0, 1, cref::bits(0.5f), cref::bits(2)});
    run(a, o);
    const float *pa = a.at(A), *pb = a.at(B), *pc = a.at(C), *py = a.at(y);
    size_t bad = 0;
    for (uint32_t i : {0u, 255u, 256u, 299u})
        for (uint32_t j = 0; j < n; j++) {
            double s = 0;
            for (uint32_t l = 0; l < k; l++) s += double(pa[i * k + l]) * pb[j * k + l];
            const double want = 0.5 * s + 2.0 * pc[j];
            if (std::fabs(py[i * n + j] - want) > 1e-4 * (1 + std::fabs(want)) && bad++ < 5)
                ADD_FAILURE() << "row " << i << " col " << j << " got " << py[i * n + j] << " want " << want;
        }
    EXPECT_EQ(bad, 0u);
}

// ---- BINARY --------------------------------------------------------------------

void check_binary(const Dims &ad, const Dims &bd, const Dims &yd, uint32_t kind, uint8_t act, int alias, uint64_t seed)
{
    std::mt19937 rng(static_cast<uint32_t>(seed));
    Arena a;
    auto A = a.alloc(ad), B = a.alloc(bd), y = a.alloc(yd);
    a.fill_random(A, rng, 0.5f, 2);  // away from 0: DIV
    a.fill_random(B, rng, 0.5f, 2);
    if (alias == 1) y = A;
    if (alias == 2) y = B;
    mtia_op o = cref::op(MTIA_OP_BINARY, {A, B}, y, {kind});
    set_act(o, act);
    const auto want = cref::binary(a.get(A), ad, a.get(B), bd, yd, o);
    run(a, o);
    expect_near(a.get(y), want, 1e-6,
                "binary " + std::to_string(kind) + " " + str(ad) + str(bd) + " alias " + std::to_string(alias));
}

TEST(ComputeBinary, BroadcastingAndAliasing)
{
    std::mt19937 rng(7);
    for (int t = 0; t < 120; t++) {
        const uint32_t nd = rnd(rng, 1, 5);
        Dims yd, ad, bd;
        for (uint32_t i = 0; i < nd; i++) {
            yd.push_back(rnd(rng, 1, 5));
            ad.push_back(rnd(rng, 0, 2) ? yd[i] : 1);
            bd.push_back(rnd(rng, 0, 2) ? yd[i] : 1);
        }
        int alias = 0;
        if (t % 4 == 1) ad = yd, alias = 1;
        if (t % 4 == 2) bd = yd, alias = 2;
        check_binary(ad, bd, yd, t % 4, kActs[t % 5], alias, t);
    }
    check_binary({1, 64, 1, 1}, {8, 64, 14, 14}, {8, 64, 14, 14}, MTIA_BINARY_SUB, MTIA_ACT_NONE, 0, 1);
    check_binary({8, 64, 14, 14}, {8, 64, 14, 14}, {8, 64, 14, 14}, MTIA_BINARY_ADD, MTIA_ACT_RELU, 1,
                 2);  // residual add + relu in place
}

// ---- ACT, SOFTMAX -------------------------------------------------------------------

TEST(ComputeAct, EveryActivationOutOfPlaceAndInPlace)
{
    std::mt19937 rng(3);
    for (uint8_t act : kActs)
        for (bool inplace : {false, true}) {
            Arena a;
            const Dims d{3, 5, 7};
            auto x = a.alloc(d), y = a.alloc(d);
            a.fill_random(x, rng, -3, 3);
            if (inplace) y = x;
            mtia_op o = cref::op(MTIA_OP_ACT, {x}, y);
            set_act(o, act);
            std::vector<float> want = a.get(x);
            for (auto &v : want) v = float(cref::act(v, o));
            run(a, o);
            expect_near(a.get(y), want, 1e-6, "act " + std::to_string(act));
        }
}

TEST(ComputeSoftmax, EveryAxis)
{
    std::mt19937 rng(11);
    for (int t = 0; t < 30; t++) {
        Dims d;
        const uint32_t nd = rnd(rng, 1, 4);
        for (uint32_t i = 0; i < nd; i++) d.push_back(rnd(rng, 1, 9));
        Arena a;
        auto x = a.alloc(d), y = a.alloc(d);
        a.fill_random(x, rng, -5, 5);
        if (t % 3 == 0) y = x;
        mtia_op o = cref::op(MTIA_OP_SOFTMAX, {x}, y, {rnd(rng, 0, nd - 1)});
        set_act(o, kActs[t % 5]);
        const auto want = cref::softmax(a.get(x), d, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-5, "softmax " + str(d) + " axis " + std::to_string(o.attrs[0]));
    }
}

// ---- POOL ----------------------------------------------------------------------------

TEST(ComputePool, MaxAndAvgRandom)
{
    std::mt19937 rng(21);
    for (int t = 0; t < 80; t++) {
        const uint32_t kind = t % 2, kh = rnd(rng, 1, 4), kw = rnd(rng, 1, 4);
        const uint32_t dh = kind == MTIA_POOL_MAX ? rnd(rng, 1, 2) : 1;
        const uint32_t dw = kind == MTIA_POOL_MAX ? rnd(rng, 1, 2) : 1;
        const uint32_t eh = dh * (kh - 1) + 1, ew = dw * (kw - 1) + 1;
        const uint32_t pt = rnd(rng, 0, eh - 1), pb = rnd(rng, 0, eh - 1);
        const uint32_t pl = rnd(rng, 0, ew - 1), pr = rnd(rng, 0, ew - 1);
        const uint32_t sh = rnd(rng, 1, 3), sw = rnd(rng, 1, 3);
        const uint32_t h = rnd(rng, std::max<int>(1, int(eh) - int(pt + pb)), 12);
        const uint32_t w = rnd(rng, std::max<int>(1, int(ew) - int(pl + pr)), 12);
        const Dims xd{rnd(rng, 1, 3), rnd(rng, 1, 5), h, w};
        const Dims yd{xd[0], xd[1], conv_out(h, kh, sh, dh, pt, pb), conv_out(w, kw, sw, dw, pl, pr)};
        Arena a;
        auto x = a.alloc(xd), y = a.alloc(yd);
        a.fill_random(x, rng);
        const uint32_t count_pad = kind == MTIA_POOL_AVG ? rnd(rng, 0, 1) : 0;
        mtia_op o = cref::op(MTIA_OP_POOL, {x}, y, {kind, kh, kw, sh, sw, pt, pl, pb, pr, count_pad, dh, dw});
        set_act(o, kActs[t % 5]);
        const auto want = cref::pool(a.get(x), xd, yd, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-5,
                    std::string(kind ? "avg" : "max") + " pool " + str(xd) + " k" + std::to_string(kh) + "x" +
                        std::to_string(kw) + " count_pad " + std::to_string(count_pad));
    }
}

// 3-D pooling (NCDHW): depth attrs packed as the spec says.
TEST(ComputePool, ThreeDimensionalRandom)
{
    std::mt19937 rng(33);
    for (int t = 0; t < 40; t++) {
        const uint32_t kind = t % 2;
        uint32_t k[3], s[3], d[3], p0[3], p1[3], in[3], out[3];
        for (int i = 0; i < 3; i++) {
            k[i] = rnd(rng, 1, 3);
            s[i] = rnd(rng, 1, 2);
            d[i] = kind == MTIA_POOL_MAX ? rnd(rng, 1, 2) : 1;
            const uint32_t e = d[i] * (k[i] - 1) + 1;
            p0[i] = rnd(rng, 0, e - 1);
            p1[i] = rnd(rng, 0, e - 1);
            in[i] = rnd(rng, std::max<int>(1, int(e) - int(p0[i] + p1[i])), 7);
            out[i] = conv_out(in[i], k[i], s[i], d[i], p0[i], p1[i]);
        }
        const Dims xd{rnd(rng, 1, 2), rnd(rng, 1, 4), in[0], in[1], in[2]};
        const Dims yd{xd[0], xd[1], out[0], out[1], out[2]};
        Arena a;
        auto x = a.alloc(xd), y = a.alloc(yd);
        a.fill_random(x, rng);
        const uint32_t count_pad = kind == MTIA_POOL_AVG ? rnd(rng, 0, 1) : 0;
        mtia_op o = cref::op(MTIA_OP_POOL, {x}, y,
                             {kind, k[1], k[2], s[1], s[2], p0[1], p0[2], p1[1], p1[2], count_pad, d[1], d[2], k[0],
                              s[0], p0[0] | p1[0] << 16, d[0]});
        set_act(o, kActs[t % 5]);
        const auto want = cref::pool3d(a.get(x), xd, yd, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-5, std::string(kind ? "avg" : "max") + " pool3d " + str(xd) + " -> " + str(yd));
    }
}

// ---- CONV_TRANSPOSE -------------------------------------------------------------------

// 2-D and 3-D over random shapes, strides, dilations, pads, output padding,
// groups and bias, each with a fused activation.
TEST(ComputeConvTranspose, RandomShapes2dAnd3d)
{
    std::mt19937 rng(88);
    for (int t = 0; t < 60; t++) {
        const unsigned nsp = t % 3 == 2 ? 3 : 2;
        const uint32_t g = rnd(rng, 0, 2) == 0 ? 2 : 1;
        const uint32_t n = rnd(rng, 1, 2), c = g * rnd(rng, 1, 3), mg = rnd(rng, 1, 3);
        Dims xd{n, c}, wd{c, mg}, yd{n, mg * g};
        uint32_t s[3], d[3], p0[3], p1[3];
        for (unsigned i = 0; i < nsp; i++) {
            const uint32_t in = rnd(rng, 1, nsp == 3 ? 4 : 6), k = rnd(rng, 1, 3);
            s[i] = rnd(rng, 1, 3);
            d[i] = rnd(rng, 1, 2);
            const int64_t full = int64_t(in - 1) * s[i] + d[i] * (k - 1) + 1;
            p0[i] = rnd(rng, 0, uint32_t(std::min<int64_t>(2, full - 1)));
            p1[i] = rnd(rng, 0, uint32_t(std::min<int64_t>(2, full - 1 - p0[i])));
            const uint32_t outpad = rnd(rng, 0, std::max(s[i], d[i]) - 1);
            xd.push_back(in);
            wd.push_back(k);
            yd.push_back(uint32_t(full - p0[i] - p1[i] + outpad));
        }
        Arena a;
        auto x = a.alloc(xd), w = a.alloc(wd), b = a.alloc({yd[1]}), y = a.alloc(yd);
        a.fill_random(x, rng);
        a.fill_random(w, rng);
        a.fill_random(b, rng);
        const bool bias = t % 2;
        std::vector<mtia_tensor_desc> ins{x, w};
        if (bias) ins.push_back(b);
        const unsigned h = nsp - 2, v = nsp - 1;
        std::vector<uint32_t> attrs = {s[h], s[v], p0[h], p0[v], p1[h], p1[v], d[h], d[v], g};
        if (nsp == 3) attrs.insert(attrs.end(), {s[0], d[0], p0[0], p1[0]});
        mtia_op o = cref::op(MTIA_OP_CONV_TRANSPOSE, ins, y, attrs);
        set_act(o, kActs[t % 5]);
        const auto bv = a.get(b);
        const auto want = cref::conv_transpose(a.get(x), xd, a.get(w), wd, bias ? &bv : nullptr, yd, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-4, "conv_transpose x" + str(xd) + " w" + str(wd) + " -> " + str(yd));
    }
}

// ---- PAD -----------------------------------------------------------------------------

// Every mode over random ranks, pads (negative: cropping; reflect pads past
// the extent) and constants.
TEST(ComputePad, EveryModeRandomPadsAndCrops)
{
    std::mt19937 rng(55);
    const float values[] = {0.0f, -2.5f, 1e30f, -3e38f};
    for (int t = 0; t < 120; t++) {
        const uint32_t mode = t % 3, nd = rnd(rng, 1, 5);
        Dims xd(nd), yd(nd);
        std::vector<uint32_t> attrs = {mode, mode == MTIA_PAD_CONSTANT ? cref::bits(values[t / 3 % 4]) : 0u};
        for (uint32_t i = 0; i < nd; i++) {
            xd[i] = rnd(rng, 1, 6);
            int b = int(rnd(rng, 0, 8)) - 3, e = int(rnd(rng, 0, 8)) - 3;  // -3..5
            while (int(xd[i]) + std::min(b, 0) + std::min(e, 0) < 1) {
                if (b < e)
                    b++;
                else
                    e++;
            }
            yd[i] = uint32_t(int(xd[i]) + b + e);
            attrs.push_back(uint32_t(int32_t(b)));
        }
        Arena a;
        auto x = a.alloc(xd), y = a.alloc(yd);
        a.fill_random(x, rng);
        mtia_op o = cref::op(MTIA_OP_PAD, {x}, y, attrs);
        set_act(o, kActs[t % 5]);
        const auto want = cref::pad(a.get(x), xd, yd, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-6, "pad mode " + std::to_string(mode) + " " + str(xd) + " -> " + str(yd));
    }
}

// Chunks of at most 2^20 taps (MTIA_COMPUTE_CHUNK_WORK, read when a kernel
// is built): 30 channels of 96 x 96 x 3x3 taps (83 K taps each) run in
// chunks of 12 + 12 + 6 channels of one image; 37 images of 20 x 40 x 40
// x 3x3 (288 K taps each) in chunks of 3 images (12 x 3 + 1).
TEST(ComputePool, ChunksOfChannelsAndOfImages)
{
    std::mt19937 rng(23);
    setenv("MTIA_COMPUTE_CHUNK_WORK", "1048576", 1);
    for (uint32_t kind : {MTIA_POOL_MAX, MTIA_POOL_AVG}) {
        for (const Dims &xd : {Dims{2, 30, 96, 96}, Dims{37, 20, 40, 40}}) {
            Arena a;
            const Dims yd{xd[0], xd[1], xd[2], xd[3]};
            auto x = a.alloc(xd), y = a.alloc(yd), guard = a.alloc({4096});
            a.fill_random(x, rng);
            a.set(guard, std::vector<float>(4096, 7.0f));
            mtia_op o = cref::op(MTIA_OP_POOL, {x}, y, {kind, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, MTIA_ACT_RELU);
            if (kind == MTIA_POOL_MAX) o.attrs[MTIA_POOL_COUNT_PAD] = 0;
            run(a, o);
            expect_near(a.get(y), cref::pool(a.get(x), xd, yd, o), 1e-5, (kind ? "avg " : "max ") + str(xd));
            EXPECT_EQ(a.get(guard), std::vector<float>(4096, 7.0f)) << "wrote past out";
        }
    }
    unsetenv("MTIA_COMPUTE_CHUNK_WORK");
}

// ---- TRANSPOSE, COPY_INTO, SLICE ---------------------------------------------------

TEST(ComputeMove, TransposeEveryRankRandomPerms)
{
    std::mt19937 rng(31);
    for (int t = 0; t < 50; t++) {
        const uint32_t nd = rnd(rng, 1, 6);
        Dims xd;
        for (uint32_t i = 0; i < nd; i++) xd.push_back(rnd(rng, 1, 5));
        std::vector<uint32_t> perm(nd);
        for (uint32_t i = 0; i < nd; i++) perm[i] = i;
        std::shuffle(perm.begin(), perm.end(), rng);
        Dims yd(nd);
        for (uint32_t i = 0; i < nd; i++) yd[i] = xd[perm[i]];
        Arena a;
        auto x = a.alloc(xd), y = a.alloc(yd);
        a.fill_random(x, rng);
        mtia_op o = cref::op(MTIA_OP_TRANSPOSE, {x}, y, perm);
        set_act(o, kActs[t % 5]);
        const auto want = cref::transpose(a.get(x), xd, yd, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-6, "transpose " + str(xd));
    }
}

TEST(ComputeMove, ConcatWithCopyIntoAndSplitWithSlice)
{
    std::mt19937 rng(41);
    for (int t = 0; t < 40; t++) {
        const uint32_t nd = rnd(rng, 1, 5), axis = rnd(rng, 0, nd - 1);
        Dims wd;
        for (uint32_t i = 0; i < nd; i++) wd.push_back(rnd(rng, 1, 6));
        wd[axis] += 3;
        Dims pd = wd;
        pd[axis] = rnd(rng, 1, wd[axis]);
        const uint32_t start = rnd(rng, 0, wd[axis] - pd[axis]);
        Arena a;
        auto whole = a.alloc(wd), part = a.alloc(pd);
        a.fill_random(whole, rng);
        a.fill_random(part, rng);
        mtia_op ci = cref::op(MTIA_OP_COPY_INTO, {part}, whole, {axis, start});
        set_act(ci, kActs[t % 5]);
        const auto want = cref::copy_into(a.get(part), pd, a.get(whole), wd, ci);
        run(a, ci);
        expect_near(a.get(whole), want, 1e-6, "copy_into " + str(pd) + " into " + str(wd));

        mtia_op sl = cref::op(MTIA_OP_SLICE, {whole}, part, {axis, start});
        set_act(sl, kActs[(t + 2) % 5]);
        const auto want2 = cref::slice(a.get(whole), wd, pd, sl);
        run(a, sl);
        expect_near(a.get(part), want2, 1e-6, "slice " + str(pd) + " of " + str(wd));
    }
}

// ---- programs ------------------------------------------------------------------------

// conv -> relu-fused -> maxpool -> gemm, the result of each feeding the next,
// and the timing model's sum in the result.
TEST(ComputeProgram, ChainedOpsAndResultIsSumOfOpTimes)
{
    std::mt19937 rng(51);
    Arena a;
    auto x = a.alloc({1, 3, 16, 16}), w = a.alloc({8, 3, 3, 3}), c = a.alloc({1, 8, 16, 16});
    auto p = a.alloc({1, 8, 8, 8}), fw = a.alloc({10, 512}), fy = a.alloc({1, 10});
    a.fill_random(x, rng);
    a.fill_random(w, rng);
    a.fill_random(fw, rng);
    std::vector<mtia_op> prog{
        cref::op(MTIA_OP_CONV, {x, w}, c, {1, 1, 1, 1, 1, 1, 1, 1, 1}, MTIA_ACT_RELU),
        cref::op(MTIA_OP_POOL, {c}, p, {MTIA_POOL_MAX, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1}),
        cref::op(MTIA_OP_GEMM, {cref::tensor(p.offset, {1, 512}), fw}, fy, {0, 1, cref::bits(1), 0})};
    uint64_t result = 0;
    ASSERT_EQ(mtia_compute_run(prog.data(), 3, a.data(), a.size(), nullptr, nullptr, &result), MTIA_CQE_OK);
    uint64_t sum = 0;
    for (auto &o : prog) sum += mtia_compute_op_ns(nullptr, &o);
    EXPECT_EQ(result, sum);
    const auto cv = cref::conv(a.get(x), {1, 3, 16, 16}, a.get(w), {8, 3, 3, 3}, nullptr, {1, 8, 16, 16}, prog[0]);
    const auto pv = cref::pool(cv, {1, 8, 16, 16}, {1, 8, 8, 8}, prog[1]);
    const auto fv = cref::gemm(pv, {1, 512}, a.get(fw), {10, 512}, nullptr, {}, {1, 10}, prog[2]);
    expect_near(a.get(fy), fv, 1e-4, "program output");
}

// The profile (mtia_compute_run_profiled): with a clock that counts its
// reads, the program's start is read first, then each op's start and end;
// records carry the model's estimate and the bytes of every tensor; the
// header is written last. An invalid program leaves both untouched.
TEST(ComputeProgram, ProfiledRunRecordsEveryOp)
{
    Arena a;
    auto x = a.alloc({2, 8}), w = a.alloc({8, 3}), y = a.alloc({2, 3}), z = a.alloc({2, 3});
    std::vector<mtia_op> prog{cref::op(MTIA_OP_GEMM, {x, w}, y, {0, 0, cref::bits(1), 0}),
                              cref::op(MTIA_OP_ACT, {y}, z, {}, MTIA_ACT_RELU),
                              cref::op(MTIA_OP_BINARY, {y, z}, y, {MTIA_BINARY_ADD})};
    uint64_t reads = 100;
    mtia_profile_header h{};
    std::vector<mtia_op_profile> r(prog.size());
    const mtia_compute_profile prof{[](void *p) { return (*static_cast<uint64_t *>(p))++; }, &reads, &h, r.data()};
    uint64_t result = 0;
    ASSERT_EQ(mtia_compute_run_profiled(nullptr, prog.data(), 3, a.data(), a.size(), nullptr, nullptr, &prof, &result),
              MTIA_CQE_OK);
    EXPECT_EQ(h.magic, MTIA_PROFILE_MAGIC);
    EXPECT_EQ(h.n_ops, 3u);
    EXPECT_EQ(h.start_ns, 100u);
    EXPECT_EQ(h.end_ns, 106u);
    EXPECT_EQ(h.model_ns, result);
    EXPECT_EQ(reads, 107u);  // 1 + 2 per op
    uint64_t sum = 0;
    for (size_t i = 0; i < r.size(); i++) {
        EXPECT_EQ(r[i].start_ns, 101 + 2 * i);
        EXPECT_EQ(r[i].end_ns, 102 + 2 * i);
        EXPECT_EQ(r[i].model_ns, mtia_compute_op_ns(nullptr, &prog[i]));
        EXPECT_EQ(r[i].bytes, mtia_compute_op_bytes(&prog[i]));
        sum += r[i].model_ns;
    }
    EXPECT_EQ(sum, result);
    EXPECT_EQ(r[0].bytes, (16 + 24 + 6) * 4u);
    EXPECT_EQ(r[1].bytes, (6 + 6) * 4u);
    EXPECT_EQ(r[2].bytes, (6 + 6 + 6) * 4u);
    // The same run without a profile gives the same estimate.
    uint64_t plain = 0;
    ASSERT_EQ(mtia_compute_run_profiled(nullptr, prog.data(), 3, a.data(), a.size(), nullptr, nullptr, nullptr, &plain),
              MTIA_CQE_OK);
    EXPECT_EQ(plain, result);
    // Invalid: nothing recorded.
    h = {};
    r.assign(r.size(), mtia_op_profile{});
    prog[2].out.offset = a.size();
    EXPECT_EQ(mtia_compute_run_profiled(nullptr, prog.data(), 3, a.data(), a.size(), nullptr, nullptr, &prof, &result),
              MTIA_CQE_BAD_PROGRAM);
    EXPECT_EQ(result, 2u);
    EXPECT_EQ(h.magic, 0u);
    EXPECT_EQ(r[0].end_ns, 0u);
}

// should_stop is polled between ops: a stop after the first op leaves the
// second one unrun.
TEST(ComputeProgram, ShouldStopAbortsBetweenOps)
{
    Arena a;
    auto x = a.alloc({4}), y = a.alloc({4}), z = a.alloc({4});
    a.set(x, {-1, 2, -3, 4});
    a.set(z, {7, 7, 7, 7});
    std::vector<mtia_op> prog{cref::op(MTIA_OP_ACT, {x}, y, {}, MTIA_ACT_RELU),
                              cref::op(MTIA_OP_ACT, {x}, z, {}, MTIA_ACT_RELU)};
    struct Poll {
        int calls = 0;
    } poll;
    auto stop = [](void *p) -> int { return ++static_cast<Poll *>(p)->calls > 1; };
    uint64_t result = 123;
    EXPECT_EQ(mtia_compute_run(prog.data(), 2, a.data(), a.size(), stop, &poll, &result), MTIA_CQE_ABORTED);
    EXPECT_EQ(result, 0u);
    EXPECT_EQ(a.get(y), (std::vector<float>{0, 2, 0, 4}));
    EXPECT_EQ(a.get(z), (std::vector<float>{7, 7, 7, 7}));
}

// A large conv is chunked over images and polls between chunks.
TEST(ComputeProgram, ShouldStopAbortsInsideALargeOp)
{
    Arena a;
    auto x = a.alloc({64, 64, 56, 56}), w = a.alloc({64, 64, 3, 3}), y = a.alloc({64, 64, 56, 56});
    mtia_op o = cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    int polls = 0;
    EXPECT_EQ(cref::run_stopping_at_second_poll(a, o, &polls), MTIA_CQE_ABORTED);
    EXPECT_EQ(polls, 2);  // before the op, then after its first chunk
}

// Two threads running programs at once (two devices) get correct results.
TEST(ComputeProgram, ConcurrentRuns)
{
    auto worker = [](uint32_t seed, bool *ok) {
        std::mt19937 rng(seed);
        Arena a;
        auto x = a.alloc({2, 8, 12, 12}), w = a.alloc({8, 8, 3, 3}), y = a.alloc({2, 8, 12, 12});
        a.fill_random(x, rng);
        a.fill_random(w, rng);
        mtia_op o = cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
        const auto want = cref::conv(a.get(x), {2, 8, 12, 12}, a.get(w), {8, 8, 3, 3}, nullptr, {2, 8, 12, 12}, o);
        *ok = true;
        for (int i = 0; i < 20; i++) {
            uint64_t r;
            if (mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &r) != MTIA_CQE_OK) *ok = false;
            const auto got = a.get(y);
            for (size_t k = 0; k < got.size(); k++)
                if (std::fabs(got[k] - want[k]) > 1e-4 * (1 + std::fabs(want[k]))) *ok = false;
        }
    };
    bool ok1 = false, ok2 = false;
    std::thread t1(worker, 1, &ok1), t2(worker, 2, &ok2);
    t1.join();
    t2.join();
    EXPECT_TRUE(ok1);
    EXPECT_TRUE(ok2);
}

}  // namespace
