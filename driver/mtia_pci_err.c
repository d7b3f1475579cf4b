// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: PCIe error recovery (AER).
 *
 * The PCI core calls these as the AER driver walks its recovery steps
 * (Documentation/PCI/pci-error-recovery.rst); the device reports through
 * its AER capability to the root port above it.
 *
 * - A non-fatal error leaves the link up (io_normal): mmio_enabled checks
 *   that the device still answers (MAGIC) and the driver carries on; if it
 *   does not, the device is reset as for a fatal error.
 * - A fatal error resets the link (io_frozen): the root port's secondary
 *   bus reset resets the device, so the firmware stops. error_detected
 *   pauses the heartbeat watchdog (which would find the firmware halted and
 *   reset on its own), slot_reset restores the saved config space and
 *   checks the device answers, and resume does the driver's ordinary reset
 *   (mtia_health_reset_sync(): jobs on the hardware re-run, firmware
 *   rebooted, queues programmed) and restarts the watchdog. Jobs that time
 *   out in between reset the device too; the reset domain (one ordered
 *   workqueue) serialises the two.
 * - A permanent failure (io_perm_failure) marks the device dead: its jobs
 *   fail, ioctls that need the firmware fail with -EIO, and removal (which
 *   the PCI core does next for a surprise-removed device) cleans up.
 */

#include <linux/aer.h>
#include <linux/pci.h>

#include "mtia_hw.h"
#include "mtia_job.h"

static pci_ers_result_t mtia_pci_error_detected(struct pci_dev *pdev,
						pci_channel_state_t state)
{
	struct mtia_device *mdev = pci_get_drvdata(pdev);

	atomic_inc(&mdev->pci_errors);
	switch (state) {
	case pci_channel_io_normal:
		dev_err(&pdev->dev, "PCIe non-fatal error reported: checking the device\n");
		return PCI_ERS_RESULT_CAN_RECOVER;
	case pci_channel_io_frozen:
		dev_err(&pdev->dev, "PCIe fatal error reported: the link is reset, the device will be reset\n");
		mtia_health_pause(mdev);
		return PCI_ERS_RESULT_NEED_RESET;
	case pci_channel_io_perm_failure:
	default:
		dev_err(&pdev->dev, "PCIe permanent failure: the device is dead\n");
		mtia_health_pause(mdev);
		mtia_health_mark_dead(mdev, "pci permanent failure");
		return PCI_ERS_RESULT_DISCONNECT;
	}
}

/* Non-fatal: is the device still there and sane? */
static pci_ers_result_t mtia_pci_mmio_enabled(struct pci_dev *pdev)
{
	struct mtia_device *mdev = pci_get_drvdata(pdev);

	if (mtia_rd32(mdev, MTIA_REG_MAGIC) == MTIA_MAGIC_VALUE)
		return PCI_ERS_RESULT_RECOVERED;
	dev_err(&pdev->dev, "device does not answer after a PCIe error: resetting it\n");
	mtia_health_pause(mdev);
	return PCI_ERS_RESULT_NEED_RESET;
}

static pci_ers_result_t mtia_pci_slot_reset(struct pci_dev *pdev)
{
	struct mtia_device *mdev = pci_get_drvdata(pdev);

	pci_restore_state(pdev);
	pci_save_state(pdev);
	if (mtia_rd32(mdev, MTIA_REG_MAGIC) != MTIA_MAGIC_VALUE) {
		dev_err(&pdev->dev, "device does not answer after the link reset\n");
		mtia_health_mark_dead(mdev, "pci slot reset");
		return PCI_ERS_RESULT_DISCONNECT;
	}
	mdev->pci_reset_pending = true;
	return PCI_ERS_RESULT_RECOVERED;
}

static void mtia_pci_resume(struct pci_dev *pdev)
{
	struct mtia_device *mdev = pci_get_drvdata(pdev);

	if (mdev->pci_reset_pending && !mtia_pm_get(mdev)) {
		mtia_health_reset_sync(mdev, "pci error");
		mtia_pm_put(mdev);
	}
	mdev->pci_reset_pending = false;
	mtia_health_unpause(mdev);
	dev_info(&pdev->dev, "recovered from the PCIe error (firmware %s)\n",
		 mtia_fw_state_name(READ_ONCE(mdev->fw_state)));
}

/* Corrected errors need nothing from the driver: count them. */
static void mtia_pci_cor_error_detected(struct pci_dev *pdev)
{
	struct mtia_device *mdev = pci_get_drvdata(pdev);

	atomic_inc(&mdev->pci_errors);
	dev_info_ratelimited(&pdev->dev, "PCIe correctable error reported\n");
}

const struct pci_error_handlers mtia_pci_err_handlers = {
	.error_detected = mtia_pci_error_detected,
	.mmio_enabled = mtia_pci_mmio_enabled,
	.slot_reset = mtia_pci_slot_reset,
	.resume = mtia_pci_resume,
	.cor_error_detected = mtia_pci_cor_error_detected,
};
