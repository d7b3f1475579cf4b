# ECALL, EBREAK, MRET and the mstatus MIE/MPIE stack.
.include "common.inc"
.option norvc
START
    la t0, trap_recorder
    csrw mtvec, t0
    la s7, 1f
ec: ecall
1:  EXPECT_TRAP 1, 11
    la t0, ec
    CHECKR s10, t0
    CHECK s11, 0
    la s7, 2f
eb: ebreak
2:  EXPECT_TRAP 2, 3
    la t0, eb
    CHECKR s10, t0
    CHECKR s11, t0               # mtval = pc of the breakpoint
    # trap entry with MIE = 1 saves it in MPIE; MRET restores it
    csrsi mstatus, 8
    la s7, 3f
    ecall
3:  EXPECT_TRAP 3, 11
    CHECK_CSR mstatus, 0x1888    # MIE back from MPIE, MPIE = 1
    csrci mstatus, 8
    la s7, 4f
    ecall
4:  CHECK_CSR mstatus, 0x1880    # MIE stays 0, MPIE = 1
    # MRET on its own: pc = mepc, MIE = MPIE
    la t0, 5f
    csrw mepc, t0
    li t0, 0x80
    csrw mstatus, t0             # MPIE = 1, MIE = 0
    mret
    j fail
5:  CHECK_CSR mstatus, 0x1888
    csrw mstatus, zero
    la t0, 6f
    csrw mepc, t0
    mret
6:  CHECK_CSR mstatus, 0x1880    # MIE = old MPIE = 0, MPIE = 1
    csrw mstatus, zero
    # FENCE is a no-op
    fence
    fence rw, rw
    fence.i
    CHECK s8, 4
    PASS
FAIL_EXIT
TRAP_RECORDER
