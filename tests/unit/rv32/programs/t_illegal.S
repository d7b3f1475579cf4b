# Illegal instructions: mcause 2, mtval = the instruction bits, mepc = its pc.
.include "common.inc"
.option norvc

# Execute the instruction at label \insn (emitted by the caller right after
# this macro) and expect an illegal-instruction trap reporting \bits.
.macro ILLEGAL16 bits
    la s7, .Lresume\@
    addi s6, s8, 1
.Linsn\@:
    .hword \bits
    .hword 0x0001            # c.nop: keeps the resume point 4-aligned
.Lresume\@:
    CHECKR s8, s6
    CHECK s9, 2
    CHECK s11, \bits
    la t0, .Linsn\@
    CHECKR s10, t0
.endm

# \insn... is a 32-bit instruction; mtval must equal its encoding.
.macro ILLEGAL32 insn:vararg
    la s7, .Lresume\@
    addi s6, s8, 1
.Linsn\@:
    \insn
.Lresume\@:
    CHECKR s8, s6
    CHECK s9, 2
    la t0, .Linsn\@
    CHECKR s10, t0
    lw t1, 0(t0)
    CHECKR s11, t1
.endm

START
    la t0, trap_recorder
    csrw mtvec, t0
    ILLEGAL16 0x0000         # the all-zero halfword (C.ADDI4SPN, nzuimm = 0)
    ILLEGAL16 0x6101         # C.ADDI16SP with nzimm = 0 (reserved)
    ILLEGAL16 0x6081         # C.LUI ra, 0 (reserved)
    ILLEGAL16 0x4002         # C.LWSP x0 (reserved)
    ILLEGAL16 0x8002         # C.JR x0 (reserved)
    ILLEGAL16 0x1082         # C.SLLI with shamt[5] = 1 (RV32: reserved)
    ILLEGAL16 0x9005         # C.SRLI with shamt[5] = 1
    ILLEGAL16 0x9c01         # C.SUBW (RV64 only)
    ILLEGAL16 0x2000         # C.FLD (no D)
    ILLEGAL16 0x6000         # C.FLW (no F)
    ILLEGAL16 0x8000         # quadrant 0, funct3 100: reserved
    ILLEGAL16 0xe002         # C.FSWSP (no F)
    ILLEGAL32 .word 0xffffffff           # 48-bit+ encoding space
    ILLEGAL32 .word 0x0000001f           # 48-bit prefix
    ILLEGAL32 .word 0x00053503           # ld a0, 0(a0): RV64 only
    ILLEGAL32 .word 0x02051513           # slli a0, a0, 32: RV64 only
    ILLEGAL32 .word 0x40004533           # xor with funct7 = 0x20
    ILLEGAL32 .word 0x00200073           # uret: no U-mode
    ILLEGAL32 .word 0x10200073           # sret: no S-mode
    ILLEGAL32 .word 0x00002007           # flw: no F
    ILLEGAL32 .word 0x0000402f           # amo: no A
    ILLEGAL32 .word 0x00004073           # SYSTEM funct3 = 4
    ILLEGAL32 .word 0x0000200f           # MISC-MEM funct3 = 2
    ILLEGAL32 csrr a0, 0x7c0             # CSR that does not exist
    ILLEGAL32 csrw mvendorid, a0         # write to a read-only CSR
    ILLEGAL32 csrw cycle, a0
    ILLEGAL32 csrrs a0, cycle, a1        # set with rs1 != x0 writes
    ILLEGAL32 csrrsi a0, mhartid, 1
    ILLEGAL32 csrr a0, mcounteren        # no U-mode, so no mcounteren
    # not illegal: read-only CSRs read with rs1 = x0 / uimm = 0
    li s6, 0
    mv s5, s8
    csrrs a0, cycle, zero
    csrrci a0, mhartid, 0
    CHECKR s5, s8
    PASS
FAIL_EXIT
TRAP_RECORDER
