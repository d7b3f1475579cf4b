// SPDX-License-Identifier: MIT
/* The device's queue registers for the firmware's host build: see fw_queue_model.h. */
#include "fw_queue_model.h"

#include <string.h>

#include "fw_mock.h"

struct mq {
    struct mtia_cmd sq[FWQ_DEPTH];
    unsigned head, tail; /* free-running; tail - head are waiting */
    int enabled, stopped, fail_next;
    unsigned prio, inflight, fetches, fetch_errors;
};

static struct mq qs[MTIA_NUM_QUEUES];
static struct fwq_event events[FWQ_MAX_EVENTS];
static size_t nevents;
static int latched = -1; /* queue whose command CC_SQE holds, not yet handed on */
static void (*event_fn)(size_t i);

static void update_pending(void)
{
    uint32_t p = 0;

    for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++)
        if (qs[q].enabled && !qs[q].stopped && qs[q].head != qs[q].tail) p |= 1u << q;
    fw_mock_set_reg(MTIA_CC_REG_Q_PENDING, p);
}

static void engine_event(unsigned q)
{
    fw_mock_set_reg(MTIA_CC_REG_ENGINE_EVENT, fw_mock_reg(MTIA_CC_REG_ENGINE_EVENT) | 1u << q);
}

static void on_fetch(uint32_t off, uint32_t q, void *ctx)
{
    struct mq *m;
    uint32_t w[sizeof(struct mtia_cmd) / 4];

    (void)off, (void)ctx;
    if (q >= MTIA_NUM_QUEUES) fw_mock_fail("Q_FETCH of queue %u", q);
    m = &qs[q];
    latched = -1;
    if (!m->enabled || m->stopped || m->head == m->tail) {
        fw_mock_set_reg(MTIA_CC_REG_Q_FETCH_STATUS, MTIA_CQE_ABORTED);
        return;
    }
    if (m->fail_next) {
        m->fail_next = 0;
        m->stopped = 1;
        m->fetch_errors++;
        if (m->inflight) {
            m->inflight = 0;
            engine_event(q);
        }
        fw_mock_set_reg(MTIA_CC_REG_Q_FETCH_STATUS, MTIA_CQE_DMA_ERROR);
        update_pending();
        return;
    }
    memcpy(w, &m->sq[m->head++ % FWQ_DEPTH], sizeof(w));
    for (unsigned i = 0; i < sizeof(w) / 4; i++) fw_mock_set_reg(MTIA_CC_REG_SQE_WORD(i), w[i]);
    fw_mock_set_reg(MTIA_CC_REG_Q_FETCH_STATUS, MTIA_CQE_OK);
    m->fetches++;
    latched = (int)q;
    update_pending();
}

static void record(enum fwq_kind kind, unsigned q, uint32_t status)
{
    struct fwq_event *e;

    if (latched != (int)q)
        fw_mock_fail("%s of queue %u without a fetched command of it",
                     kind == FWQ_DISPATCH ? "Q_DISPATCH" : "Q_COMPLETE", q);
    latched = -1;
    if (nevents == FWQ_MAX_EVENTS) fw_mock_fail("more than %u queue events", FWQ_MAX_EVENTS);
    e = &events[nevents++];
    e->kind = kind;
    e->q = q;
    e->status = status;
    for (unsigned i = 0; i < sizeof(e->cmd) / 4; i++) {
        uint32_t w = fw_mock_reg(MTIA_CC_REG_SQE_WORD(i));

        memcpy((uint8_t *)&e->cmd + 4 * i, &w, 4);
    }
}

/* After the device has acted on the event. */
static void notify(void)
{
    if (event_fn) event_fn(nevents - 1);
}

static void on_dispatch(uint32_t off, uint32_t q, void *ctx)
{
    (void)off, (void)ctx;
    record(FWQ_DISPATCH, q, 0);
    qs[q].inflight++;
    notify();
}

static void on_complete(uint32_t off, uint32_t val, void *ctx)
{
    (void)off, (void)ctx;
    if (val & ~(MTIA_CC_Q_COMPLETE_QUEUE_MASK | MTIA_CC_Q_COMPLETE_STATUS_MASK))
        fw_mock_fail("Q_COMPLETE 0x%x sets undefined bits", val);
    record(FWQ_COMPLETE, mtia_cc_q_complete_queue(val), mtia_cc_q_complete_status(val));
    notify();
}

static unsigned selected(void) { return fw_mock_reg(MTIA_CC_REG_Q_SELECT) % MTIA_NUM_QUEUES; }

static uint32_t on_prio(uint32_t off, void *ctx)
{
    (void)off, (void)ctx;
    return qs[selected()].prio;
}

static uint32_t on_inflight(uint32_t off, void *ctx)
{
    (void)off, (void)ctx;
    return qs[selected()].inflight;
}

static uint32_t on_status(uint32_t off, void *ctx)
{
    const struct mq *m = ctx;

    (void)off;
    return (m->enabled ? MTIA_Q_STATUS_ENABLED : 0) | (m->stopped ? MTIA_Q_STATUS_ERROR : 0) |
           MTIA_FIELD_PREP(MTIA_Q_STATUS_SQ_HEAD_MASK, m->head % FWQ_DEPTH);
}

void fwq_install(void)
{
    for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++) {
        struct mq *m = &qs[q];

        m->head = m->tail = 0;
        m->enabled = m->stopped = m->fail_next = 0;
        m->prio = m->inflight = m->fetches = m->fetch_errors = 0;
        fw_mock_on_read(MTIA_REG_Q(q, MTIA_Q_STATUS), on_status, m);
    }
    nevents = 0;
    latched = -1;
    event_fn = NULL;
    fw_mock_on_write(MTIA_CC_REG_Q_FETCH, on_fetch, NULL);
    fw_mock_on_write(MTIA_CC_REG_Q_DISPATCH, on_dispatch, NULL);
    fw_mock_on_write(MTIA_CC_REG_Q_COMPLETE, on_complete, NULL);
    fw_mock_on_read(MTIA_CC_REG_Q_PRIO, on_prio, NULL);
    fw_mock_on_read(MTIA_CC_REG_Q_INFLIGHT, on_inflight, NULL);
    update_pending();
}

void fwq_enable(unsigned q, unsigned prio)
{
    qs[q].enabled = 1;
    qs[q].stopped = 0;
    qs[q].prio = prio;
    update_pending();
}

void fwq_disable(unsigned q)
{
    qs[q].enabled = 0;
    qs[q].head = qs[q].tail; /* the host discards what was not fetched */
    if (qs[q].inflight) {
        qs[q].inflight = 0;
        engine_event(q);
    }
    update_pending();
}

void fwq_set_prio(unsigned q, unsigned prio) { qs[q].prio = prio; }

void fwq_push(unsigned q, const struct mtia_cmd *c)
{
    struct mq *m = &qs[q];

    if (m->tail - m->head == FWQ_DEPTH) fw_mock_fail("SQ of queue %u full", q);
    m->sq[m->tail++ % FWQ_DEPTH] = *c;
    update_pending();
}

void fwq_fail_next_fetch(unsigned q) { qs[q].fail_next = 1; }

void fwq_engine_done(unsigned q, unsigned n)
{
    struct mq *m = &qs[q];

    if (n > m->inflight) fw_mock_fail("queue %u: %u engine commands done, %u in flight", q, n, m->inflight);
    m->inflight -= n;
    if (n && !m->inflight) engine_event(q);
}

unsigned fwq_waiting(unsigned q) { return qs[q].tail - qs[q].head; }

unsigned fwq_inflight(unsigned q) { return qs[q].inflight; }

unsigned fwq_fetches(unsigned q) { return qs[q].fetches; }

unsigned fwq_fetch_errors(unsigned q) { return qs[q].fetch_errors; }

int fwq_stopped(unsigned q) { return qs[q].stopped; }

size_t fwq_events(void) { return nevents; }

const struct fwq_event *fwq_event_at(size_t i) { return i < nevents ? &events[i] : NULL; }

size_t fwq_events_of(unsigned q, const struct fwq_event **out, size_t max)
{
    size_t n = 0;

    for (size_t i = 0; i < nevents; i++) {
        if (events[i].q != q) continue;
        if (n < max) out[n] = &events[i];
        n++;
    }
    return n;
}

void fwq_clear_events(void) { nevents = 0; }

void fwq_on_event(void (*fn)(size_t i)) { event_fn = fn; }
