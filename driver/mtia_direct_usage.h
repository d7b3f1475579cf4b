/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: the device time of a direct queue's commands,
 * from the device's per-queue counters (mtia_direct_usage.c).
 */
#ifndef __MTIA_DIRECT_USAGE_H__
#define __MTIA_DIRECT_USAGE_H__

#include <linux/types.h>

#include "mtia_job.h"

struct mtia_device;

/**
 * struct mtia_direct_usage - what a hardware queue's engines spent on a
 *	direct queue since it was enabled.
 * @raw: MTIA_Q_BUSY_* as last read, per enum mtia_engine_class.
 * @ns: time accounted to the direct queue so far, per engine class.
 * @have_raw: @raw holds a value read from the device.
 */
struct mtia_direct_usage {
	u64 raw[MTIA_ENGINE_NR];
	u64 ns[MTIA_ENGINE_NR];
	bool have_raw[MTIA_ENGINE_NR];
};

bool mtia_direct_usage_supported(struct mtia_device *mdev);
void mtia_direct_usage_start(struct mtia_device *mdev, unsigned int q,
			     struct mtia_direct_usage *u);
void mtia_direct_usage_sample(struct mtia_device *mdev, unsigned int q,
			      struct mtia_direct_usage *u);

#endif /* __MTIA_DIRECT_USAGE_H__ */
