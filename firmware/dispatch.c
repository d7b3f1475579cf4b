// SPDX-License-Identifier: MIT
/*
 * Command dispatcher: the external-interrupt handler. It serves the admin
 * mailbox, then moves commands from the hardware queues' SQs to the data
 * engines (MTIA_CC_REG_Q_*, see include/mtia/mtia_spec.h and
 * docs/firmware.md "Command dispatcher").
 *
 *  - Arbitration: strict priority (Q_PRIO of the queue, higher first),
 *    round-robin among queues of equal priority, at most Q_BATCH commands
 *    from one queue before the others get a look-in; a higher-priority queue
 *    that becomes pending preempts a batch after the current command.
 *  - Per command: Q_FETCH, Q_FETCH_STATUS, check the SQE in CC_SQE with
 *    mtia_cmd_check() (include/mtia/mtia_cmd_rules.h, the rules the device
 *    and the driver apply too), reading only the words it needs, then
 *    Q_COMPLETE (NOP, FENCE, invalid commands) or Q_DISPATCH (COPY, FILL,
 *    TIMESTAMP to the data engine, COMPUTE to the PE grid: the queue's
 *    engine hands it on; the device serialises programs on the grid).
 *  - FENCE: the device keeps one fetched SQE (CC_SQE), so a FENCE cannot be
 *    held back while other queues are fetched. It is completed at once; the
 *    device posts a firmware completion behind the queue's engine work still
 *    in flight, so its CQE appears after every earlier command's. If work was
 *    in flight the queue is parked (nothing more fetched from it) until its
 *    ENGINE_EVENT bit says Q_INFLIGHT fell to 0; other queues keep flowing.
 *  - After a burst the handler spin-polls mip.MEIP (a CSR: no register
 *    access) for Q_POLL_US of mtime before it returns to WFI.
 */
#include "fw.h"
#include "mtia/mtia_cmd_rules.h"

#ifndef MTIA_CC_REG_ENGINE_EVENT
#define MTIA_CC_REG_ENGINE_EVENT 0x440 /* RW1C bit q: queue q's Q_INFLIGHT fell to 0 */
#endif

#define Q_BATCH        16   /* commands from one queue before re-arbitrating */
#define Q_PASS_BUDGET  64   /* commands per pass before mailbox/timer get a look */
#define Q_POLL_US      20   /* spin-poll after a burst, in mtime ticks (us) */
#define Q_POLL_MAX     4096 /* poll iterations, in case mtime stands still */
#define FENCE_POLL_US  10   /* wait-mode poll period (see fence_wait_mode) */
#define NPRIO          4    /* Q_PRIO is 2 bits; 0..2 are defined */
#define ALL_QUEUES     ((1u << MTIA_NUM_QUEUES) - 1)

#define MIP_MTIP       (1u << 7)
#define MIP_MEIP       (1u << 11)

_Static_assert(MTIA_NUM_QUEUES <= 16, "queue masks and counters");

enum { CMD_DONE, CMD_PARKED, CMD_FETCH_FAILED };

struct queue {
    uint32_t fetched, dispatched, completed, errors, fence_waits;
    uint8_t prio;
};

static struct queue queues[MTIA_NUM_QUEUES];
static uint32_t seen_pending;   /* Q_PENDING as last read */
static uint32_t prio_fresh;     /* queues whose cached priority is current */
static uint32_t prio_mask[NPRIO];
static uint8_t rr_next[NPRIO];  /* round-robin cursor per priority */
static uint32_t parked;         /* queues waiting for their engine work (FENCE) */
static uint32_t failed;         /* fetch failed: skipped until their pending bit drops */
static int fence_force;         /* wait-mode tick: re-check parked queues by Q_INFLIGHT */

static inline uint32_t sqe(unsigned word)
{
    return reg_read(MTIA_CC_REG_SQE_WORD(word));
}

/* Q_PENDING, remembering which queues just became pending: a queue that was
 * idle (or disabled) may have been reconfigured, so its priority is re-read
 * the next time arbitration needs it. */
static uint32_t read_pending(void)
{
    uint32_t p = reg_read(MTIA_CC_REG_Q_PENDING) & ALL_QUEUES;

    prio_fresh &= ~(p & ~seen_pending);
    failed &= p;
    seen_pending = p;
    return p & ~(parked | failed);
}

static void refresh_prio(uint32_t mask)
{
    mask &= ~prio_fresh;
    for (unsigned q = 0; mask; q++) {
        uint32_t bit = 1u << q, p;

        if (!(mask & bit))
            continue;
        mask &= ~bit;
        reg_write(MTIA_CC_REG_Q_SELECT, q);
        p = reg_read(MTIA_CC_REG_Q_PRIO) & (NPRIO - 1);
        for (unsigned l = 0; l < NPRIO; l++)
            prio_mask[l] &= ~bit;
        prio_mask[p] |= bit;
        queues[q].prio = (uint8_t)p;
        prio_fresh |= bit;
    }
}

static uint32_t higher_than(unsigned level)
{
    uint32_t m = 0;

    for (unsigned l = level + 1; l < NPRIO; l++)
        m |= prio_mask[l];
    return m;
}

/* The queue to serve next; pend != 0 (parked/failed queues already out). */
static unsigned pick(uint32_t pend)
{
    unsigned level = NPRIO - 1, start, q;
    uint32_t m;

    if (!(pend & (pend - 1))) {  /* one queue: priority does not matter */
        for (q = 0; !(pend & (1u << q)); q++)
            ;
        return q;
    }
    refresh_prio(pend);
    while (!(m = pend & prio_mask[level]))
        level--;
    start = rr_next[level];
    for (unsigned i = 0;; i++) {
        q = (start + i) % MTIA_NUM_QUEUES;
        if (m & (1u << q))
            break;
    }
    rr_next[level] = (uint8_t)((q + 1) % MTIA_NUM_QUEUES);
    return q;
}

static void complete(unsigned q, uint32_t status)
{
    reg_write(MTIA_CC_REG_Q_COMPLETE, mtia_cc_q_complete(q, status));
    queues[q].completed++;
    if (status != MTIA_CQE_OK)
        queues[q].errors++;
}

static inline uint64_t sqe64(unsigned word)
{
    return sqe(word) | (uint64_t)sqe(word + 1) << 32;
}

/*
 * MTIA_CQE_OK or why the command in CC_SQE is invalid: mtia_cmd_check()
 * (the rules the device and the driver apply too) on a copy of the SQE
 * that holds only the words mtia_cmd_words() says the check reads for this
 * opcode, so a NOP costs three CC_SQE reads. Operands: only the tag, in
 * the address's high word. Field by field, not a word loop, so the copy
 * stays in registers (DispatchTest.InstructionsPerNop).
 */
static uint32_t validate(uint32_t w0)
{
    const struct mtia_cmd_rule *r = mtia_cmd_rule(MTIA_FIELD_GET(MTIA_CMD_W0_OPCODE_MASK, w0));
    struct mtia_cmd c = {
        .opcode = (uint8_t)MTIA_FIELD_GET(MTIA_CMD_W0_OPCODE_MASK, w0),
        .flags = (uint8_t)MTIA_FIELD_GET(MTIA_CMD_W0_FLAGS_MASK, w0),
    };
    uint32_t words;

    if (!r)
        return MTIA_CQE_BAD_OPCODE;
    c.reserved = sqe64(MTIA_CMD_W_RESERVED);
    if (r->uses) {  /* not NOP, FENCE */
        words = mtia_cmd_words(r);
        if (words & 1u << MTIA_CMD_W_LEN)
            c.len = sqe64(MTIA_CMD_W_LEN);
        if (words & 1u << MTIA_CMD_W_VALUE)
            c.value = sqe64(MTIA_CMD_W_VALUE);
        if (words & 2u << MTIA_CMD_W_SRC_ADDR)
            c.src.addr = (uint64_t)sqe(MTIA_CMD_W_SRC_ADDR + 1) << 32;
        if (words & 2u << MTIA_CMD_W_DST_ADDR)
            c.dst.addr = (uint64_t)sqe(MTIA_CMD_W_DST_ADDR + 1) << 32;
    }
    return mtia_cmd_check_rule(r, &c);
}

static const char *status_name(uint32_t st)
{
    switch (st) {
    case MTIA_CQE_BAD_OPCODE: return "bad opcode";
    case MTIA_CQE_BAD_FIELD: return "bad field";
    case MTIA_CQE_BAD_ADDRESS: return "bad address";
    default: return "error";
    }
}

/* Fetch, check and hand on one command of queue q. */
static int one_command(unsigned q)
{
    struct queue *qs = &queues[q];
    uint32_t st, w0, op, cid, inflight;

    reg_write(MTIA_CC_REG_Q_FETCH, q);
    st = reg_read(MTIA_CC_REG_Q_FETCH_STATUS);
    if (st != MTIA_CQE_OK) {
        if (st == MTIA_CQE_ABORTED) {
            /* the host disabled the queue since Q_PENDING was read */
            if (fw_log_level >= LOG_DEBUG)
                log_debug("queue %u: fetch aborted (queue disabled)", q);
            return CMD_FETCH_FAILED;
        }
        /* ring DMA error: the device stopped the queue (Q_STATUS_ERROR) */
        qs->errors++;
        failed |= 1u << q;
        log_err("queue %u: command fetch failed (status %u)", q, st);
        return CMD_FETCH_FAILED;
    }
    qs->fetched++;
    w0 = sqe(MTIA_CMD_W_HEAD);
    op = MTIA_FIELD_GET(MTIA_CMD_W0_OPCODE_MASK, w0);
    cid = MTIA_FIELD_GET(MTIA_CMD_W0_CID_MASK, w0);

    st = validate(w0);
    if (st != MTIA_CQE_OK) {
        complete(q, st);
        if (fw_log_level >= LOG_DEBUG)
            log_debug("queue %u: cid %u opcode 0x%02x flags 0x%x rejected: %s", q, cid,
                      op, MTIA_FIELD_GET(MTIA_CMD_W0_FLAGS_MASK, w0), status_name(st));
        return CMD_DONE;
    }
    switch (op) {
    case MTIA_CMD_NOP:
        complete(q, MTIA_CQE_OK);
        break;
    case MTIA_CMD_FENCE:
        /* Clear a stale event first: a later bit means "fell to 0 after
         * this read". */
        reg_write(MTIA_CC_REG_ENGINE_EVENT, 1u << q);
        reg_write(MTIA_CC_REG_Q_SELECT, q);
        inflight = reg_read(MTIA_CC_REG_Q_INFLIGHT);
        complete(q, MTIA_CQE_OK);  /* posted behind the in-flight work */
        if (inflight) {
            parked |= 1u << q;
            qs->fence_waits++;
            if (fw_log_level >= LOG_DEBUG)
                log_debug("queue %u: FENCE cid %u waits for %u commands", q, cid,
                          inflight);
            return CMD_PARKED;
        }
        break;
    default:  /* COPY, FILL, TIMESTAMP, COMPUTE */
        reg_write(MTIA_CC_REG_Q_DISPATCH, q);
        qs->dispatched++;
        break;
    }
    if (fw_log_level >= LOG_DEBUG)
        log_debug("queue %u: cid %u opcode 0x%02x %s", q, cid, op,
                  op == MTIA_CMD_NOP || op == MTIA_CMD_FENCE ? "completed" : "dispatched");
    return CMD_DONE;
}

/* Serve queue q for up to Q_BATCH commands; returns Q_PENDING (usable bits)
 * as last read. */
static uint32_t serve(unsigned q, unsigned *done)
{
    const uint32_t bit = 1u << q;
    uint32_t pend, others;

    for (unsigned n = 1;; n++) {
        int r = one_command(q);

        (*done)++;
        pend = read_pending();
        if (r != CMD_DONE || n >= Q_BATCH || !(pend & bit))
            return pend;
        others = pend & ~bit;
        if (others) {
            refresh_prio(pend);
            if (others & higher_than(queues[q].prio))
                return pend;
        }
    }
}

/* Unpark queues whose engine work drained. force: also ask Q_INFLIGHT (and
 * Q_STATUS) instead of trusting the event bits alone. */
static unsigned fences_check(int force)
{
    uint32_t ev = reg_read(MTIA_CC_REG_ENGINE_EVENT), done;

    if (ev)
        reg_write(MTIA_CC_REG_ENGINE_EVENT, ev);
    done = parked & ev;
    if (force) {
        for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++) {
            if (!(parked & ~done & (1u << q)))
                continue;
            reg_write(MTIA_CC_REG_Q_SELECT, q);
            if (!reg_read(MTIA_CC_REG_Q_INFLIGHT) ||
                !(reg_read(MTIA_REG_Q(q, MTIA_Q_STATUS)) & MTIA_Q_STATUS_ENABLED))
                done |= 1u << q;
        }
    }
    if (done) {
        parked &= ~done;
        if (fw_log_level >= LOG_DEBUG)
            log_debug("queues 0x%x: FENCE done, fetching again", done);
    }
    return done != 0;
}

/* One pass over the queues: returns commands fetched + fences released. */
static unsigned queues_run(void)
{
    unsigned done = 0;
    uint32_t pend;

    if (parked) {
        done += fences_check(fence_force);
        fence_force = 0;
    }
    pend = read_pending();
    while (pend && done < Q_PASS_BUDGET)
        pend = serve(pick(pend), &done);
    return done;
}

/* After a burst: wait up to Q_POLL_US for more work before going back to
 * WFI. Watches mip.MEIP (mailbox, queues, engine events) without touching a
 * register, and mtime through the time CSR. True if the line went high. */
static int spin_poll(void)
{
    uint32_t start = csr_read(time);

    for (unsigned i = 0; i < Q_POLL_MAX; i++) {
        if (csr_read(mip) & MIP_MEIP)
            return 1;
        if (csr_read(time) - start >= Q_POLL_US)
            break;
    }
    return 0;
}

/*
 * MEIP stays high while Q_PENDING != 0, and a parked queue with commands
 * behind its FENCE keeps its pending bit. Rather than take that interrupt
 * back to back until the engines drain, mask MEIE and look again from the
 * timer every FENCE_POLL_US (timer_poll_after). The mailbox and the other
 * queues wait at most that long meanwhile.
 */
static void fence_wait_mode(void)
{
    csr_clear(mie, MIE_MEIE);
    timer_poll_after(FENCE_POLL_US);
}

/* Timer: the wait-mode period is over. */
void dispatch_poll_tick(void)
{
    fence_force = 1;
    csr_set(mie, MIE_MEIE);
}

void ext_irq(void)
{
    for (;;) {
        unsigned progress = (unsigned)mbox_irq();
        unsigned cmds = queues_run();
        uint32_t lines = csr_read(mip);

        progress += cmds;
        /* External beats timer in the core's priority order: with work
         * arriving back to back the heartbeat must still run. */
        if (lines & MIP_MTIP)
            timer_irq();
        if (!(lines & MIP_MEIP)) {
            if (cmds && spin_poll())
                continue;
            return;
        }
        if (progress)
            continue;
        /* The line is high and there was nothing to do: an engine event
         * (acknowledged here; it frees parked queues), or only parked or
         * failed queues are pending. */
        if (fences_check(0))
            continue;
        if (!(csr_read(mip) & MIP_MEIP))
            return;
        if (parked | failed) {
            fence_wait_mode();
            return;
        }
        return;  /* unexplained: take the interrupt again */
    }
}

int queue_stats(uint32_t q, uint32_t *args)
{
    const struct queue *qs;

    if (q >= MTIA_NUM_QUEUES)
        return 0;
    qs = &queues[q];
    args[0] = qs->fetched;
    args[1] = qs->dispatched;
    args[2] = qs->completed;
    args[3] = qs->errors;
    args[4] = qs->fence_waits;
    args[5] = (parked >> q & 1) | (failed >> q & 1) << 1;
    return 1;
}
