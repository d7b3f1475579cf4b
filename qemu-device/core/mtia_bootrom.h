// SPDX-License-Identifier: MIT
// The boot ROM's image check and load (docs/device-spec.md, "Firmware
// boot"): a pure function of device memory, so every refusal code is
// unit-tested without a running core.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mtia {

struct BootImage {
    uint32_t entry = 0;  // control-core pc to start at
    uint32_t flags = 0;  // header flags, passed to firmware in a0
};

// Checks the image staged at devmem[stage, stage + stage_size) and, if it is
// good, copies its payload into sram (the control core's SRAM, based at
// MTIA_CC_SRAM_BASE, zeroed first). Returns MTIA_BOOT_RUNNING and fills
// *out, or the MTIA_BOOT_ERR_* code (sram is left zeroed). The header is
// copied before it is checked, so a guest cannot change it under the check.
uint32_t bootrom_load(const uint8_t *devmem, uint64_t devmem_size, uint64_t stage, uint64_t stage_size, uint8_t *sram,
                      size_t sram_size, BootImage *out);

}  // namespace mtia
