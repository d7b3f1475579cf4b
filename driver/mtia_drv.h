/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: per-device state shared by the driver files.
 */
#ifndef __MTIA_DRV_H__
#define __MTIA_DRV_H__

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/pci.h>
#include <linux/types.h>

#include <drm/drm_device.h>

#include <uapi/drm/mtia_accel.h>

#define MTIA_DRV_DESC		"mtia-open MTIA-class inference accelerator"
/*
 * struct drm_driver still has a date in 6.12. Debian's 6.12.117 reports "0"
 * through DRM_IOCTL_VERSION regardless; earlier kernels copy it (and WARN if
 * it is NULL), so set one.
 */
#define MTIA_DRV_DATE		"20251126"
#define MTIA_DRV_MAJOR		0
#define MTIA_DRV_MINOR		1
#define MTIA_DRV_PATCHLEVEL	0

/* Interrupt causes counted per device; index = bit in MTIA_REG_IRQ_STATUS. */
#define MTIA_IRQ_NR_CAUSES	2

/**
 * struct mtia_hw_info - identity and capabilities read from BAR0 at probe.
 */
struct mtia_hw_info {
	u32 chip_id;
	u32 revision;
	u32 if_major;
	u32 if_minor;
	u32 pe_rows;
	u32 pe_cols;
	u32 msix_vectors;
	u64 sram_bytes;
	u64 devmem_bytes;
};

/**
 * struct mtia_device - one MTIA PCI function.
 * @drm: the DRM accel device (embedded; owns the lifetime of this struct).
 * @pdev: the PCI function.
 * @regs: BAR0 mapping.
 * @info: identity and capabilities.
 * @nvecs: MSI-X vectors enabled.
 * @irq: Linux IRQ number of the admin vector.
 * @irq_test_done: completed by the handler on MTIA_IRQ_TEST.
 * @irq_counts: interrupts seen per cause.
 * @irq_spurious: interrupts with no pending cause.
 */
struct mtia_device {
	struct drm_device drm;
	struct pci_dev *pdev;
	void __iomem *regs;
	struct mtia_hw_info info;
	int nvecs;
	int irq;
	struct completion irq_test_done;
	atomic64_t irq_counts[MTIA_IRQ_NR_CAUSES];
	atomic64_t irq_spurious;
};

static inline struct mtia_device *to_mtia_device(struct drm_device *drm)
{
	return container_of(drm, struct mtia_device, drm);
}

/* mtia_irq.c */
int mtia_irq_init(struct mtia_device *mdev);
int mtia_irq_self_test(struct mtia_device *mdev);
void mtia_irq_disable(struct mtia_device *mdev);

/* mtia_ioctl.c */
int mtia_ioctl_get_info(struct drm_device *drm, void *data,
			struct drm_file *file);

#endif /* __MTIA_DRV_H__ */
