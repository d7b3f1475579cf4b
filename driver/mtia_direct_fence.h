/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: the DIRECT_SIGNAL fences of a direct queue,
 * waiting for its fence word (mtia_direct_fence.c).
 */
#ifndef __MTIA_DIRECT_FENCE_H__
#define __MTIA_DIRECT_FENCE_H__

#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

struct dma_fence;

/**
 * struct mtia_direct_fences - a direct queue's pending DIRECT_SIGNAL fences.
 * @lock: protects @list, @err and @progress; taken from the queue's
 *	interrupt.
 * @list: fences not yet signalled, oldest (earliest deadline) first.
 * @context: their dma_fence context; a fence's seqno is its value, so a
 *	later fence of the context is one for a larger value.
 * @word: the queue's fence word (the device writes it, the CPU reads it).
 * @err: 0 while the queue can run; else the error new fences end with.
 * @progress: jiffies of the queue's last interrupt (a completion).
 * @timeout_jiffies: job_timeout_ms when the queue was made.
 * @timeout: ends the fences whose time passed.
 */
struct mtia_direct_fences {
	spinlock_t lock; /* see @lock above */
	struct list_head list;
	u64 context;
	const u64 *word;
	int err;
	unsigned long progress;
	unsigned long timeout_jiffies;
	struct delayed_work timeout;
};

void mtia_direct_fences_init(struct mtia_direct_fences *fs, const u64 *word);
struct dma_fence *mtia_direct_fences_add(struct mtia_direct_fences *fs,
					 u64 value);
void mtia_direct_fences_check(struct mtia_direct_fences *fs);
void mtia_direct_fences_end(struct mtia_direct_fences *fs, int err);
void mtia_direct_fences_fini(struct mtia_direct_fences *fs);

#endif /* __MTIA_DIRECT_FENCE_H__ */
