// SPDX-License-Identifier: MIT
// Which processes use mtia devices, from the DRM fdinfo of their open
// accel files (Documentation/gpu/drm-usage-stats.rst): memory per region
// and, where the driver reports it, engine busy time. A user sees the
// files of their own processes; root sees all.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "smi_device.h"

namespace mtia::smi {

// One DRM fdinfo file.
struct FdInfo {
    std::string driver;                         // drm-driver
    std::string pdev;                           // drm-pdev (PCI bus id)
    std::optional<uint64_t> client_id;          // drm-client-id
    std::map<std::string, uint64_t> engine_ns;  // drm-engine-<name>, ns
    std::map<std::string, uint64_t> memory;     // drm-<kind>-<region>, bytes
};

// The DRM keys of @text; nullopt if it has no drm-driver line (not a DRM
// file). Malformed lines are skipped.
std::optional<FdInfo> parse_fdinfo(const std::string &text);

// "64 MiB" / "512 KiB" / "4096" -> bytes; nullopt if malformed.
std::optional<uint64_t> parse_fdinfo_size(const std::string &value);

// Every process under @proc_root with open files of the @driver driver,
// one entry per (process, device), files of the same DRM client counted
// once. Sorted by bus id, then pid.
std::vector<ProcessUsage> scan_processes(const std::string &proc_root = "/proc", const std::string &driver = "mtia");

}  // namespace mtia::smi
