// SPDX-License-Identifier: MIT
// VM stop with a COMPUTE program running, on the queue engine itself (with a
// fake host): quiesce() parks the program at its next op instead of waiting
// for it (a program may run for minutes) once the host resumes the engine,
// save() refuses while it is parked, resume() lets it finish; a reset ends
// a parked program; a host that never calls resume() gets run-to-completion.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "fake_queue_host.h"
#include "long_program.h"
#include "mtia_core.h"
#include "mtia_queues.h"
#include "test_watchdog.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr uint64_t kRam = 20 << 20;  // fake guest RAM at bus address 0
constexpr uint64_t kSq = 0x10000, kCq = 0x20000, kProg = 0x100000;
constexpr uint64_t kDevmem = 16 << 20;

class PauseTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        e.attach_devmem(devmem.data(), devmem.size());
        enable_queue0(e, kSq, kCq);
        long_program::prepare_arena(devmem.data());
        const auto prog = long_program::ops(long_program::kMaxOps);
        std::memcpy(&h.ram[kProg], prog.data(), prog.size() * sizeof(mtia_op));
    }
    // Submits a COMPUTE of the first @ops ops of the long program, has
    // "firmware" dispatch it and waits until its first op has run.
    void submit_started(uint32_t ops)
    {
        submit(ops);
        ASSERT_TRUE(wait_until([&] { return long_program::started(devmem.data()); }, 120s));
    }
    // Submits a COMPUTE of @ops ops and has "firmware" dispatch it.
    void submit(uint32_t ops)
    {
        mtia_cmd c{};
        c.opcode = MTIA_CMD_COMPUTE;
        c.cid = static_cast<uint16_t>(tail);
        c.len = ops * 256ull;
        c.value = 8 << 20;
        c.src.addr = kProg;
        c.dst.addr = MTIA_ADDR_DEVMEM;
        std::memcpy(&h.ram[kSq + tail * 64], &c, 64);
        e.host_write(MTIA_REG_DB(0, MTIA_DB_SQ_TAIL), ++tail);
        ASSERT_TRUE(e.fw_write(MTIA_CC_REG_Q_FETCH, 4, 0));
        ASSERT_TRUE(e.fw_write(MTIA_CC_REG_Q_DISPATCH, 4, 0));
    }
    // The CQE in slot @i, if its phase bit is set.
    bool cqe(unsigned i, mtia_cqe *out)
    {
        std::memcpy(out, &h.ram[kCq + i * 16], 16);
        return out->status & 1;
    }

    FakeQueueHost h{kRam};
    std::vector<uint8_t> devmem = std::vector<uint8_t>(kDevmem);
    mtia::QueueEngine e{h, MTIA_DEFAULT_MSIX_VECTORS};
    uint32_t tail = 0;
    mtia_core_snapshot snap{};
};

// The program runs about 3 s on this host (a few hundred ops on a fast
// one): long after the test has parked it, short enough to finish.
TEST_F(PauseTest, StopParksTheProgramAndResumeFinishesIt)
{
    Watchdog wd(600s);
    const uint32_t n = long_program::calibrated_ops(3.0);
    e.resume();  // the VM runs: the host resumes the engine
    auto t0 = Clock::now();
    submit_started(n);
    const auto first_op = Clock::now() - t0;  // includes building the kernel
    t0 = Clock::now();
    e.quiesce();                                       // VM stop
    EXPECT_LT(Clock::now() - t0, 10 * first_op + 1s);  // at an op boundary, not the end
    mtia_cqe c;
    EXPECT_FALSE(cqe(0, &c)) << n << " ops";
    EXPECT_EQ(e.save(&snap), -1);  // outstanding work: migration refused
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(cqe(0, &c));  // still parked: nothing written while stopped
    e.resume();
    ASSERT_TRUE(wait_until([&] { return cqe(0, &c); }, 500s));
    EXPECT_EQ(c.status >> 1, MTIA_CQE_OK);
    EXPECT_GT(c.result, 0u);
    EXPECT_EQ(e.save(&snap), 0);
}

// The program cannot finish (the spec's maximum of ops: minutes anywhere).
TEST_F(PauseTest, ResetEndsAParkedProgram)
{
    e.resume();
    auto t0 = Clock::now();
    submit_started(long_program::kMaxOps);
    const auto first_op = Clock::now() - t0;
    e.quiesce();
    t0 = Clock::now();
    e.reset();
    EXPECT_LT(Clock::now() - t0, 10 * first_op + 1s);
    mtia_cqe c;
    EXPECT_FALSE(cqe(0, &c));  // reset writes no completion
}

TEST_F(PauseTest, WithoutResumeStopRunsToCompletion)
{
    submit(2);
    e.quiesce();
    mtia_cqe c;
    ASSERT_TRUE(cqe(0, &c));
    EXPECT_EQ(c.status >> 1, MTIA_CQE_OK);
}

}  // namespace
