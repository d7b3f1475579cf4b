// SPDX-License-Identifier: MIT
// The driver's SUBMIT command check (driver/mtia_cmd.c, kernel C compiled
// for user space with kernel_shim.h) against the shared command corpus:
// -EINVAL exactly for the commands the device refuses, plus the UAPI's own
// rules (pad, reserved, BO indices, unused fields zero).
#include <gtest/gtest.h>

#include <cerrno>

#include "cmd_corpus_uapi.h"
#include "kernel_shim.h"
extern "C" {
#include "mtia_cmd.h"
}

namespace {

using corpus::kBos;
using corpus::to_uapi;

TEST(DriverCmdCheck, CommandCorpus)
{
    unsigned checked = 0;
    for (const corpus::Case &k : corpus::cases()) {
        if (k.uapi == corpus::Uapi::kNoAddress) continue;
        SCOPED_TRACE(k.name);
        const drm_mtia_cmd u = to_uapi(k.cmd);
        EXPECT_EQ(mtia_cmd_check_uapi(&u, kBos), corpus::uapi_refused(k) ? -EINVAL : 0);
        checked++;
    }
    EXPECT_GE(checked, 50u);
}

TEST(DriverCmdCheck, UapiOnlyRules)
{
    drm_mtia_cmd c = to_uapi(corpus::copy(16));
    ASSERT_EQ(mtia_cmd_check_uapi(&c, kBos), 0);
    EXPECT_EQ(mtia_cmd_check_uapi(&c, 1), -EINVAL);  // dst_bo 1 of 1 BO
    drm_mtia_cmd b = c;
    b.pad0 = 1;
    EXPECT_EQ(mtia_cmd_check_uapi(&b, kBos), -EINVAL);
    b = c;
    b.pad1 = 1;
    EXPECT_EQ(mtia_cmd_check_uapi(&b, kBos), -EINVAL);
    b = c;
    b.reserved[1] = 1;
    EXPECT_EQ(mtia_cmd_check_uapi(&b, kBos), -EINVAL);
    b = c;
    b.src_offset = 1ull << 60;  // ranges are checked against the BOs later
    EXPECT_EQ(mtia_cmd_check_uapi(&b, kBos), 0);
    // An operand FILL does not use must not name a BO.
    drm_mtia_cmd f = to_uapi(corpus::fill(16));
    ASSERT_EQ(mtia_cmd_check_uapi(&f, kBos), 0);
    f.src_bo = 1;
    EXPECT_EQ(mtia_cmd_check_uapi(&f, kBos), -EINVAL);
    f.src_bo = 0;
    f.src_offset = 8;
    EXPECT_EQ(mtia_cmd_check_uapi(&f, kBos), -EINVAL);
    drm_mtia_cmd n = to_uapi(corpus::nop());
    ASSERT_EQ(mtia_cmd_check_uapi(&n, 0), 0);
    n.dst_bo = 1;
    EXPECT_EQ(mtia_cmd_check_uapi(&n, kBos), -EINVAL);
}

// The operands each opcode uses, as SUBMIT builds the device command.
TEST(DriverCmdCheck, OperandsPerOpcode)
{
    EXPECT_EQ(mtia_cmd_uses(MTIA_CMD_NOP) & (MTIA_CMD_USES_SRC | MTIA_CMD_USES_DST), 0u);
    EXPECT_EQ(mtia_cmd_uses(MTIA_CMD_FENCE) & (MTIA_CMD_USES_SRC | MTIA_CMD_USES_DST), 0u);
    EXPECT_EQ(mtia_cmd_uses(MTIA_CMD_COPY) & (MTIA_CMD_USES_SRC | MTIA_CMD_USES_DST),
              MTIA_CMD_USES_SRC | MTIA_CMD_USES_DST);
    EXPECT_EQ(mtia_cmd_uses(MTIA_CMD_FILL) & (MTIA_CMD_USES_SRC | MTIA_CMD_USES_DST), MTIA_CMD_USES_DST);
    EXPECT_EQ(mtia_cmd_uses(MTIA_CMD_TIMESTAMP) & (MTIA_CMD_USES_SRC | MTIA_CMD_USES_DST), MTIA_CMD_USES_DST);
    EXPECT_EQ(mtia_cmd_uses(MTIA_CMD_COMPUTE) & (MTIA_CMD_USES_SRC | MTIA_CMD_USES_DST),
              MTIA_CMD_USES_SRC | MTIA_CMD_USES_DST);
    EXPECT_EQ(mtia_cmd_uses(6), 0u);
}

}  // namespace
