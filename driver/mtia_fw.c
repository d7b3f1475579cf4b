// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: control-core firmware loading and boot.
 *
 * The image (struct mtia_fw_header + payload) is copied into the firmware
 * staging area at the start of device memory through a write-combined BAR2
 * mapping of the reserved firmware window; its offset and size go to
 * FW_STAGE_*, and MTIA_FW_BOOT_KEY to FW_BOOT starts the boot ROM. The ROM
 * either refuses the image (FW_BOOT_STATUS = error code) or starts the core,
 * and the firmware reports READY in FW_STATUS. Every FW_BOOT_STATUS/FW_STATUS
 * change raises MTIA_IRQ_FW_EVENT, which wakes the waiter; it also re-reads
 * the registers every few milliseconds in case an interrupt is lost.
 */

#include <linux/delay.h>
#include <linux/firmware.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <mtia/mtia_boot_status.h>

#include "mtia_hw.h"
#include "mtia_trace.h"

#define MTIA_FW_DEFAULT_NAME	"mtia/mtia-fw.bin"
#define MTIA_FW_POLL_MS		10
#define MTIA_FW_STAGE_MAX	(MTIA_DEVMEM_FW_LOG_OFF - MTIA_DEVMEM_FW_STAGE_OFF)
#define MTIA_FW_HB_DEFAULT_MS	100

static char *fw_name = MTIA_FW_DEFAULT_NAME;
module_param(fw_name, charp, 0444);
MODULE_PARM_DESC(fw_name,
		 "control-core firmware image, relative to the firmware search path (default "
		 MTIA_FW_DEFAULT_NAME ")");

static unsigned int fw_boot_timeout_ms = 5000;
module_param(fw_boot_timeout_ms, uint, 0644);
MODULE_PARM_DESC(fw_boot_timeout_ms,
		 "time the firmware gets to report READY after the boot ROM started it (default 5000)");

MODULE_FIRMWARE(MTIA_FW_DEFAULT_NAME);

static const char * const mtia_fw_state_names[] = {
	[MTIA_FW_OFF] = "off",
	[MTIA_FW_BOOTING] = "booting",
	[MTIA_FW_READY] = "ready",
	[MTIA_FW_RECOVERING] = "recovering",
	[MTIA_FW_DEAD] = "dead",
	[MTIA_FW_SUSPENDED] = "suspended",
};

/**
 * mtia_fw_state_name() - name of an enum mtia_fw_state, for sysfs and logs.
 * @state: the state.
 *
 * Return: a static string.
 */
const char *mtia_fw_state_name(int state)
{
	if (state < 0 || state >= ARRAY_SIZE(mtia_fw_state_names))
		return "unknown";
	return mtia_fw_state_names[state];
}

static const char *mtia_fw_status_name(u32 status)
{
	switch (status) {
	case MTIA_FW_STATUS_OFF:
		return "off";
	case MTIA_FW_STATUS_INIT:
		return "init";
	case MTIA_FW_STATUS_READY:
		return "ready";
	case MTIA_FW_STATUS_ERROR:
		return "error";
	default:
		return "unknown";
	}
}

/**
 * mtia_fw_trap_cause_name() - RISC-V mcause in words.
 * @cause: mcause as latched in FW_TRAP_CAUSE.
 *
 * Return: a static string.
 */
const char *mtia_fw_trap_cause_name(u32 cause)
{
	static const char * const names[] = {
		[0] = "instruction address misaligned",
		[1] = "instruction access fault",
		[2] = "illegal instruction",
		[3] = "breakpoint",
		[4] = "load address misaligned",
		[5] = "load access fault",
		[6] = "store address misaligned",
		[7] = "store access fault",
		[11] = "environment call from M-mode",
	};

	if (cause & BIT(31))
		return "interrupt";
	if (cause < ARRAY_SIZE(names) && names[cause])
		return names[cause];
	return "unknown cause";
}

/**
 * mtia_fw_log_halt() - report a control core halted on a fatal trap.
 * @mdev: the device.
 * @what: context for the message ("firmware halted during boot", ...).
 */
void mtia_fw_log_halt(struct mtia_device *mdev, const char *what)
{
	u32 cause = mtia_rd32(mdev, MTIA_REG_FW_TRAP_CAUSE);

	dev_err(&mdev->pdev->dev,
		"%s: fatal trap, cause %u (%s), pc 0x%08x, tval 0x%08x\n",
		what, cause, mtia_fw_trap_cause_name(cause),
		mtia_rd32(mdev, MTIA_REG_FW_TRAP_PC),
		mtia_rd32(mdev, MTIA_REG_FW_TRAP_TVAL));
}

#define MTIA_LOG_HDR_SIZE	sizeof(struct mtia_fw_log_header)

/* Linearise the ring @buf of @cap bytes, @head written so far, into @out. */
static size_t mtia_fw_log_unwrap(const char *buf, u32 cap, u32 head, char *out)
{
	u32 start = head % cap;
	const char *nl;
	size_t n;

	if (head <= cap) {
		memcpy(out, buf, head);
		return head;
	}
	/* Wrapped: oldest byte at head % cap; drop the partial line. */
	nl = memchr(buf + start, '\n', cap - start);
	if (nl) {
		n = buf + cap - nl - 1;
		memcpy(out, nl + 1, n);
		memcpy(out + n, buf, start);
		return n + start;
	}
	nl = memchr(buf, '\n', start);
	if (!nl)
		return 0;
	n = buf + start - nl - 1;
	memcpy(out, nl + 1, n);
	return n;
}

/**
 * mtia_fw_log_copy() - the firmware's log ring, oldest byte first.
 * @mdev: the device (caller is inside drm_dev_enter()).
 * @len: set to the number of bytes returned.
 *
 * Return: a kvmalloc()ed copy (kvfree() it), NULL if the firmware has not
 * set up its log, or an ERR_PTR: -EIO if the ring is not inside the
 * firmware window or its header is bad, -ENOMEM.
 */
char *mtia_fw_log_copy(struct mtia_device *mdev, size_t *len)
{
	struct mtia_fw_log_header hdr;
	u32 addr, size, cap;
	char *ring, *out;

	*len = 0;
	addr = mtia_rd32(mdev, MTIA_REG_FW_LOG_ADDR);
	size = mtia_rd32(mdev, MTIA_REG_FW_LOG_SIZE);
	if (!size)
		return NULL;
	if (size <= MTIA_LOG_HDR_SIZE || size > MTIA_DEVMEM_FW_RESERVED ||
	    addr > MTIA_DEVMEM_FW_RESERVED - size || addr % 4) {
		dev_err_ratelimited(&mdev->pdev->dev,
				    "firmware log ring at 0x%x, %u bytes, is not inside the %u-byte firmware window\n",
				    addr, size, MTIA_DEVMEM_FW_RESERVED);
		return ERR_PTR(-EIO);
	}
	memcpy_fromio(&hdr, mdev->fw_mem + addr, sizeof(hdr));
	if (le32_to_cpu(hdr.magic) != MTIA_FW_LOG_MAGIC ||
	    le32_to_cpu(hdr.size) != size) {
		dev_err_ratelimited(&mdev->pdev->dev,
				    "firmware log ring at 0x%x: bad header (magic 0x%08x, size %u, register says %u)\n",
				    addr, le32_to_cpu(hdr.magic),
				    le32_to_cpu(hdr.size), size);
		return ERR_PTR(-EIO);
	}
	cap = size - MTIA_LOG_HDR_SIZE;
	ring = kvmalloc(cap, GFP_KERNEL);
	out = kvmalloc(cap, GFP_KERNEL);
	if (!ring || !out) {
		kvfree(ring);
		kvfree(out);
		return ERR_PTR(-ENOMEM);
	}
	memcpy_fromio(ring, mdev->fw_mem + addr + MTIA_LOG_HDR_SIZE, cap);
	*len = mtia_fw_log_unwrap(ring, cap, le32_to_cpu(hdr.head), out);
	kvfree(ring);
	return out;
}

/**
 * mtia_fw_init() - map the firmware window of device memory.
 * @mdev: the device, BAR0 mapped and identified.
 *
 * Requests BAR2 and maps only its first MTIA_DEVMEM_FW_RESERVED bytes
 * (staging area and log ring), write-combined. Device-managed.
 *
 * Return: 0 or a negative errno.
 */
int mtia_fw_init(struct mtia_device *mdev)
{
	struct pci_dev *pdev = mdev->pdev;
	struct device *dev = &pdev->dev;
	resource_size_t len = pci_resource_len(pdev, MTIA_BAR_DEVMEM);
	int ret;

	init_completion(&mdev->fw_event);
	mdev->fw_state = MTIA_FW_OFF;

	if (len < MTIA_DEVMEM_FW_RESERVED ||
	    mdev->info.devmem_bytes < MTIA_DEVMEM_FW_RESERVED)
		return dev_err_probe(dev, -ENODEV,
				     "device memory (BAR%d %llu bytes, DEVMEM_SIZE %llu) is smaller than the %u-byte firmware window\n",
				     MTIA_BAR_DEVMEM, (u64)len,
				     mdev->info.devmem_bytes,
				     MTIA_DEVMEM_FW_RESERVED);

	ret = pcim_request_region(pdev, MTIA_BAR_DEVMEM, MTIA_DRIVER_NAME);
	if (ret)
		return dev_err_probe(dev, ret, "cannot request BAR%d\n",
				     MTIA_BAR_DEVMEM);

	mdev->fw_mem = devm_ioremap_wc(dev,
				       pci_resource_start(pdev, MTIA_BAR_DEVMEM),
				       MTIA_DEVMEM_FW_RESERVED);
	if (!mdev->fw_mem)
		return dev_err_probe(dev, -ENOMEM,
				     "cannot map the firmware window of BAR%d\n",
				     MTIA_BAR_DEVMEM);

	return 0;
}

static int mtia_fw_stage(struct mtia_device *mdev, const struct firmware *fw,
			 struct mtia_fw_header *hdr)
{
	struct device *dev = &mdev->pdev->dev;

	if (fw->size < MTIA_FW_HEADER_SIZE) {
		dev_err(dev, "firmware %s is %zu bytes, smaller than its %u-byte header\n",
			fw_name, fw->size, MTIA_FW_HEADER_SIZE);
		return -EINVAL;
	}
	if (fw->size > MTIA_FW_STAGE_MAX) {
		dev_err(dev, "firmware %s is %zu bytes, larger than the %u-byte staging area\n",
			fw_name, fw->size, MTIA_FW_STAGE_MAX);
		return -EFBIG;
	}
	memcpy(hdr, fw->data, sizeof(*hdr));

	memcpy_toio(mdev->fw_mem + MTIA_DEVMEM_FW_STAGE_OFF, fw->data, fw->size);
	/* The staged bytes must reach the device before the boot ROM runs. */
	wmb();

	mtia_wr32(mdev, MTIA_REG_FW_STAGE_LO, lower_32_bits(MTIA_DEVMEM_FW_STAGE_OFF));
	mtia_wr32(mdev, MTIA_REG_FW_STAGE_HI, upper_32_bits(MTIA_DEVMEM_FW_STAGE_OFF));
	mtia_wr32(mdev, MTIA_REG_FW_STAGE_SIZE, fw->size);

	return 0;
}

static int mtia_fw_wait_ready(struct mtia_device *mdev)
{
	struct device *dev = &mdev->pdev->dev;
	unsigned int timeout_ms = READ_ONCE(fw_boot_timeout_ms);
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);
	u32 boot, status;

	for (;;) {
		boot = mtia_rd32(mdev, MTIA_REG_FW_BOOT_STATUS);
		status = mtia_rd32(mdev, MTIA_REG_FW_STATUS);
		WRITE_ONCE(mdev->fw_boot_status, boot);

		if (boot == MTIA_BOOT_HALTED) {
			mtia_fw_log_halt(mdev, "firmware halted during boot");
			return -EIO;
		}
		if (boot != MTIA_BOOT_IDLE && boot != MTIA_BOOT_RUNNING) {
			dev_err(dev, "firmware image %s refused by boot ROM: %s (0x%02x)\n",
				fw_name, mtia_boot_status_name(boot), boot);
			return -ENOEXEC;
		}
		if (boot == MTIA_BOOT_RUNNING && status == MTIA_FW_STATUS_READY)
			return 0;
		if (boot == MTIA_BOOT_RUNNING && status == MTIA_FW_STATUS_ERROR) {
			dev_err(dev, "firmware reported an error during boot (FW_STATUS error); see debugfs fw_log\n");
			return -EIO;
		}
		if (time_after(jiffies, deadline)) {
			dev_err(dev, "firmware boot timed out after %u ms: boot ROM %s, firmware status %s, heartbeat %u, %llu instructions retired\n",
				timeout_ms, mtia_boot_status_name(boot),
				mtia_fw_status_name(status),
				mtia_rd32(mdev, MTIA_REG_FW_HEARTBEAT),
				mtia_rd64(mdev, MTIA_REG_FW_INSTRET_LO,
					  MTIA_REG_FW_INSTRET_HI));
			return -ETIMEDOUT;
		}
		wait_for_completion_timeout(&mdev->fw_event,
					    msecs_to_jiffies(MTIA_FW_POLL_MS));
	}
}

/* Firmware is READY: cross-check its version and learn its heartbeat. */
static int mtia_fw_check_locked(struct mtia_device *mdev,
				const struct mtia_fw_header *hdr)
{
	struct device *dev = &mdev->pdev->dev;
	struct mtia_mbox_msg msg = { .opcode = MTIA_ADMIN_GET_VERSION };
	u32 version = mtia_rd32(mdev, MTIA_REG_FW_VERSION);
	u32 hb;
	int ret;

	lockdep_assert_held(&mdev->mbox_lock);

	ret = mtia_mbox_exec_locked(mdev, &msg, mtia_mbox_timeout_ms, 0);
	if (ret) {
		dev_err(dev, "firmware does not answer GET_VERSION (%d)\n", ret);
		return ret;
	}
	if (msg.args[0] != version) {
		dev_err(dev, "firmware version mismatch: FW_VERSION register 0x%06x, GET_VERSION 0x%06x\n",
			version, msg.args[0]);
		return -EPROTO;
	}
	if (le32_to_cpu(hdr->fw_version) != version)
		dev_warn(dev, "firmware %s header says version 0x%06x, running firmware reports 0x%06x\n",
			 fw_name, le32_to_cpu(hdr->fw_version), version);

	ret = mtia_mbox_get_param_locked(mdev, MTIA_PARAM_HEARTBEAT_MS, &hb);
	if (ret || !hb) {
		dev_warn(dev, "cannot read the firmware heartbeat period (%d), assuming %u ms\n",
			 ret, MTIA_FW_HB_DEFAULT_MS);
		hb = MTIA_FW_HB_DEFAULT_MS;
	}
	mdev->fw_heartbeat_ms = hb;
	mdev->fw_version = version;

	return 0;
}

/* The image from the firmware search path; a dev_err line if there is none. */
static int mtia_fw_request(struct mtia_device *mdev,
			   const struct firmware **fw)
{
	struct device *dev = &mdev->pdev->dev;
	int ret;

	ret = firmware_request_nowarn(fw, fw_name, dev);
	if (ret == -ENOENT)
		dev_err(dev, "cannot load firmware %s: file not found in the firmware search path (firmware_class.path, /lib/firmware) (%d)\n",
			fw_name, ret);
	else if (ret)
		dev_err(dev, "cannot load firmware %s (%d)\n", fw_name, ret);
	return ret;
}

/*
 * Stage @fw, start the control core on it and wait until the firmware is
 * READY and answers the mailbox (the mailbox is left open).
 */
static int mtia_fw_start_locked(struct mtia_device *mdev, const struct firmware *fw)
{
	struct device *dev = &mdev->pdev->dev;
	struct mtia_fw_header hdr;
	u16 seq;
	u64 rtt;
	int ret;

	lockdep_assert_held(&mdev->mbox_lock);

	ret = mtia_fw_stage(mdev, fw, &hdr);
	if (ret)
		return ret;

	reinit_completion(&mdev->fw_event);
	mtia_wr32(mdev, MTIA_REG_FW_BOOT, MTIA_FW_BOOT_KEY);

	ret = mtia_fw_wait_ready(mdev);
	if (ret)
		return ret;

	WRITE_ONCE(mdev->mbox_up, true);
	ret = mtia_fw_check_locked(mdev, &hdr);
	if (ret)
		return ret;

	ret = mtia_mbox_ping_locked(mdev, &seq, &rtt);
	if (ret) {
		dev_err(dev, "firmware does not answer PING (%d)\n", ret);
		return ret;
	}
	dev_dbg(dev, "firmware ping seq %u: round trip %llu ns\n", seq, rtt);
	return 0;
}

/**
 * mtia_fw_boot_locked() - load the firmware image and boot the control core.
 * @mdev: the device, reset, interrupts enabled; caller holds @mdev->mbox_lock.
 *
 * On success the firmware is READY, its version known and the mailbox open.
 * On failure the device is reset (so the core is stopped), with every
 * interrupt cause masked, and a dev_err line says what went wrong.
 *
 * Return: 0 or a negative errno.
 */
int mtia_fw_boot_locked(struct mtia_device *mdev)
{
	struct device *dev = &mdev->pdev->dev;
	const struct firmware *fw;
	ktime_t start = ktime_get();
	/* Every runtime resume boots again: only dev_dbg says so then. */
	bool resume = mdev->fw_state == MTIA_FW_SUSPENDED;
	struct firmware kept = {};
	ktime_t t0;
	u32 v;
	int ret;

	lockdep_assert_held(&mdev->mbox_lock);

	WRITE_ONCE(mdev->fw_state, MTIA_FW_BOOTING);
	WRITE_ONCE(mdev->mbox_up, false);
	/* Until the boot ROM has looked at an image. */
	WRITE_ONCE(mdev->fw_boot_status, MTIA_BOOT_IDLE);
	mdev->fw_version = 0;

	/*
	 * A resume boots a copy of the last boot's image: the file may be
	 * gone, or (system resume) its file system not back yet. Probe and
	 * recovery load the file again.
	 */
	if (resume && mdev->fw_copy) {
		kept.data = mdev->fw_copy;
		kept.size = mdev->fw_copy_size;
		fw = &kept;
	} else {
		ret = mtia_fw_request(mdev, &fw);
		if (ret)
			goto err_reset;
	}
	t0 = ktime_get();
	ret = mtia_fw_start_locked(mdev, fw);
	if (ret)
		goto err_release;

	v = mdev->fw_version;
	if (resume)
		dev_dbg(dev, "firmware %u.%u.%u ready after resume (%lld ms)\n",
			mtia_fw_version_major(v), mtia_fw_version_minor(v),
			mtia_fw_version_patch(v),
			ktime_ms_delta(ktime_get(), t0));
	else
		dev_info(dev, "firmware %u.%u.%u ready (%s, %zu bytes, %lld ms)\n",
			 mtia_fw_version_major(v), mtia_fw_version_minor(v),
			 mtia_fw_version_patch(v), fw_name, fw->size,
			 ktime_ms_delta(ktime_get(), t0));
	if (fw != &kept) {
		/* Without memory for the copy a resume loads the file. */
		kvfree(mdev->fw_copy);
		mdev->fw_copy = kvmemdup(fw->data, fw->size, GFP_KERNEL);
		mdev->fw_copy_size = fw->size;
		release_firmware(fw);
	}

	mdev->hb_last = mtia_rd32(mdev, MTIA_REG_FW_HEARTBEAT);
	mdev->hb_changed = jiffies;
	WRITE_ONCE(mdev->fw_state, MTIA_FW_READY);
	trace_mtia_fw_boot(dev, fw_name, 0, v,
			   ktime_ms_delta(ktime_get(), start));
	return 0;

err_release:
	if (fw != &kept)
		release_firmware(fw);
err_reset:
	WRITE_ONCE(mdev->mbox_up, false);
	mdev->fw_version = 0;
	WRITE_ONCE(mdev->fw_state, MTIA_FW_OFF);
	/* Stop the core; this also masks every interrupt cause. */
	mtia_hw_reset(mdev);
	trace_mtia_fw_boot(dev, fw_name, ret, 0,
			   ktime_ms_delta(ktime_get(), start));
	return ret;
}
