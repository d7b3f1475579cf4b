// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: debugfs files, in the accel device's directory
 * (/sys/kernel/debug/accel/<PCI address>/ on 6.12):
 *   fw_log    the firmware's log ring, oldest byte first
 *   fw_ping   reading sends a PING: "pong seq=N rtt_ns=X"
 *   fw_param  read: heartbeat_ms=, log_level=; write "name=value" to set one
 *   fw_debug  write "hang" or "trap": firmware fault injection (tests)
 *   fw_regs   firmware registers and driver state; the device MMU's
 *             MMU_CTRL and last translation fault
 *   fault_inject  write "dma" (the next job's first command gets an
 *             unmapped host destination: DMA_ERROR), "hang" (the next job
 *             never reaches the device: the timeout resets it), "forge
 *             src|dst <addr>" (the next job's first command's src or dst
 *             becomes the raw device address <addr>, offset 0, past every
 *             driver check: what the device MMU must refuse) or "none"
 * Every firmware access takes drm_dev_enter(), so after unplug they return
 * -ENODEV; fault_inject only arms the next SUBMIT (mtia_submit.c) and
 * mtia_hwq_fill_locked().
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/io.h>
#include <linux/kstrtox.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>

#include "mtia_hw.h"
#include "mtia_job.h"

#define MTIA_DEBUG_TIMEOUT_MS	200
#define MTIA_DEBUGFS_WRITE_MAX	64

static int mtia_fw_log_show(struct seq_file *m, void *unused)
{
	struct mtia_device *mdev = m->private;
	size_t len;
	char *log;
	int idx, ret;

	if (!drm_dev_enter(&mdev->drm, &idx))
		return -ENODEV;
	ret = mtia_pm_get(mdev);	/* the log of the running firmware */
	if (ret) {
		drm_dev_exit(idx);
		return ret;
	}
	log = mtia_fw_log_copy(mdev, &len);
	mtia_pm_put(mdev);
	drm_dev_exit(idx);
	if (IS_ERR(log))
		return PTR_ERR(log);
	if (!log)
		seq_puts(m, "(firmware has not set up its log)\n");
	else
		seq_write(m, log, len);
	kvfree(log);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mtia_fw_log);

static int mtia_fw_ping_show(struct seq_file *m, void *unused)
{
	struct mtia_device *mdev = m->private;
	u64 rtt;
	u16 seq;
	int idx, ret;

	if (!drm_dev_enter(&mdev->drm, &idx))
		return -ENODEV;
	ret = mtia_mbox_lock(mdev);
	if (!ret) {
		ret = mtia_mbox_ping_locked(mdev, &seq, &rtt);
		mtia_mbox_unlock(mdev);
	}
	if (!ret)
		seq_printf(m, "pong seq=%u rtt_ns=%llu\n", seq, rtt);
	drm_dev_exit(idx);
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(mtia_fw_ping);

static const struct {
	const char *name;
	u32 id;
} mtia_fw_params[] = {
	{ "heartbeat_ms", MTIA_PARAM_HEARTBEAT_MS },
	{ "log_level", MTIA_PARAM_LOG_LEVEL },
};

static int mtia_fw_param_show(struct seq_file *m, void *unused)
{
	struct mtia_device *mdev = m->private;
	u32 val[ARRAY_SIZE(mtia_fw_params)];
	int idx, ret, i;

	if (!drm_dev_enter(&mdev->drm, &idx))
		return -ENODEV;
	ret = mtia_mbox_lock(mdev);
	if (!ret) {
		for (i = 0; i < ARRAY_SIZE(mtia_fw_params) && !ret; i++)
			ret = mtia_mbox_get_param_locked(mdev,
							 mtia_fw_params[i].id,
							 &val[i]);
		mtia_mbox_unlock(mdev);
	}
	if (!ret)
		for (i = 0; i < ARRAY_SIZE(mtia_fw_params); i++)
			seq_printf(m, "%s=%u\n", mtia_fw_params[i].name, val[i]);
	drm_dev_exit(idx);
	return ret;
}

static char *mtia_debugfs_get_line(const char __user *ubuf, size_t len)
{
	char *s;

	if (!len || len > MTIA_DEBUGFS_WRITE_MAX)
		return ERR_PTR(-EINVAL);
	s = memdup_user_nul(ubuf, len);
	if (!IS_ERR(s))
		strim(s);
	return s;
}

static ssize_t mtia_fw_param_write(struct file *file, const char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	struct mtia_device *mdev = file_inode(file)->i_private;
	char *s, *name, *value;
	int idx, ret, i;
	u32 val;

	s = mtia_debugfs_get_line(ubuf, len);
	if (IS_ERR(s))
		return PTR_ERR(s);
	value = s;
	name = strsep(&value, "=");
	ret = -EINVAL;
	if (!value || kstrtou32(value, 0, &val))
		goto out_free;
	for (i = 0; i < ARRAY_SIZE(mtia_fw_params); i++)
		if (!strcmp(strim(name), mtia_fw_params[i].name))
			break;
	if (i == ARRAY_SIZE(mtia_fw_params))
		goto out_free;

	ret = -ENODEV;
	if (!drm_dev_enter(&mdev->drm, &idx))
		goto out_free;
	ret = mtia_mbox_lock(mdev);
	if (!ret) {
		ret = mtia_mbox_set_param_locked(mdev, mtia_fw_params[i].id, val);
		if (!ret && mtia_fw_params[i].id == MTIA_PARAM_HEARTBEAT_MS)
			mdev->fw_heartbeat_ms = val;
		mtia_mbox_unlock(mdev);
	}
	drm_dev_exit(idx);
out_free:
	kfree(s);
	return ret ? ret : len;
}

static int mtia_fw_param_open(struct inode *inode, struct file *file)
{
	return single_open(file, mtia_fw_param_show, inode->i_private);
}

static const struct file_operations mtia_fw_param_fops = {
	.owner = THIS_MODULE,
	.open = mtia_fw_param_open,
	.read = seq_read,
	.write = mtia_fw_param_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static ssize_t mtia_fw_debug_write(struct file *file, const char __user *ubuf,
				   size_t len, loff_t *ppos)
{
	struct mtia_device *mdev = file_inode(file)->i_private;
	struct mtia_mbox_msg msg = {};
	int idx, ret;
	char *s;

	s = mtia_debugfs_get_line(ubuf, len);
	if (IS_ERR(s))
		return PTR_ERR(s);
	if (!strcmp(s, "hang"))
		msg.opcode = MTIA_ADMIN_DEBUG_HANG;
	else if (!strcmp(s, "trap"))
		msg.opcode = MTIA_ADMIN_DEBUG_TRAP;
	kfree(s);
	if (!msg.opcode)
		return -EINVAL;

	if (!drm_dev_enter(&mdev->drm, &idx))
		return -ENODEV;
	ret = mtia_mbox_lock(mdev);
	if (!ret) {
		dev_info(&mdev->pdev->dev, "debugfs: asking the firmware to %s\n",
			 msg.opcode == MTIA_ADMIN_DEBUG_HANG ? "hang" : "trap");
		/* The firmware may never answer: that is the point. */
		ret = mtia_mbox_exec_locked(mdev, &msg, MTIA_DEBUG_TIMEOUT_MS,
					    MTIA_MBOX_QUIET);
		if (ret == -ETIMEDOUT || ret == -EIO)
			ret = 0;
		mtia_mbox_unlock(mdev);
	}
	drm_dev_exit(idx);
	return ret ? ret : len;
}

static const struct file_operations mtia_fw_debug_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = mtia_fw_debug_write,
	.llseek = noop_llseek,
};

/* The device MMU's state and its last translation fault. */
static void mtia_mmu_regs_show(struct seq_file *m, struct mtia_device *mdev)
{
	struct mtia_mmu_fault f;

	mtia_mmu_fault_read(mdev, &f);
	seq_printf(m, "MMU_CTRL: 0x%x\n", mtia_rd32(mdev, MTIA_REG_MMU_CTRL));
	seq_printf(m, "MMU_FAULT: count %u ctx %u addr 0x%llx reason %u%s\n",
		   f.count, f.ctx, f.addr, f.reason, f.write ? " write" : "");
}

static int mtia_fw_regs_show(struct seq_file *m, void *unused)
{
	struct mtia_device *mdev = m->private;
	int idx, ret;

	if (!drm_dev_enter(&mdev->drm, &idx))
		return -ENODEV;
	ret = mtia_pm_get(mdev);
	if (ret) {
		drm_dev_exit(idx);
		return ret;
	}
	seq_printf(m, "state: %s\n",
		   mtia_fw_state_name(READ_ONCE(mdev->fw_state)));
	seq_printf(m, "reset_count: %d\n", atomic_read(&mdev->reset_count));
	seq_printf(m, "heartbeat_ms: %u\n", mdev->fw_heartbeat_ms);
	seq_printf(m, "FW_BOOT_STATUS: 0x%02x\n",
		   mtia_rd32(mdev, MTIA_REG_FW_BOOT_STATUS));
	seq_printf(m, "FW_STATUS: %u\n", mtia_rd32(mdev, MTIA_REG_FW_STATUS));
	seq_printf(m, "FW_VERSION: 0x%06x\n",
		   mtia_rd32(mdev, MTIA_REG_FW_VERSION));
	seq_printf(m, "FW_HEARTBEAT: %u\n",
		   mtia_rd32(mdev, MTIA_REG_FW_HEARTBEAT));
	seq_printf(m, "FW_INSTRET: %llu\n",
		   mtia_rd64(mdev, MTIA_REG_FW_INSTRET_LO,
			     MTIA_REG_FW_INSTRET_HI));
	seq_printf(m, "FW_TRAP: cause %u pc 0x%08x tval 0x%08x\n",
		   mtia_rd32(mdev, MTIA_REG_FW_TRAP_CAUSE),
		   mtia_rd32(mdev, MTIA_REG_FW_TRAP_PC),
		   mtia_rd32(mdev, MTIA_REG_FW_TRAP_TVAL));
	seq_printf(m, "FW_LOG: 0x%x + %u\n",
		   mtia_rd32(mdev, MTIA_REG_FW_LOG_ADDR),
		   mtia_rd32(mdev, MTIA_REG_FW_LOG_SIZE));
	seq_printf(m, "RESET_COUNT: %u\n",
		   mtia_rd32(mdev, MTIA_REG_RESET_COUNT));
	if (mdev->mmu.present)
		mtia_mmu_regs_show(m, mdev);
	mtia_pm_put(mdev);
	drm_dev_exit(idx);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mtia_fw_regs);

/* "src|dst <addr>": arms MTIA_FAULT_FORGE_* with the raw address. */
static int mtia_fault_forge(struct mtia_device *mdev, char *arg)
{
	char *which = strsep(&arg, " ");
	int fault;
	u64 addr;

	if (!strcmp(which, "src"))
		fault = MTIA_FAULT_FORGE_SRC;
	else if (!strcmp(which, "dst"))
		fault = MTIA_FAULT_FORGE_DST;
	else
		return -EINVAL;
	if (!arg || kstrtou64(strim(arg), 0, &addr))
		return -EINVAL;
	atomic64_set(&mdev->jobs->forge_addr, addr);
	atomic_set(&mdev->jobs->fault, fault);
	return 0;
}

/* Arms a job fault (MTIA_FAULT_*) for the next SUBMIT. */
static ssize_t mtia_fault_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct mtia_device *mdev = file_inode(file)->i_private;
	char buf[48], *arg;
	size_t n = min(len, sizeof(buf) - 1);
	int fault;

	if (copy_from_user(buf, ubuf, n))
		return -EFAULT;
	buf[n] = 0;
	arg = strim(buf);
	if (str_has_prefix(arg, "forge "))
		return mtia_fault_forge(mdev, arg + strlen("forge ")) ?: len;
	if (!strcmp(arg, "dma"))
		fault = MTIA_FAULT_DMA;
	else if (!strcmp(arg, "hang"))
		fault = MTIA_FAULT_HANG;
	else if (!strcmp(arg, "none"))
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
 * mtia_debugfs_init() - create the debugfs files (removed with the DRM
 * device's debugfs directory when the device is released).
 * @mdev: the device.
 */
void mtia_debugfs_init(struct mtia_device *mdev)
{
	struct dentry *root = mdev->drm.debugfs_root;

	if (IS_ERR_OR_NULL(root))
		return;
	debugfs_create_file("fw_log", 0400, root, mdev, &mtia_fw_log_fops);
	debugfs_create_file("fw_ping", 0400, root, mdev, &mtia_fw_ping_fops);
	debugfs_create_file("fw_param", 0600, root, mdev, &mtia_fw_param_fops);
	debugfs_create_file("fw_debug", 0200, root, mdev, &mtia_fw_debug_fops);
	debugfs_create_file("fw_regs", 0400, root, mdev, &mtia_fw_regs_fops);
	if (mdev->jobs)
		debugfs_create_file("fault_inject", 0200, root, mdev,
				    &mtia_fault_fops);
}
