// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: the SUBMIT and WAIT ioctls.
 *
 * SUBMIT builds a job in steps, as ivpu's submit path does, each a function
 * that leaves the job in a state mtia_job_release() can undo:
 *
 *   1. check the arguments and copy the commands in;
 *   2. prepare: check every command on its own (mtia_cmd.c), look the BOs
 *      up, check every operand range against its BO, pin host BOs, then
 *      with the device MMU map every BO into the file's address space
 *      (mtia_vm.c; operands are VAs), else build a device SG table for
 *      each host BO (operands are the legacy tagged forms); translate the
 *      commands into device commands (struct mtia_cmd);
 *   3. create the scheduler job and add the in-syncobjs as dependencies;
 *   4. push: with the BOs' reservations and then the user queue's lock
 *      held, arm the job, give it its seqno, put its finished fence into
 *      the BOs' reservations and the queue's WAIT window, push it; then
 *      into the out-syncobj.
 *
 * Nothing fails after the job is armed. Any bad input is -EINVAL and
 * nothing runs (handles that do not resolve, including another file's, are
 * bad input too); a bad user pointer is -EFAULT. The range checks stay with
 * the MMU too: the device's check is the second line, not the only one.
 *
 * WAIT waits for a job's finished fence in the queue's window of the last
 * MTIA_WAIT_WINDOW jobs (mtia_file.c); older jobs finished before the
 * oldest retained one, whose fence stands in for theirs.
 */

#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/jiffies.h>
#include <linux/lockdep.h>
#include <linux/overflow.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_syncobj.h>

#include "mtia_cmd.h"
#include "mtia_drv.h"
#include "mtia_file.h"
#include "mtia_trace.h"
#include "mtia_vm.h"

/* An unmapped host bus address for the "dma" fault injection. */
#define MTIA_FAULT_DMA_ADDR	0xdead00000000ull

/* ---- prepare: checks ----------------------------------------------------- */

static int mtia_submit_check_args(const struct drm_mtia_submit *args)
{
	if (args->flags || args->reserved[0] || args->reserved[1] ||
	    !args->cmd_count || args->cmd_count > MTIA_MAX_CMDS_PER_JOB ||
	    args->bo_count > MTIA_MAX_BOS_PER_JOB ||
	    args->in_syncobj_count > MTIA_MAX_SYNCOBJS)
		return -EINVAL;
	return 0;
}

/* The commands of @args, copied in (kvfree() them). */
static struct drm_mtia_cmd *
mtia_submit_copy_cmds(const struct drm_mtia_submit *args)
{
	struct drm_mtia_cmd *ucmds;

	ucmds = kvmalloc_array(args->cmd_count, sizeof(*ucmds), GFP_KERNEL);
	if (!ucmds)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(ucmds, u64_to_user_ptr(args->cmds),
			   array_size(args->cmd_count, sizeof(*ucmds)))) {
		kvfree(ucmds);
		return ERR_PTR(-EFAULT);
	}
	return ucmds;
}

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

/* Every operand of every command inside its BO. */
static int mtia_check_ranges(struct mtia_job *job,
			     const struct drm_mtia_cmd *ucmds, u32 n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
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
	return 0;
}

/* ---- prepare: BOs -------------------------------------------------------- */

static int mtia_submit_lookup_bos(struct mtia_job *job, struct drm_file *file,
				  const struct drm_mtia_submit *args)
{
	int ret;

	job->nbos = args->bo_count;
	if (!job->nbos)
		return 0;
	ret = drm_gem_objects_lookup(file, u64_to_user_ptr(args->bo_handles),
				     job->nbos, &job->bos);
	/* Unknown handles (e.g. another file's) are invalid. */
	return ret == -ENOENT ? -EINVAL : ret;
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

/* Pin every host BO for the device and, if @sgts, build its SG table. */
static int mtia_submit_pin_bos(struct mtia_job *job, bool sgts)
{
	unsigned int i;
	int ret;

	if (!job->nbos)
		return 0;
	job->pinned = kvcalloc(job->nbos, sizeof(*job->pinned), GFP_KERNEL);
	job->sgts = kvcalloc(job->nbos, sizeof(*job->sgts), GFP_KERNEL);
	if (!job->pinned || !job->sgts)
		return -ENOMEM;
	for (i = 0; i < job->nbos; i++) {
		struct sg_table *sgt;

		if (mtia_bo_devmem_offset(job->bos[i]) != U64_MAX)
			continue;
		sgt = mtia_bo_pin_for_device(job->bos[i]);
		if (IS_ERR(sgt))
			return PTR_ERR(sgt);
		job->pinned[i] = true;
		if (!sgts)
			continue;
		ret = mtia_job_build_sgt(job, i, sgt);
		if (ret)
			return ret;
	}
	return 0;
}

/* Every BO's VA in the file's address space (mapped on first use). */
static int mtia_submit_map_bos(struct mtia_job *job, struct mtia_vm *vm)
{
	unsigned int i;
	int ret;

	if (!job->nbos)
		return 0;
	job->vas = kvcalloc(job->nbos, sizeof(*job->vas), GFP_KERNEL);
	if (!job->vas)
		return -ENOMEM;
	for (i = 0; i < job->nbos; i++) {
		ret = mtia_vm_map_bo(vm, job->bos[i], &job->vas[i]);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- prepare: device commands -------------------------------------------- */

static void mtia_job_operand(struct mtia_job *job, struct mtia_operand *op,
			     u32 bo, u64 offset)
{
	u64 devoff = mtia_bo_devmem_offset(job->bos[bo]);

	if (job->vas)
		op->addr = job->vas[bo];
	else if (devoff != U64_MAX)
		op->addr = MTIA_ADDR_DEVMEM | devoff;
	else
		op->addr = MTIA_ADDR_SGT | job->sgts[bo].dma;
	op->offset = offset;
}

/*
 * The pending fault injection (debugfs fault_inject, root only): an
 * unmapped DMA address, or a raw address that bypasses every driver check
 * (the device MMU must refuse it).
 */
static void mtia_submit_inject_fault(struct mtia_job *job)
{
	struct mtia_jobs *jobs = job->mdev->jobs;
	struct mtia_cmd *c = &job->cmds[0];

	job->fault = atomic_xchg(&jobs->fault, MTIA_FAULT_NONE);
	switch (job->fault) {
	case MTIA_FAULT_DMA:
		/* A flat host address no RAM backs: the engine's DMA fails. */
		c->dst.addr = MTIA_FAULT_DMA_ADDR;
		c->dst.offset = 0;
		break;
	case MTIA_FAULT_FORGE_SRC:
		c->src.addr = atomic64_read(&jobs->forge_addr);
		c->src.offset = 0;
		break;
	case MTIA_FAULT_FORGE_DST:
		c->dst.addr = atomic64_read(&jobs->forge_addr);
		c->dst.offset = 0;
		break;
	}
}

/* The device commands of the job, and the pending fault injection. */
static int mtia_submit_translate(struct mtia_job *job,
				 const struct drm_mtia_cmd *ucmds, u32 n)
{
	unsigned int i;

	job->ncmds = n;
	job->cmds = kvcalloc(n, sizeof(*job->cmds), GFP_KERNEL);
	if (!job->cmds)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		const struct drm_mtia_cmd *c = &ucmds[i];
		struct mtia_cmd *d = &job->cmds[i];
		u32 uses = mtia_cmd_uses(c->opcode);

		d->opcode = c->opcode;
		d->flags = c->flags;
		d->ctx = job->ctx;
		d->len = c->len;
		d->value = c->value;
		if (uses & MTIA_CMD_USES_SRC)
			mtia_job_operand(job, &d->src, c->src_bo, c->src_offset);
		if (uses & MTIA_CMD_USES_DST)
			mtia_job_operand(job, &d->dst, c->dst_bo, c->dst_offset);
		if (c->opcode == MTIA_CMD_COMPUTE)
			job->engine = MTIA_ENGINE_COMPUTE;
	}

	mtia_submit_inject_fault(job);
	return 0;
}

/* Steps 1 and 2: everything up to the scheduler job. */
static int mtia_submit_prepare(struct mtia_job *job, struct drm_file *file,
			       const struct drm_mtia_submit *args)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_cmd *ucmds;
	unsigned int i;
	int ret;

	ucmds = mtia_submit_copy_cmds(args);
	if (IS_ERR(ucmds))
		return PTR_ERR(ucmds);
	for (i = 0; i < args->cmd_count; i++) {
		ret = mtia_cmd_check_uapi(&ucmds[i], args->bo_count);
		if (ret)
			goto out;
	}
	ret = mtia_submit_lookup_bos(job, file, args);
	if (ret)
		goto out;
	ret = mtia_check_ranges(job, ucmds, args->cmd_count);
	if (ret)
		goto out;
	ret = mtia_submit_pin_bos(job, !fpriv->vm);
	if (ret)
		goto out;
	if (fpriv->vm) {
		ret = mtia_submit_map_bos(job, fpriv->vm);
		if (ret)
			goto out;
	}
	ret = mtia_submit_translate(job, ucmds, args->cmd_count);
out:
	kvfree(ucmds);
	return ret;
}

/* ---- scheduler job, dependencies, push ----------------------------------- */

/* In-syncobjs as scheduler dependencies; the job is initialised. */
static int mtia_submit_add_deps(struct mtia_job *job, struct drm_file *file,
				const struct drm_mtia_submit *args)
{
	u32 __user *handles = u64_to_user_ptr(args->in_syncobjs);
	unsigned int i;
	u32 handle;
	int ret;

	for (i = 0; i < args->in_syncobj_count; i++) {
		if (get_user(handle, handles + i))
			return -EFAULT;
		ret = drm_sched_job_add_syncobj_dependency(&job->base, file,
							   handle, 0);
		if (ret)
			return ret == -ENOENT ? -EINVAL : ret;
	}
	return 0;
}

/* Lock the BOs' reservations with room for the job's fence. */
static int mtia_submit_lock_bos(struct mtia_job *job, struct ww_acquire_ctx *ww)
{
	unsigned int i;
	int ret;

	if (!job->nbos)
		return 0;
	ret = drm_gem_lock_reservations(job->bos, job->nbos, ww);
	if (ret)	/* -EALREADY: a BO listed twice, its lock already held */
		return ret == -EALREADY ? -EINVAL : ret;
	for (i = 0; i < job->nbos; i++) {
		ret = dma_resv_reserve_fences(job->bos[i]->resv, 1);
		if (ret) {
			drm_gem_unlock_reservations(job->bos, job->nbos, ww);
			return ret;
		}
	}
	return 0;
}

/*
 * Give the armed job its seqno and push it, in seqno order on its queue;
 * unlocks the BOs. Return: the seqno (the job may be freed once pushed).
 */
static u64 mtia_submit_push_locked(struct mtia_job *job,
				   struct ww_acquire_ctx *ww,
				   struct dma_fence *done)
{
	struct mtia_uqueue *uq = job->uq;
	unsigned int i;
	u64 seqno;

	lockdep_assert_held(&uq->lock);

	seqno = mtia_uqueue_add_job_locked(uq, done);
	job->seqno = seqno;
	if (job->nbos) {
		/* The BOs' reservations show the job while it runs. */
		for (i = 0; i < job->nbos; i++)
			dma_resv_add_fence(job->bos[i]->resv, done,
					   DMA_RESV_USAGE_BOOKKEEP);
		drm_gem_unlock_reservations(job->bos, job->nbos, ww);
	}
	/* Before the push: run_job may run (and trace) at once. */
	trace_mtia_submit(&job->mdev->pdev->dev, uq->hwq->idx, job, 0);
	mtia_job_watch_finished(job);
	drm_sched_entity_push_job(&job->base);
	return seqno;
}

/*
 * Step 4, with the BOs locked: fails only if the queue is being destroyed
 * (a QUEUE_DESTROY or close racing this SUBMIT), with the BOs unlocked and
 * the job not armed. Return: the job's finished fence (referenced); its
 * seqno in @seqno.
 */
static struct dma_fence *mtia_submit_push(struct mtia_job *job,
					  struct ww_acquire_ctx *ww,
					  u64 *seqno)
{
	struct mtia_uqueue *uq = job->uq;
	struct dma_fence *done;

	mutex_lock(&uq->lock);
	if (uq->destroyed) {
		mutex_unlock(&uq->lock);
		if (job->nbos)
			drm_gem_unlock_reservations(job->bos, job->nbos, ww);
		return ERR_PTR(-EINVAL);
	}
	drm_sched_job_arm(&job->base);
	done = dma_fence_get(&job->base.s_fence->finished);
	*seqno = mtia_submit_push_locked(job, ww, done);
	mutex_unlock(&uq->lock);
	return done;
}

int mtia_ioctl_submit(struct drm_device *drm, void *data,
		      struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_submit *args = data;
	struct drm_syncobj *out_sync = NULL;
	struct ww_acquire_ctx ww;
	struct dma_fence *done;
	struct mtia_uqueue *uq;
	struct mtia_job *job;
	int ret;

	ret = mtia_submit_check_args(args);
	if (ret)
		return ret;
	if (READ_ONCE(fpriv->usage->banned))
		return -ECANCELED;
	uq = mtia_uqueue_get(fpriv, args->queue_id);
	if (!uq)
		return -EINVAL;
	/*
	 * The ioctl keeps its reference to uq until it returns: once pushed,
	 * the job (and with it the job's reference) may be gone.
	 */
	job = mtia_job_create(to_mtia_device(drm), uq, fpriv->ctx);
	if (IS_ERR(job)) {
		ret = PTR_ERR(job);
		goto err_uq;
	}
	ret = mtia_submit_prepare(job, file, args);
	if (ret)
		goto err_job;
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
	ret = mtia_submit_add_deps(job, file, args);
	if (ret)
		goto err_sched;
	ret = mtia_submit_lock_bos(job, &ww);
	if (ret)
		goto err_sched;

	done = mtia_submit_push(job, &ww, &args->seqno);
	if (IS_ERR(done)) {
		ret = PTR_ERR(done);
		goto err_sched;
	}
	if (out_sync) {
		drm_syncobj_replace_fence(out_sync, done);
		drm_syncobj_put(out_sync);
	}
	dma_fence_put(done);
	mtia_uqueue_put(uq);
	return 0;

err_sched:
	drm_sched_job_cleanup(&job->base);
err_sync:
	if (out_sync)
		drm_syncobj_put(out_sync);
err_job:
	mtia_job_release(job);
err_uq:
	mtia_uqueue_put(uq);
	return ret;
}

/* ---- WAIT ---------------------------------------------------------------- */

/* 0 once @fence (may be NULL) signalled, -ETIME or an error otherwise. */
static long mtia_wait_fence(struct dma_fence *fence, u64 timeout_ns)
{
	long t;

	if (!fence || dma_fence_is_signaled(fence))
		return 0;
	if (!timeout_ns)
		return -ETIME;
	t = nsecs_to_jiffies64(timeout_ns) + 1;
	t = dma_fence_wait_timeout(fence, true,
				   min_t(u64, t, MAX_SCHEDULE_TIMEOUT));
	if (t < 0)
		return t;
	return t ? 0 : -ETIME;
}

int mtia_ioctl_wait(struct drm_device *drm, void *data, struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_wait *args = data;
	struct dma_fence *fence = NULL;
	struct mtia_uqueue *uq;
	u64 last, oldest;
	long ret;

	if (args->flags)
		return -EINVAL;
	if (READ_ONCE(fpriv->usage->banned))
		return -ECANCELED;
	uq = mtia_uqueue_get(fpriv, args->queue_id);
	if (!uq)
		return -EINVAL;

	last = mtia_uqueue_last_seqno(uq);
	if (!args->seqno || args->seqno > last) {
		ret = -EINVAL;
		goto out;
	}
	/*
	 * Older than the window: jobs of a queue finish in order, so waiting
	 * for the oldest retained job covers it; its status is not kept.
	 */
	oldest = last >= MTIA_WAIT_WINDOW ? last - MTIA_WAIT_WINDOW + 1 : 1;
	fence = mtia_uqueue_fence(uq, max(args->seqno, oldest));
	ret = mtia_wait_fence(fence, args->timeout_ns);
	if (ret)
		goto out;

	args->status = 0;
	args->cqe_status = 0;
	args->device_ns = 0;
	if (fence && args->seqno >= oldest) {
		args->status = fence->error;
		mtia_uqueue_result(uq, args->seqno, &args->cqe_status,
				   &args->device_ns);
	}
out:
	dma_fence_put(fence);
	mtia_uqueue_put(uq);
	return ret;
}
