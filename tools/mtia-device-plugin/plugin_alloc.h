// SPDX-License-Identifier: MIT
// The device plugin's two allocation answers, as plain functions of the
// advertised devices (no gRPC here, so the unit tests call them directly):
// what a container gets for a set of device IDs (Allocate), and which
// devices to prefer for a request of N (GetPreferredAllocation).
#pragma once

#include <string>
#include <vector>

#include "plugin_health.h"

namespace mtia::dp {

// The environment variable libmtia filters its devices with
// (runtime/device_select.cc): a comma list of serials works whether or not
// the container sees the other nodes (indices would not).
constexpr const char *kVisibleDevicesEnv = "MTIA_VISIBLE_DEVICES";

struct ContainerDevices {
    std::vector<std::string> host_paths;       // the nodes on the host (accel dir + accelN), in request order
    std::vector<std::string> container_paths;  // where libmtia looks for them: /dev/accel/accelN
    std::string visible_devices;               // MTIA_VISIBLE_DEVICES value
};

// For @ids (one container's request). Returns "" and fills @out, or an
// error message: an unknown ID, a repeated ID, or a device without an accel
// node (gone since the kubelet chose it).
std::string allocate_container(const std::vector<PluginDevice> &devices, const std::vector<std::string> &ids,
                               ContainerDevices *out);

// @size devices out of @available: every @must_include first, then the
// devices sharing a PCIe parent bridge with those chosen, then a NUMA node,
// then the rest (in @available's order). With nothing to start from, it
// starts in the bridge group (then NUMA group) with the most available
// devices. Returns "" and fills @out, or an error message (unknown ID, a
// must_include device not available, size out of range).
std::string preferred_allocation(const std::vector<PluginDevice> &devices, const std::vector<std::string> &available,
                                 const std::vector<std::string> &must_include, int size, std::vector<std::string> *out);

}  // namespace mtia::dp
