# BEQ/BNE/BLT/BGE/BLTU/BGEU taken and not taken, signed vs unsigned.
.include "common.inc"
.option norvc

.macro TAKEN op, a, b
    addi gp, gp, 1
    li a0, \a
    li a1, \b
    \op a0, a1, .Lt\@
    j fail
.Lt\@:
.endm
.macro NOT_TAKEN op, a, b
    addi gp, gp, 1
    li a0, \a
    li a1, \b
    \op a0, a1, .Lbad\@
    j .Lok\@
.Lbad\@:
    j fail
.Lok\@:
.endm

START
    TAKEN beq, 5, 5
    NOT_TAKEN beq, 5, 6
    TAKEN bne, 5, 6
    NOT_TAKEN bne, 5, 5
    TAKEN blt, -1, 0
    NOT_TAKEN blt, 0, -1
    NOT_TAKEN blt, 1, 1
    TAKEN blt, 0x80000000, 0x7fffffff
    TAKEN bge, 0, -1
    TAKEN bge, 1, 1
    NOT_TAKEN bge, -1, 0
    TAKEN bltu, 0, -1
    NOT_TAKEN bltu, -1, 0
    NOT_TAKEN bltu, 7, 7
    TAKEN bgeu, -1, 0
    TAKEN bgeu, 3, 3
    NOT_TAKEN bgeu, 0, -1
    # backward branch: a loop of 10
    li a0, 10
    li a1, 0
1:  addi a1, a1, 1
    addi a0, a0, -1
    bne a0, zero, 1b
    CHECK a1, 10
    PASS
FAIL_EXIT
