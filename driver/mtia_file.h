/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: per-file state and user queues (mtia_file.c).
 */
#ifndef __MTIA_FILE_H__
#define __MTIA_FILE_H__

#include <linux/kref.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/xarray.h>

#include <drm/gpu_scheduler.h>

#include "mtia_job.h"

/**
 * struct mtia_usage - device time of one file's jobs, per engine class;
 *	shared by the file and its queues (a job may finish after its file
 *	is closed).
 * @ref: held by the file and by each of its queues.
 * @busy_ns: nanoseconds on the device of its jobs, per enum
 *	mtia_engine_class.
 * @direct_ns: nanoseconds on the device of its direct queues' commands,
 *	those that are gone (mtia_direct.c), per enum mtia_engine_class.
 * @guilty: jobs of the file found guilty (timed out, device fault);
 *	mtia_recovery.c bans the file at ban_threshold.
 * @banned: set once (READ_ONCE/WRITE_ONCE): SUBMIT and WAIT fail.
 */
struct mtia_usage {
	struct kref ref;
	atomic64_t busy_ns[MTIA_ENGINE_NR];
	atomic64_t direct_ns[MTIA_ENGINE_NR];
	atomic_t guilty;
	bool banned;
};

/**
 * struct mtia_wait_slot - what WAIT reports of one recent job of a queue.
 * @seqno: the job's seqno (0: unused).
 * @fence: its finished fence (referenced).
 * @cqe_status: MTIA_CQE_* of its first failed command, 0 if none.
 * @device_ns: the device's time of its COMPUTE commands, ns.
 */
struct mtia_wait_slot {
	u64 seqno;
	struct dma_fence *fence;
	u16 cqe_status;
	u64 device_ns;
};

/**
 * struct mtia_uqueue - a file's in-order queue.
 * @ref: held by the file's table and by each job.
 * @id: queue id in the file.
 * @hwq: the hardware queue it feeds (see mtia_hwq_pick()).
 * @usage: its file's device time (referenced).
 * @entity: scheduler entity on @hwq's scheduler.
 * @lock: protects @last_seqno and @destroyed, and orders submissions
 *	(seqno, arm, push); taken after the BOs' reservations, before
 *	@slot_lock.
 * @last_seqno: last seqno handed out.
 * @destroyed: QUEUE_DESTROY or close began: no job may be pushed to
 *	@entity any more (the scheduler would never run it).
 * @slot_lock: protects @slots; taken from the CQ handler (under
 *	&mtia_hwq.lock), elsewhere with interrupts off.
 * @slots: the last MTIA_WAIT_WINDOW jobs, indexed by seqno %
 *	MTIA_WAIT_WINDOW.
 */
struct mtia_uqueue {
	struct kref ref;
	u32 id;
	struct mtia_hwq *hwq;
	struct mtia_usage *usage;
	struct drm_sched_entity entity;
	struct mutex lock; /* see @lock above */
	u64 last_seqno;
	bool destroyed;
	spinlock_t slot_lock; /* see @slot_lock above */
	struct mtia_wait_slot slots[MTIA_WAIT_WINDOW];
};

/**
 * struct mtia_file_priv - per open file.
 * @mdev: the device.
 * @ctx: context id written into the file's device commands.
 * @lock: protects @queues against concurrent create/destroy/lookup; a leaf
 *	lock.
 * @queues: queue id -> struct mtia_uqueue.
 * @usage: device time of the file's jobs (fdinfo).
 * @vm: its device address space (mtia_vm.c), NULL without a device MMU.
 * @direct: direct queue id -> struct mtia_direct (mtia_direct.c).
 */
struct mtia_file_priv {
	struct mtia_device *mdev;
	u32 ctx;
	struct mutex lock; /* see @lock above */
	struct xarray queues;
	struct mtia_usage *usage;
	struct mtia_vm *vm;
	struct xarray direct;
};

int mtia_open(struct drm_device *drm, struct drm_file *file);
void mtia_postclose(struct drm_device *drm, struct drm_file *file);
int mtia_ioctl_queue_create(struct drm_device *drm, void *data,
			    struct drm_file *file);
int mtia_ioctl_queue_destroy(struct drm_device *drm, void *data,
			     struct drm_file *file);
void mtia_file_engine_ns(struct drm_file *file, u64 ns[MTIA_ENGINE_NR],
			 u64 direct_ns[MTIA_ENGINE_NR]);

struct mtia_uqueue *mtia_uqueue_get(struct mtia_file_priv *fpriv, u32 id);
void mtia_uqueue_put(struct mtia_uqueue *uq);
u64 mtia_uqueue_add_job_locked(struct mtia_uqueue *uq,
			       struct dma_fence *finished);
void mtia_uqueue_job_done(struct mtia_uqueue *uq, const struct mtia_job *job,
			  u64 busy_ns);
u64 mtia_uqueue_last_seqno(struct mtia_uqueue *uq);
struct dma_fence *mtia_uqueue_fence(struct mtia_uqueue *uq, u64 seqno);
void mtia_uqueue_result(struct mtia_uqueue *uq, u64 seqno, u32 *cqe_status,
			u64 *device_ns);

#endif /* __MTIA_FILE_H__ */
