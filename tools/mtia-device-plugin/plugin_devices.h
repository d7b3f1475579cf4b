// SPDX-License-Identifier: MIT
// What the device plugin reads about the node's mtia devices: one sysfs scan
// (PCI functions, their accel nodes, serial, firmware status, NUMA node,
// PCIe parent bridge, optionally the firmware heartbeat from debugfs).
// Everything the plugin knows about a device comes through here, so this is
// the one file to swap for libmtia's management API once that exists.
// Roots are parameters (and the runtime's MTIA_SYSFS_PCI_DIR /
// MTIA_ACCEL_DIR overrides apply) so the tests can use a fake tree.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mtia::dp {

struct DeviceRoots {
    std::string pci_dir = "/sys/bus/pci/devices";         // $MTIA_SYSFS_PCI_DIR
    std::string accel_dir = "/dev/accel";                 // $MTIA_ACCEL_DIR
    std::string debugfs_dir = "/sys/kernel/debug/accel";  // <bdf>/fw_regs
    // The defaults with the runtime's environment overrides applied.
    static DeviceRoots from_env();
};

// One mtia PCI function as one scan saw it.
struct DeviceSnapshot {
    std::string bus_id;                 // "0000:01:00.0"
    std::string serial;                 // sysfs mtia/serial; "" while no driver is bound
    std::string node;                   // "accel0"; "" while no driver is bound
    std::string dev_path;               // accel_dir + "/" + node
    int numa_node = -1;                 // sysfs numa_node; -1 = no NUMA information
    std::string parent;                 // the upstream bridge's bus id (PCIe switch / root port); "" if none
    std::string fw_status;              // "ready", "suspended", "booting", "recovering", "dead", "off"
    bool gone = false;                  // the driver gave the device up (sysfs gone = 1)
    std::optional<uint64_t> heartbeat;  // FW_HEARTBEAT, when asked for and readable
};

// Scans the mtia PCI functions. The serial is read once per bound device
// (reading it wakes a runtime-suspended device) and remembered per bus id
// and accel node; the heartbeat is read only when @heartbeat is set and
// the firmware is "ready" (debugfs fw_regs resumes the device).
class DeviceScanner {
public:
    explicit DeviceScanner(DeviceRoots roots) : roots_(std::move(roots)) {}
    std::vector<DeviceSnapshot> scan(bool heartbeat);
    const DeviceRoots &roots() const { return roots_; }

private:
    DeviceRoots roots_;
    std::map<std::string, std::pair<std::string, std::string>> serials_;  // bus id -> (node, serial)
};

// "FW_HEARTBEAT: N" out of debugfs fw_regs text; nullopt if absent.
std::optional<uint64_t> parse_heartbeat(const std::string &fw_regs);

}  // namespace mtia::dp
