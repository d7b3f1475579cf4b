// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: MSI-X setup, interrupt handler, self-test.
 *
 * Every cause is reported on MSI-X vector MTIA_MSIX_VEC_ADMIN through the
 * MTIA_REG_IRQ_STATUS register (write 1 to clear). The vectors, the handler
 * and the PCI device are all device-managed, so they go away in the reverse
 * order of probe: handler, vectors, then the PCI device itself.
 */

#include <linux/bitops.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>

#include "mtia_hw.h"
#include "mtia_job.h"

#define MTIA_IRQ_SELF_TEST_TIMEOUT_MS	1000

/* Causes the driver handles; all others stay masked. */
#define MTIA_IRQ_ENABLED	(MTIA_IRQ_TEST | MTIA_IRQ_ERROR | MTIA_IRQ_MBOX | \
				 MTIA_IRQ_FW_EVENT)

static void mtia_irq_handle_error(struct mtia_device *mdev)
{
	u32 err, addr;

	err = mtia_rd32(mdev, MTIA_REG_ERR_STATUS);
	addr = mtia_rd32(mdev, MTIA_REG_ERR_ADDR);
	mtia_wr32(mdev, MTIA_REG_ERR_STATUS, err);
	dev_err_ratelimited(&mdev->pdev->dev,
			    "device error 0x%08x at BAR0 offset 0x%05x\n",
			    err, addr);
}

static irqreturn_t mtia_irq_handler(int irq, void *arg)
{
	struct mtia_device *mdev = arg;
	unsigned long pending;
	unsigned int bit;
	bool queues;
	u32 status;

	BUILD_BUG_ON(MTIA_IRQ_ALL & ~GENMASK(MTIA_IRQ_NR_CAUSES - 1, 0));

	/* Queues on the admin vector when too few vectors were granted. */
	queues = mtia_hwq_poll_shared(mdev);

	status = mtia_rd32(mdev, MTIA_REG_IRQ_STATUS);
	if (!status || status == U32_MAX) {
		if (queues)
			return IRQ_HANDLED;
		atomic64_inc(&mdev->irq_spurious);
		return IRQ_NONE;
	}

	/* Acknowledge first so that a cause raised again is not lost. */
	mtia_wr32(mdev, MTIA_REG_IRQ_STATUS, status);

	pending = status;
	for_each_set_bit(bit, &pending, MTIA_IRQ_NR_CAUSES)
		atomic64_inc(&mdev->irq_counts[bit]);

	if (status & MTIA_IRQ_ERROR)
		mtia_irq_handle_error(mdev);
	if (status & MTIA_IRQ_TEST)
		complete(&mdev->irq_test_done);
	if (status & MTIA_IRQ_MBOX)
		mtia_mbox_irq(mdev);
	if (status & MTIA_IRQ_FW_EVENT) {
		complete(&mdev->fw_event);
		mtia_health_kick(mdev);
	}

	return IRQ_HANDLED;
}

/**
 * mtia_irq_init() - enable MSI-X and install the admin vector handler.
 * @mdev: the device, reset (all causes masked).
 *
 * Return: 0 or a negative errno.
 */
int mtia_irq_init(struct mtia_device *mdev)
{
	struct pci_dev *pdev = mdev->pdev;
	struct device *dev = &pdev->dev;
	int ret;

	init_completion(&mdev->irq_test_done);

	/* Managed: pcim_enable_device() makes the vectors devres-freed. */
	ret = pci_alloc_irq_vectors(pdev, 1, mdev->info.msix_vectors,
				    PCI_IRQ_MSIX);
	if (ret < 0) {
		dev_err(dev, "cannot enable MSI-X (%d)\n", ret);
		return ret;
	}
	mdev->nvecs = ret;

	mdev->irq = pci_irq_vector(pdev, MTIA_MSIX_VEC_ADMIN);
	if (mdev->irq < 0)
		return mdev->irq;

	ret = devm_request_irq(dev, mdev->irq, mtia_irq_handler, 0,
			       MTIA_DRIVER_NAME, mdev);
	if (ret) {
		dev_err(dev, "cannot request IRQ %d (%d)\n", mdev->irq, ret);
		return ret;
	}

	mtia_irq_enable(mdev);

	return 0;
}

/**
 * mtia_irq_enable() - clear stale causes and unmask the handled ones.
 * @mdev: the device, handler installed. Needed again after every device
 * reset, which masks every cause.
 */
void mtia_irq_enable(struct mtia_device *mdev)
{
	mtia_wr32(mdev, MTIA_REG_IRQ_STATUS, MTIA_IRQ_ALL);
	mtia_wr32(mdev, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_ENABLED);
}

/**
 * mtia_irq_self_test() - raise MTIA_IRQ_TEST and wait for the handler.
 * @mdev: the device, interrupts initialised.
 *
 * Return: 0, or -ETIMEDOUT if no interrupt arrived.
 */
int mtia_irq_self_test(struct mtia_device *mdev)
{
	unsigned long left;

	reinit_completion(&mdev->irq_test_done);
	mtia_wr32(mdev, MTIA_REG_IRQ_TEST, 1);
	left = wait_for_completion_timeout(&mdev->irq_test_done,
					   msecs_to_jiffies(MTIA_IRQ_SELF_TEST_TIMEOUT_MS));
	if (!left) {
		dev_err(&mdev->pdev->dev,
			"interrupt self-test failed: no MSI-X interrupt (IRQ %d) within %u ms, IRQ_STATUS 0x%08x\n",
			mdev->irq, MTIA_IRQ_SELF_TEST_TIMEOUT_MS,
			mtia_rd32(mdev, MTIA_REG_IRQ_STATUS));
		return -ETIMEDOUT;
	}

	return 0;
}

/**
 * mtia_irq_disable() - mask and clear every cause at the device.
 * @mdev: the device.
 *
 * The handler itself is freed by devres after remove; once this returns the
 * device raises nothing more, and synchronize_irq() lets a handler already
 * running finish.
 */
void mtia_irq_disable(struct mtia_device *mdev)
{
	mtia_wr32(mdev, MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL);
	mtia_wr32(mdev, MTIA_REG_IRQ_STATUS, MTIA_IRQ_ALL);
	if (mdev->irq > 0)
		synchronize_irq(mdev->irq);
}
