// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: DIRECT_SIGNAL's fences (docs/driver.md
 * "Direct queues").
 *
 * The kernel sees none of a direct queue's commands, so it cannot know
 * which work a fence is for; the process says it instead: it writes
 * growing values into the queue's fence word with FILL64 commands behind
 * the work they mark (a queue runs its commands in order), and a fence for
 * value v signals once the word holds v or more. The word is checked at
 * each of the queue's interrupts (the FILL64's completion raises one) and
 * when the fence is made.
 *
 * Every fence ends, so no kernel job or waiter hangs on a process: when the
 * queue can run no more (destroyed, its file closed, lost to a reset,
 * taken back after a fault) the fences whose value the word reached
 * signal, the others end with -ECANCELED. A fence ends with -ETIMEDOUT
 * when its queue has completed nothing for job_timeout_ms (and it is at
 * least that old): a queue busy with work ahead of the fence's keeps it
 * pending, as a driver job's timeout counts from its last progress, but
 * never beyond MTIA_DIRECT_FENCE_MAX_TIMEOUTS job timeouts after it was
 * made, so a process cannot hold another's job back for long by keeping
 * its own queue busy. Each fence has a lock of its own, so it outlives the
 * queue safely in a syncobj.
 */

#include <linux/dma-fence.h>
#include <linux/jiffies.h>
#include <linux/slab.h>

#include "mtia_direct_fence.h"
#include "mtia_drv.h"
#include "mtia_job.h"

/* A fence's longest life, in job timeouts, however busy its queue. */
#define MTIA_DIRECT_FENCE_MAX_TIMEOUTS 10

/**
 * struct mtia_direct_fence - one DIRECT_SIGNAL fence.
 * @base: the fence (first: dma_fence_free() frees it).
 * @lock: its dma_fence lock.
 * @node: in &mtia_direct_fences.list while pending.
 * @value: the fence word value it waits for.
 * @deadline: jiffies at which it ends with -ETIMEDOUT unless its queue
 *	made progress since (a job timeout after it was made).
 * @cap: jiffies at which it ends with -ETIMEDOUT regardless.
 */
struct mtia_direct_fence {
	struct dma_fence base;
	spinlock_t lock; /* see @lock above */
	struct list_head node;
	u64 value;
	unsigned long deadline;
	unsigned long cap;
};

static const char *mtia_direct_fence_driver_name(struct dma_fence *f)
{
	return MTIA_DRIVER_NAME;
}

static const char *mtia_direct_fence_timeline_name(struct dma_fence *f)
{
	return "mtia-direct";
}

static const struct dma_fence_ops mtia_direct_fence_ops = {
	.use_64bit_seqno = true,
	.get_driver_name = mtia_direct_fence_driver_name,
	.get_timeline_name = mtia_direct_fence_timeline_name,
};

/* Signal @f, with @err unless 0, and drop it from the pending list. */
static void mtia_direct_fence_done_locked(struct mtia_direct_fences *fs,
					  struct mtia_direct_fence *f, int err)
{
	lockdep_assert_held(&fs->lock);
	list_del(&f->node);
	if (err)
		dma_fence_set_error(&f->base, err);
	dma_fence_signal(&f->base);
	dma_fence_put(&f->base);	/* the list's reference */
}

/* When @f times out: a job timeout after the later of its making and its
 * queue's last progress, but no later than its cap.
 */
static unsigned long mtia_direct_fence_expiry_locked(struct mtia_direct_fences *fs,
						     struct mtia_direct_fence *f)
{
	unsigned long t = f->deadline;

	lockdep_assert_held(&fs->lock);
	if (time_after(fs->progress + fs->timeout_jiffies, t))
		t = fs->progress + fs->timeout_jiffies;
	return time_after(t, f->cap) ? f->cap : t;
}

static void mtia_direct_fences_timeout(struct work_struct *work)
{
	struct mtia_direct_fences *fs =
		container_of(work, struct mtia_direct_fences, timeout.work);
	struct mtia_direct_fence *f, *tmp;
	unsigned long now = jiffies;
	unsigned long next = 0;
	bool any = false;
	u64 word;

	spin_lock_irq(&fs->lock);
	word = READ_ONCE(*fs->word);
	list_for_each_entry_safe(f, tmp, &fs->list, node) {
		unsigned long t = mtia_direct_fence_expiry_locked(fs, f);

		if (word >= f->value) {
			mtia_direct_fence_done_locked(fs, f, 0);
		} else if (time_after_eq(now, t)) {
			mtia_direct_fence_done_locked(fs, f, -ETIMEDOUT);
		} else if (!any || time_before(t, next)) {
			next = t;
			any = true;
		}
	}
	if (any)
		mod_delayed_work(system_wq, &fs->timeout, next - now);
	spin_unlock_irq(&fs->lock);
}

/**
 * mtia_direct_fences_init() - no fences yet.
 * @fs: the queue's fences.
 * @word: its fence word.
 */
void mtia_direct_fences_init(struct mtia_direct_fences *fs, const u64 *word)
{
	spin_lock_init(&fs->lock);
	INIT_LIST_HEAD(&fs->list);
	fs->context = dma_fence_context_alloc(1);
	fs->word = word;
	fs->timeout_jiffies = msecs_to_jiffies(mtia_job_timeout_ms());
	fs->progress = jiffies;
	INIT_DELAYED_WORK(&fs->timeout, mtia_direct_fences_timeout);
}

/**
 * mtia_direct_fences_add() - a fence for the fence word reaching @value:
 * already signalled if it has, or if the queue can run no more, ended with
 * that error.
 * @fs: the queue's fences.
 * @value: the value, > 0.
 *
 * Return: the fence (the caller's reference) or ERR_PTR(-ENOMEM).
 */
struct dma_fence *mtia_direct_fences_add(struct mtia_direct_fences *fs,
					 u64 value)
{
	unsigned long timeout = fs->timeout_jiffies;
	struct mtia_direct_fence *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&f->lock);
	dma_fence_init(&f->base, &mtia_direct_fence_ops, &f->lock, fs->context,
		       value);
	f->value = value;
	spin_lock_irq(&fs->lock);
	if (READ_ONCE(*fs->word) >= value || fs->err) {
		if (READ_ONCE(*fs->word) < value)
			dma_fence_set_error(&f->base, fs->err);
		dma_fence_signal(&f->base);
	} else {
		f->deadline = jiffies + timeout;
		f->cap = jiffies + MTIA_DIRECT_FENCE_MAX_TIMEOUTS * timeout;
		if (list_empty(&fs->list))
			mod_delayed_work(system_wq, &fs->timeout, timeout);
		list_add_tail(&f->node, &fs->list);
		dma_fence_get(&f->base);
	}
	spin_unlock_irq(&fs->lock);
	return &f->base;
}

/**
 * mtia_direct_fences_check() - signal the fences whose value the fence word
 * reached (the queue's interrupt: every completion raises one, so it also
 * marks the queue's progress).
 * @fs: the queue's fences.
 */
void mtia_direct_fences_check(struct mtia_direct_fences *fs)
{
	struct mtia_direct_fence *f, *tmp;
	unsigned long flags;
	u64 word;

	spin_lock_irqsave(&fs->lock, flags);
	fs->progress = jiffies;
	word = READ_ONCE(*fs->word);
	list_for_each_entry_safe(f, tmp, &fs->list, node)
		if (word >= f->value)
			mtia_direct_fence_done_locked(fs, f, 0);
	spin_unlock_irqrestore(&fs->lock, flags);
}

/**
 * mtia_direct_fences_end() - the queue runs no more (its fence word stays
 * as it is): signal the fences it reached, end the others, and any made
 * later, with @err.
 * @fs: the queue's fences.
 * @err: a negative errno.
 */
void mtia_direct_fences_end(struct mtia_direct_fences *fs, int err)
{
	struct mtia_direct_fence *f, *tmp;
	unsigned long flags;
	u64 word;

	spin_lock_irqsave(&fs->lock, flags);
	if (!fs->err)
		fs->err = err;
	word = READ_ONCE(*fs->word);
	list_for_each_entry_safe(f, tmp, &fs->list, node)
		mtia_direct_fence_done_locked(fs, f, word >= f->value ? 0 : err);
	spin_unlock_irqrestore(&fs->lock, flags);
}

/**
 * mtia_direct_fences_fini() - the queue goes: end its fences (-ECANCELED)
 * and wait for their timeout work.
 * @fs: the queue's fences.
 */
void mtia_direct_fences_fini(struct mtia_direct_fences *fs)
{
	mtia_direct_fences_end(fs, -ECANCELED);
	cancel_delayed_work_sync(&fs->timeout);
}
