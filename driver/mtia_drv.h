/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: per-device state shared by the driver files.
 *
 * Locks, outermost first (a function that needs one held by its caller is
 * named *_locked and starts with lockdep_assert_held(); no path takes them
 * the other way round). mtia_jobs and mtia_hwq are in mtia_job.h,
 * mtia_uqueue and mtia_file_priv in mtia_file.h:
 *
 *   mtia_jobs.reset_lock -> mtia_device.mbox_lock
 *	a reset (timeout, watchdog, sysfs) reboots the firmware under both
 *	(mtia_health_recover_locked(), mtia_fw_boot_locked())
 *   mtia_jobs.reset_lock -> mtia_hwq.lock
 *	stopping and cancelling the hardware queues' jobs
 *	(mtia_jobs_reset_begin_locked(), mtia_jobs_reset_end_locked())
 *   BO reservations (dma_resv) -> mtia_uqueue.lock -> mtia_uqueue.slot_lock
 *	SUBMIT: seqno, arm, fences, push in one order
 *	(mtia_submit_push_locked(), mtia_uqueue_add_job_locked())
 *   mtia_hwq.lock -> mtia_uqueue.slot_lock, mtia_hwq.fence_lock
 *	the CQ handler (hard IRQ) records a job's status and signals its fence
 *	(mtia_job_hw_done_locked())
 *   mtia_vm.lock -> BO reservations
 *	SUBMIT maps (and pins) its BOs into the file's address space before
 *	it locks them; a handle's close unmaps after waiting for the BO
 *	(mtia_vm.c)
 *   mtia_file_priv.lock, mtia_device.devmem_lock, mtia_device.tel_lock
 *	leaves: nothing else is taken under them
 *
 * The spinlocks (mtia_hwq.lock, fence_lock, slot_lock) are taken from the
 * queue interrupt handler, elsewhere with interrupts off.
 */
#ifndef __MTIA_DRV_H__
#define __MTIA_DRV_H__

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/completion.h>
#include <linux/gpu_buddy.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <drm/drm_device.h>

#include <uapi/drm/mtia_accel.h>

#include "mtia_mmu.h"

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

/* Recoveries remembered for the max_resets_per_min cap (its upper bound). */
#define MTIA_RECOVERY_HISTORY	64

/* Interrupt causes counted per device; index = bit in MTIA_REG_IRQ_STATUS. */
#define MTIA_IRQ_NR_CAUSES	4

struct drm_file;
struct drm_gem_object;
struct drm_printer;
struct mtia_jobs;
struct mtia_mbox_msg;
struct sg_table;

/**
 * enum mtia_fw_state - what the driver knows about the control-core firmware.
 * @MTIA_FW_OFF: not booted (probe has not got there yet).
 * @MTIA_FW_BOOTING: image staged, waiting for the firmware to become ready.
 * @MTIA_FW_READY: firmware running and serving the admin mailbox.
 * @MTIA_FW_RECOVERING: the watchdog is resetting the device and rebooting.
 * @MTIA_FW_DEAD: recovery failed; the device stays reset until unbound.
 * @MTIA_FW_SUSPENDED: runtime-suspended (D3hot, mtia_pm.c): the firmware
 *	is stopped and boots again at resume.
 */
enum mtia_fw_state {
	MTIA_FW_OFF,
	MTIA_FW_BOOTING,
	MTIA_FW_READY,
	MTIA_FW_RECOVERING,
	MTIA_FW_DEAD,
	MTIA_FW_SUSPENDED,
};

/**
 * struct mtia_hw_info - identity and capabilities read from BAR0 at probe.
 * @chip_id: MTIA_REG_CHIP_ID.
 * @revision: MTIA_REG_REVISION (the device's "revision" property).
 * @if_major: register interface major version (must match the driver's).
 * @if_minor: register interface minor version.
 * @pe_rows: rows of the PE grid.
 * @pe_cols: columns of the PE grid.
 * @msix_vectors: MSI-X vectors the device offers.
 * @sram_bytes: on-chip SRAM.
 * @devmem_bytes: device memory (BAR2).
 *
 * Written once at probe, read-only after.
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
 * @fw_mem: write-combined mapping of the first MTIA_DEVMEM_FW_RESERVED bytes
 *	of device memory (BAR2): firmware staging area and log ring.
 * @fw_copy: copy of the image of the last boot from the file, booted
 *	again at resume (mtia_pm.c); @fw_copy_size bytes; under @mbox_lock,
 *	freed when the device is unbound.
 * @fw_copy_size: see @fw_copy.
 * @fw_event: completed by the handler on MTIA_IRQ_FW_EVENT.
 * @fw_state: enum mtia_fw_state; written under @mbox_lock, read locklessly.
 * @fw_version: version of the running firmware, MTIA_FW_VERSION() encoding;
 *	0 while none is running; written under @mbox_lock.
 * @fw_boot_status: the boot ROM's verdict (FW_BOOT_STATUS, MTIA_BOOT_*) on
 *	the last image the driver booted, IDLE if the last boot did not get
 *	that far (sysfs fw_boot_status); written under @mbox_lock, read
 *	locklessly.
 * @fw_heartbeat_ms: the firmware's heartbeat period, for the watchdog;
 *	written under @mbox_lock.
 * @reset_count: recoveries (device reset + firmware reboot) by the watchdog.
 * @mbox_lock: serialises admin commands, firmware boot and recovery;
 *	protects the mailbox registers, @mbox_seq, @fw_version, @fw_boot_status,
 *	@fw_heartbeat_ms and the writes of @fw_state and @mbox_up. Taken
 *	after &mtia_jobs.reset_lock.
 * @mbox_wq: woken by the handler on MTIA_IRQ_MBOX and when commands abort.
 * @mbox_posts: mailbox responses signalled by the firmware.
 * @mbox_seq: sequence number of the last command sent (under @mbox_lock).
 * @mbox_up: commands may be sent (firmware ready, no recovery starting);
 *	cleared locklessly by mtia_mbox_stop() to abort a waiting command.
 * @health_work: heartbeat watchdog.
 * @health_on: the watchdog is running; the handler may kick it.
 * @lost_irqs: job timeouts that found completions waiting in the CQ (an
 *	interrupt was lost) and completed them instead of resetting.
 * @gone: the device is given up for good (link down, or more recoveries
 *	than max_resets_per_min): every ioctl fails with -ENODEV. Set once,
 *	under &mtia_jobs.reset_lock; read with READ_ONCE.
 * @recoveries: jiffies of the last recoveries, a ring (&mtia_jobs.reset_lock).
 * @recoveries_next: the ring's next slot (&mtia_jobs.reset_lock).
 * @hb_last: FW_HEARTBEAT at the last watchdog check; written by the
 *	watchdog work (no lock) and by firmware boot (@mbox_lock, fw_state
 *	not READY, so the watchdog does not look at it meanwhile).
 * @hb_changed: jiffies when @hb_last last changed (as @hb_last).
 * @health_paused: mtia_health_pause() holds the watchdog off; written only
 *	by the PCI error handlers, which the PCI core runs one at a time.
 * @pci_errors: PCIe errors (AER) reported for the function, any severity.
 * @pci_reset_pending: the link was reset (slot_reset): the PCI error
 *	handlers' resume resets the device and reboots the firmware.
 * @devmem_phys: CPU physical address of BAR2 (device memory offset 0).
 * @devmem_size: bytes of device memory the driver uses (page multiple).
 * @devmem: write-combined mapping of the first @devmem_size bytes of BAR2
 *	(NULL if no memory is allocatable).
 * @devmem_lock: protects @devmem_mm, @devmem_reserved and @devmem_used.
 *	A leaf lock.
 * @devmem_mm: buddy allocator over [0, @devmem_size) of device memory.
 * @devmem_reserved: allocator blocks of the firmware window.
 * @devmem_total: bytes allocatable to BOs (above the firmware window).
 * @devmem_used: bytes allocated to device BOs.
 * @jobs: hardware queues, schedulers and job state (mtia_job.h,
 *	mtia_sched.c).
 * @mmu: the device MMU: context table (mtia_mmu.c); written at probe.
 * @tel_present: the device has the telemetry block (MTIA_REG_TEL_*).
 * @tel_lock: protects the ENERGY_LO/HI latch: orders the two halves of a
 *	telemetry energy read. A leaf lock.
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

	void __iomem *fw_mem;
	void *fw_copy;
	size_t fw_copy_size;
	struct completion fw_event;
	int fw_state;
	u32 fw_version;
	u32 fw_boot_status;
	u32 fw_heartbeat_ms;
	atomic_t reset_count;

	struct mutex mbox_lock; /* see @mbox_lock above */
	wait_queue_head_t mbox_wq;
	atomic_t mbox_posts;
	u16 mbox_seq;
	bool mbox_up;

	struct delayed_work health_work;
	bool health_on;
	atomic_t lost_irqs;
	bool gone;
	unsigned long recoveries[MTIA_RECOVERY_HISTORY];
	unsigned int recoveries_next;
	u32 hb_last;
	unsigned long hb_changed;
	bool health_paused;

	atomic_t pci_errors;
	bool pci_reset_pending;

	resource_size_t devmem_phys;
	u64 devmem_size;
	void __iomem *devmem;
	struct mutex devmem_lock; /* see @devmem_lock above */
	struct gpu_buddy devmem_mm;
	struct list_head devmem_reserved;
	u64 devmem_total;
	u64 devmem_used;

	struct mtia_jobs *jobs;
	struct mtia_mmu mmu;

	bool tel_present;
	struct mutex tel_lock; /* see @tel_lock above */
};

static inline struct mtia_device *to_mtia_device(struct drm_device *drm)
{
	return container_of(drm, struct mtia_device, drm);
}

/* mtia_irq.c */
int mtia_irq_init(struct mtia_device *mdev);
void mtia_irq_enable(struct mtia_device *mdev);
int mtia_irq_self_test(struct mtia_device *mdev);
void mtia_irq_disable(struct mtia_device *mdev);

/* mtia_fw.c */
int mtia_fw_init(struct mtia_device *mdev);
int mtia_fw_boot_locked(struct mtia_device *mdev);
const char *mtia_fw_state_name(int state);
const char *mtia_fw_trap_cause_name(u32 cause);
void mtia_fw_log_halt(struct mtia_device *mdev, const char *what);
char *mtia_fw_log_copy(struct mtia_device *mdev, size_t *len);

/* mtia_mbox.c */
#define MTIA_MBOX_QUIET		BIT(0)	/* no dev_err on timeout */
void mtia_mbox_init(struct mtia_device *mdev);
int mtia_mbox_lock(struct mtia_device *mdev);
void mtia_mbox_unlock(struct mtia_device *mdev);
/* The calls below need mtia_mbox_lock() (or @mbox_lock held by boot). */
int mtia_mbox_exec_locked(struct mtia_device *mdev, struct mtia_mbox_msg *msg,
			  unsigned int timeout_ms, unsigned int flags);
int mtia_mbox_ping_locked(struct mtia_device *mdev, u16 *seq, u64 *rtt_ns);
int mtia_mbox_get_param_locked(struct mtia_device *mdev, u32 id, u32 *value);
int mtia_mbox_set_param_locked(struct mtia_device *mdev, u32 id, u32 value);
void mtia_mbox_stop(struct mtia_device *mdev);
void mtia_mbox_irq(struct mtia_device *mdev);
extern unsigned int mtia_mbox_timeout_ms;

/* mtia_health.c */
void mtia_health_init(struct mtia_device *mdev);
void mtia_health_start(struct mtia_device *mdev);
void mtia_health_stop(struct mtia_device *mdev);
void mtia_health_kick(struct mtia_device *mdev);
int mtia_health_restart_locked(struct mtia_device *mdev);
void mtia_health_pause(struct mtia_device *mdev);
void mtia_health_unpause(struct mtia_device *mdev);
void mtia_health_mark_dead(struct mtia_device *mdev, const char *reason);

/* mtia_pm.c */
int mtia_pm_get(struct mtia_device *mdev);
void mtia_pm_put(struct mtia_device *mdev);
void mtia_pm_enable(struct mtia_device *mdev);
void mtia_pm_disable(struct mtia_device *mdev);
extern const struct dev_pm_ops mtia_pm_ops;

/* mtia_pci_err.c */
extern const struct pci_error_handlers mtia_pci_err_handlers;

/* mtia_recovery.c: reset policy (rate cap, gone devices, uevents, bans) */
bool mtia_device_answers(struct mtia_device *mdev);
bool mtia_recovery_allowed_locked(struct mtia_device *mdev);
void mtia_device_gone_locked(struct mtia_device *mdev, const char *why);
void mtia_recovery_uevent(struct mtia_device *mdev, const char *reason);
struct mtia_usage;
void mtia_usage_guilty(struct mtia_device *mdev, struct mtia_usage *usage,
		       const char *what);

/* mtia_coredump.c */
struct drm_sched_job;
void mtia_coredump_capture_locked(struct mtia_device *mdev, const char *reason,
				  struct drm_sched_job *bad);

/* mtia_sysfs.c: the "mtia" group of the PCI device */
extern const struct attribute_group *mtia_dev_groups[];

/* mtia_telemetry.c */
void mtia_tel_init(struct mtia_device *mdev);
void mtia_tel_debugfs_init(struct mtia_device *mdev);
int mtia_tel_read(struct mtia_device *mdev, u32 reg, u32 *val);
int mtia_tel_energy(struct mtia_device *mdev, u64 *mj);
int mtia_tel_set_power_cap(struct mtia_device *mdev, u32 mw);
int mtia_tel_ecc_clear(struct mtia_device *mdev, u32 what);

/**
 * mtia_tel_has_ecc_aggregate() - the device keeps lifetime ECC counts and
 * can clear its counters (MTIA_REG_TEL_ECC_*_AGG, _CLEAR: interface 1.6).
 * @mdev: the device.
 *
 * Return: true if so.
 */
static inline bool mtia_tel_has_ecc_aggregate(const struct mtia_device *mdev)
{
	return mdev->tel_present && mdev->info.if_minor >= 6;
}

/* mtia_hwmon.c */
void mtia_hwmon_init(struct mtia_device *mdev);

/* mtia_debugfs.c */
void mtia_debugfs_init(struct mtia_device *mdev);

/* mtia_ioctl.c */
int mtia_ioctl_get_info(struct drm_device *drm, void *data,
			struct drm_file *file);

/* mtia_devmem.c */
int mtia_devmem_init(struct mtia_device *mdev);
int mtia_devmem_alloc(struct mtia_device *mdev, u64 size,
		      struct list_head *blocks, u64 *offset);
void mtia_devmem_free(struct mtia_device *mdev, struct list_head *blocks,
		      u64 size);
u64 mtia_devmem_used(struct mtia_device *mdev);
void mtia_devmem_clear(struct mtia_device *mdev, u64 offset, u64 size);

/* mtia_bo.c */
struct drm_gem_object *mtia_gem_create_object(struct drm_device *drm,
					      size_t size);
int mtia_ioctl_bo_create(struct drm_device *drm, void *data,
			 struct drm_file *file);
int mtia_ioctl_bo_info(struct drm_device *drm, void *data,
		       struct drm_file *file);
void mtia_show_fdinfo(struct drm_printer *p, struct drm_file *file);
void mtia_bo_unmap_all(struct mtia_device *mdev);
/* For the submission path: host BOs are pinned and DMA-mapped on use. */
struct sg_table *mtia_bo_pin_for_device(struct drm_gem_object *obj);
void mtia_bo_unpin_for_device(struct drm_gem_object *obj);
u64 mtia_bo_devmem_offset(struct drm_gem_object *obj);

#endif /* __MTIA_DRV_H__ */
