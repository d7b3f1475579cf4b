// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: firmware heartbeat watchdog and recovery.
 *
 * A delayed work item checks the running firmware every watchdog_ms: the
 * control core must not have halted (FW_BOOT_STATUS), the firmware must not
 * report an error (FW_STATUS), and FW_HEARTBEAT must have moved within the
 * last max(watchdog_ms, 3 x heartbeat period). MTIA_IRQ_FW_EVENT also kicks
 * the check at once, so a trap is handled without waiting for the period.
 *
 * Recovery closes the mailbox (waiting commands fail with -EIO), takes the
 * mailbox lock, resets the device, re-enables its interrupts and boots the
 * firmware again. If that fails the device is left reset and "dead": admin
 * commands and ioctls fail, the watchdog stops, and only unbinding the
 * driver (or reloading it) tries again. watchdog_ms can be changed at run
 * time; 0 turns the checks off (the work item then idles once a second).
 *
 * Every reset runs in the device's reset domain, the ordered workqueue
 * &mtia_jobs.timeout_wq: the schedulers' timeout handlers, this watchdog,
 * and through mtia_health_reset_sync() the sysfs and PCIe error resets.
 * One reset at a time, none beside a timeout handler (whose job drm_sched
 * holds off its list: it would be lost).
 *
 * Every reset first takes a devcoredump (mtia_coredump.c) and ends with a
 * uevent; a device that no longer answers (link down) or needs more than
 * max_resets_per_min recoveries a minute is given up instead of being
 * reset again (mtia_recovery.c).
 */

#include <linux/jiffies.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/pm_runtime.h>
#include <linux/workqueue.h>

#include <drm/drm_drv.h>

#include "mtia_file.h"
#include "mtia_hw.h"
#include "mtia_job.h"
#include "mtia_trace.h"

static unsigned int watchdog_ms = 1000;
module_param(watchdog_ms, uint, 0644);
MODULE_PARM_DESC(watchdog_ms,
		 "firmware heartbeat check period in ms, 0 = no watchdog (default 1000)");

#define MTIA_HEALTH_IDLE_MS	1000	/* re-check period while watchdog_ms = 0 */

static unsigned long mtia_health_period(void)
{
	unsigned int ms = READ_ONCE(watchdog_ms);

	return msecs_to_jiffies(ms ? max(ms, 10U) : MTIA_HEALTH_IDLE_MS);
}

/**
 * mtia_health_restart_locked() - reset the device and boot its firmware
 * (recovery, runtime resume); on failure leave it reset and dead.
 * @mdev: the device; caller holds &mtia_device.mbox_lock.
 *
 * Return: 0 or a negative errno.
 */
int mtia_health_restart_locked(struct mtia_device *mdev)
{
	int ret;

	lockdep_assert_held(&mdev->mbox_lock);
	ret = mtia_hw_reset(mdev);
	if (!ret) {
		mtia_irq_enable(mdev);
		ret = mtia_fw_boot_locked(mdev);
	}
	if (ret) {
		mtia_hw_reset(mdev);
		WRITE_ONCE(mdev->fw_state, MTIA_FW_DEAD);
	}
	return ret;
}

/* Caller holds &mtia_jobs.reset_lock. Return: 0 or a negative errno. */
static int mtia_health_recover_locked(struct mtia_device *mdev)
{
	struct device *dev = &mdev->pdev->dev;
	int ret;

	lockdep_assert_held(&mdev->jobs->reset_lock);
	mtia_mbox_stop(mdev);
	mutex_lock(&mdev->mbox_lock);
	WRITE_ONCE(mdev->fw_state, MTIA_FW_RECOVERING);
	atomic_inc(&mdev->reset_count);
	dev_info(dev, "resetting the device and rebooting the firmware (recovery %d)\n",
		 atomic_read(&mdev->reset_count));

	ret = mtia_health_restart_locked(mdev);
	if (ret) {
		dev_err(dev, "firmware recovery failed (%d): device is dead until the driver is rebound\n",
			ret);
	} else {
		dev_info(dev, "firmware recovered after reset %d\n",
			 atomic_read(&mdev->reset_count));
	}
	mutex_unlock(&mdev->mbox_lock);
	return ret;
}

/*
 * Recover unless the device is gone (link down) or has used up its
 * recoveries for the minute. Caller holds &mtia_jobs.reset_lock.
 */
static int mtia_health_recover_checked_locked(struct mtia_device *mdev)
{
	lockdep_assert_held(&mdev->jobs->reset_lock);
	if (!mtia_device_answers(mdev)) {
		mtia_device_gone_locked(mdev, "BAR0 reads all-ones (link down or device lost)");
		return -ENODEV;
	}
	if (!mtia_recovery_allowed_locked(mdev)) {
		mtia_device_gone_locked(mdev, "over max_resets_per_min recoveries a minute");
		mtia_hw_reset(mdev);	/* quiet: no DMA, no interrupts */
		return -ENODEV;
	}
	return mtia_health_recover_locked(mdev);
}

/**
 * mtia_health_reset() - reset the device with its jobs: stop the
 * schedulers, reset and reboot the firmware (unless the device is dead or
 * gone), program the queues and run the interrupted jobs again. Runs in
 * the reset domain only (on &mtia_jobs.timeout_wq: a timeout handler, the
 * watchdog, mtia_health_reset_sync()).
 * @mdev: the device.
 * @timed_out: the job whose timeout handler this is (drm_sched took it off
 *	its list), or NULL.
 * @guilty: @timed_out is to blame: it is cancelled with its queue's later
 *	jobs and counts towards its file's ban. Otherwise it runs again.
 * @reason: why, for the mtia_reset_begin/end tracepoints ("timeout",
 *	"watchdog", "sysfs").
 */
void mtia_health_reset(struct mtia_device *mdev,
		       struct drm_sched_job *timed_out, bool guilty,
		       const char *reason)
{
	struct device *dev = &mdev->pdev->dev;
	struct drm_sched_job *bad = guilty ? timed_out : NULL;
	int idx, ret = -ENODEV;

	mutex_lock(&mdev->jobs->reset_lock);
	trace_mtia_reset_begin(dev, reason, atomic_read(&mdev->reset_count));
	mtia_jobs_reset_begin_locked(mdev, timed_out, guilty);
	if (bad)
		mtia_usage_guilty(mdev, to_mtia_job(bad)->uq->usage, "timeout");
	if (drm_dev_enter(&mdev->drm, &idx)) {
		ret = -EIO;
		if (READ_ONCE(mdev->fw_state) != MTIA_FW_DEAD) {
			mtia_coredump_capture_locked(mdev, reason, bad);
			ret = mtia_health_recover_checked_locked(mdev);
		}
		drm_dev_exit(idx);
	}
	mtia_jobs_reset_end_locked(mdev);
	trace_mtia_reset_end(dev, reason, ret,
			     mtia_fw_state_name(READ_ONCE(mdev->fw_state)));
	mutex_unlock(&mdev->jobs->reset_lock);
	mtia_recovery_uevent(mdev, reason);
}

/* A reset asked for from outside the reset domain. */
struct mtia_reset_request {
	struct work_struct work;
	struct mtia_device *mdev;
	const char *reason;
};

static void mtia_reset_request_work(struct work_struct *work)
{
	struct mtia_reset_request *req =
		container_of(work, struct mtia_reset_request, work);

	mtia_health_reset(req->mdev, NULL, false, req->reason);
}

/**
 * mtia_health_reset_sync() - reset the device (sysfs, PCIe error recovery)
 * in the reset domain and wait for it. A timeout handler holds its job off
 * drm_sched's list while it runs: a reset beside it would neither re-run
 * nor cancel that job but fail it as if guilty. On the ordered
 * &mtia_jobs.timeout_wq resets run one at a time, and each one's
 * drm_sched_stop() cancels the timeouts queued behind it.
 * @mdev: the device.
 * @reason: as for mtia_health_reset().
 */
void mtia_health_reset_sync(struct mtia_device *mdev, const char *reason)
{
	struct mtia_reset_request req = { .mdev = mdev, .reason = reason };

	INIT_WORK_ONSTACK(&req.work, mtia_reset_request_work);
	queue_work(mdev->jobs->timeout_wq, &req.work);
	flush_work(&req.work);
	destroy_work_on_stack(&req.work);
}

/**
 * mtia_health_check() - whether the firmware needs a reset (and say why).
 * @mdev: the device, awake; in the reset domain (the watchdog, a timeout
 *	handler), which also protects the heartbeat bookkeeping.
 *
 * Return: true if the device does not answer or the firmware halted,
 * reported an error or stopped its heartbeat.
 */
bool mtia_health_check(struct mtia_device *mdev)
{
	struct device *dev = &mdev->pdev->dev;
	unsigned int stall_ms;
	u32 boot, status, hb;

	if (!mtia_device_answers(mdev)) {
		dev_err(dev, "device does not answer: BAR0 reads 0x%08x\n",
			mtia_rd32(mdev, MTIA_REG_MAGIC));
		return true;
	}

	boot = mtia_rd32(mdev, MTIA_REG_FW_BOOT_STATUS);
	if (boot == MTIA_BOOT_HALTED) {
		mtia_fw_log_halt(mdev, "firmware halted");
		return true;
	}
	if (boot != MTIA_BOOT_RUNNING) {
		dev_err(dev, "firmware stalled: control core not running (boot status 0x%02x)\n",
			boot);
		return true;
	}
	status = mtia_rd32(mdev, MTIA_REG_FW_STATUS);
	if (status != MTIA_FW_STATUS_READY) {
		dev_err(dev, "firmware %s: FW_STATUS %u (expected ready); see debugfs fw_log\n",
			status == MTIA_FW_STATUS_ERROR ?
			"reported an error" : "left the ready state", status);
		return true;
	}

	hb = mtia_rd32(mdev, MTIA_REG_FW_HEARTBEAT);
	if (hb != mdev->hb_last) {
		mdev->hb_last = hb;
		mdev->hb_changed = jiffies;
		return false;
	}
	stall_ms = max(READ_ONCE(watchdog_ms), 3 * mdev->fw_heartbeat_ms);
	if (time_before(jiffies, mdev->hb_changed + msecs_to_jiffies(stall_ms)))
		return false;

	dev_err(dev, "firmware stalled: heartbeat stuck at %u for %u ms (period %u ms), %llu instructions retired\n",
		hb, jiffies_to_msecs(jiffies - mdev->hb_changed),
		mdev->fw_heartbeat_ms,
		mtia_rd64(mdev, MTIA_REG_FW_INSTRET_LO, MTIA_REG_FW_INSTRET_HI));
	return true;
}

static void mtia_health_work(struct work_struct *work)
{
	struct mtia_device *mdev = container_of(to_delayed_work(work),
						struct mtia_device,
						health_work);

	/* A suspended device is not checked, nor woken up to be. */
	if (pm_runtime_get_if_active(&mdev->pdev->dev) > 0) {
		if (READ_ONCE(watchdog_ms) &&
		    READ_ONCE(mdev->fw_state) == MTIA_FW_READY &&
		    mtia_health_check(mdev))
			mtia_health_reset(mdev, NULL, false, "watchdog");
		/* Not a use: the idle timer runs on from the last one. */
		pm_runtime_put_autosuspend(&mdev->pdev->dev);
	}

	if (READ_ONCE(mdev->fw_state) != MTIA_FW_DEAD)
		queue_delayed_work(mdev->jobs->timeout_wq, &mdev->health_work,
				   mtia_health_period());
}

/**
 * mtia_health_init() - prepare the watchdog (not running yet).
 * @mdev: the device.
 */
void mtia_health_init(struct mtia_device *mdev)
{
	INIT_DELAYED_WORK(&mdev->health_work, mtia_health_work);
	atomic_set(&mdev->reset_count, 0);
	atomic_set(&mdev->lost_irqs, 0);
	mdev->health_on = false;
}

/**
 * mtia_health_start() - start the watchdog once the firmware is ready.
 * @mdev: the device.
 */
void mtia_health_start(struct mtia_device *mdev)
{
	WRITE_ONCE(mdev->health_on, true);
	queue_delayed_work(mdev->jobs->timeout_wq, &mdev->health_work, mtia_health_period());
}

/**
 * mtia_health_stop() - stop the watchdog for good; waits for a running
 * check or recovery to finish. Later kicks and re-queues are no-ops.
 * @mdev: the device.
 */
void mtia_health_stop(struct mtia_device *mdev)
{
	WRITE_ONCE(mdev->health_on, false);
	disable_delayed_work_sync(&mdev->health_work);
}

/**
 * mtia_health_kick() - run the check now (from the interrupt handler, on
 * MTIA_IRQ_FW_EVENT while the firmware is ready).
 * @mdev: the device.
 */
void mtia_health_kick(struct mtia_device *mdev)
{
	if (READ_ONCE(mdev->health_on) && READ_ONCE(watchdog_ms) &&
	    READ_ONCE(mdev->fw_state) == MTIA_FW_READY)
		mod_delayed_work(mdev->jobs->timeout_wq, &mdev->health_work, 0);
}

/**
 * mtia_health_pause() - hold the watchdog off while someone else resets the
 * device (PCIe error recovery); waits for a running check or recovery.
 * @mdev: the device.
 */
void mtia_health_pause(struct mtia_device *mdev)
{
	if (!mdev->health_paused) {
		mdev->health_paused = true;
		disable_delayed_work_sync(&mdev->health_work);
	}
}

/**
 * mtia_health_unpause() - undo mtia_health_pause().
 * @mdev: the device.
 */
void mtia_health_unpause(struct mtia_device *mdev)
{
	if (!mdev->health_paused)
		return;
	mdev->health_paused = false;
	if (enable_delayed_work(&mdev->health_work) &&
	    READ_ONCE(mdev->health_on) &&
	    READ_ONCE(mdev->fw_state) != MTIA_FW_DEAD)
		queue_delayed_work(mdev->jobs->timeout_wq, &mdev->health_work,
				   mtia_health_period());
}

/**
 * mtia_health_mark_dead() - give the device up without trying a reset (it
 * no longer answers): admin commands fail, jobs on the hardware fail with
 * -ECANCELED, later jobs are refused; rebinding the driver tries again.
 * @mdev: the device.
 * @reason: for dmesg and the reset tracepoints.
 */
void mtia_health_mark_dead(struct mtia_device *mdev, const char *reason)
{
	mtia_mbox_stop(mdev);
	mutex_lock(&mdev->mbox_lock);
	WRITE_ONCE(mdev->fw_state, MTIA_FW_DEAD);
	mutex_unlock(&mdev->mbox_lock);
	dev_err(&mdev->pdev->dev, "device marked dead (%s)\n", reason);
	mtia_health_reset_sync(mdev, reason);
}
