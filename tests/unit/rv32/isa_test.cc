// SPDX-License-Identifier: MIT
// One self-checking assembly program per instruction class (programs/t_*.S).
#include <gtest/gtest.h>

#include "expect_pass.h"

namespace mtia::rv32::test {
namespace {

class Rv32Isa : public ::testing::Test {
protected:
    TestMachine m;
};

TEST_F(Rv32Isa, LuiAuipc) { EXPECT_TRUE(RunsToPass(m, "t_lui_auipc")); }
TEST_F(Rv32Isa, JalJalr) { EXPECT_TRUE(RunsToPass(m, "t_jal_jalr")); }
TEST_F(Rv32Isa, Branches) { EXPECT_TRUE(RunsToPass(m, "t_branches")); }
TEST_F(Rv32Isa, LoadsStores) { EXPECT_TRUE(RunsToPass(m, "t_loads_stores")); }
TEST_F(Rv32Isa, OpImm) { EXPECT_TRUE(RunsToPass(m, "t_op_imm")); }
TEST_F(Rv32Isa, Op) { EXPECT_TRUE(RunsToPass(m, "t_op")); }
TEST_F(Rv32Isa, MulDiv) { EXPECT_TRUE(RunsToPass(m, "t_muldiv")); }
TEST_F(Rv32Isa, Compressed) { EXPECT_TRUE(RunsToPass(m, "t_compressed")); }
TEST_F(Rv32Isa, Zicsr) { EXPECT_TRUE(RunsToPass(m, "t_zicsr")); }
TEST_F(Rv32Isa, EcallEbreakMret) { EXPECT_TRUE(RunsToPass(m, "t_ecall_ebreak_mret")); }
TEST_F(Rv32Isa, SelfModifyingCode) { EXPECT_TRUE(RunsToPass(m, "t_selfmod")); }

TEST_F(Rv32Isa, StoresMmioValueSeenByBus)
{
    ASSERT_TRUE(RunsToPass(m, "t_loads_stores"));
    EXPECT_EQ(m.scratch(), 0x12345581u);
}

// The CRC-32/sort C program built with riscv64-unknown-elf-gcc -O2.
uint32_t crc32(const uint8_t *p, size_t n)
{
    uint32_t c = ~0u;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

TEST_F(Rv32Isa, CompiledCWorkload)
{
    ASSERT_TRUE(RunsToPass(m, "c_workload"));
    uint32_t data[512], seed = 1;
    for (uint32_t &w : data) w = seed = seed * 1664525u + 1013904223u;
    EXPECT_EQ(m.scratch(), crc32(reinterpret_cast<const uint8_t *>(data), sizeof(data)));
    EXPECT_GT(m.cpu().instret(), 100000u);
    EXPECT_EQ(m.cpu().instret(), m.cpu().cycle());
}

}  // namespace
}  // namespace mtia::rv32::test
