// SPDX-License-Identifier: MIT
// The boot ROM's image check and load (docs/device-spec.md, "Firmware
// boot"): a pure function of device memory, so every refusal code is
// unit-tested without a running core.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mtia_fw_key.h"

namespace mtia {

struct BootImage {
    uint32_t entry = 0;  // control-core pc to start at
    uint32_t flags = 0;  // header flags, passed to firmware in a0
};

// Checks the image staged at devmem[stage, stage + stage_size) and, if it is
// good and signed with the secret half of @pubkey (MTIA_FW_PUBKEY_SIZE
// bytes, the key the device trusts), copies its payload into sram (the
// control core's SRAM, based at MTIA_CC_SRAM_BASE, zeroed first). Returns
// MTIA_BOOT_RUNNING and fills *out, or the MTIA_BOOT_ERR_* code of the first
// check that fails, in the order of docs/device-spec.md "Firmware boot"
// (sram is left zeroed). Header, payload and signature block are copied
// before they are checked, so a guest cannot change them under the check.
uint32_t bootrom_load(const uint8_t *devmem, uint64_t devmem_size, uint64_t stage, uint64_t stage_size, uint8_t *sram,
                      size_t sram_size, BootImage *out, const uint8_t *pubkey = kFwDevPubkey);

}  // namespace mtia
