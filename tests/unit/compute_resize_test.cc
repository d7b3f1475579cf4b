// SPDX-License-Identifier: MIT
// RESIZE against ONNX's own expected outputs (values from its backend test
// data) and against the naive reference (compute_ref_resize.h) over random
// shapes, modes, coordinate transformations, scales and sizes; NEAREST must
// be bit-exact (it is a copy, through oneDNN or the loop), the
// interpolations within 1e-6. Chunked runs and an abort inside the op.
#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "compute_ref_resize.h"
#include "compute_stop.h"
#include "mtia_compute.h"

namespace {

using cref::Arena;
using cref::Dims;

uint16_t run(Arena &a, const mtia_op &o)
{
    uint64_t result = 0;
    return mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &result);
}

std::string str(const Dims &d)
{
    std::string s = "(";
    for (size_t i = 0; i < d.size(); i++) s += (i ? "," : "") + std::to_string(d[i]);
    return s + ")";
}

// attrs: mode, coord, nearest mode, cubic a, exclude, then the scales
// (0 = sizes) of the resized trailing dims.
mtia_op resize_op(const mtia_tensor_desc &x, const mtia_tensor_desc &y, uint32_t mode, uint32_t coord, uint32_t nearest,
                  float a, bool exclude, const std::vector<float> &scales)
{
    std::vector<uint32_t> at = {mode,
                                coord,
                                nearest,
                                mode == MTIA_RESIZE_CUBIC ? cref::bits(a) : 0u,
                                exclude ? 1u : 0u,
                                uint32_t(scales.size())};
    for (float s : scales) at.push_back(s ? cref::bits(s) : 0u);
    return cref::op(MTIA_OP_RESIZE, {x}, y, at);
}

std::vector<float> iota(size_t n)
{
    std::vector<float> v(n);
    for (size_t i = 0; i < n; i++) v[i] = float(i + 1);
    return v;
}

struct Known {
    const char *name;
    Dims xd, yd;
    uint32_t mode, coord, nearest;
    float a;
    bool exclude;
    std::vector<float> scales;
    std::vector<float> want;  // the output's first values
};

// ONNX 1.12's backend test cases (libonnx-testdata, node/test_resize_*):
// input 1..16 (or 1..8), expected output as stored there.
TEST(ComputeResize, OnnxExpectedOutputs)
{
    const Known cases[] = {
        {"downsample_scales_linear_align_corners",
         {1, 1, 2, 4},
         {1, 1, 1, 2},
         MTIA_RESIZE_LINEAR,
         MTIA_RESIZE_ALIGN_CORNERS,
         0,
         0,
         false,
         {0.6f, 0.6f},
         {1.0f, 3.142857f}},
        {"upsample_scales_cubic_A_n0p5_exclude_outside",
         {1, 1, 4, 4},
         {1, 1, 8, 8},
         MTIA_RESIZE_CUBIC,
         MTIA_RESIZE_HALF_PIXEL,
         0,
         -0.5f,
         true,
         {2, 2},
         {0.5588235f, 0.81494206f, 1.3569825f, 1.8970588f, 2.3970587f, 2.9371352f, 3.4791756f, 3.735294f}},
        {"downsample_sizes_nearest_tf_half_pixel_for_nn",
         {1, 1, 4, 4},
         {1, 1, 3, 2},
         MTIA_RESIZE_NEAREST,
         MTIA_RESIZE_TF_HALF_PIXEL_FOR_NN,
         MTIA_RESIZE_ROUND_PREFER_FLOOR,
         0,
         false,
         {0, 0},
         {6, 8, 10, 12, 14, 16}},
        {"downsample_sizes_linear_pytorch_half_pixel",
         {1, 1, 4, 4},
         {1, 1, 3, 1},
         MTIA_RESIZE_LINEAR,
         MTIA_RESIZE_PYTORCH_HALF_PIXEL,
         0,
         0,
         false,
         {0, 0},
         {1.6666666f, 7.0f, 12.333333f}},
        {"upsample_sizes_nearest_round_prefer_ceil_asymmetric",
         {1, 1, 4, 4},
         {1, 1, 8, 8},
         MTIA_RESIZE_NEAREST,
         MTIA_RESIZE_ASYMMETRIC,
         MTIA_RESIZE_ROUND_PREFER_CEIL,
         0,
         false,
         {0, 0},
         {1, 2, 2, 3, 3, 4, 4, 4, 5, 6, 6, 7}},
    };
    for (const Known &k : cases) {
        Arena a;
        auto x = a.alloc(k.xd), y = a.alloc(k.yd);
        a.set(x, iota(cref::count(k.xd)));
        const mtia_op o = resize_op(x, y, k.mode, k.coord, k.nearest, k.a, k.exclude, k.scales);
        ASSERT_EQ(run(a, o), MTIA_CQE_OK) << k.name;
        const std::vector<float> got = a.get(y);
        for (size_t i = 0; i < k.want.size(); i++)
            EXPECT_NEAR(got[i], k.want[i], 1e-6 * (1 + std::fabs(k.want[i]))) << k.name << " element " << i;
        // The reference agrees with ONNX's data too.
        const std::vector<float> ref = cref::resize(a.get(x), o);
        for (size_t i = 0; i < k.want.size(); i++)
            EXPECT_NEAR(ref[i], k.want[i], 1e-6 * (1 + std::fabs(k.want[i]))) << k.name << " (reference)";
    }
}

// Every mode, coordinate transformation, nearest mode and exclude_outside
// over 1..3 resized dims of ranks 1..5, by scales and by sizes.
TEST(ComputeResize, RandomShapesEveryModeAgainstReference)
{
    std::mt19937 rng(27);
    auto rnd = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
    const float kScales[] = {0.25f, 0.5f, 0.6f, 0.75f, 1.0f, 4.0f / 3, 1.5f, 2.0f, 2.5f, 3.0f, 1.7f};
    const float kA[] = {-0.75f, -0.5f, -0.6f};
    int runs = 0;
    for (int t = 0; t < 600; t++) {
        const uint32_t nd = rnd(1, 5), sp = rnd(1, std::min(3u, nd));
        const uint32_t mode = rnd(0, 2), coord = rnd(0, 4);
        const uint32_t nearest = mode == MTIA_RESIZE_NEAREST ? rnd(0, 3) : 0;
        const bool exclude = mode != MTIA_RESIZE_NEAREST && rnd(0, 1);
        const bool by_sizes = rnd(0, 1);
        Dims xd, yd;
        std::vector<float> scales;
        for (uint32_t i = 0; i < nd - sp; i++) {
            xd.push_back(rnd(1, 3));
            yd.push_back(xd.back());
        }
        bool ok = true;
        for (uint32_t i = 0; i < sp; i++) {
            const uint32_t n = rnd(1, sp == 3 ? 6 : 11);
            xd.push_back(n);
            if (by_sizes) {
                yd.push_back(rnd(1, sp == 3 ? 9 : 17));
                scales.push_back(0);
            } else {
                const float s = kScales[rnd(0, 10)];
                const uint32_t m = uint32_t(std::floor(double(n) * s));
                ok = ok && m >= 1;
                yd.push_back(std::max(m, 1u));
                scales.push_back(s);
            }
        }
        if (!ok) continue;
        Arena a;
        auto x = a.alloc(xd), y = a.alloc(yd), guard = a.alloc({64});
        a.fill_random(x, rng, -2, 2);
        a.set(guard, std::vector<float>(64, 7.0f));
        const mtia_op o = resize_op(x, y, mode, coord, nearest, kA[rnd(0, 2)], exclude, scales);
        const std::string what = "mode " + std::to_string(mode) + " coord " + std::to_string(coord) + " nearest " +
                                 std::to_string(nearest) + (exclude ? " exclude " : " ") + str(xd) + " -> " + str(yd);
        ASSERT_EQ(run(a, o), MTIA_CQE_OK) << what;
        const std::vector<float> got = a.get(y), want = cref::resize(a.get(x), o);
        size_t bad = 0;
        for (size_t i = 0; i < got.size(); i++) {
            const bool same = mode == MTIA_RESIZE_NEAREST
                                  ? got[i] == want[i]
                                  : std::fabs(double(got[i]) - want[i]) <= 1e-6 * (1 + std::fabs(want[i]));
            if (!same && bad++ < 3)
                ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << want[i];
        }
        EXPECT_EQ(bad, 0u) << what;
        EXPECT_EQ(a.get(guard), std::vector<float>(64, 7.0f)) << what << ": wrote past out";
        runs++;
    }
    EXPECT_GT(runs, 500);
}

// Segmentation-head sizes (nearest x2 as oneDNN runs it, bilinear x4 by the
// loop), in small chunks (MTIA_COMPUTE_CHUNK_WORK, read when a kernel is
// built): the same result as the reference.
TEST(ComputeResize, ChunkedRuns)
{
    std::mt19937 rng(5);
    setenv("MTIA_COMPUTE_CHUNK_WORK", "4096", 1);
    for (uint32_t mode : {MTIA_RESIZE_NEAREST, MTIA_RESIZE_LINEAR}) {
        const float s = mode == MTIA_RESIZE_NEAREST ? 2.0f : 4.0f;
        const Dims xd{2, 5, 21, 17}, yd{2, 5, uint32_t(21 * s), uint32_t(17 * s)};
        Arena a;
        auto x = a.alloc(xd), y = a.alloc(yd);
        a.fill_random(x, rng);
        const mtia_op o =
            resize_op(x, y, mode, mode == MTIA_RESIZE_NEAREST ? MTIA_RESIZE_ASYMMETRIC : MTIA_RESIZE_PYTORCH_HALF_PIXEL,
                      mode == MTIA_RESIZE_NEAREST ? MTIA_RESIZE_FLOOR : 0, 0, false, {s, s});
        ASSERT_EQ(run(a, o), MTIA_CQE_OK);
        const std::vector<float> got = a.get(y), want = cref::resize(a.get(x), o);
        for (size_t i = 0; i < got.size(); i++)
            ASSERT_NEAR(got[i], want[i], 1e-6 * (1 + std::fabs(want[i]))) << "mode " << mode << " element " << i;
    }
    unsetenv("MTIA_COMPUTE_CHUNK_WORK");
}

// The loop polls for an abort between chunks of rows (here of 4096 taps:
// two rows of 128 x 16 taps).
TEST(ComputeResize, ShouldStopAbortsInsideTheOp)
{
    setenv("MTIA_COMPUTE_CHUNK_WORK", "4096", 1);
    Arena a;
    auto x = a.alloc({2, 4, 32, 32}), y = a.alloc({2, 4, 128, 128});
    const mtia_op o = resize_op(x, y, MTIA_RESIZE_CUBIC, MTIA_RESIZE_HALF_PIXEL, 0, -0.75f, false, {4, 4});
    int polls = 0;
    EXPECT_EQ(cref::run_stopping_at_second_poll(a, o, &polls), MTIA_CQE_ABORTED);
    EXPECT_EQ(polls, 2);  // before the op, then after its first chunk
    unsetenv("MTIA_COMPUTE_CHUNK_WORK");
}

}  // namespace
