// SPDX-License-Identifier: MIT
// F16 and BF16: the conversions of mtia_fp16.h against exact arithmetic
// (every 16-bit value, random and edge float32s), CAST to and from them, and
// ops in F16/BF16 against the same op in F32 on the same (16-bit) values
// with its output rounded once; and that against the naive reference.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "compute_ref.h"
#include "mtia/mtia_fp16.h"
#include "mtia_compute.h"

namespace {

using cref::Arena;
using cref::Dims;

const uint8_t kHalves[] = {MTIA_DTYPE_F16, MTIA_DTYPE_BF16};

float to_f32(uint16_t h, uint8_t dt) { return dt == MTIA_DTYPE_F16 ? mtia_f16_to_f32(h) : mtia_bf16_to_f32(h); }
uint16_t to_16(float f, uint8_t dt) { return dt == MTIA_DTYPE_F16 ? mtia_f32_to_f16(f) : mtia_f32_to_bf16(f); }
const char *name(uint8_t dt) { return dt == MTIA_DTYPE_F16 ? "F16" : "BF16"; }

// ---- conversions ---------------------------------------------------------------------

TEST(Fp16, EverySixteenBitValueRoundTrips)
{
    for (uint8_t dt : kHalves) {
        for (uint32_t h = 0; h < 0x10000; h++) {
            const float f = to_f32(uint16_t(h), dt);
            if (std::isnan(f)) {
                EXPECT_TRUE(std::isnan(to_f32(to_16(f, dt), dt))) << name(dt) << " " << h;
                continue;
            }
            ASSERT_EQ(to_16(f, dt), h) << name(dt) << " " << h;
        }
    }
}

// The nearest 16-bit value, ties to the even one, by exact double arithmetic
// over the neighbours of the candidate.
void expect_nearest(float f, uint8_t dt)
{
    const uint16_t h = to_16(f, dt);
    const double x = f, got = to_f32(h, dt);
    if (std::isinf(got)) {
        // Overflow: beyond the largest finite value + half an ulp of it.
        const double max = dt == MTIA_DTYPE_F16 ? 65504.0 : double(mtia_bf16_to_f32(0x7f7f));
        const double half_ulp = dt == MTIA_DTYPE_F16 ? 16.0 : std::ldexp(1.0, 127 - 8);
        EXPECT_GE(std::fabs(x), max + half_ulp) << name(dt) << " " << f;
        return;
    }
    for (int step : {-1, 1}) {
        const uint16_t n = uint16_t(h + step);
        const double other = to_f32(n, dt);
        if (std::isnan(other) || std::isinf(other) || (h & 0x7fff) == 0) continue;
        const double dg = std::fabs(x - got), dn = std::fabs(x - other);
        ASSERT_LE(dg, dn) << name(dt) << " " << f << " -> " << got << " but " << other << " is nearer";
        if (dg == dn) {
            ASSERT_EQ(h & 1, 0) << name(dt) << " " << f << ": a tie goes to the even value";
        }
    }
}

TEST(Fp16, RoundsToNearestEven)
{
    std::mt19937 rng(21);
    for (uint8_t dt : kHalves) {
        for (int i = 0; i < 200000; i++) {
            // Every exponent F16 can hold (subnormals included), and beyond.
            const float f = std::ldexp(std::uniform_real_distribution<float>(-2, 2)(rng),
                                       std::uniform_int_distribution<int>(-27, 17)(rng));
            expect_nearest(f, dt);
        }
        // Ties: halfway between two 16-bit neighbours.
        for (uint32_t h = 0; h < 0x7bff; h += 37) {
            const double a = to_f32(uint16_t(h), dt), b = to_f32(uint16_t(h + 1), dt);
            const float mid = float((a + b) / 2);
            if (double(mid) == (a + b) / 2) expect_nearest(mid, dt);
        }
    }
    EXPECT_EQ(mtia_f32_to_f16(65504.0f), 0x7bff);
    EXPECT_EQ(mtia_f32_to_f16(65519.0f), 0x7bff);
    EXPECT_EQ(mtia_f32_to_f16(65520.0f), 0x7c00);  // the tie with 65536 (not finite) -> inf
    EXPECT_EQ(mtia_f32_to_f16(-1e10f), 0xfc00);
    EXPECT_EQ(mtia_f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(mtia_f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // tie -> even (0)
    EXPECT_EQ(mtia_f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
    EXPECT_EQ(mtia_f32_to_f16(-0.0f), 0x8000);
    EXPECT_EQ(mtia_f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to inf
    EXPECT_EQ(mtia_f32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);        // tie -> even
    EXPECT_TRUE(std::isnan(mtia_bf16_to_f32(mtia_f32_to_bf16(std::nanf("")))));
    EXPECT_TRUE(std::isnan(mtia_f16_to_f32(mtia_f32_to_f16(std::nanf("")))));
    EXPECT_EQ(mtia_f32_to_bf16(mtia_bits_f32(0x7f800001u)) & 0x7fc0, 0x7fc0);  // signalling -> quiet
}

// ---- CAST ----------------------------------------------------------------------------

TEST(ComputeHalf, CastToAndFromEveryType)
{
    const std::vector<double> vals{0, 1, -1, 2.75, -3.5, 1000.25, 70000, -0.001, 7, 65519};
    const uint8_t others[] = {MTIA_DTYPE_F32, MTIA_DTYPE_I32, MTIA_DTYPE_I64, MTIA_DTYPE_BOOL};
    for (uint8_t dt : kHalves) {
        for (uint8_t o : others) {
            Arena a;
            const Dims d{uint32_t(vals.size())};
            const auto f = a.alloc(d), h = a.alloc(d, dt), x = a.alloc(d, o), back = a.alloc(d, o);
            std::vector<float> fv(vals.begin(), vals.end());
            a.set(f, fv);
            const std::vector<mtia_op> prog{cref::op(MTIA_OP_CAST, {f}, x), cref::op(MTIA_OP_CAST, {x}, h),
                                            cref::op(MTIA_OP_CAST, {h}, back)};
            uint64_t r = 0;
            ASSERT_EQ(mtia_compute_run(prog.data(), 3, a.data(), a.size(), nullptr, nullptr, &r), MTIA_CQE_OK);
            // x (F32 -> o, as the F32 CAST does), then o -> 16 bits = round(F32 of x).
            Arena ref;
            const auto rf = ref.alloc(d), rx = ref.alloc(d, o), rf2 = ref.alloc(d);
            ref.set(rf, fv);
            const std::vector<mtia_op> rp{cref::op(MTIA_OP_CAST, {rf}, rx), cref::op(MTIA_OP_CAST, {rx}, rf2)};
            ASSERT_EQ(mtia_compute_run(rp.data(), 2, ref.data(), ref.size(), nullptr, nullptr, &r), MTIA_CQE_OK);
            const auto *hp = reinterpret_cast<const uint16_t *>(a.data() + h.offset);
            const auto want = ref.get(rf2);
            for (size_t i = 0; i < vals.size(); i++)
                EXPECT_EQ(hp[i], to_16(want[i], dt)) << name(dt) << " from dtype " << int(o) << " value " << vals[i];
            // ... and back: the 16-bit value as o (via F32).
            const auto *bp = a.data() + back.offset;
            const auto *xp = a.data() + x.offset;
            if (o == MTIA_DTYPE_F32) {
                for (size_t i = 0; i < vals.size(); i++)
                    EXPECT_EQ(reinterpret_cast<const float *>(bp)[i], to_f32(hp[i], dt)) << vals[i];
            } else if (o == MTIA_DTYPE_BOOL) {
                EXPECT_EQ(std::memcmp(bp, xp, vals.size()), 0);
            }
        }
    }
}

// ---- ops -----------------------------------------------------------------------------

// Rounds F32 tensor @t's values to @dt and returns a @dt copy of it (@t
// itself if it is not F32).
mtia_tensor_desc halve(Arena &a, const mtia_tensor_desc &t, uint8_t dt)
{
    if (t.dtype != MTIA_DTYPE_F32) return t;
    const Dims d = cref::dims(t);
    const uint64_t n = cref::count(d);
    for (uint64_t i = 0; i < n; i++) a.at(t)[i] = to_f32(to_16(a.at(t)[i], dt), dt);
    const mtia_tensor_desc r = a.alloc(d, dt);
    for (uint64_t i = 0; i < n; i++) {
        const uint16_t v = to_16(a.at(t)[i], dt);
        std::memcpy(a.data() + r.offset + i * 2, &v, 2);
    }
    return r;
}

// Runs @o (F32) and the same op with every F32 tensor in @dt, on the same
// values (the F32 inputs first rounded to @dt): the 16-bit output must be the
// F32 output rounded once, bit for bit. Returns the F32 output.
std::vector<float> check_half(Arena &a, const mtia_op &o, uint8_t dt, const std::string &what)
{
    mtia_op h = o;
    for (unsigned k = 0; k < o.n_in; k++) {
        h.in[k] = halve(a, o.in[k], dt);
        for (unsigned j = 0; j < k; j++)  // the same tensor twice stays one
            if (o.in[j].offset == o.in[k].offset && o.in[j].dtype == o.in[k].dtype) h.in[k] = h.in[j];
    }
    h.out = o.out.dtype == MTIA_DTYPE_BOOL ? a.alloc(cref::dims(o.out), MTIA_DTYPE_BOOL) : halve(a, o.out, dt);
    for (unsigned k = 0; k < o.n_in; k++)  // in place stays in place
        if (o.in[k].offset == o.out.offset && o.in[k].dtype == o.out.dtype) h.out = h.in[k];
    uint64_t r = 0;
    EXPECT_EQ(mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &r), MTIA_CQE_OK) << what;
    EXPECT_EQ(mtia_compute_run(&h, 1, a.data(), a.size(), nullptr, nullptr, &r), MTIA_CQE_OK) << what;
    const uint64_t n = cref::count(cref::dims(o.out));
    const uint8_t *got = a.data() + h.out.offset;
    std::vector<float> y(a.at(o.out), a.at(o.out) + (o.out.dtype == MTIA_DTYPE_F32 ? n : 0));
    for (uint64_t i = 0; i < n && o.out.dtype == MTIA_DTYPE_F32; i++) {
        uint16_t g;
        std::memcpy(&g, got + i * 2, 2);
        const uint16_t want = to_16(y[i], dt);
        if (g != want && !(std::isnan(y[i]) && std::isnan(to_f32(g, dt)))) {
            ADD_FAILURE() << what << " " << name(dt) << ": element " << i << " got " << to_f32(g, dt) << " want "
                          << to_f32(want, dt);
            break;
        }
    }
    if (o.out.dtype == MTIA_DTYPE_BOOL) {
        EXPECT_EQ(std::memcmp(a.data() + o.out.offset, got, n), 0) << what;
    }
    return y;
}

void expect_near(const std::vector<float> &got, const std::vector<float> &want, double rel, const std::string &what)
{
    ASSERT_EQ(got.size(), want.size()) << what;
    double scale = 1;
    for (float w : want) scale = std::max(scale, double(std::fabs(w)));
    for (size_t i = 0; i < got.size(); i++) ASSERT_NEAR(got[i], want[i], rel * scale) << what << " element " << i;
}

TEST(ComputeHalf, OpsMatchF32RoundedOnce)
{
    std::mt19937 rng(5);
    for (uint8_t dt : kHalves) {
        {  // CONV + bias + RELU, against the naive reference too
            Arena a;
            const auto x = a.alloc({2, 5, 9, 9}), w = a.alloc({7, 5, 3, 3}), b = a.alloc({7}),
                       y = a.alloc({2, 7, 9, 9});
            a.fill_random(x, rng), a.fill_random(w, rng), a.fill_random(b, rng);
            const auto o = cref::op(MTIA_OP_CONV, {x, w, b}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1}, MTIA_ACT_RELU);
            const auto got = check_half(a, o, dt, "conv");
            const auto bv = a.get(b);
            expect_near(got, cref::conv(a.get(x), {2, 5, 9, 9}, a.get(w), {7, 5, 3, 3}, &bv, {2, 7, 9, 9}, o), 1e-5,
                        "conv vs reference");
        }
        {  // GEMM, B transposed, bias row
            Arena a;
            const auto x = a.alloc({6, 40}), w = a.alloc({11, 40}), b = a.alloc({1, 11}), y = a.alloc({6, 11});
            a.fill_random(x, rng), a.fill_random(w, rng), a.fill_random(b, rng);
            check_half(a, cref::op(MTIA_OP_GEMM, {x, w, b}, y, {0, 1, cref::bits(1), cref::bits(1)}), dt, "gemm");
        }
        {  // BINARY ADD with broadcast, in place, + GELU; MUL of a tensor by itself
            Arena a;
            const auto x = a.alloc({3, 4, 5}), z = a.alloc({1, 4, 1});
            a.fill_random(x, rng), a.fill_random(z, rng);
            check_half(a, cref::op(MTIA_OP_BINARY, {x, z}, x, {MTIA_BINARY_ADD}, MTIA_ACT_GELU_ERF), dt, "add");
            const auto y = a.alloc({3, 4, 5});
            check_half(a, cref::op(MTIA_OP_BINARY, {x, x}, y, {2}), dt, "mul self");
        }
        {  // a comparison (BOOL out) and WHERE (BOOL condition)
            Arena a;
            const auto x = a.alloc({4, 6}), z = a.alloc({4, 6}), y = a.alloc({4, 6});
            a.fill_random(x, rng), a.fill_random(z, rng);
            const auto c = a.alloc({4, 6}, MTIA_DTYPE_BOOL);
            check_half(a, cref::op(MTIA_OP_BINARY, {x, z}, c, {MTIA_BINARY_LESS}), dt, "less");
            check_half(a, cref::op(MTIA_OP_WHERE, {c, x, z}, y), dt, "where");
        }
        {  // POOL max, SOFTMAX, LAYERNORM, REDUCE, TRANSPOSE, COPY_INTO
            Arena a;
            const auto x = a.alloc({1, 3, 8, 8}), p = a.alloc({1, 3, 4, 4});
            a.fill_random(x, rng);
            check_half(a, cref::op(MTIA_OP_POOL, {x}, p, {MTIA_POOL_MAX, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, 1}), dt, "pool");
            const auto s = a.alloc({1, 3, 8, 8});
            check_half(a, cref::op(MTIA_OP_SOFTMAX, {x}, s, {3, 0}), dt, "softmax");
            const auto g = a.alloc({8}), bb = a.alloc({8}), ln = a.alloc({1, 3, 8, 8});
            a.fill_random(g, rng), a.fill_random(bb, rng);
            check_half(a, cref::op(MTIA_OP_LAYERNORM, {x, g, bb}, ln, {3, cref::bits(1e-5f)}), dt, "layernorm");
            const auto r = a.alloc({1, 3, 1, 1});
            check_half(a, cref::op(MTIA_OP_REDUCE, {x}, r, {MTIA_REDUCE_MEAN, 0xc}), dt, "reduce");
            const auto t = a.alloc({8, 3, 8, 1});
            check_half(a, cref::op(MTIA_OP_TRANSPOSE, {cref::tensor(x.offset, {3, 8, 8, 1})}, t, {2, 0, 1, 3}), dt,
                       "transpose");
            const auto cat = a.alloc({1, 5, 8, 8});
            a.fill_random(cat, rng);
            check_half(a, cref::op(MTIA_OP_COPY_INTO, {x}, cat, {1, 1}), dt, "copy_into keeps the rest");
        }
    }
}

// F16/BF16 mixed with F32 in one op is not the op's float type.
TEST(ComputeHalf, MixedFloatTypesAreRefused)
{
    Arena a;
    const auto x = a.alloc({4, 4}, MTIA_DTYPE_BF16), z = a.alloc({4, 4}), y = a.alloc({4, 4}, MTIA_DTYPE_BF16);
    const auto o = cref::op(MTIA_OP_BINARY, {x, z}, y, {MTIA_BINARY_ADD});
    uint32_t bad = 99;
    EXPECT_EQ(mtia_compute_validate(&o, 1, a.size(), &bad), MTIA_CQE_BAD_PROGRAM);
    const auto f16 = a.alloc({4, 4}, MTIA_DTYPE_F16);
    const auto o2 = cref::op(MTIA_OP_BINARY, {x, y}, f16, {MTIA_BINARY_ADD});
    EXPECT_EQ(mtia_compute_validate(&o2, 1, a.size(), &bad), MTIA_CQE_BAD_PROGRAM);
    const auto ok = cref::op(MTIA_OP_BINARY, {x, x}, y, {MTIA_BINARY_ADD});
    EXPECT_EQ(mtia_compute_validate(&ok, 1, a.size(), &bad), MTIA_CQE_OK);
}

}  // namespace
