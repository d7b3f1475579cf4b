// SPDX-License-Identifier: MIT
#include "mtia_fw_key.h"

#include <sodium.h>

#include <cstring>

#include "sha256.h"

namespace mtia {

// firmware/keys/mtia-fw-dev.pub (key id e59a3e734f58c30e), development only.
const uint8_t kFwDevPubkey[MTIA_FW_PUBKEY_SIZE] = {
    0x78, 0xaa, 0x59, 0x33, 0xf3, 0x5d, 0x6a, 0x43, 0x4f, 0x84, 0x1f, 0x47, 0x03, 0xc2, 0xe6, 0x51,
    0x8f, 0x36, 0x8e, 0xb9, 0x95, 0x7f, 0x5d, 0x84, 0x6a, 0x13, 0xc6, 0xda, 0xc3, 0xec, 0x5b, 0xab,
};

namespace {

int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

const char *fw_pubkey_check(const uint8_t key[MTIA_FW_PUBKEY_SIZE])
{
    if (sodium_init() < 0) return "libsodium failed to initialise";
    if (!crypto_core_ed25519_is_valid_point(key)) return "not an Ed25519 public key";
    return nullptr;
}

const char *fw_pubkey_parse(const char *hex, uint8_t key[MTIA_FW_PUBKEY_SIZE])
{
    if (!hex || std::strlen(hex) != 2 * MTIA_FW_PUBKEY_SIZE) return "expected 64 hex digits";
    uint8_t k[MTIA_FW_PUBKEY_SIZE];
    for (size_t i = 0; i < MTIA_FW_PUBKEY_SIZE; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) return "expected 64 hex digits";
        k[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (const char *why = fw_pubkey_check(k)) return why;
    std::memcpy(key, k, sizeof(k));
    return nullptr;
}

void fw_key_id(const uint8_t key[MTIA_FW_PUBKEY_SIZE], uint8_t id[MTIA_FW_KEY_ID_SIZE])
{
    uint8_t d[Sha256::kDigestBytes];
    Sha256::digest(key, MTIA_FW_PUBKEY_SIZE, d);
    std::memcpy(id, d, MTIA_FW_KEY_ID_SIZE);
}

}  // namespace mtia
