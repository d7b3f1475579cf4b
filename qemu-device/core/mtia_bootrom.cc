// SPDX-License-Identifier: MIT
#include "mtia_bootrom.h"

#include <sodium.h>

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

// Header sizes the boot ROM accepts (at least the struct mtia_fw_header).
constexpr uint32_t kMaxHeaderSize = 4096;
constexpr unsigned kReservedWords = sizeof(mtia_fw_header::reserved) / 4;

// The signature checks, after the digest matched: @header is the image's
// header (header_size bytes, sha256 included), @sig its signature block.
uint32_t check_signature(const std::vector<uint8_t> &header, const uint8_t *sig, const uint8_t *pubkey)
{
    if (le32(sig + offsetof(mtia_fw_sig, magic)) != MTIA_FW_SIG_MAGIC ||
        le16(sig + offsetof(mtia_fw_sig, alg)) != MTIA_FW_SIG_ALG_ED25519 ||
        le16(sig + offsetof(mtia_fw_sig, reserved)) != 0)
        return MTIA_BOOT_ERR_BAD_SIGNATURE;
    uint8_t id[MTIA_FW_KEY_ID_SIZE];
    fw_key_id(pubkey, id);
    if (std::memcmp(sig + offsetof(mtia_fw_sig, key_id), id, sizeof(id)) != 0) return MTIA_BOOT_ERR_UNTRUSTED_KEY;
    if (sodium_init() < 0 ||
        crypto_sign_verify_detached(sig + offsetof(mtia_fw_sig, signature), header.data(), header.size(), pubkey) != 0)
        return MTIA_BOOT_ERR_BAD_SIGNATURE;
    return MTIA_BOOT_RUNNING;
}

}  // namespace

uint32_t bootrom_load(const uint8_t *devmem, uint64_t devmem_size, uint64_t stage, uint64_t stage_size, uint8_t *sram,
                      size_t sram_size, BootImage *out, const uint8_t *pubkey)
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
    const uint32_t sig_size = le32(hdr + offsetof(mtia_fw_header, sig_size));
    if (magic != MTIA_FW_MAGIC) return MTIA_BOOT_ERR_BAD_MAGIC;
    if (format != MTIA_FW_FORMAT_VERSION) return MTIA_BOOT_ERR_BAD_FORMAT;
    if (header_size < MTIA_FW_HEADER_SIZE || header_size > kMaxHeaderSize || header_size % 4)
        return MTIA_BOOT_ERR_BAD_HEADER;
    for (unsigned i = 0; i < kReservedWords; i++)
        if (le32(hdr + offsetof(mtia_fw_header, reserved) + 4 * i)) return MTIA_BOOT_ERR_BAD_HEADER;
    if (hflags & ~uint32_t{MTIA_FW_FLAGS_KNOWN}) return MTIA_BOOT_ERR_BAD_HEADER;
    if (sig_size != 0 && sig_size != MTIA_FW_SIG_SIZE) return MTIA_BOOT_ERR_BAD_HEADER;
    if (uint64_t{header_size} + payload_size + sig_size > stage_size) return MTIA_BOOT_ERR_TRUNCATED;
    if (load_addr < MTIA_CC_SRAM_BASE || uint64_t{load_addr} + payload_size > uint64_t{MTIA_CC_SRAM_BASE} + sram_size)
        return MTIA_BOOT_ERR_BAD_LOAD;
    if (entry_pc < load_addr || entry_pc - load_addr >= payload_size || (entry_pc & 1)) return MTIA_BOOT_ERR_BAD_ENTRY;

    // The whole header (the signed bytes), the payload (straight into SRAM)
    // and the signature block, each copied once.
    std::vector<uint8_t> header(header_size);
    std::memcpy(header.data(), hdr, sizeof(hdr));
    std::memcpy(header.data() + sizeof(hdr), devmem + stage + sizeof(hdr), header_size - sizeof(hdr));
    uint8_t *dst = sram + (load_addr - MTIA_CC_SRAM_BASE);
    std::memcpy(dst, devmem + stage + header_size, payload_size);
    uint8_t sig[MTIA_FW_SIG_SIZE] = {};
    if (sig_size) std::memcpy(sig, devmem + stage + header_size + payload_size, sig_size);

    // Digest first: it ties the payload to the header, which is what the
    // signature covers, and a stale digest is BAD_DIGEST whatever the key.
    uint8_t got[32];
    std::vector<uint8_t> zeroed(header);
    std::memset(zeroed.data() + offsetof(mtia_fw_header, sha256), 0, 32);
    Sha256 h;
    h.update(zeroed.data(), zeroed.size());
    h.update(dst, payload_size);
    h.finish(got);
    uint32_t status = MTIA_BOOT_RUNNING;
    if (std::memcmp(hdr + offsetof(mtia_fw_header, sha256), got, 32) != 0)
        status = MTIA_BOOT_ERR_BAD_DIGEST;
    else if (sig_size == 0)
        status = MTIA_BOOT_ERR_UNSIGNED;
    else
        status = check_signature(header, sig, pubkey);
    if (status != MTIA_BOOT_RUNNING) {
        std::memset(sram, 0, sram_size);
        return status;
    }
    out->entry = entry_pc;
    out->flags = hflags;
    return MTIA_BOOT_RUNNING;
}
}  // namespace mtia
