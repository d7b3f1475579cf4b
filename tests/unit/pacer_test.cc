// SPDX-License-Identifier: MIT
// Throttle pacing (qemu-device/core/mtia_pacer.h) on made-up time: the
// stretch for given clocks, the clock sampled per piece, short stretches
// merged, oversleep taken off the next wait, interruption dropping what was
// owed, parked time not counted, the timing estimate scaled; and on the real
// clock, that a stop ends a long wait at once.
#include "mtia_pacer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "test_watchdog.h"

namespace {

using mtia::EngineClock;
using mtia::PacedJob;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kUs = 1'000;
constexpr uint32_t kMax = 800;

// Made-up time: waits jump the clock to their deadline (plus an oversleep),
// or to `stop_at` and report an interruption if that comes first.
struct FakeTime {
    uint64_t t = 1000 * kMs;
    uint32_t mhz = kMax;
    uint64_t oversleep = 0;
    uint64_t stop_at = UINT64_MAX;
    std::vector<uint64_t> waits;  // deadlines asked for

    PacedJob job()
    {
        return PacedJob([this] { return t; },
                        [this] {
                            return EngineClock{mhz, kMax};
                        },
                        [this](uint64_t until) {
                            waits.push_back(until);
                            if (stop_at < until) {
                                t = std::max(t, stop_at);
                                return true;
                            }
                            t = until + oversleep;
                            return false;
                        });
    }
};

uint64_t steady_ns()
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

TEST(Pacer, StretchIsMaxOverClock)
{
    EXPECT_EQ(mtia::paced_ns(1000, {400, 800}), 2000u);
    EXPECT_EQ(mtia::paced_ns(1000, {100, 800}), 8000u);
    EXPECT_EQ(mtia::paced_ns(1000, {160, 800}), 5000u);               // a 6 W cap on a busy PE grid
    EXPECT_EQ(mtia::paced_ns(1000, {800, 800}), 1000u);               // full clock
    EXPECT_EQ(mtia::paced_ns(1000, {0, 800}), 1000u);                 // no clock known: full speed
    EXPECT_EQ(mtia::paced_ns(1000, {900, 800}), 1000u);               // never faster than the host
    EXPECT_EQ(mtia::paced_ns(UINT64_MAX / 2, {1, 800}), UINT64_MAX);  // saturates
}

TEST(Pacer, PieceIsStretchedAndCountedBusy)
{
    FakeTime ft;
    ft.mhz = 400;
    const uint64_t start = ft.t;
    PacedJob j = ft.job();
    ft.t += 3 * kMs;  // the work
    EXPECT_TRUE(j.mark());
    ASSERT_EQ(ft.waits.size(), 1u);
    EXPECT_EQ(ft.waits[0], start + 6 * kMs);
    EXPECT_EQ(ft.t, start + 6 * kMs);  // busy for the whole paced time
    EXPECT_EQ(j.work_ns(), 3 * kMs);
    EXPECT_EQ(j.paced_ns(), 6 * kMs);
    EXPECT_EQ(j.waited_ns(), 3 * kMs);
    EXPECT_EQ(j.work_ns() + j.waited_ns(), ft.t - start);
}

// The engine's busy counter learns of each piece as it is marked, its wait
// included, so the governor sees a long throttled command as busy while it
// runs; the pieces add up to the command's time.
TEST(Pacer, BusyIsReportedPerPiece)
{
    FakeTime ft;
    ft.mhz = 200;
    const uint64_t start = ft.t;
    std::vector<uint64_t> busy;
    PacedJob j([&] { return ft.t; },
               [&] {
                   return EngineClock{ft.mhz, kMax};
               },
               [&](uint64_t until) {
                   ft.t = until;
                   return false;
               },
               [&](uint64_t ns) { busy.push_back(ns); });
    ft.t += kMs;
    j.mark();
    EXPECT_EQ(busy, (std::vector<uint64_t>{4 * kMs}));  // reported before the command ends
    ft.t += 10 * kUs;                                   // owed 40 us: carried, the piece itself reported
    j.mark();
    ft.t += 10 * kUs;
    j.mark(true);
    EXPECT_EQ(busy, (std::vector<uint64_t>{4 * kMs, 10 * kUs, 70 * kUs}));
    uint64_t sum = 0;
    for (uint64_t b : busy) sum += b;
    EXPECT_EQ(sum, ft.t - start);
}

TEST(Pacer, FullClockNeverWaits)
{
    FakeTime ft;
    PacedJob j = ft.job();
    for (int i = 0; i < 10; i++) {
        ft.t += kMs;
        EXPECT_TRUE(j.mark(i == 9));
    }
    EXPECT_TRUE(ft.waits.empty());
    EXPECT_EQ(j.paced_ns(), j.work_ns());
    EXPECT_EQ(j.scale(12345), 12345u);
}

TEST(Pacer, ClockIsSampledPerPiece)
{
    FakeTime ft;
    const uint64_t start = ft.t;
    PacedJob j = ft.job();
    ft.t += kMs;  // at 800 MHz
    j.mark();
    ft.mhz = 200;  // the governor lowered the clock
    ft.t += kMs;
    j.mark();
    EXPECT_EQ(j.work_ns(), 2 * kMs);
    EXPECT_EQ(j.paced_ns(), 5 * kMs);
    EXPECT_EQ(ft.t, start + 5 * kMs);
    // The estimate scales by the time-weighted clock ratio: 5 / 2.
    EXPECT_EQ(j.scale(1000), 2500u);
}

TEST(Pacer, ShortStretchesAreMergedIntoOneWait)
{
    FakeTime ft;
    ft.mhz = 400;
    const uint64_t start = ft.t;
    PacedJob j = ft.job();
    for (int i = 0; i < 10; i++) {
        ft.t += 10 * kUs;  // a small op: 10 us owed each, under kMinWaitNs
        j.mark(i == 9);
    }
    ASSERT_EQ(ft.waits.size(), 1u);  // only the last mark waited, for all of it
    EXPECT_EQ(ft.t, start + 200 * kUs);
    EXPECT_EQ(j.paced_ns(), 200 * kUs);
}

TEST(Pacer, OversleepShortensTheNextWait)
{
    FakeTime ft;
    ft.mhz = 400;
    ft.oversleep = 500 * kUs;
    const uint64_t start = ft.t;
    PacedJob j = ft.job();
    ft.t += kMs;
    j.mark();  // due at +2 ms, woke at +2.5 ms
    ft.oversleep = 0;
    ft.t += kMs;  // +3.5 ms
    j.mark(true);
    // The deadline is absolute: +4 ms, not 2.5 + 2.
    EXPECT_EQ(ft.waits.back(), start + 4 * kMs);
    EXPECT_EQ(ft.t, start + 4 * kMs);
}

TEST(Pacer, InterruptionDropsWhatWasOwed)
{
    FakeTime ft;
    ft.mhz = 100;
    const uint64_t start = ft.t;
    PacedJob j = ft.job();
    ft.stop_at = start + 2 * kMs;  // e.g. a VM stop, 1 ms into a 7 ms stretch
    ft.t += kMs;
    EXPECT_FALSE(j.mark());
    EXPECT_EQ(ft.t, start + 2 * kMs);
    ft.stop_at = UINT64_MAX;
    ft.t += kMs;  // more work: paced again, from here
    EXPECT_TRUE(j.mark(true));
    EXPECT_EQ(ft.t, start + 2 * kMs + 8 * kMs);  // its 8 ms from where it began
}

TEST(Pacer, ParkedTimeIsNotWork)
{
    FakeTime ft;
    ft.mhz = 400;
    PacedJob j = ft.job();
    ft.t += 50 * kUs;  // a small op: owed 50 us, carried
    j.mark();
    ft.t += 10'000 * kMs;  // parked while the VM was stopped
    j.skip();
    const uint64_t resumed = ft.t;
    ft.t += 50 * kUs;
    j.mark(true);
    EXPECT_EQ(j.work_ns(), 100 * kUs);
    EXPECT_EQ(ft.t, resumed + 50 * kUs + 50 * kUs + 50 * kUs);  // the owed 50 us kept
}

TEST(Pacer, EstimateWithoutWorkUsesTheClockNow)
{
    FakeTime ft;
    ft.mhz = 200;
    PacedJob j = ft.job();
    EXPECT_EQ(j.scale(1000), 4000u);
    EXPECT_EQ(j.scale(UINT64_MAX), UINT64_MAX);
}

TEST(Pacer, WaitEndsAtDeadline)
{
    std::mutex mu;
    std::condition_variable cv;
    std::unique_lock<std::mutex> l(mu);
    const uint64_t until = steady_ns() + 2 * kMs;
    EXPECT_FALSE(mtia::wait_until_or(l, cv, until, [] { return false; }));
    EXPECT_GE(steady_ns(), until);
}

// A stop (reset, disable, VM stop, QEMU exit) ends a stretch that would
// last an hour: the test finishes, and the job says it was cut.
TEST(Pacer, StopEndsALongStretchAtOnce)
{
    Watchdog wd(std::chrono::seconds(120));
    std::mutex mu;
    std::condition_variable cv;
    bool stop = false;
    std::atomic<bool> waiting{false};
    PacedJob j(
        steady_ns,
        [] {
            return EngineClock{1, 1'000'000'000};
        },
        [&](uint64_t until) {
            std::unique_lock<std::mutex> l(mu);
            waiting = true;
            return mtia::wait_until_or(l, cv, until, [&] { return stop; });
        });
    std::thread stopper([&] {
        while (!waiting) std::this_thread::yield();
        std::lock_guard<std::mutex> l(mu);
        stop = true;
        cv.notify_all();
    });
    std::this_thread::sleep_for(std::chrono::microseconds(10));  // some work: hours at this clock
    EXPECT_FALSE(j.mark(true));
    stopper.join();
    EXPECT_LT(j.waited_ns(), 3600ull * 1000 * kMs);
}

}  // namespace
