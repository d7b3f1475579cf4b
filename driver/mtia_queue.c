// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: hardware queue rings (docs/queues.md).
 *
 * Each of the MTIA_NUM_QUEUES hardware queues gets a 256-entry SQ and CQ in
 * DMA-coherent memory, allocated once at probe and (re)programmed whenever
 * the firmware becomes ready: after boot and after every device reset.
 * Queues 0-1 are HIGH, 2-5 NORMAL and 6-7 LOW priority; with the device
 * MMU the top direct_queues of them are kept for direct queues instead
 * (mtia_direct.c: their rings are a process's, and their interrupt only
 * wakes its waiters). Each queue's CQ
 * raises its own MSI-X vector (1 + queue) when the device granted
 * 1 + MTIA_NUM_QUEUES vectors; with fewer, queues share the vectors beyond
 * the admin one, and with only one vector everything is on vector 0 (the
 * admin handler then polls the queues too). Interrupts are moderated per
 * job (mtia_hwq_moderate_locked()): one at a job's last command, not one
 * per command.
 *
 * A job is a run of device commands written to the SQ in order. Jobs are
 * kept on the queue's list in the order run_job handed them over; the CQ
 * handler credits each CQE to the oldest job (a queue completes in order),
 * and signals the job's hardware fence when its last command completed.
 * A job larger than the free room in the SQ is written in pieces: what does
 * not fit is written by the CQ handler as the device frees SQ slots, so a
 * job of any length (up to MTIA_MAX_CMDS_PER_JOB) runs on a 256-entry ring.
 */

#include <linux/bitfield.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/pci.h>

#include "mtia_direct.h"
#include "mtia_hw.h"
#include "mtia_job.h"
#include "mtia_trace.h"

static bool irq_moderation = true;
module_param(irq_moderation, bool, 0644);
MODULE_PARM_DESC(irq_moderation,
		 "one completion interrupt per job instead of one per command (default true)");

/* A backstop only: the count alone raises the interrupt (see below). */
#define MTIA_HWQ_COALESCE_BACKSTOP_US	10000

static const u32 mtia_hwq_prio[MTIA_NUM_QUEUES] = {
	MTIA_PRIO_HIGH, MTIA_PRIO_HIGH,
	MTIA_PRIO_NORMAL, MTIA_PRIO_NORMAL, MTIA_PRIO_NORMAL, MTIA_PRIO_NORMAL,
	MTIA_PRIO_LOW, MTIA_PRIO_LOW,
};

/*
 * Interrupt moderation: the device raises the queue's vector once
 * Q_COALESCE's count of completions has been written since its last
 * interrupt. The count is the commands of the oldest job that are in the
 * SQ and not yet completed, so the interrupt comes with that job's last
 * completion, or earlier (completions the handler consumed after the
 * interrupt count too): early, never late, and a one-command job (a NOP)
 * interrupts at once as without moderation. The device compares the count
 * only when it writes a completion, so after a change the caller looks at
 * the CQ again (mtia_hwq_process()): what was written before the change is
 * consumed then.
 */
static void mtia_hwq_moderate_locked(struct mtia_hwq *q)
{
	struct mtia_job *job;
	u32 count = 1, val;

	lockdep_assert_held(&q->lock);

	job = list_first_entry_or_null(&q->jobs, struct mtia_job, node);
	if (job && READ_ONCE(irq_moderation))
		count = clamp_t(u32, job->next_cmd - (job->ncmds - job->outstanding),
				1, FIELD_MAX(MTIA_Q_COALESCE_COUNT_MASK));
	val = mtia_q_coalesce(count,
			      count > 1 ? MTIA_HWQ_COALESCE_BACKSTOP_US : 0);
	if (val == q->coalesce)
		return;
	mtia_wr32(q->mdev, MTIA_REG_Q(q->idx, MTIA_Q_COALESCE), val);
	q->coalesce = val;
}

/* Write as many pending commands as fit, then ring the doorbell. */
static void mtia_hwq_fill_locked(struct mtia_hwq *q)
{
	struct mtia_job *job;
	u32 written = 0, next;

	lockdep_assert_held(&q->lock);

	if (!q->up || q->stalled)
		return;
	list_for_each_entry(job, &q->jobs, node) {
		if (job->fault == MTIA_FAULT_HANG) {
			/* Injected hang: nothing more reaches the device. */
			q->stalled = true;
			break;
		}
		while (job->next_cmd < job->ncmds) {
			next = (q->sq_tail + 1) & (MTIA_HWQ_ENTRIES - 1);
			if (next == q->sq_head)
				goto out;
			q->sq[q->sq_tail] = job->cmds[job->next_cmd];
			q->sq[q->sq_tail].cid = q->sq_tail;
			q->sq_tail = next;
			job->next_cmd++;
			written++;
		}
	}
out:
	mtia_hwq_moderate_locked(q);
	if (written) {
		/* The ring entries before the doorbell write. */
		dma_wmb();
		mtia_wr32(q->mdev, MTIA_REG_DB(q->idx, MTIA_DB_SQ_TAIL),
			  q->sq_tail);
	}
}

/*
 * Point the queue's completion interrupt at this CPU, where run_job runs
 * (the submitter's: see mtia_jobs_alloc()) and where the submitter will wait:
 * the interrupt then wakes it without an IPI to another CPU, as NVMe's
 * per-CPU queues do. Moves at most every 10 ms, so submitters on two CPUs
 * sharing a queue do not make it bounce on every job.
 */
static void mtia_hwq_steer_irq(struct mtia_hwq *q)
{
	int cpu = raw_smp_processor_id();

	if (q->irq <= 0 || READ_ONCE(q->irq_cpu) == cpu ||
	    time_before(jiffies, READ_ONCE(q->irq_moved) + msecs_to_jiffies(10)))
		return;
	WRITE_ONCE(q->irq_cpu, cpu);
	WRITE_ONCE(q->irq_moved, jiffies);
	irq_set_affinity(q->irq, cpumask_of(cpu));
}

/**
 * mtia_hwq_queue_job() - hand a job to a hardware queue (from run_job).
 * @q: the queue.
 * @job: the job, its hardware fence set up.
 */
void mtia_hwq_queue_job(struct mtia_hwq *q, struct mtia_job *job)
{
	unsigned long flags;

	mtia_hwq_steer_irq(q);

	job->next_cmd = 0;
	job->outstanding = job->ncmds;
	job->first_err = 0;
	job->device_ns = 0;
	spin_lock_irqsave(&q->lock, flags);
	list_add_tail(&job->node, &q->jobs);
	mtia_hwq_fill_locked(q);
	spin_unlock_irqrestore(&q->lock, flags);
}

/* Consume the CQ; true if there was anything. */
static bool mtia_hwq_process(struct mtia_hwq *q)
{
	struct mtia_device *mdev = q->mdev;
	struct mtia_cqe *cqe;
	struct mtia_job *job;
	unsigned long flags;
	unsigned int n = 0;
	u16 st;

	if (q->direct) {	/* the CQ is the process's */
		mtia_direct_irq(q);
		return true;
	}
	spin_lock_irqsave(&q->lock, flags);
again:
	while (q->up) {
		cqe = &q->cq[q->cq_head];
		st = READ_ONCE(cqe->status);
		if (mtia_cqe_phase(st) != q->phase)
			break;
		/* The rest of the CQE after its phase bit. */
		dma_rmb();
		q->sq_head = READ_ONCE(cqe->sq_head) & (MTIA_HWQ_ENTRIES - 1);
		job = list_first_entry_or_null(&q->jobs, struct mtia_job, node);
		if (job && job->outstanding) {
			/* A queue completes in order: this is command ncmds - outstanding. */
			u32 idx = job->ncmds - job->outstanding;

			trace_mtia_cqe(&mdev->pdev->dev, q->idx, cqe->cid,
				       mtia_cqe_status(st), READ_ONCE(cqe->result),
				       job->ctx, job->queue_id, job->seqno,
				       idx);

			if (mtia_cqe_status(st) && !job->first_err)
				job->first_err = mtia_cqe_status(st);
			if (mtia_cqe_status(st) == MTIA_CQE_TRANSLATION_FAULT)
				mtia_job_report_fault(job, READ_ONCE(cqe->result));
			if (!mtia_cqe_status(st) &&
			    job->cmds[idx].opcode == MTIA_CMD_COMPUTE)
				job->device_ns += READ_ONCE(cqe->result);
			if (!--job->outstanding) {
				list_del_init(&job->node);
				mtia_job_hw_done_locked(job);
			}
		} else {
			trace_mtia_cqe(&mdev->pdev->dev, q->idx, cqe->cid,
				       mtia_cqe_status(st), READ_ONCE(cqe->result),
				       0, 0, 0, 0);
			dev_warn_ratelimited(&mdev->pdev->dev,
					     "queue %u: completion without a job (cid %u status %u)\n",
					     q->idx, cqe->cid, mtia_cqe_status(st));
		}
		if (++q->cq_head == MTIA_HWQ_ENTRIES) {
			q->cq_head = 0;
			q->phase ^= 1;
		}
		n++;
	}
	if (n) {
		mtia_wr32(mdev, MTIA_REG_DB(q->idx, MTIA_DB_CQ_HEAD), q->cq_head);
		mtia_hwq_fill_locked(q);
		/* Written before a new moderation count: no interrupt for it. */
		if (q->up && mtia_cqe_phase(READ_ONCE(q->cq[q->cq_head].status)) ==
			     q->phase)
			goto again;
	}
	spin_unlock_irqrestore(&q->lock, flags);
	return n;
}

/* One handler per vector >= 1; it serves every queue on that vector. */
static irqreturn_t mtia_hwq_irq(int irq, void *arg)
{
	struct mtia_hwq *first = arg;
	struct mtia_jobs *jobs = first->mdev->jobs;
	bool any = false;
	unsigned int i;

	for (i = first->idx; i < MTIA_NUM_QUEUES; i++)
		if (jobs->hwq[i].vec == first->vec)
			any |= mtia_hwq_process(&jobs->hwq[i]);
	return any ? IRQ_HANDLED : IRQ_NONE;
}

/**
 * mtia_hwq_poll() - consume @q's CQ without an interrupt (job timeout).
 * @q: the queue.
 *
 * Return: true if a completion was waiting.
 */
bool mtia_hwq_poll(struct mtia_hwq *q)
{
	return mtia_hwq_process(q);
}

/**
 * mtia_hwq_poll_shared() - serve the queues on the admin vector.
 * @mdev: the device.
 *
 * Return: true if a completion was consumed.
 */
bool mtia_hwq_poll_shared(struct mtia_device *mdev)
{
	struct mtia_jobs *jobs = READ_ONCE(mdev->jobs);
	bool any = false;
	unsigned int i;

	if (!jobs)
		return false;
	for (i = 0; i < MTIA_NUM_QUEUES; i++)
		if (!jobs->hwq[i].vec)
			any |= mtia_hwq_process(&jobs->hwq[i]);
	return any;
}

/**
 * mtia_hwq_init() - allocate the rings and install the CQ handlers.
 * @mdev: the device, MSI-X enabled, @mdev->jobs allocated.
 *
 * Everything is device-managed.
 *
 * Return: 0 or a negative errno.
 */
int mtia_hwq_init(struct mtia_device *mdev)
{
	struct device *dev = &mdev->pdev->dev;
	struct mtia_jobs *jobs = mdev->jobs;
	unsigned int i, j;
	int ret, irq;

	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		struct mtia_hwq *q = &jobs->hwq[i];

		q->mdev = mdev;
		q->idx = i;
		q->prio = mtia_hwq_prio[i];
		q->vec = mdev->nvecs > 1 ? 1 + i % (mdev->nvecs - 1) : 0;
		spin_lock_init(&q->lock);
		INIT_LIST_HEAD(&q->jobs);
		q->fence_ctx = dma_fence_context_alloc(1);
		q->sq = dmam_alloc_coherent(dev, MTIA_HWQ_ENTRIES * sizeof(*q->sq),
					    &q->sq_dma, GFP_KERNEL);
		q->cq = dmam_alloc_coherent(dev, MTIA_HWQ_ENTRIES * sizeof(*q->cq),
					    &q->cq_dma, GFP_KERNEL);
		if (!q->sq || !q->cq)
			return -ENOMEM;
	}

	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		struct mtia_hwq *q = &jobs->hwq[i];
		const char *name;

		q->irq_cpu = -1;
		if (!q->vec)
			continue;
		irq = pci_irq_vector(mdev->pdev, q->vec);
		if (irq < 0)
			return irq;
		q->irq = irq;
		for (j = 0; j < i; j++)
			if (jobs->hwq[j].vec == q->vec)
				break;
		if (j < i)
			continue;
		name = devm_kasprintf(dev, GFP_KERNEL, "%s-q%u", MTIA_DRIVER_NAME,
				      i);
		if (!name)
			return -ENOMEM;
		ret = devm_request_irq(dev, irq, mtia_hwq_irq, 0, name, q);
		if (ret) {
			dev_err(dev, "cannot request queue IRQ %d (%d)\n", irq,
				ret);
			return ret;
		}
	}
	return 0;
}

/**
 * mtia_hwq_program_all() - turn the device MMU on (if any), program and
 * enable every queue with empty rings.
 * @mdev: the device, firmware ready, queues disabled (after reset).
 */
void mtia_hwq_program_all(struct mtia_device *mdev)
{
	struct mtia_jobs *jobs = mdev->jobs;
	unsigned long flags;
	unsigned int i;

	/* Before any queue: the MMU's registers reset with the device. */
	mtia_mmu_hw_enable(mdev);
	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		struct mtia_hwq *q = &jobs->hwq[i];

		if (q->direct)	/* programmed by its direct queue */
			continue;
		spin_lock_irqsave(&q->lock, flags);
		memset(q->cq, 0, MTIA_HWQ_ENTRIES * sizeof(*q->cq));
		q->sq_tail = 0;
		q->sq_head = 0;
		q->cq_head = 0;
		q->phase = 1;
		q->stalled = false;
		mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_SQ_BASE_LO),
			  lower_32_bits(q->sq_dma));
		mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_SQ_BASE_HI),
			  upper_32_bits(q->sq_dma));
		mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_CQ_BASE_LO),
			  lower_32_bits(q->cq_dma));
		mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_CQ_BASE_HI),
			  upper_32_bits(q->cq_dma));
		mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_SIZE),
			  mtia_q_size(MTIA_HWQ_ORDER, MTIA_HWQ_ORDER));
		q->coalesce = mtia_q_coalesce(1, 0);
		mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_COALESCE), q->coalesce);
		mtia_wr32(mdev, MTIA_REG_Q(i, MTIA_Q_CTRL),
			  mtia_q_ctrl(true, q->prio, q->vec));
		q->up = true;
		spin_unlock_irqrestore(&q->lock, flags);
	}
}

/**
 * mtia_hwq_stop_all_locked() - stop consuming completions (before a reset).
 * @mdev: the device; caller holds &mtia_jobs.reset_lock.
 *
 * The device reset that follows disables the queues without writing any
 * completion; the jobs stay on the lists until mtia_hwq_cancel_all_locked().
 */
void mtia_hwq_stop_all_locked(struct mtia_device *mdev)
{
	struct mtia_jobs *jobs = mdev->jobs;
	unsigned long flags;
	unsigned int i;

	lockdep_assert_held(&jobs->reset_lock);
	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		spin_lock_irqsave(&jobs->hwq[i].lock, flags);
		jobs->hwq[i].up = false;
		spin_unlock_irqrestore(&jobs->hwq[i].lock, flags);
	}
}

/**
 * mtia_hwq_cancel_all_locked() - drop every job from the queues, signalling its
 * hardware fence with @error.
 * @mdev: the device, queues stopped; caller holds &mtia_jobs.reset_lock.
 * @error: negative errno for the fences.
 */
void mtia_hwq_cancel_all_locked(struct mtia_device *mdev, int error)
{
	struct mtia_jobs *jobs = mdev->jobs;
	struct mtia_job *job, *tmp;
	unsigned long flags;
	unsigned int i;

	lockdep_assert_held(&jobs->reset_lock);

	for (i = 0; i < MTIA_NUM_QUEUES; i++) {
		struct mtia_hwq *q = &jobs->hwq[i];

		spin_lock_irqsave(&q->lock, flags);
		list_for_each_entry_safe(job, tmp, &q->jobs, node) {
			list_del_init(&job->node);
			job->outstanding = 0;
			trace_mtia_job_hw_done(&mdev->pdev->dev, q->idx, job,
					       error);
			dma_fence_set_error(&job->hw_fence->base, error);
			dma_fence_signal(&job->hw_fence->base);
		}
		spin_unlock_irqrestore(&q->lock, flags);
	}
}
