// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: reset policy (docs/driver.md, "Recovery").
 *
 * - A device that reads MTIA_REG_MAGIC as anything but MTIA_MAGIC_VALUE
 *   (all-ones: the link is down, the device fell off the bus) is not reset:
 *   it is given up ("gone") at once, so there is no reset loop.
 * - More than max_resets_per_min recoveries within a minute give the device
 *   up too: a device that keeps failing is not reset forever.
 * - A gone device is dead: the firmware is not rebooted, every job fails
 *   (the queues stay down), and every ioctl of every open file returns
 *   -ENODEV (mtia_drv.c); rebinding the driver tries again.
 * - Every reset sends a KOBJ_CHANGE uevent on the accel device:
 *   MTIA_EVENT=reset, MTIA_RESET_REASON, MTIA_RESET_COUNT, MTIA_STATE.
 * - A file whose jobs are found guilty (a timeout, a DMA_ERROR completion)
 *   ban_threshold times is banned: its SUBMITs and WAITs fail with
 *   -ECANCELED; other files are unaffected.
 */

#include <linux/jiffies.h>
#include <linux/kobject.h>
#include <linux/moduleparam.h>

#include <drm/drm_file.h>

#include "mtia_drv.h"
#include "mtia_file.h"
#include "mtia_hw.h"
#include "mtia_job.h"

static unsigned int max_resets_per_min = 10;
module_param(max_resets_per_min, uint, 0644);
MODULE_PARM_DESC(max_resets_per_min,
		 "recoveries allowed within a minute before the device is given up, 1-64 (default 10)");

static unsigned int ban_threshold = 3;
module_param(ban_threshold, uint, 0644);
MODULE_PARM_DESC(ban_threshold,
		 "guilty jobs (timeouts, device faults) after which a file is banned, 0 = never (default 3)");

/**
 * mtia_device_answers() - whether BAR0 still reads as an mtia device.
 * @mdev: the device.
 *
 * Return: false if MTIA_REG_MAGIC is wrong (all-ones: link down).
 */
bool mtia_device_answers(struct mtia_device *mdev)
{
	return mtia_rd32(mdev, MTIA_REG_MAGIC) == MTIA_MAGIC_VALUE;
}

/**
 * mtia_recovery_allowed_locked() - count a recovery against the cap.
 * @mdev: the device; caller holds &mtia_jobs.reset_lock.
 *
 * Return: false if this one would be more than max_resets_per_min within
 * the last minute (it is then not recorded).
 */
bool mtia_recovery_allowed_locked(struct mtia_device *mdev)
{
	unsigned int max = clamp(READ_ONCE(max_resets_per_min), 1U,
				 (unsigned int)MTIA_RECOVERY_HISTORY);
	unsigned int i, recent = 0;
	unsigned long now = jiffies;

	lockdep_assert_held(&mdev->jobs->reset_lock);
	for (i = 0; i < MTIA_RECOVERY_HISTORY; i++) {
		unsigned long t = mdev->recoveries[i];

		if (t && time_before(now, t + 60 * HZ))
			recent++;
	}
	if (recent >= max)
		return false;
	mdev->recoveries[mdev->recoveries_next] = now ?: 1;
	mdev->recoveries_next = (mdev->recoveries_next + 1) %
				MTIA_RECOVERY_HISTORY;
	return true;
}

/**
 * mtia_device_gone_locked() - give the device up: firmware dead, ioctls
 * -ENODEV. The caller's reset path then fails every job.
 * @mdev: the device; caller holds &mtia_jobs.reset_lock.
 * @why: for the log.
 */
void mtia_device_gone_locked(struct mtia_device *mdev, const char *why)
{
	lockdep_assert_held(&mdev->jobs->reset_lock);
	if (READ_ONCE(mdev->gone))
		return;
	dev_err(&mdev->pdev->dev,
		"device given up: %s; ioctls fail with -ENODEV until the driver is rebound\n",
		why);
	mtia_mbox_stop(mdev);
	WRITE_ONCE(mdev->fw_state, MTIA_FW_DEAD);
	WRITE_ONCE(mdev->gone, true);
}

/**
 * mtia_recovery_uevent() - KOBJ_CHANGE on the accel device after a reset.
 * @mdev: the device.
 * @reason: "timeout", "watchdog", "sysfs", ...
 */
void mtia_recovery_uevent(struct mtia_device *mdev, const char *reason)
{
	char event_env[] = "MTIA_EVENT=reset";
	char reason_env[64], count_env[32], state_env[32];
	char *envp[5];

	if (!mdev->drm.accel || !mdev->drm.accel->kdev)
		return;
	snprintf(reason_env, sizeof(reason_env), "MTIA_RESET_REASON=%s",
		 reason);
	snprintf(count_env, sizeof(count_env), "MTIA_RESET_COUNT=%d",
		 atomic_read(&mdev->reset_count));
	snprintf(state_env, sizeof(state_env), "MTIA_STATE=%s",
		 READ_ONCE(mdev->gone) ? "gone" :
		 mtia_fw_state_name(READ_ONCE(mdev->fw_state)));
	envp[0] = event_env;
	envp[1] = reason_env;
	envp[2] = count_env;
	envp[3] = state_env;
	envp[4] = NULL;
	kobject_uevent_env(&mdev->drm.accel->kdev->kobj, KOBJ_CHANGE, envp);
}

/**
 * mtia_usage_guilty() - a job of the file @usage belongs to was guilty;
 * ban the file at ban_threshold. Any context (atomics only).
 * @mdev: the device, for the log.
 * @usage: the file's accounting.
 * @what: what the job did, for the log.
 */
void mtia_usage_guilty(struct mtia_device *mdev, struct mtia_usage *usage,
		       const char *what)
{
	unsigned int limit = READ_ONCE(ban_threshold);
	int n = atomic_inc_return(&usage->guilty);

	if (!limit || n != limit)
		return;
	WRITE_ONCE(usage->banned, true);
	dev_info(&mdev->pdev->dev,
		 "a file's jobs were guilty %d times (last: %s): file banned, its submits and waits fail with -ECANCELED\n",
		 n, what);
}
