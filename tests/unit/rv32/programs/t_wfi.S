# WFI: the host sees kWaitForInterrupt and resumes the hart by raising a line.
# 1st WFI: woken by the timer with MIE = 1 (the handler runs).
# 2nd WFI: woken with MIE = 0 (execution continues after WFI, no trap).
.include "common.inc"
.option norvc
START
    la t0, irq_handler
    csrw mtvec, t0
    li s0, 0
    li a0, TB
    li a1, 1000
    sw a1, TB_MTIMECMP(a0)      # fires when the host sets mtime >= 1000
    li t0, 0x80
    csrs mie, t0
    csrsi mstatus, 8
    wfi
    CHECK s0, 1
    csrci mstatus, 8
    li a1, 2000
    sw a1, TB_MTIMECMP(a0)
    CHECK_CSR mip, 0
    wfi
    CHECK s0, 1
    CHECK_CSR mip, 0x80
    PASS
FAIL_EXIT

    .balign 4
irq_handler:
    addi s0, s0, 1
    li t1, -1
    li t2, TB
    sw t1, TB_MTIMECMP(t2)
    mret
