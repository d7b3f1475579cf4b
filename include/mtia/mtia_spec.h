/* SPDX-License-Identifier: MIT */
/*
 * mtia-open device specification: PCI identity and the BAR0 register map.
 *
 * This is the single source of truth shared by the QEMU device model, the
 * control-core firmware, the Linux driver and user space. Plain C with only
 * fixed-width integers, so every one of those hosts can use it.
 * docs/device-spec.md describes the semantics of each register.
 *
 * Every multi-bit field of a register, a command or a completion has a
 * mask here (MTIA_GENMASK) and usually an accessor (mtia_*()); code never
 * shifts a spec field by hand. The helpers are our own (MTIA_FIELD_GET/
 * MTIA_FIELD_PREP) because this header is compiled as kernel C (beside
 * <linux/bitfield.h>), freestanding RV32 C and C++. Struct layouts are
 * pinned by static asserts at the end of the file. The command rules
 * (which fields each opcode uses, what is valid) are mtia_cmd_rules.h.
 */
#ifndef MTIA_SPEC_H
#define MTIA_SPEC_H

#if defined(__KERNEL__)
#include <linux/stddef.h>
#include <linux/types.h>
#else
#include <stddef.h>
#include <stdint.h>
#endif

/* ---- Field helpers (32-bit masks; constants fold at compile time) -------- */
#define MTIA_GENMASK(h, l)        ((~0u >> (31 - (h))) & (~0u << (l)))
#define MTIA_FIELD_SHIFT(mask)    __builtin_ctz(mask)
#define MTIA_FIELD_GET(mask, v)   (((uint32_t)(v) & (mask)) >> MTIA_FIELD_SHIFT(mask))
#define MTIA_FIELD_PREP(mask, v)  (((uint32_t)(v) << MTIA_FIELD_SHIFT(mask)) & (mask))
#define MTIA_FIELD_MAX(mask)      ((mask) >> MTIA_FIELD_SHIFT(mask))
/* The same for 64-bit fields (page-table entries). */
#define MTIA_GENMASK_ULL(h, l)    ((~0ull >> (63 - (h))) & (~0ull << (l)))
#define MTIA_FIELD_SHIFT64(mask)  __builtin_ctzll(mask)
#define MTIA_FIELD_GET64(mask, v) (((uint64_t)(v) & (mask)) >> MTIA_FIELD_SHIFT64(mask))
#define MTIA_FIELD_PREP64(mask, v) (((uint64_t)(v) << MTIA_FIELD_SHIFT64(mask)) & (mask))

#ifdef __cplusplus
#define MTIA_STATIC_ASSERT(e)     static_assert(e, #e)
#else
#define MTIA_STATIC_ASSERT(e)     _Static_assert(e, #e)
#endif

/* ---- PCI identity -------------------------------------------------------- */
#define MTIA_PCI_VENDOR_ID        0x1d9b  /* Meta Platforms, Inc. (pci.ids) */
#define MTIA_PCI_DEVICE_ID        0x0a01  /* mtia-open emulated MTIA v1 (unlisted) */
#define MTIA_PCI_CLASS_ACCEL      0x1200  /* processing accelerator */
#define MTIA_PCI_REVISION         0x01

/* ---- BARs ---------------------------------------------------------------- */
#define MTIA_BAR_REGS             0       /* BAR0: registers, 32-bit MMIO */
#define MTIA_BAR_DEVMEM           2       /* BAR2/3: device memory, 64-bit prefetchable */
#define MTIA_BAR_MSIX             4       /* BAR4: MSI-X table and PBA */
#define MTIA_BAR0_SIZE            0x100000u /* 1 MiB: room for per-queue doorbell pages */

/* ---- Identity ------------------------------------------------------------ */
#define MTIA_MAGIC_VALUE          0x4D544941u /* "MTIA" */
#define MTIA_IF_VERSION_MAJOR     1u  /* register interface; bumped on incompatible change */
#define MTIA_IF_VERSION_MINOR     7u  /* 1: MTIA_REG_DEVMEM_ZERO; 2: MTIA_REG_CAPS,
                                         the device MMU (MTIA_REG_MMU_*); 3: signed
                                         firmware (image format 2, MTIA_BOOT_ERR_UNSIGNED,
                                         _UNTRUSTED_KEY, _BAD_SIGNATURE); 4: bound queues
                                         (MTIA_Q_CTX, MTIA_CQE_BAD_CONTEXT); 5: per-queue
                                         engine time (MTIA_Q_BUSY_*); 6: lifetime ECC
                                         counts and clearing (MTIA_REG_TEL_ECC_*_AGG,
                                         MTIA_REG_TEL_ECC_CLEAR); 7: the profile
                                         header's throttle_ns (40 bytes) */
#define MTIA_CHIP_ID_MTIA1        0x0001u /* MTIA v1 (8x8 PE grid) */

/* ---- BAR0 registers (all 32-bit, little endian, 4-byte aligned) ---------- */
#define MTIA_REG_MAGIC            0x000 /* RO  MTIA_MAGIC_VALUE */
#define MTIA_REG_IF_VERSION       0x004 /* RO  major [31:16], minor [15:0] */
#define MTIA_REG_CHIP_ID          0x008 /* RO  MTIA_CHIP_ID_* */
#define MTIA_REG_REVISION         0x00c /* RO  silicon revision */
#define MTIA_REG_PE_GRID          0x010 /* RO  rows [7:0], cols [15:8] */
#define MTIA_REG_MSIX_VECTORS     0x014 /* RO  number of MSI-X vectors */
#define MTIA_REG_SRAM_SIZE_LO     0x018 /* RO  on-chip SRAM bytes, low 32 bits */
#define MTIA_REG_SRAM_SIZE_HI     0x01c /* RO  ... high 32 bits */
#define MTIA_REG_DEVMEM_SIZE_LO   0x020 /* RO  device memory (BAR2) bytes, low */
#define MTIA_REG_DEVMEM_SIZE_HI   0x024 /* RO  ... high */
#define MTIA_REG_CAPS             0x028 /* RO  (IF minor >= 2) MTIA_CAP_*: optional features */
#define MTIA_CAP_MMU              (1u << 0) /* the device MMU (MTIA_REG_MMU_*, "Device MMU") */

#define MTIA_REG_SCRATCH          0x040 /* RW  free for software, reset to 0 */
#define MTIA_REG_RESET            0x044 /* WO  write MTIA_RESET_KEY: device reset */
#define MTIA_REG_STATUS           0x048 /* RO  MTIA_STATUS_* */
#define MTIA_REG_RESET_COUNT      0x04c /* RO  resets since power-on */

#define MTIA_REG_IRQ_STATUS       0x050 /* RW1C pending causes, MTIA_IRQ_* */
#define MTIA_REG_IRQ_MASK         0x054 /* RW  1 = cause masked; reset: all masked */
#define MTIA_REG_IRQ_TEST         0x058 /* WO  write 1: raise MTIA_IRQ_TEST */

#define MTIA_REG_ERR_STATUS       0x060 /* RW1C MTIA_ERR_* */
#define MTIA_REG_ERR_ADDR         0x064 /* RO  BAR0 offset of the last bad access */
#define MTIA_REG_DEVMEM_ZERO      0x068 /* WO  (IF minor >= 1) zero device memory:
                                           MTIA_DEVMEM_ZERO_PAGE = first 4 KiB page,
                                           _COUNT = pages - 1 (1..256 pages, 1 MiB);
                                           done before the write completes. Pages
                                           past device memory: MTIA_ERR_BAD_WRITE,
                                           nothing zeroed. Stores through BAR2 trap
                                           one by one (docs/device-spec.md "Device
                                           memory writes"): drivers zero BOs here */
#define MTIA_DEVMEM_ZERO_PAGE_MASK  MTIA_GENMASK(31, 8)
#define MTIA_DEVMEM_ZERO_COUNT_MASK MTIA_GENMASK(7, 0)
#define MTIA_DEVMEM_ZERO_PAGE_SIZE  4096u
#define MTIA_DEVMEM_ZERO_MAX_PAGES  256u

/* Device MMU (IF minor >= 2, MTIA_CAP_MMU): see "Device MMU" below. */
#define MTIA_REG_MMU_CTRL         0x070 /* RW  MTIA_MMU_CTRL_*; reset 0 (legacy operands) */
#define MTIA_REG_MMU_CTX_TABLE_LO 0x074 /* RW  host DMA address of the context table,
                                           4 KiB aligned; writable while CTRL is 0 */
#define MTIA_REG_MMU_CTX_TABLE_HI 0x078 /* RW  ... high 32 bits */
#define MTIA_REG_MMU_CTX_COUNT    0x07c /* RW  its entries, 0..MTIA_MMU_MAX_CTX; while CTRL is 0 */
#define MTIA_REG_MMU_INVALIDATE   0x080 /* WO  a ctx id, or MTIA_MMU_INVALIDATE_ALL: no
                                           cached translation of it remains when the
                                           write completes */
#define MTIA_REG_MMU_FAULT_ADDR_LO 0x084 /* RO  device VA of the last translation fault */
#define MTIA_REG_MMU_FAULT_ADDR_HI 0x088 /* RO  ... high 32 bits */
#define MTIA_REG_MMU_FAULT_CTX    0x08c /* RO  its context (mtia_cmd.ctx) */
#define MTIA_REG_MMU_FAULT_COUNT  0x090 /* RO  translation faults since reset */
#define MTIA_REG_MMU_FAULT_INFO   0x094 /* RO  the last fault: reason, access */

#define MTIA_MMU_CTRL_ENABLE      (1u << 0) /* operands are device VAs of their ctx */
#define MTIA_MMU_INVALIDATE_ALL   0xffffffffu
#define MTIA_MMU_MAX_CTX          65536u
#define MTIA_MMU_FAULT_REASON_MASK MTIA_GENMASK(7, 0) /* MTIA_MMU_FAULT_* */
#define MTIA_MMU_FAULT_WRITE      (1u << 8)           /* the access was a write */
#define MTIA_MMU_FAULT_NONE       0
#define MTIA_MMU_FAULT_CTX        1 /* ctx >= CTX_COUNT, or its table entry not VALID */
#define MTIA_MMU_FAULT_UNMAPPED   2 /* an entry of the walk not VALID, or the VA
                                       beyond MTIA_MMU_VA_BITS (tagged forms too) */
#define MTIA_MMU_FAULT_PERMISSION 3 /* read without PTE READ, write without WRITE */
#define MTIA_MMU_FAULT_BAD_ENTRY  4 /* reserved bits set, flags on a table pointer,
                                       a DEVMEM page outside device memory */
#define MTIA_MMU_FAULT_TABLE_DMA  5 /* reading a table from host memory failed */
static inline uint32_t mtia_mmu_fault_reason(uint32_t info) { return MTIA_FIELD_GET(MTIA_MMU_FAULT_REASON_MASK, info); }

#define MTIA_IF_VERSION_MAJOR_MASK MTIA_GENMASK(31, 16)
#define MTIA_IF_VERSION_MINOR_MASK MTIA_GENMASK(15, 0)
#define MTIA_PE_GRID_ROWS_MASK    MTIA_GENMASK(7, 0)
#define MTIA_PE_GRID_COLS_MASK    MTIA_GENMASK(15, 8)

static inline uint32_t mtia_if_version(uint32_t major, uint32_t minor)
{
    return MTIA_FIELD_PREP(MTIA_IF_VERSION_MAJOR_MASK, major) |
           MTIA_FIELD_PREP(MTIA_IF_VERSION_MINOR_MASK, minor);
}
static inline uint32_t mtia_if_version_major(uint32_t v) { return MTIA_FIELD_GET(MTIA_IF_VERSION_MAJOR_MASK, v); }
static inline uint32_t mtia_if_version_minor(uint32_t v) { return MTIA_FIELD_GET(MTIA_IF_VERSION_MINOR_MASK, v); }
static inline uint32_t mtia_pe_grid(uint32_t rows, uint32_t cols)
{
    return MTIA_FIELD_PREP(MTIA_PE_GRID_ROWS_MASK, rows) | MTIA_FIELD_PREP(MTIA_PE_GRID_COLS_MASK, cols);
}
static inline uint32_t mtia_pe_grid_rows(uint32_t v) { return MTIA_FIELD_GET(MTIA_PE_GRID_ROWS_MASK, v); }
static inline uint32_t mtia_pe_grid_cols(uint32_t v) { return MTIA_FIELD_GET(MTIA_PE_GRID_COLS_MASK, v); }

/* Telemetry: 0x300..0x3ff, MTIA_REG_TEL_* below (docs/telemetry.md). */
#define MTIA_REG_TEL_BASE         0x300
#define MTIA_REG_TEL_END          0x400

/* Telemetry registers. A board-management model on the host's monotonic
 * clock, updated every MTIA_TEL_SAMPLE_MS whatever the guest does; values
 * survive device resets (like a BMC) and only the power-on of the VM clears
 * them. Units: temperature millidegrees Celsius (signed), power mW, energy mJ, clock MHz,
 * utilisation per mille of the last MTIA_TEL_WINDOW_MS. */
#define MTIA_REG_TEL_VERSION      0x300 /* RO  MTIA_TEL_VERSION: block present */
#define MTIA_REG_TEL_TEMP         0x304 /* RO  die temperature, millidegrees C (int32) */
#define MTIA_REG_TEL_TEMP_SLOWDOWN 0x308 /* RO  clock throttles above this (same unit) */
#define MTIA_REG_TEL_TEMP_SHUTDOWN 0x30c /* RO  critical temperature (same unit) */
#define MTIA_REG_TEL_POWER        0x310 /* RO  board power now (last sample), mW */
#define MTIA_REG_TEL_POWER_AVG    0x314 /* RO  mean power over the window, mW */
#define MTIA_REG_TEL_POWER_CAP    0x318 /* RW  power limit, mW, in [CAP_MIN, CAP_MAX];
                                           power-on value CAP_MAX; else BAD_WRITE */
#define MTIA_REG_TEL_POWER_CAP_MIN 0x31c /* RO  lowest settable power limit, mW */
#define MTIA_REG_TEL_POWER_CAP_MAX 0x320 /* RO  highest power limit (TDP), mW */
#define MTIA_REG_TEL_ENERGY_LO    0x324 /* RO  energy since power-on, mJ; reading LO
                                           latches HI, so read LO then HI */
#define MTIA_REG_TEL_ENERGY_HI    0x328 /* RO  ... high 32 bits, as latched */
#define MTIA_REG_TEL_CLK          0x32c /* RO  core clock now, MHz */
#define MTIA_REG_TEL_CLK_MAX      0x330 /* RO  maximum (unthrottled) core clock, MHz */
#define MTIA_REG_TEL_CLK_MIN      0x334 /* RO  lowest clock throttling goes to, MHz */
#define MTIA_REG_TEL_THROTTLE     0x338 /* RO  MTIA_TEL_THROTTLE_*: why CLK < CLK_MAX */
#define MTIA_REG_TEL_UTIL_CC      0x33c /* RO  control core busy (not in WFI), per mille */
#define MTIA_REG_TEL_UTIL_DMA     0x340 /* RO  data engine busy, per mille */
#define MTIA_REG_TEL_UTIL_PE      0x344 /* RO  PE grid busy (COMPUTE), per mille */
#define MTIA_REG_TEL_WINDOW_MS    0x348 /* RO  MTIA_TEL_WINDOW_MS */
#define MTIA_REG_TEL_ECC_CORR     0x34c /* RO  corrected ECC errors since power-on or
                                           the last clear (volatile) */
#define MTIA_REG_TEL_ECC_UNCORR   0x350 /* RO  uncorrected ECC errors, the same */
#define MTIA_REG_TEL_ECC_INJECT   0x354 /* WO  TEST ONLY: count [15:0] errors of the kind
                                           in bit 31 (1 = uncorrected) are recorded
                                           (volatile and aggregate); no data is harmed */
#define MTIA_REG_TEL_SERIAL_LO    0x358 /* RO  board serial number, low 32 bits */
#define MTIA_REG_TEL_SERIAL_HI    0x35c /* RO  ... high 32 bits */
/* Lifetime ("aggregate") ECC counts (IF minor >= 6): kept by the board in
 * non-volatile storage (its infoROM), so neither a device reset nor a power
 * cycle clears them; only MTIA_TEL_ECC_CLEAR_AGGREGATE does. They saturate
 * at 0xffffffff, as the volatile ones do. */
#define MTIA_REG_TEL_ECC_CORR_AGG 0x360 /* RO  corrected ECC errors, lifetime */
#define MTIA_REG_TEL_ECC_UNCORR_AGG 0x364 /* RO  uncorrected ECC errors, lifetime */
#define MTIA_REG_TEL_ECC_CLEAR    0x368 /* WO  (IF minor >= 6) MTIA_TEL_ECC_CLEAR_*: zero
                                           the chosen counters (both kinds), done when
                                           the write completes; other bits: BAD_WRITE,
                                           nothing cleared */

#define MTIA_TEL_VERSION          1
#define MTIA_TEL_SAMPLE_MS        100
#define MTIA_TEL_WINDOW_MS        1000
#define MTIA_TEL_THROTTLE_POWER   (1u << 0) /* power limit (POWER_CAP) */
#define MTIA_TEL_THROTTLE_THERMAL (1u << 1) /* TEMP above TEMP_SLOWDOWN */
#define MTIA_TEL_ECC_INJECT_UNCORR (1u << 31)
#define MTIA_TEL_ECC_INJECT_COUNT MTIA_GENMASK(15, 0)
#define MTIA_TEL_ECC_CLEAR_VOLATILE  (1u << 0) /* ECC_CORR, ECC_UNCORR */
#define MTIA_TEL_ECC_CLEAR_AGGREGATE (1u << 1) /* ECC_CORR_AGG, ECC_UNCORR_AGG */
#define MTIA_TEL_ECC_CLEAR_ALL    (MTIA_TEL_ECC_CLEAR_VOLATILE | MTIA_TEL_ECC_CLEAR_AGGREGATE)

/* Firmware boot (see "Firmware boot" below) */
#define MTIA_REG_FW_STAGE_LO      0x100 /* RW  device-memory offset of the staged image */
#define MTIA_REG_FW_STAGE_HI      0x104 /* RW  ... high 32 bits */
#define MTIA_REG_FW_STAGE_SIZE    0x108 /* RW  staged image bytes (header + payload) */
#define MTIA_REG_FW_BOOT          0x10c /* WO  write MTIA_FW_BOOT_KEY: boot ROM runs */
#define MTIA_REG_FW_BOOT_STATUS   0x110 /* RO  MTIA_BOOT_* (owned by the boot ROM) */
#define MTIA_REG_FW_STATUS        0x114 /* RO  MTIA_FW_STATUS_* (written by firmware) */
#define MTIA_REG_FW_VERSION       0x118 /* RO  firmware version, MTIA_FW_VERSION() */
#define MTIA_REG_FW_HEARTBEAT     0x11c /* RO  incremented by firmware every period */
#define MTIA_REG_FW_TRAP_CAUSE    0x120 /* RO  mcause when the core halted */
#define MTIA_REG_FW_TRAP_PC       0x124 /* RO  pc when the core halted */
#define MTIA_REG_FW_TRAP_TVAL     0x128 /* RO  mtval when the core halted */
#define MTIA_REG_FW_LOG_ADDR      0x12c /* RO  device-memory offset of the log ring (fw sets) */
#define MTIA_REG_FW_LOG_SIZE      0x130 /* RO  log ring bytes incl. header (fw sets) */
#define MTIA_REG_FW_INSTRET_LO    0x134 /* RO  instructions the control core retired */
#define MTIA_REG_FW_INSTRET_HI    0x138

/* Admin mailbox: one command slot, one response slot (struct mtia_mbox_msg). */
#define MTIA_REG_MBOX_CMD         0x200 /* RW(host) / RO(fw)  64-byte command */
#define MTIA_REG_MBOX_RESP        0x240 /* RO(host) / RW(fw)  64-byte response */
#define MTIA_REG_MBOX_DOORBELL    0x280 /* host writes 1: command posted (fw: RW1C) */
#define MTIA_MBOX_MSG_BYTES       64

/* Hardware queues: per-queue configuration blocks (docs/queues.md). */
#define MTIA_NUM_QUEUES           8
#define MTIA_REG_QUEUE_BASE       0x800
#define MTIA_QUEUE_STRIDE         0x40
#define MTIA_REG_Q(q, r)          (MTIA_REG_QUEUE_BASE + (q) * MTIA_QUEUE_STRIDE + (r))
#define MTIA_Q_SQ_BASE_LO         0x00 /* RW  host DMA address of the SQ ring, 4 KiB aligned */
#define MTIA_Q_SQ_BASE_HI         0x04
#define MTIA_Q_CQ_BASE_LO         0x08 /* RW  host DMA address of the CQ ring, 4 KiB aligned */
#define MTIA_Q_CQ_BASE_HI         0x0c
#define MTIA_Q_SIZE               0x10 /* RW  log2 entries: SQ [3:0], CQ [11:8] (2..12) */
#define MTIA_Q_CTRL               0x14 /* RW  MTIA_Q_CTRL_*; base/size writable only while disabled */
#define MTIA_Q_STATUS             0x18 /* RO  MTIA_Q_STATUS_*, SQ head [31:16] */
#define MTIA_Q_COALESCE           0x1c /* RW  completions per interrupt [7:0] (0 = 1), max delay us [31:16] */
#define MTIA_Q_CQ_TAIL            0x20 /* RO  next CQ slot the device writes */
#define MTIA_Q_SQ_TAIL            0x24 /* RO  last SQ tail rung on the doorbell */
#define MTIA_Q_CTX                0x28 /* RW  MTIA_Q_CTX_*: the context the queue is bound to;
                                          writable only while disabled */
/* 0x2c reserved: unmapped (ERR_BAD_OFFSET). */
#define MTIA_Q_BUSY_DMA_LO        0x30 /* RO  data engine ns on this queue's commands, see below */
#define MTIA_Q_BUSY_DMA_HI        0x34
#define MTIA_Q_BUSY_PE_LO         0x38 /* RO  PE grid ns on this queue's COMPUTE commands */
#define MTIA_Q_BUSY_PE_HI         0x3c

/* Per-queue engine time (interface 1.5; docs/queues.md "Counters"): the
 * device time each engine spent on the queue's commands, as it counts its
 * own busy time for telemetry (the throttle pacer's stretch included, each
 * paced piece as it ends, the rest when the command ends): the PE grid for
 * COMPUTE, the data engine for every other command. Two 64-bit counters of
 * nanoseconds since the device powered on, never reset (not by queue
 * enable/disable, nor by a device reset), so the driver accounts a queue it
 * hands to a process (a direct queue, whose commands it never sees) by
 * differences. Each is two registers with no latch: read HI, LO, then HI
 * again, and read again if HI changed. They restart at 0 on a migration's
 * destination (not in the snapshot): a reader takes a decrease as a restart. */

#define MTIA_Q_SIZE_SQ_MASK       MTIA_GENMASK(3, 0)  /* log2 SQ entries */
#define MTIA_Q_SIZE_CQ_MASK       MTIA_GENMASK(11, 8) /* log2 CQ entries */
#define MTIA_Q_SIZE_LOG2_MIN      2
#define MTIA_Q_SIZE_LOG2_MAX      12

#define MTIA_Q_CTRL_ENABLE        (1u << 0)
#define MTIA_Q_CTRL_PRIO_MASK     MTIA_GENMASK(5, 4)  /* MTIA_PRIO_*: higher is served first */
#define MTIA_Q_CTRL_PRIO_SHIFT    MTIA_FIELD_SHIFT(MTIA_Q_CTRL_PRIO_MASK)
#define MTIA_Q_CTRL_VEC_MASK      MTIA_GENMASK(15, 8) /* MSI-X vector of the CQ */
#define MTIA_Q_CTRL_VEC_SHIFT     MTIA_FIELD_SHIFT(MTIA_Q_CTRL_VEC_MASK)
#define MTIA_PRIO_LOW             0
#define MTIA_PRIO_NORMAL          1
#define MTIA_PRIO_HIGH            2

#define MTIA_Q_STATUS_ENABLED     (1u << 0)
#define MTIA_Q_STATUS_ERROR       (1u << 1) /* ring access failed: queue stopped until re-enabled */
#define MTIA_Q_STATUS_BAD_DB      (1u << 2) /* doorbell value out of range (ignored) */
#define MTIA_Q_STATUS_SQ_HEAD_MASK MTIA_GENMASK(31, 16)

/* A queue bound to a context (a user queue: docs/queues.md "Bound queues")
 * runs only commands whose ctx is MTIA_Q_CTX_ID, and only with the MMU
 * enabled; any other command completes with MTIA_CQE_BAD_CONTEXT. */
#define MTIA_Q_CTX_ID_MASK        MTIA_GENMASK(15, 0) /* < MTIA_MMU_MAX_CTX */
#define MTIA_Q_CTX_BIND           (1u << 31)

#define MTIA_Q_COALESCE_COUNT_MASK MTIA_GENMASK(7, 0)   /* completions per interrupt (0 = 1) */
#define MTIA_Q_COALESCE_DELAY_MASK MTIA_GENMASK(31, 16) /* max delay, us (0 = no timer) */

static inline uint32_t mtia_q_size(uint32_t sq_log2, uint32_t cq_log2)
{
    return MTIA_FIELD_PREP(MTIA_Q_SIZE_SQ_MASK, sq_log2) | MTIA_FIELD_PREP(MTIA_Q_SIZE_CQ_MASK, cq_log2);
}
static inline uint32_t mtia_q_size_sq(uint32_t v) { return MTIA_FIELD_GET(MTIA_Q_SIZE_SQ_MASK, v); }
static inline uint32_t mtia_q_size_cq(uint32_t v) { return MTIA_FIELD_GET(MTIA_Q_SIZE_CQ_MASK, v); }
static inline uint32_t mtia_q_ctrl(int enable, uint32_t prio, uint32_t vec)
{
    return (enable ? MTIA_Q_CTRL_ENABLE : 0) | MTIA_FIELD_PREP(MTIA_Q_CTRL_PRIO_MASK, prio) |
           MTIA_FIELD_PREP(MTIA_Q_CTRL_VEC_MASK, vec);
}
static inline uint32_t mtia_q_ctrl_prio(uint32_t v) { return MTIA_FIELD_GET(MTIA_Q_CTRL_PRIO_MASK, v); }
static inline uint32_t mtia_q_ctrl_vec(uint32_t v) { return MTIA_FIELD_GET(MTIA_Q_CTRL_VEC_MASK, v); }
static inline uint32_t mtia_q_status_sq_head(uint32_t v) { return MTIA_FIELD_GET(MTIA_Q_STATUS_SQ_HEAD_MASK, v); }
static inline uint32_t mtia_q_coalesce(uint32_t count, uint32_t delay_us)
{
    return MTIA_FIELD_PREP(MTIA_Q_COALESCE_COUNT_MASK, count) |
           MTIA_FIELD_PREP(MTIA_Q_COALESCE_DELAY_MASK, delay_us);
}
static inline uint32_t mtia_q_coalesce_count(uint32_t v) { return MTIA_FIELD_GET(MTIA_Q_COALESCE_COUNT_MASK, v); }
static inline uint32_t mtia_q_coalesce_delay_us(uint32_t v) { return MTIA_FIELD_GET(MTIA_Q_COALESCE_DELAY_MASK, v); }
static inline uint32_t mtia_q_ctx(uint32_t ctx) { return MTIA_Q_CTX_BIND | MTIA_FIELD_PREP(MTIA_Q_CTX_ID_MASK, ctx); }
static inline uint32_t mtia_q_ctx_id(uint32_t v) { return MTIA_FIELD_GET(MTIA_Q_CTX_ID_MASK, v); }

/* Doorbells: one 4 KiB page per queue, so each can be mapped on its own. */
#define MTIA_REG_DOORBELL_BASE    0x10000
#define MTIA_DOORBELL_STRIDE      0x1000
#define MTIA_REG_DB(q, r)         (MTIA_REG_DOORBELL_BASE + (q) * MTIA_DOORBELL_STRIDE + (r))
#define MTIA_DB_SQ_TAIL           0x0 /* WO  new SQ tail: entries up to it are posted */
#define MTIA_DB_CQ_HEAD           0x4 /* WO  new CQ head: entries before it are consumed */

#define MTIA_REG_LAST             MTIA_REG_DB(MTIA_NUM_QUEUES - 1, MTIA_DB_CQ_HEAD)

#define MTIA_RESET_KEY            0x52535421u /* "RST!": guards against stray writes */
#define MTIA_FW_BOOT_KEY          0x544f4f42u /* "BOOT" */

/* MTIA_REG_STATUS bits */
#define MTIA_STATUS_READY         (1u << 0)

/* MTIA_REG_IRQ_STATUS / MTIA_REG_IRQ_MASK causes; all on MSI-X vector 0. */
#define MTIA_IRQ_TEST             (1u << 0)
#define MTIA_IRQ_ERROR            (1u << 1)
#define MTIA_IRQ_MBOX             (1u << 2) /* firmware posted a mailbox response */
#define MTIA_IRQ_FW_EVENT         (1u << 3) /* FW_STATUS or FW_BOOT_STATUS changed */
#define MTIA_IRQ_ALL              (MTIA_IRQ_TEST | MTIA_IRQ_ERROR | MTIA_IRQ_MBOX | \
                                   MTIA_IRQ_FW_EVENT)
#define MTIA_MSIX_VEC_ADMIN       0   /* admin, events, test */

/* MTIA_REG_ERR_STATUS bits */
#define MTIA_ERR_BAD_OFFSET       (1u << 0) /* access to an unmapped BAR0 offset */
#define MTIA_ERR_BAD_WRITE        (1u << 1) /* write to a read-only register / bad key */
#define MTIA_ERR_BAD_SIZE         (1u << 2) /* access that is not 32-bit and aligned */

/* ---- Firmware boot -------------------------------------------------------
 * The driver copies an image (struct mtia_fw_header + payload) into device
 * memory, writes its offset and size to FW_STAGE_*, then writes
 * MTIA_FW_BOOT_KEY to FW_BOOT. The boot ROM (modeled in the device) checks the
 * header, the SHA-256 digest and the Ed25519 signature (struct mtia_fw_sig,
 * against the device's firmware public key), copies the payload to the
 * control core's SRAM at load_addr and starts the core at entry with a0 = header flags,
 * a1 = FW_BOOT_STATUS. FW_BOOT_STATUS then reads RUNNING, or an error code
 * saying exactly what was wrong; after an error the driver may stage and boot
 * again. Firmware signals readiness by writing FW_STATUS = READY (raising
 * MTIA_IRQ_FW_EVENT). A fatal trap in firmware halts the core:
 * FW_BOOT_STATUS = HALTED with FW_TRAP_* filled and MTIA_IRQ_FW_EVENT raised.
 * A device reset (MTIA_REG_RESET) stops the core and returns to IDLE.
 */
#define MTIA_BOOT_IDLE            0x00 /* no boot attempted since reset */
#define MTIA_BOOT_RUNNING         0x01 /* image accepted, core running */
#define MTIA_BOOT_HALTED          0x02 /* core stopped on a fatal trap: see FW_TRAP_* */
#define MTIA_BOOT_ERR_BAD_STAGE   0x10 /* stage offset/size outside device memory */
#define MTIA_BOOT_ERR_TRUNCATED   0x11 /* stage size < header_size + payload_size */
#define MTIA_BOOT_ERR_BAD_MAGIC   0x12
#define MTIA_BOOT_ERR_BAD_FORMAT  0x13 /* unknown format_version */
#define MTIA_BOOT_ERR_BAD_HEADER  0x14 /* header_size too small / reserved bits set */
#define MTIA_BOOT_ERR_BAD_LOAD    0x15 /* payload does not fit in core SRAM at load_addr */
#define MTIA_BOOT_ERR_BAD_ENTRY   0x16 /* entry outside the loaded payload or misaligned */
#define MTIA_BOOT_ERR_BAD_DIGEST  0x17 /* SHA-256 mismatch */
#define MTIA_BOOT_ERR_BUSY        0x18 /* FW_BOOT while the core is running */
/* Signature checks, after the digest (interface 1.3; docs/firmware.md): */
#define MTIA_BOOT_ERR_UNSIGNED    0x19 /* no signature block (sig_size 0) */
#define MTIA_BOOT_ERR_UNTRUSTED_KEY 0x1a /* signed by another key: key_id is not the device's */
#define MTIA_BOOT_ERR_BAD_SIGNATURE 0x1b /* key_id matches, signature does not verify (changed
                                            after signing), or a malformed signature block */

#define MTIA_FW_STATUS_OFF        0 /* set by the device on reset and boot */
#define MTIA_FW_STATUS_INIT       1 /* firmware started, initialising */
#define MTIA_FW_STATUS_READY      2 /* mailbox served */
#define MTIA_FW_STATUS_ERROR      3 /* firmware gave up; see its log */

/* Firmware version: major [31:16] (0..65535), minor [15:8], patch [7:0]. */
#define MTIA_FW_VERSION_MAJOR_MASK MTIA_GENMASK(31, 16)
#define MTIA_FW_VERSION_MINOR_MASK MTIA_GENMASK(15, 8)
#define MTIA_FW_VERSION_PATCH_MASK MTIA_GENMASK(7, 0)
#define MTIA_FW_VERSION(maj, min, pat) (MTIA_FIELD_PREP(MTIA_FW_VERSION_MAJOR_MASK, maj) | \
                                        MTIA_FIELD_PREP(MTIA_FW_VERSION_MINOR_MASK, min) | \
                                        MTIA_FIELD_PREP(MTIA_FW_VERSION_PATCH_MASK, pat))
static inline uint32_t mtia_fw_version_major(uint32_t v) { return MTIA_FIELD_GET(MTIA_FW_VERSION_MAJOR_MASK, v); }
static inline uint32_t mtia_fw_version_minor(uint32_t v) { return MTIA_FIELD_GET(MTIA_FW_VERSION_MINOR_MASK, v); }
static inline uint32_t mtia_fw_version_patch(uint32_t v) { return MTIA_FIELD_GET(MTIA_FW_VERSION_PATCH_MASK, v); }

#define MTIA_FW_MAGIC             0x5746544du /* "MTFW" little endian */
#define MTIA_FW_FORMAT_VERSION    2 /* 2: sig_size and the signature block (1 had neither) */
/* header flags, passed to firmware in a0: test behaviours for fault tests */
#define MTIA_FW_FLAG_TEST_HANG    (1u << 0) /* spin with interrupts off before READY */
#define MTIA_FW_FLAG_TEST_TRAP    (1u << 1) /* execute an illegal instruction before READY */
#define MTIA_FW_FLAGS_KNOWN       (MTIA_FW_FLAG_TEST_HANG | MTIA_FW_FLAG_TEST_TRAP)

/* Image: header, payload, then sig_size bytes of signature block.
 * Header, little endian. sha256 covers the header with sha256 zeroed,
 * followed by the payload, so no header field can be changed unnoticed;
 * the signature covers the header (sha256 included), so through the digest
 * it covers the payload too. */
struct mtia_fw_header {
    uint32_t magic;          /* MTIA_FW_MAGIC */
    uint16_t format_version; /* MTIA_FW_FORMAT_VERSION */
    uint16_t header_size;    /* sizeof(struct mtia_fw_header) */
    uint32_t load_addr;      /* control-core address of the payload */
    uint32_t entry;          /* control-core entry point */
    uint32_t payload_size;   /* bytes after the header */
    uint32_t fw_version;     /* MTIA_FW_VERSION() */
    uint32_t flags;          /* MTIA_FW_FLAG_* */
    uint32_t sig_size;       /* signature block after the payload: 0 (unsigned) or MTIA_FW_SIG_SIZE */
    uint32_t reserved[4];    /* zero */
    uint8_t sha256[32];
};                           /* 80 bytes */
#define MTIA_FW_HEADER_SIZE       80

/* Signature block, right after the payload. key_id names the signer's key
 * (a hint that tells "another key" from "tampered"; it is not trusted: only
 * the signature is). */
#define MTIA_FW_SIG_MAGIC         0x4753544du /* "MTSG" little endian */
#define MTIA_FW_SIG_ALG_ED25519   1
#define MTIA_FW_PUBKEY_SIZE       32 /* Ed25519 public key */
#define MTIA_FW_KEY_ID_SIZE       8  /* first 8 bytes of SHA-256(public key) */
struct mtia_fw_sig {
    uint32_t magic;        /* MTIA_FW_SIG_MAGIC */
    uint16_t alg;          /* MTIA_FW_SIG_ALG_ED25519 */
    uint16_t reserved;     /* zero */
    uint8_t key_id[8];     /* MTIA_FW_KEY_ID_SIZE */
    uint8_t signature[64]; /* Ed25519 over the header's header_size bytes */
};                         /* 80 bytes */
#define MTIA_FW_SIG_SIZE          80

/* The first MiB of device memory belongs to firmware: the driver stages the
 * image at its start and the firmware keeps its log ring there. Allocators
 * of device memory start above it. */
#define MTIA_DEVMEM_FW_RESERVED   0x100000u
#define MTIA_DEVMEM_FW_STAGE_OFF  0x0u
#define MTIA_DEVMEM_FW_LOG_OFF    0x80000u
#define MTIA_DEVMEM_FW_LOG_SIZE   0x10000u

/* ---- Control core (RV32IMC) address map, as firmware sees it ------------- */
#define MTIA_CC_SRAM_BASE         0x10000000u /* code + data, executable */
#define MTIA_CC_SRAM_SIZE         0x40000u    /* 256 KiB */
#define MTIA_CC_REGS_BASE         0x20000000u /* BAR0 registers, firmware view */
#define MTIA_CC_DEVMEM_BASE       0x80000000u /* device memory window (first 2 GiB) */
#define MTIA_CC_DEVMEM_WINDOW     0x80000000u
#define MTIA_CC_TIMEBASE_HZ       1000000u    /* mtime ticks per second */

/* Firmware-only registers (offsets in the MTIA_CC_REGS_BASE block). Writes
 * by firmware to FW_STATUS, FW_VERSION, FW_HEARTBEAT, FW_LOG_* and
 * MBOX_RESP are allowed there (they are read-only from the host). */
#define MTIA_CC_REG_MTIME_LO      0x400 /* RO  free-running timer */
#define MTIA_CC_REG_MTIME_HI      0x404
#define MTIA_CC_REG_MTIMECMP_LO   0x408 /* RW  machine timer interrupt when mtime >= cmp */
#define MTIA_CC_REG_MTIMECMP_HI   0x40c
#define MTIA_CC_REG_MBOX_POST     0x410 /* WO  write 1: response ready -> MTIA_IRQ_MBOX */
#define MTIA_CC_REG_EVENT         0x414 /* WO  write 1: raise MTIA_IRQ_FW_EVENT */
#define MTIA_CC_REG_Q_PENDING     0x420 /* RO  bit q: queue q enabled with SQ head != tail */
#define MTIA_CC_REG_Q_FETCH       0x424 /* WO  q: copy SQ[head] of queue q to CC_SQE, head++ */
#define MTIA_CC_REG_Q_FETCH_STATUS 0x428 /* RO  MTIA_CQE_* of the last fetch (ring DMA error) */
#define MTIA_CC_REG_Q_DISPATCH    0x42c /* WO  q: hand CC_SQE to the data engines for queue q */
#define MTIA_CC_REG_Q_COMPLETE    0x430 /* WO  q | status << 16: complete CC_SQE without the engines */
#define MTIA_CC_REG_Q_INFLIGHT    0x434 /* RO  engine commands in flight on the Q_SELECT queue */
#define MTIA_CC_REG_Q_SELECT      0x438 /* RW  queue whose priority/inflight the fw reads */
#define MTIA_CC_REG_Q_PRIO        0x43c /* RO  priority of the selected queue */
#define MTIA_CC_REG_ENGINE_EVENT  0x440 /* RW1C bit q: queue q's Q_INFLIGHT fell to 0 */
#define MTIA_CC_REG_SQE           0x480 /* RO  64-byte fetched command (struct mtia_cmd) */
#define MTIA_CC_REG_SQE_WORD(w)   (MTIA_CC_REG_SQE + 4 * (w)) /* w: MTIA_CMD_W_* */

#define MTIA_CC_Q_COMPLETE_QUEUE_MASK  MTIA_GENMASK(15, 0)
#define MTIA_CC_Q_COMPLETE_STATUS_MASK MTIA_GENMASK(30, 16) /* MTIA_CQE_* (15 bits) */
static inline uint32_t mtia_cc_q_complete(uint32_t q, uint32_t status)
{
    return MTIA_FIELD_PREP(MTIA_CC_Q_COMPLETE_QUEUE_MASK, q) |
           MTIA_FIELD_PREP(MTIA_CC_Q_COMPLETE_STATUS_MASK, status);
}
static inline uint32_t mtia_cc_q_complete_queue(uint32_t v) { return MTIA_FIELD_GET(MTIA_CC_Q_COMPLETE_QUEUE_MASK, v); }
static inline uint32_t mtia_cc_q_complete_status(uint32_t v) { return MTIA_FIELD_GET(MTIA_CC_Q_COMPLETE_STATUS_MASK, v); }
/* The core's external interrupt line (MEIP) is high while MBOX_DOORBELL != 0,
 * Q_PENDING != 0 or ENGINE_EVENT != 0 (see docs/queues.md). */

/* Admin mailbox message: the same layout for a command and its response. */
struct mtia_mbox_msg {
    uint16_t opcode;     /* MTIA_ADMIN_* (echoed in the response) */
    uint16_t seq;        /* chosen by the host, echoed */
    uint32_t status;     /* response: MTIA_ADMIN_STATUS_* */
    uint32_t args[14];
};                       /* MTIA_MBOX_MSG_BYTES */

/* Word 0 of a message (the host posts it last, see docs/driver.md). */
#define MTIA_MBOX_W0_OPCODE_MASK  MTIA_GENMASK(15, 0)
#define MTIA_MBOX_W0_SEQ_MASK     MTIA_GENMASK(31, 16)
static inline uint32_t mtia_mbox_word0(uint32_t opcode, uint32_t seq)
{
    return MTIA_FIELD_PREP(MTIA_MBOX_W0_OPCODE_MASK, opcode) | MTIA_FIELD_PREP(MTIA_MBOX_W0_SEQ_MASK, seq);
}

#define MTIA_ADMIN_PING           0x0001 /* args echoed back */
#define MTIA_ADMIN_GET_VERSION    0x0002 /* resp args[0] = fw_version, args[1] = if version */
#define MTIA_ADMIN_GET_PARAM      0x0003 /* args[0] = id; resp args[0] = value */
#define MTIA_ADMIN_SET_PARAM      0x0004 /* args[0] = id, args[1] = value */
#define MTIA_ADMIN_GET_QSTATS     0x0005 /* args[0] = queue; resp args[0..5]: fetched, dispatched,
                                            completed by fw, errors, fence waits, state */
#define MTIA_ADMIN_DEBUG_HANG     0xf001 /* test: spin forever, interrupts off */
#define MTIA_ADMIN_DEBUG_TRAP     0xf002 /* test: execute an illegal instruction */

#define MTIA_ADMIN_STATUS_OK          0
#define MTIA_ADMIN_STATUS_BAD_OPCODE  1
#define MTIA_ADMIN_STATUS_BAD_ARG     2

#define MTIA_PARAM_HEARTBEAT_MS   1 /* heartbeat period, 10..10000, default 100 */
#define MTIA_PARAM_LOG_LEVEL      2 /* 0 error .. 3 debug, default 2 */

/* Firmware log ring in device memory, at FW_LOG_ADDR: this header then
 * size - 16 bytes of text. head counts bytes ever written, wrapping at the
 * largest multiple of size - 16 below 2^32 (so that it stays a multiple of
 * the ring); byte i of the stream is at data[i % (size - 16)]. */
struct mtia_fw_log_header {
    uint32_t magic;      /* MTIA_FW_LOG_MAGIC */
    uint32_t size;       /* ring bytes including this header */
    uint32_t head;       /* bytes written so far */
    uint32_t reserved;
};
#define MTIA_FW_LOG_MAGIC         0x474f4c4du /* "MLOG" */

/* ---- Commands and completions ---------------------------------------------
 * A submission-queue entry is a 64-byte struct mtia_cmd; a completion-queue
 * entry a 16-byte struct mtia_cqe whose phase bit flips each time the device
 * wraps the CQ (starting at 1 after enable), as in NVMe.
 *
 * Memory operands: addr's top bits say what it names.
 *   MTIA_ADDR_DEVMEM | off   device memory byte offset off
 *   MTIA_ADDR_SGT | dma      host buffer described by a struct mtia_sgt at
 *                            host DMA address dma; offset is into that buffer
 *   dma (no tag)             flat host DMA address (+ offset)
 * Every access goes through the device's per-context translate-and-check
 * (ctx); with the device MMU enabled ("Device MMU" below) operands are
 * device virtual addresses of ctx instead of these forms.
 */
#define MTIA_ADDR_DEVMEM          (1ull << 63)
#define MTIA_ADDR_SGT             (1ull << 62)
#define MTIA_ADDR_TAG_MASK        (3ull << 62)

#define MTIA_CMD_NOP              0x00
#define MTIA_CMD_COPY             0x01 /* len bytes src -> dst */
#define MTIA_CMD_FILL             0x02 /* len bytes of dst set to value's low byte (see F_FILL64) */
#define MTIA_CMD_FENCE            0x03 /* completes once every earlier command of the queue has */
#define MTIA_CMD_TIMESTAMP        0x04 /* 8-byte device time (ns) written to dst; also in result */
#define MTIA_CMD_COMPUTE          0x05 /* run a program on the PE grid, see "Compute" below */

#define MTIA_CMD_F_FILL64         (1u << 0) /* FILL: repeat all 8 bytes of value (len % 8 == 0) */
#define MTIA_CMD_F_PROFILE        (1u << 1) /* COMPUTE: per-op profile into the arena's tail (Compute) */

struct mtia_operand {
    uint64_t addr;       /* tagged, see above */
    uint64_t offset;
};

struct mtia_cmd {
    uint8_t opcode;      /* MTIA_CMD_* */
    uint8_t flags;       /* MTIA_CMD_F_* */
    uint16_t cid;        /* echoed in the completion */
    uint32_t ctx;        /* context whose address space operands are in */
    uint64_t len;
    uint64_t value;      /* FILL pattern */
    struct mtia_operand src;
    struct mtia_operand dst;
    uint64_t reserved;   /* zero */
};                       /* 64 bytes */

struct mtia_cqe {
    uint64_t result;     /* TIMESTAMP: device ns; else bytes done */
    uint16_t sq_head;    /* SQ head after this command was fetched */
    uint16_t sq_id;      /* queue */
    uint16_t cid;
    uint16_t status;     /* bit 0 phase, [15:1] MTIA_CQE_* */
};                       /* 16 bytes */

/* struct mtia_cmd word 0 (little endian): opcode, flags, cid. */
#define MTIA_CMD_W0_OPCODE_MASK   MTIA_GENMASK(7, 0)
#define MTIA_CMD_W0_FLAGS_MASK    MTIA_GENMASK(15, 8)
#define MTIA_CMD_W0_CID_MASK      MTIA_GENMASK(31, 16)

/* 32-bit word indices of struct mtia_cmd fields, for word-wise readers of
 * the SQE (firmware's CC_SQE window). 64-bit fields: _LO, _HI = _LO + 1. */
#define MTIA_CMD_WORD(field)      (offsetof(struct mtia_cmd, field) / 4)
#define MTIA_CMD_W_HEAD           MTIA_CMD_WORD(opcode)     /* opcode, flags, cid */
#define MTIA_CMD_W_CTX            MTIA_CMD_WORD(ctx)
#define MTIA_CMD_W_LEN            MTIA_CMD_WORD(len)
#define MTIA_CMD_W_VALUE          MTIA_CMD_WORD(value)
#define MTIA_CMD_W_SRC_ADDR       MTIA_CMD_WORD(src.addr)
#define MTIA_CMD_W_SRC_OFFSET     MTIA_CMD_WORD(src.offset)
#define MTIA_CMD_W_DST_ADDR       MTIA_CMD_WORD(dst.addr)
#define MTIA_CMD_W_DST_OFFSET     MTIA_CMD_WORD(dst.offset)
#define MTIA_CMD_W_RESERVED       MTIA_CMD_WORD(reserved)
#define MTIA_CMD_WORDS            (sizeof(struct mtia_cmd) / 4)

#define MTIA_CQE_PHASE            (1u << 0)
#define MTIA_CQE_STATUS_MASK      MTIA_GENMASK(15, 1)
static inline uint16_t mtia_cqe_status_word(uint32_t status, uint32_t phase)
{
    return (uint16_t)(MTIA_FIELD_PREP(MTIA_CQE_STATUS_MASK, status) | (phase ? MTIA_CQE_PHASE : 0));
}
static inline uint32_t mtia_cqe_status(uint32_t status_word) { return MTIA_FIELD_GET(MTIA_CQE_STATUS_MASK, status_word); }
static inline uint32_t mtia_cqe_phase(uint32_t status_word) { return status_word & MTIA_CQE_PHASE; }

#define MTIA_CQE_OK               0
#define MTIA_CQE_BAD_OPCODE       1
#define MTIA_CQE_BAD_FIELD        2 /* reserved bits, bad flags or length */
#define MTIA_CQE_BAD_ADDRESS      3 /* operand outside device memory / its SG buffer */
#define MTIA_CQE_DMA_ERROR        4 /* host memory access failed (unmapped, bus master off) */
#define MTIA_CQE_ABORTED          5 /* queue disabled or device reset before it ran */
#define MTIA_CQE_BAD_PROGRAM      6 /* COMPUTE: an op descriptor is invalid (result = op index) */
#define MTIA_CQE_BAD_INDEX        7 /* COMPUTE: an id/index outside its table (result = op index);
                                       the ops before it ran, it and the rest did not complete */
#define MTIA_CQE_TRANSLATION_FAULT 8 /* an operand did not translate in the device MMU
                                       (result = the faulting VA); nothing was touched */
#define MTIA_CQE_BAD_CONTEXT      9 /* its queue is bound to another context (MTIA_Q_CTX), or
                                       bound with the MMU off; nothing was touched */

/* "OK", "BAD_ADDRESS"...: the one spelling of a status in every layer's
 * messages and traces; "?" if undefined. */
static inline const char *mtia_cqe_status_name(uint32_t status)
{
    static const char *const names[] = {
        "OK",      "BAD_OPCODE",  "BAD_FIELD", "BAD_ADDRESS",       "DMA_ERROR",
        "ABORTED", "BAD_PROGRAM", "BAD_INDEX", "TRANSLATION_FAULT", "BAD_CONTEXT",
    };
    return status < sizeof(names) / sizeof(names[0]) ? names[status] : "?";
}

/* ---- Device MMU ------------------------------------------------------------
 * With MTIA_CAP_MMU and MMU_CTRL.ENABLE set, every operand of a command
 * (addr + offset) is a device virtual address (VA) in the address space of
 * its command's ctx; the tagged forms above then fault (a VA has
 * MTIA_MMU_VA_BITS bits). The context table (MMU_CTX_TABLE, MMU_CTX_COUNT
 * 64-bit entries, indexed by ctx) holds each context's root table pointer.
 * Tables are 4 KiB of 512 64-bit entries in host memory, read by DMA like
 * the rings; three levels (root: VA [38:30], then [29:21], leaf [20:12]),
 * 4 KiB pages. An entry: VALID, and for a leaf READ, WRITE and DEVMEM (the
 * frame is a device-memory offset, else a host DMA address); table
 * pointers (context table, root and middle levels) have VALID alone; the
 * frame / next table address in bits [51:12], every other bit zero.
 * The device caches translations: after changing a VALID entry the driver
 * writes the context to MMU_INVALIDATE before relying on the change.
 * A command whose operand does not translate (any byte of it: unmapped,
 * permission, bad entry, table DMA) completes with MTIA_CQE_TRANSLATION_FAULT,
 * result = the faulting VA, touching nothing; the MMU_FAULT_* registers
 * record it. The queue goes on. COMPUTE's arena must translate to one
 * contiguous range of device memory (else BAD_ADDRESS); its program may
 * be anywhere. MMU_CTRL 0 (and reset): the legacy forms above.
 */
#define MTIA_MMU_PAGE_SHIFT       12
#define MTIA_MMU_PAGE_SIZE        (1ull << MTIA_MMU_PAGE_SHIFT)
#define MTIA_MMU_LEVELS           3
#define MTIA_MMU_TABLE_ENTRIES    512
#define MTIA_MMU_VA_BITS          39
#define MTIA_MMU_VA_LIMIT         (1ull << MTIA_MMU_VA_BITS)
#define MTIA_PTE_VALID            (1ull << 0)
#define MTIA_PTE_READ             (1ull << 1)
#define MTIA_PTE_WRITE            (1ull << 2)
#define MTIA_PTE_DEVMEM           (1ull << 3)
#define MTIA_PTE_FLAGS            (MTIA_PTE_VALID | MTIA_PTE_READ | MTIA_PTE_WRITE | MTIA_PTE_DEVMEM)
#define MTIA_PTE_PFN_MASK         MTIA_GENMASK_ULL(51, 12) /* frame address >> 12 */
/* VA bits indexing the table of level l (2: root, 0: leaf table). */
#define MTIA_MMU_VA_INDEX_MASK(l) MTIA_GENMASK_ULL(20 + 9 * (l), 12 + 9 * (l))

/* An entry pointing at @addr (4 KiB aligned) with MTIA_PTE_* @flags. */
static inline uint64_t mtia_pte(uint64_t addr, uint64_t flags)
{
    return MTIA_FIELD_PREP64(MTIA_PTE_PFN_MASK, addr >> MTIA_MMU_PAGE_SHIFT) | (flags & MTIA_PTE_FLAGS);
}
static inline uint64_t mtia_pte_addr(uint64_t pte) { return MTIA_FIELD_GET64(MTIA_PTE_PFN_MASK, pte) << MTIA_MMU_PAGE_SHIFT; }
static inline uint32_t mtia_mmu_va_index(uint64_t va, unsigned level)
{
    return (uint32_t)MTIA_FIELD_GET64(MTIA_MMU_VA_INDEX_MASK(level), va);
}

/* Scatter-gather table in host memory for MTIA_ADDR_SGT operands. */
struct mtia_sgt {
    uint32_t magic;      /* MTIA_SGT_MAGIC */
    uint32_t count;      /* entries that follow, 1..MTIA_SGT_MAX_ENTRIES */
    uint64_t total;      /* sum of the entries' len */
};
struct mtia_sg_entry {
    uint64_t dma;        /* host DMA address */
    uint64_t len;        /* bytes, > 0 */
};
#define MTIA_SGT_MAGIC            0x5447534du /* "MSGT" */
#define MTIA_SGT_MAX_ENTRIES      (1u << 20)

/* ---- Compute (PE grid) ---------------------------------------------------
 * MTIA_CMD_COMPUTE: src names a program, an array of struct mtia_op
 * (len bytes, a non-zero multiple of MTIA_OP_BYTES, at most
 * MTIA_MAX_PROGRAM_OPS ops); dst names the tensor arena, value bytes of
 * device memory (dst an MTIA_ADDR_DEVMEM operand, or with the MMU a VA of
 * contiguous device memory). The device
 * copies the program, then runs its ops in order on the PE grid. Every
 * tensor is a byte range [offset, offset + bytes) of the arena, checked
 * against value before any op runs.
 * Completion: MTIA_CQE_OK with result = the timing model's estimate of the
 * program's device time in ns; MTIA_CQE_BAD_PROGRAM with result = index of
 * the first invalid op (bad opcode/dtype/rank/shape/attribute, tensor outside
 * the arena); BAD_FIELD for a bad len/flags; BAD_ADDRESS if src/dst do not
 * translate. An invalid program runs no op at all.
 *
 * Tensors are dense and row-major. Float attributes and activation bounds
 * are IEEE-754 binary32 bit patterns in uint32_t (the kernel has no float).
 */

/*
 * Profiling (MTIA_CMD_F_PROFILE on a COMPUTE): the job names its profile
 * buffer as the tail of its arena, the last MTIA_PROFILE_BYTES(n_ops)
 * bytes of [dst, dst + value), n_ops = len / MTIA_OP_BYTES. The program's
 * tensors must then lie in [0, value - MTIA_PROFILE_BYTES(n_ops)) (a tensor
 * outside: BAD_PROGRAM, as for any tensor outside the arena), and value
 * must exceed the profile (else BAD_FIELD, by the command rules). When the
 * program completes (MTIA_CQE_OK) the device writes a struct
 * mtia_profile_header followed by n_ops struct mtia_op_profile, op i's at
 * index i; on any other status the tail is not written. Times are on the
 * device clock TIMESTAMP uses (ns). Without the flag nothing is recorded
 * and the whole arena is the program's.
 */
#define MTIA_PROFILE_MAGIC        0x464f5250u /* "PROF" */

struct mtia_profile_header {
    uint32_t magic;      /* MTIA_PROFILE_MAGIC */
    uint32_t n_ops;      /* records that follow: the program's ops */
    uint64_t start_ns;   /* device clock: the program started (before validation) */
    uint64_t end_ns;     /* device clock: its last op ended */
    uint64_t model_ns;   /* timing model's estimate of the program (= the CQE's result) */
    uint64_t throttle_ns; /* of end_ns - start_ns: the engine held for its clock below
                           * f_max (docs/telemetry.md, "Throttling"); 0 at full clock */
};                       /* 40 bytes (interface 1.7; 32 before) */

struct mtia_op_profile {
    uint64_t start_ns;   /* device clock: the op started (kernel lookup included) */
    uint64_t end_ns;     /* device clock: the op ended */
    uint64_t model_ns;   /* timing model's estimate of the op (MTIA v1, the device's grid) */
    uint64_t bytes;      /* bytes the op reads (every input) + writes (its output) */
};                       /* 32 bytes */

#define MTIA_PROFILE_BYTES(n_ops) \
    (sizeof(struct mtia_profile_header) + (uint64_t)(n_ops) * sizeof(struct mtia_op_profile))
#define MTIA_OP_BYTES             256
#define MTIA_MAX_PROGRAM_OPS      65536
#define MTIA_MAX_DIMS             6
#define MTIA_OP_MAX_IN            3
#define MTIA_OP_MAX_ATTRS         16

/* Element types. F16 and BF16 are converted as include/mtia/mtia_fp16.h
 * says (round to nearest even). I8 and U8 are quantized (affine) tensors:
 * element q stands for the real value (q - zero_point) * scale, with the
 * tensor's own scale and zero point (struct mtia_tensor_desc), converted as
 * include/mtia/mtia_quant.h says. */
#define MTIA_DTYPE_F32            1
#define MTIA_DTYPE_F16            2   /* IEEE 754 binary16 */
#define MTIA_DTYPE_BF16           3   /* bfloat16: the top half of an F32 */
#define MTIA_DTYPE_I8             4   /* quantized, int8_t */
#define MTIA_DTYPE_I32            5   /* ids, offsets, lengths */
#define MTIA_DTYPE_I64            6   /* ids (ONNX/PyTorch default index type) */
#define MTIA_DTYPE_BOOL           7   /* one byte, 0 or 1 (masks, comparisons) */
#define MTIA_DTYPE_U8             8   /* quantized, uint8_t */
#define MTIA_DTYPE_LAST           MTIA_DTYPE_U8

/* F32, F16 or BF16. */
static inline int mtia_dtype_is_float(uint32_t dtype)
{
    return dtype == MTIA_DTYPE_F32 || dtype == MTIA_DTYPE_F16 || dtype == MTIA_DTYPE_BF16;
}

/* I8 or U8: a quantized tensor (scale and zero point in its descriptor). */
static inline int mtia_dtype_is_quant(uint32_t dtype)
{
    return dtype == MTIA_DTYPE_I8 || dtype == MTIA_DTYPE_U8;
}

/* Bytes per element of dtype; 0 for an unknown or reserved dtype. */
static inline uint32_t mtia_dtype_size(uint32_t dtype)
{
    switch (dtype) {
    case MTIA_DTYPE_F32: return 4;
    case MTIA_DTYPE_F16: return 2;
    case MTIA_DTYPE_BF16: return 2;
    case MTIA_DTYPE_I32: return 4;
    case MTIA_DTYPE_I64: return 8;
    case MTIA_DTYPE_BOOL: return 1;
    case MTIA_DTYPE_I8: return 1;
    case MTIA_DTYPE_U8: return 1;
    default: return 0;
    }
}

/* Quantization parameters. An I8/U8 tensor has a scale (f32 bits, finite
 * and > 0) and a zero point in its dtype's range (I8 -128..127, U8 0..255),
 * except the weights of a per-channel quantized CONV/GEMM (below): scale 0,
 * zero point 0, their scales in the op's in[2]. Every other dtype has both
 * zero. */
struct mtia_tensor_desc {
    uint64_t offset;     /* arena byte offset, aligned to the dtype size */
    uint8_t dtype;       /* MTIA_DTYPE_* */
    uint8_t ndim;        /* 1..MTIA_MAX_DIMS */
    int16_t zero_point;  /* I8/U8: the zero point; else 0 */
    uint32_t dims[MTIA_MAX_DIMS]; /* each >= 1; unused dims zero */
    uint32_t scale;      /* I8/U8: f32 bits of the scale; else 0 */
};                       /* 40 bytes */

struct mtia_op {
    uint16_t opcode;     /* MTIA_OP_* */
    uint8_t n_in;        /* inputs used, in[0..n_in) */
    uint8_t act;         /* MTIA_ACT_* applied to the output (fused) */
    uint32_t flags;      /* MTIA_OP_F_* (below), else zero */
    uint32_t act_min;    /* MTIA_ACT_CLIP: lower bound (f32 bits) */
    uint32_t act_max;    /* MTIA_ACT_CLIP: upper bound (f32 bits) */
    struct mtia_tensor_desc in[MTIA_OP_MAX_IN];
    struct mtia_tensor_desc out;
    uint32_t attrs[MTIA_OP_MAX_ATTRS]; /* per opcode, MTIA_<OP>_* indices */
    uint32_t reserved[4];              /* zero */
};                       /* MTIA_OP_BYTES */

/* struct mtia_op.flags: channels-last or blocked storage for 2-D CONV and
 * POOL on float tensors (not the int8 path), and a CONV's accumulation into out
 * (MTIA_OP_F_ACCUM below); every other op has flags zero. Shapes
 * below are stated for NCHW; with IN_NHWC in[0] is stored, and its dims
 * given, as (N, H, W, C), with OUT_NHWC out as (N, OH, OW, M). The
 * compiler keeps chains of convolutions channels-last, oneDNN's own layout
 * for them, so no activation is reordered between ops (docs/compute.md,
 * "Channels-last"); ops between them need no flag, their tensors being
 * given in stored order. */
#define MTIA_OP_F_IN_NHWC         (1u << 0)
#define MTIA_OP_F_OUT_NHWC        (1u << 1)
#define MTIA_OP_F_NHWC            (MTIA_OP_F_IN_NHWC | MTIA_OP_F_OUT_NHWC)
/* MTIA_OP_F_ACCUM: a CONV adds its result to what out already holds,
 * out = act(conv(X, W) + bias + out), in the convolution's own pass: a
 * residual connection's ADD fused into the convolution feeding it, so the
 * sum costs no op and no second pass over the tensor (docs/mtia-compile.md,
 * "Residual adds"). F32 CONV only (every input and out F32); out overlaps
 * no input, as for any CONV. */
#define MTIA_OP_F_ACCUM           (1u << 2)
/* MTIA_OP_F_IN_BLK16 / MTIA_OP_F_OUT_BLK16: in[0] / out of a 2-D float
 * CONV (groups 1) or POOL stored in oneDNN's nChw16c blocked layout, its
 * dims given in stored order (N, C/16, H, W, 16): channels in blocks of 16,
 * each pixel's block contiguous (so C is a multiple of 16). The compiler
 * keeps chains of convolutions so where oneDNN's Winograd and blocked
 * kernels work on it (docs/mtia-compile.md, "Blocked layouts"). Not with
 * the same side's NHWC flag. */
#define MTIA_OP_F_IN_BLK16        (1u << 3)
#define MTIA_OP_F_OUT_BLK16       (1u << 4)
#define MTIA_OP_F_BLK16           (MTIA_OP_F_IN_BLK16 | MTIA_OP_F_OUT_BLK16)
#define MTIA_OP_F_BLK             16u /* channels per block */

/* Opcodes. Shapes: "N" batch etc.; opcodes 1..9 compute in F32 (F16, BF16
 * and quantized tensors are converted: see "Reduced precision" below),
 * the comparisons of BINARY give BOOL. Integer CONV and GEMM: an I32
 * in[0] makes in[1] and out I32 too; then n_in is 2 (no bias, no C), act
 * NONE, GEMM's ALPHA 1.0f and BETA 0, and out is the exact sum of products
 * wrapping as two's complement int32 (CONV's pads contribute zeros):
 * ONNX MatMulInteger/ConvInteger once their zero points are subtracted. */
#define MTIA_OP_CONV              1 /* 2-D convolution, NCHW, or 3-D, NCDHW.
                                       in[0] X (N,C,H,W); in[1] W (M,C/groups,kH,kW);
                                       in[2] bias (M), optional (n_in 2 or 3);
                                       out (N,M,OH,OW), OH = (H+pt+pb-dh*(kH-1)-1)/sh+1.
                                       3-D: X (N,C,D,H,W), W (M,C/groups,kD,kH,kW),
                                       out (N,M,OD,OH,OW); the depth attrs
                                       below are 0 for 2-D, the stride and
                                       dilation >= 1 for 3-D */
#define MTIA_CONV_STRIDE_H        0
#define MTIA_CONV_STRIDE_W        1
#define MTIA_CONV_PAD_T           2
#define MTIA_CONV_PAD_L           3
#define MTIA_CONV_PAD_B           4
#define MTIA_CONV_PAD_R           5
#define MTIA_CONV_DIL_H           6
#define MTIA_CONV_DIL_W           7
#define MTIA_CONV_GROUPS          8
#define MTIA_CONV_STRIDE_D        9
#define MTIA_CONV_DIL_D           10
#define MTIA_CONV_PAD_FRONT       11 /* depth pads */
#define MTIA_CONV_PAD_BACK        12

#define MTIA_OP_GEMM              2 /* out = alpha * op(A) @ op(B) + beta * C.
                                       in[0] A (..., M, K) or (..., K, M) with TRANS_A;
                                       in[1] B (..., K, N) or (..., N, K) with TRANS_B;
                                       in[2] C optional, broadcastable to out;
                                       out (..., M, N). Leading (batch) dims of
                                       A and B broadcast NumPy-style (each equal
                                       to out's or 1; attention's Q.K^T, P.V);
                                       all tensors have the same ndim as out
                                       except a 2-D A or B (shared by the batch) */
#define MTIA_GEMM_TRANS_A         0
#define MTIA_GEMM_TRANS_B         1
#define MTIA_GEMM_ALPHA           2 /* f32 bits (1.0f = 0x3f800000) */
#define MTIA_GEMM_BETA            3 /* f32 bits */

#define MTIA_OP_BINARY            3 /* out = in[0] <kind> in[1], NumPy broadcasting:
                                       inputs have out's ndim, each dim equal to
                                       out's or 1. Comparisons (EQUAL..GREATER)
                                       write BOOL (0/1) and take no act.
                                       ADD..MIN also on I32 or I64 data (in[0]'s
                                       dtype: in[1] and out have it too), no
                                       act, exact: results wrap as two's
                                       complement, DIV truncates toward zero
                                       (x / 0 = 0), POW of a negative exponent
                                       is 1 / x^-e truncated (0 but for x = +-1).
                                       EQUAL..GREATER also compare I32 or I64
                                       data exactly (in[1] of in[0]'s dtype) */
#define MTIA_BINARY_KIND          0
#define MTIA_BINARY_ADD           0
#define MTIA_BINARY_SUB           1
#define MTIA_BINARY_MUL           2
#define MTIA_BINARY_DIV           3
#define MTIA_BINARY_POW           4 /* powf(in[0], in[1]) */
#define MTIA_BINARY_MAX           5
#define MTIA_BINARY_MIN           6
#define MTIA_BINARY_EQUAL         7 /* out BOOL */
#define MTIA_BINARY_LESS          8 /* out BOOL: in[0] < in[1] */
#define MTIA_BINARY_GREATER       9 /* out BOOL: in[0] > in[1] */

#define MTIA_OP_ACT               4 /* out = act(in[0]); same shape (act may be NONE: a copy) */

#define MTIA_OP_POOL              5 /* 2-D pooling, NCHW, or 3-D, NCDHW; out dims
                                       given (the compiler folds ceil_mode into
                                       PAD_B/PAD_R/the back pad). The depth
                                       attrs below are 0 for 2-D; for 3-D the
                                       kernel, stride and dilation are >= 1 */
#define MTIA_POOL_KIND            0
#define MTIA_POOL_MAX             0
#define MTIA_POOL_AVG             1
#define MTIA_POOL_K_H             1
#define MTIA_POOL_K_W             2
#define MTIA_POOL_STRIDE_H        3
#define MTIA_POOL_STRIDE_W        4
#define MTIA_POOL_PAD_T           5
#define MTIA_POOL_PAD_L           6
#define MTIA_POOL_PAD_B           7
#define MTIA_POOL_PAD_R           8
#define MTIA_POOL_COUNT_PAD       9 /* AVG: 1 = padding counts in the divisor */
#define MTIA_POOL_DIL_H           10 /* MAX only; 1 for none */
#define MTIA_POOL_DIL_W           11
#define MTIA_POOL_K_D             12
#define MTIA_POOL_STRIDE_D        13
#define MTIA_POOL_PAD_D           14 /* front | back << 16 (each < 2^16) */
#define MTIA_POOL_DIL_D           15 /* MAX only; 1 for none */

#define MTIA_OP_SOFTMAX           6 /* softmax of in[0] along AXIS; same shape */
#define MTIA_SOFTMAX_AXIS         0
#define MTIA_SOFTMAX_LOG          1 /* 0 softmax, 1 log-softmax */

#define MTIA_OP_TRANSPOSE         7 /* out dim i = in dim PERM[i] */
#define MTIA_TRANSPOSE_PERM       0 /* attrs[0..ndim) */

#define MTIA_OP_COPY_INTO         8 /* out[.., START:START+in.dims[AXIS], ..] = in[0]
                                       (Concat is one per input); other dims equal */
#define MTIA_COPY_INTO_AXIS       0
#define MTIA_COPY_INTO_START      1

#define MTIA_OP_SLICE             9 /* out[.., i, ..] = in[0][.., START + i*STEP, ..]
                                       along AXIS, i < out.dims[AXIS] (Split/Slice);
                                       other dims equal */
#define MTIA_SLICE_AXIS           0
#define MTIA_SLICE_START          1 /* index of out's first element along AXIS */
#define MTIA_SLICE_STEP           2 /* int32 bits, non-zero; 0 means 1 (older programs) */

/* Opcodes 10..12: ids and embeddings. An id or index outside its table
 * (and an offsets tensor that is not a valid list of bags) is found while
 * the op runs: the job completes with MTIA_CQE_BAD_INDEX, result = the op's
 * index; the op writes nothing of its output, nothing is ever read outside
 * the table. Index tensors are I32 or I64; each op's data dtypes are its
 * own (below). */
#define MTIA_OP_GATHER            10 /* ONNX Gather: in[0] data (any dtype, out's);
                                       in[1] indices (I32/I64, any rank q);
                                       out = data.dims[:AXIS] + indices.dims +
                                       data.dims[AXIS+1:] (ndim r - 1 + q <= 6);
                                       an index i in [-s, s), s = data.dims[AXIS],
                                       negative ones count from the end */
#define MTIA_GATHER_AXIS          0

#define MTIA_OP_EMBEDDING_BAG     11 /* table-batched embedding bag (FBGEMM TBE):
                                       in[0] tables F32, F16 or BF16 (R, D): the
                                       T tables' rows concatenated, table t has
                                       ROWS[t] rows (R = their sum); or 8-bit
                                       rowwise tables (FBGEMM's fused 8-bit
                                       rowwise): I8 or U8 (R, D + 8) with scale
                                       0 and zero point 0, each row its D
                                       values q, then its own F32 scale s and
                                       bias b (little endian, at bytes D and
                                       D + 4 of the row, unaligned): the row's
                                       element c is (float)q[c] * s + b in F32
                                       (the product rounded, then the sum; s
                                       and b are data, never checked: NaN or
                                       infinite ones give NaN or infinite
                                       results, not a fault). Rows of every
                                       dtype are pooled in F32.
                                       in[1] ids I32/I64.
                                       BAG_SIZE L > 0 (fixed bags): ids (T, B, L),
                                       in[2] optional per-sample weights F32
                                       (T, B, L), SUM only.
                                       BAG_SIZE 0 (offsets, PyTorch/ONNX
                                       EmbeddingBag): ids (N), in[2] offsets
                                       (I32/I64, ids' dtype) of the T*B bags,
                                       table-major: bag k = ids[off[k], off[k+1])
                                       with off[T*B] = N, or given as the last
                                       entry (INCLUDE_LAST 1: T*B + 1 entries);
                                       offsets must start at 0, not decrease and
                                       end <= N (else BAD_INDEX).
                                       out F32 (B, T*D): sample b's pooled rows,
                                       table by table. An id is a row of its own
                                       table, in [0, ROWS[t]); an empty bag
                                       gives zeros (all modes) */
#define MTIA_EMBEDDING_BAG_MODE   0
#define MTIA_EMBEDDING_BAG_SUM    0
#define MTIA_EMBEDDING_BAG_MEAN   1
#define MTIA_EMBEDDING_BAG_MAX    2
#define MTIA_EMBEDDING_BAG_TABLES 1  /* T, 1..MTIA_EMBEDDING_BAG_MAX_TABLES */
#define MTIA_EMBEDDING_BAG_BAG_SIZE 2
#define MTIA_EMBEDDING_BAG_INCLUDE_LAST 3
#define MTIA_EMBEDDING_BAG_ROWS   4  /* attrs[4..4+T): rows of each table, >= 1 */
#define MTIA_EMBEDDING_BAG_MAX_TABLES (MTIA_OP_MAX_ATTRS - MTIA_EMBEDDING_BAG_ROWS)
#define MTIA_ROWWISE_PARAM_BYTES  8  /* an 8-bit rowwise row's F32 scale and bias */

/* EMBEDDING_BAG's D (out is (B, T*D)) for tables of @dtype with @cols
 * columns: cols, less the scale and bias of an 8-bit rowwise (I8/U8) row;
 * 0 for an 8-bit row too short to hold a value. */
static inline uint32_t mtia_embedding_bag_dim(uint32_t dtype, uint32_t cols)
{
    if (!mtia_dtype_is_quant(dtype)) return cols;
    return cols > MTIA_ROWWISE_PARAM_BYTES ? cols - MTIA_ROWWISE_PARAM_BYTES : 0;
}

#define MTIA_OP_CAST              12 /* out = in[0] converted to out's dtype (ONNX
                                       Cast): same shape; float -> int truncates
                                       toward zero (NaN and out-of-range values
                                       saturate: NaN -> 0); -> BOOL is x != 0;
                                       BOOL -> 0/1; I8/U8 -> I32 is the exact
                                       integer q - zero_point (below) */

/* Opcodes 13..24: transformer math (unary math is MTIA_OP_ACT with the
 * MTIA_ACT_* kinds below); 25..31 are for the remaining vision ops. */
#define MTIA_OP_WHERE             13 /* out = in[0] ? in[1] : in[2]; in[0] BOOL;
                                        inputs broadcastable to out (BINARY's rule) */
#define MTIA_OP_REDUCE            14 /* out = reduction of in[0] over AXES; same ndim,
                                        reduced dims 1, the others equal */
#define MTIA_REDUCE_KIND          0
#define MTIA_REDUCE_SUM           0
#define MTIA_REDUCE_MEAN          1
#define MTIA_REDUCE_MAX           2
#define MTIA_REDUCE_MIN           3
#define MTIA_REDUCE_AXES          1 /* bitmask of axes < ndim, non-zero */
#define MTIA_OP_LAYERNORM         15 /* out = (x - mean) / sqrt(var + EPSILON) * scale + bias,
                                        mean and (biased) var over dims AXIS..ndim-1;
                                        in[1] scale, in[2] bias optional (n_in 1..3),
                                        each shaped like those trailing dims; same shape */
#define MTIA_LAYERNORM_AXIS       0
#define MTIA_LAYERNORM_EPSILON    1 /* f32 bits, finite, > 0 */
#define MTIA_OP_EXPAND            16 /* out = in[0] broadcast to out (Expand, Tile of
                                        dims of 1): in has out's ndim, dims equal or 1 */

#define MTIA_OP_PAD               25 /* out = ONNX Pad(in[0]); same ndim. Per dim
                                       i: b = (int32_t)attrs[BEGIN + i], the
                                       end pad e = out.dims[i] - in.dims[i] - b;
                                       negative b/e crop first, then positive
                                       ones pad the cropped input (at least one
                                       element of it left per dim). CONSTANT
                                       pads with VALUE (any f32 bits), REFLECT
                                       mirrors without repeating the edge
                                       (NumPy's reflect, repeatedly for pads
                                       past the extent), EDGE repeats the edge */
#define MTIA_PAD_MODE             0
#define MTIA_PAD_CONSTANT         0
#define MTIA_PAD_REFLECT          1
#define MTIA_PAD_EDGE             2
#define MTIA_PAD_VALUE            1 /* f32 bits; 0 unless CONSTANT */
#define MTIA_PAD_BEGIN            2 /* attrs[2..2+ndim), two's complement */

#define MTIA_OP_CONV_TRANSPOSE    26 /* ONNX ConvTranspose, 2-D (NCHW) or 3-D
                                       (NCDHW). in[0] X (N,C,H,W); in[1] W
                                       (C,M/groups,kH,kW), ONNX's layout; in[2]
                                       bias (M), optional; attrs as CONV's
                                       (MTIA_CONV_*). out (N,M,OH,OW) with
                                       OH = (H-1)*sh - pt - pb + dh*(kH-1) + 1
                                       + oph, the output padding oph in
                                       [0, max(sh, dh)) (given by out) */

#define MTIA_OP_RESIZE            27 /* ONNX Resize/Upsample of the trailing
                                       SPATIAL dims (1..3, <= ndim) of in[0];
                                       out has in's ndim and leading dims. Per
                                       resized dim: in size n, out size m,
                                       scale s = f32(SCALE[i]) if non-zero
                                       (finite, > 0, |m - n*s| < 1), else m/n
                                       (sizes given); length L = n*s (an f32
                                       product) or m. Out coordinate x maps to
                                       X (in double) by COORD: HALF_PIXEL
                                       (x+.5)/s-.5; PYTORCH_HALF_PIXEL that, or
                                       -.5 if L == 1; ALIGN_CORNERS
                                       x*(n-1)/(L-1), or 0 if L == 1;
                                       ASYMMETRIC x/s; TF_HALF_PIXEL_FOR_NN
                                       (x+.5)/s. With f = ceil(X)-1 and
                                       r = X-f in (0, 1]: NEAREST takes f+1 if
                                       X is integral, else f or f+1 by
                                       NEAREST_MODE; LINEAR weighs f, f+1 by
                                       1-r, r; CUBIC f-1..f+2 by Keys' kernel
                                       with CUBIC_A (ONNX's coefficients). A
                                       tap outside [0, n) reads the nearest
                                       edge element, or with EXCLUDE_OUTSIDE
                                       weighs 0 (the weights renormalised to
                                       sum 1). Separable, the last dim
                                       innermost, summed in double. No fused
                                       activation */
#define MTIA_RESIZE_MODE          0
#define MTIA_RESIZE_NEAREST       0
#define MTIA_RESIZE_LINEAR        1
#define MTIA_RESIZE_CUBIC         2
#define MTIA_RESIZE_COORD         1
#define MTIA_RESIZE_HALF_PIXEL    0
#define MTIA_RESIZE_PYTORCH_HALF_PIXEL 1
#define MTIA_RESIZE_ALIGN_CORNERS 2
#define MTIA_RESIZE_ASYMMETRIC    3
#define MTIA_RESIZE_TF_HALF_PIXEL_FOR_NN 4
#define MTIA_RESIZE_NEAREST_MODE  2 /* NEAREST only (else 0): */
#define MTIA_RESIZE_ROUND_PREFER_FLOOR 0
#define MTIA_RESIZE_ROUND_PREFER_CEIL 1
#define MTIA_RESIZE_FLOOR         2
#define MTIA_RESIZE_CEIL          3
#define MTIA_RESIZE_CUBIC_A       3 /* f32 bits, finite; CUBIC only (else 0) */
#define MTIA_RESIZE_EXCLUDE_OUTSIDE 4 /* 0/1; LINEAR or CUBIC only (else 0) */
#define MTIA_RESIZE_SPATIAL       5 /* resized trailing dims, 1..3 */
#define MTIA_RESIZE_SCALE         6 /* attrs[6..6+SPATIAL): f32 bits or 0 */
#define MTIA_RESIZE_MAX_SPATIAL   3
#define MTIA_RESIZE_MAX_TAPS      (1u << 24) /* bound on the sum over resized
                                       dims of out size x taps (1 NEAREST,
                                       2 LINEAR, 4 CUBIC): the kernel's tables */

#define MTIA_OP_LAST              MTIA_OP_RESIZE

/* Reduced precision.
 * F16/BF16: an op whose float type (below) is F16 or BF16 computes in F32
 * and rounds its output once.
 * Quantized tensors: wherever the rule below asks for the op's float type,
 * a tensor may instead be I8 or U8 with its own scale and zero point. Such
 * an input is dequantized on read, the op computes in F32, a quantized
 * output is quantized once (include/mtia/mtia_quant.h); an op that only
 * moves values between tensors of equal dtype, scale and zero point
 * (TRANSPOSE, COPY_INTO, SLICE, EXPAND, PAD, POOL MAX) therefore copies
 * them exactly. GATHER's out and data have equal dtype, scale and zero
 * point. EMBEDDING_BAG has no per-tensor quantized tables: its I8/U8
 * tables are 8-bit rowwise, a scale and a bias per row (above). CAST: float -> I8/U8 quantizes, I8/U8 -> float dequantizes, I8/U8
 * -> I8/U8 requantizes through the real value; I8/U8 -> I32 gives the
 * integer q - zero_point, exactly (the scale unused: raw 8-bit integers,
 * ONNX MatMulInteger's and ConvInteger's inputs, come in as I32 with
 * their zero point subtracted); every other pair of I8/U8 and
 * I32/I64/BOOL is invalid.
 * Per-channel quantized CONV and GEMM, the int8 path (MTIA v1: int8 at
 * twice the F16 rate): in[1] (W, or GEMM's B) is I8 with scale 0 and zero
 * point 0, symmetric per output channel, and then:
 *   in[0] (X, or GEMM's A) is I8 or U8; in[2] is required, F32 (2, M) for
 *   M output channels (GEMM: N): row 0 the weight scales, row 1 the bias
 *   (real values); GEMM: B is 2-D, TRANS_A 0, ALPHA 1.0f, BETA 0; the
 *   reduction length K (CONV: C/groups x the kernel's elements; GEMM: K)
 *   is at most MTIA_QUANT_MAX_K (mtia_quant.h);
 *   acc = sum over K of (x - x.zero_point) * w, exact in int32;
 *   y = (float)acc * (x.scale * scale[m]) + bias[m] in F32 (the product of
 *   scales rounded to F32 first), then the fused act;
 *   out I8/U8: y quantized with out's parameters; out F32: y.
 * in[2] may not be out's storage (GEMM's C may be; this in[2] is read
 * while out is written). Weight scales that are not finite and > 0 give
 * undefined values (saturated in a quantized out, possibly NaN or
 * infinite in an F32 one), never a fault. */

/* The dtype input @k (0..2, or MTIA_OP_MAX_IN for the output) of an op
 * must have, given its in[0]'s and its output's dtypes: the op's float type
 * (F32, F16 or BF16: its output's dtype if that is a float, else in[0]'s
 * if that is, else F32; every float tensor of an op has the same one, and
 * F16/BF16 ops compute in F32 and round their output once), but a
 * comparison's output and WHERE's condition are BOOL, and integer BINARY
 * (ADD..MIN on I32 or I64 in[0]) keeps in[0]'s dtype throughout, as an
 * integer comparison's inputs do, and so do integer CONV and GEMM (I32
 * in[0]);
 * 0 for GATHER, EMBEDDING_BAG and CAST, whose rules are their own (above).
 * One rule for the device's validation and the compiler. */
static inline uint32_t mtia_op_tensor_dtype(uint32_t opcode, uint32_t binary_kind, uint32_t k, uint32_t in0_dtype,
                                            uint32_t out_dtype)
{
    const uint32_t ft = mtia_dtype_is_float(out_dtype)  ? out_dtype
                        : mtia_dtype_is_float(in0_dtype) ? in0_dtype
                                                         : MTIA_DTYPE_F32;
    if (opcode >= MTIA_OP_GATHER && opcode <= MTIA_OP_CAST)
        return 0;
    if (opcode == MTIA_OP_BINARY && binary_kind <= MTIA_BINARY_GREATER &&
        (binary_kind <= MTIA_BINARY_MIN || k < MTIA_OP_MAX_IN) &&
        (in0_dtype == MTIA_DTYPE_I32 || in0_dtype == MTIA_DTYPE_I64))
        return in0_dtype;
    if ((opcode == MTIA_OP_CONV || opcode == MTIA_OP_GEMM) && in0_dtype == MTIA_DTYPE_I32)
        return MTIA_DTYPE_I32;
    if (opcode == MTIA_OP_BINARY && k == MTIA_OP_MAX_IN && binary_kind >= MTIA_BINARY_EQUAL &&
        binary_kind <= MTIA_BINARY_GREATER)
        return MTIA_DTYPE_BOOL;
    if (opcode == MTIA_OP_WHERE && k == 0)
        return MTIA_DTYPE_BOOL;
    return ft;
}

/* A tensor of dtype @have is acceptable where mtia_op_tensor_dtype() asks
 * for @want: the same dtype, or a quantized one in place of a float type. */
static inline int mtia_op_dtype_fits(uint32_t want, uint32_t have)
{
    return have == want || (mtia_dtype_is_float(want) && mtia_dtype_is_quant(have));
}

/* Fused activations (struct mtia_op.act). */
#define MTIA_ACT_NONE             0
#define MTIA_ACT_RELU             1
#define MTIA_ACT_CLIP             2 /* min(max(x, act_min), act_max) */
#define MTIA_ACT_SIGMOID          3
#define MTIA_ACT_TANH             4
#define MTIA_ACT_EXP              5
#define MTIA_ACT_LOG              6
#define MTIA_ACT_SQRT             7
#define MTIA_ACT_RECIPROCAL       8
#define MTIA_ACT_NEG              9
#define MTIA_ACT_ABS              10
#define MTIA_ACT_GELU_ERF         11 /* x/2 (1 + erf(x/sqrt 2)) */
#define MTIA_ACT_GELU_TANH        12 /* x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
#define MTIA_ACT_ERF              13 /* only on MTIA_OP_ACT (no fused form) */
#define MTIA_ACT_LAST             MTIA_ACT_ERF

/* ---- Device properties: defaults and limits ------------------------------ */
#define MTIA_DEFAULT_PE_ROWS      8
#define MTIA_DEFAULT_PE_COLS      8
#define MTIA_DEFAULT_SRAM_BYTES   (128ull << 20)   /* MTIA v1: 128 MiB on-chip SRAM */
#define MTIA_DEFAULT_DEVMEM_BYTES (1ull << 30)     /* 1 GiB (v1 has 64 GiB LPDDR5) */
#define MTIA_MIN_DEVMEM_BYTES     (1ull << 20)
#define MTIA_MAX_DEVMEM_BYTES     (64ull << 30)
#define MTIA_DEFAULT_MSIX_VECTORS 9   /* admin + one per queue (1 + MTIA_NUM_QUEUES) */
#define MTIA_MAX_MSIX_VECTORS     32

/* ---- Layouts: every host compiles the same bytes ------------------------- */
MTIA_STATIC_ASSERT(MTIA_Q_CTX < MTIA_QUEUE_STRIDE);
MTIA_STATIC_ASSERT(MTIA_REG_TEL_ECC_CORR_AGG == MTIA_REG_TEL_SERIAL_HI + 4 &&
                   MTIA_REG_TEL_ECC_UNCORR_AGG == MTIA_REG_TEL_ECC_CORR_AGG + 4 &&
                   MTIA_REG_TEL_ECC_CLEAR == MTIA_REG_TEL_ECC_UNCORR_AGG + 4);
MTIA_STATIC_ASSERT(MTIA_REG_TEL_ECC_CLEAR < MTIA_REG_TEL_END);
MTIA_STATIC_ASSERT((MTIA_TEL_ECC_CLEAR_VOLATILE & MTIA_TEL_ECC_CLEAR_AGGREGATE) == 0);
MTIA_STATIC_ASSERT(MTIA_Q_BUSY_PE_HI + 4 == MTIA_QUEUE_STRIDE); /* the queue block's last words */
MTIA_STATIC_ASSERT(MTIA_Q_BUSY_DMA_HI == MTIA_Q_BUSY_DMA_LO + 4 && MTIA_Q_BUSY_PE_HI == MTIA_Q_BUSY_PE_LO + 4);
MTIA_STATIC_ASSERT(MTIA_MMU_MAX_CTX - 1 == MTIA_Q_CTX_ID_MASK); /* any context can own a queue */
MTIA_STATIC_ASSERT(sizeof(struct mtia_fw_header) == MTIA_FW_HEADER_SIZE);
MTIA_STATIC_ASSERT(offsetof(struct mtia_fw_header, format_version) == 4);
MTIA_STATIC_ASSERT(offsetof(struct mtia_fw_header, load_addr) == 8);
MTIA_STATIC_ASSERT(offsetof(struct mtia_fw_header, fw_version) == 20);
MTIA_STATIC_ASSERT(offsetof(struct mtia_fw_header, flags) == 24);
MTIA_STATIC_ASSERT(offsetof(struct mtia_fw_header, sig_size) == 28);
MTIA_STATIC_ASSERT(offsetof(struct mtia_fw_header, sha256) == 48);
MTIA_STATIC_ASSERT(sizeof(struct mtia_fw_sig) == MTIA_FW_SIG_SIZE);
MTIA_STATIC_ASSERT(offsetof(struct mtia_fw_sig, key_id) == 8);
MTIA_STATIC_ASSERT(offsetof(struct mtia_fw_sig, signature) == 16);
MTIA_STATIC_ASSERT(sizeof(struct mtia_mbox_msg) == MTIA_MBOX_MSG_BYTES);
MTIA_STATIC_ASSERT(offsetof(struct mtia_mbox_msg, seq) == 2);
MTIA_STATIC_ASSERT(offsetof(struct mtia_mbox_msg, status) == 4);
MTIA_STATIC_ASSERT(offsetof(struct mtia_mbox_msg, args) == 8);
MTIA_STATIC_ASSERT(sizeof(struct mtia_fw_log_header) == 16);
MTIA_STATIC_ASSERT(sizeof(struct mtia_operand) == 16);
MTIA_STATIC_ASSERT(offsetof(struct mtia_operand, offset) == 8);
MTIA_STATIC_ASSERT(sizeof(struct mtia_cmd) == 64);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cmd, flags) == 1);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cmd, cid) == 2);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cmd, ctx) == 4);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cmd, len) == 8);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cmd, value) == 16);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cmd, src) == 24);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cmd, dst) == 40);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cmd, reserved) == 56);
/* Word 0 masks match the byte layout above. */
MTIA_STATIC_ASSERT(MTIA_CMD_W0_FLAGS_MASK == MTIA_GENMASK(8 * offsetof(struct mtia_cmd, flags) + 7,
                                                         8 * offsetof(struct mtia_cmd, flags)));
MTIA_STATIC_ASSERT(MTIA_CMD_W0_CID_MASK == MTIA_GENMASK(8 * offsetof(struct mtia_cmd, cid) + 15,
                                                       8 * offsetof(struct mtia_cmd, cid)));
MTIA_STATIC_ASSERT(sizeof(struct mtia_cqe) == 16);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cqe, sq_head) == 8);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cqe, sq_id) == 10);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cqe, cid) == 12);
MTIA_STATIC_ASSERT(offsetof(struct mtia_cqe, status) == 14);
MTIA_STATIC_ASSERT(sizeof(struct mtia_sgt) == 16);
MTIA_STATIC_ASSERT(sizeof(struct mtia_sg_entry) == 16);
MTIA_STATIC_ASSERT(sizeof(struct mtia_tensor_desc) == 40);
MTIA_STATIC_ASSERT(offsetof(struct mtia_tensor_desc, dims) == 12);
MTIA_STATIC_ASSERT(sizeof(struct mtia_op) == MTIA_OP_BYTES);
MTIA_STATIC_ASSERT(offsetof(struct mtia_op, in) == 16);
MTIA_STATIC_ASSERT(offsetof(struct mtia_op, out) == 136);
MTIA_STATIC_ASSERT(offsetof(struct mtia_op, attrs) == 176);
MTIA_STATIC_ASSERT(sizeof(struct mtia_profile_header) == 40);
MTIA_STATIC_ASSERT(offsetof(struct mtia_profile_header, n_ops) == 4);
MTIA_STATIC_ASSERT(offsetof(struct mtia_profile_header, start_ns) == 8);
MTIA_STATIC_ASSERT(offsetof(struct mtia_profile_header, end_ns) == 16);
MTIA_STATIC_ASSERT(offsetof(struct mtia_profile_header, model_ns) == 24);
MTIA_STATIC_ASSERT(offsetof(struct mtia_profile_header, throttle_ns) == 32);
MTIA_STATIC_ASSERT(sizeof(struct mtia_op_profile) == 32);
MTIA_STATIC_ASSERT(MTIA_MMU_TABLE_ENTRIES * sizeof(uint64_t) == MTIA_MMU_PAGE_SIZE);
MTIA_STATIC_ASSERT(MTIA_MMU_PAGE_SHIFT + MTIA_MMU_LEVELS * 9 == MTIA_MMU_VA_BITS);
MTIA_STATIC_ASSERT(MTIA_MMU_VA_INDEX_MASK(2) == MTIA_GENMASK_ULL(38, 30));
MTIA_STATIC_ASSERT((MTIA_PTE_FLAGS & MTIA_PTE_PFN_MASK) == 0);
MTIA_STATIC_ASSERT(offsetof(struct mtia_op_profile, end_ns) == 8);
MTIA_STATIC_ASSERT(offsetof(struct mtia_op_profile, model_ns) == 16);
MTIA_STATIC_ASSERT(offsetof(struct mtia_op_profile, bytes) == 24);

#endif /* MTIA_SPEC_H */
