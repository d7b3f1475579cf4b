// SPDX-License-Identifier: MIT
// Golden layout of the UAPI: any change to a size or an offset here is an
// ABI break. Checked at compile time (static_assert) and reported at run time.
#include <gtest/gtest.h>

#include <cstddef>

#include "uapi/drm/mtia_accel.h"

#define GOLDEN(type, field, off, sz)                                 \
    static_assert(offsetof(type, field) == (off), #type "." #field); \
    static_assert(sizeof(((type *)nullptr)->field) == (sz), #type "." #field " size")

GOLDEN(drm_mtia_info, chip_id, 0, 4);
GOLDEN(drm_mtia_info, revision, 4, 4);
GOLDEN(drm_mtia_info, if_version_major, 8, 4);
GOLDEN(drm_mtia_info, if_version_minor, 12, 4);
GOLDEN(drm_mtia_info, pe_rows, 16, 4);
GOLDEN(drm_mtia_info, pe_cols, 20, 4);
GOLDEN(drm_mtia_info, sram_bytes, 24, 8);
GOLDEN(drm_mtia_info, devmem_bytes, 32, 8);
GOLDEN(drm_mtia_info, drv_major, 40, 4);
GOLDEN(drm_mtia_info, drv_minor, 44, 4);
GOLDEN(drm_mtia_info, drv_patch, 48, 4);
GOLDEN(drm_mtia_info, fw_version, 52, 4);
GOLDEN(drm_mtia_info, msix_vectors, 56, 4);
GOLDEN(drm_mtia_info, pad, 60, 4);
static_assert(sizeof(drm_mtia_info) == 64);
static_assert(MTIA_INFO_SIZE_V0 == 64);

GOLDEN(drm_mtia_get_info, size, 0, 4);
GOLDEN(drm_mtia_get_info, flags, 4, 4);
GOLDEN(drm_mtia_get_info, info_ptr, 8, 8);
GOLDEN(drm_mtia_get_info, reserved, 16, 16);
static_assert(sizeof(drm_mtia_get_info) == 32);
static_assert(alignof(drm_mtia_get_info) == 8);

GOLDEN(drm_mtia_bo_create, size, 0, 8);
GOLDEN(drm_mtia_bo_create, placement, 8, 4);
GOLDEN(drm_mtia_bo_create, flags, 12, 4);
GOLDEN(drm_mtia_bo_create, handle, 16, 4);
GOLDEN(drm_mtia_bo_create, pad, 20, 4);
GOLDEN(drm_mtia_bo_create, reserved, 24, 16);
static_assert(sizeof(drm_mtia_bo_create) == 40);

GOLDEN(drm_mtia_bo_info, handle, 0, 4);
GOLDEN(drm_mtia_bo_info, flags, 4, 4);
GOLDEN(drm_mtia_bo_info, size, 8, 8);
GOLDEN(drm_mtia_bo_info, mmap_offset, 16, 8);
GOLDEN(drm_mtia_bo_info, placement, 24, 4);
GOLDEN(drm_mtia_bo_info, pad, 28, 4);
GOLDEN(drm_mtia_bo_info, devmem_offset, 32, 8);
GOLDEN(drm_mtia_bo_info, reserved, 40, 16);
static_assert(sizeof(drm_mtia_bo_info) == 56);

GOLDEN(drm_mtia_queue_create, priority, 0, 4);
GOLDEN(drm_mtia_queue_create, flags, 4, 4);
GOLDEN(drm_mtia_queue_create, queue_id, 8, 4);
GOLDEN(drm_mtia_queue_create, pad, 12, 4);
GOLDEN(drm_mtia_queue_create, reserved, 16, 16);
static_assert(sizeof(drm_mtia_queue_create) == 32);

GOLDEN(drm_mtia_queue_destroy, queue_id, 0, 4);
GOLDEN(drm_mtia_queue_destroy, flags, 4, 4);
GOLDEN(drm_mtia_queue_destroy, reserved, 8, 8);
static_assert(sizeof(drm_mtia_queue_destroy) == 16);

GOLDEN(drm_mtia_cmd, opcode, 0, 1);
GOLDEN(drm_mtia_cmd, flags, 1, 1);
GOLDEN(drm_mtia_cmd, pad0, 2, 2);
GOLDEN(drm_mtia_cmd, pad1, 4, 4);
GOLDEN(drm_mtia_cmd, len, 8, 8);
GOLDEN(drm_mtia_cmd, value, 16, 8);
GOLDEN(drm_mtia_cmd, src_bo, 24, 4);
GOLDEN(drm_mtia_cmd, dst_bo, 28, 4);
GOLDEN(drm_mtia_cmd, src_offset, 32, 8);
GOLDEN(drm_mtia_cmd, dst_offset, 40, 8);
GOLDEN(drm_mtia_cmd, reserved, 48, 16);
static_assert(sizeof(drm_mtia_cmd) == 64);

GOLDEN(drm_mtia_submit, cmds, 0, 8);
GOLDEN(drm_mtia_submit, bo_handles, 8, 8);
GOLDEN(drm_mtia_submit, in_syncobjs, 16, 8);
GOLDEN(drm_mtia_submit, cmd_count, 24, 4);
GOLDEN(drm_mtia_submit, bo_count, 28, 4);
GOLDEN(drm_mtia_submit, in_syncobj_count, 32, 4);
GOLDEN(drm_mtia_submit, out_syncobj, 36, 4);
GOLDEN(drm_mtia_submit, queue_id, 40, 4);
GOLDEN(drm_mtia_submit, flags, 44, 4);
GOLDEN(drm_mtia_submit, seqno, 48, 8);
GOLDEN(drm_mtia_submit, reserved, 56, 16);
static_assert(sizeof(drm_mtia_submit) == 72);

GOLDEN(drm_mtia_wait, queue_id, 0, 4);
GOLDEN(drm_mtia_wait, flags, 4, 4);
GOLDEN(drm_mtia_wait, seqno, 8, 8);
GOLDEN(drm_mtia_wait, timeout_ns, 16, 8);
GOLDEN(drm_mtia_wait, status, 24, 4);
GOLDEN(drm_mtia_wait, cqe_status, 28, 4);
GOLDEN(drm_mtia_wait, device_ns, 32, 8);
static_assert(sizeof(drm_mtia_wait) == 40);

GOLDEN(drm_mtia_bo_map, handle, 0, 4);
GOLDEN(drm_mtia_bo_map, flags, 4, 4);
GOLDEN(drm_mtia_bo_map, va, 8, 8);
GOLDEN(drm_mtia_bo_map, reserved, 16, 16);
static_assert(sizeof(drm_mtia_bo_map) == 32);

GOLDEN(drm_mtia_direct_create, priority, 0, 4);
GOLDEN(drm_mtia_direct_create, flags, 4, 4);
GOLDEN(drm_mtia_direct_create, sq_order, 8, 4);
GOLDEN(drm_mtia_direct_create, cq_order, 12, 4);
GOLDEN(drm_mtia_direct_create, queue_id, 16, 4);
GOLDEN(drm_mtia_direct_create, ctx, 20, 4);
GOLDEN(drm_mtia_direct_create, sq_offset, 24, 8);
GOLDEN(drm_mtia_direct_create, cq_offset, 32, 8);
GOLDEN(drm_mtia_direct_create, doorbell_offset, 40, 8);
GOLDEN(drm_mtia_direct_create, fence_va, 48, 8);
GOLDEN(drm_mtia_direct_create, reserved, 56, 8);
static_assert(sizeof(drm_mtia_direct_create) == 64);

GOLDEN(drm_mtia_direct_destroy, queue_id, 0, 4);
GOLDEN(drm_mtia_direct_destroy, flags, 4, 4);
GOLDEN(drm_mtia_direct_destroy, reserved, 8, 8);
static_assert(sizeof(drm_mtia_direct_destroy) == 16);

GOLDEN(drm_mtia_direct_wait, queue_id, 0, 4);
GOLDEN(drm_mtia_direct_wait, flags, 4, 4);
GOLDEN(drm_mtia_direct_wait, cq_index, 8, 4);
GOLDEN(drm_mtia_direct_wait, phase, 12, 4);
GOLDEN(drm_mtia_direct_wait, timeout_ns, 16, 8);
static_assert(sizeof(drm_mtia_direct_wait) == 24);

GOLDEN(drm_mtia_direct_signal, queue_id, 0, 4);
GOLDEN(drm_mtia_direct_signal, flags, 4, 4);
GOLDEN(drm_mtia_direct_signal, value, 8, 8);
GOLDEN(drm_mtia_direct_signal, syncobj, 16, 4);
GOLDEN(drm_mtia_direct_signal, pad, 20, 4);
GOLDEN(drm_mtia_direct_signal, reserved, 24, 16);
static_assert(sizeof(drm_mtia_direct_signal) == 40);

TEST(UapiLayout, IoctlNumbersAreStable)
{
    // DRM_IOWR('d', 0x40 + 0, 32 bytes): encodes direction, type, nr, size.
    EXPECT_EQ(DRM_IOCTL_MTIA_GET_INFO, 0xc0206440u);
    EXPECT_EQ(DRM_IOCTL_MTIA_BO_CREATE, 0xc0286441u);
    EXPECT_EQ(DRM_IOCTL_MTIA_BO_INFO, 0xc0386442u);
    EXPECT_EQ(DRM_IOCTL_MTIA_QUEUE_CREATE, 0xc0206443u);
    EXPECT_EQ(DRM_IOCTL_MTIA_QUEUE_DESTROY, 0x40106444u);
    EXPECT_EQ(DRM_IOCTL_MTIA_SUBMIT, 0xc0486445u);
    EXPECT_EQ(DRM_IOCTL_MTIA_WAIT, 0xc0286446u);
    EXPECT_EQ(DRM_IOCTL_MTIA_BO_MAP, 0xc0206447u);
    EXPECT_EQ(DRM_IOCTL_MTIA_DIRECT_CREATE, 0xc0406448u);
    EXPECT_EQ(DRM_IOCTL_MTIA_DIRECT_DESTROY, 0x40106449u);
    EXPECT_EQ(DRM_IOCTL_MTIA_DIRECT_WAIT, 0x4018644au);
    EXPECT_EQ(DRM_IOCTL_MTIA_DIRECT_SIGNAL, 0x4028644bu);
}

TEST(UapiLayout, StructSizes)
{
    EXPECT_EQ(sizeof(drm_mtia_info), 64u);
    EXPECT_EQ(sizeof(drm_mtia_get_info), 32u);
}
