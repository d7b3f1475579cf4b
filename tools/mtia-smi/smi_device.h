// SPDX-License-Identifier: MIT
// What mtia-smi knows about a device and the processes using it: plain
// data, read through libmtia's management API (mtia/mtia_mgmt.hpp, by
// smi_read.h) and turned into text by smi_format.h, smi_fields.h,
// smi_xml.h and smi_mon.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "mtia/mtia_mgmt.hpp"
#include "pci_scan.h"

namespace mtia::smi {

// Telemetry and health (docs/telemetry.md). Anything the driver did not
// report is empty and shows as N/A.
using Telemetry = mtia::mgmt::Telemetry;

// One process's use of one device (mtia::mgmt::Process).
using ProcessUsage = mtia::mgmt::Process;

// A device: the management API's Status, plus the vendor and device names
// libpci finds in pci.ids (for the views that show them).
struct SmiDevice : mtia::mgmt::Status {
    PciFunction names;   // empty bus_id if libpci was not asked or did not see it
    unsigned count = 0;  // devices present (nvidia-smi's "count" field)
};

}  // namespace mtia::smi
