// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: a devcoredump on every device reset
 * (docs/driver.md, "Device coredump"; /sys/class/devcoredump/devcdN/data).
 *
 * Taken before the reset, with the schedulers stopped, so registers, rings
 * and the firmware log show the device as it failed. Plain text, at most
 * MTIA_COREDUMP_MAX bytes, in sections: a header (format version, reason,
 * time, device, reset count), BAR0 registers, every hardware queue (the
 * driver's ring positions, the device's queue registers and the jobs on
 * it), the guilty job's commands if there is one, and the tail of the
 * firmware log. The devcoredump core keeps one dump per device until it
 * is read and cleared (write to data) or expires after 5 minutes; dumps
 * taken meanwhile are dropped by it.
 */

#include <linux/devcoredump.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

#include <drm/drm_file.h>

#include "mtia_hw.h"
#include "mtia_job.h"

#define MTIA_COREDUMP_VERSION	1
#define MTIA_COREDUMP_MAX	(128 * 1024)
#define MTIA_COREDUMP_LOG_TAIL	(16 * 1024)
#define MTIA_COREDUMP_JOBS	16	/* jobs listed per queue */
#define MTIA_COREDUMP_CMDS	64	/* guilty job commands listed */

struct mtia_dump {
	char *buf;
	size_t len;
};

static __printf(2, 3) void mtia_dump_printf(struct mtia_dump *d,
					    const char *fmt, ...)
{
	va_list args;

	va_start(args, fmt);
	d->len += vscnprintf(d->buf + d->len, MTIA_COREDUMP_MAX - d->len, fmt,
			     args);
	va_end(args);
}

static const struct {
	const char *name;
	u32 reg;
} mtia_dump_regs[] = {
	{ "MAGIC", MTIA_REG_MAGIC },
	{ "IF_VERSION", MTIA_REG_IF_VERSION },
	{ "STATUS", MTIA_REG_STATUS },
	{ "RESET_COUNT", MTIA_REG_RESET_COUNT },
	{ "IRQ_STATUS", MTIA_REG_IRQ_STATUS },
	{ "IRQ_MASK", MTIA_REG_IRQ_MASK },
	{ "ERR_STATUS", MTIA_REG_ERR_STATUS },
	{ "ERR_ADDR", MTIA_REG_ERR_ADDR },
	{ "FW_BOOT_STATUS", MTIA_REG_FW_BOOT_STATUS },
	{ "FW_STATUS", MTIA_REG_FW_STATUS },
	{ "FW_VERSION", MTIA_REG_FW_VERSION },
	{ "FW_HEARTBEAT", MTIA_REG_FW_HEARTBEAT },
	{ "FW_TRAP_CAUSE", MTIA_REG_FW_TRAP_CAUSE },
	{ "FW_TRAP_PC", MTIA_REG_FW_TRAP_PC },
	{ "FW_TRAP_TVAL", MTIA_REG_FW_TRAP_TVAL },
	{ "FW_LOG_ADDR", MTIA_REG_FW_LOG_ADDR },
	{ "FW_LOG_SIZE", MTIA_REG_FW_LOG_SIZE },
	{ "FW_INSTRET_LO", MTIA_REG_FW_INSTRET_LO },
	{ "TEL_ECC_CORR", MTIA_REG_TEL_ECC_CORR },
	{ "TEL_ECC_UNCORR", MTIA_REG_TEL_ECC_UNCORR },
	{ "TEL_ECC_CORR_AGG", MTIA_REG_TEL_ECC_CORR_AGG },
	{ "TEL_ECC_UNCORR_AGG", MTIA_REG_TEL_ECC_UNCORR_AGG },
};

static void mtia_dump_header(struct mtia_dump *d, struct mtia_device *mdev,
			     const char *reason)
{
	struct timespec64 ts;
	unsigned int i;

	ktime_get_real_ts64(&ts);
	mtia_dump_printf(d, "mtia devcoredump %d\n", MTIA_COREDUMP_VERSION);
	mtia_dump_printf(d, "reason: %s\n", reason);
	mtia_dump_printf(d, "time: %lld.%09ld (%ptTs UTC)\n",
			 (long long)ts.tv_sec, ts.tv_nsec, &ts.tv_sec);
	mtia_dump_printf(d, "device: %s accel%d\n", pci_name(mdev->pdev),
			 mdev->drm.accel ? mdev->drm.accel->index : -1);
	mtia_dump_printf(d, "driver_resets: %d\n",
			 atomic_read(&mdev->reset_count));
	mtia_dump_printf(d, "fw_state: %s\n",
			 mtia_fw_state_name(READ_ONCE(mdev->fw_state)));
	mtia_dump_printf(d, "\n[registers]\n");
	for (i = 0; i < ARRAY_SIZE(mtia_dump_regs); i++)
		mtia_dump_printf(d, "%s 0x%08x\n", mtia_dump_regs[i].name,
				 mtia_rd32(mdev, mtia_dump_regs[i].reg));
}

static void mtia_dump_queue(struct mtia_dump *d, struct mtia_hwq *q)
{
	struct mtia_device *mdev = q->mdev;
	struct mtia_job *job;
	unsigned long flags;
	unsigned int n = 0;

	mtia_dump_printf(d, "queue %u prio %u vec %u up %d stalled %d\n",
			 q->idx, q->prio, q->vec, q->up, q->stalled);
	mtia_dump_printf(d, "queue %u sw sq_tail %u sq_head %u cq_head %u phase %u\n",
			 q->idx, q->sq_tail, q->sq_head, q->cq_head, q->phase);
	mtia_dump_printf(d, "queue %u hw CTRL 0x%08x STATUS 0x%08x SQ_TAIL %u CQ_TAIL %u\n",
			 q->idx, mtia_rd32(mdev, MTIA_REG_Q(q->idx, MTIA_Q_CTRL)),
			 mtia_rd32(mdev, MTIA_REG_Q(q->idx, MTIA_Q_STATUS)),
			 mtia_rd32(mdev, MTIA_REG_Q(q->idx, MTIA_Q_SQ_TAIL)),
			 mtia_rd32(mdev, MTIA_REG_Q(q->idx, MTIA_Q_CQ_TAIL)));
	spin_lock_irqsave(&q->lock, flags);
	list_for_each_entry(job, &q->jobs, node) {
		if (n++ == MTIA_COREDUMP_JOBS) {
			mtia_dump_printf(d, "queue %u job ... (more)\n", q->idx);
			break;
		}
		mtia_dump_printf(d, "queue %u job ctx %u queue_id %u seqno %llu ",
				 q->idx, job->ctx, job->queue_id, job->seqno);
		mtia_dump_printf(d, "cmds %u written %u outstanding %u first_err %u\n",
				 job->ncmds, job->next_cmd, job->outstanding,
				 job->first_err);
	}
	spin_unlock_irqrestore(&q->lock, flags);
}

static void mtia_dump_guilty(struct mtia_dump *d, struct drm_sched_job *bad)
{
	struct mtia_job *job;
	u32 i;

	mtia_dump_printf(d, "\n[guilty job]\n");
	if (!bad) {
		mtia_dump_printf(d, "none\n");
		return;
	}
	job = to_mtia_job(bad);
	mtia_dump_printf(d, "hwq %u ctx %u queue_id %u seqno %llu cmds %u\n",
			 to_mtia_hwq(bad->sched)->idx, job->ctx, job->queue_id,
			 job->seqno, job->ncmds);
	for (i = 0; i < job->ncmds && i < MTIA_COREDUMP_CMDS; i++) {
		const struct mtia_cmd *c = &job->cmds[i];

		mtia_dump_printf(d, "cmd %u opcode 0x%02x flags 0x%02x len %llu value 0x%llx ",
				 i, c->opcode, c->flags, c->len, c->value);
		mtia_dump_printf(d, "src 0x%llx+0x%llx dst 0x%llx+0x%llx\n",
				 c->src.addr, c->src.offset, c->dst.addr,
				 c->dst.offset);
	}
	if (job->ncmds > MTIA_COREDUMP_CMDS)
		mtia_dump_printf(d, "cmd ... (%u more)\n",
				 job->ncmds - MTIA_COREDUMP_CMDS);
}

/* The device MMU: whether it translates, and its last fault. */
static void mtia_dump_mmu(struct mtia_dump *d, struct mtia_device *mdev)
{
	struct mtia_mmu_fault f;

	mtia_dump_printf(d, "\n[mmu]\n");
	if (!mdev->mmu.present) {
		mtia_dump_printf(d, "none (legacy operands)\n");
		return;
	}
	mtia_mmu_fault_read(mdev, &f);
	mtia_dump_printf(d, "MMU_CTRL 0x%08x\n", mtia_rd32(mdev, MTIA_REG_MMU_CTRL));
	mtia_dump_printf(d, "MMU_CTX_COUNT %u\n",
			 mtia_rd32(mdev, MTIA_REG_MMU_CTX_COUNT));
	mtia_dump_printf(d, "MMU_FAULT count %u ctx %u addr 0x%llx reason %u%s\n",
			 f.count, f.ctx, f.addr, f.reason, f.write ? " write" : "");
}

static void mtia_dump_fw_log(struct mtia_dump *d, struct mtia_device *mdev)
{
	size_t len, keep;
	char *log;

	mtia_dump_printf(d, "\n[firmware log]\n");
	log = mtia_fw_log_copy(mdev, &len);
	if (IS_ERR_OR_NULL(log)) {
		mtia_dump_printf(d, "(unavailable: %ld)\n",
				 log ? PTR_ERR(log) : 0L);
		return;
	}
	keep = min_t(size_t, len, MTIA_COREDUMP_LOG_TAIL);
	keep = min_t(size_t, keep, MTIA_COREDUMP_MAX - d->len);
	memcpy(d->buf + d->len, log + len - keep, keep);
	d->len += keep;
	kvfree(log);
}

/**
 * mtia_coredump_capture_locked() - take a devcoredump of the device before
 * a reset.
 * @mdev: the device; caller holds &mtia_jobs.reset_lock, the schedulers
 *	are stopped and the caller is inside drm_dev_enter().
 * @reason: why the device is reset.
 * @bad: the guilty job, or NULL.
 */
void mtia_coredump_capture_locked(struct mtia_device *mdev, const char *reason,
				  struct drm_sched_job *bad)
{
	struct mtia_dump d = { };
	unsigned int i;

	lockdep_assert_held(&mdev->jobs->reset_lock);
	d.buf = vmalloc(MTIA_COREDUMP_MAX);
	if (!d.buf)
		return;
	mtia_dump_header(&d, mdev, reason);
	mtia_dump_printf(&d, "\n[queues]\n");
	for (i = 0; i < MTIA_NUM_QUEUES; i++)
		mtia_dump_queue(&d, &mdev->jobs->hwq[i]);
	mtia_dump_guilty(&d, bad);
	mtia_dump_mmu(&d, mdev);
	mtia_dump_fw_log(&d, mdev);
	/* dev_coredumpv() owns d.buf from here (vfree). */
	dev_coredumpv(&mdev->pdev->dev, d.buf, d.len, GFP_KERNEL);
}
