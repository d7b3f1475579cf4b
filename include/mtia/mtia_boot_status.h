/* SPDX-License-Identifier: MIT */
/*
 * The boot ROM's statuses (FW_BOOT_STATUS, MTIA_BOOT_* in mtia_spec.h) in
 * words: the device's guest errors and the driver's dmesg lines and sysfs
 * fw_boot_status say the same thing (docs/firmware.md, "Signing";
 * docs/device-spec.md, "Firmware boot"). Plain C: kernel C and C++.
 */
#ifndef MTIA_BOOT_STATUS_H
#define MTIA_BOOT_STATUS_H

#include "mtia_spec.h"

static inline const char *mtia_boot_status_name(uint32_t status)
{
    switch (status) {
    case MTIA_BOOT_IDLE:
        return "idle";
    case MTIA_BOOT_RUNNING:
        return "running";
    case MTIA_BOOT_HALTED:
        return "halted";
    case MTIA_BOOT_ERR_BAD_STAGE:
        return "staging area outside device memory";
    case MTIA_BOOT_ERR_TRUNCATED:
        return "image truncated (shorter than header + payload + signature)";
    case MTIA_BOOT_ERR_BAD_MAGIC:
        return "bad image magic";
    case MTIA_BOOT_ERR_BAD_FORMAT:
        return "unknown image format version";
    case MTIA_BOOT_ERR_BAD_HEADER:
        return "malformed image header";
    case MTIA_BOOT_ERR_BAD_LOAD:
        return "payload does not fit in control-core SRAM";
    case MTIA_BOOT_ERR_BAD_ENTRY:
        return "entry point outside the payload or misaligned";
    case MTIA_BOOT_ERR_BAD_DIGEST:
        return "SHA-256 digest mismatch";
    case MTIA_BOOT_ERR_BUSY:
        return "control core busy";
    case MTIA_BOOT_ERR_UNSIGNED:
        return "image not signed";
    case MTIA_BOOT_ERR_UNTRUSTED_KEY:
        return "signed with another key (not the one the device trusts)";
    case MTIA_BOOT_ERR_BAD_SIGNATURE:
        return "bad signature (image modified after signing)";
    default:
        return "unknown boot ROM status";
    }
}

#endif /* MTIA_BOOT_STATUS_H */
