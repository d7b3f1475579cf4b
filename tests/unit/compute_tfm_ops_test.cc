// SPDX-License-Identifier: MIT
// The compute engine's transformer ops against naive references over random
// shapes: the unary math activations (alone and fused), BINARY's POW/MAX/MIN
// and comparisons, WHERE, REDUCE, LAYERNORM, log-softmax, stepped SLICE,
// EXPAND and GEMM with broadcast batch dims; then their validation rules.
#include <gtest/gtest.h>

#include "compute_ref.h"
#include "mtia_compute.h"

namespace {

using cref::Arena;
using cref::Dims;

uint32_t rnd(std::mt19937 &rng, uint32_t lo, uint32_t hi)
{
    return std::uniform_int_distribution<uint32_t>(lo, hi)(rng);
}

uint16_t run_status(Arena &a, const mtia_op &o, uint64_t *result = nullptr)
{
    uint64_t r = 0;
    const uint16_t st = mtia_compute_run(&o, 1, a.data(), a.size(), nullptr, nullptr, &r);
    if (result) *result = r;
    return st;
}

void run(Arena &a, const mtia_op &o) { ASSERT_EQ(run_status(a, o), MTIA_CQE_OK); }

void expect_near(const std::vector<float> &got, const std::vector<float> &want, double tol, const std::string &what)
{
    ASSERT_EQ(got.size(), want.size()) << what;
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); i++) {
        const double d = std::fabs(double(got[i]) - want[i]);
        if (!(d <= tol * (1 + std::fabs(want[i]))) && bad++ < 5)
            ADD_FAILURE() << what << ": element " << i << " got " << got[i] << " want " << want[i];
    }
    EXPECT_EQ(bad, 0u) << what;
}

// A BOOL tensor (one byte per element) in the float arena.
mtia_tensor_desc alloc_bool(Arena &a, const Dims &d)
{
    Dims words{uint32_t((cref::count(d) + 3) / 4)};
    mtia_tensor_desc t = a.alloc(words);
    t = cref::tensor(t.offset, d);
    t.dtype = MTIA_DTYPE_BOOL;
    return t;
}
uint8_t *bool_at(Arena &a, const mtia_tensor_desc &t) { return a.data() + t.offset; }

Dims random_dims(std::mt19937 &rng, unsigned nd, uint32_t hi = 6)
{
    Dims d(nd);
    for (auto &x : d) x = rnd(rng, 1, hi);
    return d;
}

// @d with some dims set to 1 (a broadcast operand of d).
Dims squeeze_some(std::mt19937 &rng, Dims d)
{
    for (auto &x : d)
        if (rnd(rng, 0, 2) == 0) x = 1;
    return d;
}

std::string str(const Dims &d)
{
    std::string s = "(";
    for (size_t i = 0; i < d.size(); i++) s += (i ? "," : "") + std::to_string(d[i]);
    return s + ")";
}

// ---- unary math --------------------------------------------------------------

constexpr uint8_t kMathActs[] = {MTIA_ACT_EXP, MTIA_ACT_LOG,      MTIA_ACT_SQRT,      MTIA_ACT_RECIPROCAL, MTIA_ACT_NEG,
                                 MTIA_ACT_ABS, MTIA_ACT_GELU_ERF, MTIA_ACT_GELU_TANH, MTIA_ACT_ERF};

bool positive_domain(uint8_t act) { return act == MTIA_ACT_LOG || act == MTIA_ACT_SQRT || act == MTIA_ACT_RECIPROCAL; }

TEST(ComputeMath, EveryActOnAct)
{
    std::mt19937 rng(21);
    for (uint8_t act : kMathActs)
        for (int t = 0; t < 8; t++) {
            Arena a;
            const Dims d = random_dims(rng, rnd(rng, 1, 4), 9);
            auto x = a.alloc(d), y = a.alloc(d);
            if (positive_domain(act))
                a.fill_random(x, rng, 0.1f, 3);
            else
                a.fill_random(x, rng, -3, 3);
            mtia_op o = cref::op(MTIA_OP_ACT, {x}, y, {}, act);
            std::vector<float> want(cref::count(d));
            const auto xv = a.get(x);
            for (size_t i = 0; i < want.size(); i++) want[i] = float(cref::act(xv[i], o));
            run(a, o);
            expect_near(a.get(y), want, 1e-5, "act " + std::to_string(act) + " " + str(d));
        }
}

// The fused forms: GELU after a GEMM (the FFN), others after BINARY and GEMM.
TEST(ComputeMath, FusedOnGemmAndBinary)
{
    std::mt19937 rng(22);
    for (uint8_t act : kMathActs) {
        if (act == MTIA_ACT_ERF) continue;  // no fused form (validation test below)
        Arena a;
        const uint32_t m = rnd(rng, 1, 9), k = rnd(rng, 1, 17), n = rnd(rng, 1, 9);
        auto A = a.alloc({m, k}), B = a.alloc({k, n}), y = a.alloc({m, n});
        a.fill_random(A, rng, positive_domain(act) ? 0.05f : -1, 1);
        a.fill_random(B, rng, positive_domain(act) ? 0.05f : -1, 1);
        mtia_op o = cref::op(MTIA_OP_GEMM, {A, B}, y, {0, 0, cref::bits(1), 0}, act);
        const auto want = cref::gemm(a.get(A), {m, k}, a.get(B), {k, n}, nullptr, {}, {m, n}, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-4, "gemm act " + std::to_string(act));

        auto p = a.alloc({m, n}), q = a.alloc({1, n}), z = a.alloc({m, n});
        a.fill_random(p, rng, 0.1f, 2);
        a.fill_random(q, rng, 0.1f, 2);
        mtia_op b = cref::op(MTIA_OP_BINARY, {p, q}, z, {MTIA_BINARY_MUL}, act);
        const auto want_b = cref::binary(a.get(p), {m, n}, a.get(q), {1, n}, {m, n}, b);
        run(a, b);
        expect_near(a.get(z), want_b, 1e-4, "binary act " + std::to_string(act));
    }
}

// ---- BINARY: POW, MAX, MIN; comparisons ---------------------------------------

double binary_ref(uint32_t kind, double x, double z)
{
    switch (kind) {
        case MTIA_BINARY_POW:
            return std::pow(x, z);
        case MTIA_BINARY_MAX:
            return std::max(x, z);
        case MTIA_BINARY_MIN:
            return std::min(x, z);
        case MTIA_BINARY_EQUAL:
            return x == z;
        case MTIA_BINARY_LESS:
            return x < z;
        default:
            return x > z;
    }
}

TEST(ComputeBinaryMore, PowMaxMinBroadcast)
{
    std::mt19937 rng(23);
    for (uint32_t kind : {MTIA_BINARY_POW, MTIA_BINARY_MAX, MTIA_BINARY_MIN})
        for (int t = 0; t < 12; t++) {
            Arena a;
            const Dims yd = random_dims(rng, rnd(rng, 1, 4));
            const Dims ad = t % 3 == 1 ? squeeze_some(rng, yd) : yd, bd = t % 3 == 2 ? squeeze_some(rng, yd) : yd;
            auto x = a.alloc(ad), z = a.alloc(bd), y = a.alloc(yd);
            a.fill_random(x, rng, kind == MTIA_BINARY_POW ? 0.1f : -2, 2);
            a.fill_random(z, rng, -2, 2);
            const auto xv = a.get(x), zv = a.get(z);
            std::vector<float> want(cref::count(yd));
            for (size_t i = 0; i < want.size(); i++) {
                const auto c = cref::coords(i, yd);
                want[i] = float(binary_ref(kind, xv[cref::bindex(c, ad)], zv[cref::bindex(c, bd)]));
            }
            run(a, cref::op(MTIA_OP_BINARY, {x, z}, y, {kind}));
            expect_near(a.get(y), want, 1e-5, "binary " + std::to_string(kind) + " " + str(ad) + str(bd));
        }
}

TEST(ComputeBinaryMore, ComparisonsWriteBool)
{
    std::mt19937 rng(24);
    for (uint32_t kind : {MTIA_BINARY_EQUAL, MTIA_BINARY_LESS, MTIA_BINARY_GREATER})
        for (int t = 0; t < 12; t++) {
            Arena a;
            const Dims yd = random_dims(rng, rnd(rng, 1, 4));
            const Dims ad = yd, bd = squeeze_some(rng, yd);
            auto x = a.alloc(ad), z = a.alloc(bd);
            auto y = alloc_bool(a, yd);
            // Small integers so EQUAL holds often.
            for (float *p : {a.at(x), a.at(z)})
                for (uint64_t i = 0; i < cref::count(p == a.at(x) ? ad : bd); i++) p[i] = float(rnd(rng, 0, 2));
            const auto xv = a.get(x), zv = a.get(z);
            std::memset(bool_at(a, y), 0x55, cref::count(yd));
            run(a, cref::op(MTIA_OP_BINARY, {x, z}, y, {kind}));
            size_t bad = 0;
            for (uint64_t i = 0; i < cref::count(yd); i++) {
                const auto c = cref::coords(i, yd);
                const uint8_t want = binary_ref(kind, xv[cref::bindex(c, ad)], zv[cref::bindex(c, bd)]) != 0;
                if (bool_at(a, y)[i] != want) bad++;
            }
            EXPECT_EQ(bad, 0u) << "compare " << kind << " " << str(yd);
        }
}

// ---- WHERE -------------------------------------------------------------------------

TEST(ComputeWhere, BroadcastingRandom)
{
    std::mt19937 rng(25);
    for (int t = 0; t < 30; t++) {
        Arena a;
        const Dims yd = random_dims(rng, rnd(rng, 1, 4));
        const Dims cd = squeeze_some(rng, yd), xd = squeeze_some(rng, yd), zd = squeeze_some(rng, yd);
        auto c = alloc_bool(a, cd);
        auto x = a.alloc(xd), z = a.alloc(zd), y = a.alloc(yd);
        for (uint64_t i = 0; i < cref::count(cd); i++) bool_at(a, c)[i] = uint8_t(rnd(rng, 0, 1));
        a.fill_random(x, rng);
        a.fill_random(z, rng);
        const auto xv = a.get(x), zv = a.get(z);
        std::vector<float> want(cref::count(yd));
        for (size_t i = 0; i < want.size(); i++) {
            const auto co = cref::coords(i, yd);
            want[i] = bool_at(a, c)[cref::bindex(co, cd)] ? xv[cref::bindex(co, xd)] : zv[cref::bindex(co, zd)];
        }
        run(a, cref::op(MTIA_OP_WHERE, {c, x, z}, y));
        expect_near(a.get(y), want, 0, "where " + str(cd) + str(xd) + str(zd));
    }
}

// ---- REDUCE ------------------------------------------------------------------------

TEST(ComputeReduce, AnyAxesEveryKind)
{
    std::mt19937 rng(26);
    for (uint32_t kind : {MTIA_REDUCE_SUM, MTIA_REDUCE_MEAN, MTIA_REDUCE_MAX, MTIA_REDUCE_MIN})
        for (int t = 0; t < 15; t++) {
            Arena a;
            const unsigned nd = rnd(rng, 1, 5);
            const Dims xd = random_dims(rng, nd, 7);
            const uint32_t axes = rnd(rng, 1, (1u << nd) - 1);
            Dims yd = xd;
            for (unsigned i = 0; i < nd; i++)
                if (axes >> i & 1) yd[i] = 1;
            auto x = a.alloc(xd), y = a.alloc(yd);
            a.fill_random(x, rng);
            const auto xv = a.get(x);
            std::vector<double> acc(cref::count(yd), kind == MTIA_REDUCE_MAX   ? -INFINITY
                                                     : kind == MTIA_REDUCE_MIN ? INFINITY
                                                                               : 0.0);
            for (size_t i = 0; i < xv.size(); i++) {
                double &r = acc[cref::bindex(cref::coords(i, xd), yd)];
                r = kind == MTIA_REDUCE_MAX   ? std::max<double>(r, xv[i])
                    : kind == MTIA_REDUCE_MIN ? std::min<double>(r, xv[i])
                                              : r + xv[i];
            }
            std::vector<float> want(acc.size());
            for (size_t i = 0; i < acc.size(); i++)
                want[i] = float(kind == MTIA_REDUCE_MEAN ? acc[i] * double(acc.size()) / double(xv.size()) : acc[i]);
            run(a, cref::op(MTIA_OP_REDUCE, {x}, y, {kind, axes}));
            expect_near(a.get(y), want, 1e-5,
                        "reduce " + std::to_string(kind) + " " + str(xd) + " axes " + std::to_string(axes));
        }
}

// ---- LAYERNORM -----------------------------------------------------------------------

TEST(ComputeLayerNorm, TrailingAxesScaleBias)
{
    std::mt19937 rng(27);
    for (int t = 0; t < 24; t++) {
        Arena a;
        const unsigned nd = rnd(rng, 1, 4), axis = rnd(rng, 0, nd - 1), n_in = 1 + t % 3;
        const Dims xd = random_dims(rng, nd, 9);
        const Dims pd(xd.begin() + axis, xd.end());
        const float eps = t % 2 ? 1e-5f : 1e-3f;
        auto x = a.alloc(xd), s = a.alloc(pd), b = a.alloc(pd), y = a.alloc(xd);
        a.fill_random(x, rng, -2, 3);
        a.fill_random(s, rng);
        a.fill_random(b, rng);
        std::vector<mtia_tensor_desc> in{x};
        if (n_in >= 2) in.push_back(s);
        if (n_in >= 3) in.push_back(b);
        const auto xv = a.get(x), sv = a.get(s), bv = a.get(b);
        const uint64_t c = cref::count(pd), rows = xv.size() / c;
        std::vector<float> want(xv.size());
        for (uint64_t r = 0; r < rows; r++) {
            double mean = 0, var = 0;
            for (uint64_t j = 0; j < c; j++) mean += xv[r * c + j];
            mean /= double(c);
            for (uint64_t j = 0; j < c; j++) var += (xv[r * c + j] - mean) * (xv[r * c + j] - mean);
            var /= double(c);
            for (uint64_t j = 0; j < c; j++) {
                double v = (xv[r * c + j] - mean) / std::sqrt(var + eps);
                if (n_in >= 2) v *= sv[j];
                if (n_in >= 3) v += bv[j];
                want[r * c + j] = float(v);
            }
        }
        run(a, cref::op(MTIA_OP_LAYERNORM, in, y, {axis, cref::bits(eps)}));
        expect_near(a.get(y), want, 1e-4, "layernorm " + str(xd) + " axis " + std::to_string(axis));
    }
}

// ---- SOFTMAX LOG, stepped SLICE, EXPAND --------------------------------------------------

TEST(ComputeSoftmaxLog, EveryAxis)
{
    std::mt19937 rng(28);
    for (int t = 0; t < 12; t++) {
        Arena a;
        const Dims d = random_dims(rng, rnd(rng, 1, 4), 8);
        const uint32_t axis = rnd(rng, 0, uint32_t(d.size() - 1));
        auto x = a.alloc(d), y = a.alloc(d);
        a.fill_random(x, rng, -4, 4);
        const mtia_op o = cref::op(MTIA_OP_SOFTMAX, {x}, y, {axis, 1});
        const auto want = cref::softmax(a.get(x), d, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-5, "log-softmax " + str(d));
    }
}

TEST(ComputeSliceStep, PositiveAndNegativeSteps)
{
    std::mt19937 rng(29);
    for (int t = 0; t < 30; t++) {
        Arena a;
        const Dims xd = random_dims(rng, rnd(rng, 1, 4), 9);
        const uint32_t axis = rnd(rng, 0, uint32_t(xd.size() - 1)), len = xd[axis];
        int32_t step = int32_t(rnd(rng, 1, 3));
        if (t % 2) step = -step;
        const uint32_t start = rnd(rng, 0, len - 1);
        // As many elements as fit from start in the step's direction.
        const uint32_t n = step > 0 ? (len - 1 - start) / step + 1 : start / uint32_t(-step) + 1;
        Dims yd = xd;
        yd[axis] = n;
        auto x = a.alloc(xd), y = a.alloc(yd);
        a.fill_random(x, rng);
        const mtia_op o = cref::op(MTIA_OP_SLICE, {x}, y, {axis, start, uint32_t(step)});
        const auto want = cref::slice(a.get(x), xd, yd, o);
        run(a, o);
        expect_near(a.get(y), want, 0, "slice " + str(xd) + " step " + std::to_string(step));
    }
}

TEST(ComputeExpand, BroadcastCopy)
{
    std::mt19937 rng(30);
    for (int t = 0; t < 20; t++) {
        Arena a;
        const Dims yd = random_dims(rng, rnd(rng, 1, 5), 5), xd = squeeze_some(rng, yd);
        auto x = a.alloc(xd), y = a.alloc(yd);
        a.fill_random(x, rng);
        const auto xv = a.get(x);
        std::vector<float> want(cref::count(yd));
        for (size_t i = 0; i < want.size(); i++) want[i] = xv[cref::bindex(cref::coords(i, yd), xd)];
        run(a, cref::op(MTIA_OP_EXPAND, {x}, y));
        expect_near(a.get(y), want, 0, "expand " + str(xd) + " -> " + str(yd));
    }
}

// ---- GEMM with broadcast batch dims (attention) -------------------------------------------

TEST(ComputeGemmBroadcast, BatchDimsOfOne)
{
    std::mt19937 rng(31);
    for (int t = 0; t < 30; t++) {
        Arena a;
        const Dims batch = random_dims(rng, rnd(rng, 1, 3), 4);
        Dims ab = squeeze_some(rng, batch), bb = squeeze_some(rng, batch);
        for (size_t i = 0; i < batch.size(); i++)
            if (ab[i] != batch[i] && bb[i] != batch[i]) (t % 2 ? ab : bb)[i] = batch[i];  // out's dim from one side
        const uint32_t m = rnd(rng, 1, 9), k = rnd(rng, 1, 12), n = rnd(rng, 1, 9);
        const bool ta = rnd(rng, 0, 1), tb = rnd(rng, 0, 1);
        Dims ad = ab, bd = bb, yd = batch;
        ad.push_back(ta ? k : m);
        ad.push_back(ta ? m : k);
        bd.push_back(tb ? n : k);
        bd.push_back(tb ? k : n);
        yd.push_back(m);
        yd.push_back(n);
        auto A = a.alloc(ad), B = a.alloc(bd), y = a.alloc(yd);
        a.fill_random(A, rng);
        a.fill_random(B, rng);
        const mtia_op o = cref::op(MTIA_OP_GEMM, {A, B}, y, {ta, tb, cref::bits(1), 0}, MTIA_ACT_GELU_ERF);
        const auto want = cref::gemm(a.get(A), ad, a.get(B), bd, nullptr, {}, yd, o);
        run(a, o);
        expect_near(a.get(y), want, 1e-4, "gemm " + str(ad) + " x " + str(bd));
    }
}

// ---- validation -----------------------------------------------------------------------------

void expect_rejected(Arena &a, const mtia_op &o, const std::string &what)
{
    uint64_t idx = 99;
    EXPECT_EQ(run_status(a, o, &idx), MTIA_CQE_BAD_PROGRAM) << what;
    EXPECT_EQ(idx, 0u) << what;
}

TEST(ComputeTfmValidate, Rejections)
{
    Arena a;
    auto x = a.alloc({2, 3, 4}), y = a.alloc({2, 3, 4}), w = a.alloc({4, 5}), g = a.alloc({2, 3, 5});
    auto r = a.alloc({2, 1, 4}), s = a.alloc({4}), cb = alloc_bool(a, {2, 3, 4}), big = a.alloc({3, 3, 4});
    expect_rejected(a, cref::op(MTIA_OP_GEMM, {x, w}, g, {0, 0, cref::bits(1), 0}, MTIA_ACT_ERF), "ERF fused on GEMM");
    expect_rejected(a, cref::op(MTIA_OP_BINARY, {x, y}, cb, {MTIA_BINARY_LESS}, MTIA_ACT_RELU), "comparison + act");
    expect_rejected(a, cref::op(MTIA_OP_BINARY, {x, y}, g, {MTIA_BINARY_GREATER + 1}), "bad binary kind");
    auto yf = a.alloc({2, 3, 4});
    expect_rejected(a, cref::op(MTIA_OP_BINARY, {x, y}, yf, {MTIA_BINARY_EQUAL}), "comparison writing F32");
    expect_rejected(a, cref::op(MTIA_OP_BINARY, {x, y}, cb, {MTIA_BINARY_ADD}), "ADD writing BOOL");
    expect_rejected(a, cref::op(MTIA_OP_WHERE, {x, x, y}, yf), "WHERE with an F32 condition");
    expect_rejected(a, cref::op(MTIA_OP_WHERE, {cb, x}, yf), "WHERE with 2 inputs");
    expect_rejected(a, cref::op(MTIA_OP_WHERE, {cb, big, y}, yf), "WHERE input not broadcastable");
    expect_rejected(a, cref::op(MTIA_OP_REDUCE, {x}, r, {MTIA_REDUCE_SUM, 0}), "REDUCE without axes");
    expect_rejected(a, cref::op(MTIA_OP_REDUCE, {x}, r, {MTIA_REDUCE_SUM, 8}), "REDUCE axis beyond ndim");
    expect_rejected(a, cref::op(MTIA_OP_REDUCE, {x}, r, {MTIA_REDUCE_SUM, 4}), "REDUCE out dims wrong");
    expect_rejected(a, cref::op(MTIA_OP_REDUCE, {x}, r, {MTIA_REDUCE_MIN + 1, 2}), "REDUCE bad kind");
    expect_rejected(a, cref::op(MTIA_OP_LAYERNORM, {x, s}, yf, {2, 0}), "LAYERNORM epsilon 0");
    expect_rejected(a, cref::op(MTIA_OP_LAYERNORM, {x, s}, yf, {2, cref::bits(NAN)}), "LAYERNORM epsilon NaN");
    expect_rejected(a, cref::op(MTIA_OP_LAYERNORM, {x, s}, yf, {1, cref::bits(1e-5f)}), "LAYERNORM scale rank");
    expect_rejected(a, cref::op(MTIA_OP_LAYERNORM, {x}, yf, {3, cref::bits(1e-5f)}), "LAYERNORM axis >= ndim");
    expect_rejected(a, cref::op(MTIA_OP_SOFTMAX, {x}, yf, {2, 2}), "SOFTMAX LOG not 0/1");
    auto sl = a.alloc({2, 3, 3});
    expect_rejected(a, cref::op(MTIA_OP_SLICE, {x}, sl, {2, 1, 2}), "SLICE step past the end");
    expect_rejected(a, cref::op(MTIA_OP_SLICE, {x}, sl, {2, 1, uint32_t(-1)}), "SLICE negative step before 0");
    expect_rejected(a, cref::op(MTIA_OP_EXPAND, {big}, yf), "EXPAND not broadcastable");
    auto q = a.alloc({2, 3, 4, 5}), k = a.alloc({3, 3, 5, 4}), qk = a.alloc({2, 3, 4, 4});
    expect_rejected(a, cref::op(MTIA_OP_GEMM, {q, k}, qk, {0, 0, cref::bits(1), 0}), "GEMM batch dims 2 vs 3");
    auto k1 = a.alloc({1, 3, 5, 4}), qk1 = a.alloc({1, 3, 4, 4});
    expect_rejected(a, cref::op(MTIA_OP_GEMM, {q, k1}, qk1, {0, 0, cref::bits(1), 0}), "GEMM out batch dim 1 under 2");
    run(a, cref::op(MTIA_OP_GEMM, {q, k1}, qk, {0, 0, cref::bits(1), 0}));  // the valid broadcast
}

}  // namespace
