// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: the PCI device's "mtia" sysfs group
 * (/sys/bus/pci/devices/<bdf>/mtia/, docs/driver.md, docs/telemetry.md).
 *
 * Identity, firmware and health: chip_id, revision, if_version, pe_rows,
 * pe_cols, sram_bytes, devmem_bytes, msix_vectors, fw_version, fw_status,
 * fw_boot_status (the boot ROM's verdict on the last image, in words),
 * reset_count, pci_error_count (PCIe errors AER reported, mtia_pci_err.c),
 * lost_irq_count (job timeouts that were lost interrupts), gone (1: the
 * device was given up, mtia_recovery.c), irq_*_count. Memory: mem_total,
 * mem_used (the
 * driver's device-memory allocator). Telemetry, shown when the device has
 * it: serial, {cc,dma,pe}_busy_percent, clock_mhz, clock_max_mhz,
 * clock_min_mhz, throttle_reasons, ecc_corrected, ecc_uncorrected (since
 * power-on or the last clear). On a device of interface 1.6 or later, also
 * ecc_corrected_aggregate, ecc_uncorrected_aggregate (lifetime counts, kept
 * in the board's infoROM) and ecc_clear (root, write-only): "volatile" or
 * "aggregate" zeroes those counters; older devices do not show these three.
 * Temperature and power are hwmon's (mtia_hwmon.c). reset (root, write-only):
 * writing 1 resets the device and reboots its firmware as the watchdog
 * would, re-running the jobs that were on it.
 */

#include <linux/device.h>
#include <linux/kstrtox.h>
#include <linux/sysfs.h>

#include <mtia/mtia_boot_status.h>

#include "mtia_hw.h"
#include "mtia_job.h"

static ssize_t chip_id_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "0x%04x\n", mdev->info.chip_id);
}
static DEVICE_ATTR_RO(chip_id);

static ssize_t revision_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u\n", mdev->info.revision);
}
static DEVICE_ATTR_RO(revision);

/* Capabilities read at probe (struct mtia_hw_info), so that user space
 * needs no open device for them.
 */
struct mtia_info_attr {
	struct device_attribute attr;
	size_t offset;
	bool is_u64;
};

static ssize_t mtia_info_attr_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct mtia_info_attr *ia = container_of(attr, struct mtia_info_attr,
						 attr);
	const void *field = (const u8 *)&((struct mtia_device *)
					  dev_get_drvdata(dev))->info +
			    ia->offset;

	if (ia->is_u64)
		return sysfs_emit(buf, "%llu\n", *(const u64 *)field);
	return sysfs_emit(buf, "%u\n", *(const u32 *)field);
}

#define MTIA_INFO_ATTR(_attr, _off, _u64) {				\
	.attr = __ATTR(_attr, 0444, mtia_info_attr_show, NULL),		\
	.offset = _off,							\
	.is_u64 = _u64,							\
}

#define MTIA_INFO_OFF(f)	offsetof(struct mtia_hw_info, f)

static struct mtia_info_attr dev_attr_pe_rows =
	MTIA_INFO_ATTR(pe_rows, MTIA_INFO_OFF(pe_rows), false);
static struct mtia_info_attr dev_attr_pe_cols =
	MTIA_INFO_ATTR(pe_cols, MTIA_INFO_OFF(pe_cols), false);
static struct mtia_info_attr dev_attr_sram_bytes =
	MTIA_INFO_ATTR(sram_bytes, MTIA_INFO_OFF(sram_bytes), true);
static struct mtia_info_attr dev_attr_devmem_bytes =
	MTIA_INFO_ATTR(devmem_bytes, MTIA_INFO_OFF(devmem_bytes), true);
static struct mtia_info_attr dev_attr_msix_vectors =
	MTIA_INFO_ATTR(msix_vectors, MTIA_INFO_OFF(msix_vectors), false);

static ssize_t if_version_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%u.%u\n", mdev->info.if_major,
			  mdev->info.if_minor);
}
static DEVICE_ATTR_RO(if_version);

/* "on" if the driver gives each file a device MMU context, else "off". */
static ssize_t mmu_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n", mdev->mmu.present ? "on" : "off");
}
static DEVICE_ATTR_RO(mmu);

static ssize_t irq_test_count_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%lld\n", atomic64_read(&mdev->irq_counts[0]));
}
static DEVICE_ATTR_RO(irq_test_count);

static ssize_t irq_error_count_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%lld\n", atomic64_read(&mdev->irq_counts[1]));
}
static DEVICE_ATTR_RO(irq_error_count);

static ssize_t irq_spurious_count_show(struct device *dev,
				       struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%lld\n", atomic64_read(&mdev->irq_spurious));
}
static DEVICE_ATTR_RO(irq_spurious_count);

static ssize_t fw_version_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);
	u32 v = READ_ONCE(mdev->fw_version);

	if (!v)
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%u.%u.%u\n", mtia_fw_version_major(v),
			  mtia_fw_version_minor(v), mtia_fw_version_patch(v));
}
static DEVICE_ATTR_RO(fw_version);

static ssize_t fw_status_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%s\n",
			  mtia_fw_state_name(READ_ONCE(mdev->fw_state)));
}
static DEVICE_ATTR_RO(fw_status);

static ssize_t fw_boot_status_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);
	u32 boot = READ_ONCE(mdev->fw_boot_status);

	return sysfs_emit(buf, "%s (0x%02x)\n", mtia_boot_status_name(boot),
			  boot);
}
static DEVICE_ATTR_RO(fw_boot_status);

static ssize_t reset_count_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&mdev->reset_count));
}
static DEVICE_ATTR_RO(reset_count);

static ssize_t pci_error_count_show(struct device *dev,
				    struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&mdev->pci_errors));
}
static DEVICE_ATTR_RO(pci_error_count);

static ssize_t lost_irq_count_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", atomic_read(&mdev->lost_irqs));
}
static DEVICE_ATTR_RO(lost_irq_count);

static ssize_t gone_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%d\n", READ_ONCE(mdev->gone));
}
static DEVICE_ATTR_RO(gone);

static ssize_t mem_total_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", mdev->devmem_total);
}
static DEVICE_ATTR_RO(mem_total);

static ssize_t mem_used_show(struct device *dev,
			     struct device_attribute *attr, char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);

	return sysfs_emit(buf, "%llu\n", mtia_devmem_used(mdev));
}
static DEVICE_ATTR_RO(mem_used);

/* ---- telemetry ----------------------------------------------------------- */

static ssize_t serial_show(struct device *dev, struct device_attribute *attr,
			   char *buf)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);
	u32 lo, hi;
	int ret;

	ret = mtia_tel_read(mdev, MTIA_REG_TEL_SERIAL_LO, &lo);
	if (!ret)
		ret = mtia_tel_read(mdev, MTIA_REG_TEL_SERIAL_HI, &hi);
	if (ret)
		return ret;
	return sysfs_emit(buf, "%08x%08x\n", hi, lo);
}
static DEVICE_ATTR_RO(serial);

/* An attribute showing one telemetry register, scaled down by a divisor. */
struct mtia_tel_attr {
	struct device_attribute attr;
	u32 reg;
	u32 div;
};

static ssize_t mtia_tel_attr_show(struct device *dev,
				  struct device_attribute *attr, char *buf)
{
	struct mtia_tel_attr *ta = container_of(attr, struct mtia_tel_attr,
						attr);
	u32 v;
	int ret;

	ret = mtia_tel_read(dev_get_drvdata(dev), ta->reg, &v);
	if (ret)
		return ret;
	return sysfs_emit(buf, "%u\n", DIV_ROUND_CLOSEST(v, ta->div));
}

#define MTIA_TEL_ATTR(_name, _reg, _div)				\
	struct mtia_tel_attr dev_attr_##_name = {			\
		.attr = __ATTR(_name, 0444, mtia_tel_attr_show, NULL),	\
		.reg = _reg,						\
		.div = _div,						\
	}

/* The device counts utilisation in per mille. */
static MTIA_TEL_ATTR(cc_busy_percent, MTIA_REG_TEL_UTIL_CC, 10);
static MTIA_TEL_ATTR(dma_busy_percent, MTIA_REG_TEL_UTIL_DMA, 10);
static MTIA_TEL_ATTR(pe_busy_percent, MTIA_REG_TEL_UTIL_PE, 10);
static MTIA_TEL_ATTR(clock_mhz, MTIA_REG_TEL_CLK, 1);
static MTIA_TEL_ATTR(clock_max_mhz, MTIA_REG_TEL_CLK_MAX, 1);
static MTIA_TEL_ATTR(clock_min_mhz, MTIA_REG_TEL_CLK_MIN, 1);
static MTIA_TEL_ATTR(ecc_corrected, MTIA_REG_TEL_ECC_CORR, 1);
static MTIA_TEL_ATTR(ecc_uncorrected, MTIA_REG_TEL_ECC_UNCORR, 1);
static MTIA_TEL_ATTR(ecc_corrected_aggregate, MTIA_REG_TEL_ECC_CORR_AGG, 1);
static MTIA_TEL_ATTR(ecc_uncorrected_aggregate, MTIA_REG_TEL_ECC_UNCORR_AGG, 1);

/* "volatile" or "aggregate": zero those ECC counters (both kinds), as
 * nvidia-smi -p 0 / -p 1 do. Root only (mode 0200).
 */
static ssize_t ecc_clear_store(struct device *dev,
			       struct device_attribute *attr, const char *buf,
			       size_t count)
{
	static const char * const what[] = { "volatile", "aggregate" };
	static const u32 bits[] = { MTIA_TEL_ECC_CLEAR_VOLATILE,
				    MTIA_TEL_ECC_CLEAR_AGGREGATE };
	int i, ret;

	i = sysfs_match_string(what, buf);
	if (i < 0)
		return -EINVAL;
	ret = mtia_tel_ecc_clear(dev_get_drvdata(dev), bits[i]);
	return ret ? ret : count;
}
static DEVICE_ATTR_WO(ecc_clear);

/* "none", or the reasons the clock is below its maximum: power,thermal. */
static ssize_t throttle_reasons_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	u32 v;
	int ret;

	ret = mtia_tel_read(dev_get_drvdata(dev), MTIA_REG_TEL_THROTTLE, &v);
	if (ret)
		return ret;
	if (!(v & (MTIA_TEL_THROTTLE_POWER | MTIA_TEL_THROTTLE_THERMAL)))
		return sysfs_emit(buf, "none\n");
	return sysfs_emit(buf, "%s%s%s\n",
			  v & MTIA_TEL_THROTTLE_POWER ? "power" : "",
			  (v & MTIA_TEL_THROTTLE_POWER) &&
			  (v & MTIA_TEL_THROTTLE_THERMAL) ? "," : "",
			  v & MTIA_TEL_THROTTLE_THERMAL ? "thermal" : "");
}
static DEVICE_ATTR_RO(throttle_reasons);

/* ---- reset ------------------------------------------------------------- */

static ssize_t reset_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t count)
{
	struct mtia_device *mdev = dev_get_drvdata(dev);
	bool doit;

	if (kstrtobool(buf, &doit) || !doit)
		return -EINVAL;
	if (READ_ONCE(mdev->fw_state) == MTIA_FW_DEAD)
		return -EIO;
	dev_info(dev, "reset requested through sysfs\n");
	if (mtia_pm_get(mdev))
		return -EIO;
	mtia_health_reset_sync(mdev, "sysfs");
	mtia_pm_put(mdev);
	return READ_ONCE(mdev->fw_state) == MTIA_FW_READY ? count : -EIO;
}
static DEVICE_ATTR_WO(reset);

static struct attribute *mtia_dev_attrs[] = {
	&dev_attr_chip_id.attr,
	&dev_attr_revision.attr,
	&dev_attr_if_version.attr,
	&dev_attr_mmu.attr,
	&dev_attr_pe_rows.attr.attr,
	&dev_attr_pe_cols.attr.attr,
	&dev_attr_sram_bytes.attr.attr,
	&dev_attr_devmem_bytes.attr.attr,
	&dev_attr_msix_vectors.attr.attr,
	&dev_attr_irq_test_count.attr,
	&dev_attr_irq_error_count.attr,
	&dev_attr_irq_spurious_count.attr,
	&dev_attr_fw_version.attr,
	&dev_attr_fw_status.attr,
	&dev_attr_fw_boot_status.attr,
	&dev_attr_reset_count.attr,
	&dev_attr_pci_error_count.attr,
	&dev_attr_lost_irq_count.attr,
	&dev_attr_gone.attr,
	&dev_attr_mem_total.attr,
	&dev_attr_mem_used.attr,
	&dev_attr_reset.attr,
	&dev_attr_serial.attr,
	&dev_attr_cc_busy_percent.attr.attr,
	&dev_attr_dma_busy_percent.attr.attr,
	&dev_attr_pe_busy_percent.attr.attr,
	&dev_attr_clock_mhz.attr.attr,
	&dev_attr_clock_max_mhz.attr.attr,
	&dev_attr_clock_min_mhz.attr.attr,
	&dev_attr_throttle_reasons.attr,
	&dev_attr_ecc_corrected.attr.attr,
	&dev_attr_ecc_uncorrected.attr.attr,
	&dev_attr_ecc_corrected_aggregate.attr.attr,
	&dev_attr_ecc_uncorrected_aggregate.attr.attr,
	&dev_attr_ecc_clear.attr,
	NULL,
};

/*
 * The telemetry attributes are hidden on a device without telemetry, the
 * lifetime ECC counts and ecc_clear on one older than interface 1.6.
 */
static umode_t mtia_dev_attr_visible(struct kobject *kobj,
				     struct attribute *attr, int n)
{
	struct mtia_device *mdev = dev_get_drvdata(kobj_to_dev(kobj));
	struct device_attribute *da = container_of(attr, struct device_attribute,
						   attr);
	bool tel = da->show == mtia_tel_attr_show || da->show == serial_show ||
		   da->show == throttle_reasons_show;
	bool agg = attr == &dev_attr_ecc_corrected_aggregate.attr.attr ||
		   attr == &dev_attr_ecc_uncorrected_aggregate.attr.attr ||
		   attr == &dev_attr_ecc_clear.attr;

	if (agg)
		return mtia_tel_has_ecc_aggregate(mdev) ? attr->mode : 0;
	return tel && !mdev->tel_present ? 0 : attr->mode;
}

static const struct attribute_group mtia_dev_group = {
	.name = "mtia",
	.attrs = mtia_dev_attrs,
	.is_visible = mtia_dev_attr_visible,
};

const struct attribute_group *mtia_dev_groups[] = {
	&mtia_dev_group,
	NULL,
};
