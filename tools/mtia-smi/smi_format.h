// SPDX-License-Identifier: MIT
// mtia-smi's views, as pure functions of what was read, so they are
// unit-tested without a device (tests/unit/smi_format_test.cc).
#pragma once

#include <string>
#include <vector>

#include "mtia/mtia.hpp"
#include "pci_scan.h"

namespace mtia_smi {

struct SmiDevice {
    mtia::DeviceInfo info;
    PciFunction pci;  // empty bus_id if libpci did not see it
};

std::string format_bytes_mib(uint64_t bytes);
std::string format_table(const std::vector<SmiDevice> &devs);
std::string format_list(const std::vector<SmiDevice> &devs);  // -L
std::string format_json(const std::vector<SmiDevice> &devs);
// -q: every property, "Key : Value" lines like nvidia-smi -q.
std::string format_detail(const std::vector<SmiDevice> &devs, const std::string &timestamp);
// MTIA_FW_VERSION encoding -> "0.1.0"; "N/A" for 0 (no firmware).
std::string format_fw_version(uint32_t fw);

}  // namespace mtia_smi
