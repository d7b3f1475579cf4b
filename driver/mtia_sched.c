// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: the drm_sched backend and device resets with
 * jobs.
 *
 * One DRM GPU scheduler per hardware queue. A file's queue (QUEUE_CREATE,
 * mtia_file.c) is a scheduler entity bound to one hardware queue of its
 * priority class (HIGH: 0-1, NORMAL: 2-5, LOW: 6-7), the one with the
 * fewest user queues (mtia_hwq_pick()), so the jobs of one queue run in
 * submission order and different queues spread over the class. run_job
 * writes a job's commands into the hardware queue (mtia_queue.c) and
 * returns a hardware fence that the CQ handler signals, with -EIO if a
 * command failed.
 *
 * A job that does not finish within job_timeout_ms resets the device: all
 * schedulers are stopped, the device is reset and its firmware rebooted
 * (the watchdog's recovery, mtia_health.c), the queues are programmed again
 * and every job that was on the hardware is run again from its first
 * command (drm_sched_resubmit_jobs(), deprecated but still the 6.12 way),
 * except the guilty job and the later jobs of its queue, which fail with
 * -ECANCELED. A firmware hang caught by the watchdog takes the same path
 * without a guilty job. Re-running a job repeats its commands: COPY, FILL
 * and TIMESTAMP are idempotent unless a job copies onto its own source.
 */

#include <linux/idr.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/moduleparam.h>
#include <linux/workqueue.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>

#include "mtia_direct.h"
#include "mtia_drv.h"
#include "mtia_job.h"
#include "mtia_trace.h"

static unsigned int job_timeout_ms = 5000;
module_param(job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "time a job may run before the device is reset, ms (default 5000)");

/**
 * mtia_job_timeout_ms() - how long a job may run before the device is
 * reset (also how long a DIRECT_SIGNAL fence may wait: mtia_direct_fence.c).
 *
 * Return: milliseconds.
 */
unsigned int mtia_job_timeout_ms(void)
{
	return job_timeout_ms ?: 5000;
}

/* ---- backend ops --------------------------------------------------------- */

/*
 * Why a queue that is down refuses a job: the device was removed or given
 * up (-ENODEV, as the file's later ioctls say), or a reset left the
 * firmware down (-ECANCELED).
 */
static int mtia_hwq_down_error(struct mtia_device *mdev)
{
	if (drm_dev_is_unplugged(&mdev->drm) || READ_ONCE(mdev->gone))
		return -ENODEV;
	return -ECANCELED;
}

static struct dma_fence *mtia_run_job(struct drm_sched_job *sj)
{
	struct mtia_job *job = to_mtia_job(sj);
	struct mtia_hwq *q = to_mtia_hwq(sj->sched);
	struct device *dev = &q->mdev->pdev->dev;
	struct dma_fence *f;

	/* Cancelled by a reset (the guilty job or its queue's later jobs). */
	if (sj->s_fence->finished.error) {
		trace_mtia_run(dev, q->idx, job, sj->s_fence->finished.error);
		return NULL;
	}
	if (!READ_ONCE(q->up)) {
		int err = mtia_hwq_down_error(q->mdev);

		trace_mtia_run(dev, q->idx, job, err);
		return ERR_PTR(err);
	}

	f = mtia_job_arm_hw_fence(job, q);
	if (IS_ERR(f))
		return f;
	job->hw_start_ns = ktime_get_ns();
	trace_mtia_run(dev, q->idx, job, 0);
	mtia_hwq_queue_job(q, job);
	return f;
}

/*
 * Completions waiting in the CQ of a job that timed out: its interrupt was
 * lost (as NVMe's timeout handler checks). Consume them and give the job
 * another timeout period instead of resetting. drm_sched took the job off
 * its pending list for the handler; it goes back (as drm_sched_stop would
 * put it) so it is freed once finished.
 */
static bool mtia_timedout_lost_irq(struct drm_sched_job *sj)
{
	struct mtia_hwq *q = to_mtia_hwq(sj->sched);
	struct mtia_device *mdev = q->mdev;

	if (!mtia_hwq_poll(q))
		return false;
	spin_lock(&sj->sched->job_list_lock);
	list_add(&sj->list, &sj->sched->pending_list);
	spin_unlock(&sj->sched->job_list_lock);
	atomic_inc(&mdev->lost_irqs);
	dev_warn(&mdev->pdev->dev,
		 "hardware queue %u: job %llu timed out with completions waiting (lost interrupt); completed them, no reset\n",
		 q->idx, to_mtia_job(sj)->seqno);
	return true;
}

static enum drm_gpu_sched_stat mtia_timedout_job(struct drm_sched_job *sj)
{
	struct mtia_job *job = to_mtia_job(sj);
	struct mtia_hwq *q = to_mtia_hwq(sj->sched);
	struct mtia_device *mdev = q->mdev;

	if (mtia_timedout_lost_irq(sj))
		return DRM_GPU_SCHED_STAT_NOMINAL;

	/*
	 * The firmware failed under the job (a trap the watchdog has not
	 * handled yet, a stopped heartbeat): not the job's fault, so it runs
	 * again after the reset.
	 */
	if (READ_ONCE(mdev->fw_state) == MTIA_FW_READY && mtia_health_check(mdev)) {
		dev_err(&mdev->pdev->dev,
			"hardware queue %u: job %llu of queue %u timed out with the firmware down; resetting the device, the job runs again\n",
			q->idx, job->seqno, job->queue_id);
		mtia_health_reset(mdev, sj, false, "watchdog");
		return DRM_GPU_SCHED_STAT_NOMINAL;
	}

	dev_err(&mdev->pdev->dev,
		"hardware queue %u: job %llu of queue %u timed out after %u ms; resetting the device\n",
		q->idx, job->seqno, job->queue_id, job_timeout_ms);
	trace_mtia_timeout(&mdev->pdev->dev, q->idx, job->ctx, job->queue_id,
			   job->seqno, job_timeout_ms);
	mtia_health_reset(mdev, sj, true, "timeout");
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static void mtia_free_job(struct drm_sched_job *sj)
{
	mtia_job_free(to_mtia_job(sj));
}

static const struct drm_sched_backend_ops mtia_sched_ops = {
	.run_job = mtia_run_job,
	.timedout_job = mtia_timedout_job,
	.free_job = mtia_free_job,
};

/* ---- resets -------------------------------------------------------------- */

/**
 * mtia_jobs_reset_begin_locked() - stop every scheduler before a device
 * reset.
 * @mdev: the device; caller holds &mtia_jobs.reset_lock.
 * @timed_out: the job whose timeout handler resets, or NULL: back on its
 *	scheduler's list, to be re-run or (@guilty) cancelled.
 * @guilty: @timed_out is to blame (karma: drm_sched_resubmit_jobs()
 *	cancels it and its queue's later jobs).
 */
void mtia_jobs_reset_begin_locked(struct mtia_device *mdev,
				  struct drm_sched_job *timed_out, bool guilty)
{
	struct mtia_jobs *jobs = mdev->jobs;
	unsigned int i;

	lockdep_assert_held(&jobs->reset_lock);

	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		struct drm_gpu_scheduler *s = &jobs->hwq[i].sched;

		drm_sched_stop(s, timed_out && timed_out->sched == s ?
				  timed_out : NULL);
	}
	if (timed_out && guilty)
		drm_sched_increase_karma(timed_out);
	mtia_hwq_stop_all_locked(mdev);
}

/**
 * mtia_jobs_reset_end_locked() - after the device reset: program the queues
 * if the firmware came back and run the interrupted jobs again.
 * @mdev: the device; caller holds &mtia_jobs.reset_lock.
 */
void mtia_jobs_reset_end_locked(struct mtia_device *mdev)
{
	struct mtia_jobs *jobs = mdev->jobs;
	unsigned int i;

	lockdep_assert_held(&jobs->reset_lock);

	/* The device is reset: nothing of the old runs completes anymore. */
	mtia_hwq_cancel_all_locked(mdev, -ECANCELED);
	if (READ_ONCE(mdev->fw_state) == MTIA_FW_READY)
		mtia_hwq_program_all(mdev);
	for (i = 0; i < MTIA_NUM_QUEUES; i++)
		drm_sched_resubmit_jobs(&jobs->hwq[i].sched);
	for (i = 0; i < MTIA_NUM_QUEUES; i++)
		drm_sched_start(&jobs->hwq[i].sched);
	mtia_direct_lost_locked(mdev);
}

/* ---- user queue placement ------------------------------------------------ */

/**
 * mtia_hwq_pick() - the hardware queue for a new user queue.
 * @jobs: the device's job state.
 * @prio: MTIA_PRIO_* class of the user queue.
 *
 * A user queue stays on one hardware queue of its priority class, the one
 * with the fewest user queues: its completions then keep interrupting the
 * same CPU, where the waiter already is, rather than alternate between
 * queues (and CPUs) as drm_sched's per-job load balancing would. Different
 * user queues still spread over the class.
 *
 * Return: the queue, its user count raised (mtia_hwq_unpick() undoes it),
 * or NULL if the class has none.
 */
struct mtia_hwq *mtia_hwq_pick(struct mtia_jobs *jobs, u32 prio)
{
	struct mtia_hwq *best = NULL;
	unsigned int i;

	for (i = 0; i < jobs->class_n[prio]; i++) {
		struct mtia_hwq *q = to_mtia_hwq(jobs->class_scheds[prio][i]);

		if (!best || atomic_read(&q->users) < atomic_read(&best->users))
			best = q;
	}
	if (best)
		atomic_inc(&best->users);
	return best;
}

/**
 * mtia_hwq_unpick() - a user queue of @q went away.
 * @q: a queue mtia_hwq_pick() returned.
 */
void mtia_hwq_unpick(struct mtia_hwq *q)
{
	atomic_dec(&q->users);
}

/* ---- init / fini --------------------------------------------------------- */

/*
 * drm_sched_fini() stops a scheduler's work and leaves the jobs still on its
 * pending list. Remove fails every job, but a job whose free_job work had
 * not run yet when the last file closed would keep its BO references, and
 * the GEM mmap-offset manager would be torn down with them in it ("Memory
 * manager not clean"). With the work stopped, free them here first.
 */
static void mtia_sched_free_pending(struct drm_gpu_scheduler *s)
{
	struct drm_sched_job *sj, *tmp;
	LIST_HEAD(left);

	drm_sched_wqueue_stop(s);
	cancel_delayed_work_sync(&s->work_tdr);
	spin_lock(&s->job_list_lock);
	list_splice_init(&s->pending_list, &left);
	spin_unlock(&s->job_list_lock);
	list_for_each_entry_safe(sj, tmp, &left, list) {
		list_del_init(&sj->list);
		s->ops->free_job(sj);
	}
}

static void mtia_jobs_release(struct drm_device *drm, void *arg)
{
	struct mtia_jobs *jobs = arg;
	unsigned int i;

	if (jobs->sched_ready)
		for (i = 0; i < MTIA_NUM_QUEUES; i++) {
			mtia_sched_free_pending(&jobs->hwq[i].sched);
			drm_sched_fini(&jobs->hwq[i].sched);
		}
	if (jobs->timeout_wq)
		destroy_workqueue(jobs->timeout_wq);
	if (jobs->submit_wq)
		destroy_workqueue(jobs->submit_wq);
	ida_destroy(&jobs->ctx_ida);
}

/* The job state and its workqueues, released with the DRM device. */
static int mtia_jobs_alloc(struct mtia_device *mdev)
{
	struct mtia_jobs *jobs;
	int ret;

	jobs = drmm_kzalloc(&mdev->drm, sizeof(*jobs), GFP_KERNEL);
	if (!jobs)
		return -ENOMEM;
	ret = drmm_mutex_init(&mdev->drm, &jobs->reset_lock);
	if (ret)
		return ret;
	ida_init(&jobs->ctx_ida);
	jobs->timeout_wq = alloc_ordered_workqueue("mtia-tdr", 0);
	/*
	 * Not drm_sched's default (an ordered, hence unbound, workqueue per
	 * scheduler): a bound one runs run_job on the submitting CPU and
	 * free_job on the interrupted one, instead of waking a worker on
	 * another CPU, an IPI that costs far more than the job on a VM. One
	 * scheduler's run_job and free_job may then run at once, which
	 * drm_sched allows and these callbacks do not mind (they share no
	 * state but the job, which only free_job frees).
	 */
	jobs->submit_wq = alloc_workqueue("mtia-submit", WQ_MEM_RECLAIM, 0);
	ret = drmm_add_action_or_reset(&mdev->drm, mtia_jobs_release, jobs);
	if (ret)
		return ret;
	if (!jobs->timeout_wq || !jobs->submit_wq)
		return -ENOMEM;
	mdev->jobs = jobs;
	return 0;
}

/* One scheduler per hardware queue, and the schedulers of each class. */
static int mtia_sched_init_all(struct mtia_device *mdev)
{
	struct mtia_jobs *jobs = mdev->jobs;
	struct drm_sched_init_args args = {
		.ops = &mtia_sched_ops,
		.submit_wq = jobs->submit_wq,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.credit_limit = MTIA_MAX_CMDS_PER_JOB,
		.hang_limit = 0,
		.timeout_wq = jobs->timeout_wq,
		.timeout = msecs_to_jiffies(mtia_job_timeout_ms()),
		.dev = &mdev->pdev->dev,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		struct mtia_hwq *q = &jobs->hwq[i];

		spin_lock_init(&q->fence_lock);
		args.name = devm_kasprintf(&mdev->pdev->dev, GFP_KERNEL,
					   "mtia-q%u", i);
		ret = drm_sched_init(&q->sched, &args);
		if (ret) {
			while (i--)
				drm_sched_fini(&jobs->hwq[i].sched);
			return ret;
		}
	}
	jobs->sched_ready = true;
	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		u32 c = jobs->hwq[i].prio;

		if (!jobs->hwq[i].direct)
			jobs->class_scheds[c][jobs->class_n[c]++] = &jobs->hwq[i].sched;
	}
	/* Direct queues took the LOW class's hardware queues: NORMAL's serve. */
	if (!jobs->class_n[MTIA_PRIO_LOW]) {
		memcpy(jobs->class_scheds[MTIA_PRIO_LOW],
		       jobs->class_scheds[MTIA_PRIO_NORMAL],
		       sizeof(jobs->class_scheds[MTIA_PRIO_NORMAL]));
		jobs->class_n[MTIA_PRIO_LOW] = jobs->class_n[MTIA_PRIO_NORMAL];
	}
	return 0;
}

/**
 * mtia_jobs_init() - hardware queues and schedulers (queues not programmed).
 * @mdev: the device, MSI-X enabled.
 *
 * The state lives as long as the DRM device (files may outlive remove).
 *
 * Return: 0 or a negative errno.
 */
int mtia_jobs_init(struct mtia_device *mdev)
{
	int ret;

	ret = mtia_jobs_alloc(mdev);
	if (ret)
		return ret;
	ret = mtia_direct_init(mdev);
	if (ret)
		return ret;
	ret = mtia_hwq_init(mdev);
	if (ret)
		return ret;
	return mtia_sched_init_all(mdev);
}

/**
 * mtia_jobs_fini() - at remove, after the final device reset: fail every
 * job on the hardware with -ENODEV; later jobs fail in run_job. The
 * schedulers go when the DRM device is released.
 * @mdev: the device.
 */
void mtia_jobs_fini(struct mtia_device *mdev)
{
	if (!mdev->jobs)
		return;
	mutex_lock(&mdev->jobs->reset_lock);
	mtia_hwq_stop_all_locked(mdev);
	mtia_hwq_cancel_all_locked(mdev, -ENODEV);
	mtia_direct_lost_locked(mdev);
	mutex_unlock(&mdev->jobs->reset_lock);
}
