# Test firmware for tests/unit/device_fw_test.cc: exercises the device core's
# control-core integration (boot ROM hand-over, firmware registers, mailbox
# and timer interrupts, access faults). Not the real firmware (firmware/).
#
# The test talks to it through device memory at DEVMEM + TB (the "test bench"):
#   TB+0  mode, written by the test before booting:
#         0 normal: FW_VERSION, READY, heartbeat on the timer, mailbox echo
#         1 load from an unmapped address (mtvec == 0: halts, cause 5)
#         2 store to a host-only register, MTIA_REG_RESET (halts, cause 7)
#         3 jump into device memory, which is not executable (halts, cause 1)
#   TB+4  a0 at entry (header flags), TB+8  a1 at entry (FW_BOOT_STATUS)
#   TB+12 mcause of an unexpected exception
# Header flags: MTIA_FW_FLAG_TEST_TRAP executes an illegal instruction first
# (halts, cause 2), MTIA_FW_FLAG_TEST_HANG spins with interrupts off.

.equ REGS,          0x20000000
.equ DEVMEM,        0x80000000
.equ TB,            0xa0000
.equ FW_STATUS,     0x114
.equ FW_VERSION,    0x118
.equ FW_HEARTBEAT,  0x11c
.equ MBOX_CMD,      0x200
.equ MBOX_RESP,     0x240
.equ MBOX_DOORBELL, 0x280
.equ MTIME_LO,      0x400
.equ MTIME_HI,      0x404
.equ MTIMECMP_LO,   0x408
.equ MTIMECMP_HI,   0x40c
.equ MBOX_POST,     0x410
.equ PERIOD,        1000        # mtime ticks (1 MHz): 1 ms

    .section .text.start, "ax"
    .globl _start
_start:
    li s0, REGS
    li s1, DEVMEM
    li t0, TB
    add s2, s1, t0
    sw a0, 4(s2)
    sw a1, 8(s2)
    andi t0, a0, 2
    beqz t0, 1f
    .globl trap_insn
trap_insn:
    .word 0                     # illegal instruction, no handler yet
1:  andi t0, a0, 1
    bnez t0, hang
    lw t0, 0(s2)
    li t1, 1
    beq t0, t1, wild_load
    li t1, 2
    beq t0, t1, wild_store
    li t1, 3
    beq t0, t1, exec_devmem

    la t0, handler
    csrw mtvec, t0
    li t0, 0x010203
    sw t0, FW_VERSION(s0)
    li t0, 1
    sw t0, FW_STATUS(s0)        # INIT
    call arm_timer
    li t0, (1 << 11) | (1 << 7) # MEIE | MTIE
    csrw mie, t0
    csrsi mstatus, 8            # MIE
    li t0, 2
    sw t0, FW_STATUS(s0)        # READY
idle:
    wfi
    j idle

hang:
    j hang

wild_load:
    li t0, 0x40000000
    lw t1, 0(t0)
    j hang
wild_store:
    li t0, 0x52535421
    sw t0, 0x44(s0)
    j hang
exec_devmem:
    jr s1

# mtimecmp = mtime + PERIOD
arm_timer:
    lw t0, MTIME_LO(s0)
    lw t1, MTIME_HI(s0)
    li t2, PERIOD
    add t2, t0, t2
    sltu t3, t2, t0
    add t1, t1, t3
    li t4, -1
    sw t4, MTIMECMP_HI(s0)
    sw t2, MTIMECMP_LO(s0)
    sw t1, MTIMECMP_HI(s0)
    ret

    .balign 4
handler:                        # only the idle loop is ever interrupted
    csrr t0, mcause
    bgez t0, exception
    andi t0, t0, 0xff
    li t1, 11
    beq t0, t1, mbox
    li t1, 7
    beq t0, t1, timer
    mret
timer:
    lw t0, FW_HEARTBEAT(s0)
    addi t0, t0, 1
    sw t0, FW_HEARTBEAT(s0)
    call arm_timer
    mret
mbox:                           # response = command, status OK, args[13] = seq
    li t0, 0
2:  add t1, s0, t0
    lw t2, MBOX_CMD(t1)
    sw t2, MBOX_RESP(t1)
    addi t0, t0, 4
    li t3, 64
    blt t0, t3, 2b
    sw zero, MBOX_RESP + 4(s0)
    lhu t0, MBOX_CMD + 2(s0)    # sub-word access to the message buffers
    sh t0, MBOX_RESP + 60(s0)
    sh zero, MBOX_RESP + 62(s0)
    li t0, 1
    sw t0, MBOX_DOORBELL(s0)    # RW1C: MEIP drops
    sw t0, MBOX_POST(s0)        # MTIA_IRQ_MBOX
    mret
exception:
    csrr t0, mcause
    sw t0, 12(s2)
    li t0, 3
    sw t0, FW_STATUS(s0)        # ERROR
    j hang
