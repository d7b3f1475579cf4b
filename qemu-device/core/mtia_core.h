/* SPDX-License-Identifier: MIT */
/*
 * The mtia device's behaviour core: a C ABI over C++ so that the QEMU glue
 * (qemu-device/qemu/mtia.c) stays thin and the behaviour is unit-tested
 * without QEMU (tests/unit/device_core_test.cc).
 *
 * The core knows nothing about QEMU. The glue hands it MMIO accesses and
 * gets called back through struct mtia_core_host_ops for side effects.
 *
 * Threads: the core owns the control core's thread (an RV32IMC hart running
 * the firmware, see docs/control-core.md), started by a successful firmware
 * boot and stopped by reset, pause, free or a fatal trap, one data-engine
 * worker per hardware queue (docs/queues.md), alive from new to free, and a
 * telemetry thread sampling the board model (docs/telemetry.md) every
 * MTIA_TEL_SAMPLE_MS from new to free.
 * Every mtia_core_* call is thread-safe against that thread (register state
 * is under the core's mutex); the mtia_core_* calls themselves are meant to be
 * made by one host thread at a time (in QEMU: under the BQL). The core never
 * holds its mutex while calling a host op, and never waits for the BQL.
 */
#ifndef MTIA_CORE_H
#define MTIA_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtia_core;
struct mtia_core_trace_event;

/* Device properties, validated by mtia_core_config_validate(). */
struct mtia_core_config {
    uint32_t pe_rows;
    uint32_t pe_cols;
    uint64_t sram_bytes;
    uint64_t devmem_bytes;
    uint32_t msix_vectors;
    uint32_t revision;
    uint64_t serial; /* MTIA_REG_TEL_SERIAL_*; any value (glue: docs/telemetry.md) */
    uint32_t mmu;    /* 1: the device MMU (MTIA_CAP_MMU, the default); 0: none */
    /* The Ed25519 public key the boot ROM trusts (property fw-pubkey); the
     * default is the project's development key (docs/firmware.md). */
    uint8_t fw_pubkey[32];
    /* 1: start the device's threads (telemetry, queue engine workers) at
     * the first BAR0 access or snapshot load instead of in mtia_core_new().
     * For QEMU's fuzzer, which forks a child per input after creating the
     * device: a child has none of its parent's threads, and none of their
     * locks may be held at the fork (docs/reliability.md). 0: the default. */
    uint32_t defer_threads;
};

/* Side effects the core asks of its host. Any pointer may be NULL. */
struct mtia_core_host_ops {
    /* Raise MSI-X vector @vector (edge). Called from the thread of the
     * mtia_core_* call that caused it, OR from the control-core thread
     * (firmware posting a mailbox response, an event, a trap): the host must
     * not assume it holds any host lock (QEMU: the BQL) when this runs. */
    void (*raise_irq)(void *opaque, unsigned vector);
    /* (Queue completions are raised from the engine's worker threads too.) */
    /* A guest did something wrong; @msg says what (for LOG_GUEST_ERROR).
     * Only called from mtia_core_* calls, never from the control-core thread. */
    void (*guest_error)(void *opaque, const char *msg);
    /* Host memory for the queues and the data engine (docs/queues.md): copy
     * @len bytes between bus address @addr and @buf. 0 on success; non-zero
     * if the access failed (bus mastering off, address unmapped or not RAM),
     * which the device reports as MTIA_CQE_DMA_ERROR. Called from vCPU MMIO,
     * the control-core thread and the engine's worker threads, never with a
     * core lock held; the host must not need a lock that a thread blocked in
     * mtia_core_* holds (QEMU: must not need the BQL). NULL: every host
     * access fails. */
    int (*dma_read)(void *opaque, uint64_t addr, void *buf, uint64_t len);
    int (*dma_write)(void *opaque, uint64_t addr, const void *buf, uint64_t len);
};

/* Trace hook (docs/debugging.md), set by mtia_core_set_trace(): a command's
 * path through the queues and every command error, one struct
 * mtia_core_trace_event each. Called from any thread (vCPU MMIO for
 * doorbells, the control core for fetch and dispatch, engine workers for
 * completions) with no core state lock held (a queue's ring lock may be: the
 * hook must not call back into the core). */
typedef void (*mtia_core_trace_fn)(void *opaque, const struct mtia_core_trace_event *ev);

/* What the trace hook reports, in the order a command meets them. */
enum mtia_core_trace_kind {
    MTIA_CORE_TRACE_DOORBELL_SQ = 1, /* host rang SQ_TAIL: value = the tail */
    MTIA_CORE_TRACE_DOORBELL_CQ,     /* host rang CQ_HEAD: value = the head */
    MTIA_CORE_TRACE_FETCH,           /* firmware fetched SQ[slot]: cid, opcode;
                                    value = the SQ head after it */
    MTIA_CORE_TRACE_DISPATCH,        /* handed to the queue's engine: cid, opcode */
    MTIA_CORE_TRACE_CQE,             /* CQE written to CQ[slot]: cid, status,
                                    value = result */
    MTIA_CORE_TRACE_CMD_ERROR,       /* a command failed (source says who found
                                    it): cid, opcode, status, value = result;
                                    for RING, cid and opcode are unknown (0)
                                    and slot is the ring slot */
    MTIA_CORE_TRACE_MMU_FAULT,       /* an operand of cid/opcode did not
                                    translate: value = the VA, ctx, info =
                                    MTIA_REG_MMU_FAULT_INFO (before its
                                    CMD_ERROR) */
    MTIA_CORE_TRACE_FAULT,           /* an injected fault took effect: source =
                                    enum mtia_core_fault, queue (or
                                    MTIA_CORE_TRACE_NO_QUEUE), cid and opcode
                                    of the command it hit (if any), value
                                    (see enum mtia_core_fault) */
};
#define MTIA_CORE_TRACE_NO_QUEUE 0xffffffffu

/* mtia_core_trace_event.source of MTIA_CORE_TRACE_CMD_ERROR. */
enum mtia_core_trace_source {
    MTIA_CORE_TRACE_BY_FIRMWARE = 1, /* refused by firmware (Q_COMPLETE) */
    MTIA_CORE_TRACE_BY_ENGINE,       /* failed in the engine */
    MTIA_CORE_TRACE_BY_RING,         /* SQ fetch or CQE write DMA failed:
                                        the queue stopped (STATUS.ERROR) */
};

struct mtia_core_trace_event {
    uint32_t kind; /* enum mtia_core_trace_kind */
    uint32_t queue;
    uint32_t cid;
    uint32_t opcode; /* MTIA_CMD_* (FETCH, DISPATCH, CMD_ERROR) */
    uint32_t status; /* MTIA_CQE_* (CQE, CMD_ERROR) */
    uint32_t source; /* enum mtia_core_trace_source (CMD_ERROR) */
    uint32_t slot;   /* SQ slot (FETCH, RING errors) or CQ slot (CQE) */
    uint64_t value;  /* see the kinds */
    uint32_t ctx;    /* the command's context (MMU_FAULT) */
    uint32_t info;   /* MTIA_MMU_FAULT_* reason and access (MMU_FAULT) */
};

/* Installs (or with NULL removes) the trace hook; none by default, and
 * without one no event is even built. Call while no queue is enabled (QEMU:
 * realize), as the core's threads read the hook without a lock. */
void mtia_core_set_trace(struct mtia_core *core, mtia_core_trace_fn fn, void *opaque);

/* Names for trace output: "COPY"...; "?" if unknown (CQE statuses:
 * mtia_cqe_status_name() in mtia_spec.h). */
const char *mtia_core_opcode_name(uint32_t opcode);
const char *mtia_core_trace_source_name(uint32_t source);

/* Migratable state: plain fields so the glue can describe them in vmstate.
 * Version 1 is the register block alone; version 2 adds firmware boot, the
 * mailbox and the whole control core (registers, CSRs, SRAM), so a running
 * core migrates and continues on the destination. Version 3 adds the
 * hardware queues: configuration, ring positions and the firmware's dispatch
 * registers (not engine work: saving refuses while any is outstanding).
 * Version 4 adds the board telemetry that does not re-derive: temperature,
 * power limit, energy and ECC counters (an older stream, whose fields load
 * as zero, leaves the destination's telemetry as it is). Version 5 adds
 * the device MMU's registers (an older stream loads them as zero: MMU
 * off; the TLB is never saved, it refills). Version 6 adds the lifetime
 * (aggregate) ECC counts (an older stream, tel_ecc_agg_present 0, leaves
 * the destination's as they are). */
#define MTIA_CORE_SNAPSHOT_VERSION 6
#define MTIA_CORE_SNAPSHOT_VERSION_MIN 1
#define MTIA_CORE_MBOX_WORDS (64 / 4)
#define MTIA_CORE_CC_SRAM_BYTES 0x40000 /* == MTIA_CC_SRAM_SIZE */
#define MTIA_CORE_NUM_QUEUES 8          /* == MTIA_NUM_QUEUES */
#define MTIA_CORE_Q_WORDS 16
#define MTIA_CORE_SQE_WORDS (64 / 4)
struct mtia_core_snapshot {
    /* version 1 */
    uint32_t scratch;
    uint32_t irq_status;
    uint32_t irq_mask;
    uint32_t reset_count;
    uint32_t err_status;
    uint32_t err_addr;
    /* version 2: firmware boot and mailbox registers */
    uint32_t fw_stage_lo;
    uint32_t fw_stage_hi;
    uint32_t fw_stage_size;
    uint32_t fw_boot_status;
    uint32_t fw_status;
    uint32_t fw_version;
    uint32_t fw_heartbeat;
    uint32_t fw_trap_cause;
    uint32_t fw_trap_pc;
    uint32_t fw_trap_tval;
    uint32_t fw_log_addr;
    uint32_t fw_log_size;
    uint32_t mbox_cmd[MTIA_CORE_MBOX_WORDS];
    uint32_t mbox_resp[MTIA_CORE_MBOX_WORDS];
    uint32_t mbox_doorbell;
    /* version 2: the control core */
    uint32_t cc_running; /* 1: the core was executing firmware */
    uint64_t cc_mtime;   /* mtime when saved; continues from here */
    uint64_t cc_mtimecmp;
    uint32_t cc_x[32]; /* x0..x31 */
    uint32_t cc_pc;
    uint32_t cc_mstatus, cc_misa, cc_mie, cc_mtvec, cc_mscratch, cc_mepc, cc_mcause, cc_mtval, cc_mcountinhibit;
    uint64_t cc_cycle;
    uint64_t cc_instret;
    uint8_t cc_sram[MTIA_CORE_CC_SRAM_BYTES];
    /* version 3: hardware queues, MTIA_CORE_Q_WORDS words per queue:
     * MTIA_CORE_QS_* below */
    uint32_t q_state[MTIA_CORE_NUM_QUEUES * MTIA_CORE_Q_WORDS];
    uint32_t q_sqe[MTIA_CORE_SQE_WORDS]; /* CC_SQE window */
    uint32_t q_sqe_valid;                /* 1: CC_SQE holds a fetched, undispatched command */
    uint32_t q_sqe_queue;                /* its queue */
    uint32_t q_sqe_head;                 /* SQ head after its fetch */
    uint32_t q_fetch_status;
    uint32_t q_select;
    uint32_t q_engine_event;
    /* version 4: board telemetry (tel_power_cap_mw 0: not in the stream) */
    uint32_t tel_temp_mc; /* int32 millidegrees C, as MTIA_REG_TEL_TEMP */
    uint32_t tel_power_cap_mw;
    uint64_t tel_energy_mj;
    uint32_t tel_ecc_corrected;
    uint32_t tel_ecc_uncorrected;
    /* version 5: the device MMU, MTIA_REG_MMU_* (all 0 without one) */
    uint32_t mmu_ctrl;
    uint32_t mmu_ctx_table_lo;
    uint32_t mmu_ctx_table_hi;
    uint32_t mmu_ctx_count;
    uint32_t mmu_fault_addr_lo;
    uint32_t mmu_fault_addr_hi;
    uint32_t mmu_fault_ctx;
    uint32_t mmu_fault_count;
    uint32_t mmu_fault_info;
    /* version 6: aggregate ECC counts (MTIA_REG_TEL_ECC_*_AGG) */
    uint32_t tel_ecc_agg_present; /* 1 in every version 6 stream */
    uint32_t tel_ecc_corrected_agg;
    uint32_t tel_ecc_uncorrected_agg;
};
#define MTIA_CORE_QS_SQ_BASE_LO 0
#define MTIA_CORE_QS_SQ_BASE_HI 1
#define MTIA_CORE_QS_CQ_BASE_LO 2
#define MTIA_CORE_QS_CQ_BASE_HI 3
#define MTIA_CORE_QS_SIZE 4
#define MTIA_CORE_QS_CTRL 5
#define MTIA_CORE_QS_STATUS 6 /* MTIA_Q_STATUS_* flag bits only */
#define MTIA_CORE_QS_COALESCE 7
#define MTIA_CORE_QS_SQ_HEAD 8
#define MTIA_CORE_QS_SQ_TAIL 9
#define MTIA_CORE_QS_CQ_HEAD 10
#define MTIA_CORE_QS_CQ_TAIL 11
#define MTIA_CORE_QS_PHASE 12
#define MTIA_CORE_QS_CTX 13 /* MTIA_Q_CTX; 0 in a snapshot from before it */
/* 13..15 reserved, zero */

/* Per-queue counters (for telemetry), since the queue's last enable. */
struct mtia_core_queue_stats {
    uint64_t commands;    /* commands the engine executed */
    uint64_t completions; /* CQEs written to the CQ ring */
    uint64_t bytes;       /* bytes moved or filled */
    uint64_t busy_ns;     /* time the engine spent executing */
    uint32_t inflight;    /* Q_INFLIGHT */
    uint32_t held;        /* completions waiting for CQ room */
};

void mtia_core_config_default(struct mtia_core_config *cfg);
/* Parses @hex (64 hex digits, an Ed25519 public key) into @key for
 * fw_pubkey: 0, or -1 and a one-line reason in @err. */
int mtia_core_parse_fw_pubkey(const char *hex, uint8_t key[32], char *err, size_t errlen);
/* 0 if @cfg is usable; else -1 and a one-line reason in @err. */
int mtia_core_config_validate(const struct mtia_core_config *cfg, char *err, size_t errlen);

/* NULL if @cfg is invalid or allocation fails. */
struct mtia_core *mtia_core_new(const struct mtia_core_config *cfg, const struct mtia_core_host_ops *ops, void *opaque);
void mtia_core_free(struct mtia_core *core);

/* The board's infoROM (docs/telemetry.md "Aggregate ECC counts"): the host
 * file @path holds the lifetime ECC counts (MTIA_REG_TEL_ECC_*_AGG). Loads
 * them now (a missing file is created with 0 counts) and from then on writes
 * the file back, atomically, whenever they change. Call once, before the
 * guest runs (QEMU: realize). 0, or -1 and a one-line reason in @err (the
 * file cannot be read or written, or is truncated, corrupt or not an
 * infoROM); the counts then stay 0 and nothing is written. */
int mtia_core_open_inforom(struct mtia_core *core, const char *path, char *err, size_t errlen);

/* BAR0 accesses; @size is 1, 2, 4 or 8 bytes. */
uint64_t mtia_core_mmio_read(struct mtia_core *core, uint64_t offset, unsigned size);
void mtia_core_mmio_write(struct mtia_core *core, uint64_t offset, uint64_t value, unsigned size);

/* Device reset (PCI reset or MTIA_REG_RESET): registers to reset values;
 * the control core is stopped (its thread joined) and boot returns to IDLE. */
void mtia_core_reset(struct mtia_core *core);

/* Device memory (BAR2) is owned by the host: @host points at @size bytes
 * (size <= the configured devmem size). The boot ROM reads staged images
 * from it and the control core sees its first min(size, 2 GiB) at
 * MTIA_CC_DEVMEM_BASE. Call before the guest can boot firmware (realize);
 * @host must stay valid until mtia_core_free() or the next attach. NULL
 * detaches (firmware boot then fails with MTIA_BOOT_ERR_BAD_STAGE). */
void mtia_core_attach_devmem(struct mtia_core *core, void *host, uint64_t size);

/* Device memory's write tracking (docs/device-spec.md, "Device memory
 * writes"): every write to it is reported to the core, which keeps per
 * 4 KiB page the generation of its last write (the compute engine then
 * reuses data derived from unchanged bytes without comparing them). The
 * core's own writers (queue engine, control core) report themselves; the
 * host reports guest stores by handing them to mtia_core_devmem_write,
 * which stores @size (1..8) bytes of @value, little-endian, at device
 * memory offset @offset and marks the page (out of range: ignored); the
 * host marks the page dirty for migration itself. Any thread. */
void mtia_core_devmem_write(struct mtia_core *core, uint64_t offset, uint64_t value, unsigned size);
/* The tracker's current generation, and the generation of the last write
 * to any byte of [offset, offset + len) (out of range: after the current). */
uint64_t mtia_core_devmem_generation(struct mtia_core *core);
uint64_t mtia_core_devmem_last_write(struct mtia_core *core, uint64_t offset, uint64_t len);

/* The VM stopped (@running = 0) or runs again (1). While stopped the control
 * core's thread is parked (joined), so save/load see a quiescent core.
 * Returns 1 if the control core may have written device memory since the
 * previous call (the host then marks it dirty for migration), else 0.
 * A new core starts with the VM running. */
int mtia_core_set_vm_running(struct mtia_core *core, int running);

/* Waits up to @timeout_us for the device to go idle: no queue has engine
 * work, and the control core is stopped, or asleep in WFI with nothing for
 * it (mailbox doorbell clear, no queue pending, no engine event). 0 once
 * idle, -1 on timeout (firmware busy or ignoring work: the device goes on).
 * For QEMU's fuzzer (the glue's x-settle-us): a guest access then returns
 * with all it caused done, the firmware's and engine's DMA included. Any
 * thread but the device's own; polls, holds no lock while it sleeps. */
int mtia_core_wait_idle(struct mtia_core *core, uint64_t timeout_us);

/* Stops the control core's thread while copying (restarting it after).
 * 0, or -1 if the queues have work the snapshot cannot hold (engine commands
 * queued or running, completions held for a full CQ): migration then fails
 * cleanly on the source. */
int mtia_core_save(struct mtia_core *core, struct mtia_core_snapshot *snap);
/* 0 on success, -1 if @snap holds values the device could not have had.
 * A snapshot with cc_running set restarts the control core (once the VM
 * runs). */
int mtia_core_load(struct mtia_core *core, const struct mtia_core_snapshot *snap);

/* Counters of queue @q (< MTIA_NUM_QUEUES). */
void mtia_core_get_queue_stats(struct mtia_core *core, unsigned q, struct mtia_core_queue_stats *out);

/*
 * Fault injection (docs/fault-injection.md), armed by the host at any time
 * (QEMU: the fault-* QOM properties). Values and what mtia_core_fault_get()
 * reads back:
 *   DMA_ERROR    N: the Nth data command (COPY/FILL/TIMESTAMP/COMPUTE) the
 *                engine executes from now fails with DMA_ERROR, moving
 *                nothing; 0 disarms; reads what is left of the countdown
 *   TRANSLATION  N: the Nth operand translation from now fails with
 *                TRANSLATION_FAULT, the operand's address in the result, as
 *                an MMU fault would (whether the MMU is on or not)
 *   HANG         1: the engine stops completing commands (each command
 *                it takes stays in flight) until 0 or a device reset
 *   FW_TRAP      1: the control core halts on a fatal trap (instruction
 *                access fault at its pc) when it next runs; reads 1 until then
 *   LOST_IRQ     N: the next N MSI-X messages are dropped
 *   ECC_CE/UE    N: N corrected/uncorrected ECC errors, counted by the
 *                telemetry (TEL_ECC_*) at its next sample
 *   LINK_DOWN    1: BAR0 reads return all-ones, writes and DMA fail, no
 *                interrupts, until 0 (the device then needs a reset)
 *   LATENCY_US   N: every command waits N us (<= 10 s) before it runs
 * The value field of MTIA_CORE_TRACE_FAULT: the failed command's cid
 * (DMA_ERROR, HANG), the address space's context (TRANSLATION), the vector
 * (LOST_IRQ), the trap pc (FW_TRAP), the count (ECC), the delay (LATENCY).
 */
enum mtia_core_fault {
    MTIA_CORE_FAULT_DMA_ERROR = 1,
    MTIA_CORE_FAULT_HANG,
    MTIA_CORE_FAULT_FW_TRAP,
    MTIA_CORE_FAULT_LOST_IRQ,
    MTIA_CORE_FAULT_ECC_CE,
    MTIA_CORE_FAULT_ECC_UE,
    MTIA_CORE_FAULT_LINK_DOWN,
    MTIA_CORE_FAULT_LATENCY_US,
    MTIA_CORE_FAULT_TRANSLATION,
    MTIA_CORE_FAULT_KINDS /* one past the last */
};
/* 0, or -1 if @kind is unknown or @value out of range (nothing changes). */
int mtia_core_fault_set(struct mtia_core *core, uint32_t kind, uint64_t value);
uint64_t mtia_core_fault_get(struct mtia_core *core, uint32_t kind);
/* How often @kind took effect since the core was made (0 if unknown). */
uint64_t mtia_core_fault_injected(struct mtia_core *core, uint32_t kind);
/* "dma-error", "hang", ... (the QOM property is "fault-" + it); "?" if
 * unknown. mtia_core_fault_is_bool(): takes 0/1 only. */
const char *mtia_core_fault_name(uint32_t kind);
int mtia_core_fault_is_bool(uint32_t kind);

/* Test hook: an access to the firmware's register block (offset from
 * MTIA_CC_REGS_BASE) as if made by the control core, e.g. MTIA_CC_REG_Q_FETCH.
 * Returns 0, or -1 where the core would take an access fault. For unit tests
 * that drive the dispatch registers without firmware; any thread. */
int mtia_core_fw_read(struct mtia_core *core, uint32_t off, unsigned size, uint32_t *val);
int mtia_core_fw_write(struct mtia_core *core, uint32_t off, unsigned size, uint32_t val);

#ifdef __cplusplus
}
#endif

#endif /* MTIA_CORE_H */
