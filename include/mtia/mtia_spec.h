/* SPDX-License-Identifier: MIT */
/*
 * mtia-open device specification: PCI identity and the BAR0 register map.
 *
 * This is the single source of truth shared by the QEMU device model, the
 * control-core firmware, the Linux driver and user space. Plain C, no
 * includes beyond fixed-width integers, so every one of those hosts can use it.
 * docs/device-spec.md describes the semantics of each register.
 */
#ifndef MTIA_SPEC_H
#define MTIA_SPEC_H

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
#define MTIA_IF_VERSION_MINOR     0u
#define MTIA_CHIP_ID_MTIA1        0x0001u /* MTIA v1 (8x8 PE grid) */

/* ---- BAR0 registers (all 32-bit, little endian, 4-byte aligned) ---------- */
#define MTIA_REG_MAGIC            0x000 /* RO  MTIA_MAGIC_VALUE */
#define MTIA_REG_IF_VERSION       0x004 /* RO  major << 16 | minor */
#define MTIA_REG_CHIP_ID          0x008 /* RO  MTIA_CHIP_ID_* */
#define MTIA_REG_REVISION         0x00c /* RO  silicon revision */
#define MTIA_REG_PE_GRID          0x010 /* RO  rows [7:0], cols [15:8] */
#define MTIA_REG_MSIX_VECTORS     0x014 /* RO  number of MSI-X vectors */
#define MTIA_REG_SRAM_SIZE_LO     0x018 /* RO  on-chip SRAM bytes, low 32 bits */
#define MTIA_REG_SRAM_SIZE_HI     0x01c /* RO  ... high 32 bits */
#define MTIA_REG_DEVMEM_SIZE_LO   0x020 /* RO  device memory (BAR2) bytes, low */
#define MTIA_REG_DEVMEM_SIZE_HI   0x024 /* RO  ... high */

#define MTIA_REG_SCRATCH          0x040 /* RW  free for software, reset to 0 */
#define MTIA_REG_RESET            0x044 /* WO  write MTIA_RESET_KEY: device reset */
#define MTIA_REG_STATUS           0x048 /* RO  MTIA_STATUS_* */
#define MTIA_REG_RESET_COUNT      0x04c /* RO  resets since power-on */

#define MTIA_REG_IRQ_STATUS       0x050 /* RW1C pending causes, MTIA_IRQ_* */
#define MTIA_REG_IRQ_MASK         0x054 /* RW  1 = cause masked; reset: all masked */
#define MTIA_REG_IRQ_TEST         0x058 /* WO  write 1: raise MTIA_IRQ_TEST */

#define MTIA_REG_ERR_STATUS       0x060 /* RW1C MTIA_ERR_* */
#define MTIA_REG_ERR_ADDR         0x064 /* RO  BAR0 offset of the last bad access */

#define MTIA_REG_LAST             MTIA_REG_ERR_ADDR

#define MTIA_RESET_KEY            0x52535421u /* "RST!": guards against stray writes */

/* MTIA_REG_STATUS bits */
#define MTIA_STATUS_READY         (1u << 0)

/* MTIA_REG_IRQ_STATUS / MTIA_REG_IRQ_MASK causes; all on MSI-X vector 0. */
#define MTIA_IRQ_TEST             (1u << 0)
#define MTIA_IRQ_ERROR            (1u << 1)
#define MTIA_IRQ_ALL              (MTIA_IRQ_TEST | MTIA_IRQ_ERROR)
#define MTIA_MSIX_VEC_ADMIN       0   /* admin, events, test */

/* MTIA_REG_ERR_STATUS bits */
#define MTIA_ERR_BAD_OFFSET       (1u << 0) /* access to an unmapped BAR0 offset */
#define MTIA_ERR_BAD_WRITE        (1u << 1) /* write to a read-only register / bad key */
#define MTIA_ERR_BAD_SIZE         (1u << 2) /* access that is not 32-bit and aligned */

/* ---- Device properties: defaults and limits ------------------------------ */
#define MTIA_DEFAULT_PE_ROWS      8
#define MTIA_DEFAULT_PE_COLS      8
#define MTIA_DEFAULT_SRAM_BYTES   (128ull << 20)   /* MTIA v1: 128 MiB on-chip SRAM */
#define MTIA_DEFAULT_DEVMEM_BYTES (1ull << 30)     /* 1 GiB (v1 has 64 GiB LPDDR5) */
#define MTIA_MIN_DEVMEM_BYTES     (1ull << 20)
#define MTIA_MAX_DEVMEM_BYTES     (64ull << 30)
#define MTIA_DEFAULT_MSIX_VECTORS 1
#define MTIA_MAX_MSIX_VECTORS     32

#endif /* MTIA_SPEC_H */
