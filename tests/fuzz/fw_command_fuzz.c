// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: random queue commands into the firmware's dispatcher
 * (firmware/dispatch.c: arbitration, the command checks, FENCE parking,
 * wait mode), the firmware built for the host over tests/firmware/fw_mock
 * and the queue model (fw_queue_model.h).
 *
 * Input: 8 bytes, one per queue (bit 0 enabled, bits 1-2 Q_PRIO; bit 7
 * of the first: log level debug, so the dispatcher's debug lines run), then
 * records of 66 bytes: control, extra, the 64-byte struct mtia_cmd pushed
 * on queue control & 7. Control bit 3: only push (the core does not run);
 * bits 4-5: that many of the queue's engine commands finish first; bits
 * 6-7 = 3: the queue's next fetch fails (ring DMA error), = 2: the host
 * disables and re-enables the queue first (its unfetched commands are
 * dropped). Extra: bit 2 sets the queue's priority to bits 0-1; bits 3-7
 * advance mtime by that many 10 us. Then everything drains: engine work
 * finishes and the core runs (interrupts as mip & mie say, WFI until the
 * timer otherwise).
 *
 * Checked: every fetched command gets exactly one Q_DISPATCH or
 * Q_COMPLETE, in each queue's order, for the command pushed; its verdict
 * is mtia_cmd_check() on the whole command (the firmware reads only some
 * SQE words); only COPY/FILL/TIMESTAMP/COMPUTE are dispatched and only
 * NOP/FENCE completed OK by the firmware; GET_QSTATS's counters add up;
 * after the drain no queue that can run still holds commands or stays
 * parked. Protocol errors (a dispatch/complete without its fetch, a queue
 * number out of range, an unmocked register) abort.
 *
 * Built by tests/fuzz/fuzzers.cmake into build/fuzz; run with
 *   tests/fuzz/run-fuzz.sh --seconds S fw_command
 */
#include <string.h>

#include "fw_host.h"
#include "fw_queue_model.h"
#include "mtia/mtia_cmd_rules.h"

#define REC (2 + sizeof(struct mtia_cmd))
#define MTIP (1u << 7)
#define MEIP (1u << 11)
#define DRAIN_STEPS 1000
#define MAX_PUSH 4096 /* per queue and input */

/* What the host pushed on each queue, and the next one an event must name. */
static struct mtia_cmd pushed[MTIA_NUM_QUEUES][MAX_PUSH];
static unsigned npushed[MTIA_NUM_QUEUES], next_event[MTIA_NUM_QUEUES];
static unsigned rejected[MTIA_NUM_QUEUES];

static int is_engine_op(uint8_t op)
{
    return op == MTIA_CMD_COPY || op == MTIA_CMD_FILL || op == MTIA_CMD_TIMESTAMP || op == MTIA_CMD_COMPUTE;
}

static void on_event(size_t i)
{
    const struct fwq_event *e = fwq_event_at(i);
    unsigned q = e->q;
    uint32_t want = mtia_cmd_check(&e->cmd);

    FW_MOCK_CHECK(next_event[q] < npushed[q]);
    FW_MOCK_CHECK(memcmp(&e->cmd, &pushed[q][next_event[q]], sizeof(e->cmd)) == 0);
    next_event[q]++;
    if (e->kind == FWQ_DISPATCH) {
        FW_MOCK_CHECK(want == MTIA_CQE_OK);
        FW_MOCK_CHECK(is_engine_op(e->cmd.opcode));
    } else {
        FW_MOCK_CHECK(e->status == want);
        FW_MOCK_CHECK(want != MTIA_CQE_OK || !is_engine_op(e->cmd.opcode));
        rejected[q] += want != MTIA_CQE_OK;
    }
}

/* One step of the core: take an enabled pending interrupt, else wait for
 * the timer (WFI). */
static void core_step(void)
{
    uint32_t pending = fw_mock_csr_read(FW_CSR_mip) & fw_mock_csr(FW_CSR_mie);
    enum fw_mock_stop stop = FW_MOCK_RETURNED;

    if (pending & MEIP)
        FW_MOCK_RUN(stop, fw_trap(MCAUSE_IRQ | IRQ_M_EXT, 0, 0));
    else if (pending & MTIP)
        FW_MOCK_RUN(stop, fw_trap(MCAUSE_IRQ | IRQ_M_TIMER, 0, 0));
    else
        fw_mock_set_mtime(fw_mock_mtimecmp());
    FW_MOCK_CHECK(stop == FW_MOCK_RETURNED);
}

static int busy(void)
{
    for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++) {
        uint32_t st[6];

        FW_MOCK_CHECK(queue_stats(q, st));
        if (st[5] & 1) /* parked */
            return 1;
        if (fwq_waiting(q) && !fwq_stopped(q) && (fw_mock_reg(MTIA_CC_REG_Q_PENDING) >> q & 1)) return 1;
    }
    return fw_mock_reg(MTIA_CC_REG_ENGINE_EVENT) != 0;
}

static void check_counters(void)
{
    for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++) {
        uint32_t st[6];

        FW_MOCK_CHECK(queue_stats(q, st));
        FW_MOCK_CHECK(st[0] == fwq_fetches(q));
        FW_MOCK_CHECK(st[1] + st[2] == st[0]);
        FW_MOCK_CHECK(st[3] == rejected[q] + fwq_fetch_errors(q));
        FW_MOCK_CHECK(st[4] <= st[2]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    if (size < MTIA_NUM_QUEUES) return -1;
    fw_host_power_on(FW_HOST_DEVMEM_SIZE);
    FW_MOCK_CHECK(fw_host_boot(0) == FW_MOCK_WFI);
    fwq_install();
    fwq_on_event(on_event);
    fw_mock_set_time_step(1);
    memset(npushed, 0, sizeof(npushed));
    memset(next_event, 0, sizeof(next_event));
    memset(rejected, 0, sizeof(rejected));
    for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++)
        if (in[q] & 1) fwq_enable(q, (in[q] >> 1) & 3);
    fw_log_level = in[0] & 0x80 ? LOG_DEBUG : LOG_INFO; /* the debug lines' formats too */

    for (size_t off = MTIA_NUM_QUEUES; off + REC <= size; off += REC) {
        const uint8_t control = in[off], extra = in[off + 1];
        const unsigned q = control & 7;
        struct mtia_cmd c;

        memcpy(&c, in + off + 2, sizeof(c));
        if ((control >> 6) == 3) {
            fwq_fail_next_fetch(q);
        } else if ((control >> 6) == 2) {
            fwq_disable(q);
            next_event[q] = npushed[q]; /* unfetched commands dropped */
            fwq_enable(q, extra & 3);
        }
        if (extra & 4) fwq_set_prio(q, extra & 3);
        fw_mock_set_mtime(fw_mock_mtime() + (uint64_t)(extra >> 3) * 10);
        fwq_engine_done(q, ((control >> 4) & 3) < fwq_inflight(q) ? (control >> 4) & 3 : fwq_inflight(q));
        if (npushed[q] == MAX_PUSH || fwq_waiting(q) == FWQ_DEPTH) continue;
        pushed[q][npushed[q]++] = c;
        fwq_push(q, &c);
        if (!(control & 8)) core_step();
    }

    for (unsigned step = 0; step < DRAIN_STEPS; step++) {
        for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++) fwq_engine_done(q, fwq_inflight(q));
        if (!busy() && !(fw_mock_csr_read(FW_CSR_mip) & MEIP)) break;
        core_step();
    }
    FW_MOCK_CHECK(!busy()); /* nothing left behind: every runnable queue drained */
    check_counters();
    return 0;
}
