# OP: ADD SUB SLL SLT SLTU XOR SRL SRA OR AND, shift amounts masked to 5 bits.
.include "common.inc"
.option norvc
START
    li a0, 0xffffffff
    li a1, 2
    add a2, a0, a1
    CHECK a2, 1
    sub a2, a1, a0
    CHECK a2, 3
    sub a2, zero, a1
    CHECK a2, -2
    li a0, 0x80000001
    li a1, 33                # only the low 5 bits count
    sll a2, a0, a1
    CHECK a2, 2
    srl a2, a0, a1
    CHECK a2, 0x40000000
    sra a2, a0, a1
    CHECK a2, 0xc0000000
    li a1, 31
    sra a2, a0, a1
    CHECK a2, -1
    li a1, 0
    srl a2, a0, a1
    CHECK a2, 0x80000001
    li a0, -1
    li a1, 1
    slt a2, a0, a1
    CHECK a2, 1
    slt a2, a1, a0
    CHECK a2, 0
    sltu a2, a0, a1
    CHECK a2, 0
    sltu a2, a1, a0
    CHECK a2, 1
    sltu a2, zero, a1        # snez
    CHECK a2, 1
    li a0, 0xff00ff00
    li a1, 0x0ff00ff0
    xor a2, a0, a1
    CHECK a2, 0xf0f0f0f0
    or a2, a0, a1
    CHECK a2, 0xfff0fff0
    and a2, a0, a1
    CHECK a2, 0x0f000f00
    add zero, a0, a1
    CHECK zero, 0
    PASS
FAIL_EXIT
