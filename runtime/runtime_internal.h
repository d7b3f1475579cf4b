// SPDX-License-Identifier: MIT
// Declarations shared by libmtia's translation units; not installed.
#pragma once

#include <string>

#include "mtia/mtia.hpp"

namespace mtia {

void set_last_error(const std::string &detail);
const std::string &last_error();

// Name of the kernel driver bound to an accel char node, read from sysfs
// (/sys/dev/char/M:m/device/driver); "" if it cannot be told that way.
std::string sysfs_driver_of(const std::string &node);
// PCI address (0000:00:03.0) of the device behind an accel node; "" if none.
std::string sysfs_pci_bus_id(const std::string &node);

// Number of PCI functions with the mtia vendor/device id in sysfs
// ($MTIA_SYSFS_PCI_DIR or /sys/bus/pci/devices), bound to a driver or not.
int sysfs_count_mtia_pci();

}  // namespace mtia
