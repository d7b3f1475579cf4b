// SPDX-License-Identifier: MIT
// BINARY ADD..MIN on I32 and I64 tensors against a naive reference over
// random broadcast shapes and values that overflow (wrapping), divide by
// zero and INT_MIN / -1, and raise to negative powers; then the dtype rule
// (one dtype throughout, no fused act).
#include <cstring>
#include <limits>

#include <gtest/gtest.h>

#include "compute_ref.h"
#include "compute_ref_int.h"
#include "mtia_compute.h"

namespace {

using cref::Arena;
using cref::Dims;

uint32_t rnd(std::mt19937 &rng, uint32_t lo, uint32_t hi)
{
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
}

template <class T>
void check_kind(uint8_t dtype, uint32_t kind, std::mt19937 &rng)
{
    for (int t = 0; t < 10; t++) {
        Arena a;
        Dims yd(rnd(rng, 1, 4));
        for (auto &d : yd) d = rnd(rng, 1, 5);
        Dims ad = yd, bd = yd;
        for (auto &d : t % 2 ? bd : ad)
            if (rnd(rng, 0, 2) == 0) d = 1;
        auto x = a.alloc(ad, dtype), z = a.alloc(bd, dtype), y = a.alloc(yd, dtype);
        std::vector<T> xv(cref::count(ad)), zv(cref::count(bd));
        for (auto &v : xv) v = cref::int_value<T>(rng, kind);
        for (auto &v : zv) v = cref::int_value<T>(rng, kind);
        if (kind == MTIA_BINARY_POW && t % 3 == 0)
            for (auto &v : zv) v = static_cast<T>(rnd(rng, 40, 70));  // wraps
        std::memcpy(a.data() + x.offset, xv.data(), xv.size() * sizeof(T));
        std::memcpy(a.data() + z.offset, zv.data(), zv.size() * sizeof(T));
        uint64_t result = 0;
        const mtia_op o = cref::op(MTIA_OP_BINARY, {x, z}, y, {kind});
        ASSERT_EQ(mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &result), MTIA_CQE_OK);
        std::vector<T> got(cref::count(yd));
        std::memcpy(got.data(), a.data() + y.offset, got.size() * sizeof(T));
        size_t bad = 0;
        for (size_t i = 0; i < got.size(); i++) {
            const auto c = cref::coords(i, yd);
            const T want = cref::int_binary<T>(kind, xv[cref::bindex(c, ad)], zv[cref::bindex(c, bd)]);
            if (got[i] != want && bad++ < 3)
                ADD_FAILURE() << "kind " << kind << " dtype " << int(dtype) << " element " << i << " got "
                              << int64_t(got[i]) << " want " << int64_t(want);
        }
        EXPECT_EQ(bad, 0u);
    }
}

TEST(ComputeIntBinary, EveryKindBothWidthsBroadcast)
{
    std::mt19937 rng(31);
    for (uint32_t kind = MTIA_BINARY_ADD; kind <= MTIA_BINARY_MIN; kind++) {
        check_kind<int32_t>(MTIA_DTYPE_I32, kind, rng);
        check_kind<int64_t>(MTIA_DTYPE_I64, kind, rng);
    }
}

// Comparisons on integers are exact: values beyond float32's 2^24 that a
// float comparison would merge (2^24 and 2^24 + 1; INT64 extremes).
template <class T>
void check_compare(uint8_t dtype, uint32_t kind, std::mt19937 &rng)
{
    const T big = T(1) << 24;
    for (int t = 0; t < 10; t++) {
        Arena a;
        Dims yd(rnd(rng, 1, 3));
        for (auto &d : yd) d = rnd(rng, 1, 6);
        Dims ad = yd, bd = yd;
        for (auto &d : t % 2 ? bd : ad)
            if (rnd(rng, 0, 2) == 0) d = 1;
        auto x = a.alloc(ad, dtype), z = a.alloc(bd, dtype), y = a.alloc(yd, MTIA_DTYPE_BOOL);
        std::vector<T> xv(cref::count(ad)), zv(cref::count(bd));
        auto pick = [&] {
            const uint32_t r = rnd(rng, 0, 3);
            return r == 0 ? big : r == 1 ? T(big + 1) : cref::int_value<T>(rng, MTIA_BINARY_ADD);
        };
        for (auto &v : xv) v = pick();
        for (auto &v : zv) v = pick();
        std::memcpy(a.data() + x.offset, xv.data(), xv.size() * sizeof(T));
        std::memcpy(a.data() + z.offset, zv.data(), zv.size() * sizeof(T));
        uint64_t result = 0;
        const mtia_op o = cref::op(MTIA_OP_BINARY, {x, z}, y, {kind});
        ASSERT_EQ(mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &result), MTIA_CQE_OK);
        const uint8_t *got = a.data() + y.offset;
        for (uint64_t i = 0; i < cref::count(yd); i++) {
            const auto c = cref::coords(i, yd);
            const T va = xv[cref::bindex(c, ad)], vb = zv[cref::bindex(c, bd)];
            const bool want = kind == MTIA_BINARY_EQUAL ? va == vb : kind == MTIA_BINARY_LESS ? va < vb : va > vb;
            ASSERT_EQ(got[i], want ? 1 : 0) << "kind " << kind << " " << int64_t(va) << " vs " << int64_t(vb);
        }
    }
}

TEST(ComputeIntBinary, ComparisonsAreExact)
{
    std::mt19937 rng(32);
    for (uint32_t kind = MTIA_BINARY_EQUAL; kind <= MTIA_BINARY_GREATER; kind++) {
        check_compare<int32_t>(MTIA_DTYPE_I32, kind, rng);
        check_compare<int64_t>(MTIA_DTYPE_I64, kind, rng);
    }
}

TEST(ComputeIntBinary, DtypeRule)
{
    Arena a;
    const Dims d{4};
    auto i32 = a.alloc(d, MTIA_DTYPE_I32), i64 = a.alloc(d, MTIA_DTYPE_I64), f = a.alloc(d);
    auto expect_invalid = [&](mtia_op o, const char *what) {
        uint64_t result = 0;
        EXPECT_EQ(mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &result), MTIA_CQE_BAD_PROGRAM) << what;
    };
    expect_invalid(cref::op(MTIA_OP_BINARY, {i32, i64}, i32, {MTIA_BINARY_ADD}), "mixed int widths");
    expect_invalid(cref::op(MTIA_OP_BINARY, {i64, i64}, f, {MTIA_BINARY_ADD}), "float out of ints");
    expect_invalid(cref::op(MTIA_OP_BINARY, {f, f}, i64, {MTIA_BINARY_ADD}), "int out of floats");
    expect_invalid(cref::op(MTIA_OP_BINARY, {i32, i32}, i32, {MTIA_BINARY_ADD}, MTIA_ACT_RELU), "fused act");
    expect_invalid(cref::op(MTIA_OP_ACT, {i32}, i32, {}), "ACT on ints");
    auto b = a.alloc(d, MTIA_DTYPE_BOOL);
    expect_invalid(cref::op(MTIA_OP_BINARY, {i64, f}, b, {MTIA_BINARY_LESS}), "int compared with float");
    expect_invalid(cref::op(MTIA_OP_BINARY, {i64, i32}, b, {MTIA_BINARY_EQUAL}), "mixed int widths compared");
    expect_invalid(cref::op(MTIA_OP_BINARY, {i64, i64}, i64, {MTIA_BINARY_EQUAL}), "int comparison out not BOOL");
}

}  // namespace
