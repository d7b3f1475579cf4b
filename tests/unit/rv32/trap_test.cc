// SPDX-License-Identifier: MIT
// Synchronous exceptions and the halted-on-trap contract.
#include <gtest/gtest.h>

#include "expect_pass.h"

namespace mtia::rv32::test {
namespace {

class Rv32Trap : public ::testing::Test {
protected:
    TestMachine m;
};

TEST_F(Rv32Trap, IllegalInstructions) { EXPECT_TRUE(RunsToPass(m, "t_illegal")); }
TEST_F(Rv32Trap, MisalignedLoadStoreAndJumpTargets) { EXPECT_TRUE(RunsToPass(m, "t_misaligned")); }
TEST_F(Rv32Trap, AccessFaults) { EXPECT_TRUE(RunsToPass(m, "t_access_fault")); }

TEST_F(Rv32Trap, TrapWithoutHandlerHalts)
{
    m.load("t_halt_no_mtvec");
    RunResult r = m.run(1000);
    ASSERT_EQ(r.reason, StopReason::kHaltedOnTrap);
    EXPECT_EQ(r.cause, cause::kEcallM);
    EXPECT_EQ(m.ram_word(r.pc), 0x00000073u);  // the ecall
    EXPECT_EQ(r.tval, 0u);
    EXPECT_EQ(m.cpu().pc(), r.pc);  // not redirected to address 0
    EXPECT_EQ(m.cpu().reg(10), 1u);
    EXPECT_TRUE(m.cpu().halted());
    // Sticky: nothing runs until reset.
    RunResult again = m.run(1000);
    EXPECT_EQ(again.reason, StopReason::kHaltedOnTrap);
    EXPECT_EQ(again.retired, 0u);
    m.cpu().reset();
    EXPECT_FALSE(m.cpu().halted());
    EXPECT_EQ(m.run(1).reason, StopReason::kBudget);
}

TEST_F(Rv32Trap, FaultOnFirstHandlerInstructionHalts)
{
    m.load("t_double_fault");
    RunResult r = m.run(1000);
    ASSERT_EQ(r.reason, StopReason::kHaltedOnTrap);
    EXPECT_EQ(r.cause, cause::kInsnAccessFault);
    EXPECT_EQ(r.pc, 0x20000000u);
    EXPECT_EQ(r.tval, 0x20000000u);
    // The first trap (the breakpoint) is still visible in the CSRs.
    uint32_t mcause = 0;
    ASSERT_TRUE(m.cpu().read_csr(csr::kMcause, &mcause));
    EXPECT_EQ(mcause, cause::kBreakpoint);
}

}  // namespace
}  // namespace mtia::rv32::test
