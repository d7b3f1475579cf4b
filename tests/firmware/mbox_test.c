// SPDX-License-Identifier: MIT
/*
 * The admin mailbox (firmware/mbox.c) on the host: every MTIA_ADMIN_* with
 * good and bad arguments, unknown opcodes, the response (opcode and seq
 * echoed, status, args) and the register protocol (doorbell RW1C before the
 * response, MBOX_POST last), the debug commands' exits.
 */
#include "fw_test.h"

#include <string.h>

/* Post a command as the host does (words 1.. first, word 0 and the
 * doorbell last) and let the firmware serve it; returns mbox_irq()'s value. */
static int post(uint16_t opcode, uint16_t seq, const uint32_t *args, unsigned nargs)
{
    enum fw_mock_stop stop;
    volatile int served = -1; /* set inside FW_MOCK_RUN */

    for (unsigned i = 0; i < 14; i++) fw_mock_set_reg(MTIA_REG_MBOX_CMD + 8 + 4 * i, i < nargs ? args[i] : 0);
    fw_mock_set_reg(MTIA_REG_MBOX_CMD + 4, 0);
    fw_mock_set_reg(MTIA_REG_MBOX_CMD, mtia_mbox_word0(opcode, seq));
    fw_mock_set_reg(MTIA_REG_MBOX_DOORBELL, 1);
    FW_MOCK_RUN(stop, served = mbox_irq());
    assert_int_equal(stop, FW_MOCK_RETURNED);
    return served;
}

/* Post and check the response's echo and status; returns the response. */
static struct mtia_mbox_msg call(uint16_t opcode, const uint32_t *args, unsigned nargs, uint32_t status)
{
    static uint16_t seq = 0x100;
    struct mtia_mbox_msg r;

    seq++;
    assert_int_equal(post(opcode, seq, args, nargs), 1);
    r = fw_test_mbox_resp();
    assert_int_equal(r.opcode, opcode);
    assert_int_equal(r.seq, seq);
    assert_int_equal(r.status, status);
    assert_int_equal(fw_mock_reg(MTIA_REG_MBOX_DOORBELL), 0);
    assert_int_equal(fw_mock_write_count(MTIA_CC_REG_MBOX_POST), 1);
    fw_mock_clear_counts();
    return r;
}

static uint32_t param(uint32_t id)
{
    uint32_t a[1] = {id};

    return call(MTIA_ADMIN_GET_PARAM, a, 1, MTIA_ADMIN_STATUS_OK).args[0];
}

static void assert_args_zero(const struct mtia_mbox_msg *r, unsigned from)
{
    for (unsigned i = from; i < 14; i++) assert_int_equal(r->args[i], 0);
}

static void ping_echoes_args(void **state)
{
    uint32_t a[14];
    struct mtia_mbox_msg r;

    (void)state;
    for (unsigned i = 0; i < 14; i++) a[i] = 0x9e3779b9u * (i + 1);
    r = call(MTIA_ADMIN_PING, a, 14, MTIA_ADMIN_STATUS_OK);
    assert_memory_equal(r.args, a, sizeof(a));
}

static void no_doorbell_is_not_served(void **state)
{
    (void)state;
    fw_mock_set_reg(MTIA_REG_MBOX_CMD, mtia_mbox_word0(MTIA_ADMIN_PING, 1));
    assert_int_equal(mbox_irq(), 0);
    assert_int_equal(fw_mock_writes(), 0);
    assert_int_equal(fw_mock_read_count(MTIA_REG_MBOX_CMD), 0);
}

/* The doorbell is acknowledged (RW1C with the value read) after the
 * command is copied and before the response; MBOX_POST is the last write. */
static void register_protocol(void **state)
{
    size_t bell = 0, first_resp = 0, post_at = 0, n;

    (void)state;
    fw_mock_set_reg(MTIA_REG_MBOX_CMD, mtia_mbox_word0(MTIA_ADMIN_PING, 7));
    fw_mock_set_reg(MTIA_REG_MBOX_DOORBELL, 0x3);
    assert_int_equal(mbox_irq(), 1);
    n = fw_mock_writes();
    for (size_t i = 0; i < n; i++) {
        const struct fw_mock_write *w = fw_mock_write_at(i);

        if (w->off == MTIA_REG_MBOX_DOORBELL) {
            assert_int_equal(w->val, 0x3);
            bell = i + 1;
        } else if (w->off >= MTIA_REG_MBOX_RESP && w->off < MTIA_REG_MBOX_RESP + 64 && !first_resp) {
            first_resp = i + 1;
        } else if (w->off == MTIA_CC_REG_MBOX_POST) {
            assert_int_equal(w->val, 1);
            post_at = i + 1;
        }
    }
    assert_true(bell && first_resp && post_at);
    assert_true(bell < first_resp);
    assert_int_equal(post_at, n);
    for (unsigned i = 0; i < 16; i++) assert_int_equal(fw_mock_read_count(MTIA_REG_MBOX_CMD + 4 * i), 1);
    assert_int_equal(fw_mock_write_count(MTIA_REG_MBOX_RESP + 60), 1);
}

static uint32_t if_version_read(uint32_t off, void *ctx)
{
    (void)off, (void)ctx;
    return mock_type(uint32_t);
}

static void get_version(void **state)
{
    struct mtia_mbox_msg r;

    (void)state;
    fw_mock_on_read(MTIA_REG_IF_VERSION, if_version_read, NULL);
    will_return(if_version_read, mtia_if_version(3, 7)); /* read exactly once */
    r = call(MTIA_ADMIN_GET_VERSION, NULL, 0, MTIA_ADMIN_STATUS_OK);
    assert_int_equal(r.args[0], MTIA_FW_VERSION(0, 1, 0));
    assert_int_equal(r.args[0], FW_VERSION_CODE);
    assert_int_equal(r.args[1], mtia_if_version(3, 7));
    assert_args_zero(&r, 2);
}

static void get_param_defaults(void **state)
{
    (void)state;
    assert_int_equal(param(MTIA_PARAM_HEARTBEAT_MS), 100);
    assert_int_equal(param(MTIA_PARAM_LOG_LEVEL), 2);
}

static void get_param_unknown(void **state)
{
    const uint32_t ids[] = {0, 3, 0x80000000u, 0xffffffffu};

    (void)state;
    for (unsigned i = 0; i < 4; i++) {
        struct mtia_mbox_msg r = call(MTIA_ADMIN_GET_PARAM, &ids[i], 1, MTIA_ADMIN_STATUS_BAD_ARG);

        assert_args_zero(&r, 0);
    }
    assert_log_has("error: admin: GET_PARAM of unknown parameter 3\n");
    assert_log_has("error: admin: GET_PARAM of unknown parameter 4294967295\n");
}

/* 10..10000 ms are taken: the value reads back and the timer is re-armed
 * one new period from now. */
static void set_heartbeat(void **state)
{
    const uint32_t ok[] = {10, 250, 10000};

    (void)state;
    fw_mock_set_mtime(5000000);
    for (unsigned i = 0; i < 3; i++) {
        uint32_t a[2] = {MTIA_PARAM_HEARTBEAT_MS, ok[i]};
        struct mtia_mbox_msg r = call(MTIA_ADMIN_SET_PARAM, a, 2, MTIA_ADMIN_STATUS_OK);

        assert_args_zero(&r, 0);
        assert_int_equal(fw_heartbeat_ms, ok[i]);
        assert_int_equal(fw_mock_mtimecmp(), 5000000 + ok[i] * 1000ull);
        assert_int_equal(param(MTIA_PARAM_HEARTBEAT_MS), ok[i]);
    }
    assert_log_has("heartbeat period set to 10000 ms\n");
}

static void set_heartbeat_out_of_range(void **state)
{
    const uint32_t bad[] = {0, 9, 10001, 0xffffffffu};

    (void)state;
    for (unsigned i = 0; i < 4; i++) {
        uint32_t a[2] = {MTIA_PARAM_HEARTBEAT_MS, bad[i]};
        uint64_t cmp = fw_mock_mtimecmp();

        call(MTIA_ADMIN_SET_PARAM, a, 2, MTIA_ADMIN_STATUS_BAD_ARG);
        assert_int_equal(fw_heartbeat_ms, 100);
        assert_int_equal(fw_mock_mtimecmp(), cmp);
    }
    assert_log_has("error: admin: SET_PARAM heartbeat_ms = 9 out of range\n");
    assert_log_has("error: admin: SET_PARAM heartbeat_ms = 10001 out of range\n");
}

static void set_log_level(void **state)
{
    (void)state;
    for (uint32_t l = 0; l <= 3; l++) {
        uint32_t a[2] = {MTIA_PARAM_LOG_LEVEL, l};

        call(MTIA_ADMIN_SET_PARAM, a, 2, MTIA_ADMIN_STATUS_OK);
        assert_int_equal(fw_log_level, l);
        assert_int_equal(param(MTIA_PARAM_LOG_LEVEL), l);
    }
    {
        uint32_t a[2] = {MTIA_PARAM_LOG_LEVEL, 4};

        call(MTIA_ADMIN_SET_PARAM, a, 2, MTIA_ADMIN_STATUS_BAD_ARG);
        assert_int_equal(fw_log_level, 3);
    }
    assert_log_has("log level set to 3\n");
    assert_log_has("error: admin: SET_PARAM log_level = 4 out of range\n");
}

static void set_param_unknown(void **state)
{
    uint32_t a[2] = {77, 100};

    (void)state;
    call(MTIA_ADMIN_SET_PARAM, a, 2, MTIA_ADMIN_STATUS_BAD_ARG);
    assert_int_equal(fw_heartbeat_ms, 100);
    assert_int_equal(fw_log_level, 2);
    assert_log_has("error: admin: SET_PARAM of unknown parameter 77\n");
}

static void get_qstats_range(void **state)
{
    (void)state;
    for (uint32_t q = 0; q < MTIA_NUM_QUEUES; q++) {
        struct mtia_mbox_msg r = call(MTIA_ADMIN_GET_QSTATS, &q, 1, MTIA_ADMIN_STATUS_OK);

        assert_args_zero(&r, 0); /* nothing fetched yet */
    }
    {
        const uint32_t bad[] = {MTIA_NUM_QUEUES, 0xffffffffu};

        for (unsigned i = 0; i < 2; i++) call(MTIA_ADMIN_GET_QSTATS, &bad[i], 1, MTIA_ADMIN_STATUS_BAD_ARG);
    }
    assert_log_has("error: admin: GET_QSTATS of queue 8 (8 queues)\n");
}

static void unknown_opcodes(void **state)
{
    const uint16_t ops[] = {0x0000, 0x0006, 0x00ff, 0xf000, 0xf003, 0xffff};
    uint32_t a[14];

    (void)state;
    memset(a, 0xa5, sizeof(a));
    for (unsigned i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        struct mtia_mbox_msg r = call(ops[i], a, 14, MTIA_ADMIN_STATUS_BAD_OPCODE);

        assert_args_zero(&r, 0);
    }
    assert_log_has("error: admin: unknown opcode 0xf003 (seq ");
}

/* A response carries only what the command answers: never the command's
 * own args (SET_PARAM, an error). */
static void response_args_are_zeroed(void **state)
{
    uint32_t a[14];

    (void)state;
    memset(a, 0x5a, sizeof(a));
    a[0] = MTIA_PARAM_LOG_LEVEL;
    a[1] = 1;
    struct mtia_mbox_msg r = call(MTIA_ADMIN_SET_PARAM, a, 14, MTIA_ADMIN_STATUS_OK);
    assert_args_zero(&r, 0);
    a[0] = MTIA_PARAM_HEARTBEAT_MS;
    r = call(MTIA_ADMIN_GET_PARAM, a, 14, MTIA_ADMIN_STATUS_OK);
    assert_int_equal(r.args[0], 100);
    assert_args_zero(&r, 1);
}

/* DEBUG_HANG/TRAP answer OK first, then stop the core. */
static void debug_exits(void **state)
{
    const struct {
        uint16_t op;
        enum fw_mock_stop stop;
        const char *log;
    } cases[] = {
        {MTIA_ADMIN_DEBUG_HANG, FW_MOCK_HANG, "warning: admin: DEBUG_HANG: hanging with interrupts off\n"},
        {MTIA_ADMIN_DEBUG_TRAP, FW_MOCK_ILLEGAL, "warning: admin: DEBUG_TRAP: illegal instruction, core will halt\n"},
    };

    (void)state;
    for (unsigned i = 0; i < 2; i++) {
        enum fw_mock_stop stop;
        struct mtia_mbox_msg r;

        fw_mock_clear_counts();
        fw_mock_set_reg(MTIA_REG_MBOX_CMD, mtia_mbox_word0(cases[i].op, 42));
        fw_mock_set_reg(MTIA_REG_MBOX_DOORBELL, 1);
        FW_MOCK_RUN(stop, mbox_irq());
        assert_int_equal(stop, cases[i].stop);
        r = fw_test_mbox_resp();
        assert_int_equal(r.opcode, cases[i].op);
        assert_int_equal(r.seq, 42);
        assert_int_equal(r.status, MTIA_ADMIN_STATUS_OK);
        assert_int_equal(fw_mock_write_count(MTIA_CC_REG_MBOX_POST), 1);
        assert_int_equal(fw_mock_csr(FW_CSR_mstatus) & MSTATUS_MIE, 0);
        assert_log_has(cases[i].log);
    }
}

/* At log level 3 every command and its status are logged. */
static void debug_level_logs_commands(void **state)
{
    uint32_t a[2] = {MTIA_PARAM_LOG_LEVEL, 3};

    (void)state;
    call(MTIA_ADMIN_SET_PARAM, a, 2, MTIA_ADMIN_STATUS_OK);
    a[0] = 0xdead;
    a[1] = 0xbeef;
    assert_int_equal(post(MTIA_ADMIN_PING, 9, a, 2), 1);
    assert_log_has("admin: opcode 0x0001 seq 9 args 0xdead 0xbeef\n");
    assert_log_has("admin: seq 9 -> status 0\n");
}

static void mpost_write(uint32_t off, uint32_t val, void *ctx)
{
    (void)off, (void)ctx;
    check_expected(val);
}

/* Through the external interrupt, as on the core: the doorbell raises MEIP,
 * ext_irq serves the mailbox and returns once the line is low. */
static void served_from_ext_irq(void **state)
{
    enum fw_mock_stop stop;

    (void)state;
    fw_mock_on_write(MTIA_CC_REG_MBOX_POST, mpost_write, NULL);
    expect_value(mpost_write, val, 1);
    fw_mock_set_reg(MTIA_REG_MBOX_CMD, mtia_mbox_word0(MTIA_ADMIN_GET_PARAM, 3));
    fw_mock_set_reg(MTIA_REG_MBOX_CMD + 8, MTIA_PARAM_LOG_LEVEL);
    fw_mock_set_reg(MTIA_REG_MBOX_DOORBELL, 1);
    assert_true(fw_mock_csr_read(FW_CSR_mip) & (1u << 11));
    FW_MOCK_RUN(stop, ext_irq());
    assert_int_equal(stop, FW_MOCK_RETURNED);
    assert_int_equal(fw_test_mbox_resp().args[0], 2);
    assert_int_equal(fw_mock_reg(MTIA_REG_MBOX_DOORBELL), 0);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(ping_echoes_args, fw_test_booted),
    cmocka_unit_test_setup(no_doorbell_is_not_served, fw_test_booted),
    cmocka_unit_test_setup(register_protocol, fw_test_booted),
    cmocka_unit_test_setup(get_version, fw_test_booted),
    cmocka_unit_test_setup(get_param_defaults, fw_test_booted),
    cmocka_unit_test_setup(get_param_unknown, fw_test_booted),
    cmocka_unit_test_setup(set_heartbeat, fw_test_booted),
    cmocka_unit_test_setup(set_heartbeat_out_of_range, fw_test_booted),
    cmocka_unit_test_setup(set_log_level, fw_test_booted),
    cmocka_unit_test_setup(set_param_unknown, fw_test_booted),
    cmocka_unit_test_setup(get_qstats_range, fw_test_booted),
    cmocka_unit_test_setup(unknown_opcodes, fw_test_booted),
    cmocka_unit_test_setup(response_args_are_zeroed, fw_test_booted),
    cmocka_unit_test_setup(debug_exits, fw_test_booted),
    cmocka_unit_test_setup(debug_level_logs_commands, fw_test_booted),
    cmocka_unit_test_setup(served_from_ext_irq, fw_test_booted),
};

FW_TEST_MAIN("fw_mbox", tests)
