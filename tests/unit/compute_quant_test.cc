// SPDX-License-Identifier: MIT
// Quantized tensors (I8, U8) on the device: the per-channel int8 CONV/GEMM
// bit for bit against a reference that sums exactly in int64 and applies the
// spec's epilogue (in every micro-kernel variant the host runs), CAST's
// rounding and saturation, generic ops against dequantize - F32 op -
// quantize, exact copies by the value-moving ops, chunking and the abort.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "compute_ref.h"
#include "mtia/mtia_quant.h"
#include "compute_stop.h"
#include "mtia_compute.h"

namespace {

using cref::Arena;
using cref::Dims;

float f32_of(uint32_t b)
{
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}

// A quantized tensor of @a: dtype I8/U8 with its scale and zero point
// (scale 0, zero point 0: the int8 path's weights).
mtia_tensor_desc qalloc(Arena &a, const Dims &d, uint8_t dt, float scale, int zp)
{
    mtia_tensor_desc t = a.alloc(d, dt);
    t.scale = cref::bits(scale);
    t.zero_point = int16_t(zp);
    return t;
}

uint8_t *bytes_of(Arena &a, const mtia_tensor_desc &t) { return a.data() + t.offset; }

// Element i of a quantized tensor as an int.
int32_t q_at(Arena &a, const mtia_tensor_desc &t, uint64_t i)
{
    const uint8_t b = bytes_of(a, t)[i];
    return t.dtype == MTIA_DTYPE_U8 ? int32_t(b) : int32_t(int8_t(b));
}

void fill_q(Arena &a, const mtia_tensor_desc &t, std::mt19937 &rng, int lo, int hi)
{
    std::uniform_int_distribution<int> u(lo, hi);
    for (uint64_t i = 0; i < cref::count(cref::dims(t)); i++) bytes_of(a, t)[i] = uint8_t(u(rng));
}

uint16_t run(Arena &a, const mtia_op &o)
{
    uint64_t r = 0;
    return mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &r);
}

float act_f(float y, const mtia_op &o)
{
    if (o.act == MTIA_ACT_RELU) return y > 0 ? y : 0.0f;
    if (o.act == MTIA_ACT_CLIP) return std::min(std::max(y, f32_of(o.act_min)), f32_of(o.act_max));
    return y;
}

// The spec's epilogue of an exact accumulator for channel m, as out's bytes.
void epilogue_ref(Arena &a, const mtia_op &o, int64_t acc, uint64_t m, uint64_t i, std::vector<uint8_t> &want)
{
    const float *sb = a.at(o.in[2]);
    const uint64_t mm = o.in[2].dims[1];
    const float s = f32_of(o.in[0].scale) * sb[m];
    const float y = act_f(float(int32_t(acc)) * s + sb[mm + m], o);
    const mtia_tensor_desc &t = o.out;
    if (t.dtype == MTIA_DTYPE_F32) {
        std::memcpy(&want[i * 4], &y, 4);
    } else {
        want[i] =
            uint8_t(mtia_quantize(y, f32_of(t.scale), t.zero_point, mtia_quant_min(t.dtype), mtia_quant_max(t.dtype)));
    }
}

// Reference of the int8 CONV (4-D or 5-D), straight from the definition.
std::vector<uint8_t> qconv_ref(Arena &a, const mtia_op &o)
{
    const mtia_tensor_desc &x = o.in[0], &w = o.in[1], &y = o.out;
    const uint32_t *at = o.attrs;
    const bool three = x.ndim == 5;
    const unsigned s = three ? 1 : 0;
    const int64_t N = x.dims[0], C = x.dims[1], D = three ? x.dims[2] : 1, H = x.dims[2 + s], W = x.dims[3 + s];
    const int64_t M = w.dims[0], cg = w.dims[1], kd = three ? w.dims[2] : 1, kh = w.dims[2 + s], kw = w.dims[3 + s];
    const int64_t OD = three ? y.dims[2] : 1, OH = y.dims[2 + s], OW = y.dims[3 + s];
    const int64_t g = at[MTIA_CONV_GROUPS], mg = M / g;
    const int64_t sd = three ? at[MTIA_CONV_STRIDE_D] : 1, dd = three ? at[MTIA_CONV_DIL_D] : 1;
    const int64_t pf = three ? at[MTIA_CONV_PAD_FRONT] : 0;
    std::vector<uint8_t> want(cref::count(cref::dims(y)) * mtia_dtype_size(y.dtype));
    uint64_t i = 0;
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t oz = 0; oz < OD; oz++)
                for (int64_t oy = 0; oy < OH; oy++)
                    for (int64_t ox = 0; ox < OW; ox++, i++) {
                        int64_t acc = 0;
                        for (int64_t c = 0; c < cg; c++)
                            for (int64_t z = 0; z < kd; z++)
                                for (int64_t u = 0; u < kh; u++)
                                    for (int64_t v = 0; v < kw; v++) {
                                        const int64_t iz = oz * sd - pf + z * dd;
                                        const int64_t iy =
                                            oy * at[MTIA_CONV_STRIDE_H] - at[MTIA_CONV_PAD_T] + u * at[MTIA_CONV_DIL_H];
                                        const int64_t ix =
                                            ox * at[MTIA_CONV_STRIDE_W] - at[MTIA_CONV_PAD_L] + v * at[MTIA_CONV_DIL_W];
                                        // A pad is the real 0: x = zero point.
                                        if (iz < 0 || iz >= D || iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                                        const int64_t ci = m / mg * cg + c;
                                        const int64_t xv =
                                            q_at(a, x, uint64_t((((n * C + ci) * D + iz) * H + iy) * W + ix));
                                        const int64_t wv =
                                            q_at(a, w, uint64_t((((m * cg + c) * kd + z) * kh + u) * kw + v));
                                        acc += (xv - x.zero_point) * wv;
                                    }
                        EXPECT_LE(std::llabs(acc), int64_t(std::numeric_limits<int32_t>::max()));
                        epilogue_ref(a, o, acc, uint64_t(m), i, want);
                    }
    return want;
}

// Reference of the int8 GEMM: A (..., M, K), B 2-D.
std::vector<uint8_t> qgemm_ref(Arena &a, const mtia_op &o)
{
    const mtia_tensor_desc &x = o.in[0], &b = o.in[1], &y = o.out;
    const bool tb = o.attrs[MTIA_GEMM_TRANS_B];
    const uint64_t K = x.dims[x.ndim - 1], rows = cref::count(cref::dims(x)) / K, N = y.dims[y.ndim - 1];
    std::vector<uint8_t> want(rows * N * mtia_dtype_size(y.dtype));
    for (uint64_t r = 0; r < rows; r++)
        for (uint64_t n = 0; n < N; n++) {
            int64_t acc = 0;
            for (uint64_t k = 0; k < K; k++)
                acc += int64_t(q_at(a, x, r * K + k) - x.zero_point) * q_at(a, b, tb ? n * K + k : k * N + n);
            epilogue_ref(a, o, acc, n, r * N + n, want);
        }
    return want;
}

std::vector<uint8_t> out_bytes(Arena &a, const mtia_op &o)
{
    const uint8_t *p = bytes_of(a, o.out);
    return std::vector<uint8_t>(p, p + cref::count(cref::dims(o.out)) * mtia_dtype_size(o.out.dtype));
}

// in[2]: weight scales around @ws and a bias in [-bias, bias].
mtia_tensor_desc scales_bias(Arena &a, uint32_t m, std::mt19937 &rng, float ws, float bias)
{
    auto sb = a.alloc({2, m});
    std::uniform_real_distribution<float> u(0.5f, 1.5f), b(-bias, bias);
    float *p = a.at(sb);
    for (uint32_t i = 0; i < m; i++) {
        p[i] = ws * u(rng);
        p[m + i] = b(rng);
    }
    return sb;
}

// Every micro-kernel variant (mtia_compute_qdot.h): int16 pairs (scalar,
// avx2, avx512bw, avx512vnni) and byte quads (scalar8, avx512vnni8).
const char *const kIsas[] = {"scalar", "avx2", "avx512bw", "avx512vnni", "scalar8", "avx512vnni8"};

// Runs @o under every micro-kernel variant (those the host lacks fall back
// to its best) and expects @want's bytes exactly each time.
void expect_exact(Arena &a, const mtia_op &o, const std::vector<uint8_t> &want, const std::string &what)
{
    for (const char *isa : kIsas) {
        setenv("MTIA_QDOT_ISA", isa, 1);
        std::memset(bytes_of(a, o.out), 0xa5, want.size());
        ASSERT_EQ(run(a, o), MTIA_CQE_OK) << what << " " << isa;
        const std::vector<uint8_t> got = out_bytes(a, o);
        size_t diff = 0;
        while (diff < got.size() && got[diff] == want[diff]) diff++;
        EXPECT_EQ(diff, got.size()) << what << " " << isa << ": first difference at byte " << diff;
    }
    unsetenv("MTIA_QDOT_ISA");
}

struct ConvCase {
    const char *what;
    Dims x, w;
    std::vector<uint32_t> attrs;  // stride, pads, dilation, groups (, depth)
    uint8_t xdt, ydt, act;
};

// The output dims of a conv case.
Dims conv_out(const ConvCase &c)
{
    const uint32_t *a = c.attrs.data();
    auto o = [](uint32_t in, uint32_t k, uint32_t s, uint32_t p0, uint32_t p1, uint32_t d) {
        return (in + p0 + p1 - d * (k - 1) - 1) / s + 1;
    };
    if (c.x.size() == 4)
        return {c.x[0], c.w[0], o(c.x[2], c.w[2], a[0], a[2], a[4], a[6]), o(c.x[3], c.w[3], a[1], a[3], a[5], a[7])};
    return {c.x[0], c.w[0], o(c.x[2], c.w[2], a[9], a[11], a[12], a[10]), o(c.x[3], c.w[3], a[0], a[2], a[4], a[6]),
            o(c.x[4], c.w[4], a[1], a[3], a[5], a[7])};
}

TEST(ComputeQuant, Int8ConvIsExact)
{
    const uint8_t I8 = MTIA_DTYPE_I8, U8 = MTIA_DTYPE_U8, F32 = MTIA_DTYPE_F32;
    const ConvCase cases[] = {
        {"3x3 pad 1, I8 -> I8", {1, 8, 9, 9}, {16, 8, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1}, I8, I8, MTIA_ACT_NONE},
        {"U8 -> F32, stride 2, dilation 2, uneven pads",
         {2, 5, 13, 11},
         {7, 5, 3, 3},
         {2, 2, 2, 0, 1, 3, 2, 2, 1},
         U8,
         F32,
         MTIA_ACT_NONE},
        {"groups 2, RELU, U8 out", {1, 6, 10, 10}, {10, 3, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 2}, I8, U8, MTIA_ACT_RELU},
        {"depthwise 3x3, CLIP", {2, 12, 15, 15}, {12, 1, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 12}, U8, I8, MTIA_ACT_CLIP},
        {"groups 2 of 4 channels, stride 2", {2, 8, 11, 11}, {12, 4, 3, 3}, {2, 2, 1, 0, 1, 2, 1, 1, 2}, U8, I8, 0},
        {"1x1, odd K, M not a multiple of 8", {1, 3, 7, 5}, {5, 3, 1, 1}, {1, 1, 0, 0, 0, 0, 1, 1, 1}, I8, F32, 0},
        {"64 -> 64 3x3, many tiles", {1, 64, 20, 20}, {64, 64, 3, 3}, {1, 1, 1, 1, 1, 1, 1, 1, 1}, U8, U8, 0},
        {"stride 3 5x5 wide", {1, 4, 9, 40}, {9, 4, 5, 5}, {3, 3, 2, 2, 2, 2, 1, 1, 1}, I8, I8, MTIA_ACT_RELU},
        {"3-D", {2, 4, 5, 6, 7}, {6, 2, 3, 3, 3}, {1, 2, 1, 0, 1, 1, 1, 1, 2, 1, 2, 2, 1}, U8, F32, MTIA_ACT_RELU},
        {"3-D stride, I8 out", {1, 3, 6, 6, 6}, {8, 3, 2, 3, 3}, {2, 2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 0}, I8, I8, 0},
    };
    std::mt19937 rng(8);
    for (const ConvCase &c : cases) {
        Arena a;
        const int zx = c.xdt == U8 ? 131 : -7;
        auto x = qalloc(a, c.x, c.xdt, 0.05f, zx);
        auto w = qalloc(a, c.w, I8, 0, 0);
        fill_q(a, x, rng, c.xdt == U8 ? 0 : -128, c.xdt == U8 ? 255 : 127);
        fill_q(a, w, rng, -128, 127);
        auto sb = scales_bias(a, c.w[0], rng, 0.002f, 2.0f);
        const Dims yd = conv_out(c);
        auto y = c.ydt == F32 ? a.alloc(yd) : qalloc(a, yd, c.ydt, 0.04f, c.ydt == U8 ? 100 : 3);
        mtia_op o = cref::op(MTIA_OP_CONV, {x, w, sb}, y, c.attrs, c.act);
        if (c.act == MTIA_ACT_CLIP) cref::set_clip(o, -1.5f, 2.25f);
        expect_exact(a, o, qconv_ref(a, o), c.what);
    }
}

// Accumulators beyond the output's range on both sides saturate to its
// ends; the extreme |x - zero point| = 255 and w = -128 stay exact.
TEST(ComputeQuant, Int8ConvSaturatesAtBothEnds)
{
    for (uint8_t ydt : {MTIA_DTYPE_I8, MTIA_DTYPE_U8}) {
        std::mt19937 rng(3);
        Arena a;
        auto x = qalloc(a, {1, 16, 6, 6}, MTIA_DTYPE_U8, 1.0f, 255);
        auto w = qalloc(a, {8, 16, 3, 3}, MTIA_DTYPE_I8, 0, 0);
        fill_q(a, x, rng, 0, 255);
        for (uint32_t i = 0; i < 8 * 16 * 9; i++) bytes_of(a, w)[i] = uint8_t(i / (16 * 9) % 2 ? 127 : -128);
        auto sb = scales_bias(a, 8, rng, 1.0f, 0.0f);
        auto y = qalloc(a, {1, 8, 6, 6}, ydt, 1.0f, ydt == MTIA_DTYPE_U8 ? 128 : 0);
        const mtia_op o = cref::op(MTIA_OP_CONV, {x, w, sb}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
        const std::vector<uint8_t> want = qconv_ref(a, o);
        expect_exact(a, o, want, "saturation");
        bool lo = false, hi = false;
        for (uint64_t i = 0; i < want.size(); i++) {
            lo = lo || q_at(a, y, i) == mtia_quant_min(ydt);
            hi = hi || q_at(a, y, i) == mtia_quant_max(ydt);
        }
        EXPECT_TRUE(lo && hi) << "both ends reached";
    }
}

TEST(ComputeQuant, Int8GemmIsExact)
{
    struct Case {
        const char *what;
        Dims a, b, y;
        bool tb;
        uint8_t adt, ydt, act;
    };
    const uint8_t I8 = MTIA_DTYPE_I8, U8 = MTIA_DTYPE_U8, F32 = MTIA_DTYPE_F32;
    const Case cases[] = {
        {"2-D I8 -> F32", {5, 7}, {7, 9}, {5, 9}, false, I8, F32, MTIA_ACT_NONE},
        {"TRANS_B U8 -> I8 RELU", {33, 64}, {20, 64}, {33, 20}, true, U8, I8, MTIA_ACT_RELU},
        {"batched A (2,3,M,K)", {2, 3, 17, 31}, {31, 12}, {2, 3, 17, 12}, false, U8, U8, MTIA_ACT_CLIP},
        {"batched TRANS_B, long K", {4, 40, 1000}, {70, 1000}, {4, 40, 70}, true, I8, F32, MTIA_ACT_NONE},
        {"one row (a batch-1 FC)", {1, 512}, {512, 100}, {1, 100}, false, I8, I8, MTIA_ACT_NONE},
    };
    std::mt19937 rng(9);
    for (const Case &c : cases) {
        Arena a;
        auto x = qalloc(a, c.a, c.adt, 0.03f, c.adt == U8 ? 7 : 100);
        auto w = qalloc(a, c.b, I8, 0, 0);
        fill_q(a, x, rng, c.adt == U8 ? 0 : -128, c.adt == U8 ? 255 : 127);
        fill_q(a, w, rng, -128, 127);
        auto sb = scales_bias(a, c.y.back(), rng, 0.001f, 1.0f);
        auto y = c.ydt == F32 ? a.alloc(c.y) : qalloc(a, c.y, c.ydt, 0.05f, c.ydt == U8 ? 50 : -20);
        mtia_op o = cref::op(MTIA_OP_GEMM, {x, w, sb}, y, {0, c.tb, cref::bits(1), 0}, c.act);
        if (c.act == MTIA_ACT_CLIP) cref::set_clip(o, -2.0f, 3.0f);
        expect_exact(a, o, qgemm_ref(a, o), c.what);
    }
}

// The epilogue's quantization rounds ties to even and saturates like
// mtia_quantize: y = acc + 0.5 or acc - 0.5 exactly (scales 1), out scale 1.
TEST(ComputeQuant, Int8EpilogueRoundsTiesToEven)
{
    for (uint8_t ydt : {MTIA_DTYPE_I8, MTIA_DTYPE_U8}) {
        std::mt19937 rng(17);
        Arena a;
        auto x = qalloc(a, {64, 3}, MTIA_DTYPE_I8, 1.0f, 0);
        auto w = qalloc(a, {3, 4}, MTIA_DTYPE_I8, 0, 0);
        fill_q(a, x, rng, -6, 6);
        fill_q(a, w, rng, -5, 5);
        auto sb = a.alloc({2, 4});
        a.set(sb, {1, 1, 1, 1, 0.5f, -0.5f, 0.5f, 100.5f});
        auto y = qalloc(a, {64, 4}, ydt, 1.0f, ydt == MTIA_DTYPE_U8 ? 128 : 0);
        const mtia_op o = cref::op(MTIA_OP_GEMM, {x, w, sb}, y, {0, 0, cref::bits(1), 0});
        const std::vector<uint8_t> want = qgemm_ref(a, o);
        expect_exact(a, o, want, "ties");
        int even = 0;
        for (uint64_t i = 0; i < 64 * 4; i += 4) even += (q_at(a, y, i) - y.zero_point) % 2 == 0;
        EXPECT_EQ(even, 64) << "every tie to the even neighbour";
    }
}

// K = MTIA_QUANT_MAX_K with every product at its largest: acc = 255 * 128 *
// 2^16 = 2139095040, still an exact int32.
TEST(ComputeQuant, Int8GemmLargestK)
{
    Arena a;
    const uint32_t k = MTIA_QUANT_MAX_K;
    auto x = qalloc(a, {2, k}, MTIA_DTYPE_U8, 1.0f, 255);
    auto w = qalloc(a, {3, k}, MTIA_DTYPE_I8, 0, 0);
    std::memset(bytes_of(a, x), 0, k);        // row 0: x - zp = -255
    std::memset(bytes_of(a, x) + k, 255, k);  // row 1: 0
    std::memset(bytes_of(a, w), 0x80, 3ull * k);
    auto sb = a.alloc({2, 3});
    a.set(sb, {1, 1, 1, 0, 0, 0});
    auto y = a.alloc({2, 3});
    const mtia_op o = cref::op(MTIA_OP_GEMM, {x, w, sb}, y, {0, 1, cref::bits(1), 0});
    ASSERT_EQ(run(a, o), MTIA_CQE_OK);
    EXPECT_EQ(a.get(y), (std::vector<float>{2139095040.0f, 2139095040.0f, 2139095040.0f, 0, 0, 0}));
    expect_exact(a, o, qgemm_ref(a, o), "largest K");
}

// A large int8 conv runs in chunks (the same bytes) and polls for an abort
// between them.
TEST(ComputeQuant, Int8ConvChunksAndAborts)
{
    std::mt19937 rng(4);
    Arena a;
    auto x = qalloc(a, {2, 16, 24, 24}, MTIA_DTYPE_U8, 0.1f, 128);
    auto w = qalloc(a, {32, 16, 3, 3}, MTIA_DTYPE_I8, 0, 0);
    fill_q(a, x, rng, 0, 255);
    fill_q(a, w, rng, -128, 127);
    auto sb = scales_bias(a, 32, rng, 0.01f, 1.0f);
    auto y = qalloc(a, {2, 32, 24, 24}, MTIA_DTYPE_I8, 0.5f, 0);
    const mtia_op o = cref::op(MTIA_OP_CONV, {x, w, sb}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    const std::vector<uint8_t> want = qconv_ref(a, o);
    setenv("MTIA_COMPUTE_CHUNK_WORK", "65536", 1);
    expect_exact(a, o, want, "chunked");
    int polls = 0;
    EXPECT_EQ(cref::run_stopping_at_second_poll(a, o, &polls), MTIA_CQE_ABORTED);
    EXPECT_EQ(polls, 2);  // before the op, then after its first chunk
    unsetenv("MTIA_COMPUTE_CHUNK_WORK");
}

// ---- CAST ----------------------------------------------------------------------------

TEST(ComputeQuant, CastQuantizesWithTiesToEvenSaturationAndNan)
{
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    // scale 0.5: x / 0.5 = 2x; zero point 10 (I8) and 128 (U8).
    const std::vector<float> in{0, 0.25f, 0.75f, 1.25f, -0.25f, -0.75f, 1.0f, 100, -100, 1e30f, -1e30f, inf, -inf, nan};
    const std::vector<int> i8{10, 10, 12, 12, 10, 8, 12, 127, -128, 127, -128, 127, -128, 10};
    const std::vector<int> u8{128, 128, 130, 130, 128, 126, 130, 255, 0, 255, 0, 255, 0, 128};
    for (uint8_t dt : {MTIA_DTYPE_I8, MTIA_DTYPE_U8}) {
        Arena a;
        const Dims d{uint32_t(in.size())};
        auto x = a.alloc(d);
        auto q = qalloc(a, d, dt, 0.5f, dt == MTIA_DTYPE_U8 ? 128 : 10);
        a.set(x, in);
        ASSERT_EQ(run(a, cref::op(MTIA_OP_CAST, {x}, q)), MTIA_CQE_OK);
        const std::vector<int> &want = dt == MTIA_DTYPE_U8 ? u8 : i8;
        for (size_t i = 0; i < in.size(); i++) EXPECT_EQ(q_at(a, q, i), want[i]) << in[i];
    }
}

TEST(ComputeQuant, CastDequantizesAndRequantizes)
{
    for (uint8_t dt : {MTIA_DTYPE_I8, MTIA_DTYPE_U8}) {
        for (uint8_t fdt : {MTIA_DTYPE_F32, MTIA_DTYPE_F16, MTIA_DTYPE_BF16}) {
            Arena a;
            auto q = qalloc(a, {256}, dt, 0.125f, dt == MTIA_DTYPE_U8 ? 77 : -33);
            for (int i = 0; i < 256; i++) bytes_of(a, q)[i] = uint8_t(i);
            auto f = a.alloc({256}, fdt), f32 = a.alloc({256});
            auto back = qalloc(a, {256}, dt, 0.125f, q.zero_point);  // same parameters
            auto re = qalloc(a, {256}, MTIA_DTYPE_I8, 0.3f, 5);
            const std::vector<mtia_op> prog{cref::op(MTIA_OP_CAST, {q}, f), cref::op(MTIA_OP_CAST, {f}, f32),
                                            cref::op(MTIA_OP_CAST, {f}, back), cref::op(MTIA_OP_CAST, {q}, re)};
            uint64_t r = 0;
            ASSERT_EQ(mtia_compute_run(prog.data(), 4, a.data(), a.size(), nullptr, nullptr, &r), MTIA_CQE_OK);
            for (int i = 0; i < 256; i++) {
                const int32_t v = q_at(a, q, uint64_t(i));
                const float real = mtia_dequantize(v, 0.125f, q.zero_point);  // exact in every float type here
                EXPECT_EQ(a.at(f32)[i], real) << i;
                EXPECT_EQ(q_at(a, back, uint64_t(i)), v) << "round trip " << i;
                EXPECT_EQ(q_at(a, re, uint64_t(i)), mtia_quantize(real, 0.3f, 5, -128, 127)) << "requantize " << i;
            }
        }
    }
}

// ---- generic ops on quantized tensors --------------------------------------------------

// Runs @o (quantized tensors), then the F32 op on the dequantized inputs, and
// expects out = quantize(F32 out) exactly.
void expect_like_f32(Arena &a, const mtia_op &o, const std::string &what)
{
    ASSERT_EQ(run(a, o), MTIA_CQE_OK) << what;
    Arena r;
    mtia_op f = o;
    for (unsigned k = 0; k < o.n_in; k++) {
        const mtia_tensor_desc &t = o.in[k];
        f.in[k] = r.alloc(cref::dims(t));
        for (uint64_t i = 0; i < cref::count(cref::dims(t)); i++)
            r.at(f.in[k])[i] = mtia_dtype_is_quant(t.dtype)
                                   ? mtia_dequantize(q_at(a, t, i), f32_of(t.scale), t.zero_point)
                                   : a.at(t)[i];
    }
    f.out = r.alloc(cref::dims(o.out));
    ASSERT_EQ(run(r, f), MTIA_CQE_OK) << what;
    const mtia_tensor_desc &y = o.out;
    for (uint64_t i = 0; i < cref::count(cref::dims(y)); i++) {
        const int32_t want = mtia_quantize(r.at(f.out)[i], f32_of(y.scale), y.zero_point, mtia_quant_min(y.dtype),
                                           mtia_quant_max(y.dtype));
        ASSERT_EQ(q_at(a, y, i), want) << what << " element " << i;
    }
}

TEST(ComputeQuant, GenericOpsDequantizeComputeQuantize)
{
    std::mt19937 rng(12);
    const uint8_t I8 = MTIA_DTYPE_I8, U8 = MTIA_DTYPE_U8;
    {
        Arena a;
        auto x = qalloc(a, {3, 40}, U8, 0.02f, 120), b = qalloc(a, {1, 40}, I8, 0.05f, -3);
        auto y = qalloc(a, {3, 40}, I8, 0.04f, 1);
        fill_q(a, x, rng, 0, 255);
        fill_q(a, b, rng, -128, 127);
        expect_like_f32(a, cref::op(MTIA_OP_BINARY, {x, b}, y, {MTIA_BINARY_ADD}, MTIA_ACT_RELU), "BINARY ADD");
    }
    {
        Arena a;
        auto x = qalloc(a, {2, 3, 9, 9}, I8, 0.1f, 4), y = qalloc(a, {2, 3, 4, 4}, U8, 0.07f, 30);
        fill_q(a, x, rng, -128, 127);
        expect_like_f32(a, cref::op(MTIA_OP_POOL, {x}, y, {MTIA_POOL_AVG, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, 1}),
                        "POOL AVG");
    }
    {
        Arena a;
        auto x = qalloc(a, {4, 33}, U8, 0.03f, 128), y = qalloc(a, {4, 33}, U8, 1.0f / 256, 0);
        fill_q(a, x, rng, 0, 255);
        expect_like_f32(a, cref::op(MTIA_OP_SOFTMAX, {x}, y, {1}), "SOFTMAX");
    }
    {
        // A generic (per-tensor) quantized CONV with a quantized bias: the F32 kernel.
        Arena a;
        auto x = qalloc(a, {1, 3, 6, 6}, U8, 0.02f, 128), w = qalloc(a, {4, 3, 3, 3}, I8, 0.01f, 2);
        auto b = qalloc(a, {4}, I8, 0.1f, 0), y = qalloc(a, {1, 4, 6, 6}, I8, 0.05f, 0);
        fill_q(a, x, rng, 0, 255);
        fill_q(a, w, rng, -128, 127);
        fill_q(a, b, rng, -128, 127);
        expect_like_f32(a, cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1}), "per-tensor CONV");
    }
}

// Ops that only move values copy them exactly between tensors of equal
// dtype, scale and zero point: every one of the 256 values survives.
TEST(ComputeQuant, ValueMovingOpsCopyExactly)
{
    for (uint8_t dt : {MTIA_DTYPE_I8, MTIA_DTYPE_U8}) {
        const float s = 0.0123f;
        const int zp = dt == MTIA_DTYPE_U8 ? 200 : -100;
        Arena a;
        auto x = qalloc(a, {4, 8, 8}, dt, s, zp);
        for (int i = 0; i < 256; i++) bytes_of(a, x)[i] = uint8_t(i * 37 + 11);
        auto tr = qalloc(a, {8, 4, 8}, dt, s, zp), sl = qalloc(a, {4, 8, 3}, dt, s, zp);
        auto ex = qalloc(a, {2, 4, 8, 8}, dt, s, zp), whole = qalloc(a, {4, 8, 10}, dt, s, zp);
        auto pooled = qalloc(a, {1, 4, 4, 4}, dt, s, zp), ids = a.alloc({2}, MTIA_DTYPE_I32);
        auto gathered = qalloc(a, {4, 2, 8}, dt, s, zp), padded = qalloc(a, {4, 8, 11}, dt, s, zp);
        std::memset(bytes_of(a, whole), 0x33, 320);
        reinterpret_cast<int32_t *>(bytes_of(a, ids))[0] = 7;
        reinterpret_cast<int32_t *>(bytes_of(a, ids))[1] = -8;
        auto x4 = x;  // (1, 4, 8, 8): EXPAND's and POOL's view
        x4.ndim = 4;
        x4.dims[0] = 1, x4.dims[1] = 4, x4.dims[2] = 8, x4.dims[3] = 8;
        const std::vector<mtia_op> p{
            cref::op(MTIA_OP_TRANSPOSE, {x}, tr, {1, 0, 2}),
            cref::op(MTIA_OP_SLICE, {x}, sl, {2, 5, 1}),
            cref::op(MTIA_OP_EXPAND, {x4}, ex),
            cref::op(MTIA_OP_COPY_INTO, {x}, whole, {2, 1}),
            cref::op(MTIA_OP_POOL, {x4}, pooled, {MTIA_POOL_MAX, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1}),
            cref::op(MTIA_OP_GATHER, {x, ids}, gathered, {1}),
            // Two columns of the real value 1.0 before, one after.
            cref::op(MTIA_OP_PAD, {x}, padded, {MTIA_PAD_CONSTANT, cref::bits(1.0f), 0, 0, 2}),
        };
        uint64_t r = 0;
        ASSERT_EQ(mtia_compute_run(p.data(), uint32_t(p.size()), a.data(), a.size(), nullptr, nullptr, &r),
                  MTIA_CQE_OK);
        auto xv = [&](uint64_t c, uint64_t h, uint64_t w) { return q_at(a, x, (c * 8 + h) * 8 + w); };
        for (uint64_t c = 0; c < 4; c++)
            for (uint64_t h = 0; h < 8; h++)
                for (uint64_t w = 0; w < 8; w++) {
                    ASSERT_EQ(q_at(a, tr, (h * 4 + c) * 8 + w), xv(c, h, w)) << "TRANSPOSE";
                    if (w >= 5) {
                        ASSERT_EQ(q_at(a, sl, (c * 8 + h) * 3 + w - 5), xv(c, h, w)) << "SLICE";
                    }
                    ASSERT_EQ(q_at(a, ex, 256 + (c * 8 + h) * 8 + w), xv(c, h, w)) << "EXPAND";
                    ASSERT_EQ(q_at(a, whole, (c * 8 + h) * 10 + w + 1), xv(c, h, w)) << "COPY_INTO";
                    ASSERT_EQ(q_at(a, padded, (c * 8 + h) * 11 + w + 2), xv(c, h, w)) << "PAD";
                }
        for (uint64_t c = 0; c < 4; c++) {
            for (uint64_t h = 0; h < 8; h++) {
                EXPECT_EQ(bytes_of(a, whole)[(c * 8 + h) * 10], 0x33) << "COPY_INTO keeps the rest";
                EXPECT_EQ(bytes_of(a, whole)[(c * 8 + h) * 10 + 9], 0x33) << "COPY_INTO keeps the rest";
                const int32_t one = mtia_quantize(1.0f, s, zp, mtia_quant_min(dt), mtia_quant_max(dt));
                for (uint64_t w : {0, 1, 10}) EXPECT_EQ(q_at(a, padded, (c * 8 + h) * 11 + w), one) << "PAD value";
            }
            for (uint64_t h = 0; h < 4; h++)
                for (uint64_t w = 0; w < 4; w++) {
                    int32_t m = std::numeric_limits<int32_t>::min();
                    for (uint64_t i = 0; i < 2; i++)
                        for (uint64_t j = 0; j < 2; j++) m = std::max(m, xv(c, 2 * h + i, 2 * w + j));
                    ASSERT_EQ(q_at(a, pooled, (c * 4 + h) * 4 + w), m) << "POOL MAX";
                }
            for (uint64_t w = 0; w < 8; w++) {
                ASSERT_EQ(q_at(a, gathered, (c * 2 + 0) * 8 + w), xv(c, 7, w)) << "GATHER";
                ASSERT_EQ(q_at(a, gathered, (c * 2 + 1) * 8 + w), xv(c, 0, w)) << "GATHER";
            }
        }
    }
}

// ---- validation ----------------------------------------------------------------------

constexpr uint64_t kArena = 1 << 20;

mtia_tensor_desc qt(uint64_t off, const Dims &d, uint8_t dt, float scale, int zp)
{
    mtia_tensor_desc t = cref::tensor(off, d);
    t.dtype = dt;
    t.scale = cref::bits(scale);
    t.zero_point = int16_t(zp);
    return t;
}

mtia_op qconv_op()
{
    return cref::op(MTIA_OP_CONV,
                    {qt(0, {1, 4, 8, 8}, MTIA_DTYPE_U8, 0.1f, 128), qt(4096, {8, 4, 3, 3}, MTIA_DTYPE_I8, 0, 0),
                     cref::tensor(8192, {2, 8})},
                    qt(16384, {1, 8, 8, 8}, MTIA_DTYPE_I8, 0.2f, -1), {1, 1, 1, 1, 1, 1, 1, 1, 1});
}
mtia_op qgemm_op()
{
    return cref::op(
        MTIA_OP_GEMM,
        {qt(0, {2, 3, 4}, MTIA_DTYPE_I8, 0.1f, 0), qt(4096, {5, 4}, MTIA_DTYPE_I8, 0, 0), cref::tensor(8192, {2, 5})},
        cref::tensor(16384, {2, 3, 5}), {0, 1, cref::bits(1), 0});
}

bool valid(const mtia_op &o)
{
    uint32_t bad = 99;
    return mtia_compute_validate(&o, 1, kArena, &bad) == MTIA_CQE_OK;
}

TEST(ComputeQuantValidate, QuantizationParameters)
{
    const mtia_op ok =
        cref::op(MTIA_OP_ACT, {qt(0, {8}, MTIA_DTYPE_U8, 0.5f, 255)}, qt(64, {8}, MTIA_DTYPE_I8, 2, -128));
    EXPECT_TRUE(valid(ok));
    const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
    for (float s : {0.0f, -1.0f, nan, inf}) {
        mtia_op o = ok;
        o.in[0].scale = cref::bits(s);
        EXPECT_FALSE(valid(o)) << "scale " << s;
    }
    for (int zp : {-1, 256}) {
        mtia_op o = ok;
        o.in[0].zero_point = int16_t(zp);
        EXPECT_FALSE(valid(o)) << "U8 zero point " << zp;
    }
    for (int zp : {-129, 128}) {
        mtia_op o = ok;
        o.out.zero_point = int16_t(zp);
        EXPECT_FALSE(valid(o)) << "I8 zero point " << zp;
    }
    // Scale 0 / zero point 0 only for the int8 CONV/GEMM's weights.
    mtia_op o = ok;
    o.in[0].scale = 0;
    o.in[0].zero_point = 0;
    EXPECT_FALSE(valid(o)) << "scale 0 on an ACT input";
    o = ok;
    o.in[0].dtype = MTIA_DTYPE_F32;
    o.in[0].zero_point = 0;
    EXPECT_FALSE(valid(o)) << "scale on F32";
}

TEST(ComputeQuantValidate, Int8ConvAndGemmRules)
{
    EXPECT_TRUE(valid(qconv_op()));
    EXPECT_TRUE(valid(qgemm_op()));
    mtia_op o = qconv_op();
    o.out = cref::tensor(16384, {1, 8, 8, 8});
    EXPECT_TRUE(valid(o)) << "F32 out";
    std::vector<std::pair<mtia_op, const char *>> bad;
    auto with = [&](mtia_op base, auto change, const char *what) {
        change(base);
        bad.push_back({base, what});
    };
    for (const mtia_op &base : {qconv_op(), qgemm_op()}) {
        with(
            base, [](mtia_op &o) { o.in[1].zero_point = 1; }, "weights zero point without a scale");
        with(
            base, [](mtia_op &o) { o.in[0] = qt(0, cref::dims(o.in[0]), MTIA_DTYPE_F32, 0, 0); }, "F32 in[0]");
        with(
            base, [](mtia_op &o) { o.out.dtype = MTIA_DTYPE_F16; }, "F16 out");
        with(
            base, [](mtia_op &o) { o.out.dtype = MTIA_DTYPE_I32; }, "I32 out");
        with(
            base, [](mtia_op &o) { o.n_in = 2, o.in[2] = {}; }, "no scales/bias");
        with(
            base, [](mtia_op &o) { o.in[2].dtype = MTIA_DTYPE_F16; }, "F16 scales/bias");
        with(
            base, [](mtia_op &o) { o.in[2].dims[0] = 1; }, "scales/bias (1, M)");
        with(
            base, [](mtia_op &o) { o.in[2].dims[1]--; }, "scales/bias (2, M-1)");
        with(
            base, [](mtia_op &o) { o.in[2] = cref::tensor(8192, {o.in[2].dims[1]}); }, "a plain bias (M)");
        with(
            base, [](mtia_op &o) { o.in[0].scale = 0; }, "in[0] scale 0");
    }
    with(
        qgemm_op(), [](mtia_op &o) { o.attrs[MTIA_GEMM_TRANS_A] = 1, o.in[0].dims[1] = 4, o.in[0].dims[2] = 3; },
        "TRANS_A");
    with(
        qgemm_op(), [](mtia_op &o) { o.attrs[MTIA_GEMM_ALPHA] = cref::bits(2); }, "ALPHA 2");
    with(
        qgemm_op(), [](mtia_op &o) { o.attrs[MTIA_GEMM_BETA] = cref::bits(1); }, "BETA 1");
    with(
        qgemm_op(),
        [](mtia_op &o) {
            o.in[1] = qt(4096, {2, 5, 4}, MTIA_DTYPE_I8, 0, 0);
            o.in[1].scale = 0;
        },
        "batched B");
    // K = C x 3 x 3 = 65538 > MTIA_QUANT_MAX_K.
    with(
        qconv_op(),
        [](mtia_op &o) {
            o.in[0] = qt(0, {1, 7282, 3, 3}, MTIA_DTYPE_U8, 0.1f, 0);
            o.in[1] = qt(65536, {1, 7282, 3, 3}, MTIA_DTYPE_I8, 0, 0);
            o.in[2] = cref::tensor(196608, {2, 1});
            o.out = qt(200000, {1, 1, 3, 3}, MTIA_DTYPE_I8, 0.1f, 0);
        },
        "K over MTIA_QUANT_MAX_K");
    for (auto &b : bad) EXPECT_FALSE(valid(b.first)) << b.second;
    // K = 7281 x 9 = 65529 is within the bound.
    o = qconv_op();
    o.in[0] = qt(0, {1, 7281, 3, 3}, MTIA_DTYPE_U8, 0.1f, 0);
    o.in[1] = qt(65536, {1, 7281, 3, 3}, MTIA_DTYPE_I8, 0, 0);
    o.in[2] = cref::tensor(196608, {2, 1});
    o.out = qt(200000, {1, 1, 3, 3}, MTIA_DTYPE_I8, 0.1f, 0);
    EXPECT_TRUE(valid(o)) << "K at the bound";
    // The int8 GEMM's in[2] may not be its output in place.
    o = qgemm_op();
    o.out = cref::tensor(8192, {2, 5});
    o.in[0] = qt(0, {2, 4}, MTIA_DTYPE_I8, 0.1f, 0);
    EXPECT_FALSE(valid(o)) << "in[2] aliased by out";
}

TEST(ComputeQuantValidate, GatherCastAndOtherOps)
{
    const auto data = qt(0, {4, 3}, MTIA_DTYPE_U8, 0.5f, 3);
    auto ids = cref::tensor(64, {2});
    ids.dtype = MTIA_DTYPE_I32;
    mtia_op g = cref::op(MTIA_OP_GATHER, {data, ids}, qt(128, {2, 3}, MTIA_DTYPE_U8, 0.5f, 3), {0});
    EXPECT_TRUE(valid(g));
    mtia_op o = g;
    o.out.scale = cref::bits(0.25f);
    EXPECT_FALSE(valid(o)) << "GATHER out scale";
    o = g;
    o.out.zero_point = 4;
    EXPECT_FALSE(valid(o)) << "GATHER out zero point";
    o = g;
    o.out.dtype = MTIA_DTYPE_I8;
    EXPECT_FALSE(valid(o)) << "GATHER out dtype";

    const auto q = qt(0, {8}, MTIA_DTYPE_I8, 0.5f, 0);
    for (uint8_t other : {MTIA_DTYPE_F32, MTIA_DTYPE_F16, MTIA_DTYPE_BF16, MTIA_DTYPE_I8, MTIA_DTYPE_U8}) {
        auto t = cref::tensor(64, {8});
        t.dtype = other;
        if (mtia_dtype_is_quant(other)) t.scale = cref::bits(1);
        EXPECT_TRUE(valid(cref::op(MTIA_OP_CAST, {q}, t))) << "CAST I8 -> " << int(other);
        EXPECT_TRUE(valid(cref::op(MTIA_OP_CAST, {t}, q))) << "CAST " << int(other) << " -> I8";
    }
    for (uint8_t other : {MTIA_DTYPE_I32, MTIA_DTYPE_I64, MTIA_DTYPE_BOOL}) {
        auto t = cref::tensor(64, {8});
        t.dtype = other;
        // I8 -> I32 is the integer q - zero_point (compute_imatmul_test.cc).
        EXPECT_EQ(valid(cref::op(MTIA_OP_CAST, {q}, t)), other == MTIA_DTYPE_I32) << "CAST I8 -> " << int(other);
        EXPECT_FALSE(valid(cref::op(MTIA_OP_CAST, {t}, q))) << "CAST " << int(other) << " -> I8";
    }
    // EMBEDDING_BAG: no per-tensor quantized tables (its I8/U8 tables are
    // 8-bit rowwise, compute_embed_test.cc).
    auto ids2 = cref::tensor(256, {1, 2, 2});
    ids2.dtype = MTIA_DTYPE_I64;
    mtia_op eb = cref::op(MTIA_OP_EMBEDDING_BAG, {qt(0, {10, 4}, MTIA_DTYPE_I8, 1, 0), ids2}, cref::tensor(512, {2, 4}),
                          {MTIA_EMBEDDING_BAG_SUM, 1, 2, 0, 10});
    EXPECT_FALSE(valid(eb)) << "per-tensor quantized EMBEDDING_BAG table";
    eb.in[0] = cref::tensor(0, {10, 4});
    EXPECT_TRUE(valid(eb));
    // Quantized where the rule asks for a float type, never where it asks for
    // an integer or BOOL type.
    auto i32 = cref::tensor(0, {4});
    i32.dtype = MTIA_DTYPE_I32;
    EXPECT_TRUE(valid(cref::op(MTIA_OP_BINARY, {qt(0, {4}, MTIA_DTYPE_U8, 1, 0), cref::tensor(64, {4})},
                               qt(128, {4}, MTIA_DTYPE_I8, 1, 0), {MTIA_BINARY_MUL})));
    EXPECT_FALSE(valid(
        cref::op(MTIA_OP_BINARY, {i32, qt(64, {4}, MTIA_DTYPE_I8, 1, 0)}, cref::tensor(128, {4}), {MTIA_BINARY_ADD})))
        << "I8 with an integer BINARY";
    auto cond = qt(0, {4}, MTIA_DTYPE_U8, 1, 0);
    EXPECT_FALSE(
        valid(cref::op(MTIA_OP_WHERE, {cond, cref::tensor(64, {4}), cref::tensor(128, {4})}, cref::tensor(192, {4}))))
        << "U8 as WHERE's condition";
}

// The timing model: a compute-bound int8 CONV at MTIA v1's 102.4 TOPS,
// twice its F16 rate (the launch cost aside); its bytes by dtype size.
TEST(ComputeQuantTiming, Int8ConvAtTwiceTheHalfRate)
{
    mtia_op q = cref::op(MTIA_OP_CONV,
                         {qt(0, {1, 256, 14, 14}, MTIA_DTYPE_U8, 0.1f, 0),
                          qt(1 << 20, {256, 256, 3, 3}, MTIA_DTYPE_I8, 0, 0), cref::tensor(4 << 20, {2, 256})},
                         qt(8 << 20, {1, 256, 14, 14}, MTIA_DTYPE_I8, 0.1f, 0), {1, 1, 1, 1, 1, 1, 1, 1, 1});
    mtia_op h = q;
    for (mtia_tensor_desc *t : {&h.in[0], &h.in[1], &h.out}) {
        t->dtype = MTIA_DTYPE_F16;
        t->scale = 0;
        t->zero_point = 0;
    }
    h.in[2] = cref::tensor(4 << 20, {256});
    h.in[2].dtype = MTIA_DTYPE_F16;
    const double launch = 1000;
    const double nq = double(mtia_compute_op_ns(nullptr, &q)) - launch,
                 nh = double(mtia_compute_op_ns(nullptr, &h)) - launch;
    EXPECT_NEAR(nq * 2, nh, 2.0);
    EXPECT_EQ(mtia_compute_op_bytes(&q), 256 * 196 + 256 * 2304 + 2 * 256 * 4 + 256 * 196u);
}

}  // namespace
