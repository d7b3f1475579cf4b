# Machine timer interrupt: masked by mstatus.MIE and by mie.MTIE, taken
# between instructions as soon as both allow it.
.include "common.inc"
.option norvc
START
    la t0, irq_handler
    csrw mtvec, t0
    li s0, 0
    li a0, TB
    sw zero, TB_MTIMECMP(a0)    # mtime (0) >= mtimecmp: MTIP
    CHECK_CSR mip, 0x80
    li t0, 0x80
    csrs mie, t0                # enabled in mie, but MIE = 0
    nop
    nop
    CHECK s0, 0
    csrc mie, t0
    csrsi mstatus, 8            # MIE = 1, but mie.MTIE = 0
    nop
    nop
    CHECK s0, 0
    csrs mie, t0                # now both: taken before the next instruction
after:
    CHECK s0, 1
    CHECK s9, 0x80000007
    la t1, after
    CHECKR s10, t1
    CHECK_CSR mip, 0            # the handler moved mtimecmp
    CHECK_CSR mstatus, 0x1888   # MRET restored MIE
    # a line raised by an MMIO store is taken right after that store
    sw zero, TB_MTIMECMP(a0)
    CHECK s0, 2
    csrci mstatus, 8
    PASS
FAIL_EXIT

    .balign 4
irq_handler:
    csrr s9, mcause
    csrr s10, mepc
    csrr t2, mstatus
    andi t2, t2, 8
    bnez t2, fail               # MIE must be clear in the handler
    addi s0, s0, 1
    li t1, -1
    li t2, TB
    sw t1, TB_MTIMECMP(t2)
    mret
