/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * mtia-open DRM accel driver: tracepoints (tracefs events/mtia/).
 *
 * A job's path, each event naming it by device, file context (ctx), user
 * queue and seqno (docs/debugging.md):
 *
 *   mtia_submit         SUBMIT accepted (the job is pushed to drm_sched)
 *   mtia_run            run_job: written to hardware queue hwq (err < 0:
 *                       not run, cancelled by a reset or the queue is down)
 *   mtia_cqe            one CQE consumed by the CQ handler (every command)
 *   mtia_job_hw_done    the job's last CQE, or the job dropped by a reset
 *                       (err): its hardware fence is signalled
 *   mtia_fence_signal   the job's finished fence (what WAIT and syncobjs
 *                       see) signalled, with its error
 *
 * and around it mtia_timeout (drm_sched's timedout_job), mtia_reset_begin /
 * mtia_reset_end (device reset and firmware reboot, with the reason) and
 * mtia_fw_boot (every firmware boot: result and version).
 *
 * Built out of tree: TRACE_INCLUDE_PATH is "." and Kbuild puts the source
 * directory on the include path, so <trace/define_trace.h> finds this file.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mtia

#if !defined(__MTIA_TRACE_H__) || defined(TRACE_HEADER_MULTI_READ)
#define __MTIA_TRACE_H__

#include <linux/device.h>
#include <linux/tracepoint.h>
#include <linux/types.h>

#include "mtia_job.h"

/*
 * The events of a job's path share one layout, a snapshot of the job: the
 * hardware queue (hwq), ctx, queue and seqno naming it, its commands and
 * BOs, the status of its first failed command so far (cqe_status) and an
 * errno (err). Each prints the fields that matter at its point.
 */
DECLARE_EVENT_CLASS(mtia_job,
		    TP_PROTO(struct device *dev, u32 hwq,
			     const struct mtia_job *job, int err),
		    TP_ARGS(dev, hwq, job, err),
		    TP_STRUCT__entry(__string(dev, dev_name(dev))
				     __field(u32, hwq)
				     __field(u32, ctx)
				     __field(u32, queue)
				     __field(u64, seqno)
				     __field(u32, ncmds)
				     __field(u32, nbos)
				     __field(u16, cqe_status)
				     __field(int, err)),
		    TP_fast_assign(__assign_str(dev);
				   __entry->hwq = hwq;
				   __entry->ctx = job->ctx;
				   __entry->queue = job->queue_id;
				   __entry->seqno = job->seqno;
				   __entry->ncmds = job->ncmds;
				   __entry->nbos = job->nbos;
				   __entry->cqe_status = job->first_err;
				   __entry->err = err;),
		    TP_printk("dev=%s hwq=%u ctx=%u queue=%u seqno=%llu cmds=%u err=%d",
			      __get_str(dev), __entry->hwq, __entry->ctx,
			      __entry->queue, __entry->seqno, __entry->ncmds,
			      __entry->err));

/* SUBMIT accepted: the job is pushed to drm_sched (err 0). */
DEFINE_EVENT_PRINT(mtia_job, mtia_submit,
		   TP_PROTO(struct device *dev, u32 hwq,
			    const struct mtia_job *job, int err),
		   TP_ARGS(dev, hwq, job, err),
		   TP_printk("dev=%s ctx=%u queue=%u seqno=%llu hwq=%u cmds=%u bos=%u",
			     __get_str(dev), __entry->ctx, __entry->queue,
			     __entry->seqno, __entry->hwq, __entry->ncmds,
			     __entry->nbos));

/* run_job handed the job to hardware queue hwq (err < 0: not run). */
DEFINE_EVENT(mtia_job, mtia_run,
	     TP_PROTO(struct device *dev, u32 hwq, const struct mtia_job *job,
		      int err),
	     TP_ARGS(dev, hwq, job, err));

/* The job left its hardware queue: its last CQE, or a reset (err). */
DEFINE_EVENT_PRINT(mtia_job, mtia_job_hw_done,
		   TP_PROTO(struct device *dev, u32 hwq,
			    const struct mtia_job *job, int err),
		   TP_ARGS(dev, hwq, job, err),
		   TP_printk("dev=%s hwq=%u ctx=%u queue=%u seqno=%llu cqe_status=%u err=%d",
			     __get_str(dev), __entry->hwq, __entry->ctx,
			     __entry->queue, __entry->seqno,
			     __entry->cqe_status, __entry->err));

/* The job's finished fence (what WAIT and syncobjs see) signalled. */
DEFINE_EVENT_PRINT(mtia_job, mtia_fence_signal,
		   TP_PROTO(struct device *dev, u32 hwq,
			    const struct mtia_job *job, int err),
		   TP_ARGS(dev, hwq, job, err),
		   TP_printk("dev=%s ctx=%u queue=%u seqno=%llu err=%d",
			     __get_str(dev), __entry->ctx, __entry->queue,
			     __entry->seqno, __entry->err));

TRACE_EVENT(mtia_cqe,
	    TP_PROTO(struct device *dev, u32 hwq, u16 cid, u16 status, u64 result,
		     u32 ctx, u32 queue, u64 seqno, u32 cmd),
	    TP_ARGS(dev, hwq, cid, status, result, ctx, queue, seqno, cmd),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __field(u32, hwq)
			     __field(u16, cid)
			     __field(u16, status)
			     __field(u64, result)
			     __field(u32, ctx)
			     __field(u32, queue)
			     __field(u64, seqno)
			     __field(u32, cmd)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->hwq = hwq;
			   __entry->cid = cid;
			   __entry->status = status;
			   __entry->result = result;
			   __entry->ctx = ctx;
			   __entry->queue = queue;
			   __entry->seqno = seqno;
			   __entry->cmd = cmd;),
	    TP_printk("dev=%s hwq=%u cid=%u status=%u result=%llu ctx=%u queue=%u seqno=%llu cmd=%u",
		      __get_str(dev), __entry->hwq, __entry->cid, __entry->status,
		      __entry->result, __entry->ctx, __entry->queue,
		      __entry->seqno, __entry->cmd));

TRACE_EVENT(mtia_timeout,
	    TP_PROTO(struct device *dev, u32 hwq, u32 ctx, u32 queue, u64 seqno,
		     u32 timeout_ms),
	    TP_ARGS(dev, hwq, ctx, queue, seqno, timeout_ms),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __field(u32, hwq)
			     __field(u32, ctx)
			     __field(u32, queue)
			     __field(u64, seqno)
			     __field(u32, timeout_ms)),
	    TP_fast_assign(__assign_str(dev);
			   __entry->hwq = hwq;
			   __entry->ctx = ctx;
			   __entry->queue = queue;
			   __entry->seqno = seqno;
			   __entry->timeout_ms = timeout_ms;),
	    TP_printk("dev=%s hwq=%u ctx=%u queue=%u seqno=%llu timeout_ms=%u",
		      __get_str(dev), __entry->hwq, __entry->ctx, __entry->queue,
		      __entry->seqno, __entry->timeout_ms));

TRACE_EVENT(mtia_reset_begin,
	    TP_PROTO(struct device *dev, const char *reason, int count),
	    TP_ARGS(dev, reason, count),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __string(reason, reason)
			     __field(int, count)),
	    TP_fast_assign(__assign_str(dev);
			   __assign_str(reason);
			   __entry->count = count;),
	    TP_printk("dev=%s reason=%s resets=%d", __get_str(dev),
		      __get_str(reason), __entry->count));

TRACE_EVENT(mtia_reset_end,
	    TP_PROTO(struct device *dev, const char *reason, int err,
		     const char *fw_state),
	    TP_ARGS(dev, reason, err, fw_state),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __string(reason, reason)
			     __field(int, err)
			     __string(fw_state, fw_state)),
	    TP_fast_assign(__assign_str(dev);
			   __assign_str(reason);
			   __entry->err = err;
			   __assign_str(fw_state);),
	    TP_printk("dev=%s reason=%s err=%d fw_state=%s", __get_str(dev),
		      __get_str(reason), __entry->err, __get_str(fw_state)));

TRACE_EVENT(mtia_fw_boot,
	    TP_PROTO(struct device *dev, const char *name, int err, u32 version,
		     s64 ms),
	    TP_ARGS(dev, name, err, version, ms),
	    TP_STRUCT__entry(__string(dev, dev_name(dev))
			     __string(name, name)
			     __field(int, err)
			     __field(u32, version)
			     __field(s64, ms)),
	    TP_fast_assign(__assign_str(dev);
			   __assign_str(name);
			   __entry->err = err;
			   __entry->version = version;
			   __entry->ms = ms;),
	    TP_printk("dev=%s fw=%s err=%d version=%u.%u.%u ms=%lld",
		      __get_str(dev), __get_str(name), __entry->err,
		      (__entry->version >> 16) & 0xff,
		      (__entry->version >> 8) & 0xff, __entry->version & 0xff,
		      __entry->ms));

#endif /* __MTIA_TRACE_H__ */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE mtia_trace
#include <trace/define_trace.h>
