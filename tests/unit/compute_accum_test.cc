// SPDX-License-Identifier: MIT
// CONV with MTIA_OP_F_ACCUM (a residual ADD fused into the convolution):
// out = act(conv(X, W) + bias + out) against the unfused result -- the
// naive convolution, then the add, then the activation -- on every path a
// convolution takes: oneDNN's layouts with plain or channels-last X and out
// (reordered in and out through scratch, or used as stored), the plain GEMM
// convolution on tiny images, chunks of images, chunks of output channels,
// each layout forced (MTIA_CONV_LAYOUT); and the validator's rules.
#include <gtest/gtest.h>

#include <cstdlib>

#include "compute_layout_util.h"

namespace {

using cref::Arena;
using cref::Dims;
using namespace clayout;

constexpr uint32_t kLayouts[] = {0, MTIA_OP_F_IN_NHWC, MTIA_OP_F_OUT_NHWC, MTIA_OP_F_NHWC};

// Fills out with random values (the residual), then checks the ACCUM conv
// in every storage layout against the unfused reference.
void check_accum(Arena &a, const mtia_op &o, std::mt19937 &rng, const std::string &what)
{
    a.fill_random(o.out, rng);
    const auto want = conv_reference(a, o, true);
    for (uint32_t f : kLayouts)
        expect_near(run_flagged(a, o, f | MTIA_OP_F_ACCUM), want, 1e-4,
                    what + " x" + str(cref::dims(o.in[0])) + " w" + str(cref::dims(o.in[1])) + " layout flags " +
                        std::to_string(f));
}

TEST(ComputeAccum, MatchesConvThenAddInEveryLayout)
{
    std::mt19937 rng(21);
    for (int i = 0; i < 16; i++) {
        Arena a;
        mtia_op o = random_conv_case(a, rng, i);
        if (i % 5 == 4) o.n_in = 2, o.in[2] = {};  // no bias
        check_accum(a, o, rng, "case " + std::to_string(i));
    }
}

// A residual is often negative where the convolution is positive: RELU
// must apply after the sum, not before.
TEST(ComputeAccum, ActivationAppliesAfterTheSum)
{
    Arena a;
    const auto x = a.alloc({1, 2, 4, 4}), w = a.alloc({2, 2, 1, 1}), y = a.alloc({1, 2, 4, 4});
    a.set(x, std::vector<float>(32, 1.0f));
    a.set(w, std::vector<float>(4, 1.0f));  // conv = 2 everywhere
    a.set(y, std::vector<float>(32, -3.0f));
    mtia_op o = cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 0, 0, 0, 0, 1, 1, 1});
    o.act = MTIA_ACT_RELU;
    o.flags = MTIA_OP_F_ACCUM;
    uint64_t bad = 0;
    ASSERT_EQ(mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &bad), MTIA_CQE_OK) << bad;
    for (float v : a.get(y)) ASSERT_EQ(v, 0.0f);  // relu(2 - 3), not relu(2) - 3
}

// Tiny images: the plain GEMM convolution on the arena as it is.
TEST(ComputeAccum, TinyImage)
{
    std::mt19937 rng(22);
    Arena a;
    const auto x = a.alloc({1, 24, 3, 3}), w = a.alloc({40, 24, 3, 3}), b = a.alloc({40}), y = a.alloc({1, 40, 3, 3});
    a.fill_random(x, rng);
    a.fill_random(w, rng);
    a.fill_random(b, rng);
    mtia_op o = cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    o.act = MTIA_ACT_RELU;
    check_accum(a, o, rng, "tiny");
}

// Chunks of images and, for an image over a chunk's work, of output
// channels of one group (MTIA_COMPUTE_CHUNK_WORK is read when a kernel is
// built; these shapes are used nowhere else).
TEST(ComputeAccum, InChunks)
{
    std::mt19937 rng(23);
    setenv("MTIA_COMPUTE_CHUNK_WORK", "60000", 1);
    for (uint32_t g : {1u, 2u}) {  // by channels: one image is 10 * 143 * 54 MACs
        Arena a;
        const auto x = a.alloc({2, 6, 13, 11}), w = a.alloc({10, 6 / g, 3, 3}), b = a.alloc({10});
        const auto y = a.alloc({2, 10, 13, 11});
        a.fill_random(x, rng);
        a.fill_random(w, rng);
        a.fill_random(b, rng);
        check_accum(a, cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, g}), rng, "channel chunks");
    }
    {  // by images: 5 images of 6 * 49 * 36 MACs, 2 per chunk and a tail of 1
        Arena a;
        const auto x = a.alloc({5, 4, 7, 7}), w = a.alloc({6, 4, 3, 3}), b = a.alloc({6}), y = a.alloc({5, 6, 7, 7});
        a.fill_random(x, rng);
        a.fill_random(w, rng);
        a.fill_random(b, rng);
        check_accum(a, cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1}), rng, "image chunks");
    }
    unsetenv("MTIA_COMPUTE_CHUNK_WORK");
}

// Each layout the kernel can pick, forced (shapes unique per layout: the
// variable is read when a kernel is built).
TEST(ComputeAccum, EveryForcedLayout)
{
    std::mt19937 rng(24);
    const char *layouts[] = {"plain", "blocked", "nhwc"};
    for (uint32_t i = 0; i < 3; i++) {
        setenv("MTIA_CONV_LAYOUT", layouts[i], 1);
        Arena a;
        mtia_op o = random_conv(a, rng, 2, 16 + 2 * i, 9, 18 + 2 * i, 1);
        o.act = MTIA_ACT_RELU;
        check_accum(a, o, rng, std::string("forced ") + layouts[i]);
    }
    unsetenv("MTIA_CONV_LAYOUT");
}

TEST(ComputeAccum, ValidatorChecksTheFlag)
{
    Arena a;
    const auto x = a.alloc({1, 4, 6, 6}), w = a.alloc({8, 4, 3, 3}), y = a.alloc({1, 8, 4, 4});
    mtia_op conv = cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 0, 0, 0, 0, 1, 1, 1});
    conv.flags = MTIA_OP_F_ACCUM;
    EXPECT_EQ(validate(conv, a.size()), MTIA_CQE_OK);
    // Only CONV takes it.
    mtia_op pool = cref::op(MTIA_OP_POOL, {x}, cref::tensor(y.offset, {1, 4, 4, 4}),
                            {MTIA_POOL_MAX, 3, 3, 1, 1, 0, 0, 0, 0, 0, 1, 1});
    ASSERT_EQ(validate(pool, a.size()), MTIA_CQE_OK);
    pool.flags = MTIA_OP_F_ACCUM;
    EXPECT_EQ(validate(pool, a.size()), MTIA_CQE_BAD_PROGRAM) << "ACCUM on POOL";
    // Only F32: an F16 CONV would be widened, and the sum would not see out.
    Arena h;
    const auto hx = h.alloc({1, 4, 6, 6}, MTIA_DTYPE_F16), hw = h.alloc({8, 4, 3, 3}, MTIA_DTYPE_F16);
    const auto hy = h.alloc({1, 8, 4, 4}, MTIA_DTYPE_F16);
    mtia_op half = cref::op(MTIA_OP_CONV, {hx, hw}, hy, {1, 1, 0, 0, 0, 0, 1, 1, 1});
    ASSERT_EQ(validate(half, h.size()), MTIA_CQE_OK);
    half.flags = MTIA_OP_F_ACCUM;
    EXPECT_EQ(validate(half, h.size()), MTIA_CQE_BAD_PROGRAM) << "ACCUM on an F16 CONV";
    // Out still overlaps no input.
    mtia_op alias = conv;
    alias.out = cref::tensor(x.offset, {1, 8, 4, 4});
    EXPECT_EQ(validate(alias, a.size()), MTIA_CQE_BAD_PROGRAM) << "ACCUM out over X";
}

}  // namespace
