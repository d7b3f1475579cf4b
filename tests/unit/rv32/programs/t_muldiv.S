# M extension, including division by zero and signed overflow (no traps).
.include "common.inc"
.option norvc

.macro M op, a, b, expect
    li a0, \a
    li a1, \b
    \op a2, a0, a1
    CHECK a2, \expect
.endm

START
    M mul, 7, -3, -21
    M mul, 0x10000, 0x10000, 0
    M mul, 0x12345678, 0x9abcdef0, 0x242d2080
    M mulh, -1, -1, 0
    M mulh, -2, 3, -1
    M mulh, 0x80000000, 0x80000000, 0x40000000
    M mulh, 0x7fffffff, 0x7fffffff, 0x3fffffff
    M mulhsu, -1, 0xffffffff, 0xffffffff
    M mulhsu, 0x7fffffff, 0xffffffff, 0x7ffffffe
    M mulhsu, 0x80000000, 2, 0xffffffff
    M mulhu, 0xffffffff, 0xffffffff, 0xfffffffe
    M mulhu, 0x80000000, 2, 1
    M div, -7, 2, -3
    M div, 7, -2, -3
    M div, -7, -2, 3
    M divu, -7, 2, 0x7ffffffc
    M rem, -7, 2, -1
    M rem, 7, -2, 1
    M remu, -7, 2, 1
    # division by zero
    M div, 5, 0, -1
    M divu, 5, 0, 0xffffffff
    M rem, -5, 0, -5
    M remu, 5, 0, 5
    # signed overflow
    M div, 0x80000000, -1, 0x80000000
    M rem, 0x80000000, -1, 0
    # rd == rs1
    li a0, 100
    li a1, 7
    rem a0, a0, a1
    CHECK a0, 2
    PASS
FAIL_EXIT
