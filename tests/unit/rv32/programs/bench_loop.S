# Benchmark: a tight integer loop that never ends (mixed 16/32-bit code).
    .section .text.start, "ax"
    .globl _start
_start:
    li a0, 0
    li a1, 0
1:  addi a0, a0, 1
    xor a1, a1, a0
    andi a2, a0, 0xff
    add a1, a1, a2
    slli a3, a1, 3
    sub a1, a3, a1
    bnez a0, 1b
    j _start
