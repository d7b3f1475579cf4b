// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: device memory (BAR2) allocator.
 *
 * A binary buddy allocator (the kernel's GPU buddy allocator, gpu_buddy_*,
 * which drm_buddy is built on; in Debian's 6.12 kernel it lives in vmlinux)
 * manages all of device memory in page-sized chunks. The first
 * MTIA_DEVMEM_FW_RESERVED bytes belong to the firmware (staging area, log
 * ring): they are taken out of the allocator at init with a range
 * allocation, so every block handed out is above them and device memory
 * offsets equal allocator offsets. Buffer objects get one physically
 * contiguous range (GPU_BUDDY_CONTIGUOUS_ALLOCATION: the request is rounded
 * up to a power of two for the search, then trimmed back to its page-rounded
 * size, so at most one page of slack is lost per BO, none for page multiples).
 *
 * The allocator and its counters live as long as the DRM device (released by
 * a drm-managed action after the last file, mapping and BO are gone), so BOs
 * may be freed after the PCI function was unbound. Everything that touches
 * the BAR (clearing new BOs) runs inside drm_dev_enter().
 */

#include <linux/gpu_buddy.h>
#include <linux/io.h>
#include <linux/list.h>
#include <linux/minmax.h>
#include <linux/sched.h>
#include <linux/sizes.h>

#include <drm/drm_drv.h>
#include <drm/drm_managed.h>

#include "mtia_hw.h"

#define MTIA_DEVMEM_CLEAR_CHUNK	SZ_1M	/* cond_resched() between chunks */

static void mtia_devmem_fini(struct drm_device *drm, void *arg)
{
	struct mtia_device *mdev = arg;

	mutex_lock(&mdev->devmem_lock);
	gpu_buddy_free_list(&mdev->devmem_mm, &mdev->devmem_reserved, 0);
	if (mdev->devmem_used)
		drm_err(drm, "%llu bytes of device memory still allocated at release\n",
			mdev->devmem_used);
	gpu_buddy_fini(&mdev->devmem_mm);
	mutex_unlock(&mdev->devmem_lock);
}

/**
 * mtia_devmem_init() - set up the device memory allocator.
 * @mdev: the device, identified, BAR2 requested (mtia_fw_init()).
 *
 * Uses min(DEVMEM_SIZE, BAR2 length) bytes, rounded down to the page size.
 * Reserves the BAR as write-combined (PAT memtype, MTRR where PAT is off) so
 * user mappings of device BOs are write-combined, maps it for the driver's
 * own accesses and reserves the firmware window. A device with no memory
 * above the firmware window gets an empty allocator (every device BO fails).
 *
 * Return: 0 or a negative errno.
 */
int mtia_devmem_init(struct mtia_device *mdev)
{
	struct pci_dev *pdev = mdev->pdev;
	struct device *dev = &pdev->dev;
	u64 size;
	int ret;

	INIT_LIST_HEAD(&mdev->devmem_reserved);
	ret = drmm_mutex_init(&mdev->drm, &mdev->devmem_lock);
	if (ret)
		return ret;

	size = min_t(u64, mdev->info.devmem_bytes,
		     pci_resource_len(pdev, MTIA_BAR_DEVMEM));
	size = round_down(size, PAGE_SIZE);
	mdev->devmem_phys = pci_resource_start(pdev, MTIA_BAR_DEVMEM);
	mdev->devmem_size = size;
	mdev->devmem_total = 0;
	mdev->devmem_used = 0;
	if (size < MTIA_DEVMEM_FW_RESERVED + PAGE_SIZE) {
		dev_info(dev, "no device memory above the firmware window: device buffer objects unavailable\n");
		return 0;
	}

	ret = devm_arch_io_reserve_memtype_wc(dev, mdev->devmem_phys, size);
	if (ret)
		return dev_err_probe(dev, ret,
				     "cannot reserve BAR%d as write-combined\n",
				     MTIA_BAR_DEVMEM);
	/* Only matters without PAT; a failure just means uncached mappings. */
	if (devm_arch_phys_wc_add(dev, mdev->devmem_phys, size) < 0)
		dev_dbg(dev, "no MTRR for BAR%d\n", MTIA_BAR_DEVMEM);

	mdev->devmem = devm_ioremap_wc(dev, mdev->devmem_phys, size);
	if (!mdev->devmem)
		return dev_err_probe(dev, -ENOMEM, "cannot map BAR%d\n",
				     MTIA_BAR_DEVMEM);

	ret = gpu_buddy_init(&mdev->devmem_mm, size, PAGE_SIZE);
	if (ret)
		return dev_err_probe(dev, ret,
				     "cannot set up the device memory allocator\n");
	ret = drmm_add_action_or_reset(&mdev->drm, mtia_devmem_fini, mdev);
	if (ret)
		return ret;

	mutex_lock(&mdev->devmem_lock);
	ret = gpu_buddy_alloc_blocks(&mdev->devmem_mm, 0,
				     MTIA_DEVMEM_FW_RESERVED,
				     MTIA_DEVMEM_FW_RESERVED, PAGE_SIZE,
				     &mdev->devmem_reserved,
				     GPU_BUDDY_RANGE_ALLOCATION);
	mutex_unlock(&mdev->devmem_lock);
	if (ret)
		return dev_err_probe(dev, ret,
				     "cannot reserve the firmware window of device memory\n");

	mdev->devmem_total = size - MTIA_DEVMEM_FW_RESERVED;
	return 0;
}

/**
 * mtia_devmem_alloc() - allocate a contiguous range of device memory.
 * @mdev: the device.
 * @size: bytes, a multiple of PAGE_SIZE, > 0.
 * @blocks: out: the allocator blocks making up the range (one list per BO).
 * @offset: out: device memory offset of the range.
 *
 * Return: 0, -ENOSPC if no free range is large enough, -ENOMEM.
 */
int mtia_devmem_alloc(struct mtia_device *mdev, u64 size,
		      struct list_head *blocks, u64 *offset)
{
	struct gpu_buddy *mm = &mdev->devmem_mm;
	struct gpu_buddy_block *block;
	u64 start = U64_MAX, end = 0, sum = 0;
	int ret;

	if (!size || !IS_ALIGNED(size, PAGE_SIZE))
		return -EINVAL;

	mutex_lock(&mdev->devmem_lock);
	if (size > mdev->devmem_total - mdev->devmem_used) {
		ret = -ENOSPC;
		goto out;
	}
	ret = gpu_buddy_alloc_blocks(mm, 0, mm->size, size, PAGE_SIZE, blocks,
				     GPU_BUDDY_CONTIGUOUS_ALLOCATION);
	if (ret) {
		/* Requests we validated only fail for lack of space. */
		if (ret != -ENOMEM)
			ret = -ENOSPC;
		goto out;
	}

	list_for_each_entry(block, blocks, link) {
		u64 b = gpu_buddy_block_offset(block);
		u64 n = gpu_buddy_block_size(mm, block);

		start = min(start, b);
		end = max(end, b + n);
		sum += n;
	}
	if (sum != size || end - start != size ||
	    start < MTIA_DEVMEM_FW_RESERVED || end > mdev->devmem_size) {
		drm_err(&mdev->drm, "device memory allocator returned [%#llx, %#llx) (%llu bytes) for a %llu-byte request\n",
			start, end, sum, size);
		gpu_buddy_free_list(mm, blocks, 0);
		ret = -ENOSPC;
		goto out;
	}
	mdev->devmem_used += size;
	*offset = start;
out:
	mutex_unlock(&mdev->devmem_lock);
	return ret;
}

/**
 * mtia_devmem_free() - return a range from mtia_devmem_alloc().
 * @mdev: the device.
 * @blocks: the range's blocks (may be empty: nothing to do).
 * @size: the size that was allocated.
 */
void mtia_devmem_free(struct mtia_device *mdev, struct list_head *blocks,
		      u64 size)
{
	if (list_empty(blocks))
		return;
	mutex_lock(&mdev->devmem_lock);
	gpu_buddy_free_list(&mdev->devmem_mm, blocks, 0);
	mdev->devmem_used -= size;
	mutex_unlock(&mdev->devmem_lock);
}

/**
 * mtia_devmem_used() - bytes of device memory allocated to BOs.
 * @mdev: the device.
 *
 * Return: the count (a snapshot).
 */
u64 mtia_devmem_used(struct mtia_device *mdev)
{
	u64 used;

	mutex_lock(&mdev->devmem_lock);
	used = mdev->devmem_used;
	mutex_unlock(&mdev->devmem_lock);
	return used;
}

/**
 * mtia_devmem_clear() - zero a range of device memory.
 * @mdev: the device; the caller is inside drm_dev_enter().
 * @offset: device memory offset, inside the mapped BAR.
 * @size: bytes.
 *
 * The device zeroes whole pages itself (MTIA_REG_DEVMEM_ZERO, 1 MiB per
 * write): it tracks every write to its memory, so a store through the BAR
 * costs a trap each (docs/device-spec.md). Edges that are not whole pages,
 * and devices without the register, are zeroed through the BAR.
 */
void mtia_devmem_clear(struct mtia_device *mdev, u64 offset, u64 size)
{
	const u64 page = MTIA_DEVMEM_ZERO_PAGE_SIZE;
	bool awake = !mtia_pm_get(mdev);

	if (awake && mdev->info.if_minor >= 1 && IS_ALIGNED(offset, page)) {
		while (size >= page) {
			u64 n = min_t(u64, size / page, MTIA_DEVMEM_ZERO_MAX_PAGES);

			mtia_wr32(mdev, MTIA_REG_DEVMEM_ZERO,
				  MTIA_FIELD_PREP(MTIA_DEVMEM_ZERO_PAGE_MASK, offset / page) |
				  MTIA_FIELD_PREP(MTIA_DEVMEM_ZERO_COUNT_MASK, n - 1));
			offset += n * page;
			size -= n * page;
			cond_resched();
		}
		/* Posted writes: a read makes sure the device has done them. */
		mtia_rd32(mdev, MTIA_REG_STATUS);
	}
	while (size) {
		u64 n = min_t(u64, size, MTIA_DEVMEM_CLEAR_CHUNK);

		memset_io(mdev->devmem + offset, 0, n);
		offset += n;
		size -= n;
		cond_resched();
	}
	/* Flush the write-combining buffers before anyone maps the range. */
	wmb();
	if (awake)
		mtia_pm_put(mdev);
}
