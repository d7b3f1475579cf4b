/* SPDX-License-Identifier: MIT */
/*
 * mtia-open DRM accel UAPI (/dev/accel/accelN, DRM driver name "mtia").
 *
 * ABI rules (tests/abi checks the layout of every struct here):
 *  - fixed-width __u types only, explicit padding, 8-byte aligned __u64;
 *  - every ioctl struct carries flags and reserved fields that must be zero,
 *    so they can gain meaning later without a new ioctl;
 *  - variable-size results are returned through a user pointer plus a size,
 *    so a struct can grow: the kernel writes min(size, its own size) bytes and
 *    reports how many it wrote.
 */
#ifndef _UAPI_MTIA_ACCEL_H_
#define _UAPI_MTIA_ACCEL_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define MTIA_DRIVER_NAME "mtia"

#define DRM_MTIA_GET_INFO 0x00
#define DRM_MTIA_BO_CREATE 0x01
#define DRM_MTIA_BO_INFO 0x02

#define DRM_IOCTL_MTIA_GET_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_GET_INFO, struct drm_mtia_get_info)
#define DRM_IOCTL_MTIA_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_BO_CREATE, struct drm_mtia_bo_create)
#define DRM_IOCTL_MTIA_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_BO_INFO, struct drm_mtia_bo_info)

/**
 * struct drm_mtia_info - device description returned by GET_INFO.
 *
 * New fields are only ever appended; MTIA_INFO_SIZE_V0 is the size of the
 * first version, the smallest buffer GET_INFO accepts.
 */
struct drm_mtia_info {
	__u32 chip_id;          /* MTIA_CHIP_ID_* from the device */
	__u32 revision;         /* silicon revision */
	__u32 if_version_major; /* device register interface */
	__u32 if_version_minor;
	__u32 pe_rows;          /* processing-element grid */
	__u32 pe_cols;
	__u64 sram_bytes;       /* on-chip SRAM */
	__u64 devmem_bytes;     /* device memory (BAR2) */
	__u32 drv_major;        /* driver version */
	__u32 drv_minor;
	__u32 drv_patch;
	__u32 fw_version;       /* 0 until firmware is loaded */
	__u32 msix_vectors;     /* vectors the driver enabled */
	__u32 pad;              /* zero */
};

#define MTIA_INFO_SIZE_V0 64

/**
 * struct drm_mtia_get_info - DRM_IOCTL_MTIA_GET_INFO argument.
 * @size: in: bytes available at @info_ptr (>= MTIA_INFO_SIZE_V0);
 *        out: bytes the kernel wrote.
 * @flags: must be zero.
 * @info_ptr: user pointer to a struct drm_mtia_info.
 * @reserved: must be zero.
 */
struct drm_mtia_get_info {
	__u32 size;
	__u32 flags;
	__u64 info_ptr;
	__u64 reserved[2];
};

/* drm_mtia_bo_create.placement */
#define MTIA_BO_HOST   0 /* host memory (shmem), DMA-mapped when a job uses it */
#define MTIA_BO_DEVICE 1 /* device memory (BAR2), from the driver's allocator */

/**
 * struct drm_mtia_bo_create - DRM_IOCTL_MTIA_BO_CREATE argument.
 * @size: in: bytes, > 0; rounded up to the page size.
 * @placement: in: MTIA_BO_HOST or MTIA_BO_DEVICE.
 * @flags: must be zero.
 * @handle: out: GEM handle, released with DRM_IOCTL_GEM_CLOSE.
 * @pad: zero.
 * @reserved: must be zero.
 *
 * A device BO larger than the free device memory fails with -ENOSPC.
 */
struct drm_mtia_bo_create {
	__u64 size;
	__u32 placement;
	__u32 flags;
	__u32 handle;
	__u32 pad;
	__u64 reserved[2];
};

/**
 * struct drm_mtia_bo_info - DRM_IOCTL_MTIA_BO_INFO argument.
 * @handle: in: a GEM handle of this file.
 * @flags: must be zero.
 * @size: out: bytes (page-aligned).
 * @mmap_offset: out: offset to pass to mmap() on the device fd.
 * @placement: out: MTIA_BO_HOST or MTIA_BO_DEVICE.
 * @pad: zero.
 * @devmem_offset: out: for device BOs, the byte offset in device memory
 *                 (what mtia-smi and debugging show); 0 for host BOs.
 * @reserved: must be zero.
 */
struct drm_mtia_bo_info {
	__u32 handle;
	__u32 flags;
	__u64 size;
	__u64 mmap_offset;
	__u32 placement;
	__u32 pad;
	__u64 devmem_offset;
	__u64 reserved[2];
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_MTIA_ACCEL_H_ */
