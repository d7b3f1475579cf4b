// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: direct queues (the device side is
 * docs/queues.md "Bound queues").
 *
 * With the device MMU, the top direct_queues hardware queues are kept from
 * the schedulers. DIRECT_CREATE gives one to a file: its SQ and CQ rings in
 * DMA-coherent memory the process maps, its doorbell page (in BAR0) mapped
 * too, and the queue bound to the file's context (Q_CTX), so the device
 * runs only that context's commands on it, through its page tables. The
 * kernel sees none of the commands. The queue's interrupt wakes
 * DIRECT_WAIT sleepers, which look at the CQ entry they wait for, and
 * signals the DIRECT_SIGNAL fences whose value the queue's fence word
 * reached (mtia_direct_fence.c; the words are a page per file,
 * mtia_vm_fence_words(), one per hardware queue).
 *
 * Fault reclaim: the CQ is the driver's memory (the process maps it
 * read-only), so the interrupt also scans the completions the device wrote
 * since it last looked (up to Q_CQ_TAIL) for TRANSLATION_FAULT. The first
 * one takes every direct queue of that file back (a work item: disabling
 * sleeps): each is disabled as on a reset and its DIRECT_WAIT says -EFAULT.
 * Commands after the faulting one may still complete before that; none
 * does after DIRECT_WAIT says -EFAULT. BAD_CONTEXT and bad doorbell
 * values are not faults of the context and take nothing.
 *
 * Lifetime: a direct queue is referenced by its file's table and by every
 * mapping of its rings or doorbell. DIRECT_DESTROY (or the file's close)
 * disables the hardware queue (synchronous: the device touches nothing of
 * it afterwards); the rings are freed, and the hardware queue handed to
 * another file, only when the last reference goes, so a mapping can never
 * reach a later owner's queue. A device reset disables it too: it is lost
 * (DIRECT_WAIT: -ECANCELED) until destroyed. While enabled it holds a
 * runtime-PM reference (the process may ring it at any time) and keeps the
 * file's closed BOs mapped (mtia_vm_direct_get()): the kernel cannot know
 * which the device still reads.
 *
 * mmap offsets are below DRM's GEM offsets and device-wide (every file of
 * the device shares one address_space): for hardware queue q,
 * MTIA_DIRECT_PGOFF + (q * 3 + kind) * MTIA_DIRECT_SPAN pages, kind SQ,
 * CQ, doorbell.
 */

#include <linux/dma-mapping.h>
#include <linux/kref.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_managed.h>
#include <drm/drm_syncobj.h>

#include "mtia_direct.h"
#include "mtia_direct_fence.h"
#include "mtia_direct_usage.h"
#include "mtia_drv.h"
#include "mtia_file.h"
#include "mtia_hw.h"
#include "mtia_job.h"
#include "mtia_vm.h"

static unsigned int direct_queues = 2;
module_param(direct_queues, uint, 0444);
MODULE_PARM_DESC(direct_queues,
		 "hardware queues kept for direct (user-mode) submission with the device MMU, 0-4 (default 2)");

#define MTIA_DIRECT_MAX		4
#define MTIA_DIRECT_PGOFF	0x1000UL	/* 16 MiB: below DRM_FILE_PAGE_OFFSET_START */
#define MTIA_DIRECT_SPAN	16UL		/* pages: a ring of 2^10 commands */
enum { MTIA_DIRECT_SQ, MTIA_DIRECT_CQ, MTIA_DIRECT_DB, MTIA_DIRECT_KINDS };

/**
 * struct mtia_direct - a direct queue.
 * @ref: held by the file's table and by each mapping.
 * @mdev: the device.
 * @hwq: the hardware queue it owns until released.
 * @file: the owning file (compared only: mappings check it).
 * @vm: that file's address space (the file outlives the queue's users).
 * @sq: SQ ring, @sq_bytes long, at bus address @sq_dma.
 * @cq: CQ ring, @cq_bytes long, at bus address @cq_dma.
 * @sq_dma: see @sq.
 * @cq_dma: see @cq.
 * @sq_bytes: see @sq.
 * @cq_bytes: see @cq.
 * @cq_entries: entries of @cq.
 * @enabled: the hardware queue runs it (&mtia_jobs.direct_lock).
 * @lost: 0, or why it was taken while enabled: -ECANCELED by a reset,
 *	-EFAULT after a fault (set before @enabled is cleared; READ_ONCE:
 *	waiters).
 * @fences: DIRECT_SIGNAL's fences, on its fence word.
 * @usage: the owning file's device time, which @busy goes into when the
 *	queue is disabled (while @enabled the file exists: it destroys its
 *	direct queues before it goes).
 * @busy: the device time of its commands while enabled, from the
 *	hardware queue's counters (mtia_direct_usage.c; the direct lock).
 * @cq_seen: the next CQ slot the interrupt scans for faults
 *	(&mtia_hwq.lock).
 * @faulted: a TRANSLATION_FAULT was seen (&mtia_hwq.lock); its VA is
 *	@fault_va.
 * @fault_va: see @faulted.
 * @fault_work: takes the file's direct queues back after the fault.
 * @dummy: a zeroed page that stands in for the rings and doorbell once
 *	their mappings were zapped (unplug), see mtia_direct_vm_fault().
 */
struct mtia_direct {
	struct kref ref;
	struct mtia_device *mdev;
	struct mtia_hwq *hwq;
	struct drm_file *file;
	struct mtia_vm *vm;
	void *sq, *cq;
	dma_addr_t sq_dma, cq_dma;
	size_t sq_bytes, cq_bytes;
	u32 cq_entries;
	bool enabled;
	int lost;
	struct mtia_direct_fences fences;
	struct mtia_usage *usage;
	struct mtia_direct_usage busy;
	u32 cq_seen;
	bool faulted;
	u64 fault_va;
	struct work_struct fault_work;
	struct page *dummy;
};

/**
 * mtia_direct_init() - keep the top direct_queues hardware queues from the
 * schedulers (before they are set up).
 * @mdev: the device.
 *
 * Return: 0 or a negative errno.
 */
int mtia_direct_init(struct mtia_device *mdev)
{
	struct mtia_jobs *jobs = mdev->jobs;
	unsigned int n, i;

	/* Without the MMU and binding (1.4) nothing would keep a process in. */
	n = mdev->mmu.present && mdev->info.if_minor >= 4 ?
		min(direct_queues, MTIA_DIRECT_MAX) : 0;
	for (i = MTIA_NUM_QUEUES - n; i < MTIA_NUM_QUEUES; i++) {
		jobs->hwq[i].direct = true;
		init_waitqueue_head(&jobs->hwq[i].direct_wq);
	}
	return drmm_mutex_init(&mdev->drm, &jobs->direct_lock);
}

static void mtia_direct_put(struct mtia_direct *dq);

/*
 * The completions written since the last look, up to Q_CQ_TAIL: the first
 * TRANSLATION_FAULT has the file's direct queues taken back. The process
 * cannot write the CQ; a CQ the device lapped between two interrupts (the
 * process may ring CQ_HEAD without reading) can hide a fault, which only
 * leaves the queue with the process: faults touch nothing.
 */
static void mtia_direct_scan_faults_locked(struct mtia_direct *dq)
{
	const struct mtia_cqe *cqe;
	u32 tail;

	lockdep_assert_held(&dq->hwq->lock);
	tail = mtia_rd32(dq->mdev, MTIA_REG_Q(dq->hwq->idx, MTIA_Q_CQ_TAIL));
	if (tail >= dq->cq_entries || READ_ONCE(dq->lost))
		return;	/* not a tail of this queue: gone, or reset */
	dma_rmb();	/* the CQEs before that tail */
	for (; dq->cq_seen != tail;
	     dq->cq_seen = (dq->cq_seen + 1) & (dq->cq_entries - 1)) {
		cqe = (const struct mtia_cqe *)dq->cq + dq->cq_seen;
		if (dq->faulted ||
		    mtia_cqe_status(READ_ONCE(cqe->status)) !=
		    MTIA_CQE_TRANSLATION_FAULT)
			continue;
		dq->faulted = true;
		dq->fault_va = READ_ONCE(cqe->result);
		kref_get(&dq->ref);	/* the work's */
		queue_work(system_wq, &dq->fault_work);
	}
}

/**
 * mtia_direct_irq() - the interrupt of a direct queue's hardware queue:
 * look for faults, signal the fences the fence word reached, wake the
 * DIRECT_WAIT sleepers.
 * @q: a hardware queue kept for direct queues.
 */
void mtia_direct_irq(struct mtia_hwq *q)
{
	struct mtia_direct *dq;
	unsigned long flags;

	spin_lock_irqsave(&q->lock, flags);
	dq = q->dq;
	if (dq) {
		mtia_direct_scan_faults_locked(dq);
		mtia_direct_fences_check(&dq->fences);
	}
	spin_unlock_irqrestore(&q->lock, flags);
	wake_up_all(&q->direct_wq);
}

static u64 mtia_direct_offset(unsigned int hwq, unsigned int kind)
{
	return (MTIA_DIRECT_PGOFF +
		(hwq * MTIA_DIRECT_KINDS + kind) * MTIA_DIRECT_SPAN) << PAGE_SHIFT;
}

/**
 * mtia_direct_mmap_offset() - whether an mmap offset is a direct queue's.
 * @pgoff: the offset in pages.
 *
 * Return: true for the direct queues' range.
 */
bool mtia_direct_mmap_offset(unsigned long pgoff)
{
	return pgoff >= MTIA_DIRECT_PGOFF &&
	       pgoff < MTIA_DIRECT_PGOFF +
		       MTIA_NUM_QUEUES * MTIA_DIRECT_KINDS * MTIA_DIRECT_SPAN;
}

static void mtia_direct_release(struct kref *ref)
{
	struct mtia_direct *dq = container_of(ref, struct mtia_direct, ref);
	struct mtia_device *mdev = dq->mdev;
	struct device *dev = &mdev->pdev->dev;

	if (dq->hwq) {
		mtia_direct_fences_fini(&dq->fences);
		mutex_lock(&mdev->jobs->direct_lock);
		mdev->jobs->direct[dq->hwq->idx] = NULL;
		mutex_unlock(&mdev->jobs->direct_lock);
	}
	dma_free_coherent(dev, dq->sq_bytes, dq->sq, dq->sq_dma);
	dma_free_coherent(dev, dq->cq_bytes, dq->cq, dq->cq_dma);
	__free_page(dq->dummy);
	kfree(dq);
}

static void mtia_direct_put(struct mtia_direct *dq)
{
	kref_put(&dq->ref, mtia_direct_release);
}

/* Program and enable the hardware queue. Caller holds the direct lock. */
static void mtia_direct_enable_locked(struct mtia_direct *dq, u32 prio,
				      u32 sq_order, u32 cq_order, u32 ctx)
{
	struct mtia_device *mdev = dq->mdev;
	unsigned int i = dq->hwq->idx;

	lockdep_assert_held(&mdev->jobs->direct_lock);
	/* Enable starts the device's CQ tail at 0. */
	spin_lock_irq(&dq->hwq->lock);
	dq->hwq->dq = dq;
	dq->cq_seen = 0;
	spin_unlock_irq(&dq->hwq->lock);
	mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_SQ_BASE_LO), lower_32_bits(dq->sq_dma));
	mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_SQ_BASE_HI), upper_32_bits(dq->sq_dma));
	mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_CQ_BASE_LO), lower_32_bits(dq->cq_dma));
	mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_CQ_BASE_HI), upper_32_bits(dq->cq_dma));
	mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_SIZE), mtia_q_size(sq_order, cq_order));
	mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_COALESCE), mtia_q_coalesce(1, 0));
	mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_CTX), mtia_q_ctx(ctx));
	mtia_direct_usage_start(mdev, i, &dq->busy);
	mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_CTRL),
		  mtia_q_ctrl(true, prio, dq->hwq->vec));
	WRITE_ONCE(dq->enabled, true);
	mtia_vm_direct_get(dq->vm);
}

/*
 * Disable the hardware queue (synchronous) and unbind it; the device time
 * of its commands goes into the file's; the mappings of the file's closed
 * BOs may go after. Caller holds the direct lock.
 */
static void mtia_direct_disable_locked(struct mtia_direct *dq)
{
	struct mtia_device *mdev = dq->mdev;
	unsigned int i = dq->hwq->idx, e;
	int idx;

	lockdep_assert_held(&mdev->jobs->direct_lock);
	if (!dq->enabled)
		return;
	if (drm_dev_enter(&mdev->drm, &idx)) {
		mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_CTRL), 0);
		mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_CTX), 0);
		mtia_direct_usage_sample(mdev, i, &dq->busy);	/* final */
		drm_dev_exit(idx);
	}
	for (e = 0; e < MTIA_ENGINE_NR; e++)
		atomic64_add(dq->busy.ns[e], &dq->usage->direct_ns[e]);
	spin_lock_irq(&dq->hwq->lock);
	dq->hwq->dq = NULL;
	spin_unlock_irq(&dq->hwq->lock);
	WRITE_ONCE(dq->enabled, false);
	mtia_vm_direct_put(dq->vm);
	mtia_pm_put(mdev);
}

/*
 * Find a free kept hardware queue for @dq; its fence word is that queue's
 * of @words, zeroed. Caller holds the direct lock.
 */
static int mtia_direct_claim_locked(struct mtia_direct *dq, u64 *words)
{
	struct mtia_jobs *jobs = dq->mdev->jobs;
	unsigned int i;

	lockdep_assert_held(&jobs->direct_lock);
	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		if (jobs->hwq[i].direct && !jobs->direct[i]) {
			jobs->direct[i] = dq;
			dq->hwq = &jobs->hwq[i];
			WRITE_ONCE(words[i], 0);
			mtia_direct_fences_init(&dq->fences, &words[i]);
			return 0;
		}
	}
	return -EBUSY;
}

static int mtia_direct_check_create(const struct drm_mtia_direct_create *a)
{
	if (a->flags || a->fence_va || a->reserved ||
	    a->priority > MTIA_QUEUE_PRIO_HIGH)
		return -EINVAL;
	if (a->sq_order < MTIA_Q_SIZE_LOG2_MIN || a->sq_order > MTIA_DIRECT_ORDER_MAX ||
	    a->cq_order < MTIA_Q_SIZE_LOG2_MIN || a->cq_order > MTIA_DIRECT_ORDER_MAX)
		return -EINVAL;
	return 0;
}

static void mtia_direct_fault_work(struct work_struct *work);

static struct mtia_direct *mtia_direct_alloc(struct mtia_device *mdev,
					     const struct drm_mtia_direct_create *a)
{
	struct device *dev = &mdev->pdev->dev;
	struct mtia_direct *dq;

	dq = kzalloc(sizeof(*dq), GFP_KERNEL);
	if (!dq)
		return NULL;
	kref_init(&dq->ref);
	INIT_WORK(&dq->fault_work, mtia_direct_fault_work);
	dq->mdev = mdev;
	dq->cq_entries = 1u << a->cq_order;
	dq->sq_bytes = PAGE_ALIGN(sizeof(struct mtia_cmd) << a->sq_order);
	dq->cq_bytes = PAGE_ALIGN(sizeof(struct mtia_cqe) << a->cq_order);
	dq->sq = dma_alloc_coherent(dev, dq->sq_bytes, &dq->sq_dma, GFP_KERNEL);
	dq->cq = dma_alloc_coherent(dev, dq->cq_bytes, &dq->cq_dma, GFP_KERNEL);
	dq->dummy = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!dq->sq || !dq->cq || !dq->dummy) {
		if (dq->sq)
			dma_free_coherent(dev, dq->sq_bytes, dq->sq, dq->sq_dma);
		if (dq->cq)
			dma_free_coherent(dev, dq->cq_bytes, dq->cq, dq->cq_dma);
		if (dq->dummy)
			__free_page(dq->dummy);
		kfree(dq);
		return NULL;
	}
	return dq;
}

int mtia_ioctl_direct_create(struct drm_device *drm, void *data,
			     struct drm_file *file)
{
	struct mtia_device *mdev = to_mtia_device(drm);
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_direct_create *args = data;
	struct mtia_direct *dq;
	u64 *words, words_va;
	u32 id;
	int ret;

	ret = mtia_direct_check_create(args);
	if (ret)
		return ret;
	if (!fpriv->vm)
		return -EOPNOTSUPP;
	ret = mtia_vm_fence_words(fpriv->vm, &words, &words_va);
	if (ret)
		return ret;
	dq = mtia_direct_alloc(mdev, args);
	if (!dq)
		return -ENOMEM;
	dq->file = file;
	dq->vm = fpriv->vm;
	dq->usage = fpriv->usage;
	ret = mtia_pm_get(mdev);
	if (ret) {
		mtia_direct_put(dq);
		return ret;
	}
	/* Not under a reset: it would forget the queue right away. */
	mutex_lock(&mdev->jobs->reset_lock);
	mutex_lock(&mdev->jobs->direct_lock);
	ret = READ_ONCE(mdev->fw_state) == MTIA_FW_READY ? 0 : -EIO;
	if (!ret)
		ret = mtia_direct_claim_locked(dq, words);
	if (!ret)
		mtia_direct_enable_locked(dq, args->priority, args->sq_order,
					  args->cq_order, fpriv->ctx);
	mutex_unlock(&mdev->jobs->direct_lock);
	mutex_unlock(&mdev->jobs->reset_lock);
	if (ret) {	/* nothing claimed */
		mtia_pm_put(mdev);
		mtia_direct_put(dq);
		return ret;
	}
	ret = xa_alloc(&fpriv->direct, &id, dq, xa_limit_31b, GFP_KERNEL);
	if (ret) {
		mutex_lock(&mdev->jobs->direct_lock);
		mtia_direct_disable_locked(dq);
		mutex_unlock(&mdev->jobs->direct_lock);
		mtia_direct_put(dq);
		return ret;
	}
	args->queue_id = id;
	args->ctx = fpriv->ctx;
	args->sq_offset = mtia_direct_offset(dq->hwq->idx, MTIA_DIRECT_SQ);
	args->cq_offset = mtia_direct_offset(dq->hwq->idx, MTIA_DIRECT_CQ);
	args->doorbell_offset = mtia_direct_offset(dq->hwq->idx, MTIA_DIRECT_DB);
	args->fence_va = words_va + dq->hwq->idx * sizeof(u64);
	return 0;
}

/*
 * Disable @dq, end its fences and drop the file's reference (destroy,
 * close). Disabled, it queues no fault work; one still pending is not
 * needed any more, and none runs after the file is gone.
 */
static void mtia_direct_destroy(struct mtia_direct *dq)
{
	struct mtia_jobs *jobs = dq->mdev->jobs;

	mutex_lock(&jobs->direct_lock);
	mtia_direct_disable_locked(dq);
	mutex_unlock(&jobs->direct_lock);
	if (cancel_work_sync(&dq->fault_work))
		mtia_direct_put(dq);
	mtia_direct_fences_end(&dq->fences, -ECANCELED);
	wake_up_all(&dq->hwq->direct_wq);
	mtia_direct_put(dq);
}

int mtia_ioctl_direct_destroy(struct drm_device *drm, void *data,
			      struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_direct_destroy *args = data;
	struct mtia_direct *dq;

	if (args->flags || args->reserved)
		return -EINVAL;
	dq = xa_erase(&fpriv->direct, args->queue_id);
	if (!dq)
		return -EINVAL;
	mtia_direct_destroy(dq);
	return 0;
}

/**
 * mtia_direct_close_file() - postclose: destroy the file's direct queues
 * (before its address space goes).
 * @fpriv: the file.
 */
void mtia_direct_close_file(struct mtia_file_priv *fpriv)
{
	struct mtia_direct *dq;
	unsigned long id;

	xa_for_each(&fpriv->direct, id, dq) {
		xa_erase(&fpriv->direct, id);
		mtia_direct_destroy(dq);
	}
	xa_destroy(&fpriv->direct);
}

/**
 * mtia_direct_engine_ns_locked() - add the device time of a file's enabled
 * direct queues (fdinfo; their disabled ones are in the file's usage).
 * @file: the DRM file.
 * @ns: nanoseconds per enum mtia_engine_class, added to.
 *
 * Caller holds &mtia_jobs.direct_lock, so a queue being disabled counts
 * either here or in the file's usage, never both nor neither.
 */
void mtia_direct_engine_ns_locked(struct drm_file *file, u64 ns[])
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct mtia_device *mdev = fpriv->mdev;
	struct mtia_direct *dq;
	unsigned int i, e;
	int idx;

	lockdep_assert_held(&mdev->jobs->direct_lock);
	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		dq = mdev->jobs->direct[i];
		if (!dq || dq->file != file || !dq->enabled)
			continue;
		if (drm_dev_enter(&mdev->drm, &idx)) {
			mtia_direct_usage_sample(mdev, i, &dq->busy);
			drm_dev_exit(idx);
		}
		for (e = 0; e < MTIA_ENGINE_NR; e++)
			ns[e] += dq->busy.ns[e];
	}
}

/**
 * mtia_direct_lost_locked() - after a device reset (or at remove): every
 * direct queue was disabled by it; their waiters learn it.
 * @mdev: the device; caller holds &mtia_jobs.reset_lock.
 */
void mtia_direct_lost_locked(struct mtia_device *mdev)
{
	struct mtia_jobs *jobs = mdev->jobs;
	unsigned int i;

	lockdep_assert_held(&jobs->reset_lock);
	mutex_lock(&jobs->direct_lock);
	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		if (!jobs->direct[i])
			continue;
		if (!READ_ONCE(jobs->direct[i]->lost))
			WRITE_ONCE(jobs->direct[i]->lost, -ECANCELED);
		mtia_direct_fences_end(&jobs->direct[i]->fences, -ECANCELED);
		wake_up_all(&jobs->hwq[i].direct_wq);
	}
	mutex_unlock(&jobs->direct_lock);
}

/*
 * Take @dq back after a fault of its context, as a reset would: it runs
 * nothing more (its unfinished commands complete ABORTED), DIRECT_WAIT says
 * -EFAULT, its fences end. Caller holds the direct lock.
 */
static void mtia_direct_take_locked(struct mtia_direct *dq)
{
	lockdep_assert_held(&dq->mdev->jobs->direct_lock);
	if (!dq->enabled || READ_ONCE(dq->lost))
		return;
	WRITE_ONCE(dq->lost, -EFAULT);
	smp_wmb();	/* before !enabled: see mtia_direct_gone() */
	mtia_direct_disable_locked(dq);
	mtia_direct_fences_end(&dq->fences, -ECANCELED);
	wake_up_all(&dq->hwq->direct_wq);
}

/* A fault on @dq's queue: take every direct queue of its file back. */
static void mtia_direct_fault_work(struct work_struct *work)
{
	struct mtia_direct *dq = container_of(work, struct mtia_direct,
					      fault_work);
	struct mtia_jobs *jobs = dq->mdev->jobs;
	unsigned int i, n = 0;
	u32 ctx = 0;

	mutex_lock(&jobs->direct_lock);
	if (dq->enabled && !READ_ONCE(dq->lost)) {
		ctx = dq->vm->ctx;
		for (i = 0; i < MTIA_NUM_QUEUES; i++) {
			if (jobs->direct[i] && jobs->direct[i]->file == dq->file &&
			    jobs->direct[i]->enabled) {
				mtia_direct_take_locked(jobs->direct[i]);
				n++;
			}
		}
	}
	mutex_unlock(&jobs->direct_lock);
	if (n)
		dev_info_ratelimited(&dq->mdev->pdev->dev,
				     "ctx %u: translation fault at VA 0x%llx on direct queue (hardware queue %u); took back its %u direct queue(s)\n",
				     ctx, dq->fault_va, dq->hwq->idx, n);
	mtia_direct_put(dq);
}

/*
 * 0 while @dq runs; else what DIRECT_WAIT says: why it was taken (reset,
 * fault), or -ECANCELED after DIRECT_DESTROY.
 */
static int mtia_direct_gone(struct mtia_direct *dq)
{
	bool enabled = READ_ONCE(dq->enabled);
	int lost;

	smp_rmb();	/* @lost is set before @enabled is cleared */
	lost = READ_ONCE(dq->lost);
	if (lost)
		return lost;
	return enabled ? 0 : -ECANCELED;
}

/* The CQ entry DIRECT_WAIT @a waits for holds a completion. */
static bool mtia_direct_cqe_there(struct mtia_direct *dq,
				  const struct drm_mtia_direct_wait *a)
{
	const struct mtia_cqe *cqe = (const struct mtia_cqe *)dq->cq + a->cq_index;

	return mtia_cqe_phase(READ_ONCE(cqe->status)) == a->phase;
}

/* The file's direct queue @id, referenced, or NULL. */
static struct mtia_direct *mtia_direct_lookup(struct mtia_file_priv *fpriv,
					      u32 id)
{
	struct mtia_direct *dq;

	xa_lock(&fpriv->direct);
	dq = xa_load(&fpriv->direct, id);
	if (dq)
		kref_get(&dq->ref);
	xa_unlock(&fpriv->direct);
	return dq;
}

int mtia_ioctl_direct_wait(struct drm_device *drm, void *data,
			   struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_direct_wait *args = data;
	struct mtia_direct *dq;
	long t;
	int ret;

	if (args->flags || args->phase > 1)
		return -EINVAL;
	dq = mtia_direct_lookup(fpriv, args->queue_id);
	if (!dq)
		return -EINVAL;
	ret = -EINVAL;
	if (args->cq_index >= dq->cq_entries)
		goto out;
	t = nsecs_to_jiffies64(args->timeout_ns) + (args->timeout_ns ? 1 : 0);
	t = wait_event_interruptible_timeout(dq->hwq->direct_wq,
					     mtia_direct_cqe_there(dq, args) ||
					     mtia_direct_gone(dq),
					     min_t(u64, t, MAX_SCHEDULE_TIMEOUT));
	/* A completion written before the queue was taken is still one. */
	if (t < 0)
		ret = t;
	else if (mtia_direct_cqe_there(dq, args))
		ret = 0;
	else
		ret = mtia_direct_gone(dq) ?: -ETIME;
out:
	mtia_direct_put(dq);
	return ret;
}

int mtia_ioctl_direct_signal(struct drm_device *drm, void *data,
			     struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_direct_signal *args = data;
	struct drm_syncobj *syncobj;
	struct mtia_direct *dq;
	struct dma_fence *f;
	int ret = 0;

	if (args->flags || args->pad || args->reserved[0] ||
	    args->reserved[1] || !args->value)
		return -EINVAL;
	dq = mtia_direct_lookup(fpriv, args->queue_id);
	if (!dq)
		return -EINVAL;
	syncobj = drm_syncobj_find(file, args->syncobj);
	if (!syncobj) {
		mtia_direct_put(dq);
		return -ENOENT;
	}
	f = mtia_direct_fences_add(&dq->fences, args->value);
	if (IS_ERR(f)) {
		ret = PTR_ERR(f);
	} else {
		drm_syncobj_replace_fence(syncobj, f);
		dma_fence_put(f);
	}
	drm_syncobj_put(syncobj);
	mtia_direct_put(dq);
	return ret;
}

/* ---- mappings ------------------------------------------------------------ */

static void mtia_direct_vm_open(struct vm_area_struct *vma)
{
	struct mtia_direct *dq = vma->vm_private_data;

	kref_get(&dq->ref);
}

static void mtia_direct_vm_close(struct vm_area_struct *vma)
{
	mtia_direct_put(vma->vm_private_data);
}

/*
 * The rings and the doorbell are mapped whole at mmap, so a fault means
 * their mappings were zapped: the device was unplugged (mtia_bo_unmap_all()).
 * The queue's zeroed page stands in, as DRM drivers map a dummy page after
 * unplug: the process reads no new completion and its writes reach nothing
 * instead of dying of SIGBUS, and its next ioctl (DIRECT_WAIT) gets -ENODEV.
 */
static vm_fault_t mtia_direct_vm_fault(struct vm_fault *vmf)
{
	struct mtia_direct *dq = vmf->vma->vm_private_data;

	return vmf_insert_pfn(vmf->vma, vmf->address, page_to_pfn(dq->dummy));
}

static const struct vm_operations_struct mtia_direct_vm_ops = {
	.fault = mtia_direct_vm_fault,
	.open = mtia_direct_vm_open,
	.close = mtia_direct_vm_close,
};

/* Map @kind of @dq into @vma. Caller holds the direct lock. */
static int mtia_direct_map_locked(struct mtia_direct *dq, unsigned int kind,
				  struct vm_area_struct *vma)
{
	struct mtia_device *mdev = dq->mdev;
	struct device *dev = &mdev->pdev->dev;
	size_t len = vma->vm_end - vma->vm_start;
	phys_addr_t db;

	/* A child would share the queue: not across fork, not copy-on-write. */
	if (is_cow_mapping(vma->vm_flags))
		return -EINVAL;
	vm_flags_set(vma, VM_DONTCOPY | VM_DONTEXPAND | VM_DONTDUMP);
	switch (kind) {
	case MTIA_DIRECT_SQ:
		if (len > dq->sq_bytes)
			return -EINVAL;
		vma->vm_pgoff = 0;	/* the offset into the ring */
		return dma_mmap_coherent(dev, vma, dq->sq, dq->sq_dma, len);
	case MTIA_DIRECT_CQ:
		if (len > dq->cq_bytes || (vma->vm_flags & VM_WRITE))
			return -EINVAL;
		vm_flags_clear(vma, VM_MAYWRITE);
		vma->vm_pgoff = 0;
		return dma_mmap_coherent(dev, vma, dq->cq, dq->cq_dma, len);
	default:
		if (len != PAGE_SIZE)
			return -EINVAL;
		db = pci_resource_start(mdev->pdev, 0) +
		     MTIA_REG_DB(dq->hwq->idx, 0);
		vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
		return io_remap_pfn_range(vma, vma->vm_start, db >> PAGE_SHIFT,
					  PAGE_SIZE, vma->vm_page_prot);
	}
}

/**
 * mtia_direct_mmap() - mmap of a direct queue's ring or doorbell page, by
 * the file that owns it.
 * @filp: the device file.
 * @vma: the mapping; its offset is one DIRECT_CREATE returned.
 *
 * Return: 0 or a negative errno.
 */
int mtia_direct_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct drm_file *file = filp->private_data;
	struct mtia_device *mdev = to_mtia_device(file->minor->dev);
	unsigned long rel = vma->vm_pgoff - MTIA_DIRECT_PGOFF;
	unsigned int hwq = rel / (MTIA_DIRECT_KINDS * MTIA_DIRECT_SPAN);
	unsigned int kind = rel / MTIA_DIRECT_SPAN % MTIA_DIRECT_KINDS;
	struct mtia_direct *dq;
	int ret = -EINVAL;

	if (rel % MTIA_DIRECT_SPAN || hwq >= MTIA_NUM_QUEUES)
		return -EINVAL;
	mutex_lock(&mdev->jobs->direct_lock);
	dq = mdev->jobs->direct[hwq];
	if (dq && dq->file == file && dq->enabled)
		ret = mtia_direct_map_locked(dq, kind, vma);
	if (!ret) {
		kref_get(&dq->ref);
		vma->vm_private_data = dq;
		vma->vm_ops = &mtia_direct_vm_ops;
	}
	mutex_unlock(&mdev->jobs->direct_lock);
	return ret;
}

/* ---- BO VAs -------------------------------------------------------------- */

int mtia_ioctl_bo_map(struct drm_device *drm, void *data,
		      struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct drm_mtia_bo_map *args = data;
	struct drm_gem_object *obj;
	int ret;

	if (args->flags || args->reserved[0] || args->reserved[1])
		return -EINVAL;
	if (!fpriv->vm)
		return -EOPNOTSUPP;
	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;
	ret = mtia_vm_map_bo(fpriv->vm, obj, &args->va);
	drm_gem_object_put(obj);
	return ret;
}
