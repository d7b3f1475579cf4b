// SPDX-License-Identifier: MIT
// Reused weights in tracked memory (mtia_compute_run_tracked, docs/compute.md
// "Reused weights"): reordered convolution weights are reused while the
// tracker reports no write to their bytes, with no compare; every reported
// change is seen; the engine reports its own outputs; data derived under one
// tracker is never reused under another or without one; a BF16 CONV's
// weights are derived from the arena's 16-bit ones the same way.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "compute_ref.h"
#include "mtia/mtia_fp16.h"
#include "mtia_compute.h"
#include "mtia_compute_reuse.h"
#include "mtia_write_track.h"

namespace {

using cref::Arena;
using cref::Dims;
using mtia::WriteTracker;
using mtia::compute::DerivedCache;

void expect_near(const std::vector<float> &got, const std::vector<float> &want, const std::string &what)
{
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); i++)
        ASSERT_NEAR(got[i], want[i], 1e-4 * (1 + std::abs(want[i]))) << what << " [" << i << "]";
}

// A host arena as tracked memory: the test reports its own writes.
struct Tracked {
    WriteTracker t;
    WriteTracker::Arena view{&t, 0};
    mtia_compute_tracker api;
    explicit Tracked(uint64_t bytes)
    {
        t.reset(bytes);
        api = WriteTracker::for_arena(&view);
    }
    void wrote(const mtia_tensor_desc &d) { t.wrote(d.offset, cref::count(cref::dims(d)) * 4); }
};

// One 3x3 convolution whose weights oneDNN wants reordered; the output
// shares no 4 KiB page with them (tracking is per page).
struct Conv {
    Arena a;
    const Dims xd{1, 32, 20, 20}, wd{32, 32, 3, 3}, yd{1, 32, 20, 20};
    mtia_tensor_desc x = a.alloc(xd), w = a.alloc(wd), gap = a.alloc({1024}), y = a.alloc(yd);
    std::vector<mtia_op> prog{cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1})};
    Conv(uint32_t seed)
    {
        std::mt19937 rng(seed);
        a.fill_random(x, rng);
        a.fill_random(w, rng);
    }
    uint16_t run(const mtia_compute_tracker *t)
    {
        uint64_t r;
        return mtia_compute_run_tracked(nullptr, prog.data(), static_cast<uint32_t>(prog.size()), a.data(), a.size(),
                                        nullptr, nullptr, nullptr, t, &r);
    }
    std::vector<float> want() { return cref::conv(a.get(x), xd, a.get(w), wd, nullptr, yd, prog.back()); }
};

TEST(ComputeTracked, ChangedWeightsAreNeverStale)
{
    Conv c(77);
    Tracked tr(c.a.size());
    for (int round = 0; round < 4; round++) {
        if (round == 1) c.a.at(c.w)[1234] += 0.5f;
        if (round == 2) c.a.at(c.w)[cref::count(c.wd) - 1] = -3.0f;  // the last page
        if (round == 3) std::fill(c.a.at(c.w), c.a.at(c.w) + 10, 0.25f);
        if (round) tr.wrote(c.w);
        ASSERT_EQ(c.run(&tr.api), MTIA_CQE_OK);
        expect_near(c.a.get(c.y), c.want(), "round " + std::to_string(round));
    }
}

// The contract, shown by breaking it: a write the tracker is not told about
// is not seen (nothing is compared), one it is told about is.
TEST(ComputeTracked, UnchangedWeightsAreReusedWithoutACompare)
{
    Conv c(5);
    Tracked tr(c.a.size());
    const auto d0 = DerivedCache::counters();
    ASSERT_EQ(c.run(&tr.api), MTIA_CQE_OK);
    const auto d1 = DerivedCache::counters();
    EXPECT_EQ(d1.derived, d0.derived + 1);  // the kernel reorders its weights
    const std::vector<float> first = c.a.get(c.y);
    expect_near(first, c.want(), "first");

    ASSERT_EQ(c.run(&tr.api), MTIA_CQE_OK);
    const auto d2 = DerivedCache::counters();
    EXPECT_EQ(d2.derived, d1.derived);
    EXPECT_EQ(d2.compared_bytes, d1.compared_bytes);

    c.a.at(c.w)[7] += 1.0f;  // behind the tracker's back
    ASSERT_EQ(c.run(&tr.api), MTIA_CQE_OK);
    expect_near(c.a.get(c.y), first, "unreported write");
    EXPECT_EQ(DerivedCache::counters().derived, d2.derived);

    tr.wrote(c.w);
    ASSERT_EQ(c.run(&tr.api), MTIA_CQE_OK);
    expect_near(c.a.get(c.y), c.want(), "reported write");
    EXPECT_EQ(DerivedCache::counters().derived, d2.derived + 1);
}

// The int8 CONV keeps its packed weights the same way: packed once, packed
// again after a reported write, with the bytes an untracked run gives.
TEST(ComputeTracked, Int8WeightsArePackedOnce)
{
    Arena a;
    mtia_tensor_desc x = a.alloc({1, 16, 12, 12}, MTIA_DTYPE_U8), w = a.alloc({32, 16, 3, 3}, MTIA_DTYPE_I8);
    x.scale = cref::bits(0.05f);
    x.zero_point = 120;
    const mtia_tensor_desc sb = a.alloc({2, 32}), gap = a.alloc({1024}), y = a.alloc({1, 32, 12, 12});
    (void)gap;  // y shares no 4 KiB page with the weights
    std::mt19937 rng(3);
    for (uint64_t i = 0; i < 16 * 144; i++) a.data()[x.offset + i] = uint8_t(rng());
    for (uint64_t i = 0; i < 32 * 144; i++) a.data()[w.offset + i] = uint8_t(rng());
    a.fill_random(sb, rng, 0.001f, 0.003f);
    const mtia_op op = cref::op(MTIA_OP_CONV, {x, w, sb}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    Tracked tr(a.size());
    auto run = [&](const mtia_compute_tracker *t) {
        uint64_t r;
        EXPECT_EQ(mtia_compute_run_tracked(nullptr, &op, 1, a.data(), a.size(), nullptr, nullptr, nullptr, t, &r),
                  MTIA_CQE_OK);
        return a.get(y);
    };
    const auto d0 = DerivedCache::counters();
    const std::vector<float> first = run(&tr.api);
    const auto d1 = DerivedCache::counters();
    EXPECT_EQ(d1.derived, d0.derived + 1);  // packed
    EXPECT_EQ(run(&tr.api), first);
    EXPECT_EQ(DerivedCache::counters().derived, d1.derived);  // reused
    a.data()[w.offset + 100] ^= 0x55;
    tr.t.wrote(w.offset + 100, 1);
    const std::vector<float> changed = run(&tr.api);
    EXPECT_EQ(DerivedCache::counters().derived, d1.derived + 1);  // packed again
    EXPECT_NE(changed, first);
    EXPECT_EQ(run(nullptr), changed);  // as an untracked run computes it
}

// Each op's output is reported after it ran: weights computed by an earlier
// op of the same program are never stale.
TEST(ComputeTracked, OutputsAreReportedSoComputedWeightsAreFresh)
{
    Conv c(9);
    const mtia_tensor_desc src = c.a.alloc(c.wd);
    Tracked tr(c.a.size());
    std::mt19937 rng(3);
    c.a.fill_random(src, rng);
    c.prog.insert(c.prog.begin(), cref::op(MTIA_OP_ACT, {src}, c.w, {}, MTIA_ACT_NEG));
    const uint64_t g0 = tr.t.now();
    for (int round = 0; round < 3; round++) {
        if (round) {
            c.a.at(src)[round * 100] = 2.0f;
            tr.wrote(src);
        }
        ASSERT_EQ(c.run(&tr.api), MTIA_CQE_OK);
        std::vector<float> neg = c.a.get(src);
        for (float &v : neg) v = -v;
        expect_near(c.a.get(c.w), neg, "weights, round " + std::to_string(round));
        expect_near(c.a.get(c.y), c.want(), "round " + std::to_string(round));
    }
    EXPECT_GT(tr.t.last_write(c.y.offset, 4), g0);
    EXPECT_GT(tr.t.last_write(c.w.offset, 4), g0);
    EXPECT_EQ(tr.t.last_write(c.x.offset, 4), g0);  // only read
}

// Caches are process-wide: what one tracker (device) derived is not reused
// under another, nor by an untracked run (which keeps no copy to compare).
TEST(ComputeTracked, NeverSharedAcrossTrackersOrWithUntrackedRuns)
{
    Conv c(11);
    Tracked one(c.a.size()), two(c.a.size());  // both "contents unknown" at 1
    ASSERT_EQ(c.run(&one.api), MTIA_CQE_OK);
    c.a.at(c.w)[3] -= 1.0f;  // unknown to both
    ASSERT_EQ(c.run(&two.api), MTIA_CQE_OK);
    expect_near(c.a.get(c.y), c.want(), "other tracker");
    c.a.at(c.w)[5] -= 1.0f;
    ASSERT_EQ(c.run(nullptr), MTIA_CQE_OK);
    expect_near(c.a.get(c.y), c.want(), "untracked");
    c.a.at(c.w)[6] -= 1.0f;  // untracked runs compare
    ASSERT_EQ(c.run(nullptr), MTIA_CQE_OK);
    expect_near(c.a.get(c.y), c.want(), "untracked again");
    c.a.at(c.w)[8] -= 1.0f;
    two.wrote(c.w);
    ASSERT_EQ(c.run(&two.api), MTIA_CQE_OK);  // from a copy: not reused in tracked memory
    expect_near(c.a.get(c.y), c.want(), "tracked after untracked");
}

// A write that lands while the weights are being derived (after the
// generation was read) keeps the result from being reused.
TEST(ComputeTracked, WriteDuringDerivationIsNotKept)
{
    Conv c(13);
    Tracked tr(c.a.size());
    struct Racing {
        Tracked *tr;
        const mtia_tensor_desc *w;
        float *p;
        bool armed;
    } race{&tr, &c.w, c.a.at(c.w), true};
    mtia_compute_tracker api = tr.api;
    api.opaque = &race;
    api.now = [](void *o) {
        auto *r = static_cast<Racing *>(o);
        const uint64_t g = r->tr->t.now();
        if (r->armed) {  // "another writer" right after the read
            r->armed = false;
            r->p[0] += 1.0f;
            r->tr->wrote(*r->w);
        }
        return g;
    };
    api.last_write = [](void *o, uint64_t off, uint64_t len) {
        return static_cast<Racing *>(o)->tr->t.last_write(off, len);
    };
    api.wrote = [](void *o, uint64_t off, uint64_t len) { static_cast<Racing *>(o)->tr->t.wrote(off, len); };
    ASSERT_EQ(c.run(&api), MTIA_CQE_OK);
    const auto d = DerivedCache::counters();
    ASSERT_EQ(c.run(&api), MTIA_CQE_OK);
    EXPECT_EQ(DerivedCache::counters().derived, d.derived + 1);  // not kept: derived again
    expect_near(c.a.get(c.y), c.want(), "after the race");
}

// BF16 convolutions (widened to F32 to compute, mtia_compute_widen.cc) of
// one shape, each with its own weights: each derives its F32 weights in
// oneDNN's layout from the arena's 16-bit ones once (not from a scratch
// copy widened every run, which the ops of the shape share), and again
// only after a reported write to them; with Winograd forced on and off.
TEST(ComputeTracked, HalfConvWeightsAreDerivedOnceEach)
{
    for (const char *wino : {"1", "0"}) {
        setenv("MTIA_CONV_WINOGRAD", wino, 1);
        mtia_compute_drop_kernels();
        Arena a;
        const Dims xd{1, 32, 20, 20}, wd{32, 32, 3, 3}, yd{1, 32, 20, 20};  // 400 pixels: weights reordered
        std::mt19937 rng(9);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        const auto fill = [&](const mtia_tensor_desc &t) {
            auto *h = reinterpret_cast<uint16_t *>(a.data() + t.offset);
            for (uint64_t i = 0; i < cref::count(cref::dims(t)); i++) h[i] = mtia_f32_to_bf16(u(rng));
        };
        const auto get = [&](const mtia_tensor_desc &t) {
            const auto *h = reinterpret_cast<const uint16_t *>(a.data() + t.offset);
            std::vector<float> v(cref::count(cref::dims(t)));
            for (size_t i = 0; i < v.size(); i++) v[i] = mtia_bf16_to_f32(h[i]);
            return v;
        };
        const mtia_tensor_desc x = a.alloc(xd, MTIA_DTYPE_BF16);
        fill(x);
        std::vector<mtia_tensor_desc> w, y;
        std::vector<mtia_op> prog;
        for (int i = 0; i < 3; i++) {
            a.alloc({1024});  // no 4 KiB page shared with an output (tracking is per page)
            w.push_back(a.alloc(wd, MTIA_DTYPE_BF16));
            a.alloc({1024});
            y.push_back(a.alloc(yd, MTIA_DTYPE_BF16));
            fill(w.back());
            prog.push_back(cref::op(MTIA_OP_CONV, {x, w.back()}, y.back(), {1, 1, 1, 1, 1, 1, 1, 1, 1}));
        }
        Tracked tr(a.size());
        const auto run = [&](const std::string &what) {
            uint64_t r;
            ASSERT_EQ(mtia_compute_run_tracked(nullptr, prog.data(), 3, a.data(), a.size(), nullptr, nullptr, nullptr,
                                               &tr.api, &r),
                      MTIA_CQE_OK);
            for (int i = 0; i < 3; i++) {
                const auto want = cref::conv(get(x), xd, get(w[i]), wd, nullptr, yd, prog[i]);
                const auto got = get(y[i]);
                for (size_t k = 0; k < want.size(); k++)  // one bf16 rounding: 2^-8 relative
                    ASSERT_NEAR(got[k], want[k], 8e-3 * (1 + std::abs(want[k])))
                        << what << " winograd " << wino << " conv " << i << " [" << k << "]";
            }
        };
        const auto d0 = DerivedCache::counters();
        run("first");
        const auto d1 = DerivedCache::counters();
        EXPECT_EQ(d1.derived, d0.derived + 3);
        run("again");
        EXPECT_EQ(DerivedCache::counters().derived, d1.derived);
        EXPECT_EQ(DerivedCache::counters().compared_bytes, d1.compared_bytes);
        reinterpret_cast<uint16_t *>(a.data() + w[1].offset)[100] = mtia_f32_to_bf16(3.0f);
        tr.t.wrote(w[1].offset + 200, 2);
        run("after a write");
        EXPECT_EQ(DerivedCache::counters().derived, d1.derived + 1);
    }
    unsetenv("MTIA_CONV_WINOGRAD");
    mtia_compute_drop_kernels();
}

TEST(ComputeTracked, TrackerPagesAndBounds)
{
    WriteTracker t;
    t.reset(64 << 10);
    const uint64_t g = t.now();
    EXPECT_EQ(t.last_write(0, 64 << 10), g);
    t.wrote(4096 + 4095, 2);  // straddles pages 1 and 2
    EXPECT_EQ(t.last_write(0, 4096), g);
    EXPECT_GT(t.last_write(4096, 1), g);
    EXPECT_GT(t.last_write(8192, 1), g);
    EXPECT_EQ(t.last_write(12288, 4096), g);
    EXPECT_GT(t.last_write(60 << 10, 8 << 10), t.now());  // beyond the end: written
    t.wrote(63 << 10, 1 << 20);                           // clipped, no crash
    EXPECT_GT(t.last_write(63 << 10, 1), g);
    const uint64_t before = t.now();
    t.wrote_all();
    EXPECT_GT(t.last_write(20480, 1), before);
}

}  // namespace
