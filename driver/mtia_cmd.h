/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: the check of one SUBMIT command on its own
 * (before any BO is looked up). A pure function of the command, so the unit
 * tests compile mtia_cmd.c for user space and hold it to the same command
 * corpus as the device and the firmware (tests/unit/cmd_corpus.h).
 */
#ifndef __MTIA_CMD_H__
#define __MTIA_CMD_H__

#include <linux/types.h>

#include <mtia/mtia_cmd_rules.h>
#include <uapi/drm/mtia_accel.h>

int mtia_cmd_check_uapi(const struct drm_mtia_cmd *c, u32 bo_count);

#endif /* __MTIA_CMD_H__ */
