// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: admin mailbox to the control-core firmware.
 *
 * One command slot and one response slot of 16 32-bit words each (struct
 * mtia_mbox_msg). The host writes MBOX_CMD and rings MBOX_DOORBELL; the
 * firmware writes MBOX_RESP, echoing opcode and sequence number, and raises
 * MTIA_IRQ_MBOX. Commands are serialised by @mbox_lock, which firmware boot
 * and recovery also hold, so no command is ever in flight across a reset.
 * When a recovery starts, waiting commands are woken and fail with -EIO.
 */

#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/wait.h>

#include "mtia_hw.h"

#define MTIA_MBOX_WORDS		(MTIA_MBOX_MSG_BYTES / 4)
#define MTIA_MBOX_PING_COOKIE	0x676e6970u	/* "ping" */

unsigned int mtia_mbox_timeout_ms = 1000;
module_param_named(mbox_timeout_ms, mtia_mbox_timeout_ms, uint, 0644);
MODULE_PARM_DESC(mbox_timeout_ms, "admin mailbox command timeout (default 1000)");

/**
 * mtia_mbox_init() - set up the mailbox state (closed until firmware boots).
 * @mdev: the device.
 */
void mtia_mbox_init(struct mtia_device *mdev)
{
	mutex_init(&mdev->mbox_lock);
	init_waitqueue_head(&mdev->mbox_wq);
	atomic_set(&mdev->mbox_posts, 0);
	mdev->mbox_seq = 0;
	mdev->mbox_up = false;
}

/**
 * mtia_mbox_lock() - take the mailbox for one or more admin commands.
 * @mdev: the device.
 *
 * Fails fast while the firmware is not ready (booting, recovering, dead).
 *
 * Return: 0 with the mailbox locked, -EIO if the firmware is not ready,
 * -EINTR if interrupted while waiting for the lock.
 */
int mtia_mbox_lock(struct mtia_device *mdev)
{
	int ret;

	/* Resumes a suspended device (its firmware boots again). */
	ret = mtia_pm_get(mdev);
	if (ret)
		return ret;
	ret = -EIO;
	if (READ_ONCE(mdev->fw_state) != MTIA_FW_READY)
		goto err_pm;
	ret = -EINTR;
	if (mutex_lock_interruptible(&mdev->mbox_lock))
		goto err_pm;
	if (mdev->fw_state != MTIA_FW_READY || !mdev->mbox_up) {
		mutex_unlock(&mdev->mbox_lock);
		ret = -EIO;
		goto err_pm;
	}
	return 0;
err_pm:
	mtia_pm_put(mdev);
	return ret;
}

/**
 * mtia_mbox_unlock() - release the mailbox.
 * @mdev: the device.
 */
void mtia_mbox_unlock(struct mtia_device *mdev)
{
	mutex_unlock(&mdev->mbox_lock);
	mtia_pm_put(mdev);
}

static bool mtia_mbox_answered(struct mtia_device *mdev, int posts, u32 word0)
{
	if (!READ_ONCE(mdev->mbox_up))
		return true;
	return atomic_read(&mdev->mbox_posts) != posts &&
	       mtia_rd32(mdev, MTIA_REG_MBOX_RESP) == word0;
}

/**
 * mtia_mbox_exec_locked() - send one admin command and wait for its response.
 * @mdev: the device; caller holds @mdev->mbox_lock.
 * @msg: in: opcode and args; out: the response (status, args).
 * @timeout_ms: how long to wait for the response.
 * @flags: MTIA_MBOX_QUIET: no dev_err on timeout.
 *
 * Return: 0 on MTIA_ADMIN_STATUS_OK, -EOPNOTSUPP / -EINVAL / -EREMOTEIO for
 * the other statuses (left in @msg->status), -ETIMEDOUT if the firmware did
 * not answer, -EIO if the mailbox is closed or was closed while waiting.
 */
int mtia_mbox_exec_locked(struct mtia_device *mdev, struct mtia_mbox_msg *msg,
			  unsigned int timeout_ms, unsigned int flags)
{
	u32 words[MTIA_MBOX_WORDS];
	u32 word0;
	long left;
	int posts, i;

	lockdep_assert_held(&mdev->mbox_lock);
	BUILD_BUG_ON(sizeof(*msg) != MTIA_MBOX_MSG_BYTES);

	if (!READ_ONCE(mdev->mbox_up))
		return -EIO;

	msg->seq = ++mdev->mbox_seq;
	msg->status = 0;
	word0 = mtia_mbox_word0(msg->opcode, msg->seq);

	posts = atomic_read(&mdev->mbox_posts);
	mtia_wr32(mdev, MTIA_REG_MBOX_CMD, word0);
	mtia_wr32(mdev, MTIA_REG_MBOX_CMD + 4, 0);
	for (i = 0; i < ARRAY_SIZE(msg->args); i++)
		mtia_wr32(mdev, MTIA_REG_MBOX_CMD + 8 + 4 * i, msg->args[i]);
	mtia_wr32(mdev, MTIA_REG_MBOX_DOORBELL, 1);

	left = wait_event_timeout(mdev->mbox_wq,
				  mtia_mbox_answered(mdev, posts, word0),
				  msecs_to_jiffies(timeout_ms));
	if (!READ_ONCE(mdev->mbox_up))
		return -EIO;
	if (!left) {
		if (!(flags & MTIA_MBOX_QUIET))
			dev_err(&mdev->pdev->dev,
				"admin command 0x%04x seq %u timed out after %u ms (doorbell %u, firmware status %u, boot status 0x%02x)\n",
				msg->opcode, msg->seq, timeout_ms,
				mtia_rd32(mdev, MTIA_REG_MBOX_DOORBELL),
				mtia_rd32(mdev, MTIA_REG_FW_STATUS),
				mtia_rd32(mdev, MTIA_REG_FW_BOOT_STATUS));
		return -ETIMEDOUT;
	}

	for (i = 0; i < MTIA_MBOX_WORDS; i++)
		words[i] = mtia_rd32(mdev, MTIA_REG_MBOX_RESP + 4 * i);
	if (words[0] != word0) {
		/* Overwritten between the wake-up and the read. */
		dev_err(&mdev->pdev->dev,
			"admin command 0x%04x seq %u: response header changed to 0x%08x\n",
			msg->opcode, msg->seq, words[0]);
		return -EPROTO;
	}
	msg->status = words[1];
	for (i = 0; i < ARRAY_SIZE(msg->args); i++)
		msg->args[i] = words[2 + i];

	switch (msg->status) {
	case MTIA_ADMIN_STATUS_OK:
		return 0;
	case MTIA_ADMIN_STATUS_BAD_OPCODE:
		return -EOPNOTSUPP;
	case MTIA_ADMIN_STATUS_BAD_ARG:
		return -EINVAL;
	default:
		return -EREMOTEIO;
	}
}

/**
 * mtia_mbox_ping_locked() - PING the firmware and check the arguments come
 * back.
 * @mdev: the device; caller holds @mdev->mbox_lock.
 * @seq: out: the sequence number used.
 * @rtt_ns: out: round trip time.
 *
 * Return: 0, -EPROTO if the arguments were not echoed, or as
 * mtia_mbox_exec_locked().
 */
int mtia_mbox_ping_locked(struct mtia_device *mdev, u16 *seq, u64 *rtt_ns)
{
	struct mtia_mbox_msg msg = { .opcode = MTIA_ADMIN_PING };
	u32 cookie = MTIA_MBOX_PING_COOKIE ^ (mdev->mbox_seq + 1);
	ktime_t t0;
	int ret, i;

	lockdep_assert_held(&mdev->mbox_lock);

	for (i = 0; i < ARRAY_SIZE(msg.args); i++)
		msg.args[i] = cookie + i;
	t0 = ktime_get();
	ret = mtia_mbox_exec_locked(mdev, &msg, mtia_mbox_timeout_ms, 0);
	*rtt_ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	*seq = msg.seq;
	if (ret)
		return ret;
	for (i = 0; i < ARRAY_SIZE(msg.args); i++) {
		if (msg.args[i] != cookie + i) {
			dev_err(&mdev->pdev->dev,
				"PING seq %u: argument %d came back as 0x%08x, sent 0x%08x\n",
				msg.seq, i, msg.args[i], cookie + i);
			return -EPROTO;
		}
	}
	return 0;
}

/**
 * mtia_mbox_get_param_locked() - read a firmware parameter (MTIA_PARAM_*).
 * @mdev: the device; caller holds @mdev->mbox_lock.
 * @id: MTIA_PARAM_*.
 * @value: out: its value.
 *
 * Return: 0 or as mtia_mbox_exec_locked().
 */
int mtia_mbox_get_param_locked(struct mtia_device *mdev, u32 id, u32 *value)
{
	struct mtia_mbox_msg msg = { .opcode = MTIA_ADMIN_GET_PARAM };
	int ret;

	lockdep_assert_held(&mdev->mbox_lock);

	msg.args[0] = id;
	ret = mtia_mbox_exec_locked(mdev, &msg, mtia_mbox_timeout_ms, 0);
	if (!ret)
		*value = msg.args[0];
	return ret;
}

/**
 * mtia_mbox_set_param_locked() - set a firmware parameter (MTIA_PARAM_*).
 * @mdev: the device; caller holds @mdev->mbox_lock.
 * @id: MTIA_PARAM_*.
 * @value: the new value.
 *
 * Return: 0, -EINVAL if the firmware refused the value, or as
 * mtia_mbox_exec_locked().
 */
int mtia_mbox_set_param_locked(struct mtia_device *mdev, u32 id, u32 value)
{
	struct mtia_mbox_msg msg = { .opcode = MTIA_ADMIN_SET_PARAM };

	lockdep_assert_held(&mdev->mbox_lock);
	msg.args[0] = id;
	msg.args[1] = value;
	return mtia_mbox_exec_locked(mdev, &msg, mtia_mbox_timeout_ms, 0);
}

/**
 * mtia_mbox_stop() - close the mailbox and abort a command being waited for.
 * @mdev: the device.
 */
void mtia_mbox_stop(struct mtia_device *mdev)
{
	WRITE_ONCE(mdev->mbox_up, false);
	wake_up_all(&mdev->mbox_wq);
}

/**
 * mtia_mbox_irq() - MTIA_IRQ_MBOX: the firmware posted a response.
 * @mdev: the device.
 */
void mtia_mbox_irq(struct mtia_device *mdev)
{
	atomic_inc(&mdev->mbox_posts);
	wake_up_all(&mdev->mbox_wq);
}
