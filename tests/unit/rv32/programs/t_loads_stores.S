# All load/store widths, sign/zero extension, RAM, a data-only region and MMIO.
.include "common.inc"
.option norvc
START
    la a0, buf
    li a1, 0x8899aabb
    sw a1, 0(a0)
    lw a2, 0(a0)
    CHECK a2, 0x8899aabb
    lb a2, 0(a0)
    CHECK a2, 0xffffffbb
    lbu a2, 0(a0)
    CHECK a2, 0xbb
    lb a2, 1(a0)
    CHECK a2, 0xffffffaa
    lb a2, 3(a0)
    CHECK a2, 0xffffff88
    lbu a2, 3(a0)
    CHECK a2, 0x88
    lh a2, 0(a0)
    CHECK a2, 0xffffaabb
    lhu a2, 0(a0)
    CHECK a2, 0xaabb
    lh a2, 2(a0)
    CHECK a2, 0xffff8899
    lhu a2, 2(a0)
    CHECK a2, 0x8899
    li a1, 0x7f017f7f
    sw a1, 4(a0)
    lb a2, 4(a0)
    CHECK a2, 0x7f
    lh a2, 6(a0)
    CHECK a2, 0x7f01
    li a3, 0x11
    sb a3, 1(a0)
    lw a2, 0(a0)
    CHECK a2, 0x889911bb
    li a3, 0x12342233
    sh a3, 2(a0)
    lw a2, 0(a0)
    CHECK a2, 0x223311bb
    addi a4, a0, 12
    sw a1, -4(a4)            # negative offset
    lw a2, 8(a0)
    CHECK a2, 0x7f017f7f
    sw zero, 8(a0)
    lw a2, 8(a0)
    CHECK a2, 0
    lw zero, 0(a0)           # a load into x0 is discarded
    CHECK zero, 0
    # non-executable data RAM
    li a0, DATA_BASE
    li a1, 0xcafef00d
    sw a1, 0x10(a0)
    lhu a2, 0x12(a0)
    CHECK a2, 0xcafe
    # MMIO through the bus, each width
    li a0, TB
    li a1, 0x80ff8081
    sw a1, TB_SCRATCH(a0)
    lw a2, TB_SCRATCH(a0)
    CHECK a2, 0x80ff8081
    lb a2, TB_SCRATCH(a0)
    CHECK a2, 0xffffff81
    lbu a2, TB_SCRATCH(a0)
    CHECK a2, 0x81
    lb a2, TB_SCRATCH+1(a0)
    CHECK a2, 0xffffff80
    lh a2, TB_SCRATCH+2(a0)
    CHECK a2, 0xffff80ff
    lhu a2, TB_SCRATCH+2(a0)
    CHECK a2, 0x80ff
    li a3, 0x55
    sb a3, TB_SCRATCH+1(a0)
    li a3, 0x1234
    sh a3, TB_SCRATCH+2(a0)
    lw a2, TB_SCRATCH(a0)
    CHECK a2, 0x12345581
    PASS
FAIL_EXIT

.data
.balign 4
buf: .word 0, 0, 0, 0
