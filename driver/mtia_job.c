// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: the job object (struct mtia_job, mtia_job.h).
 *
 * A job is one SUBMIT: its device commands, the BOs it references (host
 * BOs pinned, each with a device SG table), its user queue (referenced)
 * and two fences. The hardware fence is what run_job returns: the CQ
 * handler signals it when the job's last command completed
 * (mtia_job_hw_done_locked(), with -EFAULT if an operand did not translate
 * in the device MMU, -EIO if a command failed otherwise), or a reset
 * signals it with the job dropped from the hardware; a job run again after
 * a reset gets a new one. The scheduler's finished fence is what WAIT,
 * syncobjs and the BOs' reservations see; a callback on it traces
 * mtia_fence_signal.
 *
 * mtia_submit.c builds a job step by step and mtia_job_release() undoes
 * whatever of it was built, so every step of SUBMIT may fail with the job
 * half made; once pushed, drm_sched owns the job and free_job
 * (mtia_sched.c) frees it with mtia_job_free().
 */

#include <linux/dma-mapping.h>
#include <linux/ktime.h>
#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include <drm/drm_gem.h>

#include "mtia_drv.h"
#include "mtia_file.h"
#include "mtia_trace.h"

static const char *mtia_fence_driver_name(struct dma_fence *f)
{
	return MTIA_DRIVER_NAME;
}

static const char *mtia_fence_timeline_name(struct dma_fence *f)
{
	return "mtia-hwq";
}

static const struct dma_fence_ops mtia_hw_fence_ops = {
	.get_driver_name = mtia_fence_driver_name,
	.get_timeline_name = mtia_fence_timeline_name,
};

/**
 * mtia_job_create() - a new, empty job for a user queue.
 * @mdev: the device.
 * @uq: the user queue; the job takes its own reference.
 * @ctx: context id of the submitting file.
 *
 * The job keeps the device resumed (a runtime-PM reference) until it is
 * released, so the device never suspends with work on its queues.
 *
 * Return: the job (free it with mtia_job_release() until it is pushed),
 * ERR_PTR(-ENOMEM), or the error of resuming the device.
 */
struct mtia_job *mtia_job_create(struct mtia_device *mdev,
				 struct mtia_uqueue *uq, u32 ctx)
{
	struct mtia_job *job;
	int ret;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job)
		return ERR_PTR(-ENOMEM);
	/* Not initialised until run_job (mtia_job_arm_hw_fence()). */
	job->hw_fence = kzalloc(sizeof(*job->hw_fence), GFP_KERNEL);
	if (!job->hw_fence) {
		kfree(job);
		return ERR_PTR(-ENOMEM);
	}
	ret = mtia_pm_get(mdev);
	if (ret) {
		kfree(job->hw_fence);
		kfree(job);
		return ERR_PTR(ret);
	}
	kref_get(&uq->ref);
	job->mdev = mdev;
	job->uq = uq;
	job->ctx = ctx;
	job->queue_id = uq->id;
	job->pid = task_tgid_nr(current);
	get_task_comm(job->comm, current);
	INIT_LIST_HEAD(&job->node);
	return job;
}

/**
 * mtia_job_arm_hw_fence() - initialise the job's hardware fence for a run
 * on @q (run_job); a job run again after a reset gets a new fence.
 * @job: the job.
 * @q: its hardware queue.
 *
 * Return: the fence, referenced for drm_sched, or ERR_PTR(-ENOMEM).
 */
struct dma_fence *mtia_job_arm_hw_fence(struct mtia_job *job,
					struct mtia_hwq *q)
{
	struct mtia_hw_fence *f = job->hw_fence;

	if (!f || f->base.ops) {
		/* Run again after a reset: a new fence for the new run. */
		f = kzalloc(sizeof(*f), GFP_NOWAIT);
		if (!f)
			return ERR_PTR(-ENOMEM);
		if (job->hw_fence)
			dma_fence_put(&job->hw_fence->base);
		job->hw_fence = f;
	}
	dma_fence_init(&f->base, &mtia_hw_fence_ops, &q->fence_lock,
		       q->fence_ctx, ++q->fence_seq);
	return dma_fence_get(&f->base);
}

/**
 * mtia_job_hw_done_locked() - the job's last command completed (CQ
 * handler): account its device time, record its status for WAIT and
 * signal its hardware fence.
 * @job: the job, off its hardware queue; caller holds its queue's
 *	&mtia_hwq.lock.
 */
void mtia_job_hw_done_locked(struct mtia_job *job)
{
	struct mtia_hwq *q = to_mtia_hwq(job->base.sched);
	u64 now = ktime_get_ns();

	lockdep_assert_held(&q->lock);

	/*
	 * On the device since it was queued, or since the job before it on
	 * this queue ended (jobs of a queue run in order; q->lock held).
	 */
	mtia_uqueue_job_done(job->uq, job,
			     now - max(job->hw_start_ns, q->last_done_ns));
	q->last_done_ns = now;

	trace_mtia_job_hw_done(&job->mdev->pdev->dev, q->idx, job,
			       mtia_job_error(job));
	if (job->first_err)
		dma_fence_set_error(&job->hw_fence->base, mtia_job_error(job));
	/* Faults of the job's own making count towards a ban. */
	if (job->first_err == MTIA_CQE_DMA_ERROR ||
	    job->first_err == MTIA_CQE_TRANSLATION_FAULT)
		mtia_usage_guilty(job->mdev, job->uq->usage,
				  mtia_cqe_status_name(job->first_err));
	dma_fence_signal(&job->hw_fence->base);
}

/**
 * mtia_job_report_fault() - say in dmesg (rate-limited) which context
 * touched which address the device MMU refused.
 * @job: the job whose command completed with MTIA_CQE_TRANSLATION_FAULT.
 * @va: the faulting VA (the completion's result).
 */
void mtia_job_report_fault(struct mtia_job *job, u64 va)
{
	dev_warn_ratelimited(&job->mdev->pdev->dev,
			     "context %u (pid %d, %s): device MMU fault at VA 0x%llx, job %llu of queue %u fails with -EFAULT\n",
			     job->ctx, job->pid, job->comm, va, job->seqno,
			     job->queue_id);
}

/* The job's finished fence signalled: what WAIT and syncobjs see. */
static void mtia_job_finished_cb(struct dma_fence *f, struct dma_fence_cb *cb)
{
	struct mtia_job *job = container_of(cb, struct mtia_job, finished_cb);

	trace_mtia_fence_signal(&job->mdev->pdev->dev,
				to_mtia_hwq(job->base.sched)->idx, job, f->error);
}

/**
 * mtia_job_watch_finished() - trace mtia_fence_signal when the job's
 * finished fence signals.
 * @job: the job, armed.
 */
void mtia_job_watch_finished(struct mtia_job *job)
{
	job->finished_cb_added =
		!dma_fence_add_callback(&job->base.s_fence->finished,
					&job->finished_cb,
					mtia_job_finished_cb);
}

/**
 * mtia_job_release() - free a job and whatever of it was set up: SG
 * tables, pinned and referenced BOs, commands, hardware fence, queue.
 * @job: the job, not (or no longer) known to drm_sched.
 */
void mtia_job_release(struct mtia_job *job)
{
	struct device *dev = &job->mdev->pdev->dev;
	unsigned int i;

	for (i = 0; i < job->nbos; i++) {
		if (job->sgts && job->sgts[i].cpu)
			dma_free_coherent(dev, job->sgts[i].size,
					  job->sgts[i].cpu, job->sgts[i].dma);
		if (job->pinned && job->pinned[i])
			mtia_bo_unpin_for_device(job->bos[i]);
		if (job->bos && job->bos[i])
			drm_gem_object_put(job->bos[i]);
	}
	kvfree(job->bos);
	kvfree(job->pinned);
	kvfree(job->sgts);
	kvfree(job->vas);
	kvfree(job->cmds);
	if (job->hw_fence) {
		if (job->hw_fence->base.ops)
			dma_fence_put(&job->hw_fence->base);
		else
			kfree(job->hw_fence);
	}
	if (job->uq)
		mtia_uqueue_put(job->uq);
	mtia_pm_put(job->mdev);
	kfree(job);
}

/**
 * mtia_job_free() - free a pushed job (drm_sched's free_job).
 * @job: the job, its finished fence normally signalled.
 */
void mtia_job_free(struct mtia_job *job)
{
	/* A no-op once the fence signalled, which it normally has. */
	if (job->finished_cb_added)
		dma_fence_remove_callback(&job->base.s_fence->finished,
					  &job->finished_cb);
	drm_sched_job_cleanup(&job->base);
	mtia_job_release(job);
}
