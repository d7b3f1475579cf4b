# Vectored mtvec: interrupts enter at base + 4 * cause, exceptions at base.
# Also the interrupt priority order MEI > MSI > MTI.
.include "common.inc"
.option norvc
START
    la t0, vtable
    ori t0, t0, 1
    csrw mtvec, t0
    li t0, 0x888
    csrs mie, t0
    csrsi mstatus, 8
    li a0, TB
    li a1, 1
    li s1, -1
    sw a1, TB_MSIP(a0)          # software interrupt
    CHECK s1, 3
    CHECK s9, 0x80000003
    li s1, -1
    sw zero, TB_MTIMECMP(a0)    # timer
    CHECK s1, 7
    CHECK s9, 0x80000007
    li s1, -1
    sw a1, TB_EXT_IRQ(a0)       # external
    CHECK s1, 11
    CHECK s9, 0x8000000b
    li s1, -1
    ecall                       # exceptions use the base
    CHECK s1, 0
    CHECK s9, 11
    # all three pending at once: taken in priority order
    csrci mstatus, 8
    li s2, 0
    sw a1, TB_MSIP(a0)
    sw zero, TB_MTIMECMP(a0)
    sw a1, TB_EXT_IRQ(a0)
    CHECK_CSR mip, 0x888
    csrsi mstatus, 8
    nop
    CHECK s2, 0xb37
    csrci mstatus, 8
    PASS
FAIL_EXIT

    .balign 64
vtable:
    j on_exception      # 0
    j fail
    j fail
    j on_msi            # 3
    j fail
    j fail
    j fail
    j on_mti            # 7
    j fail
    j fail
    j fail
    j on_mei            # 11

on_exception:
    csrr s9, mcause
    li s1, 0
    csrr t1, mepc
    addi t1, t1, 4
    csrw mepc, t1
    mret
on_msi:
    csrr s9, mcause
    li s1, 3
    slli s2, s2, 4
    ori s2, s2, 3
    li t1, TB
    sw zero, TB_MSIP(t1)
    mret
on_mti:
    csrr s9, mcause
    li s1, 7
    slli s2, s2, 4
    ori s2, s2, 7
    li t1, TB
    li t2, -1
    sw t2, TB_MTIMECMP(t1)
    mret
on_mei:
    csrr s9, mcause
    li s1, 11
    slli s2, s2, 4
    ori s2, s2, 11
    li t1, TB
    sw zero, TB_EXT_IRQ(t1)
    mret
