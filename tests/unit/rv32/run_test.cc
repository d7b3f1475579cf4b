// SPDX-License-Identifier: MIT
// The run() contract: budgets, counters, host stop requests, host access.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "expect_pass.h"

namespace mtia::rv32::test {
namespace {

using namespace std::chrono_literals;

TEST(Rv32Run, BudgetIsExact)
{
    TestMachine m;
    m.load("bench_loop");
    for (uint64_t budget : {0u, 1u, 7u, 4095u, 4096u, 4097u, 100000u}) {
        uint64_t before = m.cpu().instret();
        RunResult r = m.run(budget);
        EXPECT_EQ(r.reason, StopReason::kBudget);
        EXPECT_EQ(r.retired, budget);
        EXPECT_EQ(m.cpu().instret() - before, budget);
    }
    EXPECT_EQ(m.cpu().cycle(), m.cpu().instret());
}

TEST(Rv32Run, StopRequestFromAnotherThread)
{
    TestMachine m;
    m.load("bench_loop");
    std::thread stopper([&m] {
        std::this_thread::sleep_for(20ms);
        m.cpu().request_stop();
    });
    RunResult r = m.run(~uint64_t{0});
    stopper.join();
    EXPECT_EQ(r.reason, StopReason::kStopped);
    EXPECT_GT(r.retired, 0u);
    // The request is consumed.
    EXPECT_EQ(m.run(10).reason, StopReason::kBudget);
}

TEST(Rv32Run, ResetState)
{
    TestMachine m;
    m.load("bench_loop");
    m.run(1000);
    m.cpu().reset();
    EXPECT_EQ(m.cpu().pc(), kRamBase);
    EXPECT_EQ(m.cpu().instret(), 0u);
    for (unsigned i = 0; i < 32; i++) EXPECT_EQ(m.cpu().reg(i), 0u) << "x" << i;
    uint32_t v = 1;
    ASSERT_TRUE(m.cpu().read_csr(csr::kMstatus, &v));
    EXPECT_EQ(v, kMstatusMpp);
    ASSERT_TRUE(m.cpu().read_csr(csr::kMisa, &v));
    EXPECT_EQ(v, kMisaValue);
}

TEST(Rv32Run, HostRegisterAccessAndX0)
{
    TestMachine m;
    m.cpu().set_reg(0, 123);
    EXPECT_EQ(m.cpu().reg(0), 0u);
    m.cpu().set_reg(5, 123);
    EXPECT_EQ(m.cpu().reg(5), 123u);
    EXPECT_FALSE(m.cpu().write_csr(csr::kMhartid, 1));  // read-only
    uint32_t v = 0;
    EXPECT_FALSE(m.cpu().read_csr(0x7c0, &v));  // absent
}

TEST(Rv32Run, HostWriteToCodeNeedsInvalidate)
{
    TestMachine m;
    m.load("bench_loop");
    m.run(100);                 // predecoded now
    m.load("t_halt_no_mtvec");  // load() rewrites RAM and invalidates
    RunResult r = m.run(100);
    EXPECT_EQ(r.reason, StopReason::kHaltedOnTrap);
}

TEST(Rv32Run, RejectsUnalignedRegions)
{
    struct BadBus : Bus {
        uint8_t mem[16];
        std::vector<RamRegion> ram_regions() override { return {{0x2, 8, mem, true, true}}; }
        bool mmio_read(uint32_t, unsigned, uint32_t *) override { return false; }
        bool mmio_write(uint32_t, unsigned, uint32_t) override { return false; }
    } bus;
    EXPECT_THROW(Cpu cpu(bus), std::invalid_argument);
}

}  // namespace
}  // namespace mtia::rv32::test
