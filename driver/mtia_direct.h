/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: direct queues, hardware queues a process
 * feeds without system calls (mtia_direct.c).
 */
#ifndef __MTIA_DIRECT_H__
#define __MTIA_DIRECT_H__

#include <linux/types.h>

struct drm_device;
struct drm_file;
struct file;
struct mtia_device;
struct mtia_file_priv;
struct mtia_hwq;
struct vm_area_struct;

int mtia_direct_init(struct mtia_device *mdev);
void mtia_direct_irq(struct mtia_hwq *q);
void mtia_direct_lost_locked(struct mtia_device *mdev);
void mtia_direct_close_file(struct mtia_file_priv *fpriv);
void mtia_direct_engine_ns_locked(struct drm_file *file, u64 ns[]);
bool mtia_direct_mmap_offset(unsigned long pgoff);
int mtia_direct_mmap(struct file *filp, struct vm_area_struct *vma);

int mtia_ioctl_bo_map(struct drm_device *drm, void *data,
		      struct drm_file *file);
int mtia_ioctl_direct_create(struct drm_device *drm, void *data,
			     struct drm_file *file);
int mtia_ioctl_direct_destroy(struct drm_device *drm, void *data,
			      struct drm_file *file);
int mtia_ioctl_direct_wait(struct drm_device *drm, void *data,
			   struct drm_file *file);
int mtia_ioctl_direct_signal(struct drm_device *drm, void *data,
			     struct drm_file *file);

#endif /* __MTIA_DIRECT_H__ */
