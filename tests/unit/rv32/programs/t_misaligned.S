# Misaligned loads and stores trap (they are not emulated); jump targets may
# only be misaligned when misa.C is cleared.
.include "common.inc"
.option norvc

.macro EXPECT_FAULT cause, reg_addr
    addi s6, s6, 1
    CHECKR s8, s6
    CHECK s9, \cause
    CHECKR s11, \reg_addr
.endm

START
    la t0, trap_recorder
    csrw mtvec, t0
    li s6, 0
    la a0, buf
    li a1, 0x5555
    addi a2, a0, 1
    la s7, 1f
l1: lw a1, 1(a0)
1:  EXPECT_FAULT 4, a2
    la t0, l1
    CHECKR s10, t0
    CHECK a1, 0x5555           # rd untouched
    addi a2, a0, 2
    la s7, 1f
    lw a1, 2(a0)
1:  EXPECT_FAULT 4, a2
    addi a2, a0, 1
    la s7, 1f
    lh a1, 1(a0)
1:  EXPECT_FAULT 4, a2
    addi a2, a0, 3
    la s7, 1f
    lhu a1, 3(a0)
1:  EXPECT_FAULT 4, a2
    lb a1, 3(a0)               # bytes are always aligned
    lh a1, 2(a0)
    CHECK s8, 4
    li a3, -1
    addi a2, a0, 2
    la s7, 1f
    sw a3, 2(a0)
1:  EXPECT_FAULT 6, a2
    addi a2, a0, 1
    la s7, 1f
    sh a3, 1(a0)
1:  EXPECT_FAULT 6, a2
    lw a1, 0(a0)
    CHECK a1, 0                # faulting stores wrote nothing
    lw a1, 4(a0)
    CHECK a1, 0
    li a0, TB                  # MMIO checks alignment before the bus
    addi a2, a0, TB_SCRATCH + 2
    la s7, 1f
    lw a1, TB_SCRATCH + 2(a0)
1:  EXPECT_FAULT 4, a2
    # With C enabled, JALR just clears bit 0 of the target.
    la t0, aligned_target
    addi t0, t0, 1
    jalr ra, 0(t0)
    CHECK a0, 77
    # Clearing misa.C is ignored when the next instruction is not 4-aligned.
    .option rvc
    c.nop
    csrci misa, 4
    c.nop
    .option norvc
    CHECK_CSR misa, 0x40001104
    # With C disabled, targets must be 4-aligned.
    csrci misa, 4
    CHECK_CSR misa, 0x40001100
    la t0, aligned_target
    addi a2, t0, 2
    li ra, 0
    la s7, 1f
j1: jalr ra, 2(t0)
1:  EXPECT_FAULT 0, a2
    la t0, j1
    CHECKR s10, t0             # reported on the jump, not the target
    CHECK ra, 0                # and the link was not written
    la a2, half_target
    la s7, 1f
j2: jal ra, half_target
1:  EXPECT_FAULT 0, a2
    la t0, j2
    CHECKR s10, t0
    la s7, 1f
    beq zero, zero, half_target
1:  EXPECT_FAULT 0, a2
    bne zero, zero, half_target  # not taken: no trap
    CHECKR s8, s6
    la t0, half_target
    csrw mepc, t0
    andi t1, t0, -4
    csrr t2, mepc
    CHECKR t2, t1              # mepc[1] reads as 0 without C
    csrsi misa, 4
    CHECK_CSR misa, 0x40001104
    csrr t2, mepc
    CHECKR t2, t0
    PASS
FAIL_EXIT

    .balign 4
aligned_target:
    li a0, 77
    ret
    .hword 0
half_target:                   # 2 mod 4
    .hword 0
    ret

TRAP_RECORDER

.data
.balign 4
buf: .word 0, 0
