// SPDX-License-Identifier: MIT
// Two made-up devices and processes for mtia-smi's view tests: device 0
// without firmware or telemetry (every telemetry field N/A), device 1 with
// everything.
#pragma once

#include <vector>

#include "smi_device.h"

namespace smi_test {

inline std::vector<mtia::smi::SmiDevice> two_devices()
{
    mtia::smi::SmiDevice a;
    a.info.index = 0;
    a.info.name = "MTIA v1 (emulated)";
    a.info.node = "/dev/accel/accel0";
    a.info.pci_bus_id = "0000:00:03.0";
    a.info.driver_version = "0.1.0";
    a.info.chip_id = 1;
    a.info.pe_rows = 8;
    a.info.pe_cols = 8;
    a.info.sram_bytes = 128ull << 20;
    a.info.devmem_bytes = 1ull << 30;
    a.info.msix_vectors = 1;
    a.names = {"0000:00:03.0", 0x1d9b, 0x0a01, "Meta Platforms, Inc.", "Device 0a01"};
    a.pci.bus_id = "0000:00:03.0";
    a.pci.device = 3;
    a.pci.vendor_id = 0x1d9b;
    a.pci.device_id = 0x0a01;
    a.count = 2;
    mtia::smi::SmiDevice b = a;
    b.info.index = 1;
    b.info.node = "/dev/accel/accel1";
    b.info.pci_bus_id = "0000:00:04.0";
    b.pci.bus_id = "0000:00:04.0";
    b.pci.device = 4;
    b.info.devmem_bytes = 2ull << 30;
    b.info.fw_version = 0x10203;
    mtia::smi::Telemetry &t = b.tel;
    t.temp_c = 47.25;
    t.temp_slowdown_c = 90;
    t.temp_shutdown_c = 105;
    t.power_w = 9.2;
    t.power_avg_w = 8.987;
    t.power_cap_w = 25;
    t.power_cap_min_w = 6;
    t.power_cap_max_w = 25;
    t.energy_j = 1234.5678;
    t.util_pe = 0;
    t.util_dma = 97;
    t.util_cc = 12;
    t.clock_mhz = 800;
    t.clock_max_mhz = 800;
    t.clock_min_mhz = 100;
    t.throttle = "none";
    t.throttle_mask = 0;
    t.fw_version = "1.2.3";  // info.fw_version's text
    t.ecc_corrected = 3;
    t.ecc_uncorrected = 0;
    t.ecc_corrected_aggregate = 40;
    t.ecc_uncorrected_aggregate = 2;
    t.serial = "4d544941e1c3ddf8";
    b.uuid = "MTIA-4d544941-e1c3-ddf8-0000-000000000000";  // a made-up one: the views copy it
    t.mem_used = 64ull << 20;
    t.mem_total = (2ull << 30) - (1ull << 20);
    t.fw_status = "ready";
    t.reset_count = 2;
    t.link_gen = 4;
    t.link_gen_max = 4;
    t.link_width = 8;
    t.link_width_max = 8;
    return {a, b};
}

inline std::vector<mtia::smi::ProcessUsage> two_processes()
{
    mtia::smi::ProcessUsage p;
    p.pid = 4242;
    p.name = "mtia-run";
    p.bus_id = "0000:00:04.0";
    p.clients = 1;
    p.device_mem = 64ull << 20;
    p.host_mem = 128ull << 20;
    p.dma_ns = 1500000000;
    mtia::smi::ProcessUsage q = p;
    q.pid = 77;
    q.name = "python3";
    q.bus_id = "0000:00:03.0";
    q.device_mem = 0;
    q.host_mem = 4096;
    q.dma_ns.reset();
    return {q, p};
}

}  // namespace smi_test
