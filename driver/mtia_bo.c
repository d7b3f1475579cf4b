// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: GEM buffer objects.
 *
 * Host BOs (MTIA_BO_HOST) are GEM shmem objects: pages are allocated on first
 * use, mmap is write-back cached (the shmem helpers' default), and they are
 * pinned and DMA-mapped only when the device is to use them
 * (mtia_bo_pin_for_device()).
 *
 * Device BOs (MTIA_BO_DEVICE) are plain GEM objects owning one contiguous
 * range of device memory from mtia_devmem.c, zeroed at creation (device
 * memory is not cleared anywhere else, and may hold a previous user's data).
 * mmap gives a write-combined VM_IO | VM_PFNMAP mapping of the range in BAR2,
 * filled by a fault handler: a mapping can never reach outside its BO (the
 * page offset is checked at mmap and at every fault), copy-on-write
 * (MAP_PRIVATE) mappings are refused, and after the device is unplugged
 * mtia_bo_unmap_all() zaps every mapping of the device, so later accesses
 * get SIGBUS instead of reaching a BAR address that may be reassigned.
 * Device BOs cannot be exported as dma-bufs.
 *
 * Per-file memory stats for fdinfo: host BOs under the "system" region,
 * device BOs under "device" (drm-total-*, drm-shared-*, drm-resident-*),
 * after the device time of the file's jobs (drm-engine-dma, -compute).
 */

#include <linux/dma-buf.h>
#include <linux/err.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/sizes.h>
#include <linux/spinlock.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_gem.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_print.h>
#include <drm/drm_vma_manager.h>

#include "mtia_file.h"
#include "mtia_hw.h"
#include "mtia_vm.h"

/* Host BOs: at most this, and at most half of RAM. */
#define MTIA_HOST_BO_MAX	SZ_4G
/* Pages a device-BO fault maps at once (as TTM does). */
#define MTIA_FAULT_AROUND	16

/**
 * struct mtia_dev_bo - a buffer object in device memory.
 * @base: the GEM object; obj->funcs == &mtia_dev_bo_funcs.
 * @blocks: allocator blocks of the range (empty until allocated).
 * @offset: device memory offset of the range.
 */
struct mtia_dev_bo {
	struct drm_gem_object base;
	struct list_head blocks;
	u64 offset;
};

static const struct drm_gem_object_funcs mtia_host_bo_funcs;
static const struct drm_gem_object_funcs mtia_dev_bo_funcs;

static inline struct mtia_dev_bo *to_mtia_dev_bo(struct drm_gem_object *obj)
{
	return container_of(obj, struct mtia_dev_bo, base);
}

static bool mtia_bo_is_device(struct drm_gem_object *obj)
{
	return obj->funcs == &mtia_dev_bo_funcs;
}

static bool mtia_bo_is_host(struct drm_gem_object *obj)
{
	return obj->funcs == &mtia_host_bo_funcs;
}

/* ---- host BOs ----------------------------------------------------------- */

static enum drm_gem_object_status mtia_host_bo_status(struct drm_gem_object *obj)
{
	/* Racy by design (see drm_gem_object_funcs.status). */
	return READ_ONCE(to_drm_gem_shmem_obj(obj)->pages) ?
	       DRM_GEM_OBJECT_RESIDENT : 0;
}

static size_t mtia_host_bo_rss(struct drm_gem_object *obj)
{
	return READ_ONCE(to_drm_gem_shmem_obj(obj)->pages) ? obj->size : 0;
}

static const struct drm_gem_object_funcs mtia_host_bo_funcs = {
	.free = drm_gem_shmem_object_free,
	.close = mtia_vm_bo_close,
	.print_info = drm_gem_shmem_object_print_info,
	.pin = drm_gem_shmem_object_pin,
	.unpin = drm_gem_shmem_object_unpin,
	.get_sg_table = drm_gem_shmem_object_get_sg_table,
	.vmap = drm_gem_shmem_object_vmap,
	.vunmap = drm_gem_shmem_object_vunmap,
	.mmap = drm_gem_shmem_object_mmap,
	.status = mtia_host_bo_status,
	.rss = mtia_host_bo_rss,
	.vm_ops = &drm_gem_shmem_vm_ops,
};

/**
 * mtia_gem_create_object() - drm_driver.gem_create_object: the shmem helpers
 * allocate host BOs through this, so they get mtia_host_bo_funcs.
 * @drm: the DRM device.
 * @size: object size.
 *
 * Return: the object (not yet initialised) or an ERR_PTR.
 */
struct drm_gem_object *mtia_gem_create_object(struct drm_device *drm,
					      size_t size)
{
	struct drm_gem_shmem_object *shmem;

	shmem = kzalloc(sizeof(*shmem), GFP_KERNEL);
	if (!shmem)
		return ERR_PTR(-ENOMEM);
	shmem->base.funcs = &mtia_host_bo_funcs;
	return &shmem->base;
}

static u64 mtia_host_bo_max(void)
{
	return min_t(u64, MTIA_HOST_BO_MAX,
		     ((u64)totalram_pages() << PAGE_SHIFT) / 2);
}

/**
 * mtia_bo_pin_for_device() - make a host BO usable by the device.
 * @obj: a host BO.
 *
 * Pins the backing pages and DMA-maps them for the PCI function. The
 * mapping is created once and kept until the BO is freed; the pin is
 * dropped by mtia_bo_unpin_for_device(). Calls nest.
 *
 * Return: the DMA-mapped sg table (owned by the BO), or an ERR_PTR:
 * -EINVAL for a device BO (those are addressed by mtia_bo_devmem_offset()).
 */
struct sg_table *mtia_bo_pin_for_device(struct drm_gem_object *obj)
{
	struct drm_gem_shmem_object *shmem;
	struct sg_table *sgt;
	int ret;

	if (!mtia_bo_is_host(obj))
		return ERR_PTR(-EINVAL);
	shmem = to_drm_gem_shmem_obj(obj);

	ret = drm_gem_shmem_pin(shmem);
	if (ret)
		return ERR_PTR(ret);
	sgt = drm_gem_shmem_get_pages_sgt(shmem);
	if (IS_ERR(sgt))
		drm_gem_shmem_unpin(shmem);
	return sgt;
}

/**
 * mtia_bo_unpin_for_device() - drop a pin from mtia_bo_pin_for_device().
 * @obj: the host BO.
 */
void mtia_bo_unpin_for_device(struct drm_gem_object *obj)
{
	if (WARN_ON(!mtia_bo_is_host(obj)))
		return;
	drm_gem_shmem_unpin(to_drm_gem_shmem_obj(obj));
}

/**
 * mtia_bo_devmem_offset() - device memory offset of a device BO.
 * @obj: the BO.
 *
 * Return: the offset, or U64_MAX for a host BO.
 */
u64 mtia_bo_devmem_offset(struct drm_gem_object *obj)
{
	return mtia_bo_is_device(obj) ? to_mtia_dev_bo(obj)->offset : U64_MAX;
}

/* ---- device BOs --------------------------------------------------------- */

static void mtia_dev_bo_free(struct drm_gem_object *obj)
{
	struct mtia_dev_bo *bo = to_mtia_dev_bo(obj);

	mtia_devmem_free(to_mtia_device(obj->dev), &bo->blocks, obj->size);
	drm_gem_object_release(obj);
	kfree(bo);
}

static vm_fault_t mtia_dev_bo_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct drm_gem_object *obj = vma->vm_private_data;
	struct mtia_device *mdev = to_mtia_device(obj->dev);
	unsigned long npages = obj->size >> PAGE_SHIFT;
	unsigned long pgoff = vmf->pgoff;	/* BO-relative, see mmap */
	unsigned long addr = vmf->address;
	unsigned long pfn;
	vm_fault_t ret;
	int idx, i;

	if (pgoff >= npages)
		return VM_FAULT_SIGBUS;
	/* After unplug the BAR may belong to someone else. */
	if (!drm_dev_enter(obj->dev, &idx))
		return VM_FAULT_SIGBUS;
	/* Device memory is reached only in D0 (suspend zaps the mappings). */
	if (mtia_pm_get(mdev)) {
		drm_dev_exit(idx);
		return VM_FAULT_SIGBUS;
	}

	pfn = PHYS_PFN(mdev->devmem_phys + to_mtia_dev_bo(obj)->offset) + pgoff;
	ret = vmf_insert_pfn(vma, addr, pfn);
	for (i = 1; i < MTIA_FAULT_AROUND && !(ret & VM_FAULT_ERROR); i++) {
		addr += PAGE_SIZE;
		if (addr >= vma->vm_end || ++pgoff >= npages)
			break;
		/* Best effort: the faulting page is what counts. */
		if (vmf_insert_pfn(vma, addr, ++pfn) & VM_FAULT_ERROR)
			break;
	}

	mtia_pm_put(mdev);
	drm_dev_exit(idx);
	return ret;
}

static const struct vm_operations_struct mtia_dev_bo_vm_ops = {
	.fault = mtia_dev_bo_fault,
	.open = drm_gem_vm_open,
	.close = drm_gem_vm_close,
};

static int mtia_dev_bo_mmap(struct drm_gem_object *obj,
			    struct vm_area_struct *vma)
{
	unsigned long npages = obj->size >> PAGE_SHIFT;

	/* drm_gem_mmap() passes the fake offset: make vm_pgoff BO-relative. */
	vma->vm_pgoff -= drm_vma_node_start(&obj->vma_node);
	if (vma->vm_pgoff >= npages || vma_pages(vma) > npages - vma->vm_pgoff)
		return -EINVAL;
	/* vmf_insert_pfn() cannot back a copy-on-write mapping. */
	if (is_cow_mapping(vma->vm_flags))
		return -EINVAL;

	vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_writecombine(vm_get_page_prot(vma->vm_flags));
	return 0;
}

static enum drm_gem_object_status mtia_dev_bo_status(struct drm_gem_object *obj)
{
	return DRM_GEM_OBJECT_RESIDENT;
}

static struct dma_buf *mtia_dev_bo_export(struct drm_gem_object *obj,
					  int flags)
{
	return ERR_PTR(-EOPNOTSUPP);
}

static void mtia_dev_bo_print_info(struct drm_printer *p, unsigned int indent,
				   const struct drm_gem_object *obj)
{
	const struct mtia_dev_bo *bo = container_of(obj, struct mtia_dev_bo,
						    base);

	drm_printf_indent(p, indent, "devmem_offset=%#llx\n", bo->offset);
}

static const struct drm_gem_object_funcs mtia_dev_bo_funcs = {
	.free = mtia_dev_bo_free,
	.close = mtia_vm_bo_close,
	.print_info = mtia_dev_bo_print_info,
	.export = mtia_dev_bo_export,
	.mmap = mtia_dev_bo_mmap,
	.status = mtia_dev_bo_status,
	.vm_ops = &mtia_dev_bo_vm_ops,
};

static struct drm_gem_object *mtia_dev_bo_create(struct mtia_device *mdev,
						 u64 size)
{
	struct drm_gem_object *obj;
	struct mtia_dev_bo *bo;
	int ret, idx;

	bo = kzalloc(sizeof(*bo), GFP_KERNEL);
	if (!bo)
		return ERR_PTR(-ENOMEM);
	INIT_LIST_HEAD(&bo->blocks);
	obj = &bo->base;
	obj->funcs = &mtia_dev_bo_funcs;
	drm_gem_private_object_init(&mdev->drm, obj, size);

	/* From here on, putting the object frees whatever it holds. */
	ret = mtia_devmem_alloc(mdev, size, &bo->blocks, &bo->offset);
	if (ret)
		goto err_put;

	if (!drm_dev_enter(&mdev->drm, &idx)) {
		ret = -ENODEV;
		goto err_put;
	}
	mtia_devmem_clear(mdev, bo->offset, size);
	drm_dev_exit(idx);

	return obj;

err_put:
	drm_gem_object_put(obj);
	return ERR_PTR(ret);
}

/**
 * mtia_bo_unmap_all() - zap every user mapping of the device's BOs.
 * @mdev: the device, already unplugged (drm_dev_unplug()).
 *
 * Faults that raced with the unplug have finished (drm_dev_unplug() waits
 * for drm_dev_enter() sections); new faults on device BOs get SIGBUS, host
 * BOs fault their shmem pages back in.
 */
void mtia_bo_unmap_all(struct mtia_device *mdev)
{
	if (mdev->drm.anon_inode)
		unmap_mapping_range(mdev->drm.anon_inode->i_mapping, 0, 0, 1);
}

/* ---- ioctls and fdinfo -------------------------------------------------- */

/**
 * mtia_ioctl_bo_create() - DRM_IOCTL_MTIA_BO_CREATE.
 * @drm: the DRM device.
 * @data: struct drm_mtia_bo_create.
 * @file: the DRM file.
 *
 * Return: 0; -EINVAL on bad arguments (size 0 or above the placement's
 * maximum: half of RAM up to 4 GiB for host BOs, the allocatable device
 * memory for device BOs; unknown placement; nonzero flags, pad or reserved);
 * -ENOSPC when no free device memory range is large enough; -ENOMEM;
 * -ENODEV if the device is gone.
 */
int mtia_ioctl_bo_create(struct drm_device *drm, void *data,
			 struct drm_file *file)
{
	struct mtia_device *mdev = to_mtia_device(drm);
	struct drm_mtia_bo_create *args = data;
	struct drm_gem_shmem_object *shmem;
	struct drm_gem_object *obj;
	u64 size = args->size;
	u32 handle;
	int ret;

	BUILD_BUG_ON(sizeof(struct drm_mtia_bo_create) != 40);

	if (args->flags || args->pad || args->reserved[0] || args->reserved[1])
		return -EINVAL;
	if (!size)
		return -EINVAL;

	switch (args->placement) {
	case MTIA_BO_HOST:
		if (size > mtia_host_bo_max())
			return -EINVAL;
		size = PAGE_ALIGN(size);
		shmem = drm_gem_shmem_create(drm, size);
		if (IS_ERR(shmem))
			return PTR_ERR(shmem);
		obj = &shmem->base;
		break;
	case MTIA_BO_DEVICE:
		if (size > mdev->devmem_total)
			return -EINVAL;
		size = PAGE_ALIGN(size);
		obj = mtia_dev_bo_create(mdev, size);
		if (IS_ERR(obj))
			return PTR_ERR(obj);
		break;
	default:
		return -EINVAL;
	}

	ret = drm_gem_handle_create(file, obj, &handle);
	/* The handle holds the object now (or it is freed here). */
	drm_gem_object_put(obj);
	if (ret)
		return ret;

	args->handle = handle;
	return 0;
}

/**
 * mtia_ioctl_bo_info() - DRM_IOCTL_MTIA_BO_INFO.
 * @drm: the DRM device.
 * @data: struct drm_mtia_bo_info.
 * @file: the DRM file.
 *
 * Return: 0, -EINVAL on nonzero flags or reserved, -ENOENT if @handle is not
 * a handle of @file, -ENOMEM.
 */
int mtia_ioctl_bo_info(struct drm_device *drm, void *data,
		       struct drm_file *file)
{
	struct drm_mtia_bo_info *args = data;
	struct drm_gem_object *obj;
	int ret;

	BUILD_BUG_ON(sizeof(struct drm_mtia_bo_info) != 56);

	if (args->flags || args->reserved[0] || args->reserved[1])
		return -EINVAL;

	obj = drm_gem_object_lookup(file, args->handle);
	if (!obj)
		return -ENOENT;

	ret = drm_gem_create_mmap_offset(obj);
	if (!ret) {
		args->size = obj->size;
		args->mmap_offset = drm_vma_node_offset_addr(&obj->vma_node);
		args->pad = 0;
		if (mtia_bo_is_device(obj)) {
			args->placement = MTIA_BO_DEVICE;
			args->devmem_offset = to_mtia_dev_bo(obj)->offset;
		} else {
			args->placement = MTIA_BO_HOST;
			args->devmem_offset = 0;
		}
	}

	drm_gem_object_put(obj);
	return ret;
}

/**
 * mtia_show_fdinfo() - drm_driver.show_fdinfo: per-file engine time and
 *	memory stats (Documentation/gpu/drm-usage-stats.rst).
 * @p: printer into the fdinfo file.
 * @file: the DRM file.
 *
 * Engine time is the device time of the file's completed jobs and of its
 * direct queues' commands (which the device counts: mtia_direct_usage.c),
 * the latter also on their own in mtia-direct-engine-* (a driver-specific
 * key). Memory is as drm_show_memory_stats() has it, but with host BOs
 * under the "system" region and device BOs under "device".
 */
void mtia_show_fdinfo(struct drm_printer *p, struct drm_file *file)
{
	static const char * const engines[MTIA_ENGINE_NR] = {
		[MTIA_ENGINE_DMA] = "dma",
		[MTIA_ENGINE_COMPUTE] = "compute",
	};
	struct drm_memory_stats host = {}, dev = {};
	struct drm_gem_object *obj;
	u64 ns[MTIA_ENGINE_NR], direct_ns[MTIA_ENGINE_NR];
	int id;

	mtia_file_engine_ns(file, ns, direct_ns);
	for (id = 0; id < MTIA_ENGINE_NR; id++)
		drm_printf(p, "drm-engine-%s:\t%llu ns\n", engines[id], ns[id]);
	for (id = 0; id < MTIA_ENGINE_NR; id++)
		drm_printf(p, "mtia-direct-engine-%s:\t%llu ns\n", engines[id],
			   direct_ns[id]);

	spin_lock(&file->table_lock);
	idr_for_each_entry(&file->object_idr, obj, id) {
		struct drm_memory_stats *s = mtia_bo_is_device(obj) ? &dev : &host;
		enum drm_gem_object_status st = obj->funcs->status ?
						obj->funcs->status(obj) : 0;

		if (drm_gem_object_is_shared_for_memory_stats(obj))
			s->shared += obj->size;
		else
			s->private += obj->size;
		if (st & DRM_GEM_OBJECT_RESIDENT)
			s->resident += obj->size;
	}
	spin_unlock(&file->table_lock);

	drm_print_memory_stats(p, &host, DRM_GEM_OBJECT_RESIDENT, "system");
	drm_print_memory_stats(p, &dev, DRM_GEM_OBJECT_RESIDENT, "device");
}
