// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: is a SUBMIT command (struct drm_mtia_cmd)
 * valid on its own? Two layers of rules, both from the one command table
 * in include/mtia/mtia_cmd_rules.h:
 *
 *  - the UAPI's: pad and reserved are zero, an operand the opcode uses
 *    names a BO of the job, and every field the opcode does not use (len,
 *    value, an operand's BO index and offset) is zero, so those fields stay
 *    free for later use (the device ignores them; docs/queues.md);
 *  - the device's: mtia_cmd_check() on the command as the device will see
 *    it, so SUBMIT fails with -EINVAL exactly where the device would
 *    complete the command with an error status.
 *
 * Operands are BO indices here, not yet addresses: they stand in as device
 * memory, and the BO-dependent rules (ranges, a COMPUTE arena in device
 * memory) are mtia_submit.c's, against the BOs.
 */
#include <linux/errno.h>

#include "mtia_cmd.h"

static bool mtia_cmd_operand_ok(bool used, u32 bo, u64 offset, u32 bo_count)
{
	return used ? bo < bo_count : !bo && !offset;
}

/**
 * mtia_cmd_check_uapi() - check one SUBMIT command before the BO lookup.
 * @c: the command as user space wrote it.
 * @bo_count: BOs the job lists.
 *
 * Return: 0 if valid, -EINVAL if not.
 */
int mtia_cmd_check_uapi(const struct drm_mtia_cmd *c, u32 bo_count)
{
	const struct mtia_cmd_rule *r = mtia_cmd_rule(c->opcode);
	struct mtia_cmd d = {
		.opcode = c->opcode,
		.flags = c->flags,
		.len = c->len,
		.value = c->value,
		.src.addr = MTIA_ADDR_DEVMEM,
		.dst.addr = MTIA_ADDR_DEVMEM,
	};

	if (c->pad0 || c->pad1 || c->reserved[0] || c->reserved[1] || !r)
		return -EINVAL;
	if ((!(r->uses & MTIA_CMD_USES_LEN) && c->len) ||
	    (!(r->uses & MTIA_CMD_USES_VALUE) && c->value))
		return -EINVAL;
	if (!mtia_cmd_operand_ok(r->uses & MTIA_CMD_USES_SRC, c->src_bo,
				 c->src_offset, bo_count) ||
	    !mtia_cmd_operand_ok(r->uses & MTIA_CMD_USES_DST, c->dst_bo,
				 c->dst_offset, bo_count))
		return -EINVAL;
	return mtia_cmd_check(&d) == MTIA_CQE_OK ? 0 : -EINVAL;
}
