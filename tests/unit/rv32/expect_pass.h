// SPDX-License-Identifier: MIT
// Runs a self-checking test program (programs/t_*.S) to its exit register.
#ifndef MTIA_RV32_EXPECT_PASS_H
#define MTIA_RV32_EXPECT_PASS_H

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "test_machine.h"

namespace mtia::rv32::test {

// Exit code 0 passes; N names the program's Nth CHECK.
inline ::testing::AssertionResult RunsToPass(TestMachine &m, const std::string &program)
{
    m.load(program);
    RunResult r = m.run();
    if (r.reason != StopReason::kStopped || !m.exit_code()) {
        char detail[96];
        std::snprintf(detail, sizeof(detail), " cause=0x%x pc=0x%08x tval=0x%x", r.cause, r.pc, r.tval);
        return ::testing::AssertionFailure() << program << " did not exit: " << to_string(r.reason) << detail;
    }
    if (*m.exit_code() != 0) {
        char pc[16];
        std::snprintf(pc, sizeof(pc), "0x%08x", m.cpu().pc());
        return ::testing::AssertionFailure()
               << program << " failed CHECK #" << *m.exit_code() << " (stopped at pc " << pc << ")";
    }
    return ::testing::AssertionSuccess();
}

}  // namespace mtia::rv32::test

#endif  // MTIA_RV32_EXPECT_PASS_H
