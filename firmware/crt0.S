/* SPDX-License-Identifier: MIT */
/*
 * mtia-fw start-up and trap entry.
 *
 * The boot ROM copies the payload to SRAM at load_addr and starts here with
 * a0 = image header flags, a1 = FW_BOOT_STATUS, mtvec = 0 and interrupts
 * off. Until mtvec is set below, any trap halts the core (the device shows
 * HALTED with the trap in FW_TRAP_*).
 */
    .section .text.start, "ax"
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, __stack_top
    csrw mie, zero
    csrci mstatus, 8            /* MIE = 0 */

    /* Zero .bss (the boot ROM copies only the payload). a0/a1 are kept. */
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    sw zero, 0(t0)
    addi t0, t0, 4
    j 1b
2:
    la t0, fw_trap_entry        /* direct mode: 4-byte aligned */
    csrw mtvec, t0

    call fw_main                /* fw_main(flags, boot_status) */

    /* fw_main must not return: make it visible as a halt on a breakpoint. */
    csrw mtvec, zero
    .globl fw_main_returned
fw_main_returned:
    ebreak

/*
 * Trap entry: save the caller-saved registers, call
 * fw_trap(mcause, mepc, mtval), restore, mret. The first instruction is a
 * store through sp, so with a broken sp the entry itself faults and the core
 * halts (a trap on a handler's first instruction) instead of looping.
 */
    .section .text.trap, "ax"
    .balign 4
    .globl fw_trap_entry
fw_trap_entry:
    sw ra, -64(sp)
    addi sp, sp, -64
    sw t0, 4(sp)
    sw t1, 8(sp)
    sw t2, 12(sp)
    sw a0, 16(sp)
    sw a1, 20(sp)
    sw a2, 24(sp)
    sw a3, 28(sp)
    sw a4, 32(sp)
    sw a5, 36(sp)
    sw a6, 40(sp)
    sw a7, 44(sp)
    sw t3, 48(sp)
    sw t4, 52(sp)
    sw t5, 56(sp)
    sw t6, 60(sp)
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    call fw_trap
    lw ra, 0(sp)
    lw t0, 4(sp)
    lw t1, 8(sp)
    lw t2, 12(sp)
    lw a0, 16(sp)
    lw a1, 20(sp)
    lw a2, 24(sp)
    lw a3, 28(sp)
    lw a4, 32(sp)
    lw a5, 36(sp)
    lw a6, 40(sp)
    lw a7, 44(sp)
    lw t3, 48(sp)
    lw t4, 52(sp)
    lw t5, 56(sp)
    lw t6, 60(sp)
    addi sp, sp, 64
    mret

/* Spin forever with every interrupt off: a hung firmware (fault tests). */
    .section .text.fw_hang, "ax"
    .globl fw_hang
fw_hang:
    csrci mstatus, 8
    csrw mie, zero
    .globl fw_hang_loop
fw_hang_loop:
    j fw_hang_loop

/* Clear mtvec and execute an illegal instruction: the core halts with
 * mcause = 2, pc = fw_illegal_insn, mtval = 0xc0001073. */
    .section .text.fw_die_illegal, "ax"
    .globl fw_die_illegal
fw_die_illegal:
    csrci mstatus, 8
    csrw mtvec, zero
    .balign 4
    .globl fw_illegal_insn
fw_illegal_insn:
    .4byte 0xc0001073           /* unimp: csrrw x0, cycle, x0 */
    j fw_illegal_insn
