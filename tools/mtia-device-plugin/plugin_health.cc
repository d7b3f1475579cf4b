// SPDX-License-Identifier: MIT
// HealthTracker (plugin_health.h): the health rules applied to each scan.
// A device is known by its serial; a function seen without a driver (no
// serial to read) is matched to the device last seen at its bus id, so an
// unbound or dead device stays advertised, Unhealthy, rather than
// vanishing and coming back as a stranger.
#include "plugin_health.h"

#include <algorithm>

namespace mtia::dp {

const PluginDevice *HealthTracker::find(const std::string &id) const
{
    auto it = std::find_if(devices_.begin(), devices_.end(), [&](const PluginDevice &d) { return d.id == id; });
    return it == devices_.end() ? nullptr : &*it;
}

std::string HealthTracker::judge(const DeviceSnapshot &d, Beat &beat, Clock::time_point now) const
{
    if (d.node.empty()) return "no accel node (driver unbound or device removed)";
    if (d.gone) return "given up by the driver (gone)";
    if (d.fw_status != "ready" && d.fw_status != "suspended") {
        return "firmware status " + (d.fw_status.empty() ? std::string("unknown") : d.fw_status);
    }
    if (stall_.count() == 0 || d.fw_status != "ready" || !d.heartbeat) {
        beat = {};  // nothing to compare against: start over when it is readable again
        return {};
    }
    if (beat.value != d.heartbeat) {
        beat = {d.heartbeat, now};
        return {};
    }
    if (now - beat.since >= stall_) {
        return "firmware heartbeat stuck at " + std::to_string(*d.heartbeat) + " for " +
               std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(now - beat.since).count()) + " ms";
    }
    return {};
}

bool HealthTracker::update(const std::vector<DeviceSnapshot> &scan, Clock::time_point now,
                           std::vector<std::string> *log)
{
    bool changed = false;
    std::vector<bool> seen(devices_.size(), false);
    for (const auto &s : scan) {
        size_t i = 0;
        for (; i < devices_.size(); i++) {
            if (!s.serial.empty() ? devices_[i].id == s.serial : devices_[i].bus_id == s.bus_id) break;
        }
        if (i == devices_.size()) {
            if (s.serial.empty()) continue;  // never seen with a driver: nothing to call it
            devices_.push_back({s.serial, s.bus_id, "", s.numa_node, s.parent, false, "new"});
            beats_.push_back({});
            seen.push_back(false);
            changed = true;
            if (log) log->push_back(s.serial + " (" + s.bus_id + "): found");
        }
        PluginDevice &d = devices_[i];
        seen[i] = true;
        if (d.numa_node != s.numa_node) changed = true;
        d.bus_id = s.bus_id;
        d.dev_path = s.dev_path;
        d.numa_node = s.numa_node;
        d.parent = s.parent;
        std::string why = judge(s, beats_[i], now);
        if (why.empty() != d.healthy || (!d.healthy && why != d.reason)) {
            if (why.empty() != d.healthy) changed = true;
            if (log) log->push_back(d.id + " (" + d.bus_id + "): " + (why.empty() ? "Healthy" : "Unhealthy: " + why));
        }
        d.healthy = why.empty();
        d.reason = why;
    }
    for (size_t i = 0; i < devices_.size(); i++) {
        if (seen[i]) continue;
        PluginDevice &d = devices_[i];
        const std::string why = "no longer on the PCI bus";
        if (d.healthy || d.reason != why) {
            if (d.healthy) changed = true;
            if (log) log->push_back(d.id + " (" + d.bus_id + "): Unhealthy: " + why);
        }
        d.healthy = false;
        d.reason = why;
        d.dev_path.clear();
        beats_[i] = {};
    }
    return changed;
}

}  // namespace mtia::dp
