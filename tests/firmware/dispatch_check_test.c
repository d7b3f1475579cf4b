// SPDX-License-Identifier: MIT
/*
 * The dispatcher's command checks (firmware/dispatch.c validate(), over
 * include/mtia/mtia_cmd_rules.h) on the host: every opcode valid and
 * invalid with the verdict docs/queues.md "Command rules" gives, written
 * out here (not computed from the table under test); the firmware reads
 * only the SQE words the check needs; it agrees with mtia_cmd_check() on
 * the whole command for random commands.
 */
#include "fw_test.h"

#include <stdio.h>
#include <string.h>

#include "fw_queue_model.h"
#include "mtia/mtia_cmd_rules.h"

#define SRC (MTIA_ADDR_DEVMEM | (1ull << 20))
#define DST (MTIA_ADDR_DEVMEM | (24ull << 20))
#define BOTH MTIA_ADDR_TAG_MASK
#define MAXOPS ((uint64_t)MTIA_MAX_PROGRAM_OPS)

static struct mtia_cmd mk(uint8_t op, uint64_t len, uint8_t flags)
{
    struct mtia_cmd c;

    memset(&c, 0, sizeof(c));
    c.opcode = op;
    c.flags = flags;
    c.len = len;
    c.cid = 0x1234;
    return c;
}

static struct mtia_cmd copy_(uint64_t len)
{
    struct mtia_cmd c = mk(MTIA_CMD_COPY, len, 0);

    c.src.addr = SRC;
    c.dst.addr = DST;
    return c;
}

static struct mtia_cmd fill_(uint64_t len, uint8_t flags)
{
    struct mtia_cmd c = mk(MTIA_CMD_FILL, len, flags);

    c.value = 0x0123456789abcdefull;
    c.dst.addr = DST;
    return c;
}

static struct mtia_cmd ts_(uint64_t len)
{
    struct mtia_cmd c = mk(MTIA_CMD_TIMESTAMP, len, 0);

    c.dst.addr = DST;
    return c;
}

static struct mtia_cmd compute_(uint64_t ops, uint8_t flags, uint64_t arena)
{
    struct mtia_cmd c = mk(MTIA_CMD_COMPUTE, ops * MTIA_OP_BYTES, flags);

    c.value = arena;
    c.src.addr = SRC;
    c.dst.addr = DST;
    return c;
}

/* c with statement s applied to it (GNU statement expression). */
#define WITH(c0, s)               \
    ({                            \
        struct mtia_cmd c = (c0); \
        s;                        \
        c;                        \
    })

struct check_case {
    const char *name;
    struct mtia_cmd cmd;
    uint32_t status;
};

enum { OK = MTIA_CQE_OK, OPC = MTIA_CQE_BAD_OPCODE, FLD = MTIA_CQE_BAD_FIELD, ADR = MTIA_CQE_BAD_ADDRESS };

static size_t cases(struct check_case *out)
{
    const struct check_case t[] = {
        /* valid: every opcode */
        {"nop", mk(MTIA_CMD_NOP, 0, 0), OK},
        {"fence", mk(MTIA_CMD_FENCE, 0, 0), OK},
        {"copy 1 byte", copy_(1), OK},
        {"copy 2^63 bytes (ranges are the engine's)", copy_(1ull << 63), OK},
        {"fill 1 byte", fill_(1, 0), OK},
        {"fill odd len", fill_(13, 0), OK},
        {"fill64 8 bytes", fill_(8, MTIA_CMD_F_FILL64), OK},
        {"fill64 4 KiB", fill_(4096, MTIA_CMD_F_FILL64), OK},
        {"timestamp len 8", ts_(8), OK},
        {"compute 1 op", compute_(1, 0, 4096), OK},
        {"compute max ops", compute_(MAXOPS, 0, 1), OK},
        {"compute profile 1 op", compute_(1, MTIA_CMD_F_PROFILE, 4096), OK},
        {"compute profile arena = 1 + profile", compute_(2, MTIA_CMD_F_PROFILE, 1 + MTIA_PROFILE_BYTES(2)), OK},
        {"compute flat dst (a VA with the MMU)", WITH(compute_(1, 0, 64), c.dst.addr = 1ull << 30), OK},
        {"ctx is not a rule", WITH(copy_(16), c.ctx = 0xdeadbeef), OK},
        {"cid is not a rule", WITH(mk(MTIA_CMD_NOP, 0, 0), c.cid = 0xffff), OK},
        /* unknown opcodes */
        {"opcode 6", mk(6, 0, 0), OPC},
        {"opcode 6 with len", mk(6, 8, 0), OPC},
        {"opcode 0x7f", mk(0x7f, 0, 0), OPC},
        {"opcode 0xff", mk(0xff, 0, 0), OPC},
        {"opcode 0x80 with reserved", WITH(mk(0x80, 0, 0), c.reserved = 1), OPC},
        {"opcode 9 flag 0x80 reserved", WITH(mk(9, 0, 0x80), c.reserved = 1), OPC},
        /* reserved */
        {"nop reserved bit 0", WITH(mk(MTIA_CMD_NOP, 0, 0), c.reserved = 1), FLD},
        {"fence reserved bit 63", WITH(mk(MTIA_CMD_FENCE, 0, 0), c.reserved = 1ull << 63), FLD},
        {"copy reserved bit 32", WITH(copy_(16), c.reserved = 1ull << 32), FLD},
        {"fill reserved", WITH(fill_(16, 0), c.reserved = 2), FLD},
        {"timestamp reserved ~0", WITH(ts_(8), c.reserved = ~0ull), FLD},
        {"compute reserved", WITH(compute_(1, 0, 4096), c.reserved = 1), FLD},
        {"reserved before flags", WITH(copy_(0), c.flags = 2; c.reserved = 1), FLD},
        /* flags */
        {"nop flag 1", mk(MTIA_CMD_NOP, 0, 1), FLD},
        {"fence flag 0x80", mk(MTIA_CMD_FENCE, 0, 0x80), FLD},
        {"copy FILL64", WITH(copy_(64), c.flags = MTIA_CMD_F_FILL64), FLD},
        {"copy PROFILE", WITH(copy_(64), c.flags = MTIA_CMD_F_PROFILE), FLD},
        {"fill flag 2", fill_(64, 2), FLD},
        {"fill FILL64|0x80", fill_(64, MTIA_CMD_F_FILL64 | 0x80), FLD},
        {"timestamp FILL64", WITH(ts_(8), c.flags = MTIA_CMD_F_FILL64), FLD},
        {"compute flag 1", compute_(1, 1, 4096), FLD},
        {"compute flag 4", compute_(1, 4, 4096), FLD},
        {"compute PROFILE|0x80", compute_(1, MTIA_CMD_F_PROFILE | 0x80, 4096), FLD},
        /* len */
        {"copy len 0", copy_(0), FLD},
        {"fill len 0", fill_(0, 0), FLD},
        {"fill64 len 0", fill_(0, MTIA_CMD_F_FILL64), FLD},
        {"fill64 len 4", fill_(4, MTIA_CMD_F_FILL64), FLD},
        {"fill64 len 12", fill_(12, MTIA_CMD_F_FILL64), FLD},
        {"fill64 len 2^32+4", fill_((1ull << 32) + 4, MTIA_CMD_F_FILL64), FLD},
        {"timestamp len 0", ts_(0), FLD},
        {"timestamp len 7", ts_(7), FLD},
        {"timestamp len 9", ts_(9), FLD},
        {"timestamp len 2^32+8", ts_((1ull << 32) + 8), FLD},
        {"compute len 0", compute_(0, 0, 4096), FLD},
        {"compute len 255", WITH(compute_(1, 0, 4096), c.len = 255), FLD},
        {"compute len 257", WITH(compute_(1, 0, 4096), c.len = 257), FLD},
        {"compute max ops + 1", compute_(MAXOPS + 1, 0, 4096), FLD},
        {"compute len 2^32+256", WITH(compute_(1, 0, 4096), c.len += 1ull << 32), FLD},
        {"compute len 2^63+256", WITH(compute_(1, 0, 4096), c.len += 1ull << 63), FLD},
        /* value */
        {"compute empty arena", compute_(1, 0, 0), FLD},
        {"compute profile empty arena", compute_(1, MTIA_CMD_F_PROFILE, 0), FLD},
        {"compute profile arena = profile", compute_(1, MTIA_CMD_F_PROFILE, MTIA_PROFILE_BYTES(1)), FLD},
        {"compute profile max ops, arena = profile", compute_(MAXOPS, MTIA_CMD_F_PROFILE, MTIA_PROFILE_BYTES(MAXOPS)),
         FLD},
        /* operand tags */
        {"copy src both tags", WITH(copy_(16), c.src.addr = BOTH | 4096), FLD},
        {"copy dst both tags", WITH(copy_(16), c.dst.addr = BOTH), FLD},
        {"fill dst both tags", WITH(fill_(16, 0), c.dst.addr = BOTH), FLD},
        {"timestamp dst both tags", WITH(ts_(8), c.dst.addr = BOTH), FLD},
        {"compute src both tags", WITH(compute_(1, 0, 4096), c.src.addr = BOTH), FLD},
        {"compute dst both tags", WITH(compute_(1, 0, 4096), c.dst.addr = BOTH | 8), FLD},
        {"compute arena in an SG buffer", WITH(compute_(1, 0, 4096), c.dst.addr = MTIA_ADDR_SGT | 64), ADR},
        {"len before arena", WITH(compute_(0, 0, 4096), c.dst.addr = MTIA_ADDR_SGT), FLD},
        /* fields an opcode does not use are ignored */
        {"nop len and value", WITH(mk(MTIA_CMD_NOP, 99, 0), c.value = 1), OK},
        {"nop operands both tags", WITH(mk(MTIA_CMD_NOP, 0, 0), c.src.addr = c.dst.addr = BOTH), OK},
        {"fence len", mk(MTIA_CMD_FENCE, 3, 0), OK},
        {"copy value", WITH(copy_(16), c.value = 7), OK},
        {"copy offsets are the engine's", WITH(copy_(16), c.src.offset = c.dst.offset = ~0ull), OK},
        {"fill src both tags", WITH(fill_(16, 0), c.src.addr = BOTH), OK},
        {"timestamp src both tags, value", WITH(ts_(8), c.src.addr = BOTH; c.value = 7), OK},
    };
    const size_t n = sizeof(t) / sizeof(t[0]);

    if (out) memcpy(out, t, sizeof(t));
    return n;
}

static struct check_case all[128];
static size_t nall;

static int setup(void **state)
{
    if (fw_test_booted(state)) return -1;
    fwq_install();
    fwq_enable(0, MTIA_PRIO_NORMAL);
    fw_mock_set_time_step(1); /* the post-burst poll ends after 20 us */
    nall = cases(NULL);
    if (nall > sizeof(all) / sizeof(all[0])) return -1;
    cases(all);
    return 0;
}

/* Run one command through queue 0; returns its event. */
static const struct fwq_event *run_one(const struct mtia_cmd *c)
{
    enum fw_mock_stop stop;
    size_t before = fwq_events();

    fwq_engine_done(0, fwq_inflight(0)); /* a FENCE must not wait */
    fwq_push(0, c);
    FW_MOCK_RUN(stop, ext_irq());
    assert_int_equal(stop, FW_MOCK_RETURNED);
    assert_int_equal(fwq_events(), before + 1);
    assert_int_equal(fwq_waiting(0), 0);
    return fwq_event_at(before);
}

static int is_engine_op(uint8_t op)
{
    return op == MTIA_CMD_COPY || op == MTIA_CMD_FILL || op == MTIA_CMD_TIMESTAMP || op == MTIA_CMD_COMPUTE;
}

/* The verdict the firmware reaches: status of a Q_COMPLETE, or OK for a
 * dispatch (only engine opcodes may be dispatched, only NOP/FENCE
 * completed OK by the firmware). */
static uint32_t verdict(const struct fwq_event *e)
{
    if (e->kind == FWQ_DISPATCH) {
        if (!is_engine_op(e->cmd.opcode)) fail_msg("opcode %u dispatched", e->cmd.opcode);
        return MTIA_CQE_OK;
    }
    if (e->status == MTIA_CQE_OK && is_engine_op(e->cmd.opcode))
        fail_msg("engine opcode %u completed OK by the firmware", e->cmd.opcode);
    return e->status;
}

static void every_case_as_the_spec_says(void **state)
{
    (void)state;
    for (size_t i = 0; i < nall; i++) {
        const struct fwq_event *e = run_one(&all[i].cmd);

        if (memcmp(&e->cmd, &all[i].cmd, sizeof(e->cmd)) != 0)
            fail_msg("%s: the event names another command", all[i].name);
        if (verdict(e) != all[i].status)
            fail_msg("%s: firmware says %u, the spec %u", all[i].name, verdict(e), all[i].status);
        /* the rules table agrees with the written-out verdicts too */
        if (mtia_cmd_check(&all[i].cmd) != all[i].status)
            fail_msg("%s: mtia_cmd_check says %u", all[i].name, mtia_cmd_check(&all[i].cmd));
    }
}

/* The check reads word 0, reserved and what the opcode uses, nothing else
 * (an unknown opcode: word 0 only). */
static void reads_only_the_words_it_needs(void **state)
{
    (void)state;
    for (size_t i = 0; i < nall; i++) {
        const struct mtia_cmd_rule *r = mtia_cmd_rule(all[i].cmd.opcode);
        uint32_t allowed = r ? mtia_cmd_words(r) : 1u << MTIA_CMD_W_HEAD;

        fw_mock_clear_counts();
        run_one(&all[i].cmd);
        for (unsigned w = 0; w < 16; w++) {
            unsigned n = fw_mock_read_count(MTIA_CC_REG_SQE_WORD(w));

            if (n > 1 || (n && !(allowed & 1u << w)))
                fail_msg("%s: SQE word %u read %u times (allowed 0x%x)", all[i].name, w, n, allowed);
        }
        assert_int_equal(fw_mock_read_count(MTIA_CC_REG_SQE_WORD(MTIA_CMD_W_HEAD)), 1);
    }
}

static unsigned sqe_reads(void)
{
    unsigned n = 0;

    for (unsigned w = 0; w < 16; w++) n += fw_mock_read_count(MTIA_CC_REG_SQE_WORD(w));
    return n;
}

/* docs/queues.md: a NOP costs three CC_SQE reads. */
static void nop_costs_three_sqe_reads(void **state)
{
    struct mtia_cmd nop = mk(MTIA_CMD_NOP, 0, 0);

    (void)state;
    run_one(&nop);
    assert_int_equal(sqe_reads(), 3);
}

static void counters_follow_the_verdicts(void **state)
{
    uint32_t st[6], done = 0, dispatched = 0, errors = 0;

    (void)state;
    for (size_t i = 0; i < nall; i++) {
        run_one(&all[i].cmd);
        if (all[i].status != OK) errors++;
        if (all[i].status == OK && is_engine_op(all[i].cmd.opcode))
            dispatched++;
        else
            done++;
    }
    assert_int_equal(queue_stats(0, st), 1);
    assert_int_equal(st[0], nall);       /* fetched */
    assert_int_equal(st[1], dispatched); /* dispatched */
    assert_int_equal(st[2], done);       /* completed by the firmware */
    assert_int_equal(st[3], errors);
    assert_int_equal(st[4], 0);
}

static void rejections_logged_at_debug(void **state)
{
    struct mtia_cmd bad = WITH(mk(6, 0, 0), c.cid = 77);
    struct mtia_cmd sg = WITH(compute_(1, 0, 4096), c.dst.addr = MTIA_ADDR_SGT; c.cid = 78);

    (void)state;
    run_one(&bad);
    assert_false(fw_test_log_has("rejected")); /* level 2: quiet */
    fw_log_level = LOG_DEBUG;
    run_one(&bad);
    run_one(&sg);
    assert_log_has("queue 0: cid 77 opcode 0x06 flags 0x0 rejected: bad opcode\n");
    assert_log_has("queue 0: cid 78 opcode 0x05 flags 0x0 rejected: bad address\n");
}

/* xorshift64*: a fixed sequence, so a failure repeats. */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1dull;
}

/* Near-valid random commands: each field usually valid, sometimes not. */
static struct mtia_cmd random_cmd(uint64_t *s)
{
    static const uint64_t lens[] = {0,          1,
                                    4,          7,
                                    8,          9,
                                    12,         16,
                                    255,        256,
                                    257,        512,
                                    1ull << 24, (1ull << 24) + 256,
                                    1ull << 32, (1ull << 32) + 8,
                                    1ull << 63, ~0ull};
    static const uint64_t values[] = {0, 1, 7, 40, 48, 64, 72, 4096, 1ull << 32, ~0ull};
    static const uint64_t tags[] = {
        0, MTIA_ADDR_DEVMEM, MTIA_ADDR_DEVMEM, MTIA_ADDR_DEVMEM, MTIA_ADDR_SGT, MTIA_ADDR_SGT, 0, MTIA_ADDR_TAG_MASK};
    struct mtia_cmd c;
    uint64_t r = rnd(s);

    memset(&c, 0, sizeof(c));
    c.opcode = (uint8_t)(r & 8 ? rnd(s) : r % 7);
    c.flags = (uint8_t)((r & 0x30) == 0x30 ? rnd(s) : (r & 0x30) == 0x20 ? (r >> 6) & 3 : 0);
    c.cid = (uint16_t)r;
    c.len = lens[(r >> 16) % (sizeof(lens) / sizeof(lens[0]))];
    c.value = r & 0x40000 ? rnd(s) : values[(r >> 20) % (sizeof(values) / sizeof(values[0]))];
    c.src.addr = tags[rnd(s) & 7] | (rnd(s) >> 2);
    c.dst.addr = tags[rnd(s) & 7] | (rnd(s) >> 2);
    c.reserved = rnd(s) % 16 == 0 ? rnd(s) : 0;
    return c;
}

/* The firmware reads a few words of the SQE; the rules read the whole
 * command: same verdict, for 20000 random commands. */
static void agrees_with_mtia_cmd_check(void **state)
{
    uint64_t s = 0x6d746961ull;
    unsigned ok = 0;

    (void)state;
    for (unsigned i = 0; i < 20000; i++) {
        struct mtia_cmd c = random_cmd(&s);
        const struct fwq_event *e = run_one(&c);

        if (verdict(e) != mtia_cmd_check(&c))
            fail_msg("command %u (opcode %u flags 0x%x len 0x%llx value 0x%llx): firmware %u, rules %u", i, c.opcode,
                     c.flags, (unsigned long long)c.len, (unsigned long long)c.value, verdict(e), mtia_cmd_check(&c));
        ok += verdict(e) == MTIA_CQE_OK;
        fwq_clear_events();
    }
    assert_in_range(ok, 1000, 19000); /* both verdicts well represented */
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(every_case_as_the_spec_says, setup),
    cmocka_unit_test_setup(reads_only_the_words_it_needs, setup),
    cmocka_unit_test_setup(nop_costs_three_sqe_reads, setup),
    cmocka_unit_test_setup(counters_follow_the_verdicts, setup),
    cmocka_unit_test_setup(rejections_logged_at_debug, setup),
    cmocka_unit_test_setup(agrees_with_mtia_cmd_check, setup),
};

FW_TEST_MAIN("fw_dispatch_check", tests)
