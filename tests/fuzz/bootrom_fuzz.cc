// SPDX-License-Identifier: MIT
// libFuzzer target bootrom: the boot ROM's image check and load
// (qemu-device/core/mtia_bootrom.h bootrom_load) over a staged image the
// guest wrote: the input is device memory, staged whole at offset 0, in a
// buffer of exactly its size (ASan sees any read past it).
//
// Properties: the status is RUNNING or an error code (MTIA_BOOT_ERR_*,
// >= 0x10); after an error SRAM is all zero (nothing of a refused image
// stays executable); a RUNNING image's entry lies in SRAM, even, with
// only known flags.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "fuzz_check.h"
#include "mtia/mtia_spec.h"
#include "mtia_bootrom.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    std::unique_ptr<uint8_t[]> devmem(new uint8_t[size ? size : 1]);
    if (size) std::memcpy(devmem.get(), data, size);
    static std::vector<uint8_t> sram(MTIA_CC_SRAM_SIZE);
    static const std::vector<uint8_t> zero(MTIA_CC_SRAM_SIZE);
    std::memset(sram.data(), 0xa5, sram.size());  // what a previous image left

    mtia::BootImage img;
    const uint32_t st = mtia::bootrom_load(devmem.get(), size, 0, size, sram.data(), sram.size(), &img);
    if (st != MTIA_BOOT_RUNNING) {
        FUZZ_CHECK(st >= MTIA_BOOT_ERR_BAD_STAGE, "a refusal that is not an MTIA_BOOT_ERR_* code");
        FUZZ_CHECK(std::memcmp(sram.data(), zero.data(), sram.size()) == 0, "SRAM not zero after a refused image");
        return 0;
    }
    FUZZ_CHECK(img.entry >= MTIA_CC_SRAM_BASE && img.entry - MTIA_CC_SRAM_BASE < sram.size() && !(img.entry & 1),
               "entry outside SRAM or odd");
    FUZZ_CHECK(!(img.flags & ~uint32_t{MTIA_FW_FLAGS_KNOWN}), "unknown flags accepted");
    return 0;
}
