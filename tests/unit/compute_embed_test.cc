// SPDX-License-Identifier: MIT
// GATHER, EMBEDDING_BAG and CAST against naive references
// (compute_ref_embed.h) over random shapes, axes, tables and bags, through
// the public C ABI; ids outside their table fail the job with
// MTIA_CQE_BAD_INDEX (result = the op's index) and write nothing; invalid
// descriptors are refused before anything runs.
#include <gtest/gtest.h>

#include "compute_ref_embed.h"
#include "mtia/mtia_fp16.h"
#include "mtia_compute.h"

namespace {

using cref::Arena;
using cref::Dims;

uint32_t rnd(std::mt19937 &rng, uint32_t lo, uint32_t hi)
{
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
}

// Writes integer values into an I32 or I64 tensor.
void set_ids(Arena &a, const mtia_tensor_desc &t, const std::vector<int64_t> &v)
{
    auto *p = reinterpret_cast<uint8_t *>(a.at(t));
    for (size_t i = 0; i < v.size(); i++) {
        if (t.dtype == MTIA_DTYPE_I64) {
            std::memcpy(p + i * 8, &v[i], 8);
        } else {
            const auto x = int32_t(v[i]);
            std::memcpy(p + i * 4, &x, 4);
        }
    }
}

std::vector<uint8_t> raw(Arena &a, const mtia_tensor_desc &t)
{
    const auto *p = reinterpret_cast<const uint8_t *>(a.at(t));
    return std::vector<uint8_t>(p, p + cref::count(cref::dims(t)) * mtia_dtype_size(t.dtype));
}

uint16_t run(Arena &a, const std::vector<mtia_op> &prog, uint64_t *result)
{
    return mtia_compute_run(prog.data(), uint32_t(prog.size()), a.data(), a.size(), nullptr, nullptr, result);
}

void expect_ok(Arena &a, const mtia_op &o, const std::string &what)
{
    uint64_t r = 0;
    EXPECT_EQ(run(a, {o}, &r), MTIA_CQE_OK) << what << " (bad op " << r << ")";
}

// ---- GATHER ------------------------------------------------------------------------

TEST(ComputeGather, RandomShapesAxesAndNegativeIndices)
{
    std::mt19937 rng(7);
    for (int it = 0; it < 150; it++) {
        const unsigned r = rnd(rng, 1, 4), q = rnd(rng, 1, 3 > 7 - r ? 7 - r : 3), axis = rnd(rng, 0, r - 1);
        Dims dd(r), id(q);
        for (auto &x : dd) x = rnd(rng, 1, 6);
        for (auto &x : id) x = rnd(rng, 1, 4);
        const uint8_t ddt = it % 3 == 0 ? MTIA_DTYPE_I32 : it % 3 == 1 ? MTIA_DTYPE_F32 : MTIA_DTYPE_BOOL;
        const uint8_t idt = it % 2 ? MTIA_DTYPE_I64 : MTIA_DTYPE_I32;
        Dims od(dd.begin(), dd.begin() + axis);
        od.insert(od.end(), id.begin(), id.end());
        od.insert(od.end(), dd.begin() + axis + 1, dd.end());
        Arena a;
        const auto x = a.alloc(dd, ddt), ix = a.alloc(id, idt), y = a.alloc(od, ddt);
        auto *xp = reinterpret_cast<uint8_t *>(a.at(x));  // any bytes: GATHER copies them
        for (uint64_t i = 0; i < cref::count(dd) * mtia_dtype_size(ddt); i++) xp[i] = uint8_t(rng());
        const int64_t s = dd[axis];
        std::vector<int64_t> idx(cref::count(id));
        for (auto &v : idx) v = int64_t(rnd(rng, 0, uint32_t(2 * s - 1))) - s;  // [-s, s)
        set_ids(a, ix, idx);
        expect_ok(a, cref::op(MTIA_OP_GATHER, {x, ix}, y, {axis}), "gather " + std::to_string(it));
        EXPECT_EQ(raw(a, y), cref::gather(raw(a, x), dd, idx, axis, mtia_dtype_size(ddt))) << "case " << it;
    }
}

TEST(ComputeGather, IndexOutOfRangeIsBadIndexAndWritesNothing)
{
    for (int64_t bad : std::vector<int64_t>{4, 1000, -5, int64_t(1) << 40}) {
        Arena a;
        const auto x = a.alloc({4, 3}), ix = a.alloc({3}, MTIA_DTYPE_I64), y = a.alloc({3, 3});
        const auto y0 = a.alloc({4, 3});
        std::mt19937 rng(1);
        a.fill_random(x, rng);
        set_ids(a, ix, {0, bad, 1});
        a.set(y, std::vector<float>(9, 42.0f));
        // A valid op first: the bad one is op 1.
        std::vector<mtia_op> prog{cref::op(MTIA_OP_CAST, {x}, y0), cref::op(MTIA_OP_GATHER, {x, ix}, y, {0})};
        uint64_t r = 99;
        EXPECT_EQ(run(a, prog, &r), MTIA_CQE_BAD_INDEX) << bad;
        EXPECT_EQ(r, 1u);
        EXPECT_EQ(a.get(y), std::vector<float>(9, 42.0f));
        EXPECT_EQ(a.get(y0), a.get(x));  // the op before it ran
    }
}

// ---- EMBEDDING_BAG -----------------------------------------------------------------

struct BagCase {
    std::vector<uint32_t> rows;
    uint32_t d, b, mode, bag;  // bag: fixed size, 0 = offsets
    bool include_last, weights;
    uint8_t idt;
    uint8_t tdt = MTIA_DTYPE_F32;  // tables' dtype
};

mtia_op bag_op(const BagCase &k, const std::vector<mtia_tensor_desc> &in, const mtia_tensor_desc &y)
{
    std::vector<uint32_t> attrs{k.mode, uint32_t(k.rows.size()), k.bag, k.include_last};
    attrs.insert(attrs.end(), k.rows.begin(), k.rows.end());
    return cref::op(MTIA_OP_EMBEDDING_BAG, in, y, attrs);
}

void check_bag(const BagCase &k, std::mt19937 &rng, const std::string &what)
{
    const uint32_t t_n = uint32_t(k.rows.size());
    uint32_t total = 0;
    for (uint32_t r : k.rows) total += r;
    // Bags: a random length each (some empty), or the fixed size.
    std::vector<int64_t> off{0}, ids;
    for (uint32_t t = 0; t < t_n; t++) {
        for (uint32_t s = 0; s < k.b; s++) {
            const uint32_t len = k.bag ? k.bag : rnd(rng, 0, 5);
            for (uint32_t i = 0; i < len; i++) ids.push_back(rnd(rng, 0, k.rows[t] - 1));
            off.push_back(int64_t(ids.size()));
        }
    }
    if (ids.empty()) ids.push_back(0), off.back() = 0;  // one id (unused): tensors have dims >= 1
    std::vector<float> w;
    Arena a;
    const auto tab = a.alloc({total, k.d});
    a.fill_random(tab, rng);
    const auto y = a.alloc({k.b, t_n * k.d});
    std::vector<mtia_tensor_desc> in{tab};
    std::vector<double> ref_tab(a.at(tab), a.at(tab) + uint64_t{total} * k.d);
    if (k.tdt == MTIA_DTYPE_F16 || k.tdt == MTIA_DTYPE_BF16) {  // the reference reads the same (rounded) values
        const bool f16 = k.tdt == MTIA_DTYPE_F16;
        in[0] = a.alloc({total, k.d}, k.tdt);
        for (uint64_t i = 0; i < uint64_t{total} * k.d; i++) {
            const uint16_t h = f16 ? mtia_f32_to_f16(a.at(tab)[i]) : mtia_f32_to_bf16(a.at(tab)[i]);
            std::memcpy(a.data() + in[0].offset + i * 2, &h, 2);
            ref_tab[i] = f16 ? mtia_f16_to_f32(h) : mtia_bf16_to_f32(h);
        }
    } else if (k.tdt != MTIA_DTYPE_F32) {  // 8-bit rowwise: random bytes, a scale and bias a row
        in[0] = a.alloc({total, k.d + 8}, k.tdt);
        uint8_t *p = a.data() + in[0].offset;
        std::uniform_real_distribution<float> scale(1e-3f, 0.05f), bias(-1.0f, 1.0f);
        for (uint32_t r = 0; r < total; r++, p += k.d + 8) {
            for (uint32_t c = 0; c < k.d; c++) p[c] = uint8_t(rng());
            const float sb[2] = {scale(rng), bias(rng)};
            std::memcpy(p + k.d, sb, 8);
        }
        ref_tab = cref::dequantize_rowwise(a.data() + in[0].offset, total, k.d, k.tdt == MTIA_DTYPE_I8);
    }
    if (k.bag) {
        in.push_back(a.alloc({t_n, k.b, k.bag}, k.idt));
        if (k.weights) {
            in.push_back(a.alloc({t_n, k.b, k.bag}));
            a.fill_random(in[2], rng);
            w = a.get(in[2]);
        }
    } else {
        in.push_back(a.alloc({uint32_t(ids.size())}, k.idt));
        std::vector<int64_t> given(off.begin(), off.end() - (k.include_last ? 0 : 1));
        in.push_back(a.alloc({uint32_t(given.size())}, k.idt));
        set_ids(a, in[2], given);
        if (!k.include_last) off.back() = int64_t(ids.size());  // the device's implicit end: N
    }
    set_ids(a, in[1], ids);
    expect_ok(a, bag_op(k, in, y), what);
    const auto want = cref::embedding_bag(ref_tab, k.d, k.rows, ids, off, k.b, k.mode, w);
    const auto got = a.get(y);
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); i++)
        ASSERT_NEAR(got[i], want[i], 1e-5 * (1 + std::fabs(want[i]))) << what << " element " << i;
}

// Case @it of a random sweep: tables of up to @max_d columns and dtype @tdt,
// fixed bags on odd cases, offsets on even ones.
BagCase random_case(std::mt19937 &rng, int it, uint32_t max_d, uint8_t tdt)
{
    BagCase k;
    k.rows.resize(rnd(rng, 1, MTIA_EMBEDDING_BAG_MAX_TABLES));
    for (auto &r : k.rows) r = rnd(rng, 1, 50);
    k.d = rnd(rng, 1, max_d);
    k.b = rnd(rng, 1, 6);
    k.mode = rnd(rng, 0, 2);
    k.bag = it % 2 ? rnd(rng, 1, 4) : 0;
    k.include_last = !k.bag && rnd(rng, 0, 1);
    k.weights = k.bag && k.mode == MTIA_EMBEDDING_BAG_SUM && rnd(rng, 0, 1);
    k.idt = rnd(rng, 0, 1) ? MTIA_DTYPE_I64 : MTIA_DTYPE_I32;
    k.tdt = tdt;
    return k;
}

TEST(ComputeEmbeddingBag, RandomTablesBagsModes)
{
    std::mt19937 rng(11);
    for (int it = 0; it < 200; it++) {
        const uint8_t tdt = it % 5 == 1 ? MTIA_DTYPE_F16 : it % 5 == 2 ? MTIA_DTYPE_BF16 : MTIA_DTYPE_F32;
        check_bag(random_case(rng, it, 17, tdt), rng, "case " + std::to_string(it));
    }
}

// 8-bit rowwise tables (I8 and U8: each row's values, then its F32 scale and
// bias) against the rows dequantized and pooled in double.
TEST(ComputeEmbeddingBag, RowwiseInt8TablesBagsModes)
{
    std::mt19937 rng(13);
    for (int it = 0; it < 200; it++) {
        // Rows of any length: scale and bias unaligned.
        const uint8_t tdt = it % 4 < 2 ? MTIA_DTYPE_U8 : MTIA_DTYPE_I8;
        check_bag(random_case(rng, it, 67, tdt), rng, "case " + std::to_string(it));
    }
}

// A row of an 8-bit rowwise table is exactly the spec's F32 arithmetic,
// (float)q * s rounded, then + b rounded: bags of one row (SUM and MAX) give
// it bit for bit, for every q of both dtypes and awkward scales and biases.
TEST(ComputeEmbeddingBag, RowwiseRowIsQTimesScalePlusBiasInF32)
{
    const float scales[] = {0.1f, 1.0f / 3.0f, 7.5e-3f, 1e-30f, 3e30f, -0.25f};
    const float biases[] = {0.0f, -0.7f, 1e-3f, 12345.678f, -1e-30f, 0.3f};
    for (uint8_t dt : {MTIA_DTYPE_U8, MTIA_DTYPE_I8}) {
        for (uint32_t mode : {MTIA_EMBEDDING_BAG_SUM, MTIA_EMBEDDING_BAG_MAX}) {
            const uint32_t rows = 6, d = 256;  // row r: the scale and bias r, every byte value once
            Arena a;
            const auto tab = a.alloc({rows, d + 8}, dt);
            uint8_t *p = a.data() + tab.offset;
            for (uint32_t r = 0; r < rows; r++) {
                for (uint32_t c = 0; c < d; c++) p[r * (d + 8) + c] = uint8_t(c);
                std::memcpy(p + r * (d + 8) + d, &scales[r], 4);
                std::memcpy(p + r * (d + 8) + d + 4, &biases[r], 4);
            }
            const auto ids = a.alloc({1, rows, 1}, MTIA_DTYPE_I32), y = a.alloc({rows, d});
            set_ids(a, ids, {3, 0, 5, 1, 4, 2});
            expect_ok(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids}, y, {mode, 1, 1, 0, rows}), "one-row bags");
            const std::vector<float> got = a.get(y);
            const int order[] = {3, 0, 5, 1, 4, 2};
            for (uint32_t s = 0; s < rows; s++) {
                const int r = order[s];
                for (uint32_t c = 0; c < d; c++) {
                    const float q = dt == MTIA_DTYPE_I8 ? float(int8_t(c)) : float(c);
                    const float prod = q * scales[r];
                    const float want = prod + biases[r];
                    ASSERT_EQ(cref::bits(got[s * d + c]), cref::bits(want))
                        << "dtype " << int(dt) << " mode " << mode << " row " << r << " q " << q;
                }
            }
        }
    }
}

// Ops large enough to be split between threads (and prefetched along ids that
// cross from one table to the next): the same as the naive reference.
TEST(ComputeEmbeddingBag, LargeOpsSplitBetweenThreads)
{
    std::mt19937 rng(12);
    for (int it = 0; it < 12; it++) {
        BagCase k;
        k.rows = {1000, 37, 4000};
        k.d = it % 2 ? 33 : 64;
        k.b = 700;
        k.mode = uint32_t(it % 3);
        k.bag = it % 4 < 2 ? 6 : 0;  // offsets: 0..5 ids a bag
        k.include_last = !k.bag && it % 2;
        k.weights = k.bag && k.mode == MTIA_EMBEDDING_BAG_SUM;
        k.idt = it % 2 ? MTIA_DTYPE_I32 : MTIA_DTYPE_I64;
        k.tdt = it % 3 == 0 ? MTIA_DTYPE_F32 : it % 3 == 1 ? MTIA_DTYPE_F16 : MTIA_DTYPE_BF16;
        check_bag(k, rng, "case " + std::to_string(it));
        k.tdt = it % 2 ? MTIA_DTYPE_U8 : MTIA_DTYPE_I8;  // and the same shapes 8-bit rowwise
        check_bag(k, rng, "rowwise case " + std::to_string(it));
    }
}

// Offsets whose last bag ends before N (include_last): the ids after it are unused.
TEST(ComputeEmbeddingBag, IncludeLastOffsetEndsBeforeN)
{
    Arena a;
    const auto tab = a.alloc({3, 2}), ids = a.alloc({4}, MTIA_DTYPE_I64), off = a.alloc({3}, MTIA_DTYPE_I64);
    const auto y = a.alloc({2, 2});
    a.set(tab, {1, 2, 10, 20, 100, 200});
    set_ids(a, ids, {0, 1, 2, 7});  // 7: outside the table, but past the last bag
    set_ids(a, off, {0, 2, 3});
    expect_ok(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids, off}, y, {MTIA_EMBEDDING_BAG_SUM, 1, 0, 1, 3}), "");
    EXPECT_EQ(a.get(y), (std::vector<float>{11, 22, 100, 200}));
}

TEST(ComputeEmbeddingBag, IdOutsideItsTableOrBadOffsetsIsBadIndex)
{
    // Two tables of 3 and 5 rows, B = 2, offsets (I32): an id valid in
    // table 1 but not in table 0 is bad in table 0's bags.
    struct Bad {
        std::vector<int64_t> ids, off;
    };
    const std::vector<Bad> bads{
        {{0, 3, 1, 4}, {0, 1, 2, 3}},   // id 3 in table 0 (3 rows)
        {{0, 1, 2, 5}, {0, 1, 2, 3}},   // id 5 in table 1 (5 rows)
        {{0, -1, 2, 4}, {0, 1, 2, 3}},  // negative id
        {{0, 1, 2, 4}, {1, 1, 2, 3}},   // offsets not starting at 0
        {{0, 1, 2, 4}, {0, 2, 1, 3}},   // decreasing
        {{0, 1, 2, 4}, {0, 1, 2, 5}},   // beyond N
    };
    for (size_t c = 0; c < bads.size(); c++) {
        for (uint8_t tdt : {MTIA_DTYPE_F32, MTIA_DTYPE_U8, MTIA_DTYPE_I8}) {  // 8-bit rowwise: rows of 4 + 8 bytes
            Arena a;
            const auto tab = tdt == MTIA_DTYPE_F32 ? a.alloc({8, 4}) : a.alloc({8, 12}, tdt);
            const auto ids = a.alloc({4}, MTIA_DTYPE_I32), off = a.alloc({4}, MTIA_DTYPE_I32);
            const auto y = a.alloc({2, 8});
            set_ids(a, ids, bads[c].ids);
            set_ids(a, off, bads[c].off);
            a.set(y, std::vector<float>(16, -7.0f));
            uint64_t r = 99;
            EXPECT_EQ(run(a, {cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids, off}, y, {0, 2, 0, 0, 3, 5})}, &r),
                      MTIA_CQE_BAD_INDEX)
                << "case " << c << " dtype " << int(tdt);
            EXPECT_EQ(r, 0u);
            EXPECT_EQ(a.get(y), std::vector<float>(16, -7.0f)) << "case " << c << " dtype " << int(tdt);
        }
    }
}

// ---- CAST --------------------------------------------------------------------------

TEST(ComputeCast, EveryPairOnEdgeValues)
{
    const std::vector<double> vals{0, 1, -1, 2.75, -2.75, 0.5, -0.99, 1e6, -123456, 7};
    const uint8_t types[] = {MTIA_DTYPE_F32, MTIA_DTYPE_I32, MTIA_DTYPE_I64, MTIA_DTYPE_BOOL};
    for (uint8_t from : types) {
        for (uint8_t to : types) {
            Arena a;
            const Dims d{uint32_t(vals.size())};
            const auto x = a.alloc(d, from), y = a.alloc(d, to);
            auto *p = reinterpret_cast<uint8_t *>(a.at(x));
            std::vector<double> in;
            for (size_t i = 0; i < vals.size(); i++) {
                double v = from == MTIA_DTYPE_F32    ? vals[i]
                           : from == MTIA_DTYPE_BOOL ? (vals[i] != 0)
                                                     : std::trunc(vals[i]);
                in.push_back(v);
                if (from == MTIA_DTYPE_F32) {
                    const float f = float(v);
                    std::memcpy(p + i * 4, &f, 4);
                } else if (from == MTIA_DTYPE_I32) {
                    const int32_t n = int32_t(v);
                    std::memcpy(p + i * 4, &n, 4);
                } else if (from == MTIA_DTYPE_I64) {
                    const int64_t n = int64_t(v);
                    std::memcpy(p + i * 8, &n, 8);
                } else {
                    p[i] = uint8_t(v);
                }
            }
            const std::string what = "cast " + std::to_string(from) + " -> " + std::to_string(to);
            expect_ok(a, cref::op(MTIA_OP_CAST, {x}, y), what);
            const auto *q = reinterpret_cast<const uint8_t *>(a.at(y));
            for (size_t i = 0; i < in.size(); i++) {
                double got;
                if (to == MTIA_DTYPE_F32) {
                    float f;
                    std::memcpy(&f, q + i * 4, 4);
                    got = f;
                } else if (to == MTIA_DTYPE_I32) {
                    int32_t n;
                    std::memcpy(&n, q + i * 4, 4);
                    got = n;
                } else if (to == MTIA_DTYPE_I64) {
                    int64_t n;
                    std::memcpy(&n, q + i * 8, 8);
                    got = double(n);
                } else {
                    got = q[i];
                }
                EXPECT_EQ(got, cref::cast_value(in[i], to)) << what << " of " << in[i];
            }
        }
    }
}

TEST(ComputeCast, NanAndOutOfRangeFloatsSaturate)
{
    Arena a;
    const auto x = a.alloc({4}), y = a.alloc({4}, MTIA_DTYPE_I32);
    a.set(x, {NAN, 3e9f, -3e9f, INFINITY});
    expect_ok(a, cref::op(MTIA_OP_CAST, {x}, y), "f32 -> i32");
    int32_t got[4];
    std::memcpy(got, a.at(y), 16);
    EXPECT_EQ(got[0], 0);
    EXPECT_EQ(got[1], INT32_MAX);
    EXPECT_EQ(got[2], INT32_MIN);
    EXPECT_EQ(got[3], INT32_MAX);
}

// ---- validation ----------------------------------------------------------------------

void expect_invalid(Arena &a, const mtia_op &o, const std::string &what)
{
    uint32_t bad = 99;
    EXPECT_EQ(mtia_compute_validate(&o, 1, a.size(), &bad), MTIA_CQE_BAD_PROGRAM) << what;
    EXPECT_EQ(bad, 0u) << what;
}

TEST(ComputeEmbedValidate, RefusesBadDtypesShapesAndPlacement)
{
    Arena a;
    const auto x = a.alloc({4, 3}), ix = a.alloc({2}, MTIA_DTYPE_I64), y = a.alloc({2, 3});
    const auto fidx = a.alloc({2});
    const mtia_op good = cref::op(MTIA_OP_GATHER, {x, ix}, y, {0});
    uint32_t bad;
    ASSERT_EQ(mtia_compute_validate(&good, 1, a.size(), &bad), MTIA_CQE_OK);
    expect_invalid(a, cref::op(MTIA_OP_GATHER, {x, fidx}, y, {0}), "F32 indices");
    expect_invalid(a, cref::op(MTIA_OP_GATHER, {x, ix}, y, {1}), "out dims for axis 1");
    expect_invalid(a, cref::op(MTIA_OP_GATHER, {x, ix}, y, {2}), "axis >= ndim");
    auto wrong_out = good;
    wrong_out.out.dtype = MTIA_DTYPE_I32;
    expect_invalid(a, wrong_out, "out dtype != data dtype");
    auto outside = good;
    outside.in[1].offset = a.size() - 8;
    expect_invalid(a, outside, "indices outside the arena");
    auto misaligned = good;
    misaligned.in[1].offset += 4;
    expect_invalid(a, misaligned, "I64 not 8-byte aligned");
    auto act = good;
    act.act = MTIA_ACT_RELU;
    expect_invalid(a, act, "fused activation");

    const auto tab = a.alloc({8, 4}), ids = a.alloc({4}, MTIA_DTYPE_I32), off = a.alloc({4}, MTIA_DTYPE_I32);
    const auto off64 = a.alloc({4}, MTIA_DTYPE_I64), bag_y = a.alloc({2, 8});
    const mtia_op bag = cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids, off}, bag_y, {0, 2, 0, 0, 3, 5});
    ASSERT_EQ(mtia_compute_validate(&bag, 1, a.size(), &bad), MTIA_CQE_OK);
    expect_invalid(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids, off}, bag_y, {0, 2, 0, 0, 3, 4}), "rows != table");
    expect_invalid(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids, off}, bag_y, {3, 2, 0, 0, 3, 5}), "bad mode");
    expect_invalid(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids, off64}, bag_y, {0, 2, 0, 0, 3, 5}),
                   "offsets dtype != ids dtype");
    expect_invalid(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids}, bag_y, {0, 2, 0, 0, 3, 5}), "no offsets");
    expect_invalid(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids, off}, bag_y, {0, 2, 0, 1, 3, 5}),
                   "include_last needs T*B+1 offsets");
    expect_invalid(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, ids, off}, bag_y, {0, 2, 0, 0, 3, 5, 9}),
                   "attribute beyond the tables");
    const auto fixed = a.alloc({2, 2, 1}, MTIA_DTYPE_I32), fw = a.alloc({2, 2, 1});
    expect_invalid(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, fixed, fw}, bag_y, {1, 2, 1, 0, 3, 5}),
                   "weights with MEAN");
    expect_invalid(a, cref::op(MTIA_OP_EMBEDDING_BAG, {tab, fixed}, bag_y, {0, 2, 2, 0, 3, 5}), "ids not (T,B,L)");

    // 8-bit rowwise tables: I8/U8 (R, D + 8), scale and zero point 0.
    for (uint8_t qdt : {MTIA_DTYPE_U8, MTIA_DTYPE_I8}) {
        const std::string q = qdt == MTIA_DTYPE_U8 ? "U8 " : "I8 ";
        const auto qtab = a.alloc({8, 12}, qdt);
        const mtia_op qbag = cref::op(MTIA_OP_EMBEDDING_BAG, {qtab, ids, off}, bag_y, {0, 2, 0, 0, 3, 5});
        ASSERT_EQ(mtia_compute_validate(&qbag, 1, a.size(), &bad), MTIA_CQE_OK) << q;
        const mtia_op qfixed = cref::op(MTIA_OP_EMBEDDING_BAG, {qtab, fixed, fw}, bag_y, {0, 2, 1, 0, 3, 5});
        ASSERT_EQ(mtia_compute_validate(&qfixed, 1, a.size(), &bad), MTIA_CQE_OK) << q << "weighted fixed bags";
        auto per_tensor = qbag;
        per_tensor.in[0].scale = cref::bits(0.5f);  // a valid per-tensor quantization elsewhere
        expect_invalid(a, per_tensor, q + "table with a per-tensor scale");
        auto zp = qbag;
        zp.in[0].zero_point = qdt == MTIA_DTYPE_U8 ? 128 : -3;
        expect_invalid(a, zp, q + "table with a zero point");
        auto both = per_tensor;
        both.in[0].zero_point = 1;
        expect_invalid(a, both, q + "table with a scale and a zero point");
        for (uint32_t cols : {8u, 1u, 4u}) {  // no room for a value after the scale and bias
            auto narrow = qbag;
            narrow.in[0].dims[1] = cols;
            narrow.out.dims[1] = 2;
            expect_invalid(a, narrow, q + "rows of " + std::to_string(cols) + " bytes");
        }
        auto wide_out = qbag;
        wide_out.out = a.alloc({2, 24});  // T * cols, not T * D
        expect_invalid(a, wide_out, q + "out (B, T*(D+8))");
        auto q_out = qbag;
        q_out.out.dtype = qdt;
        expect_invalid(a, q_out, q + "out not F32");
        auto three_d = qbag;
        three_d.in[0] = a.alloc({8, 1, 12}, qdt);
        expect_invalid(a, three_d, q + "3-D table");
        auto rows = qbag;
        rows.attrs[MTIA_EMBEDDING_BAG_ROWS + 1] = 6;
        expect_invalid(a, rows, q + "ROWS sum != table rows");
        auto outside = qbag;
        outside.in[0].offset = a.size() - 64;  // 96 bytes from 64 before the end
        expect_invalid(a, outside, q + "table outside the arena");
    }
    for (uint8_t other : {MTIA_DTYPE_I32, MTIA_DTYPE_I64, MTIA_DTYPE_BOOL}) {
        auto t = bag;
        t.in[0].dtype = other;
        expect_invalid(a, t, "table dtype " + std::to_string(other));
    }

    expect_invalid(a, cref::op(MTIA_OP_CAST, {x}, ix), "cast shape");
    // The F32 ops refuse integer tensors.
    const auto xi = a.alloc({4, 3}, MTIA_DTYPE_I32), yi = a.alloc({4, 3}, MTIA_DTYPE_I32);
    expect_invalid(a, cref::op(MTIA_OP_ACT, {xi}, yi), "ACT on I32");
    auto bin = cref::op(MTIA_OP_BINARY, {x, x}, a.alloc({4, 3}));
    bin.in[1].dtype = MTIA_DTYPE_BOOL;
    expect_invalid(a, bin, "BINARY with a BOOL input");
}

// The timing model: a lookup costs the rows it reads, not the whole table.
TEST(ComputeEmbedTiming, LookupsCostTheRowsGathered)
{
    Arena a(1 << 20);
    mtia_op small = cref::op(MTIA_OP_GATHER, {cref::tensor(0, {1000, 64}), cref::tensor(300000, {16})},
                             cref::tensor(400000, {16, 64}), {0});
    small.in[1].dtype = MTIA_DTYPE_I64;
    mtia_op big = small;
    big.in[0].dims[0] = 1000000;  // 256 MB: from LPDDR5, not SRAM
    const uint64_t ts = mtia_compute_op_ns(nullptr, &small), tb = mtia_compute_op_ns(nullptr, &big);
    EXPECT_GT(tb, ts);
    // 16 rows * 256 B out + reads + 128 B ids at 176 GB/s: tens of ns, plus the launch cost.
    EXPECT_LT(tb, 1000u + 100u);
}

// A bag op reads its rows at the table's dtype: 8-bit rowwise rows (D + 8
// bytes) cost about a quarter of F32 ones (4 D bytes), 16-bit ones half; and
// a table that fits the SRAM only at 8 bits is read from there.
TEST(ComputeEmbedTiming, BagsReadRowsAtTheTablesDtype)
{
    const uint32_t d = 64, b = 4096, l = 100;  // 400k ids
    auto ns = [&](uint8_t dt, uint32_t rows) {
        mtia_op o = cref::op(MTIA_OP_EMBEDDING_BAG, {cref::tensor(0, {rows, d}), cref::tensor(0, {1, b, l})},
                             cref::tensor(0, {b, d}), {MTIA_EMBEDDING_BAG_SUM, 1, l, 0, rows});
        o.in[1].dtype = MTIA_DTYPE_I32;
        o.in[0].dtype = dt;
        o.in[0].dims[1] = mtia_dtype_is_quant(dt) ? d + 8 : d;
        return double(mtia_compute_op_ns(nullptr, &o));
    };
    // 4M rows: every table (1 GB, 512 MB, 288 MB) in LPDDR5.
    const uint32_t big = 4000000;
    const double f32 = ns(MTIA_DTYPE_F32, big), f16 = ns(MTIA_DTYPE_F16, big), u8 = ns(MTIA_DTYPE_U8, big);
    EXPECT_EQ(u8, ns(MTIA_DTYPE_I8, big));
    // Rows: 256, 128 and 72 bytes; ids (4 B) and the output the same in each.
    const double other = double(b) * l * 4 + double(b) * d * 4;
    const double r16 = (double(b) * l * 128 + other) / (double(b) * l * 256 + other);
    const double r8 = (double(b) * l * 72 + other) / (double(b) * l * 256 + other);
    EXPECT_NEAR(f16 / f32, r16, 0.02);
    EXPECT_NEAR(u8 / f32, r8, 0.02);
    // 1M rows: 256 MB in F32 (LPDDR5), 72 MB at 8 bits (resident in SRAM).
    const uint32_t mid = 1000000;
    EXPECT_LT(ns(MTIA_DTYPE_U8, mid) / ns(MTIA_DTYPE_F32, mid), r8 / 2);
}

}  // namespace
