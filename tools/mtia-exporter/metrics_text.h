// SPDX-License-Identifier: MIT
// The Prometheus text exposition format (version 0.0.4) of mtia devices'
// telemetry, in the manner of DCGM's exporter: one gauge or counter family
// per quantity, one series per device (and per engine or error type),
// labelled with the device's index, UUID, PCI bus id and model name, so a
// dashboard can join them. Values come from the management API
// (mtia_mgmt.hpp) already read; a value the driver does not report has no
// series. Base units as Prometheus' conventions ask: degrees Celsius,
// watts, joules, hertz, bytes, ratios 0..1, seconds.
#pragma once

#include <string>
#include <vector>

#include "mtia/mtia_mgmt.hpp"

namespace mtia::exporter {

// One device at one scrape: its status, and its processes when asked for.
struct DeviceSample {
    mgmt::Status status;
    std::vector<mgmt::Process> processes;
};

// A label value escaped as the format asks (backslash, quote, newline).
std::string escape_label(const std::string &v);

// The whole exposition: every family's HELP and TYPE once, then its series
// for every device; the per-process families only if @with_processes.
// @scrape_errors: devices that could not be read at this scrape (they have
// no series; the count says so).
std::string render(const std::vector<DeviceSample> &devices, bool with_processes, unsigned scrape_errors);

}  // namespace mtia::exporter
