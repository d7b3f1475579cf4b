/* SPDX-License-Identifier: MIT */
/*
 * mtia-open DRM accel UAPI (/dev/accel/accelN, DRM driver name "mtia").
 *
 * ABI rules (tests/abi checks the layout of every struct here):
 *  - fixed-width __u types only, explicit padding, 8-byte aligned __u64;
 *  - every ioctl struct carries flags and reserved fields that must be zero,
 *    so they can gain meaning later without a new ioctl;
 *  - variable-size results are returned through a user pointer plus a size,
 *    so a struct can grow: the kernel writes min(size, its own size) bytes and
 *    reports how many it wrote.
 */
#ifndef _UAPI_MTIA_ACCEL_H_
#define _UAPI_MTIA_ACCEL_H_

#include "drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

#define MTIA_DRIVER_NAME "mtia"

#define DRM_MTIA_GET_INFO 0x00
#define DRM_MTIA_BO_CREATE 0x01
#define DRM_MTIA_BO_INFO 0x02
#define DRM_MTIA_QUEUE_CREATE 0x03
#define DRM_MTIA_QUEUE_DESTROY 0x04
#define DRM_MTIA_SUBMIT 0x05
#define DRM_MTIA_WAIT 0x06
#define DRM_MTIA_BO_MAP 0x07
#define DRM_MTIA_DIRECT_CREATE 0x08
#define DRM_MTIA_DIRECT_DESTROY 0x09
#define DRM_MTIA_DIRECT_WAIT 0x0a
#define DRM_MTIA_DIRECT_SIGNAL 0x0b

#define DRM_IOCTL_MTIA_GET_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_GET_INFO, struct drm_mtia_get_info)
#define DRM_IOCTL_MTIA_BO_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_BO_CREATE, struct drm_mtia_bo_create)
#define DRM_IOCTL_MTIA_BO_INFO \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_BO_INFO, struct drm_mtia_bo_info)
#define DRM_IOCTL_MTIA_QUEUE_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_QUEUE_CREATE, struct drm_mtia_queue_create)
#define DRM_IOCTL_MTIA_QUEUE_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_MTIA_QUEUE_DESTROY, struct drm_mtia_queue_destroy)
#define DRM_IOCTL_MTIA_SUBMIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_SUBMIT, struct drm_mtia_submit)
#define DRM_IOCTL_MTIA_WAIT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_WAIT, struct drm_mtia_wait)
#define DRM_IOCTL_MTIA_BO_MAP \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_BO_MAP, struct drm_mtia_bo_map)
#define DRM_IOCTL_MTIA_DIRECT_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_DIRECT_CREATE, struct drm_mtia_direct_create)
#define DRM_IOCTL_MTIA_DIRECT_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + DRM_MTIA_DIRECT_DESTROY, struct drm_mtia_direct_destroy)
#define DRM_IOCTL_MTIA_DIRECT_WAIT \
	DRM_IOW(DRM_COMMAND_BASE + DRM_MTIA_DIRECT_WAIT, struct drm_mtia_direct_wait)
#define DRM_IOCTL_MTIA_DIRECT_SIGNAL \
	DRM_IOW(DRM_COMMAND_BASE + DRM_MTIA_DIRECT_SIGNAL, struct drm_mtia_direct_signal)

/**
 * struct drm_mtia_info - device description returned by GET_INFO.
 *
 * New fields are only ever appended; MTIA_INFO_SIZE_V0 is the size of the
 * first version, the smallest buffer GET_INFO accepts.
 */
struct drm_mtia_info {
	__u32 chip_id;          /* MTIA_CHIP_ID_* from the device */
	__u32 revision;         /* silicon revision */
	__u32 if_version_major; /* device register interface */
	__u32 if_version_minor;
	__u32 pe_rows;          /* processing-element grid */
	__u32 pe_cols;
	__u64 sram_bytes;       /* on-chip SRAM */
	__u64 devmem_bytes;     /* device memory (BAR2) */
	__u32 drv_major;        /* driver version */
	__u32 drv_minor;
	__u32 drv_patch;
	__u32 fw_version;       /* 0 until firmware is loaded */
	__u32 msix_vectors;     /* vectors the driver enabled */
	__u32 pad;              /* zero */
};

#define MTIA_INFO_SIZE_V0 64

/**
 * struct drm_mtia_get_info - DRM_IOCTL_MTIA_GET_INFO argument.
 * @size: in: bytes available at @info_ptr (>= MTIA_INFO_SIZE_V0);
 *        out: bytes the kernel wrote.
 * @flags: must be zero.
 * @info_ptr: user pointer to a struct drm_mtia_info.
 * @reserved: must be zero.
 */
struct drm_mtia_get_info {
	__u32 size;
	__u32 flags;
	__u64 info_ptr;
	__u64 reserved[2];
};

/* drm_mtia_bo_create.placement */
#define MTIA_BO_HOST   0 /* host memory (shmem), DMA-mapped when a job uses it */
#define MTIA_BO_DEVICE 1 /* device memory (BAR2), from the driver's allocator */

/**
 * struct drm_mtia_bo_create - DRM_IOCTL_MTIA_BO_CREATE argument.
 * @size: in: bytes, > 0; rounded up to the page size.
 * @placement: in: MTIA_BO_HOST or MTIA_BO_DEVICE.
 * @flags: must be zero.
 * @handle: out: GEM handle, released with DRM_IOCTL_GEM_CLOSE.
 * @pad: zero.
 * @reserved: must be zero.
 *
 * A device BO larger than the free device memory fails with -ENOSPC.
 */
struct drm_mtia_bo_create {
	__u64 size;
	__u32 placement;
	__u32 flags;
	__u32 handle;
	__u32 pad;
	__u64 reserved[2];
};

/**
 * struct drm_mtia_bo_info - DRM_IOCTL_MTIA_BO_INFO argument.
 * @handle: in: a GEM handle of this file.
 * @flags: must be zero.
 * @size: out: bytes (page-aligned).
 * @mmap_offset: out: offset to pass to mmap() on the device fd.
 * @placement: out: MTIA_BO_HOST or MTIA_BO_DEVICE.
 * @pad: zero.
 * @devmem_offset: out: for device BOs, the byte offset in device memory
 *                 (what mtia-smi and debugging show); 0 for host BOs.
 * @reserved: must be zero.
 */
struct drm_mtia_bo_info {
	__u32 handle;
	__u32 flags;
	__u64 size;
	__u64 mmap_offset;
	__u32 placement;
	__u32 pad;
	__u64 devmem_offset;
	__u64 reserved[2];
};

/* Queue priorities, honoured by the device's queue arbitration. */
#define MTIA_QUEUE_PRIO_LOW    0
#define MTIA_QUEUE_PRIO_NORMAL 1
#define MTIA_QUEUE_PRIO_HIGH   2

/**
 * struct drm_mtia_queue_create - DRM_IOCTL_MTIA_QUEUE_CREATE argument.
 * @priority: in: MTIA_QUEUE_PRIO_*.
 * @flags: must be zero.
 * @queue_id: out: id of this file's new in-order queue (a runtime stream).
 * @pad: zero.
 * @reserved: must be zero.
 *
 * Jobs of one queue run in submission order; jobs of different queues (of
 * this file or others) may run concurrently.
 */
struct drm_mtia_queue_create {
	__u32 priority;
	__u32 flags;
	__u32 queue_id;
	__u32 pad;
	__u64 reserved[2];
};

/**
 * struct drm_mtia_queue_destroy - DRM_IOCTL_MTIA_QUEUE_DESTROY argument.
 * @queue_id: in: a queue of this file; its pending jobs still complete.
 * @flags: must be zero.
 * @reserved: must be zero.
 */
struct drm_mtia_queue_destroy {
	__u32 queue_id;
	__u32 flags;
	__u64 reserved;
};

/**
 * struct drm_mtia_cmd - one command of a job, as user space writes it.
 * @opcode: MTIA_CMD_* of mtia_spec.h (NOP, COPY, FILL, FENCE, TIMESTAMP,
 *          COMPUTE).
 * @flags: MTIA_CMD_F_* of mtia_spec.h.
 * @pad0: zero.
 * @pad1: zero.
 * @len: bytes (COPY, FILL; 8 for TIMESTAMP; COMPUTE: the program, a
 *       multiple of MTIA_OP_BYTES, 1..MTIA_MAX_PROGRAM_OPS ops).
 * @value: FILL pattern; COMPUTE: the arena's size in bytes (non-zero).
 * @src_bo: index into the job's @bo_handles (COPY source; COMPUTE program,
 *          a host or device BO).
 * @dst_bo: index into the job's @bo_handles (COPY/FILL/TIMESTAMP target;
 *          COMPUTE arena, which must be a device-memory BO).
 * @src_offset: byte offset in the source BO.
 * @dst_offset: byte offset in the destination BO.
 * @reserved: must be zero.
 *
 * Operands name BOs of the job, never addresses: the driver checks that
 * every byte a command touches lies inside a BO listed in the job
 * (COMPUTE: [src_offset, src_offset + len) and [dst_offset, dst_offset +
 * value)), else SUBMIT fails with -EINVAL. The driver does not parse a
 * COMPUTE program: the device validates it before running any op, and a
 * bad one fails the job with cqe_status MTIA_CQE_BAD_PROGRAM. Tensor
 * offsets in the program are relative to the arena (docs/compute.md).
 */
struct drm_mtia_cmd {
	__u8 opcode;
	__u8 flags;
	__u16 pad0;
	__u32 pad1;
	__u64 len;
	__u64 value;
	__u32 src_bo;
	__u32 dst_bo;
	__u64 src_offset;
	__u64 dst_offset;
	__u64 reserved[2];
};

#define MTIA_MAX_CMDS_PER_JOB 4096
#define MTIA_MAX_BOS_PER_JOB  256
#define MTIA_MAX_SYNCOBJS     64

/**
 * struct drm_mtia_submit - DRM_IOCTL_MTIA_SUBMIT argument.
 * @cmds: in: user pointer to struct drm_mtia_cmd[@cmd_count].
 * @bo_handles: in: user pointer to __u32[@bo_count] GEM handles, each
 *              at most once (else -EINVAL).
 * @in_syncobjs: in: user pointer to __u32[@in_syncobj_count] syncobj
 *               handles the job waits for before it runs.
 * @cmd_count: in: 1..MTIA_MAX_CMDS_PER_JOB.
 * @bo_count: in: 0..MTIA_MAX_BOS_PER_JOB.
 * @in_syncobj_count: in: 0..MTIA_MAX_SYNCOBJS.
 * @out_syncobj: in: 0, or a syncobj to receive the job's completion fence.
 * @queue_id: in: from DRM_IOCTL_MTIA_QUEUE_CREATE.
 * @flags: must be zero.
 * @seqno: out: the job's sequence number in its queue, for DRM_IOCTL_MTIA_WAIT.
 * @reserved: must be zero.
 */
struct drm_mtia_submit {
	__u64 cmds;
	__u64 bo_handles;
	__u64 in_syncobjs;
	__u32 cmd_count;
	__u32 bo_count;
	__u32 in_syncobj_count;
	__u32 out_syncobj;
	__u32 queue_id;
	__u32 flags;
	__u64 seqno;
	__u64 reserved[2];
};

/**
 * struct drm_mtia_wait - DRM_IOCTL_MTIA_WAIT argument.
 * @queue_id: in: a queue of this file.
 * @flags: must be zero.
 * @seqno: in: from DRM_IOCTL_MTIA_SUBMIT.
 * @timeout_ns: in: how long to wait; 0 polls.
 * @status: out: 0 if the job completed, -EFAULT if an operand did not
 *          translate in the device MMU (@cqe_status
 *          MTIA_CQE_TRANSLATION_FAULT: an address no BO of the file
 *          covers), -EIO if a command failed on the device otherwise
 *          (@cqe_status says how), -ECANCELED if the job was cancelled by
 *          a device reset or timeout, -ENODEV if the device was removed
 *          or given up before the job finished.
 * @cqe_status: out: MTIA_CQE_* of the first failing command, else 0.
 * @device_ns: out: the device's estimate (its timing model) of the time the
 *             job's COMPUTE commands took on the PE grid, ns: the sum of
 *             their completions' results; 0 without COMPUTE, or when the
 *             job is older than the last 256 of its queue. Ignored on input
 *             (it was a must-be-zero reserved field).
 *
 * The ioctl itself fails with -ETIME if the job is not done in time, and
 * -EINVAL for a seqno the queue never handed out.
 */
struct drm_mtia_wait {
	__u32 queue_id;
	__u32 flags;
	__u64 seqno;
	__u64 timeout_ns;
	__s32 status;
	__u32 cqe_status;
	__u64 device_ns;
};

/**
 * struct drm_mtia_bo_map - DRM_IOCTL_MTIA_BO_MAP argument: a BO's device
 * virtual address in this file's context (device MMU), mapped now if no
 * SUBMIT mapped it yet, for commands written to a direct queue.
 * -EOPNOTSUPP without the MMU. While the file has a direct queue, a BO
 * stays mapped (and its host pages pinned) after its handle is closed,
 * until the file has no direct queue left: the kernel cannot know when
 * the device is done with it.
 * @handle: in: a GEM handle of this file.
 * @flags: must be zero.
 * @va: out: the BO's VA: a command's operand is va + offset.
 * @reserved: must be zero.
 */
struct drm_mtia_bo_map {
	__u32 handle;
	__u32 flags;
	__u64 va;
	__u64 reserved[2];
};

/* Largest direct queue ring: 2^MTIA_DIRECT_ORDER_MAX entries. */
#define MTIA_DIRECT_ORDER_MAX 10

/**
 * struct drm_mtia_direct_create - DRM_IOCTL_MTIA_DIRECT_CREATE argument: a
 * direct queue, a hardware queue of this file's own that the process
 * feeds without system calls (docs/queues.md "Bound queues"). The process
 * writes struct mtia_cmd (include/mtia/mtia_spec.h) with ctx = @ctx and VA
 * operands (DRM_IOCTL_MTIA_BO_MAP) into the SQ ring, writes the new tail
 * to its doorbell page at MTIA_DB_SQ_TAIL, reads struct mtia_cqe from the
 * CQ ring by their phase bit and writes its CQ head at MTIA_DB_CQ_HEAD.
 * The device runs only this context's commands on it, through its page
 * tables. Needs the device MMU (-EOPNOTSUPP); -EBUSY when every hardware
 * queue set aside for direct queues is taken. The driver takes the queue
 * back (it runs nothing more; DIRECT_WAIT says why) on a device reset and
 * when a command of this context faults in the device MMU.
 * @priority: in: MTIA_QUEUE_PRIO_*.
 * @flags: must be zero.
 * @sq_order: in: log2 of the SQ's entries, 2..MTIA_DIRECT_ORDER_MAX.
 * @cq_order: in: log2 of the CQ's entries, 2..MTIA_DIRECT_ORDER_MAX.
 * @queue_id: out: for DIRECT_WAIT and DIRECT_DESTROY.
 * @ctx: out: the context id its commands carry.
 * @sq_offset: out: mmap offset of the SQ ring (read-write, shared).
 * @cq_offset: out: mmap offset of the CQ ring (read-only, shared).
 * @doorbell_offset: out: mmap offset of its doorbell page (one page).
 * @fence_va: out: VA in this context of the queue's fence word, 8 bytes
 *            the driver owns (0 at creation): the process writes growing
 *            values there with FILL64 commands (len 8) behind the work
 *            they mark, and DIRECT_SIGNAL's fences wait for those values.
 * @reserved: must be zero.
 */
struct drm_mtia_direct_create {
	__u32 priority;
	__u32 flags;
	__u32 sq_order;
	__u32 cq_order;
	__u32 queue_id;
	__u32 ctx;
	__u64 sq_offset;
	__u64 cq_offset;
	__u64 doorbell_offset;
	__u64 fence_va;
	__u64 reserved;
};

/**
 * struct drm_mtia_direct_destroy - DRM_IOCTL_MTIA_DIRECT_DESTROY argument:
 * the queue is disabled (commands not yet done are dropped). Its mappings
 * stay valid but reach a queue that runs nothing; the hardware queue goes
 * to another file only once they are unmapped.
 * @queue_id: in: a direct queue of this file.
 * @flags: must be zero.
 * @reserved: must be zero.
 */
struct drm_mtia_direct_destroy {
	__u32 queue_id;
	__u32 flags;
	__u64 reserved;
};

/**
 * struct drm_mtia_direct_wait - DRM_IOCTL_MTIA_DIRECT_WAIT argument: sleep
 * until the CQ entry @cq_index holds a completion of phase @phase (woken by
 * the queue's interrupt, so an idle waiter costs no CPU). 0 once it does,
 * -ETIME at the timeout, -ECANCELED if the queue was lost to a device
 * reset, -EFAULT if the driver took it back after a command of this
 * context faulted in the device MMU (in both cases: destroy it and create
 * another), -EINTR on a signal.
 * @queue_id: in: a direct queue of this file.
 * @flags: must be zero.
 * @cq_index: in: the entry (the process's CQ head), < the CQ's entries.
 * @phase: in: 0 or 1, the phase bit a new completion there has.
 * @timeout_ns: in: how long to wait; 0 polls.
 */
struct drm_mtia_direct_wait {
	__u32 queue_id;
	__u32 flags;
	__u32 cq_index;
	__u32 phase;
	__u64 timeout_ns;
};

/**
 * struct drm_mtia_direct_signal - DRM_IOCTL_MTIA_DIRECT_SIGNAL argument:
 * puts in @syncobj (replacing its fence) a fence that signals once the
 * queue's fence word (DIRECT_CREATE's @fence_va) holds @value or more, so
 * kernel-submitted jobs (SUBMIT's in_syncobjs) and other processes can
 * wait for work of a direct queue. The driver checks the word at each of
 * the queue's interrupts. A fence that cannot signal normally still ends:
 * with error -ECANCELED when the queue is destroyed, taken back or its
 * file closed, and -ETIMEDOUT when the word has not reached @value within
 * the driver's job timeout (module parameter job_timeout_ms) of this call.
 * The reverse order, direct work after a syncobj, is the process's to keep:
 * it waits for the syncobj before ringing the doorbell.
 * @queue_id: in: a direct queue of this file.
 * @flags: must be zero.
 * @value: in: the fence word value to wait for (> 0).
 * @syncobj: in: a syncobj handle of this file.
 * @pad: zero.
 * @reserved: must be zero.
 */
struct drm_mtia_direct_signal {
	__u32 queue_id;
	__u32 flags;
	__u64 value;
	__u32 syncobj;
	__u32 pad;
	__u64 reserved[2];
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_MTIA_ACCEL_H_ */
