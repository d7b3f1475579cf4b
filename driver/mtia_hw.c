// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: identity check, capabilities and reset.
 */

#include <linux/iopoll.h>

#include "mtia_hw.h"

#define MTIA_RESET_POLL_US	10
#define MTIA_RESET_TIMEOUT_US	(100 * USEC_PER_MSEC)

/**
 * mtia_hw_identify() - check the device is an MTIA we can drive.
 * @mdev: the device, BAR0 mapped.
 *
 * Reads MAGIC and IF_VERSION and refuses devices whose register interface
 * major version differs from the one this driver was written against, then
 * reads the capability registers into @mdev->info.
 *
 * Return: 0, or -ENODEV if the device is not usable.
 */
int mtia_hw_identify(struct mtia_device *mdev)
{
	struct device *dev = &mdev->pdev->dev;
	struct mtia_hw_info *info = &mdev->info;
	u32 magic, ifver, grid;

	magic = mtia_rd32(mdev, MTIA_REG_MAGIC);
	if (magic != MTIA_MAGIC_VALUE) {
		dev_err(dev, "bad magic 0x%08x in BAR0 (expected 0x%08x), refusing device\n",
			magic, MTIA_MAGIC_VALUE);
		return -ENODEV;
	}

	ifver = mtia_rd32(mdev, MTIA_REG_IF_VERSION);
	info->if_major = mtia_if_version_major(ifver);
	info->if_minor = mtia_if_version_minor(ifver);
	if (info->if_major != MTIA_IF_VERSION_MAJOR) {
		dev_err(dev, "unsupported register interface version %u.%u (driver expects %u.x), refusing device\n",
			info->if_major, info->if_minor, MTIA_IF_VERSION_MAJOR);
		return -ENODEV;
	}
	if (info->if_minor > MTIA_IF_VERSION_MINOR)
		dev_info(dev, "register interface %u.%u is newer than %u.%u, using %u.%u features\n",
			 info->if_major, info->if_minor, MTIA_IF_VERSION_MAJOR,
			 MTIA_IF_VERSION_MINOR, MTIA_IF_VERSION_MAJOR,
			 MTIA_IF_VERSION_MINOR);

	info->chip_id = mtia_rd32(mdev, MTIA_REG_CHIP_ID);
	info->revision = mtia_rd32(mdev, MTIA_REG_REVISION);
	grid = mtia_rd32(mdev, MTIA_REG_PE_GRID);
	info->pe_rows = mtia_pe_grid_rows(grid);
	info->pe_cols = mtia_pe_grid_cols(grid);
	info->msix_vectors = mtia_rd32(mdev, MTIA_REG_MSIX_VECTORS);
	info->sram_bytes = mtia_rd64(mdev, MTIA_REG_SRAM_SIZE_LO,
				     MTIA_REG_SRAM_SIZE_HI);
	info->devmem_bytes = mtia_rd64(mdev, MTIA_REG_DEVMEM_SIZE_LO,
				       MTIA_REG_DEVMEM_SIZE_HI);

	if (!info->pe_rows || !info->pe_cols) {
		dev_err(dev, "device reports an empty PE grid (0x%08x), refusing device\n",
			grid);
		return -ENODEV;
	}
	if (!info->msix_vectors || info->msix_vectors > MTIA_MAX_MSIX_VECTORS) {
		dev_err(dev, "device reports %u MSI-X vectors (expected 1..%u), refusing device\n",
			info->msix_vectors, MTIA_MAX_MSIX_VECTORS);
		return -ENODEV;
	}

	return 0;
}

/**
 * mtia_hw_reset() - reset the device to its power-on register state.
 * @mdev: the device, BAR0 mapped.
 *
 * After reset every interrupt cause is masked and none is pending.
 *
 * Return: 0, or -ETIMEDOUT if the device does not come back ready.
 */
int mtia_hw_reset(struct mtia_device *mdev)
{
	u32 status;
	int ret;

	mtia_wr32(mdev, MTIA_REG_RESET, MTIA_RESET_KEY);
	ret = readl_poll_timeout(mdev->regs + MTIA_REG_STATUS, status,
				 status & MTIA_STATUS_READY,
				 MTIA_RESET_POLL_US, MTIA_RESET_TIMEOUT_US);
	if (ret) {
		dev_err(&mdev->pdev->dev, "device not ready after reset (status 0x%08x)\n",
			status);
		return ret;
	}

	return 0;
}
