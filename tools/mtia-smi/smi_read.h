// SPDX-License-Identifier: MIT
// mtia-smi's one way to the devices: libmtia's management API.
#pragma once

#include <string>
#include <vector>

#include "smi_device.h"

namespace mtia::smi {

// Every device the driver drives, read now (with libpci's names if
// @pci_names: slow in a TCG guest, so only for the views that show them).
// A device that went away while being read is left out.
std::vector<SmiDevice> read_devices(bool pci_names);

// -i: indexes, bus ids ("0000:00:03.0" or "00:03.0"), serials or UUIDs,
// comma separated. Returns the positions in @all, or sets @err.
std::vector<size_t> select_devices(const std::vector<SmiDevice> &all, const std::string &ids, std::string *err);

}  // namespace mtia::smi
