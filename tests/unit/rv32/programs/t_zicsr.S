# Zicsr: CSRRW/S/C and immediate forms; machine CSR reset values and WARL
# behaviour; counters and their user-level shadows.
.include "common.inc"
.option norvc
START
    li a0, 0x12345678
    csrw mscratch, a0
    csrr a1, mscratch
    CHECK a1, 0x12345678
    li a3, 0xffff0000
    csrrw a2, mscratch, a3
    CHECK a2, 0x12345678
    CHECK_CSR mscratch, 0xffff0000
    li a4, 0x00ff00ff
    csrrs a2, mscratch, a4
    CHECK a2, 0xffff0000
    CHECK_CSR mscratch, 0xffff00ff
    li a4, 0xf000000f
    csrrc a2, mscratch, a4
    CHECK a2, 0xffff00ff
    CHECK_CSR mscratch, 0x0fff00f0
    csrrwi a2, mscratch, 5
    CHECK a2, 0x0fff00f0
    CHECK_CSR mscratch, 5
    csrrsi a2, mscratch, 0x1a
    CHECK a2, 5
    CHECK_CSR mscratch, 0x1f
    csrrci a2, mscratch, 3
    CHECK a2, 0x1f
    CHECK_CSR mscratch, 0x1c
    csrrs a2, mscratch, zero     # pure read
    CHECK a2, 0x1c
    # identity
    CHECK_CSR misa, 0x40001104   # RV32 I M C
    CHECK_CSR mvendorid, 0
    CHECK_CSR marchid, 0
    CHECK_CSR mimpid, 0x00010000
    CHECK_CSR mhartid, 0
    # reset values
    CHECK_CSR mstatus, 0x1800    # MPP = M
    CHECK_CSR mie, 0
    CHECK_CSR mtvec, 0
    # WARL fields
    li a0, -1
    csrw mstatus, a0
    CHECK_CSR mstatus, 0x1888    # MIE, MPIE, MPP only
    csrw mstatus, zero
    CHECK_CSR mstatus, 0x1800
    csrw mie, a0
    CHECK_CSR mie, 0x888
    csrw mie, zero
    csrw mip, a0                 # lines are host-driven: writes ignored
    CHECK_CSR mip, 0
    li a0, 0x80000101
    csrw mtvec, a0
    CHECK_CSR mtvec, 0x80000101
    li a0, 0x80000202            # reserved mode 2: mode unchanged
    csrw mtvec, a0
    CHECK_CSR mtvec, 0x80000201
    li a0, 0x80000003
    csrw mepc, a0
    CHECK_CSR mepc, 0x80000002
    csrw mcause, a0
    CHECK_CSR mcause, 0x80000003
    csrw mtval, a0
    CHECK_CSR mtval, 0x80000003
    CHECK_CSR mstatush, 0
    CHECK_CSR mhpmcounter3, 0
    CHECK_CSR mhpmevent3, 0
    CHECK_CSR hpmcounter31h, 0
    # counters: one instruction between two reads
    csrr a0, minstret
    csrr a1, minstret
    sub a2, a1, a0
    CHECK a2, 1
    rdinstret a0
    nop
    rdinstret a1
    sub a2, a1, a0
    CHECK a2, 2
    rdcycle a0
    rdcycle a1
    sub a2, a1, a0
    CHECK a2, 1
    rdinstreth a0
    CHECK a0, 0
    rdcycleh a0
    CHECK a0, 0
    # a written counter is what the next instruction sees
    li a0, 100
    csrw minstret, a0
    csrr a1, minstret
    CHECK a1, 100
    csrw mcycle, zero
    csrr a1, mcycle
    CHECK a1, 0
    li a0, 5
    csrw minstreth, a0
    CHECK_CSR minstreth, 5
    csrw mcycleh, a0
    CHECK_CSR mcycleh, 5
    rdinstreth a1
    CHECK a1, 5
    # mcountinhibit.IR stops minstret
    csrwi mcountinhibit, 4
    csrr a0, minstret
    nop
    csrr a1, minstret
    CHECKR a0, a1
    CHECK_CSR mcountinhibit, 4
    csrwi mcountinhibit, 0
    # time comes from the platform timer
    li a0, TB
    li a1, 1234
    sw a1, TB_MTIME(a0)
    rdtime a2
    CHECK a2, 1234
    rdtimeh a2
    CHECK a2, 0
    PASS
FAIL_EXIT
