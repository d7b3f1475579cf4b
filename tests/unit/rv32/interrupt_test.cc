// SPDX-License-Identifier: MIT
// Interrupts (timer, external, software; masking; vectored mtvec), WFI and
// the host-side wake-up contract.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "expect_pass.h"

namespace mtia::rv32::test {
namespace {

using namespace std::chrono_literals;

class Rv32Irq : public ::testing::Test {
protected:
    TestMachine m;
};

TEST_F(Rv32Irq, TimerMaskedByMieAndMstatus) { EXPECT_TRUE(RunsToPass(m, "t_timer_irq")); }
TEST_F(Rv32Irq, VectoredMtvecAndPriority) { EXPECT_TRUE(RunsToPass(m, "t_vectored")); }

TEST_F(Rv32Irq, ExternalInterruptFromAnotherThread)
{
    m.load("t_external_irq");
    // The program spins until its handler runs.
    RunResult r = m.run(100000);
    ASSERT_EQ(r.reason, StopReason::kBudget);
    std::thread raiser([this] {
        std::this_thread::sleep_for(5ms);
        m.cpu().set_external_irq(true);
    });
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!m.exit_code() && std::chrono::steady_clock::now() < deadline) r = m.run(1'000'000);
    raiser.join();
    ASSERT_TRUE(m.exit_code());
    EXPECT_EQ(*m.exit_code(), 0u) << "failed CHECK";
}

TEST_F(Rv32Irq, WfiReturnsToHostAndWakesOnInterrupt)
{
    m.load("t_wfi");
    RunResult r = m.run(1000);
    ASSERT_EQ(r.reason, StopReason::kWaitForInterrupt);
    EXPECT_TRUE(m.cpu().waiting_for_interrupt());
    const uint32_t wfi_next = m.cpu().pc();
    EXPECT_EQ(m.ram_word(wfi_next - 4), 0x10500073u);  // pc is past the WFI
    // Nothing pending: stays asleep without executing anything.
    r = m.run(1000);
    EXPECT_EQ(r.reason, StopReason::kWaitForInterrupt);
    EXPECT_EQ(r.retired, 0u);
    EXPECT_FALSE(m.cpu().wait_for_interrupt(10ms));  // times out
    // Timer fires with MIE = 1: the handler runs, then the second WFI.
    m.set_mtime(1000);
    EXPECT_TRUE(m.cpu().wait_for_interrupt(0ms));
    r = m.run(1000);
    ASSERT_EQ(r.reason, StopReason::kWaitForInterrupt);
    EXPECT_NE(m.cpu().pc(), wfi_next);
    // Second WFI (MIE = 0): another thread raises the line while the CPU
    // thread sleeps in wait_for_interrupt().
    std::thread timer([this] {
        std::this_thread::sleep_for(5ms);
        m.set_mtime(2000);
    });
    EXPECT_TRUE(m.cpu().wait_for_interrupt(10s));
    timer.join();
    r = m.run(1000);
    EXPECT_EQ(r.reason, StopReason::kStopped);
    ASSERT_TRUE(m.exit_code());
    EXPECT_EQ(*m.exit_code(), 0u);
}

TEST_F(Rv32Irq, WaitForInterruptWakesOnStopRequest)
{
    m.load("t_wfi");
    ASSERT_EQ(m.run(1000).reason, StopReason::kWaitForInterrupt);
    std::thread stopper([this] {
        std::this_thread::sleep_for(5ms);
        m.cpu().request_stop();
    });
    EXPECT_TRUE(m.cpu().wait_for_interrupt(10s));
    stopper.join();
    EXPECT_EQ(m.run(1000).reason, StopReason::kStopped);
}

TEST_F(Rv32Irq, DisabledLinesDoNotWakeWfi)
{
    m.load("t_wfi");  // enables only MTIE
    ASSERT_EQ(m.run(1000).reason, StopReason::kWaitForInterrupt);
    m.cpu().set_external_irq(true);
    m.cpu().set_msip(true);
    EXPECT_FALSE(m.cpu().wait_for_interrupt(1ms));
    EXPECT_EQ(m.run(1000).reason, StopReason::kWaitForInterrupt);
    uint32_t mip = 0;
    ASSERT_TRUE(m.cpu().read_csr(csr::kMip, &mip));
    EXPECT_EQ(mip, kIrqMei | kIrqMsi);
}

}  // namespace
}  // namespace mtia::rv32::test
