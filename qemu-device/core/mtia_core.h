/* SPDX-License-Identifier: MIT */
/*
 * The mtia device's behaviour core: a C ABI over C++ so that the QEMU glue
 * (qemu-device/qemu/mtia.c) stays thin and the behaviour is unit-tested
 * without QEMU (tests/unit/device_core_test.cc).
 *
 * The core knows nothing about QEMU. The glue hands it MMIO accesses and
 * gets called back through struct mtia_core_host_ops for side effects.
 * Not thread-safe: the glue calls it under QEMU's BQL.
 */
#ifndef MTIA_CORE_H
#define MTIA_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mtia_core;

/* Device properties, validated by mtia_core_config_validate(). */
struct mtia_core_config {
    uint32_t pe_rows;
    uint32_t pe_cols;
    uint64_t sram_bytes;
    uint64_t devmem_bytes;
    uint32_t msix_vectors;
    uint32_t revision;
};

/* Side effects the core asks of its host. Any pointer may be NULL. */
struct mtia_core_host_ops {
    /* Raise MSI-X vector @vector (edge). */
    void (*raise_irq)(void *opaque, unsigned vector);
    /* A guest did something wrong; @msg says what (for LOG_GUEST_ERROR). */
    void (*guest_error)(void *opaque, const char *msg);
};

/* Migratable state: plain fields so the glue can describe them in vmstate. */
#define MTIA_CORE_SNAPSHOT_VERSION 1
struct mtia_core_snapshot {
    uint32_t scratch;
    uint32_t irq_status;
    uint32_t irq_mask;
    uint32_t reset_count;
    uint32_t err_status;
    uint32_t err_addr;
};

void mtia_core_config_default(struct mtia_core_config *cfg);
/* 0 if @cfg is usable; else -1 and a one-line reason in @err. */
int mtia_core_config_validate(const struct mtia_core_config *cfg,
                              char *err, size_t errlen);

/* NULL if @cfg is invalid or allocation fails. */
struct mtia_core *mtia_core_new(const struct mtia_core_config *cfg,
                                const struct mtia_core_host_ops *ops,
                                void *opaque);
void mtia_core_free(struct mtia_core *core);

/* BAR0 accesses; @size is 1, 2, 4 or 8 bytes. */
uint64_t mtia_core_mmio_read(struct mtia_core *core, uint64_t offset,
                             unsigned size);
void mtia_core_mmio_write(struct mtia_core *core, uint64_t offset,
                          uint64_t value, unsigned size);

/* Device reset (PCI reset or MTIA_REG_RESET): registers to reset values. */
void mtia_core_reset(struct mtia_core *core);

void mtia_core_save(const struct mtia_core *core,
                    struct mtia_core_snapshot *snap);
/* 0 on success, -1 if @snap holds values the device could not have had. */
int mtia_core_load(struct mtia_core *core,
                   const struct mtia_core_snapshot *snap);

#ifdef __cplusplus
}
#endif

#endif /* MTIA_CORE_H */
