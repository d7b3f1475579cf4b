// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: jobs, SUBMIT/WAIT and the drm_sched backend.
 *
 * One DRM GPU scheduler per hardware queue. A file's queue
 * (QUEUE_CREATE) is a scheduler entity over the hardware queues of its
 * priority class (HIGH: 0-1, NORMAL: 2-5, LOW: 6-7); drm_sched moves an
 * entity between them only when it is idle, so the jobs of one queue run in
 * submission order. SUBMIT checks every command against the BOs it lists,
 * pins host BOs and builds a device SG table for each, translates the
 * commands into device commands (struct mtia_cmd) and pushes the job; run_job
 * writes them into the hardware queue (mtia_queue.c) and returns a hardware
 * fence that the CQ handler signals, with -EIO if a command failed.
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

#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/jiffies.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/drm_syncobj.h>

#include "mtia_cmd.h"
#include "mtia_hw.h"
#include "mtia_job.h"
#include "mtia_trace.h"

static unsigned int job_timeout_ms = 5000;
module_param(job_timeout_ms, uint, 0444);
MODULE_PARM_DESC(job_timeout_ms,
		 "time a job may run before the device is reset, ms (default 5000)");

/* An unmapped host bus address for the "dma" fault injection. */
#define MTIA_FAULT_DMA_ADDR	0xdead00000000ull

/**
 * struct mtia_usage - device time of one file's jobs, per engine class;
 *	shared by the file and its queues (a job may finish after its file
 *	is closed).
 * @ref: held by the file and by each of its queues.
 * @busy_ns: nanoseconds on the device, per enum mtia_engine_class.
 */
struct mtia_usage {
	struct kref ref;
	atomic64_t busy_ns[MTIA_ENGINE_NR];
};

static void mtia_usage_release(struct kref *ref)
{
	kfree(container_of(ref, struct mtia_usage, ref));
}

/**
 * struct mtia_uqueue - a file's in-order queue.
 * @ref: held by the file's table and by each job.
 * @id: queue id in the file.
 * @hwq: the hardware queue it feeds (see mtia_hwq_pick()).
 * @usage: its file's device time (referenced).
 * @entity: scheduler entity on @hwq's scheduler.
 * @lock: protects @last_seqno and orders submissions (seqno, arm, push);
 *	taken after the BOs' reservations, before @slot_lock.
 * @last_seqno: last seqno handed out.
 * @slot_lock: protects @slots; taken from the CQ handler (under
 *	&mtia_hwq.lock), elsewhere with interrupts off.
 * @slots: the finished fences, CQE statuses and device times of the last
 *	MTIA_WAIT_WINDOW jobs, indexed by seqno % MTIA_WAIT_WINDOW.
 */
struct mtia_uqueue {
	struct kref ref;
	u32 id;
	struct mtia_hwq *hwq;
	struct mtia_usage *usage;
	struct drm_sched_entity entity;
	struct mutex lock; /* see @lock above */
	u64 last_seqno;
	spinlock_t slot_lock; /* see @slot_lock above */
	struct {
		u64 seqno;
		struct dma_fence *fence;
		u16 cqe_status;
		u64 device_ns;
	} slots[MTIA_WAIT_WINDOW];
};

/**
 * struct mtia_file_priv - per open file.
 * @mdev: the device.
 * @ctx: context id written into the file's device commands.
 * @lock: protects @queues against concurrent create/destroy/lookup; a leaf
 *	lock.
 * @queues: queue id -> struct mtia_uqueue.
 * @usage: device time of the file's jobs (fdinfo).
 */
struct mtia_file_priv {
	struct mtia_device *mdev;
	u32 ctx;
	struct mutex lock; /* see @lock above */
	struct xarray queues;
	struct mtia_usage *usage;
};

static inline struct mtia_job *to_mtia_job(struct drm_sched_job *sj)
{
	return container_of(sj, struct mtia_job, base);
}

static inline struct mtia_hwq *to_mtia_hwq(struct drm_gpu_scheduler *sched)
{
	return container_of(sched, struct mtia_hwq, sched);
}

/* ---- hardware fences ---------------------------------------------------- */

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

/* ---- user queues --------------------------------------------------------- */

static void mtia_uqueue_release(struct kref *ref)
{
	struct mtia_uqueue *uq = container_of(ref, struct mtia_uqueue, ref);
	unsigned int i;

	for (i = 0; i < MTIA_WAIT_WINDOW; i++)
		dma_fence_put(uq->slots[i].fence);
	if (uq->usage)
		kref_put(&uq->usage->ref, mtia_usage_release);
	mutex_destroy(&uq->lock);
	kfree(uq);
}

static void mtia_uqueue_put(struct mtia_uqueue *uq)
{
	kref_put(&uq->ref, mtia_uqueue_release);
}

static struct mtia_uqueue *mtia_uqueue_get(struct mtia_file_priv *fpriv,
					   u32 id)
{
	struct mtia_uqueue *uq;

	mutex_lock(&fpriv->lock);
	uq = xa_load(&fpriv->queues, id);
	if (uq)
		kref_get(&uq->ref);
	mutex_unlock(&fpriv->lock);
	return uq;
}

/* ---- jobs ---------------------------------------------------------------- */

/**
 * mtia_job_hw_done() - the job's last command completed (CQ handler).
 * @job: the job, off its hardware queue; caller holds its queue's
 *	&mtia_hwq.lock.
 */
void mtia_job_hw_done(struct mtia_job *job)
{
	struct mtia_hwq *q = to_mtia_hwq(job->base.sched);
	struct mtia_uqueue *uq = job->uq;
	u64 now = ktime_get_ns();
	unsigned long flags;
	unsigned int i;

	lockdep_assert_held(&q->lock);

	/*
	 * On the device since it was queued, or since the job before it on
	 * this queue ended (jobs of a queue run in order; q->lock held).
	 */
	atomic64_add(now - max(job->hw_start_ns, q->last_done_ns),
		     &uq->usage->busy_ns[job->engine]);
	q->last_done_ns = now;

	i = job->seqno % MTIA_WAIT_WINDOW;
	spin_lock_irqsave(&uq->slot_lock, flags);
	if (uq->slots[i].seqno == job->seqno) {
		uq->slots[i].cqe_status = job->first_err;
		uq->slots[i].device_ns = job->device_ns;
	}
	spin_unlock_irqrestore(&uq->slot_lock, flags);
	trace_mtia_job_hw_done(&job->mdev->pdev->dev, q->idx, job->ctx,
			       job->queue_id, job->seqno, job->first_err,
			       job->first_err ? -EIO : 0);
	if (job->first_err)
		dma_fence_set_error(&job->hw_fence->base, -EIO);
	dma_fence_signal(&job->hw_fence->base);
}

/* The job's finished fence signalled: what WAIT and syncobjs see. */
static void mtia_job_finished_cb(struct dma_fence *f, struct dma_fence_cb *cb)
{
	struct mtia_job *job = container_of(cb, struct mtia_job, finished_cb);

	trace_mtia_fence_signal(&job->mdev->pdev->dev, job->ctx, job->queue_id,
				job->seqno, f->error);
}

static void mtia_job_release(struct mtia_job *job)
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
	kvfree(job->cmds);
	if (job->hw_fence) {
		if (job->hw_fence->base.ops)
			dma_fence_put(&job->hw_fence->base);
		else
			kfree(job->hw_fence);
	}
	if (job->uq)
		mtia_uqueue_put(job->uq);
	kfree(job);
}

static struct dma_fence *mtia_run_job(struct drm_sched_job *sj)
{
	struct mtia_job *job = to_mtia_job(sj);
	struct mtia_hwq *q = to_mtia_hwq(sj->sched);
	struct mtia_hw_fence *f;

	/* Cancelled by a reset (the guilty job or its queue's later jobs). */
	if (sj->s_fence->finished.error) {
		trace_mtia_run(&q->mdev->pdev->dev, q->idx, job->ctx,
			       job->queue_id, job->seqno, job->ncmds,
			       sj->s_fence->finished.error);
		return NULL;
	}
	if (!READ_ONCE(q->up)) {
		trace_mtia_run(&q->mdev->pdev->dev, q->idx, job->ctx,
			       job->queue_id, job->seqno, job->ncmds,
			       -ECANCELED);
		return ERR_PTR(-ECANCELED);
	}

	f = job->hw_fence;
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
	job->hw_start_ns = ktime_get_ns();
	trace_mtia_run(&q->mdev->pdev->dev, q->idx, job->ctx, job->queue_id,
		       job->seqno, job->ncmds, 0);
	mtia_hwq_queue_job(q, job);
	return dma_fence_get(&f->base);
}

static enum drm_gpu_sched_stat mtia_timedout_job(struct drm_sched_job *sj)
{
	struct mtia_job *job = to_mtia_job(sj);
	struct mtia_hwq *q = to_mtia_hwq(sj->sched);
	struct mtia_device *mdev = q->mdev;

	dev_err(&mdev->pdev->dev,
		"hardware queue %u: job %llu of queue %u timed out after %u ms; resetting the device\n",
		q->idx, job->seqno, job->uq->id, job_timeout_ms);
	trace_mtia_timeout(&mdev->pdev->dev, q->idx, job->ctx, job->queue_id,
			   job->seqno, job_timeout_ms);
	mtia_health_reset(mdev, sj, "timeout");
	return DRM_GPU_SCHED_STAT_NOMINAL;
}

static void mtia_free_job(struct drm_sched_job *sj)
{
	struct mtia_job *job = to_mtia_job(sj);

	/* A no-op once the fence signalled, which it normally has. */
	if (job->finished_cb_added)
		dma_fence_remove_callback(&sj->s_fence->finished,
					  &job->finished_cb);
	drm_sched_job_cleanup(sj);
	mtia_job_release(job);
}

static const struct drm_sched_backend_ops mtia_sched_ops = {
	.run_job = mtia_run_job,
	.timedout_job = mtia_timedout_job,
	.free_job = mtia_free_job,
};

/**
 * mtia_jobs_reset_begin() - stop every scheduler before a device reset.
 * @mdev: the device.
 * @bad: the job that timed out, or NULL (firmware failure).
 *
 * Caller holds &mtia_jobs.reset_lock.
 */
void mtia_jobs_reset_begin(struct mtia_device *mdev, struct drm_sched_job *bad)
{
	struct mtia_jobs *jobs = mdev->jobs;
	unsigned int i;

	lockdep_assert_held(&jobs->reset_lock);

	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		struct drm_gpu_scheduler *s = &jobs->hwq[i].sched;

		drm_sched_stop(s, bad && bad->sched == s ? bad : NULL);
	}
	if (bad)
		drm_sched_increase_karma(bad);
	mtia_hwq_stop_all(mdev);
}

/**
 * mtia_jobs_reset_end() - after the device reset: program the queues if the
 * firmware came back and run the interrupted jobs again.
 * @mdev: the device.
 *
 * Caller holds &mtia_jobs.reset_lock.
 */
void mtia_jobs_reset_end(struct mtia_device *mdev)
{
	struct mtia_jobs *jobs = mdev->jobs;
	unsigned int i;

	lockdep_assert_held(&jobs->reset_lock);

	/* The device is reset: nothing of the old runs completes anymore. */
	mtia_hwq_cancel_all(mdev, -ECANCELED);
	if (READ_ONCE(mdev->fw_state) == MTIA_FW_READY)
		mtia_hwq_program_all(mdev);
	for (i = 0; i < MTIA_NUM_QUEUES; i++)
		drm_sched_resubmit_jobs(&jobs->hwq[i].sched);
	for (i = 0; i < MTIA_NUM_QUEUES; i++)
		drm_sched_start(&jobs->hwq[i].sched);
}

/* ---- debugfs fault injection -------------------------------------------- */

static ssize_t mtia_fault_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct mtia_device *mdev = file_inode(file)->i_private;
	char buf[16];
	size_t n = min(len, sizeof(buf) - 1);
	int fault;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = 0;
	strim(buf);
	if (!strcmp(buf, "dma"))
		fault = MTIA_FAULT_DMA;
	else if (!strcmp(buf, "hang"))
		fault = MTIA_FAULT_HANG;
	else if (!strcmp(buf, "none"))
		fault = MTIA_FAULT_NONE;
	else
		return -EINVAL;
	atomic_set(&mdev->jobs->fault, fault);
	return len;
}

static const struct file_operations mtia_fault_fops = {
	.owner = THIS_MODULE,
	.write = mtia_fault_write,
};

/**
 * mtia_jobs_debugfs_init() - create fault_inject: write "dma" (the next
 * job's first command gets an unmapped host destination: DMA_ERROR) or
 * "hang" (the next job never reaches the device: the timeout resets it).
 * @mdev: the device.
 */
void mtia_jobs_debugfs_init(struct mtia_device *mdev)
{
	struct dentry *root = mdev->drm.debugfs_root;

	if (IS_ERR_OR_NULL(root) || !mdev->jobs)
		return;
	debugfs_create_file("fault_inject", 0200, root, mdev, &mtia_fault_fops);
}

/* ---- init / fini --------------------------------------------------------- */

static void mtia_jobs_release(struct drm_device *drm, void *arg)
{
	struct mtia_jobs *jobs = arg;
	unsigned int i;

	if (jobs->sched_ready)
		for (i = 0; i < MTIA_NUM_QUEUES; i++)
			drm_sched_fini(&jobs->hwq[i].sched);
	if (jobs->timeout_wq)
		destroy_workqueue(jobs->timeout_wq);
	if (jobs->submit_wq)
		destroy_workqueue(jobs->submit_wq);
	ida_destroy(&jobs->ctx_ida);
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
	struct drm_sched_init_args args = {
		.ops = &mtia_sched_ops,
		.num_rqs = DRM_SCHED_PRIORITY_COUNT,
		.credit_limit = MTIA_MAX_CMDS_PER_JOB,
		.hang_limit = 0,
		.timeout = msecs_to_jiffies(job_timeout_ms ?: 5000),
		.dev = &mdev->pdev->dev,
	};
	struct mtia_jobs *jobs;
	unsigned int i;
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

	ret = mtia_hwq_init(mdev);
	if (ret)
		return ret;

	args.timeout_wq = jobs->timeout_wq;
	args.submit_wq = jobs->submit_wq;
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

		jobs->class_scheds[c][jobs->class_n[c]++] = &jobs->hwq[i].sched;
	}
	return 0;
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
	mtia_hwq_stop_all(mdev);
	mtia_hwq_cancel_all(mdev, -ENODEV);
	mutex_unlock(&mdev->jobs->reset_lock);
}

/* ---- files and queues ---------------------------------------------------- */

int mtia_open(struct drm_device *drm, struct drm_file *file)
{
	struct mtia_device *mdev = to_mtia_device(drm);
	struct mtia_file_priv *fpriv;
	int ctx;

	fpriv = kzalloc(sizeof(*fpriv), GFP_KERNEL);
	if (!fpriv)
		return -ENOMEM;
	fpriv->usage = kzalloc(sizeof(*fpriv->usage), GFP_KERNEL);
	if (!fpriv->usage) {
		kfree(fpriv);
		return -ENOMEM;
	}
	kref_init(&fpriv->usage->ref);
	ctx = ida_alloc_range(&mdev->jobs->ctx_ida, 1, S32_MAX, GFP_KERNEL);
	if (ctx < 0) {
		kfree(fpriv->usage);
		kfree(fpriv);
		return ctx;
	}
	fpriv->mdev = mdev;
	fpriv->ctx = ctx;
	mutex_init(&fpriv->lock);
	xa_init_flags(&fpriv->queues, XA_FLAGS_ALLOC1);
	file->driver_priv = fpriv;
	return 0;
}

static void mtia_uqueue_destroy(struct mtia_uqueue *uq)
{
	/* Waits (bounded) until its jobs were handed to the hardware. */
	drm_sched_entity_destroy(&uq->entity);
	atomic_dec(&uq->hwq->users);
	mtia_uqueue_put(uq);
}

/*
 * A user queue stays on one hardware queue of its priority class, the one
 * with the fewest user queues: its completions then keep interrupting the
 * same CPU, where the waiter already is, rather than alternate between
 * queues (and CPUs) as drm_sched's per-job load balancing would. Different
 * user queues still spread over the class.
 */
static struct mtia_hwq *mtia_hwq_pick(struct mtia_jobs *jobs, u32 prio)
{
	struct mtia_hwq *best = NULL;
	unsigned int i;

	for (i = 0; i < jobs->class_n[prio]; i++) {
		struct mtia_hwq *q = container_of(jobs->class_scheds[prio][i],
						  struct mtia_hwq, sched);

		if (!best || atomic_read(&q->users) < atomic_read(&best->users))
			best = q;
	}
	if (best)
		atomic_inc(&best->users);
	return best;
}

void mtia_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct mtia_device *mdev = to_mtia_device(drm);
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct mtia_uqueue *uq;
	unsigned long id;

	xa_for_each(&fpriv->queues, id, uq) {
		xa_erase(&fpriv->queues, id);
		mtia_uqueue_destroy(uq);
	}
	xa_destroy(&fpriv->queues);
	mutex_destroy(&fpriv->lock);
	ida_free(&mdev->jobs->ctx_ida, fpriv->ctx);
	kref_put(&fpriv->usage->ref, mtia_usage_release);
	kfree(fpriv);
}

/**
 * mtia_file_engine_ns() - device time of a file's jobs so far (fdinfo).
 * @file: the DRM file.
 * @ns: nanoseconds per enum mtia_engine_class.
 */
void mtia_file_engine_ns(struct drm_file *file, u64 ns[MTIA_ENGINE_NR])
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	unsigned int i;

	for (i = 0; i < MTIA_ENGINE_NR; i++)
		ns[i] = atomic64_read(&fpriv->usage->busy_ns[i]);
}

int mtia_ioctl_queue_create(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct mtia_device *mdev = to_mtia_device(drm);
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_queue_create *args = data;
	struct drm_gpu_scheduler *sched;
	struct mtia_uqueue *uq;
	u32 prio, id;
	int ret;

	if (args->flags || args->pad || args->reserved[0] || args->reserved[1])
		return -EINVAL;
	switch (args->priority) {
	case MTIA_QUEUE_PRIO_LOW:
		prio = MTIA_PRIO_LOW;
		break;
	case MTIA_QUEUE_PRIO_NORMAL:
		prio = MTIA_PRIO_NORMAL;
		break;
	case MTIA_QUEUE_PRIO_HIGH:
		prio = MTIA_PRIO_HIGH;
		break;
	default:
		return -EINVAL;
	}
	uq = kzalloc(sizeof(*uq), GFP_KERNEL);
	if (!uq)
		return -ENOMEM;
	kref_init(&uq->ref);
	mutex_init(&uq->lock);
	spin_lock_init(&uq->slot_lock);
	kref_get(&fpriv->usage->ref);
	uq->usage = fpriv->usage;
	uq->hwq = mtia_hwq_pick(mdev->jobs, prio);
	if (!uq->hwq) {
		ret = -ENODEV;
		goto err_free;
	}
	sched = &uq->hwq->sched;
	ret = drm_sched_entity_init(&uq->entity, DRM_SCHED_PRIORITY_NORMAL,
				    &sched, 1, NULL);
	if (ret) {
		atomic_dec(&uq->hwq->users);
		goto err_free;
	}

	mutex_lock(&fpriv->lock);
	ret = xa_alloc(&fpriv->queues, &id, uq, xa_limit_31b, GFP_KERNEL);
	if (!ret)
		uq->id = id;
	mutex_unlock(&fpriv->lock);
	if (ret) {
		drm_sched_entity_destroy(&uq->entity);
		atomic_dec(&uq->hwq->users);
		goto err_free;
	}
	args->queue_id = id;
	return 0;

err_free:
	mtia_uqueue_put(uq);
	return ret;
}

int mtia_ioctl_queue_destroy(struct drm_device *drm, void *data,
			     struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_queue_destroy *args = data;
	struct mtia_uqueue *uq;

	if (args->flags || args->reserved)
		return -EINVAL;
	mutex_lock(&fpriv->lock);
	uq = xa_erase(&fpriv->queues, args->queue_id);
	mutex_unlock(&fpriv->lock);
	if (!uq)
		return -EINVAL;
	mtia_uqueue_destroy(uq);
	return 0;
}

/* ---- SUBMIT -------------------------------------------------------------- */

/* [offset, offset + len) must lie inside the BO. */
static int mtia_check_range(struct drm_gem_object *obj, u64 offset, u64 len)
{
	u64 end;

	if (check_add_overflow(offset, len, &end) || end > obj->size)
		return -EINVAL;
	return 0;
}

/*
 * COMPUTE: the program [src_offset, +len) inside its BO (of any kind), the
 * arena [dst_offset, +value) inside a device-memory BO.
 */
static int mtia_check_compute(struct mtia_job *job,
			      const struct drm_mtia_cmd *c)
{
	struct drm_gem_object *arena = job->bos[c->dst_bo];

	if (mtia_bo_devmem_offset(arena) == U64_MAX)
		return -EINVAL;
	if (mtia_check_range(job->bos[c->src_bo], c->src_offset, c->len))
		return -EINVAL;
	return mtia_check_range(arena, c->dst_offset, c->value);
}

/* Builds the device SG table of a pinned host BO. */
static int mtia_job_build_sgt(struct mtia_job *job, unsigned int i,
			      struct sg_table *sgt)
{
	struct device *dev = &job->mdev->pdev->dev;
	struct mtia_job_sgt *js = &job->sgts[i];
	struct mtia_sg_entry *e;
	struct scatterlist *sg;
	struct mtia_sgt *hdr;
	unsigned int k, n = 0;
	dma_addr_t prev_end = 0;
	u64 total = 0;

	/* Count entries after merging DMA-contiguous pieces. */
	for_each_sgtable_dma_sg(sgt, sg, k) {
		if (!n || sg_dma_address(sg) != prev_end)
			n++;
		prev_end = sg_dma_address(sg) + sg_dma_len(sg);
	}
	if (!n || n > MTIA_SGT_MAX_ENTRIES)
		return -EINVAL;
	js->size = sizeof(*hdr) + (size_t)n * sizeof(*e);
	js->cpu = dma_alloc_coherent(dev, js->size, &js->dma, GFP_KERNEL);
	if (!js->cpu)
		return -ENOMEM;
	hdr = js->cpu;
	e = (struct mtia_sg_entry *)(hdr + 1);
	n = 0;
	for_each_sgtable_dma_sg(sgt, sg, k) {
		if (n && sg_dma_address(sg) == e[n - 1].dma + e[n - 1].len) {
			e[n - 1].len += sg_dma_len(sg);
		} else {
			e[n].dma = sg_dma_address(sg);
			e[n].len = sg_dma_len(sg);
			n++;
		}
		total += sg_dma_len(sg);
	}
	hdr->magic = MTIA_SGT_MAGIC;
	hdr->count = n;
	hdr->total = total;
	return 0;
}

static void mtia_job_operand(struct mtia_job *job, struct mtia_operand *op,
			     u32 bo, u64 offset)
{
	u64 devoff = mtia_bo_devmem_offset(job->bos[bo]);

	if (devoff != U64_MAX)
		op->addr = MTIA_ADDR_DEVMEM | devoff;
	else
		op->addr = MTIA_ADDR_SGT | job->sgts[bo].dma;
	op->offset = offset;
}

static int mtia_job_prepare(struct mtia_job *job, struct drm_file *file,
			    const struct drm_mtia_submit *args,
			    struct drm_mtia_cmd *ucmds)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	unsigned int i;
	int ret;

	for (i = 0; i < args->cmd_count; i++) {
		ret = mtia_cmd_check_uapi(&ucmds[i], args->bo_count);
		if (ret)
			return ret;
	}

	job->nbos = args->bo_count;
	if (job->nbos) {
		ret = drm_gem_objects_lookup(file,
					     u64_to_user_ptr(args->bo_handles),
					     job->nbos, &job->bos);
		if (ret) {
			/* Unknown handles (e.g. another file's) are invalid. */
			return ret == -ENOENT ? -EINVAL : ret;
		}
	}

	for (i = 0; i < args->cmd_count; i++) {
		const struct drm_mtia_cmd *c = &ucmds[i];
		u32 uses = mtia_cmd_uses(c->opcode);

		/* COMPUTE's operands are not len bytes: its own check. */
		if (c->opcode == MTIA_CMD_COMPUTE) {
			if (mtia_check_compute(job, c))
				return -EINVAL;
			continue;
		}
		if ((uses & MTIA_CMD_USES_SRC) &&
		    mtia_check_range(job->bos[c->src_bo], c->src_offset, c->len))
			return -EINVAL;
		if ((uses & MTIA_CMD_USES_DST) &&
		    mtia_check_range(job->bos[c->dst_bo], c->dst_offset, c->len))
			return -EINVAL;
	}

	if (job->nbos) {
		job->pinned = kvcalloc(job->nbos, sizeof(*job->pinned),
				       GFP_KERNEL);
		job->sgts = kvcalloc(job->nbos, sizeof(*job->sgts), GFP_KERNEL);
		if (!job->pinned || !job->sgts)
			return -ENOMEM;
	}
	for (i = 0; i < job->nbos; i++) {
		struct sg_table *sgt;

		if (mtia_bo_devmem_offset(job->bos[i]) != U64_MAX)
			continue;
		sgt = mtia_bo_pin_for_device(job->bos[i]);
		if (IS_ERR(sgt))
			return PTR_ERR(sgt);
		job->pinned[i] = true;
		ret = mtia_job_build_sgt(job, i, sgt);
		if (ret)
			return ret;
	}

	job->ncmds = args->cmd_count;
	job->cmds = kvcalloc(job->ncmds, sizeof(*job->cmds), GFP_KERNEL);
	if (!job->cmds)
		return -ENOMEM;
	for (i = 0; i < job->ncmds; i++) {
		const struct drm_mtia_cmd *c = &ucmds[i];
		struct mtia_cmd *d = &job->cmds[i];
		u32 uses = mtia_cmd_uses(c->opcode);

		d->opcode = c->opcode;
		d->flags = c->flags;
		d->ctx = fpriv->ctx;
		d->len = c->len;
		d->value = c->value;
		if (uses & MTIA_CMD_USES_SRC)
			mtia_job_operand(job, &d->src, c->src_bo, c->src_offset);
		if (uses & MTIA_CMD_USES_DST)
			mtia_job_operand(job, &d->dst, c->dst_bo, c->dst_offset);
	}

	job->fault = atomic_xchg(&job->mdev->jobs->fault, MTIA_FAULT_NONE);
	if (job->fault == MTIA_FAULT_DMA) {
		/* A flat host address no RAM backs: the engine's DMA fails. */
		job->cmds[0].dst.addr = MTIA_FAULT_DMA_ADDR;
		job->cmds[0].dst.offset = 0;
	}
	return 0;
}

int mtia_ioctl_submit(struct drm_device *drm, void *data,
		      struct drm_file *file)
{
	struct mtia_device *mdev = to_mtia_device(drm);
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_submit *args = data;
	struct drm_syncobj *out_sync = NULL;
	struct drm_mtia_cmd *ucmds = NULL;
	struct ww_acquire_ctx ww;
	struct dma_fence *done;
	struct mtia_uqueue *uq;
	struct mtia_job *job;
	unsigned int i, slot;
	u32 handle;
	int ret;

	if (args->flags || args->reserved[0] || args->reserved[1] ||
	    !args->cmd_count || args->cmd_count > MTIA_MAX_CMDS_PER_JOB ||
	    args->bo_count > MTIA_MAX_BOS_PER_JOB ||
	    args->in_syncobj_count > MTIA_MAX_SYNCOBJS)
		return -EINVAL;

	uq = mtia_uqueue_get(fpriv, args->queue_id);
	if (!uq)
		return -EINVAL;

	job = kzalloc(sizeof(*job), GFP_KERNEL);
	if (!job) {
		mtia_uqueue_put(uq);
		return -ENOMEM;
	}
	job->mdev = mdev;
	job->uq = uq;
	job->ctx = fpriv->ctx;
	job->queue_id = uq->id;
	INIT_LIST_HEAD(&job->node);
	job->hw_fence = kzalloc(sizeof(*job->hw_fence), GFP_KERNEL);
	ucmds = kvmalloc_array(args->cmd_count, sizeof(*ucmds), GFP_KERNEL);
	if (!job->hw_fence || !ucmds) {
		ret = -ENOMEM;
		goto err_job;
	}
	if (copy_from_user(ucmds, u64_to_user_ptr(args->cmds),
			   array_size(args->cmd_count, sizeof(*ucmds)))) {
		ret = -EFAULT;
		goto err_job;
	}
	ret = mtia_job_prepare(job, file, args, ucmds);
	if (ret)
		goto err_job;
	for (i = 0; i < job->ncmds; i++)
		if (job->cmds[i].opcode == MTIA_CMD_COMPUTE)
			job->engine = MTIA_ENGINE_COMPUTE;

	if (args->out_syncobj) {
		out_sync = drm_syncobj_find(file, args->out_syncobj);
		if (!out_sync) {
			ret = -EINVAL;
			goto err_job;
		}
	}

	ret = drm_sched_job_init(&job->base, &uq->entity, job->ncmds, fpriv,
				 file->client_id);
	if (ret)
		goto err_sync;

	for (i = 0; i < args->in_syncobj_count; i++) {
		if (get_user(handle, (u32 __user *)u64_to_user_ptr(args->in_syncobjs) + i)) {
			ret = -EFAULT;
			goto err_sched;
		}
		ret = drm_sched_job_add_syncobj_dependency(&job->base, file,
							   handle, 0);
		if (ret) {
			ret = ret == -ENOENT ? -EINVAL : ret;
			goto err_sched;
		}
	}

	if (job->nbos) {
		ret = drm_gem_lock_reservations(job->bos, job->nbos, &ww);
		if (ret)
			goto err_sched;
		for (i = 0; i < job->nbos; i++) {
			ret = dma_resv_reserve_fences(job->bos[i]->resv, 1);
			if (ret) {
				drm_gem_unlock_reservations(job->bos, job->nbos,
							    &ww);
				goto err_sched;
			}
		}
	}

	/* Nothing fails from here on. */
	mutex_lock(&uq->lock);
	drm_sched_job_arm(&job->base);
	job->seqno = ++uq->last_seqno;
	done = dma_fence_get(&job->base.s_fence->finished);
	if (job->nbos) {
		/* The BOs' reservations show the job while it runs. */
		for (i = 0; i < job->nbos; i++)
			dma_resv_add_fence(job->bos[i]->resv, done,
					   DMA_RESV_USAGE_BOOKKEEP);
		drm_gem_unlock_reservations(job->bos, job->nbos, &ww);
	}
	slot = job->seqno % MTIA_WAIT_WINDOW;
	spin_lock_irq(&uq->slot_lock);
	dma_fence_put(uq->slots[slot].fence);
	uq->slots[slot].fence = dma_fence_get(done);
	uq->slots[slot].seqno = job->seqno;
	uq->slots[slot].cqe_status = 0;
	uq->slots[slot].device_ns = 0;
	spin_unlock_irq(&uq->slot_lock);
	args->seqno = job->seqno;
	/* Before the push: run_job may run (and trace) at once. */
	trace_mtia_submit(&mdev->pdev->dev, job->ctx, job->queue_id,
			  job->seqno, uq->hwq->idx, job->ncmds, job->nbos);
	job->finished_cb_added =
		!dma_fence_add_callback(&job->base.s_fence->finished,
					&job->finished_cb,
					mtia_job_finished_cb);
	drm_sched_entity_push_job(&job->base);
	mutex_unlock(&uq->lock);

	kvfree(ucmds);
	if (out_sync) {
		drm_syncobj_replace_fence(out_sync, done);
		drm_syncobj_put(out_sync);
	}
	dma_fence_put(done);
	return 0;

err_sched:
	drm_sched_job_cleanup(&job->base);
err_sync:
	if (out_sync)
		drm_syncobj_put(out_sync);
err_job:
	kvfree(ucmds);
	mtia_job_release(job);
	return ret;
}

/* ---- WAIT ---------------------------------------------------------------- */

int mtia_ioctl_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_wait *args = data;
	struct dma_fence *fence = NULL;
	struct mtia_uqueue *uq;
	unsigned int slot;
	u64 last, oldest;
	long t, ret = 0;

	if (args->flags)
		return -EINVAL;
	uq = mtia_uqueue_get(fpriv, args->queue_id);
	if (!uq)
		return -EINVAL;

	mutex_lock(&uq->lock);
	last = uq->last_seqno;
	mutex_unlock(&uq->lock);
	if (!args->seqno || args->seqno > last) {
		ret = -EINVAL;
		goto out;
	}

	/*
	 * Older than the window: jobs of a queue finish in order, so waiting
	 * for the oldest retained job covers it; its status is not kept.
	 */
	oldest = last >= MTIA_WAIT_WINDOW ? last - MTIA_WAIT_WINDOW + 1 : 1;
	slot = max(args->seqno, oldest) % MTIA_WAIT_WINDOW;
	spin_lock_irq(&uq->slot_lock);
	fence = dma_fence_get(uq->slots[slot].fence);
	spin_unlock_irq(&uq->slot_lock);

	if (fence && !dma_fence_is_signaled(fence)) {
		if (!args->timeout_ns) {
			ret = -ETIME;
			goto out;
		}
		t = nsecs_to_jiffies64(args->timeout_ns) + 1;
		t = dma_fence_wait_timeout(fence, true,
					   min_t(u64, t, MAX_SCHEDULE_TIMEOUT));
		if (t < 0) {
			ret = t;
			goto out;
		}
		if (!t) {
			ret = -ETIME;
			goto out;
		}
	}

	args->status = 0;
	args->cqe_status = 0;
	args->device_ns = 0;
	if (fence && args->seqno >= oldest) {
		args->status = fence->error;
		spin_lock_irq(&uq->slot_lock);
		if (uq->slots[slot].seqno == args->seqno) {
			args->cqe_status = uq->slots[slot].cqe_status;
			args->device_ns = uq->slots[slot].device_ns;
		}
		spin_unlock_irq(&uq->slot_lock);
	}
out:
	dma_fence_put(fence);
	mtia_uqueue_put(uq);
	return ret;
}
