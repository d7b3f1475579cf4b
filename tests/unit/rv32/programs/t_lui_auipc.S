# LUI and AUIPC.
.include "common.inc"
.option norvc
START
    lui a0, 0x12345
    CHECK a0, 0x12345000
    lui a0, 0xfffff
    CHECK a0, 0xfffff000
    lui zero, 0x1
    CHECK zero, 0
here:
    auipc a1, 0
    la a2, here
    CHECKR a1, a2
here2:
    auipc a1, 0x1
    la a2, here2
    li t0, 0x1000
    add a2, a2, t0
    CHECKR a1, a2
here3:
    auipc a1, 0xfffff
    la a2, here3
    li t0, -0x1000
    add a2, a2, t0
    CHECKR a1, a2
    PASS
FAIL_EXIT
