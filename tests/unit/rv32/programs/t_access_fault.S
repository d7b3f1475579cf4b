# Access faults (bus errors): unmapped loads/stores/fetches, stores to ROM,
# fetch from non-executable RAM, an instruction straddling the end of RAM.
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
    li a0, UNMAPPED
    li a1, 0x1111
    la s7, 1f
l1: lw a1, 0(a0)
1:  EXPECT_FAULT 5, a0
    la t0, l1
    CHECKR s10, t0
    CHECK a1, 0x1111            # rd untouched
    addi a2, a0, 3
    la s7, 1f
    lbu a1, 3(a0)
1:  EXPECT_FAULT 5, a2
    la s7, 1f
    sw a1, 0(a0)
1:  EXPECT_FAULT 7, a0
    # the test bench rejects offsets it does not decode
    li a0, TB + 0x80
    la s7, 1f
    lw a1, 0(a0)
1:  EXPECT_FAULT 5, a0
    la s7, 1f
    sh a1, 0(a0)
1:  EXPECT_FAULT 7, a0
    # ROM: readable, executable, not writable
    li a0, ROM_BASE
    lw a1, 0(a0)
    CHECK a1, 0x00008067        # ret
    jalr ra, 0(a0)              # call into ROM and come back
    CHECKR s8, s6
    la s7, 1f
    sw a1, 0(a0)
1:  EXPECT_FAULT 7, a0
    # instruction fetch from unmapped memory: mepc = mtval = target
    li a0, UNMAPPED + 0x40
    la s7, 1f
    jalr ra, 0(a0)
1:  EXPECT_FAULT 1, a0
    CHECKR s10, a0
    # ... and from RAM that is not executable
    li a0, DATA_BASE
    li a1, 0x00008067
    sw a1, 0(a0)                # a valid `ret`, but not executable
    la s7, 1f
    jalr ra, 0(a0)
1:  EXPECT_FAULT 1, a0
    # a 32-bit instruction whose second half is past the end of RAM
    li a0, RAM_BASE + RAM_SIZE - 2
    li a1, 0x0013               # low half of `addi x0, x0, 0`
    sh a1, 0(a0)
    fence.i
    addi a2, a0, 2
    la s7, 1f
    jalr ra, 0(a0)
1:  EXPECT_FAULT 1, a2
    CHECKR s10, a0
    PASS
FAIL_EXIT
TRAP_RECORDER
