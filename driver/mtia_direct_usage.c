// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: the device time of direct queues' commands,
 * for fdinfo's drm-engine-* (Documentation/gpu/drm-usage-stats.rst).
 *
 * The kernel never sees a direct queue's commands, so it cannot time them
 * as it times its jobs. The device counts it instead (interface 1.5,
 * MTIA_Q_BUSY_*): per hardware queue, the time the data engine and the PE
 * grid spent on the queue's commands, as the engines count their busy time
 * for telemetry (the throttle pacer's stretch included), since power-on and
 * never reset. A direct queue takes the counters' values when it is
 * enabled and accounts their growth since; a decrease means the counters
 * restarted (a migration's destination) and counts from 0. A value of all
 * ones is a device that does not answer (link down) and is skipped.
 *
 * mtia_direct.c samples the counters under &mtia_jobs.direct_lock: for
 * fdinfo, when the queue is disabled (its total then goes into its file's,
 * so the file's engine time never goes back), and once after a device reset
 * (which disabled the queue: the counters stand still after it).
 */

#include <linux/limits.h>

#include "mtia_direct_usage.h"
#include "mtia_drv.h"
#include "mtia_hw.h"

/* MTIA_Q_BUSY_*_LO per enum mtia_engine_class; the HI half follows it. */
static const u32 mtia_busy_lo[MTIA_ENGINE_NR] = {
	[MTIA_ENGINE_DMA] = MTIA_Q_BUSY_DMA_LO,
	[MTIA_ENGINE_COMPUTE] = MTIA_Q_BUSY_PE_LO,
};

/**
 * mtia_direct_usage_supported() - whether the device counts per-queue
 * engine time (interface 1.5).
 * @mdev: the device.
 *
 * Return: true if MTIA_Q_BUSY_* exist.
 */
bool mtia_direct_usage_supported(struct mtia_device *mdev)
{
	return mdev->info.if_minor >= 5;
}

/* One counter: HI, LO, HI again (no latch); false if it cannot be read. */
static bool mtia_direct_busy_read(struct mtia_device *mdev, unsigned int q,
				  enum mtia_engine_class e, u64 *ns)
{
	u32 lo_reg = MTIA_REG_Q(q, mtia_busy_lo[e]);
	u32 hi, lo, again;
	int tries;

	for (tries = 0; tries < 3; tries++) {
		hi = mtia_rd32(mdev, lo_reg + 4);
		lo = mtia_rd32(mdev, lo_reg);
		again = mtia_rd32(mdev, lo_reg + 4);
		if (hi == again) {
			*ns = (u64)hi << 32 | lo;
			return *ns != U64_MAX;
		}
	}
	return false;	/* a counter cannot carry into HI three times */
}

/**
 * mtia_direct_usage_start() - a direct queue is about to be enabled on
 * hardware queue @q: account from the counters' values now.
 * @mdev: the device.
 * @q: the hardware queue.
 * @u: the direct queue's usage, zeroed here.
 */
void mtia_direct_usage_start(struct mtia_device *mdev, unsigned int q,
			     struct mtia_direct_usage *u)
{
	unsigned int e;

	*u = (struct mtia_direct_usage){};
	if (!mtia_direct_usage_supported(mdev))
		return;
	for (e = 0; e < MTIA_ENGINE_NR; e++)
		u->have_raw[e] = mtia_direct_busy_read(mdev, q, e, &u->raw[e]);
}

/**
 * mtia_direct_usage_sample() - add what hardware queue @q's counters grew
 * by since the last read to @u. The caller is inside drm_dev_enter().
 * @mdev: the device.
 * @q: the hardware queue.
 * @u: the direct queue's usage.
 */
void mtia_direct_usage_sample(struct mtia_device *mdev, unsigned int q,
			      struct mtia_direct_usage *u)
{
	unsigned int e;
	u64 now;

	if (!mtia_direct_usage_supported(mdev))
		return;
	for (e = 0; e < MTIA_ENGINE_NR; e++) {
		if (!mtia_direct_busy_read(mdev, q, e, &now))
			continue;
		if (u->have_raw[e])
			u->ns[e] += now >= u->raw[e] ? now - u->raw[e] : now;
		u->raw[e] = now;
		u->have_raw[e] = true;
	}
}
