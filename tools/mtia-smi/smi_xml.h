// SPDX-License-Identifier: MIT
// mtia-smi -q -x: every property of each device as XML in nvidia-smi's
// document shape (<nvidia_smi_log> is <mtia_smi_log> here), valid against
// tools/mtia-smi/mtia_smi_log.dtd. A pure function of what was read, so it
// is unit-tested without a device (tests/unit/smi_xml_test.cc).
#pragma once

#include <string>
#include <vector>

#include "smi_device.h"

namespace mtia::smi {

std::string format_xml(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs,
                       const std::string &timestamp);

}  // namespace mtia::smi
