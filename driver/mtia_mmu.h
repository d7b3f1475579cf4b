/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: the device MMU (mtia_mmu.c): the context table,
 * page tables and the MMU registers. The per-file address space built on
 * them is mtia_vm.c.
 */
#ifndef __MTIA_MMU_H__
#define __MTIA_MMU_H__

#include <linux/types.h>

struct mtia_device;

/* Contexts the driver gives the device MMU: one page-aligned table of them. */
#define MTIA_MMU_DRV_CTX	1024

/**
 * struct mtia_pt_table - one 4 KiB table of 512 entries, device-readable.
 * @cpu: its entries (DMA-coherent; the device reads them by DMA).
 * @dma: its bus address.
 * @child: the next level's tables by index (NULL for a leaf table).
 */
struct mtia_pt_table {
	u64 *cpu;
	dma_addr_t dma;
	struct mtia_pt_table **child;
};

/**
 * struct mtia_pt - the page tables of one context.
 * @root: the root table (VA [38:30]).
 */
struct mtia_pt {
	struct mtia_pt_table *root;
};

/**
 * struct mtia_mmu - the device MMU's driver state.
 * @present: the device has one (MTIA_CAP_MMU): contexts use it.
 * @ctx_table: the context table: root table entries by ctx id.
 * @ctx_dma: its bus address.
 */
struct mtia_mmu {
	bool present;
	u64 *ctx_table;
	dma_addr_t ctx_dma;
};

/**
 * struct mtia_mmu_fault - the device MMU's fault registers.
 * @count: MMU_FAULT_COUNT, faults since reset.
 * @ctx: context of the last fault.
 * @addr: its device virtual address.
 * @reason: MMU_FAULT_INFO's reason field.
 * @write: the access was a write.
 */
struct mtia_mmu_fault {
	u32 count;
	u32 ctx;
	u64 addr;
	u32 reason;
	bool write;
};

int mtia_mmu_init(struct mtia_device *mdev);
void mtia_mmu_fault_read(struct mtia_device *mdev, struct mtia_mmu_fault *f);
void mtia_mmu_hw_enable(struct mtia_device *mdev);
void mtia_mmu_invalidate(struct mtia_device *mdev, u32 ctx);

int mtia_pt_init(struct mtia_device *mdev, struct mtia_pt *pt, u32 ctx);
void mtia_pt_fini(struct mtia_device *mdev, struct mtia_pt *pt, u32 ctx);
int mtia_pt_map_page(struct mtia_device *mdev, struct mtia_pt *pt, u64 va,
		     u64 addr, u64 flags);
void mtia_pt_unmap(struct mtia_pt *pt, u64 va, u64 pages);

#endif /* __MTIA_MMU_H__ */
