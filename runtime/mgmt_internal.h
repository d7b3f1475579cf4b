// SPDX-License-Identifier: MIT
// Declarations shared by the management API's translation units
// (mgmt_*.cc); not installed.
#pragma once

#include <optional>
#include <string>

#include "mtia/mtia_mgmt.hpp"

namespace mtia::mgmt {

namespace detail {

// First line of a sysfs file, without the newline; nullopt if unreadable.
std::optional<std::string> read_line(const std::string &path);
// read_line(path), or @dflt if unreadable.
std::string text_or(const std::string &path, const std::string &dflt = "");
std::string basename_of(const std::string &path);
// $name if set and not empty, else @dflt.
std::string env_or(const char *name, const char *dflt);
std::string module_dir();       // $MTIA_SYSFS_MODULE_DIR or /sys/module/mtia
std::string accel_class_dir();  // $MTIA_SYSFS_ACCEL_CLASS or /sys/class/accel
// The hwmon directory the mtia driver registered under @pci_dir, or "".
std::string find_hwmon(const std::string &pci_dir);

}  // namespace detail

// Everything about the device at PCI directory @pci_dir (whose basename is
// its bus id), known as @node, index @index. MTIA_ERROR_NO_DEVICE if its
// driver group is gone.
Status read_status(const std::string &pci_dir, const std::string &node, int index);

}  // namespace mtia::mgmt
