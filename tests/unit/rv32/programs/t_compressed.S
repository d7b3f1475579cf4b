# Every RV32C instruction form, written with explicit c.* mnemonics.
.include "common.inc"
.option rvc
START
    la t0, trap_recorder
    csrw mtvec, t0
    li sp, RAM_BASE + RAM_SIZE - 1024
    # C.LI, C.ADDI, C.NOP
    c.li a0, 5
    CHECK a0, 5
    c.li a0, -32
    CHECK a0, -32
    c.addi a0, 31
    CHECK a0, -1
    c.addi a0, -1
    CHECK a0, -2
    c.nop
    # C.LUI (positive and negative nzimm)
    c.lui a1, 1
    CHECK a1, 0x1000
    c.lui a1, 0x1f
    CHECK a1, 0x1f000
    c.lui a1, 0xfffe0
    CHECK a1, 0xfffe0000
    # C.ADDI16SP, C.ADDI4SPN, C.SWSP, C.LWSP
    mv s1, sp
    c.addi16sp sp, -64
    addi t0, s1, -64
    CHECKR sp, t0
    c.addi4spn a2, sp, 8
    addi t0, sp, 8
    CHECKR a2, t0
    c.addi4spn a3, sp, 1020
    addi t0, sp, 1020
    CHECKR a3, t0
    li a0, 0x5a5a1234
    c.swsp a0, 12(sp)
    c.lwsp a5, 12(sp)
    CHECKR a5, a0
    c.swsp a0, 252(sp)
    lw t0, 252(sp)
    CHECKR t0, a0
    c.addi16sp sp, 496
    c.addi16sp sp, -432
    CHECKR sp, s1
    # C.LW, C.SW
    la s1, buf
    li a0, 0x11223344
    c.sw a0, 4(s1)
    c.lw a4, 4(s1)
    CHECKR a4, a0
    c.sw a0, 124(s1)
    c.lw a4, 124(s1)
    CHECKR a4, a0
    lw a4, 0(s1)
    CHECK a4, 0
    # C.MV, C.ADD
    c.mv a5, a0
    CHECKR a5, a0
    c.add a5, a0
    CHECK a5, 0x22446688
    # C.SUB, C.XOR, C.OR, C.AND, C.ANDI
    li s0, 0xf0f0
    li a2, 0x0ff0
    mv a3, s0
    c.sub a3, a2
    CHECK a3, 0xe100
    mv a3, s0
    c.xor a3, a2
    CHECK a3, 0xff00
    mv a3, s0
    c.or a3, a2
    CHECK a3, 0xfff0
    mv a3, s0
    c.and a3, a2
    CHECK a3, 0x00f0
    mv a3, s0
    c.andi a3, -16
    CHECK a3, 0xf0f0
    c.andi a3, 0x1f
    CHECK a3, 0x10
    # C.SLLI, C.SRLI, C.SRAI
    li a4, 0x80000001
    mv a5, a4
    c.slli a5, 31
    CHECK a5, 0x80000000
    mv a5, a4
    c.srli a5, 31
    CHECK a5, 1
    mv a5, a4
    c.srai a5, 4
    CHECK a5, 0xf8000000
    li t1, 3
    c.slli t1, 2             # full register field
    CHECK t1, 12
    # C.J
    li a0, 0
    c.j 1f
    li a0, 1
1:  CHECK a0, 0
    # C.JAL (RV32 only)
    c.jal cfunc
jal_ret:
    la t0, jal_ret
    CHECKR ra, t0
    CHECK a0, 42
    # C.JALR
    la a1, cfunc
    li a0, 0
    c.jalr a1
jalr_ret:
    la t0, jalr_ret
    CHECKR ra, t0
    CHECK a0, 42
    # C.JR
    la a1, 2f
    c.jr a1
    j fail
2:
    # C.BEQZ / C.BNEZ, both ways
    li s0, 0
    c.beqz s0, 3f
    j fail
3:  c.bnez s0, fail_near
    li s0, 1
    c.bnez s0, 4f
    j fail
4:  c.beqz s0, fail_near
    # backward C.BNEZ loop
    li s0, 3
    li a0, 0
5:  addi a0, a0, 1
    addi s0, s0, -1
    c.bnez s0, 5b
    CHECK a0, 3
    # C.EBREAK: breakpoint, mtval = pc
    la s7, 6f
brk:
    c.ebreak
6:  EXPECT_TRAP 1, 3
    la t0, brk
    CHECKR s10, t0
    CHECKR s11, t0
    PASS
fail_near:
    j fail
FAIL_EXIT
cfunc:
    c.li a0, 21
    c.add a0, a0
    c.jr ra
TRAP_RECORDER

.data
.balign 4
buf: .space 128
