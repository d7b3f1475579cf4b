// SPDX-License-Identifier: MIT
// Per-queue engine time (MTIA_Q_BUSY_*, include/mtia/mtia_spec.h,
// docs/queues.md "Counters"): what the driver reads to account a direct
// queue's work in fdinfo. The counters must equal the queue's own busy time
// (the engine's, pacing included), split by engine, grow while a long
// program runs, stay with their queue, and never go back: not on a queue
// disable, not on a device reset.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "long_program.h"
#include "mtia/mtia_spec.h"
#include "mtia_core.h"
#include "queue_fixture.h"
#include "test_watchdog.h"

namespace {

using namespace qfix;

constexpr uint64_t kArenaOff = 0x400000;  // the program's arena, in device memory
constexpr uint32_t kCopyBytes = 16u << 20;

class QueueBusyTest : public QueueTest {
protected:
    // The driver's read of a 64-bit counter: HI, LO, HI again.
    uint64_t busy(unsigned q, bool pe)
    {
        const uint32_t lo_reg = pe ? MTIA_Q_BUSY_PE_LO : MTIA_Q_BUSY_DMA_LO;
        const uint32_t hi_reg = pe ? MTIA_Q_BUSY_PE_HI : MTIA_Q_BUSY_DMA_HI;
        for (;;) {
            const uint32_t hi = rd(MTIA_REG_Q(q, hi_reg));
            const uint32_t lo = rd(MTIA_REG_Q(q, lo_reg));
            if (rd(MTIA_REG_Q(q, hi_reg)) == hi) return uint64_t{hi} << 32 | lo;
        }
    }
    uint64_t stats_busy(unsigned q)
    {
        mtia_core_queue_stats s{};
        mtia_core_get_queue_stats(core, q, &s);
        return s.busy_ns;
    }
    mtia_cqe copy(unsigned q, uint16_t cid)
    {
        return run1(q, cmd(MTIA_CMD_COPY, cid, kCopyBytes, host(kData), dev(0)));
    }
    // A COMPUTE of @ops convolutions (long_program.h) on queue @q, not
    // waited for.
    void start_program(unsigned q, uint16_t cid, uint32_t ops)
    {
        const auto prog = long_program::ops(ops);
        const uint64_t bytes = prog.size() * sizeof(mtia_op);
        long_program::prepare_arena(devmem.data() + kArenaOff);
        std::memcpy(h.at(kData, bytes), prog.data(), bytes);
        submit(q, cmd(MTIA_CMD_COMPUTE, cid, bytes, host(kData), dev(kArenaOff), long_program::kArenaBytes));
        fw_run();
    }
};

TEST_F(QueueBusyTest, ZeroAtPowerOnReadOnlyAndTheReservedWordUnmapped)
{
    for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++) {
        EXPECT_EQ(busy(q, false), 0u);
        EXPECT_EQ(busy(q, true), 0u);
    }
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);
    for (uint32_t r : {MTIA_Q_BUSY_DMA_LO, MTIA_Q_BUSY_DMA_HI, MTIA_Q_BUSY_PE_LO, MTIA_Q_BUSY_PE_HI}) {
        wr(MTIA_REG_Q(3, r), 1234);
        EXPECT_EQ(rd(MTIA_REG_ERR_STATUS) & MTIA_ERR_BAD_WRITE, MTIA_ERR_BAD_WRITE) << r;
        wr(MTIA_REG_ERR_STATUS, rd(MTIA_REG_ERR_STATUS));
    }
    EXPECT_EQ(busy(3, false), 0u);
    rd(MTIA_REG_Q(3, 0x2c));
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS) & MTIA_ERR_BAD_OFFSET, MTIA_ERR_BAD_OFFSET);
}

TEST_F(QueueBusyTest, DataWorkCountsOnItsQueueAsTheQueueCountsItsBusyTime)
{
    setup(2);
    setup(5);
    const auto t0 = Clock::now();
    ASSERT_EQ(st(copy(2, 1)), MTIA_CQE_OK);
    ASSERT_EQ(st(run1(2, cmd(MTIA_CMD_FILL, 2, kCopyBytes, {}, dev(0), 0x5a))), MTIA_CQE_OK);
    const uint64_t wall = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
    const uint64_t dma = busy(2, false);
    EXPECT_GT(dma, 0u);
    EXPECT_LE(dma, wall);
    // The same device time the queue's own counter (since its enable) has.
    EXPECT_EQ(dma, stats_busy(2));
    EXPECT_EQ(busy(2, true), 0u);   // no COMPUTE
    EXPECT_EQ(busy(5, false), 0u);  // another queue's work is not this one's
    EXPECT_EQ(busy(5, true), 0u);
}

TEST_F(QueueBusyTest, NeverResetByDisableOrDeviceReset)
{
    setup(1);
    ASSERT_EQ(st(copy(1, 1)), MTIA_CQE_OK);
    const uint64_t first = busy(1, false);
    ASSERT_GT(first, 0u);
    // Re-enabling starts the queue's stats over, not MTIA_Q_BUSY_*.
    wr(MTIA_REG_Q(1, MTIA_Q_CTRL), 0);
    setup(1);
    EXPECT_EQ(stats_busy(1), 0u);
    EXPECT_EQ(busy(1, false), first);
    ASSERT_EQ(st(copy(1, 2)), MTIA_CQE_OK);
    // What a driver takes as the new owner's share: the difference.
    EXPECT_EQ(busy(1, false) - first, stats_busy(1));
    const uint64_t before_reset = busy(1, false);
    mtia_core_reset(core);
    EXPECT_EQ(busy(1, false), before_reset);
    EXPECT_EQ(rd(MTIA_REG_Q(1, MTIA_Q_CTRL)), 0u);  // the queue itself did reset
}

TEST_F(QueueBusyTest, ComputeCountsOnThePeGridAsItRunsAndStaysWhenAborted)
{
    setup(4);
    // A program of the spec's maximum length runs for minutes: the counter
    // must grow while it runs (per op), not only when it ends.
    start_program(4, 7, long_program::kMaxOps);
    ASSERT_TRUE(wait_until([&] { return long_program::started(devmem.data() + kArenaOff); }, 120s));
    ASSERT_TRUE(wait_until([&] { return busy(4, true) > 0; }, 120s));
    const uint64_t running = busy(4, true);
    ASSERT_TRUE(wait_until([&] { return busy(4, true) > running; }, 120s));
    EXPECT_TRUE(reap(4, 1, true, 0ms).empty());  // still running
    EXPECT_EQ(busy(4, false), 0u);
    wr(MTIA_REG_Q(4, MTIA_Q_CTRL), 0);  // aborts it
    const uint64_t aborted = busy(4, true);
    EXPECT_GE(aborted, running);
    EXPECT_EQ(busy(4, true), aborted);  // nothing runs any more
}

TEST_F(QueueBusyTest, AFinishedProgramCountsItsWholeTime)
{
    setup(6);
    start_program(6, 9, 2);
    auto cqes = reap(6, 1, true, 120000ms);
    ASSERT_EQ(cqes.size(), 1u);
    EXPECT_EQ(st(cqes[0]), MTIA_CQE_OK);
    EXPECT_GT(busy(6, true), 0u);
    EXPECT_EQ(busy(6, true), stats_busy(6));
    EXPECT_EQ(busy(6, false), 0u);
}

}  // namespace
