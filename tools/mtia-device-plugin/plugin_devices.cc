// SPDX-License-Identifier: MIT
// The device plugin's sysfs reading (plugin_devices.h): a plain scan of
// $MTIA_SYSFS_PCI_DIR for the mtia vendor/device ids, the way libmtia counts
// devices (runtime/sysfs.cc), then per function its accel/accelN child and
// the driver's mtia/ attributes (docs/driver.md). To be replaced by
// libmtia's management API when it lands; nothing else reads sysfs.
#include "plugin_devices.h"

#include <dirent.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "mtia/mtia_spec.h"

namespace mtia::dp {

namespace {

std::optional<std::string> read_line(const std::string &path)
{
    std::ifstream f(path);
    std::string s;
    if (!f || !std::getline(f, s)) return std::nullopt;
    return s;
}

std::optional<long> read_long(const std::string &path, int base)
{
    auto s = read_line(path);
    if (!s || s->empty()) return std::nullopt;
    char *end = nullptr;
    long v = std::strtol(s->c_str(), &end, base);
    if (end == s->c_str()) return std::nullopt;
    return v;
}

std::vector<std::string> list_dir(const std::string &dir)
{
    std::vector<std::string> names;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d)) {
            if (e->d_name[0] != '.') names.emplace_back(e->d_name);
        }
        closedir(d);
    }
    std::sort(names.begin(), names.end());
    return names;
}

// accelN under the PCI function (the accel class device's directory).
std::string accel_node_of(const std::string &pci)
{
    for (auto &n : list_dir(pci + "/accel")) {
        if (n.rfind("accel", 0) == 0) return n;
    }
    return {};
}

// The bus id of the bridge above @pci: the parent directory of its real
// path when that looks like a PCI address ("dddd:bb:dd.f"), else "".
std::string parent_bridge(const std::string &pci)
{
    char resolved[PATH_MAX];
    if (!realpath(pci.c_str(), resolved)) return {};
    std::string path = resolved;
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return {};
    path.resize(slash);
    std::string parent = path.substr(path.rfind('/') + 1);
    unsigned dom, bus, dev, fn;
    char tail;
    if (std::sscanf(parent.c_str(), "%x:%x:%x.%x%c", &dom, &bus, &dev, &fn, &tail) != 4) return {};
    return parent;
}

}  // namespace

DeviceRoots DeviceRoots::from_env()
{
    DeviceRoots r;
    if (const char *e = std::getenv("MTIA_SYSFS_PCI_DIR"); e && *e) r.pci_dir = e;
    if (const char *e = std::getenv("MTIA_ACCEL_DIR"); e && *e) r.accel_dir = e;
    return r;
}

std::optional<uint64_t> parse_heartbeat(const std::string &fw_regs)
{
    std::istringstream in(fw_regs);
    std::string line;
    const std::string key = "FW_HEARTBEAT:";
    while (std::getline(in, line)) {
        if (line.rfind(key, 0) != 0) continue;
        const char *s = line.c_str() + key.size();
        char *end = nullptr;
        unsigned long long v = std::strtoull(s, &end, 10);
        if (end == s) return std::nullopt;
        return v;
    }
    return std::nullopt;
}

std::vector<DeviceSnapshot> DeviceScanner::scan(bool heartbeat)
{
    std::vector<DeviceSnapshot> out;
    for (auto &name : list_dir(roots_.pci_dir)) {
        const std::string pci = roots_.pci_dir + "/" + name;
        if (read_long(pci + "/vendor", 16) != long{MTIA_PCI_VENDOR_ID} ||
            read_long(pci + "/device", 16) != long{MTIA_PCI_DEVICE_ID}) {
            continue;
        }
        DeviceSnapshot d;
        d.bus_id = name;
        d.numa_node = static_cast<int>(read_long(pci + "/numa_node", 10).value_or(-1));
        d.parent = parent_bridge(pci);
        d.node = accel_node_of(pci);
        if (!d.node.empty()) {
            d.dev_path = roots_.accel_dir + "/" + d.node;
            d.fw_status = read_line(pci + "/mtia/fw_status").value_or("");
            d.gone = read_long(pci + "/mtia/gone", 10).value_or(0) != 0;
            auto &cached = serials_[name];
            if (cached.first != d.node || cached.second.empty()) {
                cached = {d.node, read_line(pci + "/mtia/serial").value_or("")};
            }
            d.serial = cached.second;
            if (heartbeat && d.fw_status == "ready") {
                std::ifstream f(roots_.debugfs_dir + "/" + name + "/fw_regs");
                if (f) {
                    std::stringstream text;
                    text << f.rdbuf();
                    d.heartbeat = parse_heartbeat(text.str());
                }
            }
        }
        out.push_back(std::move(d));
    }
    return out;
}

}  // namespace mtia::dp
