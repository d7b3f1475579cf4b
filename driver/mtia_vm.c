// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: per-file device address spaces (docs/driver.md
 * "Address spaces").
 *
 * With the device MMU (mtia_mmu.c) every open file is a context: its
 * commands carry its ctx id and operand addresses are VAs in its page
 * tables, so the device itself refuses any address the file did not get
 * mapped. A BO is mapped into the file's space the first time one of the
 * file's SUBMITs uses it: a device BO as one contiguous run of DEVMEM
 * pages, a host BO page by page from its DMA-mapped sg table (pinned for
 * as long as it is mapped); both READ | WRITE, each followed by an
 * unmapped guard page. The mapping lasts until the handle is closed in
 * that file (drm_gem_object_funcs.close) or the file closes: then, after
 * the BO's jobs have finished, its entries are cleared and the context
 * invalidated before the pin is dropped. Jobs hold their own BO references
 * and pins, so memory is never reused under a running job. One more page,
 * made with the file's first direct queue, is the driver's: its direct
 * queues' fence words (mtia_vm_fence_words()), mapped until the file
 * closes.
 */

#include <linux/dma-resv.h>
#include <linux/lockdep.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>

#include "mtia_drv.h"
#include "mtia_file.h"
#include "mtia_vm.h"

/* VAs below this stay unmapped: a zero or small address always faults. */
#define MTIA_VM_START	SZ_1M

/**
 * struct mtia_vm_map - one BO mapped into a file's address space.
 * @node: in &mtia_vm.maps, hashed by @obj.
 * @obj: the BO, referenced while mapped (a SUBMIT racing with the close
 *	of its handle may map it after the close callback: then the mapping,
 *	and the BO, last until the file closes).
 * @va: its VA range (the BO's pages and a guard page).
 * @pages: pages mapped.
 * @pinned: a host BO pinned for the device while mapped.
 * @closed: its handle was closed while direct queues of the file could
 *	still use it: unmapped when the last of them goes.
 */
struct mtia_vm_map {
	struct hlist_node node;
	struct drm_gem_object *obj;
	struct drm_mm_node va;
	u64 pages;
	bool pinned;
	bool closed;
};

/**
 * mtia_vm_create() - an empty address space for context @ctx.
 * @mdev: the device, with an MMU.
 * @ctx: the file's context id, < MTIA_MMU_DRV_CTX.
 *
 * Return: the address space or an ERR_PTR.
 */
struct mtia_vm *mtia_vm_create(struct mtia_device *mdev, u32 ctx)
{
	struct mtia_vm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL);
	if (!vm)
		return ERR_PTR(-ENOMEM);
	vm->mdev = mdev;
	vm->ctx = ctx;
	mutex_init(&vm->lock);
	drm_mm_init(&vm->mm, MTIA_VM_START, MTIA_MMU_VA_LIMIT - MTIA_VM_START);
	hash_init(vm->maps);
	ret = mtia_pt_init(mdev, &vm->pt, ctx);
	if (ret) {
		drm_mm_takedown(&vm->mm);
		mutex_destroy(&vm->lock);
		kfree(vm);
		return ERR_PTR(ret);
	}
	return vm;
}

/* Clear the mapping's entries, invalidate, then unpin and forget it. */
static void mtia_vm_unmap_locked(struct mtia_vm *vm, struct mtia_vm_map *map)
{
	lockdep_assert_held(&vm->lock);

	mtia_pt_unmap(&vm->pt, map->va.start, map->pages);
	mtia_mmu_invalidate(vm->mdev, vm->ctx);
	if (map->pinned)
		mtia_bo_unpin_for_device(map->obj);
	drm_mm_remove_node(&map->va);
	hash_del(&map->node);
	drm_gem_object_put(map->obj);
	kfree(map);
}

/**
 * mtia_vm_destroy() - unmap whatever is left, take the context out of the
 * device and free the address space (the file is closing).
 * @vm: the address space.
 */
void mtia_vm_destroy(struct mtia_vm *vm)
{
	struct mtia_vm_map *map;
	struct hlist_node *tmp;
	unsigned int bkt;

	mutex_lock(&vm->lock);
	hash_for_each_safe(vm->maps, bkt, tmp, map, node)
		mtia_vm_unmap_locked(vm, map);
	mutex_unlock(&vm->lock);
	if (vm->fence_obj) {
		drm_gem_vunmap_unlocked(vm->fence_obj, &vm->fence_map);
		drm_gem_object_put(vm->fence_obj);
	}
	mtia_pt_fini(vm->mdev, &vm->pt, vm->ctx);
	drm_mm_takedown(&vm->mm);
	mutex_destroy(&vm->lock);
	kfree(vm);
}

static struct mtia_vm_map *mtia_vm_find_locked(struct mtia_vm *vm,
					       struct drm_gem_object *obj)
{
	struct mtia_vm_map *map;

	lockdep_assert_held(&vm->lock);

	hash_for_each_possible(vm->maps, map, node, (unsigned long)obj)
		if (map->obj == obj)
			return map;
	return NULL;
}

/* A host BO's pages, from its sg table (pinned while mapped). */
static int mtia_vm_fill_host_locked(struct mtia_vm *vm,
				    struct mtia_vm_map *map)
{
	u64 va = map->va.start, end = va + (map->pages << PAGE_SHIFT);
	struct scatterlist *sg;
	struct sg_table *sgt;
	dma_addr_t dma;
	unsigned int k;
	u64 off;
	int ret;

	sgt = mtia_bo_pin_for_device(map->obj);
	if (IS_ERR(sgt))
		return PTR_ERR(sgt);
	map->pinned = true;
	for_each_sgtable_dma_sg(sgt, sg, k) {
		dma = sg_dma_address(sg);
		if (!PAGE_ALIGNED(dma) || !PAGE_ALIGNED(sg_dma_len(sg)))
			return -EINVAL;
		for (off = 0; off < sg_dma_len(sg) && va < end;
		     off += PAGE_SIZE, va += PAGE_SIZE) {
			ret = mtia_pt_map_page(vm->mdev, &vm->pt, va, dma + off,
					       MTIA_PTE_READ | MTIA_PTE_WRITE);
			if (ret)
				return ret;
		}
	}
	return va == end ? 0 : -EINVAL;
}

/* A device BO: one contiguous run of device memory. */
static int mtia_vm_fill_dev_locked(struct mtia_vm *vm, struct mtia_vm_map *map,
				   u64 devoff)
{
	u64 i;
	int ret;

	for (i = 0; i < map->pages; i++) {
		ret = mtia_pt_map_page(vm->mdev, &vm->pt,
				       map->va.start + (i << PAGE_SHIFT),
				       devoff + (i << PAGE_SHIFT),
				       MTIA_PTE_READ | MTIA_PTE_WRITE |
				       MTIA_PTE_DEVMEM);
		if (ret)
			return ret;
	}
	return 0;
}

static int mtia_vm_map_new_locked(struct mtia_vm *vm,
				  struct drm_gem_object *obj,
				  struct mtia_vm_map **out)
{
	u64 devoff = mtia_bo_devmem_offset(obj);
	struct mtia_vm_map *map;
	int ret;

	if (!PAGE_ALIGNED(obj->size))
		return -EINVAL;
	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	map->obj = obj;
	map->pages = obj->size >> PAGE_SHIFT;
	ret = drm_mm_insert_node_in_range(&vm->mm, &map->va,
					  obj->size + PAGE_SIZE, PAGE_SIZE, 0,
					  MTIA_VM_START, MTIA_MMU_VA_LIMIT,
					  DRM_MM_INSERT_BEST);
	if (ret) {
		kfree(map);
		return ret == -ENOSPC ? -ENOMEM : ret;
	}
	hash_add(vm->maps, &map->node, (unsigned long)obj);
	drm_gem_object_get(obj);
	if (devoff != U64_MAX)
		ret = mtia_vm_fill_dev_locked(vm, map, devoff);
	else
		ret = mtia_vm_fill_host_locked(vm, map);
	if (ret) {
		mtia_vm_unmap_locked(vm, map);
		return ret;
	}
	*out = map;
	return 0;
}

/**
 * mtia_vm_map_bo() - the VA of @obj in the file's address space, mapping
 * it if this is its first use there.
 * @vm: the file's address space.
 * @obj: a BO the file has a handle to (referenced by the caller).
 * @va: its VA.
 *
 * Return: 0, -ENOMEM, or an error pinning a host BO.
 */
int mtia_vm_map_bo(struct mtia_vm *vm, struct drm_gem_object *obj, u64 *va)
{
	struct mtia_vm_map *map;
	int ret = 0;

	mutex_lock(&vm->lock);
	map = mtia_vm_find_locked(vm, obj);
	if (!map)
		ret = mtia_vm_map_new_locked(vm, obj, &map);
	if (!ret)
		*va = map->va.start;
	mutex_unlock(&vm->lock);
	return ret;
}

/**
 * mtia_vm_direct_get() - a direct queue of the file starts: from now on
 * closed handles keep their mappings (mtia_vm_bo_close()).
 * @vm: the file's address space.
 */
void mtia_vm_direct_get(struct mtia_vm *vm)
{
	mutex_lock(&vm->lock);
	vm->direct_queues++;
	mutex_unlock(&vm->lock);
}

/**
 * mtia_vm_direct_put() - a direct queue of the file is disabled; when it was
 * the last, the mappings whose handles were closed meanwhile go (no direct
 * queue can reach them, and the kernel's jobs keep their own pins).
 * @vm: the file's address space.
 */
void mtia_vm_direct_put(struct mtia_vm *vm)
{
	struct mtia_vm_map *map;
	struct hlist_node *tmp;
	unsigned int bkt;

	mutex_lock(&vm->lock);
	if (!--vm->direct_queues)
		hash_for_each_safe(vm->maps, bkt, tmp, map, node)
			if (map->closed)
				mtia_vm_unmap_locked(vm, map);
	mutex_unlock(&vm->lock);
}

/* A zeroed page for the fence words: in the address space and the kernel's. */
static int mtia_vm_fence_new_locked(struct mtia_vm *vm)
{
	struct drm_gem_shmem_object *shmem;
	struct mtia_vm_map *map;
	struct iosys_map m;
	int ret;

	lockdep_assert_held(&vm->lock);
	shmem = drm_gem_shmem_create(&vm->mdev->drm, PAGE_SIZE);
	if (IS_ERR(shmem))
		return PTR_ERR(shmem);
	ret = drm_gem_vmap_unlocked(&shmem->base, &m);
	if (!ret) {
		ret = mtia_vm_map_new_locked(vm, &shmem->base, &map);
		if (ret)
			drm_gem_vunmap_unlocked(&shmem->base, &m);
	}
	if (ret) {
		drm_gem_object_put(&shmem->base);
		return ret;
	}
	vm->fence_obj = &shmem->base;
	vm->fence_map = m;
	vm->fence_va = map->va.start;
	return 0;
}

/**
 * mtia_vm_fence_words() - the page of the file's direct-queue fence words
 * (u64s the device writes and the driver reads), made on first use.
 * @vm: the file's address space.
 * @words: the page in the kernel.
 * @va: its VA in the address space.
 *
 * Return: 0, -ENOMEM, or an error pinning it.
 */
int mtia_vm_fence_words(struct mtia_vm *vm, u64 **words, u64 *va)
{
	int ret = 0;

	mutex_lock(&vm->lock);
	if (!vm->fence_obj)
		ret = mtia_vm_fence_new_locked(vm);
	if (!ret) {
		*words = vm->fence_map.vaddr;
		*va = vm->fence_va;
	}
	mutex_unlock(&vm->lock);
	return ret;
}

/**
 * mtia_vm_bo_close() - drm_gem_object_funcs.close: a handle to @obj was
 * closed in @file; its mapping there goes once the BO's jobs are done.
 * @obj: the BO.
 * @file: the file.
 */
void mtia_vm_bo_close(struct drm_gem_object *obj, struct drm_file *file)
{
	struct mtia_file_priv *fpriv = file->driver_priv;
	struct mtia_vm *vm = fpriv ? fpriv->vm : NULL;
	struct mtia_vm_map *map;
	bool mapped;

	if (!vm)
		return;
	mutex_lock(&vm->lock);
	map = mtia_vm_find_locked(vm, obj);
	mapped = map;
	/*
	 * A direct queue's commands are not the kernel's to wait for: the
	 * mapping stays until the file has no direct queue left.
	 */
	if (map && vm->direct_queues) {
		map->closed = true;
		mapped = false;
	}
	mutex_unlock(&vm->lock);
	if (!mapped)
		return;
	/* Running jobs keep their translations (they fail otherwise). */
	dma_resv_wait_timeout(obj->resv, DMA_RESV_USAGE_BOOKKEEP, false,
			      MAX_SCHEDULE_TIMEOUT);
	mutex_lock(&vm->lock);
	map = mtia_vm_find_locked(vm, obj);
	if (map)
		mtia_vm_unmap_locked(vm, map);
	mutex_unlock(&vm->lock);
}
