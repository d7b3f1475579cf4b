# Minimal C runtime for compiled test programs: stack at the top of RAM,
# zeroed .bss (by the loader), main()'s return value to the exit register.
.include "common.inc"
    .section .text.start, "ax"
    .globl _start
_start:
    li sp, RAM_BASE + RAM_SIZE
    call main
    li t6, TB
    sw a0, TB_EXIT(t6)
1:  j 1b
