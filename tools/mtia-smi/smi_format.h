// SPDX-License-Identifier: MIT
// mtia-smi's views, as pure functions of what was read, so they are
// unit-tested without a device (tests/unit/smi_format_test.cc).
#pragma once

#include <string>
#include <vector>

#include "smi_device.h"

namespace mtia::smi {

std::string format_bytes_mib(uint64_t bytes);
// MTIA_FW_VERSION encoding -> "0.1.0"; "N/A" for 0 (no firmware).
std::string format_fw_version(uint32_t fw);

// Default view: the version line and one row per device (identity,
// temperature, power, memory, utilisation, clock, firmware).
std::string format_table(const std::vector<SmiDevice> &devs);
// The processes using the devices (@all_users: false when not root, which
// sees only its own processes: the table says so).
std::string format_processes(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs,
                             bool all_users);
std::string format_list(const std::vector<SmiDevice> &devs);  // -L
std::string format_json(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs);
// -q: every property, "Key : Value" lines like nvidia-smi -q.
std::string format_detail(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs,
                          const std::string &timestamp);

}  // namespace mtia::smi
