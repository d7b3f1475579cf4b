// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: ioctls.
 */

#include <linux/build_bug.h>
#include <linux/minmax.h>
#include <linux/uaccess.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>

#include "mtia_drv.h"

/**
 * mtia_ioctl_get_info() - DRM_IOCTL_MTIA_GET_INFO.
 * @drm: the DRM device.
 * @data: struct drm_mtia_get_info, already copied in by drm_ioctl().
 * @file: the DRM file.
 *
 * Writes min(@size, sizeof(struct drm_mtia_info)) bytes of the device
 * description to user memory and reports the count in @size.
 *
 * Return: 0, -EINVAL on bad arguments, -EFAULT on a bad pointer, -ENODEV if
 * the device is gone, -EIO if it is dead (firmware recovery failed).
 */
int mtia_ioctl_get_info(struct drm_device *drm, void *data,
			struct drm_file *file)
{
	struct mtia_device *mdev = to_mtia_device(drm);
	struct drm_mtia_get_info *args = data;
	struct drm_mtia_info info = {};
	size_t n;
	int idx;

	BUILD_BUG_ON(sizeof(struct drm_mtia_info) != MTIA_INFO_SIZE_V0);
	BUILD_BUG_ON(sizeof(struct drm_mtia_get_info) != 32);

	if (args->flags || args->reserved[0] || args->reserved[1])
		return -EINVAL;
	if (args->size < MTIA_INFO_SIZE_V0)
		return -EINVAL;

	if (!drm_dev_enter(drm, &idx))
		return -ENODEV;
	if (READ_ONCE(mdev->fw_state) == MTIA_FW_DEAD) {
		drm_dev_exit(idx);
		return -EIO;
	}

	info.chip_id = mdev->info.chip_id;
	info.revision = mdev->info.revision;
	info.if_version_major = mdev->info.if_major;
	info.if_version_minor = mdev->info.if_minor;
	info.pe_rows = mdev->info.pe_rows;
	info.pe_cols = mdev->info.pe_cols;
	info.sram_bytes = mdev->info.sram_bytes;
	info.devmem_bytes = mdev->info.devmem_bytes;
	info.drv_major = MTIA_DRV_MAJOR;
	info.drv_minor = MTIA_DRV_MINOR;
	info.drv_patch = MTIA_DRV_PATCHLEVEL;
	info.fw_version = READ_ONCE(mdev->fw_version);
	info.msix_vectors = mdev->nvecs;

	drm_dev_exit(idx);

	n = min_t(size_t, args->size, sizeof(info));
	if (copy_to_user(u64_to_user_ptr(args->info_ptr), &info, n))
		return -EFAULT;
	args->size = n;

	return 0;
}
