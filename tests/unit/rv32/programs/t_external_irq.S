# Machine external interrupt raised by the host (another thread): the
# program waits in a loop until its handler has run.
.include "common.inc"
.option norvc
START
    la t0, irq_handler
    csrw mtvec, t0
    li s0, 0
    li t0, 0x800
    csrs mie, t0
    csrsi mstatus, 8
1:  beqz s0, 1b
    CHECK s0, 1
    CHECK s9, 0x8000000b
    CHECK_CSR mip, 0
    csrci mstatus, 8
    PASS
FAIL_EXIT

    .balign 4
irq_handler:
    csrr s9, mcause
    li t1, TB
    sw zero, TB_EXT_IRQ(t1)     # acknowledge: the line drops
    addi s0, s0, 1
    mret
