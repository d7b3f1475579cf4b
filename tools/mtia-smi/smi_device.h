// SPDX-License-Identifier: MIT
// What mtia-smi knows about a device and the processes using it: plain
// data, filled from sysfs and /proc (smi_sysfs.h, smi_proc.h) and turned
// into text by smi_format.h and smi_fields.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mtia/mtia.hpp"
#include "pci_scan.h"

namespace mtia::smi {

// Telemetry and health (docs/telemetry.md). Anything the driver did not
// report is empty and shows as N/A.
struct Telemetry {
    std::optional<double> temp_c, temp_slowdown_c, temp_shutdown_c;
    std::optional<double> power_w, power_avg_w, power_cap_w, power_cap_min_w, power_cap_max_w;
    std::optional<double> energy_j;
    std::optional<unsigned> util_pe, util_dma, util_cc;  // percent
    std::optional<unsigned> clock_mhz, clock_max_mhz, clock_min_mhz;
    std::string throttle;  // "none", "power", "power,thermal"
    std::optional<uint64_t> ecc_corrected, ecc_uncorrected;
    std::string serial;
    std::optional<uint64_t> mem_used, mem_total;  // allocatable device memory, bytes
    std::string fw_status;                        // "ready", "recovering", ...
    std::optional<unsigned> reset_count;
    std::optional<unsigned> link_gen, link_gen_max, link_width, link_width_max;
};

struct SmiDevice {
    mtia::DeviceInfo info;
    PciFunction pci;  // from libpci; empty bus_id if it did not see the device
    Telemetry tel;
};

// One process's use of one device, summed over its open files (DRM
// clients) of that device, from /proc/<pid>/fdinfo.
struct ProcessUsage {
    int pid = 0;
    std::string name;                            // /proc/<pid>/comm
    std::string bus_id;                          // drm-pdev
    unsigned clients = 0;                        // distinct drm-client-id
    uint64_t device_mem = 0;                     // drm-total-device, bytes
    uint64_t host_mem = 0;                       // drm-total-system, bytes
    std::optional<uint64_t> dma_ns, compute_ns;  // drm-engine-dma / -compute, if reported
};

}  // namespace mtia::smi
