// SPDX-License-Identifier: MIT
#include "mtia_bootrom.h"

#include <cstring>
#include <vector>

#include "mtia/mtia_spec.h"
#include "sha256.h"

namespace mtia {

namespace {

uint32_t le32(const uint8_t *p)
{
    return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint16_t le16(const uint8_t *p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

// Header sizes the boot ROM accepts (format 1: at least the v1 header).
constexpr uint32_t kMaxHeaderSize = 4096;

}  // namespace

uint32_t bootrom_load(const uint8_t *devmem, uint64_t devmem_size, uint64_t stage, uint64_t stage_size, uint8_t *sram,
                      size_t sram_size, BootImage *out)
{
    // Every refusal leaves SRAM zeroed: nothing of an earlier image stays.
    std::memset(sram, 0, sram_size);
    if (!devmem || stage_size == 0 || stage >= devmem_size || stage_size > devmem_size - stage)
        return MTIA_BOOT_ERR_BAD_STAGE;
    if (stage_size < MTIA_FW_HEADER_SIZE) return MTIA_BOOT_ERR_TRUNCATED;
    uint8_t hdr[MTIA_FW_HEADER_SIZE];
    std::memcpy(hdr, devmem + stage, sizeof(hdr));
    const uint32_t magic = le32(hdr + offsetof(mtia_fw_header, magic));
    const uint16_t format = le16(hdr + offsetof(mtia_fw_header, format_version));
    const uint16_t header_size = le16(hdr + offsetof(mtia_fw_header, header_size));
    const uint32_t load_addr = le32(hdr + offsetof(mtia_fw_header, load_addr));
    const uint32_t entry_pc = le32(hdr + offsetof(mtia_fw_header, entry));
    const uint32_t payload_size = le32(hdr + offsetof(mtia_fw_header, payload_size));
    const uint32_t hflags = le32(hdr + offsetof(mtia_fw_header, flags));
    if (magic != MTIA_FW_MAGIC) return MTIA_BOOT_ERR_BAD_MAGIC;
    if (format != MTIA_FW_FORMAT_VERSION) return MTIA_BOOT_ERR_BAD_FORMAT;
    if (header_size < MTIA_FW_HEADER_SIZE || header_size > kMaxHeaderSize || header_size % 4)
        return MTIA_BOOT_ERR_BAD_HEADER;
    for (unsigned i = 0; i < 5; i++)
        if (le32(hdr + offsetof(mtia_fw_header, reserved) + 4 * i)) return MTIA_BOOT_ERR_BAD_HEADER;
    if (hflags & ~uint32_t{MTIA_FW_FLAGS_KNOWN}) return MTIA_BOOT_ERR_BAD_HEADER;
    if (uint64_t{header_size} + payload_size > stage_size) return MTIA_BOOT_ERR_TRUNCATED;
    if (load_addr < MTIA_CC_SRAM_BASE || uint64_t{load_addr} + payload_size > uint64_t{MTIA_CC_SRAM_BASE} + sram_size)
        return MTIA_BOOT_ERR_BAD_LOAD;
    if (entry_pc < load_addr || entry_pc - load_addr >= payload_size || (entry_pc & 1)) return MTIA_BOOT_ERR_BAD_ENTRY;

    // Header beyond the v1 fields, then the payload (straight into SRAM).
    std::vector<uint8_t> hdr_ext(header_size - MTIA_FW_HEADER_SIZE);
    if (!hdr_ext.empty()) std::memcpy(hdr_ext.data(), devmem + stage + MTIA_FW_HEADER_SIZE, hdr_ext.size());
    uint8_t *dst = sram + (load_addr - MTIA_CC_SRAM_BASE);
    std::memcpy(dst, devmem + stage + header_size, payload_size);

    uint8_t want[32], got[32];
    std::memcpy(want, hdr + offsetof(mtia_fw_header, sha256), 32);
    std::memset(hdr + offsetof(mtia_fw_header, sha256), 0, 32);
    Sha256 h;
    h.update(hdr, sizeof(hdr));
    h.update(hdr_ext.data(), hdr_ext.size());
    h.update(dst, payload_size);
    h.finish(got);
    if (std::memcmp(want, got, 32) != 0) {
        std::memset(sram, 0, sram_size);
        return MTIA_BOOT_ERR_BAD_DIGEST;
    }
    out->entry = entry_pc;
    out->flags = hflags;
    return MTIA_BOOT_RUNNING;
}

}  // namespace mtia
