// SPDX-License-Identifier: MIT
// The management API's devices: finding them (by index, bus id, serial or
// UUID) from the accel class in sysfs, their UUID, and the two controls,
// the power limit and reset, which are sysfs writes that only root may do.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cinttypes>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "mgmt_internal.h"

namespace mtia::mgmt {

using namespace detail;

namespace {

std::string lower(std::string s)
{
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

uint64_t fnv1a64(const std::string &s)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    return h;
}

// "accel12" -> 12; -1 for any other name.
int accel_minor(const std::string &name)
{
    if (name.compare(0, 5, "accel") != 0 || name.size() == 5) return -1;
    int n = 0;
    for (size_t i = 5; i < name.size(); i++) {
        if (!std::isdigit(static_cast<unsigned char>(name[i])) || n > 100000) return -1;
        n = n * 10 + (name[i] - '0');
    }
    return n;
}

// Writes @text to a sysfs attribute: 0 or the errno.
int write_attr(const std::string &path, const std::string &text)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t n = ::write(fd, text.data(), text.size());
    int err = n == static_cast<ssize_t>(text.size()) ? 0 : n < 0 ? errno : EIO;
    ::close(fd);
    return err;
}

[[noreturn]] void throw_write_error(int err, const std::string &what)
{
    if (err == EACCES || err == EPERM) throw Error(MTIA_ERROR_PERMISSION, what + ": permission denied (needs root)");
    if (err == EINVAL || err == ERANGE) throw Error(MTIA_ERROR_INVALID_ARGUMENT, what + ": " + std::strerror(err));
    if (err == ENOENT) throw Error(MTIA_ERROR_NOT_SUPPORTED, what + ": the driver does not offer it");
    throw Error(MTIA_ERROR_IO, what + ": " + std::strerror(err));
}

template <typename Match>
Device find_device(const Match &match, const std::string &what)
{
    for (auto &d : Device::all()) {
        if (match(d)) return d;
    }
    throw Error(MTIA_ERROR_NO_DEVICE, "no mtia device with " + what);
}

}  // namespace

std::string uuid_from_serial(const std::string &serial)
{
    if (serial.empty()) return {};
    const std::string s = lower(serial);
    char *end = nullptr;
    errno = 0;
    uint64_t hi = std::strtoull(s.c_str(), &end, 16);
    if (errno || *end || s.size() != 16) hi = fnv1a64("mtia-serial:" + s);  // not 16 hex digits
    uint64_t lo = fnv1a64("mtia-uuid:" + s);
    char buf[64];
    std::snprintf(buf, sizeof(buf), "MTIA-%08" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%04" PRIx64 "-%012" PRIx64,
                  hi >> 32, (hi >> 16) & 0xffff, hi & 0xffff, lo >> 48, lo & uint64_t(0xffffffffffff));
    return buf;
}

Device::Device(std::string pci_dir, std::string node, int index)
    : pci_dir_(std::move(pci_dir)), node_(std::move(node)), bus_id_(basename_of(pci_dir_)), index_(index)
{
}

std::vector<Device> Device::all()
{
    std::vector<std::pair<int, std::string>> found;
    const std::string cls = accel_class_dir();
    if (DIR *d = opendir(cls.c_str())) {
        while (dirent *e = readdir(d)) {
            int minor = accel_minor(e->d_name);
            if (minor >= 0) found.emplace_back(minor, e->d_name);
        }
        closedir(d);
    }
    std::sort(found.begin(), found.end());
    std::vector<Device> out;
    for (const auto &f : found) {
        char resolved[PATH_MAX];
        std::string link = cls + "/" + f.second + "/device";
        // Only the mtia driver makes the "mtia" group: other accel drivers' nodes are skipped.
        if (!realpath(link.c_str(), resolved) || !read_line(std::string(resolved) + "/mtia/chip_id")) continue;
        out.emplace_back(resolved, accel_dir() + "/" + f.second, static_cast<int>(out.size()));
    }
    return out;
}

unsigned Device::count() { return static_cast<unsigned>(all().size()); }

Device Device::by_index(unsigned index)
{
    auto devs = all();
    if (index >= devs.size()) {
        throw Error(MTIA_ERROR_NO_DEVICE,
                    "no mtia device " + std::to_string(index) + " (" + std::to_string(devs.size()) + " present)");
    }
    return devs[index];
}

Device Device::by_pci_bus_id(const std::string &bus_id)
{
    const std::string id = lower(bus_id);
    return find_device(
        [&](const Device &d) { return id == d.bus_id() || (d.bus_id().size() > 5 && id == d.bus_id().substr(5)); },
        "PCI bus id '" + bus_id + "'");
}

Device Device::by_serial(const std::string &serial)
{
    const std::string id = lower(serial);
    return find_device([&](const Device &d) { return !id.empty() && lower(d.status().tel.serial) == id; },
                       "serial '" + serial + "'");
}

Device Device::by_uuid(const std::string &uuid)
{
    const std::string id = lower(uuid);
    return find_device([&](const Device &d) { return !id.empty() && lower(d.status().uuid) == id; },
                       "UUID '" + uuid + "'");
}

Device Device::by_id(const std::string &id)
{
    if (!id.empty() && std::all_of(id.begin(), id.end(), ::isdigit)) {
        if (id.size() > 6) throw Error(MTIA_ERROR_NO_DEVICE, "no mtia device " + id);
        return by_index(static_cast<unsigned>(std::stoul(id)));
    }
    const std::string l = lower(id);
    return find_device(
        [&](const Device &d) {
            if (l == d.bus_id() || (d.bus_id().size() > 5 && l == d.bus_id().substr(5))) return true;
            Status s = d.status();
            return !l.empty() && (l == lower(s.tel.serial) || l == lower(s.uuid));
        },
        "bus id, serial or UUID '" + id + "'");
}

Status Device::status() const { return read_status(pci_dir_, node_, index_); }

std::vector<Process> Device::processes() const
{
    std::vector<Process> out;
    for (auto &p : scan_processes()) {
        if (p.bus_id == bus_id_) out.push_back(std::move(p));
    }
    return out;
}

void Device::set_power_limit(double watts) const
{
    const std::string what = "setting the power limit of " + bus_id_;
    Telemetry t = status().tel;
    std::string hw = find_hwmon(pci_dir_);
    if (hw.empty() || !t.power_cap_w) throw Error(MTIA_ERROR_NOT_SUPPORTED, what + ": no power limit sensor");
    if (!std::isfinite(watts) || (t.power_cap_min_w && watts < *t.power_cap_min_w - 1e-6) ||
        (t.power_cap_max_w && watts > *t.power_cap_max_w + 1e-6)) {
        char buf[160];
        std::snprintf(buf, sizeof(buf), "%s: %.2f W is outside [%.2f W, %.2f W]", what.c_str(), watts,
                      t.power_cap_min_w.value_or(0), t.power_cap_max_w.value_or(0));
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, buf);
    }
    int err = write_attr(hw + "/power1_cap", std::to_string(std::llround(watts * 1e6)) + "\n");
    if (err) throw_write_error(err, what);
}

void Device::reset() const
{
    // The driver's write returns once the device is back (or is known not to be).
    int err = write_attr(pci_dir_ + "/mtia/reset", "1\n");
    if (err == EIO) {
        throw Error(MTIA_ERROR_IO, "resetting " + bus_id_ + ": the device did not come back (firmware " +
                                       text_or(pci_dir_ + "/mtia/fw_status", "unknown") + "; see dmesg)");
    }
    if (err) throw_write_error(err, "resetting " + bus_id_);
}

void Device::clear_ecc_errors(EccCounter which) const
{
    const bool agg = which == EccCounter::kAggregate;
    const std::string what =
        std::string("clearing the ") + (agg ? "aggregate" : "volatile") + " ECC counts of " + bus_id_;
    if (which != EccCounter::kVolatile && !agg)
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, what + ": no such counter type");
    // The driver offers mtia/ecc_clear on devices of interface 1.6 and later.
    int err = write_attr(pci_dir_ + "/mtia/ecc_clear", agg ? "aggregate\n" : "volatile\n");
    if (err == EOPNOTSUPP) throw Error(MTIA_ERROR_NOT_SUPPORTED, what + ": the device does not support it");
    if (err) throw_write_error(err, what);
}

}  // namespace mtia::mgmt
