// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: the device MMU (docs/device-spec.md "Device
 * MMU", docs/driver.md "Address spaces").
 *
 * The context table and every page table live in DMA-coherent host memory
 * that the device reads by DMA, as it reads the rings: the driver writes
 * entries with plain stores and a job's doorbell write orders them before
 * the device's first walk. Three levels of 512 entries, 4 KiB pages; a
 * context's tables are made on demand as pages are mapped and freed only
 * with the context (mtia_pt_fini()). After clearing a valid entry the
 * caller writes MMU_INVALIDATE (mtia_mmu_invalidate()) before the memory
 * behind it may be reused; new entries need none (the device caches no
 * faults).
 *
 * The registers are programmed at probe and after every device reset
 * (mtia_mmu_hw_enable() from mtia_hwq_program_all()); the tables survive
 * resets in host memory.
 */

#include <linux/dma-mapping.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>

#include <drm/drm_drv.h>

#include "mtia_hw.h"
#include "mtia_mmu.h"

static_assert(PAGE_SIZE == MTIA_MMU_PAGE_SIZE);

/**
 * mtia_mmu_init() - find the device MMU and allocate its context table.
 * @mdev: the device, identified.
 *
 * Return: 0 (also without an MMU: contexts then use the legacy operand
 * forms), or -ENOMEM.
 */
int mtia_mmu_init(struct mtia_device *mdev)
{
	struct mtia_mmu *mmu = &mdev->mmu;

	if (mdev->info.if_minor < 2 ||
	    !(mtia_rd32(mdev, MTIA_REG_CAPS) & MTIA_CAP_MMU))
		return 0;
	mmu->ctx_table = dmam_alloc_coherent(&mdev->pdev->dev,
					     MTIA_MMU_DRV_CTX * sizeof(u64),
					     &mmu->ctx_dma, GFP_KERNEL);
	if (!mmu->ctx_table)
		return -ENOMEM;
	mmu->present = true;
	return 0;
}

/**
 * mtia_mmu_hw_enable() - point the device at the context table and turn
 * the MMU on (the registers reset to 0 with the device).
 * @mdev: the device, its queues disabled.
 */
void mtia_mmu_hw_enable(struct mtia_device *mdev)
{
	struct mtia_mmu *mmu = &mdev->mmu;

	if (!mmu->present)
		return;
	mtia_wr32(mdev, MTIA_REG_MMU_CTRL, 0);
	mtia_wr32(mdev, MTIA_REG_MMU_CTX_TABLE_LO, lower_32_bits(mmu->ctx_dma));
	mtia_wr32(mdev, MTIA_REG_MMU_CTX_TABLE_HI, upper_32_bits(mmu->ctx_dma));
	mtia_wr32(mdev, MTIA_REG_MMU_CTX_COUNT, MTIA_MMU_DRV_CTX);
	mtia_wr32(mdev, MTIA_REG_MMU_CTRL, MTIA_MMU_CTRL_ENABLE);
}

/**
 * mtia_mmu_invalidate() - drop the device's cached translations of @ctx.
 * @mdev: the device.
 * @ctx: the context.
 *
 * Synchronous: the read back makes sure the posted write has reached the
 * device, which is done with it when it completes. After unplug there is
 * no device to invalidate (it was reset), nor while it is suspended.
 */
void mtia_mmu_invalidate(struct mtia_device *mdev, u32 ctx)
{
	int idx;

	if (!drm_dev_enter(&mdev->drm, &idx))
		return;
	/*
	 * A device that is not active has no TLB to invalidate: D3hot reset
	 * it, and a resume starts with a reset (mtia_pm.c).
	 */
	if (pm_runtime_get_if_active(&mdev->pdev->dev) > 0) {
		mtia_wr32(mdev, MTIA_REG_MMU_INVALIDATE, ctx);
		mtia_rd32(mdev, MTIA_REG_MMU_CTRL);
		pm_runtime_put_autosuspend(&mdev->pdev->dev);
	}
	drm_dev_exit(idx);
}

/**
 * mtia_mmu_fault_read() - the last translation fault (debugfs, devcoredump).
 * @mdev: the device, with an MMU, active.
 * @f: filled in.
 */
void mtia_mmu_fault_read(struct mtia_device *mdev, struct mtia_mmu_fault *f)
{
	u32 info = mtia_rd32(mdev, MTIA_REG_MMU_FAULT_INFO);

	f->count = mtia_rd32(mdev, MTIA_REG_MMU_FAULT_COUNT);
	f->ctx = mtia_rd32(mdev, MTIA_REG_MMU_FAULT_CTX);
	f->addr = mtia_rd64(mdev, MTIA_REG_MMU_FAULT_ADDR_LO,
			    MTIA_REG_MMU_FAULT_ADDR_HI);
	f->reason = mtia_mmu_fault_reason(info);
	f->write = info & MTIA_MMU_FAULT_WRITE;
}

static void mtia_pt_table_free(struct device *dev, struct mtia_pt_table *t,
			       unsigned int level)
{
	unsigned int i;

	if (!t)
		return;
	if (t->child) {
		for (i = 0; i < MTIA_MMU_TABLE_ENTRIES; i++)
			mtia_pt_table_free(dev, t->child[i], level - 1);
		kfree(t->child);
	}
	dma_free_coherent(dev, MTIA_MMU_PAGE_SIZE, t->cpu, t->dma);
	kfree(t);
}

/* A zeroed table of @level (0: leaf table, no children). */
static struct mtia_pt_table *mtia_pt_table_alloc(struct device *dev,
						 unsigned int level)
{
	struct mtia_pt_table *t = kzalloc(sizeof(*t), GFP_KERNEL);

	if (!t)
		return NULL;
	t->cpu = dma_alloc_coherent(dev, MTIA_MMU_PAGE_SIZE, &t->dma,
				    GFP_KERNEL);
	if (level)
		t->child = kcalloc(MTIA_MMU_TABLE_ENTRIES, sizeof(*t->child),
				   GFP_KERNEL);
	if (!t->cpu || (level && !t->child)) {
		if (t->cpu)
			dma_free_coherent(dev, MTIA_MMU_PAGE_SIZE, t->cpu,
					  t->dma);
		kfree(t->child);
		kfree(t);
		return NULL;
	}
	return t;
}

/**
 * mtia_pt_init() - an empty address space for context @ctx, entered in the
 * context table.
 * @mdev: the device (with an MMU).
 * @pt: the page tables to set up.
 * @ctx: the context, < MTIA_MMU_DRV_CTX, unused until now.
 *
 * Return: 0 or -ENOMEM.
 */
int mtia_pt_init(struct mtia_device *mdev, struct mtia_pt *pt, u32 ctx)
{
	int idx;

	pt->root = mtia_pt_table_alloc(&mdev->pdev->dev, MTIA_MMU_LEVELS - 1);
	if (!pt->root)
		return -ENOMEM;
	if (drm_dev_enter(&mdev->drm, &idx)) {
		WRITE_ONCE(mdev->mmu.ctx_table[ctx],
			   mtia_pte(pt->root->dma, MTIA_PTE_VALID));
		drm_dev_exit(idx);
	}
	return 0;
}

/**
 * mtia_pt_fini() - take context @ctx out of the context table, drop the
 * device's translations of it and free its tables.
 * @mdev: the device.
 * @pt: the context's page tables.
 * @ctx: the context.
 */
void mtia_pt_fini(struct mtia_device *mdev, struct mtia_pt *pt, u32 ctx)
{
	int idx;

	if (drm_dev_enter(&mdev->drm, &idx)) {
		WRITE_ONCE(mdev->mmu.ctx_table[ctx], 0);
		drm_dev_exit(idx);
	}
	mtia_mmu_invalidate(mdev, ctx);
	mtia_pt_table_free(&mdev->pdev->dev, pt->root, MTIA_MMU_LEVELS - 1);
	pt->root = NULL;
}

/**
 * mtia_pt_map_page() - map the page at @va to @addr.
 * @mdev: the device.
 * @pt: the context's page tables (the caller serialises changes).
 * @va: page-aligned device VA below MTIA_MMU_VA_LIMIT, unmapped.
 * @addr: page-aligned host DMA address, or device memory offset with
 *	MTIA_PTE_DEVMEM in @flags.
 * @flags: MTIA_PTE_READ, _WRITE, _DEVMEM.
 *
 * Return: 0 or -ENOMEM (a table could not be allocated).
 */
int mtia_pt_map_page(struct mtia_device *mdev, struct mtia_pt *pt, u64 va,
		     u64 addr, u64 flags)
{
	struct mtia_pt_table *t = pt->root;
	unsigned int level, i;

	for (level = MTIA_MMU_LEVELS - 1; level > 0; level--) {
		i = mtia_mmu_va_index(va, level);
		if (!t->child[i]) {
			t->child[i] = mtia_pt_table_alloc(&mdev->pdev->dev,
							  level - 1);
			if (!t->child[i])
				return -ENOMEM;
			WRITE_ONCE(t->cpu[i], mtia_pte(t->child[i]->dma,
						       MTIA_PTE_VALID));
		}
		t = t->child[i];
	}
	WRITE_ONCE(t->cpu[mtia_mmu_va_index(va, 0)],
		   mtia_pte(addr, flags | MTIA_PTE_VALID));
	return 0;
}

/**
 * mtia_pt_unmap() - clear the leaf entries of @pages pages from @va (the
 * caller then invalidates the context).
 * @pt: the context's page tables.
 * @va: page-aligned device VA.
 * @pages: how many.
 */
void mtia_pt_unmap(struct mtia_pt *pt, u64 va, u64 pages)
{
	struct mtia_pt_table *t;
	unsigned int level;

	for (; pages; pages--, va += MTIA_MMU_PAGE_SIZE) {
		t = pt->root;
		for (level = MTIA_MMU_LEVELS - 1; t && level > 0; level--)
			t = t->child[mtia_mmu_va_index(va, level)];
		if (t)
			WRITE_ONCE(t->cpu[mtia_mmu_va_index(va, 0)], 0);
	}
}
