// SPDX-License-Identifier: MIT
// The boot ROM's firmware signing key (docs/firmware.md, "Signing"): the
// Ed25519 public key a device trusts (property fw-pubkey), its default, the
// project's development key, and key ids.
#pragma once

#include <cstddef>
#include <cstdint>

#include "mtia/mtia_spec.h"

namespace mtia {

// The development key's public half, firmware/keys/mtia-fw-dev.pub (a unit
// test checks they agree). Development only: its secret half is public.
extern const uint8_t kFwDevPubkey[MTIA_FW_PUBKEY_SIZE];

// Parses 64 hex digits (either case) into @key and checks that they are an
// Ed25519 public key. nullptr on success, else why not.
const char *fw_pubkey_parse(const char *hex, uint8_t key[MTIA_FW_PUBKEY_SIZE]);

// nullptr if @key can verify signatures (a canonical curve point that is not
// of small order), else why not.
const char *fw_pubkey_check(const uint8_t key[MTIA_FW_PUBKEY_SIZE]);

// The first MTIA_FW_KEY_ID_SIZE bytes of SHA-256(@key): struct mtia_fw_sig's
// key_id of images signed with its secret half.
void fw_key_id(const uint8_t key[MTIA_FW_PUBKEY_SIZE], uint8_t id[MTIA_FW_KEY_ID_SIZE]);

}  // namespace mtia
