/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: BAR0 register access.
 */
#ifndef __MTIA_HW_H__
#define __MTIA_HW_H__

#include <linux/io.h>

#include <mtia/mtia_spec.h>

#include "mtia_drv.h"

static inline u32 mtia_rd32(struct mtia_device *mdev, u32 reg)
{
	return readl(mdev->regs + reg);
}

static inline void mtia_wr32(struct mtia_device *mdev, u32 reg, u32 val)
{
	writel(val, mdev->regs + reg);
}

static inline u64 mtia_rd64(struct mtia_device *mdev, u32 reg_lo, u32 reg_hi)
{
	return ((u64)mtia_rd32(mdev, reg_hi) << 32) | mtia_rd32(mdev, reg_lo);
}

int mtia_hw_identify(struct mtia_device *mdev);
int mtia_hw_reset(struct mtia_device *mdev);

#endif /* __MTIA_HW_H__ */
