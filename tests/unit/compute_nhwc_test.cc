// SPDX-License-Identifier: MIT
// Channels-last CONV and POOL (MTIA_OP_F_IN_NHWC / MTIA_OP_F_OUT_NHWC):
// every combination of the two flags against the naive NCHW reference on
// the same data, over random shapes (groups, depthwise, strides, pads,
// dilation, bias, activations), in whole images and in the chunks of
// output channels a huge image runs in; F16 through the widening path; and
// the validator's rules for the flags.
#include <gtest/gtest.h>

#include <cstdlib>

#include "compute_layout_util.h"
#include "mtia/mtia_fp16.h"

namespace {

using cref::Arena;
using cref::Dims;
using namespace clayout;

constexpr uint32_t kFlagSets[] = {MTIA_OP_F_IN_NHWC, MTIA_OP_F_OUT_NHWC, MTIA_OP_F_NHWC};

void check_conv(Arena &a, const mtia_op &o, const std::string &what)
{
    const auto want = conv_reference(a, o, false);
    for (uint32_t f : kFlagSets)
        expect_near(run_flagged(a, o, f), want, 1e-4,
                    what + " conv x" + str(cref::dims(o.in[0])) + " w" + str(cref::dims(o.in[1])) + " flags " +
                        std::to_string(f));
}

TEST(ComputeNhwc, ConvMatchesTheReferenceInEveryLayout)
{
    std::mt19937 rng(7);
    for (int i = 0; i < 24; i++) {
        Arena a;
        const mtia_op o = random_conv_case(a, rng, i);
        check_conv(a, o, "case " + std::to_string(i));
    }
}

// Tiny images take the plain (GEMM) convolution on the arena as it is.
TEST(ComputeNhwc, TinyImageConv)
{
    std::mt19937 rng(8);
    Arena a;
    const auto x = a.alloc({1, 32, 3, 3}), w = a.alloc({48, 32, 3, 3}), b = a.alloc({48}), y = a.alloc({1, 48, 3, 3});
    a.fill_random(x, rng);
    a.fill_random(w, rng);
    a.fill_random(b, rng);
    check_conv(a, cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1}), "tiny");
}

// An image over a chunk's work runs in chunks of output channels of one
// group: channel runs of channels-last tensors (MTIA_COMPUTE_CHUNK_WORK is
// read when a kernel is built; these shapes are used nowhere else).
TEST(ComputeNhwc, ConvInChunksOfChannels)
{
    setenv("MTIA_COMPUTE_CHUNK_WORK", "20000", 1);
    std::mt19937 rng(9);
    for (uint32_t g : {1u, 2u}) {
        Arena a;
        const auto x = a.alloc({2, 6, 13, 11}), w = a.alloc({10, 6 / g, 3, 3}), b = a.alloc({10});
        const auto y = a.alloc({2, 10, 13, 11});
        a.fill_random(x, rng);
        a.fill_random(w, rng);
        a.fill_random(b, rng);
        check_conv(a, cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, g}), "chunked");
    }
    unsetenv("MTIA_COMPUTE_CHUNK_WORK");
}

void check_pool(Arena &a, const mtia_op &o, const std::string &what)
{
    const auto want = cref::pool(a.get(o.in[0]), cref::dims(o.in[0]), cref::dims(o.out), o);
    for (uint32_t f : kFlagSets)
        expect_near(run_flagged(a, o, f), want, 1e-5,
                    what + " pool x" + str(cref::dims(o.in[0])) + " flags " + std::to_string(f));
}

mtia_op random_pool(Arena &a, std::mt19937 &rng, const Dims &xd, uint32_t kind)
{
    const uint32_t k = rnd(rng, 1, 3), s = rnd(rng, 1, 2), p = rnd(rng, 0, k - 1);
    const Dims yd{xd[0], xd[1], out_size(xd[2], k, s, 1, p, p), out_size(xd[3], k, s, 1, p, p)};
    auto x = a.alloc(xd), y = a.alloc(yd);
    a.fill_random(x, rng);
    mtia_op o = cref::op(MTIA_OP_POOL, {x}, y, {kind, k, k, s, s, p, p, p, p, rnd(rng, 0, 1), 1, 1});
    if (kind == MTIA_POOL_MAX) o.attrs[MTIA_POOL_COUNT_PAD] = 0;
    o.act = rnd(rng, 0, 1) ? MTIA_ACT_TANH : MTIA_ACT_NONE;
    return o;
}

TEST(ComputeNhwc, PoolMatchesTheReferenceInEveryLayout)
{
    std::mt19937 rng(10);
    for (int i = 0; i < 16; i++) {
        Arena a;
        const Dims xd{rnd(rng, 1, 3), rnd(rng, 1, 20), rnd(rng, 3, 11), rnd(rng, 3, 11)};
        check_pool(a, random_pool(a, rng, xd, i % 2 ? MTIA_POOL_MAX : MTIA_POOL_AVG), "case " + std::to_string(i));
    }
}

TEST(ComputeNhwc, PoolInChunksOfChannels)
{
    setenv("MTIA_COMPUTE_CHUNK_WORK", "3000", 1);
    std::mt19937 rng(11);
    for (uint32_t kind : {uint32_t{MTIA_POOL_MAX}, uint32_t{MTIA_POOL_AVG}}) {
        Arena a;
        mtia_op o = random_pool(a, rng, {2, 7, 17, 19}, kind);
        o.act = MTIA_ACT_SIGMOID;
        check_pool(a, o, "chunked");
    }
    unsetenv("MTIA_COMPUTE_CHUNK_WORK");
}

// A global pool (a 1x1 out, as resnet18's before the classifier): the
// kernel describes a plain 1x1 out as channels-last when X is, the same
// bytes; batches of images, max and average, whole and in chunks of
// channels.
TEST(ComputeNhwc, GlobalPoolToOnePixel)
{
    std::mt19937 rng(12);
    for (const char *chunk : {"", "3000"}) {
        if (*chunk) setenv("MTIA_COMPUTE_CHUNK_WORK", chunk, 1);
        for (uint32_t kind : {uint32_t{MTIA_POOL_MAX}, uint32_t{MTIA_POOL_AVG}}) {
            Arena a;
            const uint32_t n = rnd(rng, 2, 4), c = *chunk ? 9 : rnd(rng, 16, 40), hw = *chunk ? 21 : 7;
            const auto x = a.alloc({n, c, hw, hw}), y = a.alloc({n, c, 1, 1});
            a.fill_random(x, rng);
            const mtia_op o = cref::op(MTIA_OP_POOL, {x}, y, {kind, hw, hw, hw, hw, 0, 0, 0, 0, 0, 1, 1});
            check_pool(a, o, std::string("global") + (*chunk ? " chunked" : ""));
        }
        unsetenv("MTIA_COMPUTE_CHUNK_WORK");
    }
}

// F16 tensors are widened to F32 copies in their stored order.
TEST(ComputeNhwc, HalfConvWidensInStoredOrder)
{
    std::mt19937 rng(12);
    Arena f;
    const mtia_op o32 = random_conv(f, rng, 2, 8, 7, 12, 1);
    const auto bias = f.get(o32.in[2]);
    const auto want = cref::conv(f.get(o32.in[0]), cref::dims(o32.in[0]), f.get(o32.in[1]), cref::dims(o32.in[1]),
                                 &bias, cref::dims(o32.out), o32);
    // The same values in F16 (they are exact: rounded first), X channels-last.
    Arena h;
    const Dims xd = cref::dims(o32.in[0]), yd = cref::dims(o32.out);
    auto x = h.alloc(nhwc_dims(xd), MTIA_DTYPE_F16), w = h.alloc(cref::dims(o32.in[1]), MTIA_DTYPE_F16);
    auto b = h.alloc(cref::dims(o32.in[2]), MTIA_DTYPE_F16), y = h.alloc(nhwc_dims(yd), MTIA_DTYPE_F16);
    const auto put = [&](const mtia_tensor_desc &t, const std::vector<float> &v) {
        for (size_t i = 0; i < v.size(); i++) {
            const uint16_t bits = mtia_f32_to_f16(v[i]);
            std::memcpy(h.data() + t.offset + 2 * i, &bits, 2);
        }
    };
    put(x, to_nhwc(f.get(o32.in[0]), xd));
    put(w, f.get(o32.in[1]));
    put(b, bias);
    mtia_op o = cref::op(MTIA_OP_CONV, {x, w, b}, y, std::vector<uint32_t>(o32.attrs, o32.attrs + 9));
    o.act = o32.act;
    o.flags = MTIA_OP_F_NHWC;
    uint64_t result = 0;
    ASSERT_EQ(mtia_compute_run(&o, 1, h.data(), h.size(), nullptr, nullptr, &result), MTIA_CQE_OK) << result;
    std::vector<float> got(cref::count(yd));
    for (size_t i = 0; i < got.size(); i++) {
        uint16_t bits;
        std::memcpy(&bits, h.data() + y.offset + 2 * i, 2);
        got[i] = mtia_f16_to_f32(bits);
    }
    // Inputs rounded to F16 and the output too: a loose bound.
    expect_near(from_nhwc(got, yd), want, 2e-2, "f16 conv");
}

TEST(ComputeNhwc, ValidatorChecksTheFlags)
{
    Arena a;
    const auto x = a.alloc({1, 4, 6, 6}), w = a.alloc({8, 4, 3, 3}), y = a.alloc({1, 8, 4, 4});
    const mtia_op conv = cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 0, 0, 0, 0, 1, 1, 1});
    ASSERT_EQ(validate(conv, a.size()), MTIA_CQE_OK);
    // Channels-last X: (N, H, W, C) dims; the NCHW dims are now wrong.
    mtia_op o = conv;
    o.flags = MTIA_OP_F_IN_NHWC;
    EXPECT_EQ(validate(o, a.size()), MTIA_CQE_BAD_PROGRAM) << "NCHW dims given with IN_NHWC";
    o.in[0] = cref::tensor(x.offset, {1, 6, 6, 4});
    EXPECT_EQ(validate(o, a.size()), MTIA_CQE_OK);
    o.flags = MTIA_OP_F_NHWC;
    EXPECT_EQ(validate(o, a.size()), MTIA_CQE_BAD_PROGRAM) << "NCHW out dims given with OUT_NHWC";
    o.out = cref::tensor(y.offset, {1, 4, 4, 8});
    EXPECT_EQ(validate(o, a.size()), MTIA_CQE_OK);
    o.flags = 1u << 3;
    EXPECT_EQ(validate(o, a.size()), MTIA_CQE_BAD_PROGRAM) << "unknown flag";
    // Only CONV and POOL take them.
    const auto g_a = a.alloc({4, 6}), g_b = a.alloc({6, 5}), g_y = a.alloc({4, 5});
    mtia_op gemm = cref::op(MTIA_OP_GEMM, {g_a, g_b}, g_y, {0, 0, cref::bits(1), 0});
    ASSERT_EQ(validate(gemm, a.size()), MTIA_CQE_OK);
    gemm.flags = MTIA_OP_F_IN_NHWC;
    EXPECT_EQ(validate(gemm, a.size()), MTIA_CQE_BAD_PROGRAM) << "flags on GEMM";
    // Not on 3-D convolutions.
    const auto x5 = a.alloc({1, 2, 3, 3, 3}), w5 = a.alloc({2, 2, 1, 1, 1}), y5 = a.alloc({1, 2, 3, 3, 3});
    mtia_op c3 = cref::op(MTIA_OP_CONV, {x5, w5}, y5, {1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0});
    ASSERT_EQ(validate(c3, a.size()), MTIA_CQE_OK);
    c3.flags = MTIA_OP_F_OUT_NHWC;
    EXPECT_EQ(validate(c3, a.size()), MTIA_CQE_BAD_PROGRAM) << "flags on a 3-D CONV";
}

}  // namespace
