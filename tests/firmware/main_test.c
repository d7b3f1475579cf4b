// SPDX-License-Identifier: MIT
/*
 * Boot, time, heartbeat and traps (firmware/main.c) on the host: fw_main
 * to READY and what it reports, the test flags, mtime's torn read and
 * mtimecmp's write order, heartbeat ticks (phase kept, missed ticks
 * skipped), the dispatcher's poll sharing the timer, interrupt dispatch,
 * the fatal-trap path, and udiv64 (lib.c).
 */
#include "fw_test.h"

#include <stdio.h>
#include <string.h>

#define PERIOD 100000ull /* 100 ms of 1 MHz mtime */

static void boots_to_ready(void **state)
{
    uint32_t st[8], n = 0;

    (void)state;
    fw_mock_set_mtime(777);
    assert_int_equal(fw_host_boot(0), FW_MOCK_WFI);
    for (size_t i = 0; i < fw_mock_writes(); i++)
        if (fw_mock_write_at(i)->off == MTIA_REG_FW_STATUS && n < 8) st[n++] = fw_mock_write_at(i)->val;
    assert_int_equal(n, 2);
    assert_int_equal(st[0], MTIA_FW_STATUS_INIT);
    assert_int_equal(st[1], MTIA_FW_STATUS_READY);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_VERSION), MTIA_FW_VERSION(0, 1, 0));
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 0);
    assert_int_equal(fw_mock_write_count(MTIA_CC_REG_EVENT), 1);
    assert_int_equal(fw_mock_csr(FW_CSR_mie), MIE_MTIE | MIE_MEIE);
    assert_int_equal(fw_mock_csr(FW_CSR_mstatus) & MSTATUS_MIE, MSTATUS_MIE);
    assert_int_equal(fw_mock_mtimecmp(), 777 + PERIOD);
    assert_log_has("] mtia-fw 0.1.0 booting\n");
    assert_log_has("] image flags 0x0, boot status 0x1\n");
    char chip[96];
    snprintf(chip, sizeof(chip), "] chip 0x0001 rev 1, interface %u.%u, PE grid 8x8, 1 MSI-X vectors\n",
             (unsigned)MTIA_IF_VERSION_MAJOR, (unsigned)MTIA_IF_VERSION_MINOR);
    assert_log_has(chip);
    assert_log_has("] SRAM 256 KiB, device memory 256 MiB\n");
    assert_log_has("] heartbeat every 100 ms\n");
    assert_log_has("] ready\n");
    assert_false(fw_test_log_has("warning"));
}

/* READY is written last, after the interrupts are set up. */
static void ready_is_the_last_status(void **state)
{
    size_t last_status = 0, last_cmp = 0;

    (void)state;
    assert_int_equal(fw_host_boot(0), FW_MOCK_WFI);
    for (size_t i = 0; i < fw_mock_writes(); i++) {
        if (fw_mock_write_at(i)->off == MTIA_REG_FW_STATUS) last_status = i;
        if (fw_mock_write_at(i)->off == MTIA_CC_REG_MTIMECMP_LO) last_cmp = i;
    }
    assert_true(last_cmp < last_status);
}

static void hardware_mismatches_warned(void **state)
{
    (void)state;
    fw_mock_set_reg(MTIA_REG_MAGIC, 0x12345678);
    fw_mock_set_reg(MTIA_REG_IF_VERSION, mtia_if_version(MTIA_IF_VERSION_MAJOR + 1, 0));
    assert_int_equal(fw_host_boot(0x80), FW_MOCK_WFI);
    assert_log_has("warning: register window magic 0x12345678, expected 0x4d544941\n");
    assert_log_has("warning: interface major 2, firmware built for 1\n");
    assert_log_has("warning: unknown image flags 0x80 ignored\n");
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_READY);
}

static void no_log_without_device_memory(void **state)
{
    fw_test_power_on(state);
    fw_mock_set_reg(MTIA_REG_DEVMEM_SIZE_LO, MTIA_DEVMEM_FW_LOG_OFF); /* no room for the ring */
    assert_int_equal(fw_host_boot(0), FW_MOCK_WFI);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_READY);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_LOG_SIZE), 0);
    assert_string_equal(fw_test_log(), "");
}

/* Test flags stop before READY; TEST_HANG wins over TEST_TRAP. */
static void test_flags(void **state)
{
    const struct {
        uint32_t flags;
        enum fw_mock_stop stop;
        const char *log;
    } cases[] = {
        {MTIA_FW_FLAG_TEST_HANG, FW_MOCK_HANG, "warning: test flag TEST_HANG: hanging before READY, interrupts off\n"},
        {MTIA_FW_FLAG_TEST_TRAP, FW_MOCK_ILLEGAL,
         "warning: test flag TEST_TRAP: illegal instruction before READY, core will halt\n"},
        {MTIA_FW_FLAG_TEST_HANG | MTIA_FW_FLAG_TEST_TRAP, FW_MOCK_HANG, "TEST_HANG"},
    };

    for (unsigned i = 0; i < 3; i++) {
        fw_test_power_on(state);
        assert_int_equal(fw_host_boot(cases[i].flags), cases[i].stop);
        assert_int_equal(fw_mock_reg(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_INIT);
        assert_int_equal(fw_mock_write_count(MTIA_CC_REG_EVENT), 0);
        assert_int_equal(fw_mock_csr(FW_CSR_mstatus) & MSTATUS_MIE, 0);
        assert_log_has(cases[i].log);
    }
    assert_false(fw_test_log_has("TEST_TRAP"));
}

static uint32_t mtime_hi_read(uint32_t off, void *ctx)
{
    (void)off, (void)ctx;
    return mock_type(uint32_t);
}

/* mtime_read: a carry into the high word between the two reads is seen
 * (hi read again) and the pair read again. */
static void mtime_read_is_not_torn(void **state)
{
    (void)state;
    fw_mock_on_read(MTIA_CC_REG_MTIME_HI, mtime_hi_read, NULL);
    fw_mock_set_mtime(0x10);
    will_return(mtime_hi_read, 0);
    will_return(mtime_hi_read, 1); /* carried */
    will_return(mtime_hi_read, 1);
    will_return(mtime_hi_read, 1);
    assert_int_equal(mtime_read(), (1ull << 32) | 0x10);
    assert_int_equal(fw_mock_read_count(MTIA_CC_REG_MTIME_LO), 2);
}

/* mtimecmp_write: LO all ones first, so a half-written value never fires
 * early; then HI, then LO. */
static void mtimecmp_write_order(void **state)
{
    const struct fw_mock_write *w;

    (void)state;
    mtimecmp_write(0x0000000500000007ull);
    assert_int_equal(fw_mock_writes(), 3);
    w = fw_mock_write_at(0);
    assert_int_equal(w->off, MTIA_CC_REG_MTIMECMP_LO);
    assert_int_equal(w->val, 0xffffffffu);
    w = fw_mock_write_at(1);
    assert_int_equal(w->off, MTIA_CC_REG_MTIMECMP_HI);
    assert_int_equal(w->val, 5);
    w = fw_mock_write_at(2);
    assert_int_equal(w->off, MTIA_CC_REG_MTIMECMP_LO);
    assert_int_equal(w->val, 7);
}

static void tick(uint64_t at)
{
    fw_mock_set_mtime(at);
    timer_irq();
}

/* Ticks keep the period's phase even when the interrupt comes late. */
static void heartbeat_ticks_keep_phase(void **state)
{
    (void)state;
    tick(PERIOD);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 1);
    assert_int_equal(fw_mock_mtimecmp(), 2 * PERIOD);
    tick(2 * PERIOD + 30000); /* late */
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 2);
    assert_int_equal(fw_mock_mtimecmp(), 3 * PERIOD);
    tick(3 * PERIOD - 1); /* early: nothing, the compare stays */
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 2);
    assert_int_equal(fw_mock_mtimecmp(), 3 * PERIOD);
    for (unsigned i = 3; i < 100; i++) tick(i * PERIOD);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 99);
}

/* Missed periods (the host descheduled the core) are skipped: one tick,
 * the next one period from now, not a burst of catch-up ticks. */
static void heartbeat_skips_missed_ticks(void **state)
{
    (void)state;
    tick(10 * PERIOD + 500);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 1);
    assert_int_equal(fw_mock_mtimecmp(), 11 * PERIOD + 500);
    tick(11 * PERIOD + 500);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 2);
}

/* SET_PARAM heartbeat_ms re-arms one new period from now. */
static void heartbeat_rearm(void **state)
{
    (void)state;
    fw_mock_set_mtime(50000);
    fw_heartbeat_ms = 10;
    heartbeat_arm();
    assert_int_equal(fw_mock_mtimecmp(), 60000);
    tick(60000);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 1);
    assert_int_equal(fw_mock_mtimecmp(), 70000);
}

/* The dispatcher's poll and the heartbeat share mtimecmp: the earlier one
 * is programmed; the poll fires once (MEIE back on), the heartbeat goes on. */
static void poll_shares_the_timer(void **state)
{
    (void)state;
    fw_mock_set_csr(FW_CSR_mie, MIE_MTIE);
    fw_mock_set_mtime(1000);
    timer_poll_after(10);
    assert_int_equal(fw_mock_mtimecmp(), 1010);
    tick(1010);
    assert_int_equal(fw_mock_csr(FW_CSR_mie), MIE_MTIE | MIE_MEIE);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 0);
    assert_int_equal(fw_mock_mtimecmp(), PERIOD);
    /* a poll later than the heartbeat leaves the heartbeat's compare */
    timer_poll_after(2 * PERIOD);
    assert_int_equal(fw_mock_mtimecmp(), PERIOD);
    tick(PERIOD);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 1);
    assert_int_equal(fw_mock_mtimecmp(), 2 * PERIOD);
}

/* fw_trap's interrupt causes: timer, external, anything else disabled. */
static void interrupts_dispatched(void **state)
{
    (void)state;
    fw_mock_set_mtime(PERIOD);
    fw_trap(MCAUSE_IRQ | IRQ_M_TIMER, 0, 0);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_HEARTBEAT), 1);

    fw_mock_set_reg(MTIA_REG_MBOX_CMD, mtia_mbox_word0(MTIA_ADMIN_PING, 3));
    fw_mock_set_reg(MTIA_REG_MBOX_DOORBELL, 1);
    fw_trap(MCAUSE_IRQ | IRQ_M_EXT, 0, 0);
    assert_int_equal(fw_mock_write_count(MTIA_CC_REG_MBOX_POST), 1);

    fw_mock_set_csr(FW_CSR_mie, 0xffffffffu);
    fw_trap(MCAUSE_IRQ | 3, 0, 0);
    assert_int_equal(fw_mock_csr(FW_CSR_mie), ~(1u << 3));
    assert_log_has("error: unexpected interrupt 3: disabled\n");
    fw_trap(MCAUSE_IRQ | 40, 0, 0); /* cause 40: mie bit 8 (40 & 31) */
    assert_int_equal(fw_mock_csr(FW_CSR_mie), ~(1u << 3 | 1u << 8));
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_READY);
}

/* An exception: logged with its cause, FW_STATUS ERROR and an EVENT, mtvec
 * cleared so the retried instruction halts the core. A second one (inside
 * the fatal path) only clears mtvec. */
static void fatal_trap(void **state)
{
    (void)state;
    fw_mock_set_csr(FW_CSR_mtvec, 0x10000004);
    fw_trap(2, 0x10000100, 0xc0001073);
    assert_log_has("error: fatal trap: cause 2 (illegal instruction) pc 0x10000100 tval 0xc0001073\n");
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_ERROR);
    assert_int_equal(fw_mock_write_count(MTIA_CC_REG_EVENT), 1);
    assert_int_equal(fw_mock_csr(FW_CSR_mtvec), 0);

    fw_mock_set_csr(FW_CSR_mtvec, 0x10000004);
    fw_trap(7, 0x10000200, 0x20000000);
    assert_false(fw_test_log_has("cause 7"));
    assert_int_equal(fw_mock_write_count(MTIA_CC_REG_EVENT), 1);
    assert_int_equal(fw_mock_csr(FW_CSR_mtvec), 0);
}

static void trap_cause_names(void **state)
{
    const struct {
        uint32_t cause;
        const char *name;
    } cases[] = {
        {0, "(instruction address misaligned)"},
        {5, "(load access fault)"},
        {7, "(store access fault)"},
        {11, "(ecall from M)"},
        {12, "(unknown)"},
        {0x7fffffff, "(unknown)"},
    };

    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        fw_test_booted(state);
        fw_trap(cases[i].cause, 0, 0);
        assert_log_has(cases[i].name);
    }
}

static void udiv64_divides(void **state)
{
    const uint64_t ns[] = {0, 1, 999, 1000, 0xffffffffull, 1ull << 32, 0x123456789abcdefull, ~0ull};
    const uint32_t ds[] = {1, 3, 1000, 1000000, 0x80000000u, 0xffffffffu};

    (void)state;
    for (unsigned i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
        for (unsigned j = 0; j < sizeof(ds) / sizeof(ds[0]); j++) {
            uint32_t rem = 0xdead;

            assert_int_equal(udiv64(ns[i], ds[j], &rem), ns[i] / ds[j]);
            assert_int_equal(rem, ns[i] % ds[j]);
            assert_int_equal(udiv64(ns[i], ds[j], NULL), ns[i] / ds[j]);
        }
    }
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(boots_to_ready, fw_test_power_on),
    cmocka_unit_test_setup(ready_is_the_last_status, fw_test_power_on),
    cmocka_unit_test_setup(hardware_mismatches_warned, fw_test_power_on),
    cmocka_unit_test(no_log_without_device_memory),
    cmocka_unit_test(test_flags),
    cmocka_unit_test_setup(mtime_read_is_not_torn, fw_test_booted),
    cmocka_unit_test_setup(mtimecmp_write_order, fw_test_booted),
    cmocka_unit_test_setup(heartbeat_ticks_keep_phase, fw_test_booted),
    cmocka_unit_test_setup(heartbeat_skips_missed_ticks, fw_test_booted),
    cmocka_unit_test_setup(heartbeat_rearm, fw_test_booted),
    cmocka_unit_test_setup(poll_shares_the_timer, fw_test_booted),
    cmocka_unit_test_setup(interrupts_dispatched, fw_test_booted),
    cmocka_unit_test_setup(fatal_trap, fw_test_booted),
    cmocka_unit_test(trap_cause_names),
    cmocka_unit_test(udiv64_divides),
};

FW_TEST_MAIN("fw_main", tests)
