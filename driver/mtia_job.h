/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: hardware queues, jobs and their scheduling,
 * shared by mtia_queue.c (rings), mtia_sched.c (drm_sched backend, resets),
 * mtia_job.c (the job object) and mtia_submit.c (SUBMIT, WAIT). A file's
 * user queues are mtia_file.h's.
 */
#ifndef __MTIA_JOB_H__
#define __MTIA_JOB_H__

#include <linux/bits.h>
#include <linux/dma-fence.h>
#include <linux/idr.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <drm/gpu_scheduler.h>

#include <mtia/mtia_spec.h>

struct drm_device;
struct drm_file;
struct drm_gem_object;
struct mtia_device;
struct mtia_direct;

#define MTIA_HWQ_ORDER		8	/* 256-entry SQ and CQ */
#define MTIA_HWQ_ENTRIES	BIT(MTIA_HWQ_ORDER)
#define MTIA_WAIT_WINDOW	256	/* finished fences kept per user queue */
#define MTIA_PRIO_NR		(MTIA_PRIO_HIGH + 1)	/* MTIA_PRIO_* classes */

/* Engine classes whose busy time fdinfo reports per file (drm-engine-*). */
enum mtia_engine_class {
	MTIA_ENGINE_DMA,	/* COPY, FILL, TIMESTAMP, ... */
	MTIA_ENGINE_COMPUTE,	/* jobs with a COMPUTE command */
	MTIA_ENGINE_NR,
};

/**
 * struct mtia_hwq - one hardware queue and its scheduler.
 * @mdev: the device.
 * @idx: queue number (0..MTIA_NUM_QUEUES - 1).
 * @prio: MTIA_PRIO_* programmed in CTRL.
 * @vec: MSI-X vector of its CQ.
 * @sq: SQ ring (DMA-coherent).
 * @sq_dma: bus address of @sq.
 * @cq: CQ ring (DMA-coherent).
 * @cq_dma: bus address of @cq.
 * @lock: protects @sq_tail, @sq_head, @cq_head, @phase, @up, @stalled,
 *	@coalesce, @jobs and @last_done_ns, and the mtia_job fields the CQ handler
 *	updates (next_cmd, outstanding, first_err, device_ns); on a direct
 *	queue's hardware queue @dq and its fault scan (mtia_direct.c); taken
 *	from the IRQ handler (spin_lock_irqsave). Taken before
 *	&mtia_uqueue.slot_lock and @fence_lock (the CQ handler signals fences
 *	under it), and the direct queue's fence lists' locks.
 * @sq_tail: next SQ slot the driver writes.
 * @sq_head: SQ head from the last CQE (slots before it may be reused).
 * @cq_head: next CQ slot to read.
 * @phase: phase bit of valid CQEs in the current CQ lap.
 * @up: the queue is programmed and enabled.
 * @stalled: fault injection: the doorbell is not rung until the next reset.
 * @coalesce: the value last written to Q_COALESCE (interrupt moderation).
 * @jobs: jobs handed to this queue by run_job, oldest first; the first
 *	ones have all their commands in the SQ, later ones may wait for room.
 * @fence_lock: protects the hardware fences' state (their dma_fence lock).
 * @fence_ctx: dma_fence context of the hardware fences.
 * @fence_seq: last hardware fence seqno (run_job only: drm_sched runs one
 *	run_job of a scheduler at a time).
 * @users: user queues bound to this queue (see mtia_hwq_pick()).
 * @irq: Linux IRQ number of @vec (0 on the admin vector).
 * @irq_cpu: CPU @irq was last pointed at (-1: never); lockless, a hint.
 * @irq_moved: jiffies of that move.
 * @sched: the DRM GPU scheduler feeding this queue.
 * @last_done_ns: when this queue's last job completed (under @lock): a
 *	job queued behind another starts on the device when that one ends.
 * @direct: kept for direct queues (mtia_direct.c), not the schedulers'.
 * @direct_wq: waiters for completions of the direct queue on it.
 * @dq: the direct queue it runs while enabled, for the interrupt (under
 *	@lock).
 */
struct mtia_hwq {
	struct mtia_device *mdev;
	unsigned int idx;
	u32 prio;
	unsigned int vec;
	struct mtia_cmd *sq;
	dma_addr_t sq_dma;
	struct mtia_cqe *cq;
	dma_addr_t cq_dma;
	spinlock_t lock; /* see @lock above */
	u32 sq_tail;
	u32 sq_head;
	u32 cq_head;
	u32 phase;
	bool up;
	bool stalled;
	u32 coalesce;
	struct list_head jobs;
	spinlock_t fence_lock; /* see @fence_lock above */
	u64 fence_ctx;
	u64 fence_seq;
	atomic_t users;
	int irq;
	int irq_cpu;
	unsigned long irq_moved;
	struct drm_gpu_scheduler sched;
	u64 last_done_ns;
	bool direct;
	wait_queue_head_t direct_wq;
	struct mtia_direct *dq;
};

/**
 * struct mtia_jobs - per-device job submission state.
 * @hwq: the hardware queues.
 * @reset_lock: serialises device resets (timeout handler, firmware
 *	watchdog, sysfs reset) and remove's job cancelling: protects the
 *	hardware queues' jobs across a stop/reset/resubmit. Taken before
 *	&mtia_device.mbox_lock (recovery reboots the firmware under it).
 * @timeout_wq: the reset domain: an ordered workqueue shared by all
 *	schedulers' timeout handlers, the watchdog and every other reset
 *	(mtia_health_reset_sync()), so only one runs at a time.
 * @submit_wq: per-CPU workqueue running the schedulers' run_job and free_job
 *	on the CPU that queued them (see mtia_jobs_alloc()).
 * @ctx_ida: context ids of open files.
 * @fault: pending fault injection (MTIA_FAULT_*), consumed by the next job.
 * @forge_addr: the raw address of MTIA_FAULT_FORGE_SRC / _DST.
 * @sched_ready: the schedulers were initialised.
 * @class_scheds: per MTIA_PRIO_* class, its schedulers (the entities keep a
 *	pointer to these arrays).
 * @class_n: per MTIA_PRIO_* class, how many schedulers @class_scheds holds.
 * @direct_lock: protects @direct and the direct queues' enabled state;
 *	taken after @reset_lock and after the mm's mmap lock (mmap).
 * @direct: per hardware queue, the direct queue that owns it, or NULL.
 */
struct mtia_jobs {
	struct mtia_hwq hwq[MTIA_NUM_QUEUES];
	struct mutex reset_lock; /* see @reset_lock above */
	struct workqueue_struct *timeout_wq;
	struct workqueue_struct *submit_wq;
	struct ida ctx_ida;
	atomic_t fault;
	atomic64_t forge_addr;
	bool sched_ready;
	struct drm_gpu_scheduler *class_scheds[MTIA_PRIO_NR][MTIA_NUM_QUEUES];
	unsigned int class_n[MTIA_PRIO_NR];
	struct mutex direct_lock; /* see @direct_lock above */
	struct mtia_direct *direct[MTIA_NUM_QUEUES];
};

#define MTIA_FAULT_NONE		0
#define MTIA_FAULT_DMA		1	/* first command reads an unmapped address */
#define MTIA_FAULT_HANG		2	/* the job's doorbell is never rung */
#define MTIA_FAULT_FORGE_SRC	3	/* first command's src = forge_addr */
#define MTIA_FAULT_FORGE_DST	4	/* first command's dst = forge_addr */

/* mtia_queue.c: hardware rings */
int mtia_hwq_init(struct mtia_device *mdev);
void mtia_hwq_program_all(struct mtia_device *mdev);
void mtia_hwq_stop_all_locked(struct mtia_device *mdev);
bool mtia_hwq_poll_shared(struct mtia_device *mdev);
bool mtia_hwq_poll(struct mtia_hwq *q);
struct mtia_job;
void mtia_hwq_queue_job(struct mtia_hwq *q, struct mtia_job *job);
void mtia_hwq_cancel_all_locked(struct mtia_device *mdev, int error);

/* mtia_sched.c: drm_sched backend, job state init/fini, resets */
int mtia_jobs_init(struct mtia_device *mdev);
void mtia_jobs_fini(struct mtia_device *mdev);
void mtia_jobs_reset_begin_locked(struct mtia_device *mdev,
				  struct drm_sched_job *timed_out, bool guilty);
void mtia_jobs_reset_end_locked(struct mtia_device *mdev);
struct mtia_hwq *mtia_hwq_pick(struct mtia_jobs *jobs, u32 prio);
void mtia_hwq_unpick(struct mtia_hwq *q);
unsigned int mtia_job_timeout_ms(void);

/* mtia_submit.c: SUBMIT and WAIT */
int mtia_ioctl_submit(struct drm_device *drm, void *data,
		      struct drm_file *file);
int mtia_ioctl_wait(struct drm_device *drm, void *data,
		    struct drm_file *file);

/**
 * struct mtia_hw_fence - completion of one job on a hardware queue,
 *	signalled by the CQ handler (with an error if a command failed).
 * @base: the fence, on &mtia_hwq.fence_lock.
 */
struct mtia_hw_fence {
	struct dma_fence base;
};

/**
 * struct mtia_job_sgt - the device's view of one pinned host BO.
 * @cpu: the struct mtia_sgt and its entries (DMA-coherent).
 * @dma: bus address of @cpu, the command operand's MTIA_ADDR_SGT address.
 * @size: bytes at @cpu.
 */
struct mtia_job_sgt {
	void *cpu;
	dma_addr_t dma;
	size_t size;
};

struct mtia_uqueue;

/**
 * struct mtia_job - one SUBMIT.
 * @base: scheduler job.
 * @mdev: the device.
 * @uq: the user queue (referenced).
 * @seqno: sequence number in @uq.
 * @ctx: context id of the submitting file (as in the commands' ctx).
 * @queue_id: id of @uq in its file (for the tracepoints).
 * @cmds: translated device commands.
 * @ncmds: number of @cmds.
 * @nbos: number of @bos.
 * @bos: referenced BOs.
 * @pinned: per BO, true if it is a host BO pinned for the device.
 * @sgts: per BO, the device SG table of a host BO.
 * @node: in mtia_hwq.jobs while on the hardware.
 * @next_cmd: next command to write to the SQ.
 * @outstanding: commands written or to be written without a CQE yet.
 * @first_err: MTIA_CQE_* of the first failed command, 0 if none.
 * @device_ns: sum of the COMPUTE commands' completion results (the
 *	device's estimate of their time), ns.
 * @hw_fence: the current hardware fence (NULL before run_job).
 * @fault: MTIA_FAULT_* injected into this job.
 * @vas: per BO, its VA in the file's address space (with the device MMU;
 *	NULL without).
 * @pid: thread group of the submitter, for messages.
 * @comm: its command name.
 * @engine: enum mtia_engine_class its device time is counted under.
 * @hw_start_ns: when run_job handed it to its hardware queue.
 * @finished_cb: on the scheduler's finished fence: the mtia_fence_signal
 *	tracepoint.
 * @finished_cb_added: @finished_cb is (or was) on the finished fence.
 */
struct mtia_job {
	struct drm_sched_job base;
	struct mtia_device *mdev;
	struct mtia_uqueue *uq;
	u64 seqno;
	u32 ctx;
	u32 queue_id;
	struct mtia_cmd *cmds;
	u32 ncmds;
	u32 nbos;
	struct drm_gem_object **bos;
	bool *pinned;
	struct mtia_job_sgt *sgts;
	struct list_head node;
	u32 next_cmd;
	u32 outstanding;
	u16 first_err;
	u64 device_ns;
	struct mtia_hw_fence *hw_fence;
	int fault;
	u64 *vas;
	pid_t pid;
	char comm[TASK_COMM_LEN];
	u8 engine;
	u64 hw_start_ns;
	struct dma_fence_cb finished_cb;
	bool finished_cb_added;
};

static inline struct mtia_job *to_mtia_job(struct drm_sched_job *sj)
{
	return container_of(sj, struct mtia_job, base);
}

static inline struct mtia_hwq *to_mtia_hwq(struct drm_gpu_scheduler *sched)
{
	return container_of(sched, struct mtia_hwq, sched);
}

/* mtia_job.c: the job object */
struct mtia_job *mtia_job_create(struct mtia_device *mdev,
				 struct mtia_uqueue *uq, u32 ctx);
struct dma_fence *mtia_job_arm_hw_fence(struct mtia_job *job,
					struct mtia_hwq *q);
void mtia_job_watch_finished(struct mtia_job *job);
void mtia_job_hw_done_locked(struct mtia_job *job);
void mtia_job_report_fault(struct mtia_job *job, u64 va);

/* The error a job whose command failed ends with (0 if none did). */
static inline int mtia_job_error(const struct mtia_job *job)
{
	if (!job->first_err)
		return 0;
	return job->first_err == MTIA_CQE_TRANSLATION_FAULT ? -EFAULT : -EIO;
}

void mtia_job_release(struct mtia_job *job);
void mtia_job_free(struct mtia_job *job);

/* mtia_health.c: device reset + firmware reboot with jobs stopped/rerun */
void mtia_health_reset(struct mtia_device *mdev,
		       struct drm_sched_job *timed_out, bool guilty,
		       const char *reason);
void mtia_health_reset_sync(struct mtia_device *mdev, const char *reason);
bool mtia_health_check(struct mtia_device *mdev);

#endif /* __MTIA_JOB_H__ */
