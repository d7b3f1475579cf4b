// SPDX-License-Identifier: MIT
// Reading a device from sysfs: the driver's "mtia" group, its hwmon
// sensors, PCI link attributes and the module version. Reading sysfs needs
// no permission on the device node, so mtia-smi works without root.
// Paths are parameters so the tests can use a fake tree.
#pragma once

#include <optional>
#include <string>

#include "smi_device.h"

namespace mtia::smi {

struct SysfsPaths {
    std::string accel_class = "/sys/class/accel";  // accelN -> device link
    std::string module = "/sys/module/mtia";       // version
};

// The PCI device directory behind accel node @node_name ("accel0"), or ""
// if it has none.
std::string accel_pci_dir(const SysfsPaths &paths, const std::string &node_name);

// Everything about the device at PCI directory @pci_dir (whose basename is
// its bus id), known to user space as @node, index @index.
SmiDevice read_sysfs_device(const SysfsPaths &paths, const std::string &pci_dir, const std::string &node, int index);

// "16.0 GT/s PCIe" -> 4; nullopt if not a known rate.
std::optional<unsigned> pcie_gen_of(const std::string &speed);
// "0.1.0" -> MTIA_FW_VERSION(0, 1, 0); "none" or garbage -> 0.
uint32_t parse_fw_version(const std::string &s);

// Writes "1" to the device's reset attribute. 0, or the errno.
int sysfs_reset(const std::string &pci_dir);

}  // namespace mtia::smi
