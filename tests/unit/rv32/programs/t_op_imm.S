# OP-IMM: ADDI SLTI SLTIU XORI ORI ANDI SLLI SRLI SRAI.
.include "common.inc"
.option norvc
START
    li a0, 0x7fffffff
    addi a1, a0, 1
    CHECK a1, 0x80000000
    addi a1, a0, -2048
    CHECK a1, 0x7ffff7ff
    addi a1, zero, 2047
    CHECK a1, 2047
    li a0, -5
    slti a1, a0, -4
    CHECK a1, 1
    slti a1, a0, -5
    CHECK a1, 0
    sltiu a1, a0, -4         # 0xfffffffb < 0xfffffffc
    CHECK a1, 1
    sltiu a1, a0, 5
    CHECK a1, 0
    sltiu a1, zero, 1        # seqz
    CHECK a1, 1
    li a0, 0x0f0f00ff
    xori a1, a0, -1          # not
    CHECK a1, 0xf0f0ff00
    xori a1, a0, 0x7f0
    CHECK a1, 0x0f0f070f
    ori a1, a0, -2048
    CHECK a1, 0xfffff8ff
    andi a1, a0, -16
    CHECK a1, 0x0f0f00f0
    andi a1, a0, 0x0f0
    CHECK a1, 0xf0
    li a0, 0x80000001
    slli a1, a0, 1
    CHECK a1, 2
    slli a1, a0, 31
    CHECK a1, 0x80000000
    slli a1, a0, 0
    CHECK a1, 0x80000001
    srli a1, a0, 1
    CHECK a1, 0x40000000
    srli a1, a0, 31
    CHECK a1, 1
    srai a1, a0, 1
    CHECK a1, 0xc0000000
    srai a1, a0, 31
    CHECK a1, 0xffffffff
    li a0, 0x40000000
    srai a1, a0, 30
    CHECK a1, 1
    addi zero, a0, 1         # writes to x0 are discarded
    CHECK zero, 0
    PASS
FAIL_EXIT
