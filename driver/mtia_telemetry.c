// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: access to the device's telemetry registers
 * (MTIA_REG_TEL_*, docs/telemetry.md), shared by hwmon (mtia_hwmon.c) and
 * sysfs (mtia_sysfs.c), clearing the ECC counters (interface 1.6), and the
 * test-only ECC error injection in debugfs.
 *
 * The telemetry block is the board's management model: it is readable in
 * every firmware state, including while the device is being reset, so the
 * readers need no lock but the one ordering the two halves of the energy
 * counter. After unplug every read fails with -ENODEV.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/kstrtox.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>

#include "mtia_hw.h"

/**
 * mtia_tel_init() - find the telemetry block (before the device is
 * registered, so sysfs and hwmon know whether to show it).
 * @mdev: the device, BAR0 mapped.
 */
void mtia_tel_init(struct mtia_device *mdev)
{
	u32 v = mtia_rd32(mdev, MTIA_REG_TEL_VERSION);

	mutex_init(&mdev->tel_lock);
	mdev->tel_present = v == MTIA_TEL_VERSION;
	if (mdev->tel_present)
		return;
	/* An older device flagged the read as unmapped: clear that. */
	mtia_wr32(mdev, MTIA_REG_ERR_STATUS, MTIA_ERR_BAD_OFFSET);
	dev_info(&mdev->pdev->dev, "no telemetry (TEL_VERSION %u, want %u)\n",
		 v, MTIA_TEL_VERSION);
}

/**
 * mtia_tel_read() - read one telemetry register.
 * @mdev: the device.
 * @reg: MTIA_REG_TEL_*.
 * @val: the value.
 *
 * Return: 0, -EOPNOTSUPP without telemetry or -ENODEV after unplug.
 */
int mtia_tel_read(struct mtia_device *mdev, u32 reg, u32 *val)
{
	int idx, ret;

	if (!mdev->tel_present)
		return -EOPNOTSUPP;
	if (!drm_dev_enter(&mdev->drm, &idx))
		return -ENODEV;
	ret = mtia_pm_get(mdev);	/* a sensor read wakes the device */
	if (!ret) {
		*val = mtia_rd32(mdev, reg);
		mtia_pm_put(mdev);
	}
	drm_dev_exit(idx);
	return ret;
}

/*
 * Write one telemetry register, waking the device for it. Caller checked
 * that the device has telemetry.
 */
static int mtia_tel_write(struct mtia_device *mdev, u32 reg, u32 val)
{
	int idx, ret;

	if (!drm_dev_enter(&mdev->drm, &idx))
		return -ENODEV;
	ret = mtia_pm_get(mdev);
	if (!ret) {
		mtia_wr32(mdev, reg, val);
		mtia_pm_put(mdev);
	}
	drm_dev_exit(idx);
	return ret;
}

/**
 * mtia_tel_energy() - energy since the board powered on.
 * @mdev: the device.
 * @mj: millijoules.
 *
 * Reading ENERGY_LO latches ENERGY_HI in the device; the lock keeps another
 * reader's LO read from moving the latch between the two.
 *
 * Return: 0 or as mtia_tel_read().
 */
int mtia_tel_energy(struct mtia_device *mdev, u64 *mj)
{
	u32 lo, hi;
	int ret;

	mutex_lock(&mdev->tel_lock);
	ret = mtia_tel_read(mdev, MTIA_REG_TEL_ENERGY_LO, &lo);
	if (!ret)
		ret = mtia_tel_read(mdev, MTIA_REG_TEL_ENERGY_HI, &hi);
	mutex_unlock(&mdev->tel_lock);
	if (!ret)
		*mj = (u64)hi << 32 | lo;
	return ret;
}

/**
 * mtia_tel_set_power_cap() - set the board power limit.
 * @mdev: the device.
 * @mw: milliwatts, within [POWER_CAP_MIN, POWER_CAP_MAX].
 *
 * Return: 0, -EINVAL out of range, or as mtia_tel_read().
 */
int mtia_tel_set_power_cap(struct mtia_device *mdev, u32 mw)
{
	u32 lo, hi;
	int ret;

	ret = mtia_tel_read(mdev, MTIA_REG_TEL_POWER_CAP_MIN, &lo);
	if (!ret)
		ret = mtia_tel_read(mdev, MTIA_REG_TEL_POWER_CAP_MAX, &hi);
	if (ret)
		return ret;
	if (mw < lo || mw > hi)
		return -EINVAL;
	return mtia_tel_write(mdev, MTIA_REG_TEL_POWER_CAP, mw);
}

/**
 * mtia_tel_ecc_clear() - zero ECC error counters (MTIA_REG_TEL_ECC_CLEAR).
 * @mdev: the device.
 * @what: MTIA_TEL_ECC_CLEAR_VOLATILE and/or _AGGREGATE.
 *
 * The device does it before the write completes. Interface 1.6 and later
 * only: an older device has neither the register nor lifetime counts.
 *
 * Return: 0, -EINVAL for another bit, -EOPNOTSUPP without telemetry or on
 * a device older than interface 1.6, or as mtia_tel_read().
 */
int mtia_tel_ecc_clear(struct mtia_device *mdev, u32 what)
{
	if (!what || what & ~MTIA_TEL_ECC_CLEAR_ALL)
		return -EINVAL;
	if (!mtia_tel_has_ecc_aggregate(mdev))
		return -EOPNOTSUPP;
	return mtia_tel_write(mdev, MTIA_REG_TEL_ECC_CLEAR, what);
}

/* debugfs ecc_inject: "corrected N" or "uncorrected N", 1 <= N <= 65535. */
static ssize_t mtia_ecc_inject_write(struct file *file,
				     const char __user *ubuf, size_t len,
				     loff_t *ppos)
{
	struct mtia_device *mdev = file_inode(file)->i_private;
	char buf[32], *arg;
	u32 val = 0;
	u16 count;
	int idx;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	arg = strim(buf);
	if (str_has_prefix(arg, "uncorrected ")) {
		val = MTIA_TEL_ECC_INJECT_UNCORR;
		arg += strlen("uncorrected ");
	} else if (str_has_prefix(arg, "corrected ")) {
		arg += strlen("corrected ");
	} else {
		return -EINVAL;
	}
	if (kstrtou16(arg, 0, &count) || !count)
		return -EINVAL;
	if (!mdev->tel_present)
		return -EOPNOTSUPP;
	if (!drm_dev_enter(&mdev->drm, &idx))
		return -ENODEV;
	mtia_wr32(mdev, MTIA_REG_TEL_ECC_INJECT, val | count);
	drm_dev_exit(idx);
	return len;
}

static const struct file_operations mtia_ecc_inject_fops = {
	.owner = THIS_MODULE,
	.write = mtia_ecc_inject_write,
};

/**
 * mtia_tel_debugfs_init() - create ecc_inject (test only: the device counts
 * injected errors as if its memory had reported them; no data is touched).
 * @mdev: the device.
 */
void mtia_tel_debugfs_init(struct mtia_device *mdev)
{
	struct dentry *root = mdev->drm.debugfs_root;

	if (IS_ERR_OR_NULL(root) || !mdev->tel_present)
		return;
	debugfs_create_file("ecc_inject", 0200, root, mdev,
			    &mtia_ecc_inject_fops);
}
