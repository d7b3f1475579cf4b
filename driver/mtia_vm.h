/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: a file's device address space (mtia_vm.c).
 */
#ifndef __MTIA_VM_H__
#define __MTIA_VM_H__

#include <linux/hashtable.h>
#include <linux/iosys-map.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include <drm/drm_mm.h>

#include "mtia_mmu.h"

struct drm_file;
struct drm_gem_object;
struct mtia_device;

/**
 * struct mtia_vm - the device address space of one open file (context).
 * @mdev: the device.
 * @ctx: the file's context id (&mtia_file_priv.ctx), its ASID.
 * @lock: protects @mm, @maps, @pt, @direct_queues and the creation of
 *	@fence_obj; taken before BO reservations (host BOs are pinned under
 *	it).
 * @mm: VA allocator over [MTIA_VM_START, MTIA_MMU_VA_LIMIT).
 * @pt: the context's page tables.
 * @maps: struct mtia_vm_map by BO.
 * @direct_queues: the file's direct queues that are enabled (mtia_direct.c).
 * @fence_obj: the page of its direct queues' fence words, a host BO of the
 *	driver's (no handle), NULL until the first DIRECT_CREATE; mapped at
 *	@fence_va until the file closes, and in the kernel at @fence_map.
 * @fence_map: see @fence_obj.
 * @fence_va: see @fence_obj.
 */
struct mtia_vm {
	struct mtia_device *mdev;
	u32 ctx;
	struct mutex lock; /* see @lock above */
	struct drm_mm mm;
	struct mtia_pt pt;
	DECLARE_HASHTABLE(maps, 7);
	unsigned int direct_queues;
	struct drm_gem_object *fence_obj;
	struct iosys_map fence_map;
	u64 fence_va;
};

struct mtia_vm *mtia_vm_create(struct mtia_device *mdev, u32 ctx);
void mtia_vm_destroy(struct mtia_vm *vm);
int mtia_vm_map_bo(struct mtia_vm *vm, struct drm_gem_object *obj, u64 *va);
void mtia_vm_bo_close(struct drm_gem_object *obj, struct drm_file *file);
void mtia_vm_direct_get(struct mtia_vm *vm);
void mtia_vm_direct_put(struct mtia_vm *vm);
int mtia_vm_fence_words(struct mtia_vm *vm, u64 **words, u64 *va);

#endif /* __MTIA_VM_H__ */
