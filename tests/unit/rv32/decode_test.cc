// SPDX-License-Identifier: MIT
// Decoder unit tests on raw encodings: compressed forms expand to the same
// operation as their 32-bit equivalents.
#include <gtest/gtest.h>

#include "rv32_decode.h"

namespace mtia::rv32 {
namespace {

void ExpectSame(uint16_t c, uint32_t full)
{
    Decoded a = decode(c, true), b = decode(full, true);
    EXPECT_EQ(a.op, b.op) << std::hex << c;
    EXPECT_EQ(a.rd, b.rd) << std::hex << c;
    EXPECT_EQ(a.imm, b.imm) << std::hex << c;
    EXPECT_EQ(a.len, 2);
    EXPECT_EQ(b.len, 4);
}

TEST(Rv32Decode, CompressedExpandsToBaseOps)
{
    ExpectSame(0x4515, 0x00500513);  // c.li a0, 5        = addi a0, x0, 5
    ExpectSame(0x0505, 0x00150513);  // c.addi a0, 1      = addi a0, a0, 1
    ExpectSame(0x6585, 0x000015b7);  // c.lui a1, 1       = lui a1, 0x1
    ExpectSame(0x1141, 0xff010113);  // c.addi sp, -16     = addi sp, sp, -16
    ExpectSame(0x717d, 0xff010113);  // c.addi16sp sp, -16 = addi sp, sp, -16
    ExpectSame(0x0030, 0x00810613);  // c.addi4spn a2,sp,8 = addi a2, sp, 8
    ExpectSame(0x4108, 0x00052503);  // c.lw a0, 0(a0)    = lw a0, 0(a0)
    ExpectSame(0x8082, 0x00008067);  // c.jr ra           = jalr x0, 0(ra)
    ExpectSame(0x9002, 0x00100073);  // c.ebreak          = ebreak
}

TEST(Rv32Decode, ZeroRegisterWritesGoToSink)
{
    EXPECT_EQ(decode(0x00000013, true).rd, kZeroSink);  // nop
    EXPECT_EQ(decode(0x0001, true).rd, kZeroSink);      // c.nop
}

TEST(Rv32Decode, ReservedAndUnsupportedAreIllegal)
{
    for (uint16_t c : {0x0000, 0x6101, 0x6081, 0x4002, 0x8002, 0x1082, 0x9c01, 0x2000, 0xe002}) {
        Decoded d = decode(c, true);
        EXPECT_EQ(d.op, Op::kIllegal) << std::hex << c;
        EXPECT_EQ(static_cast<uint32_t>(d.imm), c);
        EXPECT_EQ(d.len, 2);
    }
    // Without C a 16-bit pattern is an illegal 32-bit word.
    Decoded d = decode(0x00004515, false);
    EXPECT_EQ(d.op, Op::kIllegal);
    EXPECT_EQ(d.len, 4);
}

}  // namespace
}  // namespace mtia::rv32
