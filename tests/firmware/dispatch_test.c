// SPDX-License-Identifier: MIT
/*
 * The dispatcher's bookkeeping (firmware/dispatch.c) on the host, against
 * the queue model (fw_queue_model.h): NOP/FENCE completion and engine
 * dispatch, FENCE parking and release (engine event, wait mode and its poll
 * tick, a stale event), strict priority, round-robin batches, preemption,
 * priorities re-read, fetch errors and aborts, the mailbox and heartbeat
 * during a burst, the post-burst poll, and GET_QSTATS's counters.
 */
#include "fw_test.h"

#include <string.h>

#include "fw_queue_model.h"

#define MIE_MEIE_BIT (1u << 11)

static int setup(void **state)
{
    if (fw_test_booted(state)) return -1;
    fwq_install();
    fw_mock_set_time_step(1); /* the post-burst poll ends after 20 us */
    return 0;
}

static struct mtia_cmd cmd(uint8_t op, uint16_t cid)
{
    struct mtia_cmd c;

    memset(&c, 0, sizeof(c));
    c.opcode = op;
    c.cid = cid;
    if (op == MTIA_CMD_COPY || op == MTIA_CMD_FILL || op == MTIA_CMD_TIMESTAMP) {
        c.len = 8;
        c.src.addr = MTIA_ADDR_DEVMEM;
        c.dst.addr = MTIA_ADDR_DEVMEM | 4096;
    } else if (op == MTIA_CMD_COMPUTE) {
        c.len = MTIA_OP_BYTES;
        c.value = 4096;
        c.dst.addr = MTIA_ADDR_DEVMEM;
    }
    return c;
}

static void push(unsigned q, uint8_t op, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        struct mtia_cmd c = cmd(op, (uint16_t)(q << 12 | (fwq_waiting(q) + i)));

        fwq_push(q, &c);
    }
}

static void irq(void)
{
    enum fw_mock_stop stop;

    FW_MOCK_RUN(stop, ext_irq());
    assert_int_equal(stop, FW_MOCK_RETURNED);
}

static void stats(unsigned q, uint32_t *st) { assert_int_equal(queue_stats(q, st), 1); }

static void assert_stats(unsigned q, uint32_t fetched, uint32_t dispatched, uint32_t completed, uint32_t errors,
                         uint32_t fence_waits, uint32_t flags)
{
    uint32_t st[6];

    stats(q, st);
    assert_int_equal(st[0], fetched);
    assert_int_equal(st[1], dispatched);
    assert_int_equal(st[2], completed);
    assert_int_equal(st[3], errors);
    assert_int_equal(st[4], fence_waits);
    assert_int_equal(st[5], flags);
}

static void assert_event(size_t i, enum fwq_kind kind, unsigned q, uint8_t op)
{
    const struct fwq_event *e = fwq_event_at(i);

    assert_non_null(e);
    assert_int_equal(e->kind, kind);
    assert_int_equal(e->q, q);
    assert_int_equal(e->cmd.opcode, op);
    if (kind == FWQ_COMPLETE) assert_int_equal(e->status, MTIA_CQE_OK);
}

/* The queue of each event, as a string ("0011..."). */
static const char *order(void)
{
    static char s[FWQ_MAX_EVENTS + 1];
    size_t n = fwq_events();

    for (size_t i = 0; i < n; i++) s[i] = (char)('0' + fwq_event_at(i)->q);
    s[n] = '\0';
    return s;
}

static void nop_completed_by_firmware(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_NORMAL);
    push(0, MTIA_CMD_NOP, 1);
    irq();
    assert_int_equal(fwq_events(), 1);
    assert_event(0, FWQ_COMPLETE, 0, MTIA_CMD_NOP);
    assert_stats(0, 1, 0, 1, 0, 0, 0);
    assert_int_equal(fw_mock_reg(MTIA_CC_REG_Q_PENDING), 0);
}

static void engine_commands_dispatched_in_order(void **state)
{
    const uint8_t ops[] = {MTIA_CMD_COPY, MTIA_CMD_FILL, MTIA_CMD_TIMESTAMP, MTIA_CMD_COMPUTE};

    (void)state;
    fwq_enable(3, MTIA_PRIO_LOW);
    for (unsigned i = 0; i < 4; i++) push(3, ops[i], 1);
    irq();
    assert_int_equal(fwq_events(), 4);
    for (unsigned i = 0; i < 4; i++) assert_event(i, FWQ_DISPATCH, 3, ops[i]);
    assert_stats(3, 4, 4, 0, 0, 0, 0);
    assert_int_equal(fwq_inflight(3), 4);
}

static void fence_with_nothing_in_flight_completes(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_NORMAL);
    push(0, MTIA_CMD_FENCE, 1);
    push(0, MTIA_CMD_NOP, 1);
    irq();
    assert_int_equal(fwq_events(), 2);
    assert_event(0, FWQ_COMPLETE, 0, MTIA_CMD_FENCE);
    assert_stats(0, 2, 0, 2, 0, 0, 0);
}

/* A FENCE behind engine work is completed at once (the device posts it
 * behind that work) and parks its queue; other queues keep flowing; with
 * only the parked queue pending the firmware masks MEIE and polls from the
 * timer; the poll tick re-checks Q_INFLIGHT and the queue runs again. */
static void fence_parks_and_wait_mode_releases(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_NORMAL);
    fwq_enable(1, MTIA_PRIO_NORMAL);
    push(0, MTIA_CMD_COPY, 1);
    push(0, MTIA_CMD_FENCE, 1);
    push(0, MTIA_CMD_NOP, 1);
    push(1, MTIA_CMD_NOP, 3);
    irq();
    assert_int_equal(fwq_waiting(0), 1); /* the NOP behind the FENCE */
    assert_int_equal(fwq_waiting(1), 0);
    assert_int_equal(fwq_events(), 5);
    assert_stats(0, 2, 1, 1, 0, 1, 1); /* parked */
    assert_stats(1, 3, 0, 3, 0, 0, 0);
    /* wait mode: MEIE off, the poll one FENCE_POLL_US from now */
    assert_int_equal(fw_mock_csr(FW_CSR_mie) & MIE_MEIE_BIT, 0);
    assert_int_equal(fw_mock_mtimecmp(), fw_mock_mtime() + 10);

    fwq_engine_done(0, 1);
    fw_mock_set_mtime(fw_mock_mtimecmp());
    timer_irq(); /* the poll tick: MEIE back on */
    assert_int_not_equal(fw_mock_csr(FW_CSR_mie) & MIE_MEIE_BIT, 0);
    assert_true(fw_mock_mtimecmp() > fw_mock_mtime()); /* back to the heartbeat */
    irq();
    assert_int_equal(fwq_waiting(0), 0);
    assert_event(5, FWQ_COMPLETE, 0, MTIA_CMD_NOP);
    assert_stats(0, 3, 1, 2, 0, 1, 0);
}

/* The poll tick also releases a queue whose engine work drained without an
 * event the firmware saw (it asks Q_INFLIGHT), or that the host disabled. */
static void poll_tick_asks_q_inflight(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_NORMAL);
    push(0, MTIA_CMD_COPY, 1);
    push(0, MTIA_CMD_FENCE, 1);
    push(0, MTIA_CMD_NOP, 1);
    irq();
    assert_stats(0, 2, 1, 1, 0, 1, 1);
    fwq_engine_done(0, 1);
    fw_mock_set_reg(MTIA_CC_REG_ENGINE_EVENT, 0); /* event lost */
    fw_mock_set_mtime(fw_mock_mtimecmp());
    timer_irq();
    irq();
    assert_stats(0, 3, 1, 2, 0, 1, 0);
}

/* The last command a FENCE behind work: no wait mode (nothing pending), the
 * engine event releases the queue. */
static void fence_released_by_the_engine_event(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_NORMAL);
    push(0, MTIA_CMD_COPY, 1);
    push(0, MTIA_CMD_FENCE, 1);
    irq();
    assert_stats(0, 2, 1, 1, 0, 1, 1);
    assert_int_not_equal(fw_mock_csr(FW_CSR_mie) & MIE_MEIE_BIT, 0);
    fwq_engine_done(0, 1);
    irq();
    assert_stats(0, 2, 1, 1, 0, 1, 0);
    assert_int_equal(fw_mock_reg(MTIA_CC_REG_ENGINE_EVENT), 0); /* acknowledged */
}

/* An engine event from before the FENCE does not release it. */
static void stale_engine_event_does_not_release(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_NORMAL);
    fw_mock_set_reg(MTIA_CC_REG_ENGINE_EVENT, 1);
    push(0, MTIA_CMD_COPY, 1);
    push(0, MTIA_CMD_FENCE, 1);
    push(0, MTIA_CMD_NOP, 1);
    irq();
    assert_int_equal(fwq_waiting(0), 1);
    assert_stats(0, 2, 1, 1, 0, 1, 1);
}

static void strict_priority(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_LOW);
    fwq_enable(1, MTIA_PRIO_HIGH);
    fwq_enable(2, MTIA_PRIO_NORMAL);
    push(0, MTIA_CMD_NOP, 3);
    push(1, MTIA_CMD_NOP, 3);
    push(2, MTIA_CMD_NOP, 3);
    irq();
    assert_string_equal(order(), "111222000");
}

/* Equal priority: round-robin, at most 16 commands from a queue at a time. */
static void round_robin_batches_of_16(void **state)
{
    const char *o;
    size_t run = 0;

    (void)state;
    fwq_enable(4, MTIA_PRIO_NORMAL);
    fwq_enable(6, MTIA_PRIO_NORMAL);
    push(4, MTIA_CMD_NOP, 40);
    push(6, MTIA_CMD_NOP, 40);
    irq();
    o = order();
    assert_int_equal(strlen(o), 80);
    assert_memory_equal(o,
                        "4444444444444444"
                        "6666666666666666"
                        "4444444444444444",
                        48);
    for (size_t i = 1; o[i]; i++) {
        run = o[i] == o[i - 1] ? run + 1 : 0;
        assert_true(run < 16);
    }
}

static void push_high_at_event_4(size_t i)
{
    if (i == 4) push(1, MTIA_CMD_NOP, 1);
}

/* A higher-priority queue that becomes pending preempts a batch after the
 * current command. */
static void higher_priority_preempts_a_batch(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_NORMAL);
    fwq_enable(1, MTIA_PRIO_HIGH);
    push(0, MTIA_CMD_NOP, 12);
    fwq_on_event(push_high_at_event_4);
    irq();
    assert_string_equal(order(), "0000010000000");
}

/* A queue that went idle may have been reconfigured: its priority is read
 * again when it becomes pending. */
static void priority_reread_when_a_queue_comes_back(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_LOW);
    fwq_enable(1, MTIA_PRIO_NORMAL);
    push(0, MTIA_CMD_NOP, 2);
    push(1, MTIA_CMD_NOP, 2);
    irq();
    assert_string_equal(order(), "1100");
    fwq_clear_events();
    fwq_set_prio(0, MTIA_PRIO_HIGH);
    push(0, MTIA_CMD_NOP, 2);
    push(1, MTIA_CMD_NOP, 2);
    irq();
    assert_string_equal(order(), "0011");
}

static void fetch_dma_error_stops_only_that_queue(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_NORMAL);
    fwq_enable(1, MTIA_PRIO_NORMAL);
    push(0, MTIA_CMD_NOP, 3);
    push(1, MTIA_CMD_NOP, 3);
    fwq_fail_next_fetch(0);
    irq();
    assert_string_equal(order(), "111");
    assert_stats(0, 0, 0, 0, 1, 0, 0);
    assert_stats(1, 3, 0, 3, 0, 0, 0);
    assert_log_has("error: queue 0: command fetch failed (status 4)\n");
}

static uint32_t forced_pending;

static uint32_t pending_read(uint32_t off, void *ctx)
{
    (void)off, (void)ctx;
    return fw_mock_reg(MTIA_CC_REG_Q_PENDING) | forced_pending;
}

/* A queue whose fetch failed is skipped while it stays pending (no fetch
 * retried back to back), and served again once its pending bit dropped. */
static void failed_queue_skipped_until_pending_drops(void **state)
{
    (void)state;
    fwq_enable(2, MTIA_PRIO_NORMAL);
    push(2, MTIA_CMD_NOP, 1);
    fwq_fail_next_fetch(2);
    forced_pending = 1u << 2; /* a device that keeps it pending */
    fw_mock_on_read(MTIA_CC_REG_Q_PENDING, pending_read, NULL);
    irq();
    irq();
    assert_int_equal(fw_mock_write_count(MTIA_CC_REG_Q_FETCH), 1);
    assert_stats(2, 0, 0, 0, 1, 0, 2); /* failed */
    forced_pending = 0;
    irq();
    assert_stats(2, 0, 0, 0, 1, 0, 0);
    fwq_enable(2, MTIA_PRIO_NORMAL); /* the host re-enables it: the NOP runs */
    irq();
    assert_stats(2, 1, 0, 1, 1, 0, 0);
}

static uint32_t scripted_pending(uint32_t off, void *ctx)
{
    (void)off, (void)ctx;
    return mock_type(uint32_t);
}

/* Q_PENDING said queue 5, but the host disabled it before the fetch: the
 * fetch is ABORTED, which is no error. */
static void aborted_fetch_is_not_an_error(void **state)
{
    (void)state;
    fw_mock_on_read(MTIA_CC_REG_Q_PENDING, scripted_pending, NULL);
    will_return(scripted_pending, 1u << 5);
    will_return_always(scripted_pending, 0);
    irq();
    assert_int_equal(fw_mock_write_count(MTIA_CC_REG_Q_FETCH), 1);
    assert_int_equal(fwq_events(), 0);
    assert_stats(5, 0, 0, 0, 0, 0, 0);
    assert_false(fw_test_log_has("error"));
}

static size_t post_at, beat_at;

static void on_post(uint32_t off, uint32_t val, void *ctx)
{
    (void)off, (void)ctx;
    assert_int_equal(val, 1);
    post_at = fwq_events();
}

static void on_beat(uint32_t off, uint32_t val, void *ctx)
{
    (void)off, (void)ctx;
    assert_int_equal(val, 1);
    beat_at = fwq_events();
}

static void mid_burst(size_t i)
{
    if (i == 100) { /* the host posts a PING */
        fw_mock_set_reg(MTIA_REG_MBOX_CMD, mtia_mbox_word0(MTIA_ADMIN_PING, 5));
        fw_mock_set_reg(MTIA_REG_MBOX_DOORBELL, 1);
    }
    if (i == 200) /* a heartbeat is due */
        fw_mock_set_mtime(fw_mock_mtimecmp());
}

/* 1000 commands in one interrupt: the mailbox and the heartbeat still get a
 * look-in every Q_PASS_BUDGET (64) commands. */
static void mailbox_and_heartbeat_served_during_a_burst(void **state)
{
    (void)state;
    fw_mock_set_time_step(0); /* mtime moves only when mid_burst says */
    fwq_enable(0, MTIA_PRIO_NORMAL);
    push(0, MTIA_CMD_NOP, 1000);
    fw_mock_on_write(MTIA_CC_REG_MBOX_POST, on_post, NULL);
    fw_mock_on_write(MTIA_REG_FW_HEARTBEAT, on_beat, NULL);
    post_at = beat_at = 0;
    fwq_on_event(mid_burst);
    irq();
    assert_int_equal(fwq_events(), 1000);
    assert_in_range(post_at, 101, 101 + 64);
    assert_in_range(beat_at, 201, 201 + 64);
    assert_int_equal(fw_test_mbox_resp().seq, 5);
}

static uint64_t clock_now;

static uint32_t time_with_late_command(void *ctx)
{
    (void)ctx;
    if (++clock_now == 5) push(0, MTIA_CMD_NOP, 1);
    return (uint32_t)clock_now;
}

/* After commands the handler watches mip for Q_POLL_US (20 us of the time
 * CSR) and serves what arrives; after mailbox-only work it does not poll. */
static void polls_briefly_after_a_burst_only(void **state)
{
    (void)state;
    fwq_enable(0, MTIA_PRIO_NORMAL);
    fw_mock_set_reg(MTIA_REG_MBOX_CMD, mtia_mbox_word0(MTIA_ADMIN_PING, 1));
    fw_mock_set_reg(MTIA_REG_MBOX_DOORBELL, 1);
    irq();
    assert_int_equal(fw_mock_csr_read_count(FW_CSR_time), 0);

    push(0, MTIA_CMD_NOP, 1);
    clock_now = 0;
    fw_mock_on_csr_read(FW_CSR_time, time_with_late_command, NULL);
    irq();
    assert_int_equal(fwq_events(), 2); /* the late one too, same interrupt */
    assert_in_range(clock_now, 5 + 20, 5 + 22);
}

static void qstats_counters(void **state)
{
    struct mtia_cmd bad = cmd(6, 1);
    uint32_t st[6];

    (void)state;
    fwq_enable(7, MTIA_PRIO_HIGH);
    push(7, MTIA_CMD_NOP, 1);
    fwq_push(7, &bad);
    push(7, MTIA_CMD_COPY, 1);
    push(7, MTIA_CMD_FENCE, 1);
    irq();
    assert_stats(7, 4, 1, 3, 1, 1, 1);
    for (unsigned q = 0; q < 7; q++) assert_stats(q, 0, 0, 0, 0, 0, 0);
    memset(st, 0xee, sizeof(st));
    assert_int_equal(queue_stats(MTIA_NUM_QUEUES, st), 0);
    assert_int_equal(queue_stats(0xffffffffu, st), 0);
    assert_int_equal(st[0], 0xeeeeeeeeu); /* untouched */
}

/* MEIP high for no work of ours (an engine event with no FENCE parked):
 * acknowledged, and the handler returns. */
static void unexplained_line_is_acknowledged(void **state)
{
    (void)state;
    fw_mock_set_reg(MTIA_CC_REG_ENGINE_EVENT, 0x81);
    irq();
    assert_int_equal(fw_mock_reg(MTIA_CC_REG_ENGINE_EVENT), 0);
    assert_int_equal(fw_mock_write_count(MTIA_CC_REG_Q_FETCH), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(nop_completed_by_firmware, setup),
    cmocka_unit_test_setup(engine_commands_dispatched_in_order, setup),
    cmocka_unit_test_setup(fence_with_nothing_in_flight_completes, setup),
    cmocka_unit_test_setup(fence_parks_and_wait_mode_releases, setup),
    cmocka_unit_test_setup(poll_tick_asks_q_inflight, setup),
    cmocka_unit_test_setup(fence_released_by_the_engine_event, setup),
    cmocka_unit_test_setup(stale_engine_event_does_not_release, setup),
    cmocka_unit_test_setup(strict_priority, setup),
    cmocka_unit_test_setup(round_robin_batches_of_16, setup),
    cmocka_unit_test_setup(higher_priority_preempts_a_batch, setup),
    cmocka_unit_test_setup(priority_reread_when_a_queue_comes_back, setup),
    cmocka_unit_test_setup(fetch_dma_error_stops_only_that_queue, setup),
    cmocka_unit_test_setup(failed_queue_skipped_until_pending_drops, setup),
    cmocka_unit_test_setup(aborted_fetch_is_not_an_error, setup),
    cmocka_unit_test_setup(mailbox_and_heartbeat_served_during_a_burst, setup),
    cmocka_unit_test_setup(polls_briefly_after_a_burst_only, setup),
    cmocka_unit_test_setup(qstats_counters, setup),
    cmocka_unit_test_setup(unexplained_line_is_acknowledged, setup),
};

FW_TEST_MAIN("fw_dispatch", tests)
