// SPDX-License-Identifier: MIT
// Reading a device from sysfs: the driver's "mtia" group, its hwmon
// sensors, the PCI function's ids and link, and the module version.
// Reading sysfs needs no permission on the device node. The one reader of
// device telemetry in the project: mtia-smi uses this through the API.

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>

#include "mgmt_internal.h"
#include "mtia/mtia_spec.h"

namespace mtia::mgmt {

namespace detail {

// First line of a sysfs file, without the newline; nullopt if unreadable.
std::optional<std::string> read_line(const std::string &path)
{
    std::ifstream f(path);
    std::string s;
    if (!f || !std::getline(f, s)) {
        return std::nullopt;
    }
    return s;
}

std::string text_or(const std::string &path, const std::string &dflt)
{
    auto s = read_line(path);
    return s ? *s : dflt;
}

std::string basename_of(const std::string &path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string env_or(const char *name, const char *dflt)
{
    const char *v = std::getenv(name);
    return v && *v ? v : dflt;
}

std::string module_dir() { return env_or("MTIA_SYSFS_MODULE_DIR", "/sys/module/mtia"); }
std::string accel_class_dir() { return env_or("MTIA_SYSFS_ACCEL_CLASS", "/sys/class/accel"); }

// The hwmon directory the mtia driver registered under @pci_dir, or "".
std::string find_hwmon(const std::string &pci_dir)
{
    const char *kHwmonName = "mtia";  // the driver's hwmon chip name
    std::string base = pci_dir + "/hwmon";
    std::string found;
    if (DIR *d = opendir(base.c_str())) {
        while (dirent *e = readdir(d)) {
            std::string dir = base + "/" + e->d_name;
            if (e->d_name[0] != '.' && text_or(dir + "/name") == kHwmonName) {
                found = dir;
                break;
            }
        }
        closedir(d);
    }
    return found;
}

}  // namespace detail

using namespace detail;

namespace {

std::optional<uint64_t> read_u64(const std::string &path, int base = 10)
{
    auto s = read_line(path);
    if (!s || s->empty()) {
        return std::nullopt;
    }
    char *end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(s->c_str(), &end, base);
    if (errno || end == s->c_str() || (*end && *end != ' ')) {
        return std::nullopt;
    }
    return v;
}

std::optional<double> read_scaled(const std::string &path, double div)
{
    auto s = read_line(path);
    if (!s || s->empty()) {
        return std::nullopt;
    }
    char *end = nullptr;
    double v = std::strtod(s->c_str(), &end);  // temperatures may be negative
    if (end == s->c_str()) {
        return std::nullopt;
    }
    return v / div;
}

template <typename T>
std::optional<T> narrow(std::optional<uint64_t> v)
{
    return v ? std::optional<T>(static_cast<T>(*v)) : std::nullopt;
}

// A PCIe lane count; an integrated endpoint (no link) reports 0 or 255.
std::optional<unsigned> link_width(std::optional<uint64_t> v)
{
    static const uint64_t valid[] = {1, 2, 4, 8, 12, 16, 32};
    for (uint64_t w : valid) {
        if (v == w) return static_cast<unsigned>(w);
    }
    return std::nullopt;
}

// The function's address (from its directory name), ids and link.
void read_pci(const std::string &pci_dir, const Telemetry &t, PciInfo *p)
{
    p->bus_id = basename_of(pci_dir);
    std::sscanf(p->bus_id.c_str(), "%x:%x:%x.%x", &p->domain, &p->bus, &p->device, &p->function);
    p->vendor_id = static_cast<unsigned>(read_u64(pci_dir + "/vendor", 16).value_or(0));
    p->device_id = static_cast<unsigned>(read_u64(pci_dir + "/device", 16).value_or(0));
    p->link_gen = t.link_gen;
    p->link_gen_max = t.link_gen_max;
    p->link_width = t.link_width;
    p->link_width_max = t.link_width_max;
}

}  // namespace

std::optional<unsigned> pcie_gen_of(const std::string &speed)
{
    static const std::map<std::string, unsigned> gens = {{"2.5", 1},  {"5.0", 2},  {"8.0", 3},
                                                         {"16.0", 4}, {"32.0", 5}, {"64.0", 6}};
    auto it = gens.find(speed.substr(0, speed.find(' ')));
    if (it == gens.end() || speed.find("GT/s") == std::string::npos) {
        return std::nullopt;
    }
    return it->second;
}

uint32_t parse_fw_version(const std::string &s)
{
    unsigned a, b, c;
    char tail;
    if (std::sscanf(s.c_str(), "%u.%u.%u%c", &a, &b, &c, &tail) != 3 ||
        a > MTIA_FIELD_MAX(MTIA_FW_VERSION_MAJOR_MASK) || b > MTIA_FIELD_MAX(MTIA_FW_VERSION_MINOR_MASK) ||
        c > MTIA_FIELD_MAX(MTIA_FW_VERSION_PATCH_MASK)) {
        return 0;
    }
    return MTIA_FW_VERSION(a, b, c);
}

std::optional<uint64_t> throttle_mask_of(const std::string &reasons)
{
    uint64_t mask = kThrottleNone;
    size_t start = 0;
    while (start <= reasons.size()) {
        size_t comma = std::min(reasons.find(',', start), reasons.size());
        std::string word = reasons.substr(start, comma - start);
        if (word == "power") {
            mask |= kThrottleSwPowerCap;
        } else if (word == "thermal") {
            mask |= kThrottleHwSlowdown | kThrottleHwThermalSlowdown;
        } else if (word != "none") {
            return std::nullopt;
        }
        start = comma + 1;
    }
    return mask;
}

std::string driver_version() { return text_or(module_dir() + "/version"); }

Status read_status(const std::string &pci_dir, const std::string &node, int index)
{
    Status d;
    const std::string m = pci_dir + "/mtia/";
    if (!read_line(m + "chip_id")) {
        throw Error(MTIA_ERROR_NO_DEVICE, "mtia device " + basename_of(pci_dir) + " is gone (no " + m + "chip_id)");
    }
    mtia::DeviceInfo &i = d.info;
    i.index = index;
    i.node = node;
    i.pci_bus_id = basename_of(pci_dir);
    i.chip_id = static_cast<uint32_t>(read_u64(m + "chip_id", 16).value_or(0));
    i.name = mtia::chip_name(i.chip_id);
    i.driver_version = text_or(module_dir() + "/version", "N/A");
    i.revision = static_cast<uint32_t>(read_u64(m + "revision").value_or(0));
    unsigned maj = 0, min = 0;
    if (std::sscanf(text_or(m + "if_version").c_str(), "%u.%u", &maj, &min) == 2) {
        i.if_version_major = maj;
        i.if_version_minor = min;
    }
    i.pe_rows = static_cast<uint32_t>(read_u64(m + "pe_rows").value_or(0));
    i.pe_cols = static_cast<uint32_t>(read_u64(m + "pe_cols").value_or(0));
    i.sram_bytes = read_u64(m + "sram_bytes").value_or(0);
    i.devmem_bytes = read_u64(m + "devmem_bytes").value_or(0);
    i.msix_vectors = static_cast<uint32_t>(read_u64(m + "msix_vectors").value_or(0));
    i.fw_version = parse_fw_version(text_or(m + "fw_version"));

    Telemetry &t = d.tel;
    t.fw_version = i.fw_version ? text_or(m + "fw_version") : "";
    t.serial = text_or(m + "serial");
    i.serial = t.serial;
    d.uuid = uuid_from_serial(t.serial);
    t.fw_status = text_or(m + "fw_status");
    t.reset_count = narrow<unsigned>(read_u64(m + "reset_count"));
    t.mem_used = read_u64(m + "mem_used");
    t.mem_total = read_u64(m + "mem_total");
    t.util_pe = narrow<unsigned>(read_u64(m + "pe_busy_percent"));
    t.util_dma = narrow<unsigned>(read_u64(m + "dma_busy_percent"));
    t.util_cc = narrow<unsigned>(read_u64(m + "cc_busy_percent"));
    t.clock_mhz = narrow<unsigned>(read_u64(m + "clock_mhz"));
    t.clock_max_mhz = narrow<unsigned>(read_u64(m + "clock_max_mhz"));
    t.clock_min_mhz = narrow<unsigned>(read_u64(m + "clock_min_mhz"));
    t.throttle = text_or(m + "throttle_reasons");
    t.throttle_mask = throttle_mask_of(t.throttle);
    t.ecc_corrected = read_u64(m + "ecc_corrected");
    t.ecc_uncorrected = read_u64(m + "ecc_uncorrected");
    t.ecc_corrected_aggregate = read_u64(m + "ecc_corrected_aggregate");  // interface 1.6
    t.ecc_uncorrected_aggregate = read_u64(m + "ecc_uncorrected_aggregate");

    std::string hw = find_hwmon(pci_dir);
    if (!hw.empty()) {
        hw += "/";
        t.temp_c = read_scaled(hw + "temp1_input", 1e3);
        t.temp_slowdown_c = read_scaled(hw + "temp1_max", 1e3);
        t.temp_shutdown_c = read_scaled(hw + "temp1_crit", 1e3);
        t.power_w = read_scaled(hw + "power1_input", 1e6);
        t.power_avg_w = read_scaled(hw + "power1_average", 1e6);
        t.power_cap_w = read_scaled(hw + "power1_cap", 1e6);
        t.power_cap_min_w = read_scaled(hw + "power1_cap_min", 1e6);
        t.power_cap_max_w = read_scaled(hw + "power1_cap_max", 1e6);
        t.energy_j = read_scaled(hw + "energy1_input", 1e6);
    }

    t.link_gen = pcie_gen_of(text_or(pci_dir + "/current_link_speed"));
    t.link_gen_max = pcie_gen_of(text_or(pci_dir + "/max_link_speed"));
    t.link_width = link_width(read_u64(pci_dir + "/current_link_width"));
    t.link_width_max = link_width(read_u64(pci_dir + "/max_link_width"));
    read_pci(pci_dir, t, &d.pci);
    return d;
}

}  // namespace mtia::mgmt
