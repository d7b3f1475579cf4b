// SPDX-License-Identifier: MIT
// Golden layout of the UAPI: any change to a size or an offset here is an
// ABI break. Checked at compile time (static_assert) and reported at run time.
#include <gtest/gtest.h>

#include <cstddef>

#include "uapi/drm/mtia_accel.h"

#define GOLDEN(type, field, off, sz)                                  \
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

TEST(UapiLayout, IoctlNumbersAreStable)
{
    // DRM_IOWR('d', 0x40 + 0, 32 bytes): encodes direction, type, nr, size.
    EXPECT_EQ(DRM_IOCTL_MTIA_GET_INFO, 0xc0206440u);
    EXPECT_EQ(DRM_IOCTL_MTIA_BO_CREATE, 0xc0286441u);
    EXPECT_EQ(DRM_IOCTL_MTIA_BO_INFO, 0xc0386442u);
}

TEST(UapiLayout, StructSizes)
{
    EXPECT_EQ(sizeof(drm_mtia_info), 64u);
    EXPECT_EQ(sizeof(drm_mtia_get_info), 32u);
}
