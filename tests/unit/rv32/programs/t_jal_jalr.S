# JAL and JALR: link values, offsets, bit 0 of the JALR target, rd == rs1.
.include "common.inc"
.option norvc
START
    j skip_back
back:
    li a0, 7
    ret
skip_back:
    jal ra, back            # backward JAL
    CHECK a0, 7
    jal ra, f1              # forward JAL
ret1:
    la t0, ret1
    CHECKR ra, t0
    CHECK a0, 1
    li a1, 0
    j over                  # jal x0
    li a1, 99
over:
    CHECK a1, 0
    la t0, f2
    jalr ra, 1(t0)          # target bit 0 is cleared
ret2:
    CHECK a0, 2
    la t0, ret2
    CHECKR ra, t0
    la t1, f3
    jalr t1, 0(t1)          # rd == rs1: target uses the old value
ret3:
    la t0, ret3
    CHECKR t1, t0
    CHECK a0, 3
    la t0, f1 + 8
    jalr ra, -8(t0)         # negative offset
    CHECK a0, 1
    la ra, done
    la t0, f1
    jalr zero, 0(t0)        # jr: no link, f1 returns to `done`
    j fail
done:
    CHECK a0, 1
    la t0, done
    CHECKR ra, t0
    PASS
FAIL_EXIT

f1: li a0, 1
    ret
    nop
f2: li a0, 2
    ret
f3: li a0, 3
    jr t1
