// SPDX-License-Identifier: MIT
// A profiled COMPUTE on the queue engine (with a fake host) at a lowered
// engine clock: the program's span is stretched to f_max / f of its work,
// and the profile header's throttle_ns is the part of the span the engine
// was held for it (docs/telemetry.md, "Throttling slows the engines"). The
// ratio holds on a loaded host: the stretch is of the work as it ran.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "fake_queue_host.h"
#include "long_program.h"
#include "mtia_queues.h"
#include "test_watchdog.h"

namespace {

using namespace std::chrono_literals;

constexpr uint64_t kRam = 1 << 20;
constexpr uint64_t kSq = 0x10000, kCq = 0x20000, kProg = 0x40000;
constexpr uint32_t kMaxOps = (kRam - kProg) / MTIA_OP_BYTES;

class ThrottleProfileTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        e.attach_devmem(devmem.data(), devmem.size());
        enable_queue0(e, kSq, kCq);
        e.resume();
        long_program::prepare_arena(devmem.data());
    }
    // Runs @ops ops of the long program, profiled, and returns its header.
    mtia_profile_header run(uint32_t ops)
    {
        const auto prog = long_program::ops(ops);
        std::memcpy(&h.ram[kProg], prog.data(), prog.size() * sizeof(mtia_op));
        mtia_cmd c{};
        c.opcode = MTIA_CMD_COMPUTE;
        c.cid = static_cast<uint16_t>(tail);
        c.flags = MTIA_CMD_F_PROFILE;
        c.len = ops * uint64_t{MTIA_OP_BYTES};
        c.value = long_program::kArenaBytes + MTIA_PROFILE_BYTES(ops);
        c.src.addr = kProg;
        c.dst.addr = MTIA_ADDR_DEVMEM;
        std::memcpy(&h.ram[kSq + (tail % 16) * 64], &c, 64);
        e.host_write(MTIA_REG_DB(0, MTIA_DB_SQ_TAIL), ++tail % 16);
        EXPECT_TRUE(e.fw_write(MTIA_CC_REG_Q_FETCH, 4, 0));
        EXPECT_TRUE(e.fw_write(MTIA_CC_REG_Q_DISPATCH, 4, 0));
        mtia_cqe q{};
        const unsigned slot = (tail - 1) % 16;
        const uint16_t phase = ((tail - 1) / 16 + 1) & 1;
        EXPECT_TRUE(wait_until(
            [&] {
                std::memcpy(&q, &h.ram[kCq + slot * 16], 16);
                return (q.status & 1) == phase;
            },
            600s));
        EXPECT_EQ(q.status >> 1, MTIA_CQE_OK);
        mtia_profile_header hd{};
        std::memcpy(&hd, devmem.data() + long_program::kArenaBytes, sizeof(hd));
        EXPECT_EQ(hd.magic, MTIA_PROFILE_MAGIC);
        EXPECT_EQ(hd.n_ops, ops);
        return hd;
    }

    FakeQueueHost h{kRam};
    std::vector<uint8_t> devmem = std::vector<uint8_t>(16 << 20);
    mtia::QueueEngine e{h, MTIA_DEFAULT_MSIX_VECTORS};
    uint32_t tail = 0;
};

TEST_F(ThrottleProfileTest, SpanIsTheWorkStretchedAndThrottleIsTheHold)
{
    Watchdog wd(600s);
    // About 0.1 s of work on this host.
    const uint32_t n = std::min(long_program::calibrated_ops(0.1, 2), kMaxOps);

    // Full clock: nothing held.
    mtia_profile_header hd = run(n);
    EXPECT_EQ(hd.throttle_ns, 0u);
    EXPECT_GT(hd.end_ns, hd.start_ns);

    // A quarter of the clock: the span is 4x the work. The work is the span
    // less the hold, so the ratio holds however long the host took; a late
    // wake-up from the last wait adds to both (up to 6x).
    h.clock = {200, 800};
    hd = run(n);
    const uint64_t span = hd.end_ns - hd.start_ns;
    ASSERT_GT(hd.throttle_ns, 0u);
    ASSERT_LT(hd.throttle_ns, span);
    const double stretch = static_cast<double>(span) / static_cast<double>(span - hd.throttle_ns);
    EXPECT_GT(stretch, 3.5) << n << " ops, span " << span << " ns, held " << hd.throttle_ns << " ns";
    EXPECT_LT(stretch, 6.0) << n << " ops, span " << span << " ns, held " << hd.throttle_ns << " ns";
}

}  // namespace
