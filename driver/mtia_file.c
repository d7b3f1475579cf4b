// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: per-file state and user queues.
 *
 * Each open file gets a context id (written into the ctx of its device
 * commands) and with the device MMU an address space for it (mtia_vm.c),
 * a table of user queues and a usage record (the device time of
 * its jobs, per engine class, for fdinfo). QUEUE_CREATE makes a user queue:
 * one drm_sched entity bound to one hardware queue of its priority class
 * (mtia_hwq_pick(), mtia_sched.c), so the jobs of a queue run in
 * submission order. A queue also keeps, for WAIT, the finished fence, CQE
 * status and device time of its last MTIA_WAIT_WINDOW jobs.
 *
 * Lifetimes: a user queue is referenced by its file's table and by each of
 * its jobs, the usage record by the file and by each queue, so a job that
 * finishes after QUEUE_DESTROY or close still has both. postclose destroys
 * the file's entities (drm_sched_entity_destroy(): pending jobs still go to
 * the hardware, bounded wait).
 */

#include <linux/atomic.h>
#include <linux/dma-fence.h>
#include <linux/idr.h>
#include <linux/lockdep.h>
#include <linux/slab.h>

#include <drm/drm_file.h>

#include "mtia_drv.h"
#include "mtia_direct.h"
#include "mtia_file.h"
#include "mtia_vm.h"

static void mtia_usage_release(struct kref *ref)
{
	kfree(container_of(ref, struct mtia_usage, ref));
}

static void mtia_usage_put(struct mtia_usage *usage)
{
	kref_put(&usage->ref, mtia_usage_release);
}

/* ---- user queues --------------------------------------------------------- */

static void mtia_uqueue_release(struct kref *ref)
{
	struct mtia_uqueue *uq = container_of(ref, struct mtia_uqueue, ref);
	unsigned int i;

	for (i = 0; i < MTIA_WAIT_WINDOW; i++)
		dma_fence_put(uq->slots[i].fence);
	if (uq->usage)
		mtia_usage_put(uq->usage);
	mutex_destroy(&uq->lock);
	kfree(uq);
}

/**
 * mtia_uqueue_put() - drop a reference to a user queue.
 * @uq: the queue.
 */
void mtia_uqueue_put(struct mtia_uqueue *uq)
{
	kref_put(&uq->ref, mtia_uqueue_release);
}

/**
 * mtia_uqueue_get() - look up a file's user queue.
 * @fpriv: the file.
 * @id: the queue id.
 *
 * Return: the queue, referenced (mtia_uqueue_put()), or NULL.
 */
struct mtia_uqueue *mtia_uqueue_get(struct mtia_file_priv *fpriv, u32 id)
{
	struct mtia_uqueue *uq;

	mutex_lock(&fpriv->lock);
	uq = xa_load(&fpriv->queues, id);
	if (uq)
		kref_get(&uq->ref);
	mutex_unlock(&fpriv->lock);
	return uq;
}

/**
 * mtia_uqueue_add_job_locked() - give a job its seqno and remember its
 * finished fence for WAIT.
 * @uq: the queue; caller holds &mtia_uqueue.lock (seqnos follow the
 *	order in which jobs are armed and pushed).
 * @finished: the job's finished fence (a reference is taken).
 *
 * Return: the job's seqno.
 */
u64 mtia_uqueue_add_job_locked(struct mtia_uqueue *uq,
			       struct dma_fence *finished)
{
	struct mtia_wait_slot *slot;
	u64 seqno;

	lockdep_assert_held(&uq->lock);

	seqno = ++uq->last_seqno;
	slot = &uq->slots[seqno % MTIA_WAIT_WINDOW];
	spin_lock_irq(&uq->slot_lock);
	dma_fence_put(slot->fence);
	slot->fence = dma_fence_get(finished);
	slot->seqno = seqno;
	slot->cqe_status = 0;
	slot->device_ns = 0;
	spin_unlock_irq(&uq->slot_lock);
	return seqno;
}

/**
 * mtia_uqueue_job_done() - record a job's completion (CQ handler): its
 * device time in the file's usage, its status for WAIT.
 * @uq: the job's queue.
 * @job: the job, its last command completed.
 * @busy_ns: the job's time on the device.
 */
void mtia_uqueue_job_done(struct mtia_uqueue *uq, const struct mtia_job *job,
			  u64 busy_ns)
{
	struct mtia_wait_slot *slot = &uq->slots[job->seqno % MTIA_WAIT_WINDOW];
	unsigned long flags;

	atomic64_add(busy_ns, &uq->usage->busy_ns[job->engine]);
	spin_lock_irqsave(&uq->slot_lock, flags);
	if (slot->seqno == job->seqno) {
		slot->cqe_status = job->first_err;
		slot->device_ns = job->device_ns;
	}
	spin_unlock_irqrestore(&uq->slot_lock, flags);
}

/**
 * mtia_uqueue_last_seqno() - the last seqno handed out on a queue.
 * @uq: the queue.
 *
 * Return: the seqno, 0 if no job was submitted yet.
 */
u64 mtia_uqueue_last_seqno(struct mtia_uqueue *uq)
{
	u64 last;

	mutex_lock(&uq->lock);
	last = uq->last_seqno;
	mutex_unlock(&uq->lock);
	return last;
}

/**
 * mtia_uqueue_fence() - the finished fence of a retained job.
 * @uq: the queue.
 * @seqno: the job, inside the window of retained jobs.
 *
 * Return: the fence, referenced, or NULL.
 */
struct dma_fence *mtia_uqueue_fence(struct mtia_uqueue *uq, u64 seqno)
{
	struct dma_fence *fence;

	spin_lock_irq(&uq->slot_lock);
	fence = dma_fence_get(uq->slots[seqno % MTIA_WAIT_WINDOW].fence);
	spin_unlock_irq(&uq->slot_lock);
	return fence;
}

/**
 * mtia_uqueue_result() - the CQE status and device time of a finished job.
 * @uq: the queue.
 * @seqno: the job.
 * @cqe_status: set to the job's MTIA_CQE_* status if it is still retained.
 * @device_ns: set to the job's device time if it is still retained.
 */
void mtia_uqueue_result(struct mtia_uqueue *uq, u64 seqno, u32 *cqe_status,
			u64 *device_ns)
{
	struct mtia_wait_slot *slot = &uq->slots[seqno % MTIA_WAIT_WINDOW];

	spin_lock_irq(&uq->slot_lock);
	if (slot->seqno == seqno) {
		*cqe_status = slot->cqe_status;
		*device_ns = slot->device_ns;
	}
	spin_unlock_irq(&uq->slot_lock);
}

static void mtia_uqueue_destroy(struct mtia_uqueue *uq)
{
	/*
	 * A SUBMIT that looked the queue up before it left the table may
	 * still be on its way: once this is set (after any push in
	 * progress), it fails instead of pushing to a stopped entity.
	 */
	mutex_lock(&uq->lock);
	uq->destroyed = true;
	mutex_unlock(&uq->lock);
	/* Waits (bounded) until its jobs were handed to the hardware. */
	drm_sched_entity_destroy(&uq->entity);
	mtia_hwq_unpick(uq->hwq);
	mtia_uqueue_put(uq);
}

/* ---- files --------------------------------------------------------------- */

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
	/* With the MMU a context id indexes its context table. */
	ctx = ida_alloc_range(&mdev->jobs->ctx_ida, 1,
			      mdev->mmu.present ? MTIA_MMU_DRV_CTX - 1 : S32_MAX,
			      GFP_KERNEL);
	if (ctx < 0) {
		kfree(fpriv->usage);
		kfree(fpriv);
		return ctx == -ENOSPC ? -EMFILE : ctx;
	}
	if (mdev->mmu.present) {
		fpriv->vm = mtia_vm_create(mdev, ctx);
		if (IS_ERR(fpriv->vm)) {
			ida_free(&mdev->jobs->ctx_ida, ctx);
			kfree(fpriv->usage);
			kfree(fpriv);
			return -ENOMEM;
		}
	}
	fpriv->mdev = mdev;
	fpriv->ctx = ctx;
	mutex_init(&fpriv->lock);
	xa_init_flags(&fpriv->queues, XA_FLAGS_ALLOC1);
	xa_init_flags(&fpriv->direct, XA_FLAGS_ALLOC1);
	file->driver_priv = fpriv;
	return 0;
}

void mtia_postclose(struct drm_device *drm, struct drm_file *file)
{
	struct mtia_device *mdev = to_mtia_device(drm);
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct mtia_uqueue *uq;
	unsigned long id;

	mtia_direct_close_file(fpriv);
	xa_for_each(&fpriv->queues, id, uq) {
		xa_erase(&fpriv->queues, id);
		mtia_uqueue_destroy(uq);
	}
	xa_destroy(&fpriv->queues);
	mutex_destroy(&fpriv->lock);
	/* Every handle was closed (unmapping its BO after its jobs) already. */
	if (fpriv->vm)
		mtia_vm_destroy(fpriv->vm);
	ida_free(&mdev->jobs->ctx_ida, fpriv->ctx);
	mtia_usage_put(fpriv->usage);
	kfree(fpriv);
}

/**
 * mtia_file_engine_ns() - device time of a file's work so far (fdinfo).
 * @file: the DRM file.
 * @ns: nanoseconds per enum mtia_engine_class: its jobs' and its direct
 *	queues' commands'.
 * @direct_ns: the part of @ns that is its direct queues'
 *	(mtia_direct_usage.c).
 */
void mtia_file_engine_ns(struct drm_file *file, u64 ns[MTIA_ENGINE_NR],
			 u64 direct_ns[MTIA_ENGINE_NR])
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct mtia_jobs *jobs = fpriv->mdev->jobs;
	unsigned int i;

	/* A direct queue's time moves into @usage when it is disabled, under
	 * the lock: it counts once, as a live queue's or as a gone one's.
	 */
	mutex_lock(&jobs->direct_lock);
	for (i = 0; i < MTIA_ENGINE_NR; i++)
		direct_ns[i] = atomic64_read(&fpriv->usage->direct_ns[i]);
	mtia_direct_engine_ns_locked(file, direct_ns);
	mutex_unlock(&jobs->direct_lock);
	for (i = 0; i < MTIA_ENGINE_NR; i++)
		ns[i] = atomic64_read(&fpriv->usage->busy_ns[i]) + direct_ns[i];
}

/* ---- QUEUE_CREATE / QUEUE_DESTROY ---------------------------------------- */

/* MTIA_QUEUE_PRIO_* (UAPI) -> MTIA_PRIO_* (device); -EINVAL if unknown. */
static int mtia_queue_prio(u32 uapi_prio, u32 *prio)
{
	switch (uapi_prio) {
	case MTIA_QUEUE_PRIO_LOW:
		*prio = MTIA_PRIO_LOW;
		return 0;
	case MTIA_QUEUE_PRIO_NORMAL:
		*prio = MTIA_PRIO_NORMAL;
		return 0;
	case MTIA_QUEUE_PRIO_HIGH:
		*prio = MTIA_PRIO_HIGH;
		return 0;
	default:
		return -EINVAL;
	}
}

/* A new queue of class @prio with its entity, not yet in the file's table. */
static struct mtia_uqueue *mtia_uqueue_create(struct mtia_file_priv *fpriv,
					      u32 prio)
{
	struct drm_gpu_scheduler *sched;
	struct mtia_uqueue *uq;
	int ret;

	uq = kzalloc(sizeof(*uq), GFP_KERNEL);
	if (!uq)
		return ERR_PTR(-ENOMEM);
	kref_init(&uq->ref);
	mutex_init(&uq->lock);
	spin_lock_init(&uq->slot_lock);
	kref_get(&fpriv->usage->ref);
	uq->usage = fpriv->usage;
	uq->hwq = mtia_hwq_pick(fpriv->mdev->jobs, prio);
	if (!uq->hwq) {
		ret = -ENODEV;
		goto err_put;
	}
	sched = &uq->hwq->sched;
	ret = drm_sched_entity_init(&uq->entity, DRM_SCHED_PRIORITY_NORMAL,
				    &sched, 1, NULL);
	if (ret)
		goto err_unpick;
	return uq;

err_unpick:
	mtia_hwq_unpick(uq->hwq);
err_put:
	mtia_uqueue_put(uq);
	return ERR_PTR(ret);
}

int mtia_ioctl_queue_create(struct drm_device *drm, void *data,
			    struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_queue_create *args = data;
	struct mtia_uqueue *uq;
	u32 prio, id;
	int ret;

	if (args->flags || args->pad || args->reserved[0] || args->reserved[1])
		return -EINVAL;
	ret = mtia_queue_prio(args->priority, &prio);
	if (ret)
		return ret;
	uq = mtia_uqueue_create(fpriv, prio);
	if (IS_ERR(uq))
		return PTR_ERR(uq);

	mutex_lock(&fpriv->lock);
	ret = xa_alloc(&fpriv->queues, &id, uq, xa_limit_31b, GFP_KERNEL);
	if (!ret)
		uq->id = id;
	mutex_unlock(&fpriv->lock);
	if (ret) {
		mtia_uqueue_destroy(uq);
		return ret;
	}
	args->queue_id = id;
	return 0;
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
