// SPDX-License-Identifier: MIT
/*
 * Admin mailbox. The host writes a struct mtia_mbox_msg to MBOX_CMD and 1 to
 * MBOX_DOORBELL; the doorbell drives the core's external interrupt. The
 * firmware copies the command, clears the doorbell (RW1C), executes it,
 * writes the response (opcode and seq echoed) to MBOX_RESP and writes 1 to
 * MBOX_POST, which raises MTIA_IRQ_MBOX on the host.
 */
#include "fw.h"

#define MBOX_WORDS (MTIA_MBOX_MSG_BYTES / 4)

_Static_assert(sizeof(struct mtia_mbox_msg) == MTIA_MBOX_MSG_BYTES, "mailbox message size");

union mbox_msg {
    struct mtia_mbox_msg m;
    uint32_t w[MBOX_WORDS];
};

/* What to do after the response has been posted. */
enum post_action { POST_NONE, POST_HANG, POST_TRAP };

static const char *param_name(uint32_t id)
{
    switch (id) {
    case MTIA_PARAM_HEARTBEAT_MS: return "heartbeat_ms";
    case MTIA_PARAM_LOG_LEVEL: return "log_level";
    default: return "?";
    }
}

static uint32_t get_param(uint32_t id, uint32_t *value)
{
    switch (id) {
    case MTIA_PARAM_HEARTBEAT_MS: *value = fw_heartbeat_ms; return MTIA_ADMIN_STATUS_OK;
    case MTIA_PARAM_LOG_LEVEL: *value = fw_log_level; return MTIA_ADMIN_STATUS_OK;
    default:
        log_err("admin: GET_PARAM of unknown parameter %u", id);
        return MTIA_ADMIN_STATUS_BAD_ARG;
    }
}

static uint32_t set_param(uint32_t id, uint32_t value)
{
    switch (id) {
    case MTIA_PARAM_HEARTBEAT_MS:
        if (value < 10 || value > 10000)
            break;
        fw_heartbeat_ms = value;
        heartbeat_arm();
        log_info("heartbeat period set to %u ms", value);
        return MTIA_ADMIN_STATUS_OK;
    case MTIA_PARAM_LOG_LEVEL:
        if (value > LOG_DEBUG)
            break;
        fw_log_level = value;
        log_info("log level set to %u", value);
        return MTIA_ADMIN_STATUS_OK;
    default:
        log_err("admin: SET_PARAM of unknown parameter %u", id);
        return MTIA_ADMIN_STATUS_BAD_ARG;
    }
    log_err("admin: SET_PARAM %s = %u out of range", param_name(id), value);
    return MTIA_ADMIN_STATUS_BAD_ARG;
}

static enum post_action execute(const struct mtia_mbox_msg *cmd, struct mtia_mbox_msg *resp)
{
    log_debug("admin: opcode 0x%04x seq %u args 0x%x 0x%x", cmd->opcode, cmd->seq,
              cmd->args[0], cmd->args[1]);
    resp->status = MTIA_ADMIN_STATUS_OK;
    switch (cmd->opcode) {
    case MTIA_ADMIN_PING:
        memcpy(resp->args, cmd->args, sizeof(resp->args));
        break;
    case MTIA_ADMIN_GET_VERSION:
        resp->args[0] = FW_VERSION_CODE;
        resp->args[1] = reg_read(MTIA_REG_IF_VERSION);
        break;
    case MTIA_ADMIN_GET_PARAM:
        resp->status = get_param(cmd->args[0], &resp->args[0]);
        break;
    case MTIA_ADMIN_SET_PARAM:
        resp->status = set_param(cmd->args[0], cmd->args[1]);
        break;
    case MTIA_ADMIN_GET_QSTATS:
        if (!queue_stats(cmd->args[0], resp->args)) {
            log_err("admin: GET_QSTATS of queue %u (%u queues)", cmd->args[0], MTIA_NUM_QUEUES);
            resp->status = MTIA_ADMIN_STATUS_BAD_ARG;
        }
        break;
    case MTIA_ADMIN_DEBUG_HANG:
        log_warn("admin: DEBUG_HANG: hanging with interrupts off");
        return POST_HANG;
    case MTIA_ADMIN_DEBUG_TRAP:
        log_warn("admin: DEBUG_TRAP: illegal instruction, core will halt");
        return POST_TRAP;
    default:
        log_err("admin: unknown opcode 0x%04x (seq %u)", cmd->opcode, cmd->seq);
        resp->status = MTIA_ADMIN_STATUS_BAD_OPCODE;
        break;
    }
    return POST_NONE;
}

int mbox_irq(void)
{
    union mbox_msg cmd, resp;
    enum post_action action;
    uint32_t bell = reg_read(MTIA_REG_MBOX_DOORBELL);

    if (!bell)  /* nothing posted (or the line is up for the queues) */
        return 0;
    for (unsigned i = 0; i < MBOX_WORDS; i++)
        cmd.w[i] = reg_read(MTIA_REG_MBOX_CMD + 4 * i);
    reg_write(MTIA_REG_MBOX_DOORBELL, bell);   /* RW1C */

    memset(&resp, 0, sizeof(resp));
    resp.m.opcode = cmd.m.opcode;
    resp.m.seq = cmd.m.seq;
    action = execute(&cmd.m, &resp.m);
    log_debug("admin: seq %u -> status %u", resp.m.seq, resp.m.status);

    for (unsigned i = 0; i < MBOX_WORDS; i++)
        reg_write(MTIA_REG_MBOX_RESP + 4 * i, resp.w[i]);
    reg_write(MTIA_CC_REG_MBOX_POST, 1);

    if (action == POST_HANG)
        fw_hang();
    if (action == POST_TRAP)
        fw_die_illegal();
    return 1;
}
