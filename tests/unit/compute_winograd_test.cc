// SPDX-License-Identifier: MIT
// CONV by Winograd (mtia_compute_conv.cc: dense 3x3 stride-1 convolutions
// on oneDNN's blocked layouts, where the host's oneDNN has the kernel)
// against the naive reference and against the direct convolution: random
// shapes and pads, bias or none, each activation, the residual sum
// (MTIA_OP_F_ACCUM), every storage layout of X and out, images in chunks,
// and weights changed between runs. On a host without the kernel the same
// cases check the direct fallback.
#include <gtest/gtest.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <cstdlib>

#include "compute_layout_util.h"

namespace {

using cref::Arena;
using cref::Dims;
using namespace clayout;

constexpr uint32_t kLayouts[] = {0, MTIA_OP_F_IN_NHWC, MTIA_OP_F_OUT_NHWC, MTIA_OP_F_NHWC};

// Winograd sums the products in another order through its transforms: its
// error against the double-precision reference, measured over these cases,
// is at most 2.1e-5 (relative to 1 + |value|), the direct convolution's 8.1e-6.
constexpr double kTol = 1e-4;

// Whether this host's oneDNN has a Winograd convolution (AVX-512).
bool host_has_winograd()
{
    using dnnl::memory;
    const auto any = [](const memory::dims &d) {
        return memory::desc(d, memory::data_type::f32, memory::format_tag::any);
    };
    try {
        const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                                dnnl::algorithm::convolution_winograd, any({1, 32, 8, 8}),
                                                any({32, 32, 3, 3}), any({1, 32, 8, 8}), {1, 1}, {1, 1}, {1, 1});
        dnnl::convolution_forward::primitive_desc(d, dnnl::engine(dnnl::engine::kind::cpu, 0));
        return true;
    } catch (const dnnl::error &) {
        return false;
    }
}

// MTIA_CONV_WINOGRAD=@v (nullptr: unset) for the kernels built from now on.
void force_winograd(const char *v)
{
    if (v)
        setenv("MTIA_CONV_WINOGRAD", v, 1);
    else
        unsetenv("MTIA_CONV_WINOGRAD");
    mtia_compute_drop_kernels();
}

class Winograd : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        ::testing::Test::RecordProperty("winograd_on_this_host", host_has_winograd() ? "yes" : "no");
    }
    void TearDown() override { force_winograd(nullptr); }
};

// A random 3x3 stride-1 convolution: 1-3 images, 16-72 channels in and out,
// 4-20 rows, bias or not. Three cases in four have what oneDNN's Winograd
// takes (equal pads of 0 or 1, no activation or RELU); the fourth has
// what it refuses (pads up to 2 and unequal, or another activation), for
// the direct fallback.
mtia_op random_3x3(Arena &a, std::mt19937 &rng)
{
    const bool takes = rnd(rng, 0, 3) != 0;
    const uint32_t n = rnd(rng, 1, 3), c = 8 * rnd(rng, 2, 9), m = 8 * rnd(rng, 2, 9), h = rnd(rng, 4, 20);
    const uint32_t w = rnd(rng, 4, 20), p = rnd(rng, 0, 1);
    uint32_t pt = p, pl = p, pb = p, pr = p;
    if (!takes && rnd(rng, 0, 1)) pt = rnd(rng, 0, 2), pl = rnd(rng, 0, 2), pb = rnd(rng, 0, 2), pr = rnd(rng, 0, 2);
    const Dims xd{n, c, h, w}, wd{m, c, 3, 3}, yd{n, m, out_size(h, 3, 1, 1, pt, pb), out_size(w, 3, 1, 1, pl, pr)};
    auto x = a.alloc(xd), wt = a.alloc(wd), b = a.alloc({m}), y = a.alloc(yd);
    a.fill_random(x, rng);
    a.fill_random(wt, rng);
    a.fill_random(b, rng);
    a.fill_random(y, rng);  // the residual, with ACCUM
    mtia_op o = cref::op(MTIA_OP_CONV, {x, wt, b}, y, {1, 1, pt, pl, pb, pr, 1, 1, 1});
    if (rnd(rng, 0, 3) == 0) o.n_in = 2, o.in[2] = {};
    const uint8_t acts[] = {MTIA_ACT_NONE, MTIA_ACT_RELU, MTIA_ACT_SIGMOID, MTIA_ACT_GELU_ERF};
    o.act = acts[takes ? rnd(rng, 0, 1) : rnd(rng, 0, 3)];
    return o;
}

std::string what(const mtia_op &o, uint32_t flags)
{
    return "x" + str(cref::dims(o.in[0])) + " w" + str(cref::dims(o.in[1])) + " pads " +
           std::to_string(o.attrs[MTIA_CONV_PAD_T]) + std::to_string(o.attrs[MTIA_CONV_PAD_L]) +
           std::to_string(o.attrs[MTIA_CONV_PAD_B]) + std::to_string(o.attrs[MTIA_CONV_PAD_R]) + " act " +
           std::to_string(o.act) + " bias " + std::to_string(o.n_in == 3) + " flags " + std::to_string(flags);
}

// Every case with Winograd forced on, then forced off: each against the
// reference, and the two against each other.
TEST_F(Winograd, MatchesTheReferenceAndTheDirectConvolution)
{
    std::mt19937 rng(31);
    for (int i = 0; i < 24; i++) {
        Arena a;
        const mtia_op o = random_3x3(a, rng);
        for (uint32_t layout : kLayouts)
            for (uint32_t accum : {0u, uint32_t(MTIA_OP_F_ACCUM)}) {
                const uint32_t f = layout | accum;
                const auto want = conv_reference(a, o, accum);
                force_winograd("1");
                const auto wino = run_flagged(a, o, f);
                force_winograd("0");
                const auto direct = run_flagged(a, o, f);
                expect_near(wino, want, kTol, "winograd " + what(o, f));
                expect_near(direct, want, kTol, "direct " + what(o, f));
                expect_near(wino, direct, kTol, "winograd against direct " + what(o, f));
            }
    }
}

// The default choice (unset): Winograd from 32 channels in and out, direct
// below; both right.
TEST_F(Winograd, DefaultChoiceOnEitherSideOfTheThreshold)
{
    std::mt19937 rng(32);
    for (uint32_t c : {16u, 24u, 32u, 64u}) {
        Arena a;
        mtia_op o = same_conv3x3(a, rng, {2, c, 14, 14}, c);
        o.act = MTIA_ACT_RELU;
        expect_near(run_flagged(a, o, MTIA_OP_F_NHWC), conv_reference(a, o, false), kTol, what(o, MTIA_OP_F_NHWC));
    }
}

// Images in chunks (MTIA_COMPUTE_CHUNK_WORK, read when a kernel is built):
// each chunk's activations reordered on their own.
TEST_F(Winograd, ImagesInChunks)
{
    std::mt19937 rng(33);
    setenv("MTIA_COMPUTE_CHUNK_WORK", "2000000", 1);  // an image is 48 * 100 * 432 MACs
    force_winograd("1");
    Arena a;
    const mtia_op o = same_conv3x3(a, rng, {5, 48, 10, 10}, 48);
    for (uint32_t f : {0u, uint32_t(MTIA_OP_F_NHWC | MTIA_OP_F_ACCUM)})
        expect_near(run_flagged(a, o, f), conv_reference(a, o, f & MTIA_OP_F_ACCUM), kTol, what(o, f));
    unsetenv("MTIA_COMPUTE_CHUNK_WORK");
}

// The transformed weights are reused between runs only while the arena's
// weights are unchanged: one changed weight shows in the next run.
TEST_F(Winograd, ChangedWeightsAreNeverStale)
{
    std::mt19937 rng(34);
    force_winograd("1");
    Arena a;
    const mtia_op o = same_conv3x3(a, rng, {1, 32, 12, 12}, 40, false);
    const mtia_tensor_desc &w = o.in[1];
    for (int run = 0; run < 4; run++) {
        if (run) {
            auto wv = a.get(w);
            wv[std::uniform_int_distribution<size_t>(0, wv.size() - 1)(rng)] += 5.0f;
            a.set(w, wv);
        }
        expect_near(run_flagged(a, o, 0), conv_reference(a, o, false), kTol, "run " + std::to_string(run));
    }
}

}  // namespace
