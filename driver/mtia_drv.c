// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: PCI probe/remove, DRM driver, module.
 *
 * Each MTIA PCI function becomes one DRM accel device, /dev/accel/accelN.
 * Probe identifies and resets the device, tests its interrupt, boots the
 * control-core firmware (mtia_fw.c) and registers the device; the heartbeat
 * watchdog (mtia_health.c) then runs until remove. Everything acquired at
 * probe is device-managed; remove unplugs the DRM device, stops the
 * watchdog, quiesces and resets the hardware (stopping the control core),
 * and devres undoes the rest in reverse order.
 */

#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string_helpers.h>
#include <linux/stringify.h>

#include <drm/drm_accel.h>
#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_ioctl.h>

#include "mtia_direct.h"
#include "mtia_drv.h"
#include "mtia_file.h"
#include "mtia_hw.h"
#include "mtia_job.h"

/* DRM_ACCEL_FOPS of 6.12 lacks show_fdinfo, which fdinfo memory stats need. */
/* Direct queues' rings and doorbells have offsets of their own. */
static int mtia_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (mtia_direct_mmap_offset(vma->vm_pgoff))
		return mtia_direct_mmap(filp, vma);
	return drm_gem_mmap(filp, vma);
}

/*
 * DRM_ACCEL_FOPS with our mmap; and show_fdinfo, which 6.12's lacks and
 * fdinfo memory stats need.
 */
static const struct file_operations mtia_accel_fops = {
	.owner = THIS_MODULE,
	.open = accel_open,
	.release = drm_release,
	.unlocked_ioctl = drm_ioctl,
	.compat_ioctl = drm_compat_ioctl,
	.poll = drm_poll,
	.read = drm_read,
	.llseek = noop_llseek,
	.mmap = mtia_mmap,
	.fop_flags = FOP_UNSIGNED_OFFSET,
	.show_fdinfo = drm_show_fdinfo,
};

/*
 * Every ioctl fails with -ENODEV once the device is given up (link down,
 * too many resets: mtia_recovery.c), before it looks at anything else.
 */
#define MTIA_IOCTL_CHECKED(fn)						\
static int fn##_checked(struct drm_device *drm, void *data,		\
			struct drm_file *file)				\
{									\
	if (READ_ONCE(to_mtia_device(drm)->gone))			\
		return -ENODEV;						\
	return fn(drm, data, file);					\
}

MTIA_IOCTL_CHECKED(mtia_ioctl_get_info)

MTIA_IOCTL_CHECKED(mtia_ioctl_bo_create)

MTIA_IOCTL_CHECKED(mtia_ioctl_bo_info)

MTIA_IOCTL_CHECKED(mtia_ioctl_queue_create)

MTIA_IOCTL_CHECKED(mtia_ioctl_queue_destroy)

MTIA_IOCTL_CHECKED(mtia_ioctl_submit)

MTIA_IOCTL_CHECKED(mtia_ioctl_wait)

MTIA_IOCTL_CHECKED(mtia_ioctl_bo_map)

MTIA_IOCTL_CHECKED(mtia_ioctl_direct_create)

MTIA_IOCTL_CHECKED(mtia_ioctl_direct_destroy)

MTIA_IOCTL_CHECKED(mtia_ioctl_direct_wait)

MTIA_IOCTL_CHECKED(mtia_ioctl_direct_signal)

static const struct drm_ioctl_desc mtia_ioctls[] = {
	DRM_IOCTL_DEF_DRV(MTIA_GET_INFO, mtia_ioctl_get_info_checked, 0),
	DRM_IOCTL_DEF_DRV(MTIA_BO_CREATE, mtia_ioctl_bo_create_checked, 0),
	DRM_IOCTL_DEF_DRV(MTIA_BO_INFO, mtia_ioctl_bo_info_checked, 0),
	DRM_IOCTL_DEF_DRV(MTIA_QUEUE_CREATE, mtia_ioctl_queue_create_checked, 0),
	DRM_IOCTL_DEF_DRV(MTIA_QUEUE_DESTROY, mtia_ioctl_queue_destroy_checked,
			  0),
	DRM_IOCTL_DEF_DRV(MTIA_SUBMIT, mtia_ioctl_submit_checked, 0),
	DRM_IOCTL_DEF_DRV(MTIA_WAIT, mtia_ioctl_wait_checked, 0),
	DRM_IOCTL_DEF_DRV(MTIA_BO_MAP, mtia_ioctl_bo_map_checked, 0),
	DRM_IOCTL_DEF_DRV(MTIA_DIRECT_CREATE, mtia_ioctl_direct_create_checked,
			  0),
	DRM_IOCTL_DEF_DRV(MTIA_DIRECT_DESTROY,
			  mtia_ioctl_direct_destroy_checked, 0),
	DRM_IOCTL_DEF_DRV(MTIA_DIRECT_WAIT, mtia_ioctl_direct_wait_checked, 0),
	DRM_IOCTL_DEF_DRV(MTIA_DIRECT_SIGNAL, mtia_ioctl_direct_signal_checked,
			  0),
};

static const struct drm_driver mtia_drm_driver = {
	.driver_features = DRIVER_GEM | DRIVER_SYNCOBJ | DRIVER_COMPUTE_ACCEL,
	.fops = &mtia_accel_fops,
	.open = mtia_open,
	.postclose = mtia_postclose,
	.gem_create_object = mtia_gem_create_object,
	.show_fdinfo = mtia_show_fdinfo,
	.ioctls = mtia_ioctls,
	.num_ioctls = ARRAY_SIZE(mtia_ioctls),
	.name = MTIA_DRIVER_NAME,
	.desc = MTIA_DRV_DESC,
	.date = MTIA_DRV_DATE,
	.major = MTIA_DRV_MAJOR,
	.minor = MTIA_DRV_MINOR,
	.patchlevel = MTIA_DRV_PATCHLEVEL,
};

static void mtia_log_identity(struct mtia_device *mdev)
{
	const struct mtia_hw_info *info = &mdev->info;
	char sram[16], devmem[16];

	string_get_size(info->sram_bytes, 1, STRING_UNITS_2, sram, sizeof(sram));
	string_get_size(info->devmem_bytes, 1, STRING_UNITS_2, devmem,
			sizeof(devmem));
	dev_info(&mdev->pdev->dev,
		 "MTIA chip 0x%04x rev %u (interface %u.%u): PE grid %ux%u, SRAM %s, device memory %s, %d MSI-X vector%s, accel%d\n",
		 info->chip_id, info->revision, info->if_major, info->if_minor,
		 info->pe_rows, info->pe_cols, sram, devmem, mdev->nvecs,
		 mdev->nvecs == 1 ? "" : "s", mdev->drm.accel->index);
}

/* Map BAR0 (the registers) and check its size. */
static int mtia_pci_init(struct mtia_device *mdev)
{
	struct pci_dev *pdev = mdev->pdev;
	struct device *dev = &pdev->dev;

	mdev->regs = pcim_iomap_region(pdev, MTIA_BAR_REGS, MTIA_DRIVER_NAME);
	if (IS_ERR(mdev->regs))
		return dev_err_probe(dev, PTR_ERR(mdev->regs),
				     "cannot map BAR%d\n", MTIA_BAR_REGS);
	if (pci_resource_len(pdev, MTIA_BAR_REGS) < MTIA_BAR0_SIZE)
		return dev_err_probe(dev, -ENODEV,
				     "BAR%d is %llu bytes, expected %u\n",
				     MTIA_BAR_REGS,
				     (u64)pci_resource_len(pdev, MTIA_BAR_REGS),
				     MTIA_BAR0_SIZE);
	return 0;
}

/*
 * Identify and reset the device, and set up what the interrupt handler
 * uses, before it is installed.
 */
static int mtia_hw_init(struct mtia_device *mdev)
{
	int ret;

	ret = mtia_hw_identify(mdev);
	if (ret)
		return ret;
	mtia_tel_init(mdev);
	ret = mtia_mmu_init(mdev);
	if (ret)
		return ret;

	/* Start from a clean device: all causes masked, nothing pending. */
	ret = mtia_hw_reset(mdev);
	if (ret)
		return ret;

	mtia_mbox_init(mdev);
	mtia_health_init(mdev);
	ret = mtia_fw_init(mdev);
	if (ret)
		return ret;
	return mtia_devmem_init(mdev);
}

/*
 * With interrupts installed: job state, interrupt self-test, firmware boot
 * and the hardware queues. On failure the caller disables the interrupts.
 */
static int mtia_start(struct mtia_device *mdev)
{
	int ret;

	ret = mtia_jobs_init(mdev);
	if (ret)
		return ret;
	ret = mtia_irq_self_test(mdev);
	if (ret)
		return ret;
	/* On failure the device is reset again: the control core is stopped. */
	mutex_lock(&mdev->mbox_lock);
	ret = mtia_fw_boot_locked(mdev);
	mutex_unlock(&mdev->mbox_lock);
	if (ret)
		return ret;
	mtia_hwq_program_all(mdev);
	return 0;
}

/* The kept firmware image (mtia_fw.c) goes with the bound device. */
static void mtia_free_fw_copy(void *arg)
{
	struct mtia_device *mdev = arg;

	kvfree(mdev->fw_copy);
	mdev->fw_copy = NULL;
}

static int mtia_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct device *dev = &pdev->dev;
	struct mtia_device *mdev;
	int ret;

	ret = pcim_enable_device(pdev);
	if (ret)
		return dev_err_probe(dev, ret, "cannot enable PCI device\n");
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret)
		return dev_err_probe(dev, ret, "no 64-bit DMA\n");

	mdev = devm_drm_dev_alloc(dev, &mtia_drm_driver, struct mtia_device,
				  drm);
	if (IS_ERR(mdev))
		return PTR_ERR(mdev);
	mdev->pdev = pdev;
	pci_set_drvdata(pdev, mdev);
	ret = devm_add_action(dev, mtia_free_fw_copy, mdev);
	if (ret)
		return ret;

	ret = mtia_pci_init(mdev);
	if (ret)
		return ret;
	ret = mtia_hw_init(mdev);
	if (ret)
		return ret;
	ret = mtia_irq_init(mdev);
	if (ret)
		return ret;
	ret = mtia_start(mdev);
	if (ret)
		goto err_irq;

	mtia_debugfs_init(mdev);
	mtia_tel_debugfs_init(mdev);

	ret = drm_dev_register(&mdev->drm, 0);
	if (ret) {
		dev_err(dev, "cannot register DRM accel device (%d)\n", ret);
		goto err_fw;
	}

	mtia_log_identity(mdev);
	mtia_hwmon_init(mdev);
	mtia_health_start(mdev);
	/* What PCIe error recovery restores after a link reset (MSI-X on). */
	pci_save_state(pdev);
	mtia_pm_enable(mdev);
	return 0;

err_fw:
	mtia_mbox_stop(mdev);
	mtia_hw_reset(mdev);
err_irq:
	mtia_irq_disable(mdev);
	return ret;
}

static void mtia_remove(struct pci_dev *pdev)
{
	struct mtia_device *mdev = pci_get_drvdata(pdev);

	/* The PCI core resumed the device for remove: keep it so. */
	mtia_pm_disable(mdev);
	/* No new ioctl or debugfs access; those in progress have finished. */
	drm_dev_unplug(&mdev->drm);
	/* BO mappings must not outlive the BAR: later accesses get SIGBUS. */
	mtia_bo_unmap_all(mdev);
	/* Waits for a check or recovery in progress; none can start again. */
	mtia_health_stop(mdev);
	mtia_mbox_stop(mdev);
	mtia_irq_disable(mdev);
	/* Stops the control core. */
	mtia_hw_reset(mdev);
	/* Jobs still on the hardware fail with -ENODEV. */
	mtia_jobs_fini(mdev);
}

static const struct pci_device_id mtia_pci_ids[] = {
	{ PCI_DEVICE(MTIA_PCI_VENDOR_ID, MTIA_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, mtia_pci_ids);

static struct pci_driver mtia_pci_driver = {
	.name = MTIA_DRIVER_NAME,
	.id_table = mtia_pci_ids,
	.probe = mtia_probe,
	.remove = mtia_remove,
	.err_handler = &mtia_pci_err_handlers,
	.dev_groups = mtia_dev_groups,
	.driver.pm = pm_ptr(&mtia_pm_ops),
};
module_pci_driver(mtia_pci_driver);

MODULE_AUTHOR("mtia-open authors");
MODULE_DESCRIPTION(MTIA_DRV_DESC);
MODULE_LICENSE("GPL");
MODULE_VERSION(__stringify(MTIA_DRV_MAJOR) "." __stringify(MTIA_DRV_MINOR) "."
	       __stringify(MTIA_DRV_PATCHLEVEL));
