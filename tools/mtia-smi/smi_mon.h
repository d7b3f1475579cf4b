// SPDX-License-Identifier: MIT
// mtia-smi dmon and pmon: one line per device (dmon) or per process (pmon)
// per sample, in nvidia-smi's column layout, so scripts that cut its
// columns work. Pure functions of what was read (tests/unit/smi_mon_test.cc).
#pragma once

#include <string>
#include <vector>

#include "smi_device.h"

namespace mtia::smi {

// dmon -s: metric groups, letters of "pucmet" (nvidia-smi's): p power and
// temperature, u utilisation, c clocks, m memory, e ECC and PCIe errors.
// Throws std::invalid_argument naming an unknown letter; "" means "puc".
std::string dmon_groups(const std::string &spec);
// The two "#" header lines: column names, then units.
std::string dmon_header(const std::string &groups);
// One device's line.
std::string dmon_row(const SmiDevice &d, const std::string &groups);

std::string pmon_header();
// One line per process of @devs, or a line of "-" for a device without
// processes. sm and mem are the process's PE grid and data engine busy
// percent since @prev (the previous sample, @interval_s earlier), "-" on
// the first sample (prev empty) or where the driver reports no times.
std::string pmon_rows(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &now,
                      const std::vector<ProcessUsage> &prev, double interval_s);

}  // namespace mtia::smi
