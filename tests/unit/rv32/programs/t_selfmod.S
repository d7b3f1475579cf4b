# Code that rewrites itself: after a store (and FENCE.I, as the ISA requires)
# the new instruction runs, not a stale predecoded one.
.include "common.inc"
.option norvc
START
    call patch
    CHECK a0, 1
    la t0, patch
    la t1, li_a0_2
    lw t2, 0(t1)
    sw t2, 0(t0)
    fence.i
    call patch
    CHECK a0, 2
    # a 16-bit store over the upper half of a cached 32-bit instruction
    la t1, li_a0_3
    lhu t2, 2(t1)
    sh t2, 2(t0)
    fence.i
    call patch
    CHECK a0, 3
    # the model also sees a store without FENCE.I (stronger than required)
    la t1, li_a0_4
    lw t2, 0(t1)
    sw t2, 0(t0)
    call patch
    CHECK a0, 4
    PASS
FAIL_EXIT

patch:
    li a0, 1
    ret
li_a0_2: li a0, 2
li_a0_3: li a0, 3
li_a0_4: li a0, 4
