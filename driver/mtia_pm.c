// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: runtime power management.
 *
 * An idle device autosuspends: after autosuspend_ms (module parameter, the
 * initial power/autosuspend_delay_ms of each device) with no user, the
 * driver stops the firmware and the PCI core puts the function in D3hot,
 * which resets the device's logic (docs/device-spec.md, "PCI
 * capabilities"); device memory keeps its contents, so BOs survive. The
 * next user resumes it: D0, the firmware is booted again and the hardware
 * queues are programmed, as after a watchdog recovery.
 *
 * Users hold a runtime-PM reference while they need the hardware
 * (mtia_pm_get()/mtia_pm_put()): every job from SUBMIT until it is freed
 * (so the queues are empty whenever the device suspends), every admin
 * mailbox session, telemetry register reads (sysfs, hwmon: reading a
 * sensor wakes the device, as nvidia-smi wakes a GPU), debugfs register
 * dumps, device-memory clearing for a new BO and faults on a device BO's
 * mapping. Suspending zaps user mappings of BOs, so the next access to
 * device memory faults and resumes the device first. The heartbeat watchdog
 * only checks an active device (pm_runtime_get_if_active()).
 *
 * PCI devices start with runtime PM forbidden; probe allows it, so
 * power/control reads "auto" (writing "on" keeps the device awake).
 * System sleep uses the same two steps (pm_runtime_force_suspend/resume),
 * after the schedulers have drained the hardware queues.
 */

#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>

#include "mtia_hw.h"
#include "mtia_job.h"

static int autosuspend_ms = 5000;
module_param(autosuspend_ms, int, 0444);
MODULE_PARM_DESC(autosuspend_ms,
		 "idle time before the device is suspended to D3hot, ms; < 0 = never (default 5000; per device: power/autosuspend_delay_ms)");

/**
 * mtia_pm_get() - take a runtime-PM reference, resuming the device if it
 * is suspended.
 * @mdev: the device.
 *
 * Return: 0 (release with mtia_pm_put()) or a negative errno if the device
 * could not be resumed (no reference is held then).
 */
int mtia_pm_get(struct mtia_device *mdev)
{
	int ret = pm_runtime_resume_and_get(&mdev->pdev->dev);

	if (ret)
		dev_err_ratelimited(&mdev->pdev->dev, "cannot resume the device (%d)\n",
				    ret);
	return ret;
}

/**
 * mtia_pm_put() - release a reference from mtia_pm_get(); the idle timer
 * restarts now.
 * @mdev: the device.
 */
void mtia_pm_put(struct mtia_device *mdev)
{
	pm_runtime_mark_last_busy(&mdev->pdev->dev);
	pm_runtime_put_autosuspend(&mdev->pdev->dev);
}

/**
 * mtia_pm_enable() - at the end of probe: autosuspend from now on. Drops
 * the reference the PCI core took for probe.
 * @mdev: the device, firmware ready.
 */
void mtia_pm_enable(struct mtia_device *mdev)
{
	struct device *dev = &mdev->pdev->dev;

	pm_runtime_set_autosuspend_delay(dev, autosuspend_ms);
	pm_runtime_use_autosuspend(dev);
	pm_runtime_allow(dev);
	mtia_pm_put(mdev);
}

/**
 * mtia_pm_disable() - at the start of remove (the PCI core has resumed the
 * device and holds a reference): no more suspends.
 * @mdev: the device.
 */
void mtia_pm_disable(struct mtia_device *mdev)
{
	struct device *dev = &mdev->pdev->dev;

	pm_runtime_get_noresume(dev);
	pm_runtime_forbid(dev);
	pm_runtime_dont_use_autosuspend(dev);
}

static int mtia_pm_runtime_suspend(struct device *dev)
{
	struct mtia_device *mdev = pci_get_drvdata(to_pci_dev(dev));

	if (READ_ONCE(mdev->fw_state) == MTIA_FW_DEAD)
		return 0;
	/* The next access to a BO's memory faults, and resumes first. */
	mtia_bo_unmap_all(mdev);
	mtia_mbox_stop(mdev);
	mutex_lock(&mdev->mbox_lock);
	/* fw_version stays: the same image boots at resume. */
	WRITE_ONCE(mdev->fw_state, MTIA_FW_SUSPENDED);
	mutex_unlock(&mdev->mbox_lock);
	/* Stop the control core before D3hot powers the logic down. */
	mtia_hw_reset(mdev);
	dev_dbg(dev, "suspended\n");
	return 0;
}

static int mtia_pm_runtime_resume(struct device *dev)
{
	struct mtia_device *mdev = pci_get_drvdata(to_pci_dev(dev));
	int ret;

	if (READ_ONCE(mdev->fw_state) != MTIA_FW_SUSPENDED)
		return 0;	/* dead: nothing to bring back */
	mutex_lock(&mdev->mbox_lock);
	ret = mtia_health_restart_locked(mdev);
	mutex_unlock(&mdev->mbox_lock);
	if (ret) {
		dev_err(dev, "cannot resume: firmware boot failed (%d), device is dead\n",
			ret);
		return ret;
	}
	mtia_hwq_program_all(mdev);
	dev_dbg(dev, "resumed\n");
	return 0;
}

/* Jobs the hardware has get this long to finish before system sleep. */
#define MTIA_PM_DRAIN_MS	5000

/*
 * System sleep: stop the schedulers (no new job reaches the hardware) and
 * wait for the last job each hardware queue has. A job still running after
 * MTIA_PM_DRAIN_MS stays on its queue; after resume its timeout resets the
 * device and runs it again (mtia_sched.c).
 */
static void mtia_jobs_pause(struct mtia_device *mdev)
{
	unsigned int i;

	for (i = 0; i < MTIA_NUM_QUEUES; i++)
		drm_sched_wqueue_stop(&mdev->jobs->hwq[i].sched);
	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		struct mtia_hwq *q = &mdev->jobs->hwq[i];
		struct dma_fence *last = NULL;
		struct mtia_job *job;
		unsigned long flags;

		spin_lock_irqsave(&q->lock, flags);
		job = list_empty(&q->jobs) ? NULL :
			list_last_entry(&q->jobs, struct mtia_job, node);
		if (job)
			last = dma_fence_get(&job->hw_fence->base);
		spin_unlock_irqrestore(&q->lock, flags);
		if (!last)
			continue;
		if (dma_fence_wait_timeout(last, false,
					   msecs_to_jiffies(MTIA_PM_DRAIN_MS)) <= 0)
			dev_warn(&mdev->pdev->dev, "hardware queue %u still busy at system suspend\n",
				 i);
		dma_fence_put(last);
	}
}

static void mtia_jobs_unpause(struct mtia_device *mdev)
{
	unsigned int i;

	for (i = 0; i < MTIA_NUM_QUEUES; i++)
		drm_sched_wqueue_start(&mdev->jobs->hwq[i].sched);
}

/* System sleep: let the hardware queues drain, then as at runtime. */
static int mtia_pm_suspend(struct device *dev)
{
	struct mtia_device *mdev = pci_get_drvdata(to_pci_dev(dev));
	int ret;

	mtia_jobs_pause(mdev);
	ret = pm_runtime_force_suspend(dev);
	if (ret)
		mtia_jobs_unpause(mdev);
	return ret;
}

static int mtia_pm_resume(struct device *dev)
{
	struct mtia_device *mdev = pci_get_drvdata(to_pci_dev(dev));
	int ret = pm_runtime_force_resume(dev);

	mtia_jobs_unpause(mdev);
	return ret;
}

const struct dev_pm_ops mtia_pm_ops = {
	SYSTEM_SLEEP_PM_OPS(mtia_pm_suspend, mtia_pm_resume)
	RUNTIME_PM_OPS(mtia_pm_runtime_suspend, mtia_pm_runtime_resume, NULL)
};
