// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: random admin-mailbox traffic into the firmware's
 * mailbox handling (firmware/mbox.c, via mbox_irq, ext_irq and fw_trap),
 * the firmware built for the host over tests/firmware/fw_mock.
 *
 * Input: records of 65 bytes, a control byte then the 64-byte struct
 * mtia_mbox_msg the host posts. Control: bits 0-1 how the firmware gets
 * it (0/3 mbox_irq, 1 ext_irq, 2 fw_trap with the external interrupt
 * cause), bit 2 the doorbell is not rung, bits 3-7 mtime advances by
 * that many 10 ms first (heartbeat ticks on the ext_irq path). A trailing
 * partial record is ignored. Each input starts from power-on and a boot.
 *
 * Checked per record: the doorbell acknowledged and exactly one MBOX_POST;
 * opcode and seq echoed; the status each opcode must give for its
 * arguments (PING's args echoed, GET/SET_PARAM ranges, GET_QSTATS' queue
 * range, BAD_OPCODE exactly for unknown opcodes); the parameters stay in
 * range; DEBUG_HANG/TRAP answer, then stop the core (the input ends
 * there); nothing served without the doorbell. Whole input: the log ring
 * is published whole lines only. Any register outside the mocked window
 * aborts (fw_mock_fail).
 *
 * Built by tests/fuzz/fuzzers.cmake into build/fuzz; run with
 *   tests/fuzz/run-fuzz.sh --seconds S fw_mailbox
 */
#include <string.h>

#include "fw_host.h"

#define REC (1 + MTIA_MBOX_MSG_BYTES)
#define MEIP (1u << 11)

static int known(uint16_t op)
{
    switch (op) {
        case MTIA_ADMIN_PING:
        case MTIA_ADMIN_GET_VERSION:
        case MTIA_ADMIN_GET_PARAM:
        case MTIA_ADMIN_SET_PARAM:
        case MTIA_ADMIN_GET_QSTATS:
        case MTIA_ADMIN_DEBUG_HANG:
        case MTIA_ADMIN_DEBUG_TRAP:
            return 1;
        default:
            return 0;
    }
}

/* The status the spec (include/mtia/mtia_spec.h, docs/firmware.md) asks
 * for this command. */
static uint32_t expected_status(const struct mtia_mbox_msg *c)
{
    uint32_t id = c->args[0], v = c->args[1];

    if (!known(c->opcode)) return MTIA_ADMIN_STATUS_BAD_OPCODE;
    switch (c->opcode) {
        case MTIA_ADMIN_GET_PARAM:
            return id == MTIA_PARAM_HEARTBEAT_MS || id == MTIA_PARAM_LOG_LEVEL ? MTIA_ADMIN_STATUS_OK
                                                                               : MTIA_ADMIN_STATUS_BAD_ARG;
        case MTIA_ADMIN_SET_PARAM:
            if (id == MTIA_PARAM_HEARTBEAT_MS)
                return v >= 10 && v <= 10000 ? MTIA_ADMIN_STATUS_OK : MTIA_ADMIN_STATUS_BAD_ARG;
            if (id == MTIA_PARAM_LOG_LEVEL) return v <= 3 ? MTIA_ADMIN_STATUS_OK : MTIA_ADMIN_STATUS_BAD_ARG;
            return MTIA_ADMIN_STATUS_BAD_ARG;
        case MTIA_ADMIN_GET_QSTATS:
            return id < MTIA_NUM_QUEUES ? MTIA_ADMIN_STATUS_OK : MTIA_ADMIN_STATUS_BAD_ARG;
        default:
            return MTIA_ADMIN_STATUS_OK;
    }
}

static void post(const struct mtia_mbox_msg *c, int ring)
{
    uint32_t w[MTIA_MBOX_MSG_BYTES / 4];

    memcpy(w, c, sizeof(w));
    for (unsigned i = 0; i < MTIA_MBOX_MSG_BYTES / 4; i++) fw_mock_set_reg(MTIA_REG_MBOX_CMD + 4 * i, w[i]);
    fw_mock_set_reg(MTIA_REG_MBOX_DOORBELL, ring ? 1 : 0);
}

static struct mtia_mbox_msg response(void)
{
    uint32_t w[MTIA_MBOX_MSG_BYTES / 4];
    struct mtia_mbox_msg r;

    for (unsigned i = 0; i < MTIA_MBOX_MSG_BYTES / 4; i++) w[i] = fw_mock_reg(MTIA_REG_MBOX_RESP + 4 * i);
    memcpy(&r, w, sizeof(r));
    return r;
}

/* Deliver the posted command as control says; returns how the run ended. */
static enum fw_mock_stop deliver(uint8_t control)
{
    enum fw_mock_stop stop;

    switch (control & 3) {
        case 1:
            FW_MOCK_RUN(stop, ext_irq());
            break;
        case 2:
            FW_MOCK_RUN(stop, fw_trap(MCAUSE_IRQ | IRQ_M_EXT, 0, 0));
            break;
        default:
            FW_MOCK_RUN(stop, mbox_irq());
            break;
    }
    return stop;
}

static void check_response(const struct mtia_mbox_msg *c, const struct mtia_mbox_msg *r)
{
    FW_MOCK_CHECK(r->opcode == c->opcode);
    FW_MOCK_CHECK(r->seq == c->seq);
    FW_MOCK_CHECK(r->status == expected_status(c));
    if (c->opcode == MTIA_ADMIN_PING) FW_MOCK_CHECK(memcmp(r->args, c->args, sizeof(r->args)) == 0);
    if (c->opcode == MTIA_ADMIN_GET_VERSION && r->status == MTIA_ADMIN_STATUS_OK)
        FW_MOCK_CHECK(r->args[0] == FW_VERSION_CODE);
    if (c->opcode == MTIA_ADMIN_GET_PARAM && r->status == MTIA_ADMIN_STATUS_OK)
        FW_MOCK_CHECK(r->args[0] == (c->args[0] == MTIA_PARAM_HEARTBEAT_MS ? fw_heartbeat_ms : fw_log_level));
    if (c->opcode == MTIA_ADMIN_SET_PARAM && r->status == MTIA_ADMIN_STATUS_OK)
        FW_MOCK_CHECK((c->args[0] == MTIA_PARAM_HEARTBEAT_MS ? fw_heartbeat_ms : fw_log_level) == c->args[1]);
    if (r->status != MTIA_ADMIN_STATUS_OK || c->opcode == MTIA_ADMIN_SET_PARAM)
        for (unsigned i = 0; i < 14; i++) FW_MOCK_CHECK(r->args[i] == 0);
}

/* Every byte below head belongs to a complete line. */
static void check_log(void)
{
    const struct mtia_fw_log_header *h = fw_mock_devmem(MTIA_DEVMEM_FW_LOG_OFF);
    const uint8_t *data = (const uint8_t *)(h + 1);
    uint32_t ring = MTIA_DEVMEM_FW_LOG_SIZE - sizeof(*h);

    FW_MOCK_CHECK(h->magic == MTIA_FW_LOG_MAGIC);
    if (h->head) FW_MOCK_CHECK(data[(h->head - 1) % ring] == '\n');
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
    fw_host_power_on(FW_HOST_DEVMEM_SIZE);
    FW_MOCK_CHECK(fw_host_boot(0) == FW_MOCK_WFI);

    for (size_t off = 0; off + REC <= size; off += REC) {
        const uint8_t control = in[off];
        const int ring = !(control & 4);
        const unsigned posts = fw_mock_write_count(MTIA_CC_REG_MBOX_POST);
        struct mtia_mbox_msg c, r;
        enum fw_mock_stop stop;

        memcpy(&c, in + off + 1, sizeof(c));
        fw_mock_set_mtime(fw_mock_mtime() + (uint64_t)(control >> 3) * 10000);
        post(&c, ring);
        stop = deliver(control);

        FW_MOCK_CHECK(fw_mock_reg(MTIA_REG_MBOX_DOORBELL) == 0);
        FW_MOCK_CHECK(fw_mock_write_count(MTIA_CC_REG_MBOX_POST) == posts + (ring ? 1u : 0u));
        FW_MOCK_CHECK(fw_heartbeat_ms >= 10 && fw_heartbeat_ms <= 10000);
        FW_MOCK_CHECK(fw_log_level <= LOG_DEBUG);
        if (!ring) {
            FW_MOCK_CHECK(stop == FW_MOCK_RETURNED);
            continue;
        }
        r = response();
        check_response(&c, &r);
        if (c.opcode == MTIA_ADMIN_DEBUG_HANG) {
            FW_MOCK_CHECK(stop == FW_MOCK_HANG);
            break;
        }
        if (c.opcode == MTIA_ADMIN_DEBUG_TRAP) {
            FW_MOCK_CHECK(stop == FW_MOCK_ILLEGAL);
            break;
        }
        FW_MOCK_CHECK(stop == FW_MOCK_RETURNED);
        FW_MOCK_CHECK(!(fw_mock_csr_read(FW_CSR_mip) & MEIP)); /* nothing left to serve */
    }
    check_log();
    return 0;
}
