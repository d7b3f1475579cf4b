// SPDX-License-Identifier: MIT
/*
 * mtia-fw: boot, hardware discovery, heartbeat timer, interrupt and trap
 * dispatch. See docs/firmware.md.
 */
#include "fw.h"

uint32_t fw_heartbeat_ms = 100;     /* MTIA_PARAM_HEARTBEAT_MS */
static uint32_t heartbeat_count;
static uint64_t heartbeat_next;     /* mtime of the next tick */
static uint64_t poll_next;          /* dispatcher wait-mode poll, 0 = none */
static int in_fatal;

/* ---- time ---------------------------------------------------------------- */

uint64_t mtime_read(void)
{
    uint32_t hi, lo;

    do {
        hi = reg_read(MTIA_CC_REG_MTIME_HI);
        lo = reg_read(MTIA_CC_REG_MTIME_LO);
    } while (reg_read(MTIA_CC_REG_MTIME_HI) != hi);
    return (uint64_t)hi << 32 | lo;
}

void mtimecmp_write(uint64_t when)
{
    /* never let a half-written compare value fire early */
    reg_write(MTIA_CC_REG_MTIMECMP_LO, 0xffffffffu);
    reg_write(MTIA_CC_REG_MTIMECMP_HI, (uint32_t)(when >> 32));
    reg_write(MTIA_CC_REG_MTIMECMP_LO, (uint32_t)when);
}

static uint32_t heartbeat_ticks(void)
{
    return fw_heartbeat_ms * (MTIA_CC_TIMEBASE_HZ / 1000);
}

/* mtimecmp = the earlier of the heartbeat and the dispatcher's poll. */
static void timer_program(void)
{
    mtimecmp_write(poll_next && poll_next < heartbeat_next ? poll_next : heartbeat_next);
}

void heartbeat_arm(void)
{
    heartbeat_next = mtime_read() + heartbeat_ticks();
    timer_program();
}

void timer_poll_after(uint32_t ticks)
{
    poll_next = mtime_read() + ticks;
    timer_program();
}

void timer_irq(void)
{
    uint64_t now = mtime_read();

    if (poll_next && now >= poll_next) {
        poll_next = 0;
        dispatch_poll_tick();
    }
    if (now >= heartbeat_next) {
        /* Keep the period's phase; if we fell behind (the host descheduled
         * the core), skip the missed ticks rather than firing back to back. */
        heartbeat_next += heartbeat_ticks();
        if (heartbeat_next <= now)
            heartbeat_next = now + heartbeat_ticks();
        reg_write(MTIA_REG_FW_HEARTBEAT, ++heartbeat_count);
    }
    timer_program();
}

/* ---- traps --------------------------------------------------------------- */

static const char *cause_name(uint32_t cause)
{
    static const char *const names[] = {
        "instruction address misaligned", "instruction access fault",
        "illegal instruction", "breakpoint", "load address misaligned",
        "load access fault", "store address misaligned", "store access fault",
        "ecall from U", "ecall from S", "reserved", "ecall from M",
    };
    return cause < sizeof(names) / sizeof(names[0]) ? names[cause] : "unknown";
}

/* Called by fw_trap_entry (crt0.S) for every trap. */
void fw_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    if (mcause & MCAUSE_IRQ) {
        switch (mcause & ~MCAUSE_IRQ) {
        case IRQ_M_TIMER:
            timer_irq();
            return;
        case IRQ_M_EXT:
            ext_irq();
            return;
        default:
            log_err("unexpected interrupt %u: disabled", mcause & ~MCAUSE_IRQ);
            csr_clear(mie, 1u << (mcause & 31));
            return;
        }
    }
    /*
     * A synchronous exception is a firmware bug: say so in the log and in
     * FW_STATUS, then clear mtvec and return to the faulting instruction.
     * It traps again with no handler, so the core halts and the device shows
     * the original cause/pc/tval in FW_TRAP_*. A fault inside this path
     * (in_fatal) skips straight to the halt.
     */
    if (!in_fatal) {
        in_fatal = 1;
        log_err("fatal trap: cause %u (%s) pc 0x%08x tval 0x%08x", mcause,
                cause_name(mcause), mepc, mtval);
        reg_write(MTIA_REG_FW_STATUS, MTIA_FW_STATUS_ERROR);
        reg_write(MTIA_CC_REG_EVENT, 1);
    }
    csr_write(mtvec, 0);
}

/* ---- boot ---------------------------------------------------------------- */

static void log_hardware(void)
{
    uint32_t ifv = reg_read(MTIA_REG_IF_VERSION);
    uint32_t grid = reg_read(MTIA_REG_PE_GRID);
    uint64_t sram = (uint64_t)reg_read(MTIA_REG_SRAM_SIZE_HI) << 32 |
                    reg_read(MTIA_REG_SRAM_SIZE_LO);
    uint64_t devmem = (uint64_t)reg_read(MTIA_REG_DEVMEM_SIZE_HI) << 32 |
                      reg_read(MTIA_REG_DEVMEM_SIZE_LO);
    uint32_t magic = reg_read(MTIA_REG_MAGIC);

    if (magic != MTIA_MAGIC_VALUE)
        log_warn("register window magic 0x%08x, expected 0x%08x", magic, MTIA_MAGIC_VALUE);
    log_info("chip 0x%04x rev %u, interface %u.%u, PE grid %ux%u, %u MSI-X vectors",
             reg_read(MTIA_REG_CHIP_ID), reg_read(MTIA_REG_REVISION), mtia_if_version_major(ifv),
             mtia_if_version_minor(ifv), mtia_pe_grid_rows(grid), mtia_pe_grid_cols(grid),
             reg_read(MTIA_REG_MSIX_VECTORS));
    log_info("SRAM %u KiB, device memory %u MiB",
             (uint32_t)udiv64(sram, 1024, 0), (uint32_t)udiv64(devmem, 1024 * 1024, 0));
    if (mtia_if_version_major(ifv) != MTIA_IF_VERSION_MAJOR)
        log_warn("interface major %u, firmware built for %u", mtia_if_version_major(ifv),
                 MTIA_IF_VERSION_MAJOR);
}

int fw_main(uint32_t flags, uint32_t boot_status)
{
    reg_write(MTIA_REG_FW_STATUS, MTIA_FW_STATUS_INIT);
    reg_write(MTIA_REG_FW_VERSION, FW_VERSION_CODE);
    reg_write(MTIA_REG_FW_HEARTBEAT, 0);
    log_init();

    log_info("mtia-fw %u.%u.%u booting", FW_VERSION_MAJOR, FW_VERSION_MINOR, FW_VERSION_PATCH);
    log_info("image flags 0x%x, boot status 0x%x", flags, boot_status);
    log_hardware();
    if (flags & ~MTIA_FW_FLAGS_KNOWN)
        log_warn("unknown image flags 0x%x ignored", flags & ~MTIA_FW_FLAGS_KNOWN);
    if (flags & MTIA_FW_FLAG_TEST_HANG) {
        log_warn("test flag TEST_HANG: hanging before READY, interrupts off");
        fw_hang();
    }
    if (flags & MTIA_FW_FLAG_TEST_TRAP) {
        log_warn("test flag TEST_TRAP: illegal instruction before READY, core will halt");
        fw_die_illegal();
    }

    heartbeat_arm();
    csr_write(mie, MIE_MTIE | MIE_MEIE);
    log_info("heartbeat every %u ms", fw_heartbeat_ms);
    log_info("ready");
    reg_write(MTIA_REG_FW_STATUS, MTIA_FW_STATUS_READY);
    reg_write(MTIA_CC_REG_EVENT, 1);
    csr_set(mstatus, MSTATUS_MIE);

    /* Everything from here on happens in interrupt handlers. */
    for (;;)
        fw_wfi();
}
