// SPDX-License-Identifier: MIT
// nChw16c CONV and POOL (MTIA_OP_F_IN_BLK16 / MTIA_OP_F_OUT_BLK16): every
// storage of X and out (plain, channels-last, blocked, mixed) against the
// naive NCHW reference on the same data, over random shapes (strides,
// pads, dilation, bias, activations, the residual sum), with Winograd
// forced on and off; images in chunks, huge images in runs of whole
// blocks of channels; a global pool; and the validator's rules.
#include <gtest/gtest.h>

#include <cstdlib>

#include "compute_layout_util.h"

namespace {

using cref::Arena;
using cref::Dims;
using namespace clayout;

// Each combination of X's and out's storage with at least one side blocked.
std::vector<uint32_t> blocked_flag_sets()
{
    const uint32_t in[] = {0, MTIA_OP_F_IN_NHWC, MTIA_OP_F_IN_BLK16};
    const uint32_t out[] = {0, MTIA_OP_F_OUT_NHWC, MTIA_OP_F_OUT_BLK16};
    std::vector<uint32_t> r;
    for (uint32_t i : in)
        for (uint32_t o : out)
            if ((i | o) & MTIA_OP_F_BLK16) r.push_back(i | o);
    return r;
}

// A random groups-1 CONV of 16-64 channels in and out (multiples of 16):
// kernel 1-3, stride 1-2, dilation 1-2, pads, bias or not, an activation;
// out filled (the residual, with ACCUM).
mtia_op random_conv16(Arena &a, std::mt19937 &rng)
{
    const uint32_t c = 16 * rnd(rng, 1, 4), m = 16 * rnd(rng, 1, 4);
    mtia_op o = random_conv(a, rng, rnd(rng, 1, 3), c, rnd(rng, 5, 14), m, 1);
    a.fill_random(o.out, rng);
    if (rnd(rng, 0, 3) == 0) o.n_in = 2, o.in[2] = {};
    if (rnd(rng, 0, 2) == 0) o.act = MTIA_ACT_SIGMOID;
    return o;
}

std::string what(const mtia_op &o, uint32_t flags)
{
    return "x" + str(cref::dims(o.in[0])) + " w" + str(cref::dims(o.in[1])) + " stride " +
           std::to_string(o.attrs[MTIA_CONV_STRIDE_H]) + " dil " + std::to_string(o.attrs[MTIA_CONV_DIL_H]) + " act " +
           std::to_string(o.act) + " flags " + std::to_string(flags);
}

class Blocked : public ::testing::Test {
protected:
    void TearDown() override
    {
        unsetenv("MTIA_CONV_WINOGRAD");
        unsetenv("MTIA_COMPUTE_CHUNK_WORK");
        mtia_compute_drop_kernels();
    }
};

TEST_F(Blocked, ConvMatchesTheReferenceInEveryStorage)
{
    std::mt19937 rng(41);
    for (int i = 0; i < 12; i++) {
        Arena a;
        const mtia_op o = random_conv16(a, rng);
        for (uint32_t f : blocked_flag_sets())
            for (uint32_t accum : {0u, uint32_t(MTIA_OP_F_ACCUM)})
                expect_near(run_flagged(a, o, f | accum), conv_reference(a, o, accum), 1e-4, what(o, f | accum));
    }
}

// 3x3 stride-1 convolutions, Winograd's shape, forced on and off: on
// blocked X and out it needs no reorder at all.
TEST_F(Blocked, WinogradOnAndOff)
{
    std::mt19937 rng(42);
    for (const char *wino : {"1", "0"}) {
        setenv("MTIA_CONV_WINOGRAD", wino, 1);
        mtia_compute_drop_kernels();
        for (int i = 0; i < 4; i++) {
            Arena a;
            const uint32_t c = 16 * rnd(rng, 2, 4), m = 16 * rnd(rng, 2, 4), hw = rnd(rng, 6, 16);
            mtia_op o = same_conv3x3(a, rng, {2, c, hw, hw}, m);
            o.act = MTIA_ACT_RELU;
            for (uint32_t accum : {0u, uint32_t(MTIA_OP_F_ACCUM)}) {
                const uint32_t f = MTIA_OP_F_BLK16 | accum;
                expect_near(run_flagged(a, o, f), conv_reference(a, o, accum), 1e-4,
                            std::string("winograd ") + wino + " " + what(o, f));
            }
        }
    }
}

// Chunks of images, and an image over a chunk's work in runs of whole
// blocks of output channels (MTIA_COMPUTE_CHUNK_WORK is read when a kernel
// is built; these shapes are used nowhere else).
TEST_F(Blocked, ConvInChunks)
{
    std::mt19937 rng(43);
    // one image: 48 channels * 11 * 9 pixels * 32 * 9 MACs = 1.37 M; chunks
    // of 20 output channels' work round down to 16.
    setenv("MTIA_COMPUTE_CHUNK_WORK", "600000", 1);
    Arena a;
    const mtia_op o = same_conv3x3(a, rng, {2, 32, 11, 9}, 48);
    for (uint32_t f : blocked_flag_sets())
        expect_near(run_flagged(a, o, f | MTIA_OP_F_ACCUM), conv_reference(a, o, true), 1e-4,
                    "channel runs " + what(o, f));
    setenv("MTIA_COMPUTE_CHUNK_WORK", "3000000", 1);  // two images of 1.37 M: one per chunk
    mtia_compute_drop_kernels();
    Arena a2;
    const mtia_op o2 = same_conv3x3(a2, rng, {3, 32, 11, 9}, 48, false);
    for (uint32_t f : blocked_flag_sets())
        expect_near(run_flagged(a2, o2, f), conv_reference(a2, o2, false), 1e-4, "image chunks " + what(o2, f));
}

void check_pool(Arena &a, const mtia_op &o, const std::string &what)
{
    const auto want = cref::pool(a.get(o.in[0]), cref::dims(o.in[0]), cref::dims(o.out), o);
    for (uint32_t f : blocked_flag_sets())
        expect_near(run_flagged(a, o, f), want, 1e-5,
                    what + " pool x" + str(cref::dims(o.in[0])) + " flags " + std::to_string(f));
}

TEST_F(Blocked, PoolMatchesTheReferenceInEveryStorage)
{
    std::mt19937 rng(44);
    for (int i = 0; i < 12; i++) {
        Arena a;
        const Dims xd{rnd(rng, 1, 3), 16 * rnd(rng, 1, 3), rnd(rng, 3, 11), rnd(rng, 3, 11)};
        const uint32_t k = rnd(rng, 1, 3), s = rnd(rng, 1, 2), p = rnd(rng, 0, k - 1);
        const uint32_t kind = i % 2 ? MTIA_POOL_MAX : MTIA_POOL_AVG;
        const auto x = a.alloc(xd),
                   y = a.alloc({xd[0], xd[1], out_size(xd[2], k, s, 1, p, p), out_size(xd[3], k, s, 1, p, p)});
        a.fill_random(x, rng);
        mtia_op o = cref::op(MTIA_OP_POOL, {x}, y, {kind, k, k, s, s, p, p, p, p, kind == MTIA_POOL_AVG, 1, 1});
        o.act = rnd(rng, 0, 1) ? MTIA_ACT_TANH : MTIA_ACT_NONE;
        check_pool(a, o, "case " + std::to_string(i));
    }
}

// A global pool to (N, C, 1, 1), whole and in runs of whole blocks of
// channels: a plain 1x1 out is described as blocked like X (the same bytes).
TEST_F(Blocked, GlobalPoolWholeAndInChannelRuns)
{
    std::mt19937 rng(45);
    for (const char *chunk : {"", "4000"}) {
        if (*chunk) setenv("MTIA_COMPUTE_CHUNK_WORK", chunk, 1);  // 21 * 21 taps: 9 channels a run -> 16
        mtia_compute_drop_kernels();
        for (uint32_t kind : {uint32_t{MTIA_POOL_MAX}, uint32_t{MTIA_POOL_AVG}}) {
            Arena a;
            const uint32_t n = *chunk ? 1 : 3, c = 48, hw = *chunk ? 21 : 7;
            const auto x = a.alloc({n, c, hw, hw}), y = a.alloc({n, c, 1, 1});
            a.fill_random(x, rng);
            const mtia_op o = cref::op(MTIA_OP_POOL, {x}, y, {kind, hw, hw, hw, hw, 0, 0, 0, 0, 0, 1, 1});
            check_pool(a, o, std::string("global") + (*chunk ? " chunked" : ""));
        }
    }
}

TEST_F(Blocked, ValidatorChecksTheFlags)
{
    Arena a;
    const auto x = a.alloc({1, 2, 6, 6, 16}), w = a.alloc({32, 32, 3, 3}), y = a.alloc({1, 2, 4, 4, 16});
    mtia_op conv = cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 0, 0, 0, 0, 1, 1, 1});
    conv.flags = MTIA_OP_F_BLK16;
    EXPECT_EQ(validate(conv, a.size()), MTIA_CQE_OK);
    conv.flags = MTIA_OP_F_BLK16 | MTIA_OP_F_ACCUM;
    EXPECT_EQ(validate(conv, a.size()), MTIA_CQE_OK);
    conv.flags = MTIA_OP_F_IN_BLK16;  // out (1, 2, 4, 4, 16) read as a 3-D NCDHW conv's: refused
    EXPECT_EQ(validate(conv, a.size()), MTIA_CQE_BAD_PROGRAM);
    conv.flags = MTIA_OP_F_BLK16 | MTIA_OP_F_IN_NHWC;  // two layouts on X
    EXPECT_EQ(validate(conv, a.size()), MTIA_CQE_BAD_PROGRAM);
    conv.flags = 1u << 5;  // unknown
    EXPECT_EQ(validate(conv, a.size()), MTIA_CQE_BAD_PROGRAM);
    {  // the last dim is not 16
        mtia_op bad = conv;
        bad.flags = MTIA_OP_F_BLK16;
        bad.in[0] = cref::tensor(x.offset, {1, 4, 6, 6, 8});
        EXPECT_EQ(validate(bad, a.size()), MTIA_CQE_BAD_PROGRAM);
    }
    {  // groups 2
        const auto wg = a.alloc({32, 16, 3, 3});
        mtia_op g2 = cref::op(MTIA_OP_CONV, {x, wg}, y, {1, 1, 0, 0, 0, 0, 1, 1, 2});
        g2.flags = MTIA_OP_F_BLK16;
        EXPECT_EQ(validate(g2, a.size()), MTIA_CQE_BAD_PROGRAM);
    }
    {  // only CONV and POOL
        const auto z = a.alloc({1, 2, 6, 6, 16});
        mtia_op act = cref::op(MTIA_OP_ACT, {x}, z, {});
        act.act = MTIA_ACT_RELU;
        EXPECT_EQ(validate(act, a.size()), MTIA_CQE_OK);
        act.flags = MTIA_OP_F_IN_BLK16;
        EXPECT_EQ(validate(act, a.size()), MTIA_CQE_BAD_PROGRAM);
    }
    {  // a pool from blocked X to a plain 1x1 out
        const auto p1 = a.alloc({1, 32, 1, 1});
        mtia_op pool = cref::op(MTIA_OP_POOL, {x}, p1, {MTIA_POOL_AVG, 6, 6, 6, 6, 0, 0, 0, 0, 0, 1, 1});
        pool.flags = MTIA_OP_F_IN_BLK16;
        EXPECT_EQ(validate(pool, a.size()), MTIA_CQE_OK);
    }
}

}  // namespace
