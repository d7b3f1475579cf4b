// SPDX-License-Identifier: MIT
// The mtia device's register behaviour (see mtia_core.h and
// docs/device-spec.md). C++ inside, C ABI outside.
#include "mtia_core.h"

#include <cstdio>
#include <new>

#include "mtia/mtia_spec.h"

namespace {

bool is_pow2(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

}  // namespace

struct mtia_core {
    mtia_core_config cfg;
    mtia_core_host_ops ops;
    void *opaque;
    mtia_core_snapshot s;  // all mutable state lives here, so save/load is exact

    void guest_error(const char *fmt, uint64_t offset) const {
        if (!ops.guest_error) {
            return;
        }
        char msg[128];
        std::snprintf(msg, sizeof(msg), fmt, static_cast<unsigned long long>(offset));
        ops.guest_error(opaque, msg);
    }

    // Latch a bad access for the driver to read and signal MTIA_IRQ_ERROR.
    void flag_error(uint32_t bit, uint64_t offset) {
        s.err_status |= bit;
        s.err_addr = static_cast<uint32_t>(offset);
        set_irq(MTIA_IRQ_ERROR);
    }

    // Raise the admin vector if any pending cause in @causes is unmasked.
    void update_irq(uint32_t causes) {
        if ((causes & s.irq_status & ~s.irq_mask) && ops.raise_irq) {
            ops.raise_irq(opaque, MTIA_MSIX_VEC_ADMIN);
        }
    }

    void set_irq(uint32_t cause) {
        bool was_pending = s.irq_status & cause;
        s.irq_status |= cause;
        if (!was_pending) {
            update_irq(cause);
        }
    }

    void reset() {
        uint32_t resets = s.reset_count;
        s = mtia_core_snapshot{};
        s.irq_mask = MTIA_IRQ_ALL;
        s.reset_count = resets;
    }

    // Returns false for an unmapped offset.
    bool read_reg(uint64_t off, uint32_t *val) const {
        switch (off) {
        case MTIA_REG_MAGIC:          *val = MTIA_MAGIC_VALUE; break;
        case MTIA_REG_IF_VERSION:     *val = MTIA_IF_VERSION_MAJOR << 16 | MTIA_IF_VERSION_MINOR; break;
        case MTIA_REG_CHIP_ID:        *val = MTIA_CHIP_ID_MTIA1; break;
        case MTIA_REG_REVISION:       *val = cfg.revision; break;
        case MTIA_REG_PE_GRID:        *val = cfg.pe_rows | cfg.pe_cols << 8; break;
        case MTIA_REG_MSIX_VECTORS:   *val = cfg.msix_vectors; break;
        case MTIA_REG_SRAM_SIZE_LO:   *val = static_cast<uint32_t>(cfg.sram_bytes); break;
        case MTIA_REG_SRAM_SIZE_HI:   *val = static_cast<uint32_t>(cfg.sram_bytes >> 32); break;
        case MTIA_REG_DEVMEM_SIZE_LO: *val = static_cast<uint32_t>(cfg.devmem_bytes); break;
        case MTIA_REG_DEVMEM_SIZE_HI: *val = static_cast<uint32_t>(cfg.devmem_bytes >> 32); break;
        case MTIA_REG_SCRATCH:        *val = s.scratch; break;
        case MTIA_REG_RESET:          *val = 0; break;
        case MTIA_REG_STATUS:         *val = MTIA_STATUS_READY; break;
        case MTIA_REG_RESET_COUNT:    *val = s.reset_count; break;
        case MTIA_REG_IRQ_STATUS:     *val = s.irq_status; break;
        case MTIA_REG_IRQ_MASK:       *val = s.irq_mask; break;
        case MTIA_REG_IRQ_TEST:       *val = 0; break;
        case MTIA_REG_ERR_STATUS:     *val = s.err_status; break;
        case MTIA_REG_ERR_ADDR:       *val = s.err_addr; break;
        default:                      return false;
        }
        return true;
    }

    void write_reg(uint64_t off, uint32_t val) {
        switch (off) {
        case MTIA_REG_SCRATCH:
            s.scratch = val;
            return;
        case MTIA_REG_RESET:
            if (val != MTIA_RESET_KEY) {
                flag_error(MTIA_ERR_BAD_WRITE, off);
                guest_error("mtia: bad reset key written at 0x%llx", off);
                return;
            }
            reset();
            s.reset_count++;
            return;
        case MTIA_REG_IRQ_STATUS:
            s.irq_status &= ~val;
            return;
        case MTIA_REG_IRQ_MASK: {
            uint32_t unmasked = s.irq_mask & ~val;
            s.irq_mask = val & MTIA_IRQ_ALL;
            update_irq(unmasked);  // a pending cause fires when unmasked
            return;
        }
        case MTIA_REG_IRQ_TEST:
            if (val & 1) {
                set_irq(MTIA_IRQ_TEST);
            }
            return;
        case MTIA_REG_ERR_STATUS:
            s.err_status &= ~val;
            return;
        default: {
            uint32_t dummy;
            if (read_reg(off, &dummy)) {
                flag_error(MTIA_ERR_BAD_WRITE, off);
                guest_error("mtia: write to read-only register 0x%llx", off);
            } else {
                flag_error(MTIA_ERR_BAD_OFFSET, off);
                guest_error("mtia: write to unmapped offset 0x%llx", off);
            }
            return;
        }
        }
    }
};

extern "C" {

void mtia_core_config_default(struct mtia_core_config *cfg)
{
    *cfg = mtia_core_config{};
    cfg->pe_rows = MTIA_DEFAULT_PE_ROWS;
    cfg->pe_cols = MTIA_DEFAULT_PE_COLS;
    cfg->sram_bytes = MTIA_DEFAULT_SRAM_BYTES;
    cfg->devmem_bytes = MTIA_DEFAULT_DEVMEM_BYTES;
    cfg->msix_vectors = MTIA_DEFAULT_MSIX_VECTORS;
    cfg->revision = MTIA_PCI_REVISION;
}

int mtia_core_config_validate(const struct mtia_core_config *cfg, char *err,
                              size_t errlen)
{
    const char *why = nullptr;
    if (cfg->pe_rows < 1 || cfg->pe_rows > 64) {
        why = "pe-rows must be between 1 and 64";
    } else if (cfg->pe_cols < 1 || cfg->pe_cols > 64) {
        why = "pe-cols must be between 1 and 64";
    } else if (!is_pow2(cfg->sram_bytes) || cfg->sram_bytes < (1ull << 20) ||
               cfg->sram_bytes > (1ull << 30)) {
        why = "sram-size must be a power of two between 1M and 1G";
    } else if (!is_pow2(cfg->devmem_bytes) || cfg->devmem_bytes < MTIA_MIN_DEVMEM_BYTES ||
               cfg->devmem_bytes > MTIA_MAX_DEVMEM_BYTES) {
        why = "devmem-size must be a power of two between 1M and 64G";
    } else if (cfg->msix_vectors < 1 || cfg->msix_vectors > MTIA_MAX_MSIX_VECTORS) {
        why = "msix-vectors must be between 1 and 32";
    } else if (cfg->revision > 0xff) {
        why = "revision must fit in 8 bits";
    }
    if (!why) {
        return 0;
    }
    if (err && errlen) {
        std::snprintf(err, errlen, "%s", why);
    }
    return -1;
}

struct mtia_core *mtia_core_new(const struct mtia_core_config *cfg,
                                const struct mtia_core_host_ops *ops,
                                void *opaque)
{
    if (mtia_core_config_validate(cfg, nullptr, 0) != 0) {
        return nullptr;
    }
    auto *core = new (std::nothrow) mtia_core{};
    if (!core) {
        return nullptr;
    }
    core->cfg = *cfg;
    if (ops) {
        core->ops = *ops;
    }
    core->opaque = opaque;
    core->reset();
    return core;
}

void mtia_core_free(struct mtia_core *core) { delete core; }

uint64_t mtia_core_mmio_read(struct mtia_core *core, uint64_t offset, unsigned size)
{
    if (size != 4 || (offset & 3)) {
        core->flag_error(MTIA_ERR_BAD_SIZE, offset);
        core->guest_error("mtia: read of bad size or alignment at 0x%llx", offset);
        return 0;
    }
    uint32_t val = 0;
    if (!core->read_reg(offset, &val)) {
        core->flag_error(MTIA_ERR_BAD_OFFSET, offset);
        core->guest_error("mtia: read of unmapped offset 0x%llx", offset);
        return 0;
    }
    return val;
}

void mtia_core_mmio_write(struct mtia_core *core, uint64_t offset, uint64_t value,
                          unsigned size)
{
    if (size != 4 || (offset & 3)) {
        core->flag_error(MTIA_ERR_BAD_SIZE, offset);
        core->guest_error("mtia: write of bad size or alignment at 0x%llx", offset);
        return;
    }
    core->write_reg(offset, static_cast<uint32_t>(value));
}

void mtia_core_reset(struct mtia_core *core) { core->reset(); }

void mtia_core_save(const struct mtia_core *core, struct mtia_core_snapshot *snap)
{
    *snap = core->s;
}

int mtia_core_load(struct mtia_core *core, const struct mtia_core_snapshot *snap)
{
    if ((snap->irq_status | snap->irq_mask) & ~MTIA_IRQ_ALL) {
        return -1;
    }
    if (snap->err_addr >= MTIA_BAR0_SIZE) {
        return -1;
    }
    core->s = *snap;
    return 0;
}

}  // extern "C"
