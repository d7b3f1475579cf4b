// SPDX-License-Identifier: MIT
// PCI functions with the mtia vendor/device id, found with libpci.
#pragma once

#include <string>
#include <vector>

namespace mtia::smi {

struct PciFunction {
    std::string bus_id;  // 0000:00:03.0
    unsigned vendor_id = 0;
    unsigned device_id = 0;
    std::string vendor_name;  // from pci.ids, e.g. "Meta Platforms, Inc."
    std::string device_name;  // from pci.ids, "Device 0a01" if unlisted
};

std::vector<PciFunction> scan_mtia_pci();

}  // namespace mtia::smi
