// SPDX-License-Identifier: MIT
// The device plugin's view of its devices over time: which devices it has
// advertised (by stable ID, the serial), whether each is Healthy, and why
// not. Fed one DeviceSnapshot scan per poll; says whether anything the
// kubelet sees (the set of IDs, a health, a topology) changed, so the
// caller pushes a new ListAndWatch response only then.
//
// Health rules (docs/kubernetes.md): Unhealthy when the device is no
// longer there or has no driver (removed, unbound, hot-unplugged), the
// driver gave it up (gone), the firmware status is anything but ready or
// suspended (booting, recovering = in a reset, dead = a failed reset,
// off), or, when heartbeat checks are on, the firmware heartbeat did not
// move for the stall time while the firmware claims to be ready. Healthy
// again as soon as none of these holds.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plugin_devices.h"

namespace mtia::dp {

// One advertised device.
struct PluginDevice {
    std::string id;  // the serial: stable across reboots, what MTIA_VISIBLE_DEVICES accepts
    std::string bus_id;
    std::string dev_path;  // "" while the device has no accel node
    int numa_node = -1;
    std::string parent;  // PCIe parent bridge
    bool healthy = false;
    std::string reason;  // why not healthy ("" if healthy)
};

class HealthTracker {
public:
    using Clock = std::chrono::steady_clock;
    // @heartbeat_stall: 0 = no heartbeat rule.
    explicit HealthTracker(std::chrono::milliseconds heartbeat_stall) : stall_(heartbeat_stall) {}

    // Applies one scan taken at @now; true if the advertised list changed.
    // Transitions are appended to @log (one line each) if given.
    bool update(const std::vector<DeviceSnapshot> &scan, Clock::time_point now,
                std::vector<std::string> *log = nullptr);
    // Every device ever seen since start, in first-seen order.
    const std::vector<PluginDevice> &devices() const { return devices_; }
    const PluginDevice *find(const std::string &id) const;

private:
    struct Beat {
        std::optional<uint64_t> value;
        Clock::time_point since;
    };
    std::string judge(const DeviceSnapshot &d, Beat &beat, Clock::time_point now) const;

    std::chrono::milliseconds stall_;
    std::vector<PluginDevice> devices_;
    std::vector<Beat> beats_;  // parallel to devices_
};

}  // namespace mtia::dp
