// SPDX-License-Identifier: MIT
// Which processes use mtia devices, from the DRM fdinfo of their open
// accel files (Documentation/gpu/drm-usage-stats.rst): memory per region
// and, where the driver reports it, engine busy time. A user sees the
// files of their own processes; root sees all.

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "mtia/mtia_mgmt.hpp"

namespace mtia::mgmt {

namespace {

std::string trim(const std::string &s)
{
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}

bool starts_with(const std::string &s, const std::string &p) { return s.compare(0, p.size(), p) == 0; }

// A decimal number followed by exactly @suffix (after spaces).
std::optional<uint64_t> parse_number(const std::string &v, const std::string &suffix, std::string *rest = nullptr)
{
    if (v.empty() || !std::isdigit(static_cast<unsigned char>(v[0]))) {
        return std::nullopt;
    }
    char *end = nullptr;
    errno = 0;
    unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    if (errno) {
        return std::nullopt;
    }
    std::string tail = trim(end);
    if (rest) {
        *rest = tail;
    } else if (tail != suffix) {
        return std::nullopt;
    }
    return n;
}

std::vector<std::string> list_dir(const std::string &path)
{
    std::vector<std::string> out;
    if (DIR *d = opendir(path.c_str())) {
        while (dirent *e = readdir(d)) {
            if (e->d_name[0] != '.') out.emplace_back(e->d_name);
        }
        closedir(d);
    }
    return out;
}

bool all_digits(const std::string &s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string read_all(const std::string &path)
{
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

}  // namespace

std::optional<uint64_t> parse_fdinfo_size(const std::string &value)
{
    std::string unit;
    auto n = parse_number(trim(value), "", &unit);
    if (!n) {
        return std::nullopt;
    }
    if (unit.empty()) return *n;
    if (unit == "KiB") return *n << 10;
    if (unit == "MiB") return *n << 20;
    if (unit == "GiB") return *n << 30;
    return std::nullopt;
}

std::optional<FdInfo> parse_fdinfo(const std::string &text)
{
    FdInfo info;
    bool drm = false;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (colon == std::string::npos || !starts_with(line, "drm-")) {
            continue;
        }
        std::string key = line.substr(0, colon), val = trim(line.substr(colon + 1));
        if (key == "drm-driver") {
            info.driver = val;
            drm = true;
        } else if (key == "drm-pdev") {
            info.pdev = val;
        } else if (key == "drm-client-id") {
            info.client_id = parse_number(val, "");
        } else if (starts_with(key, "drm-engine-capacity-")) {
            continue;  // a count of engines, not a time
        } else if (starts_with(key, "drm-engine-")) {
            if (auto ns = parse_number(val, "ns")) info.engine_ns[key.substr(11)] = *ns;
        } else if (starts_with(key, "drm-total-") || starts_with(key, "drm-shared-") ||
                   starts_with(key, "drm-resident-") || starts_with(key, "drm-purgeable-") ||
                   starts_with(key, "drm-active-")) {
            if (auto bytes = parse_fdinfo_size(val)) info.memory[key.substr(4)] = *bytes;
        }
    }
    if (!drm) {
        return std::nullopt;
    }
    return info;
}

std::vector<Process> scan_processes(const std::string &proc_dir, const std::string &driver)
{
    const char *env = std::getenv("MTIA_PROC_DIR");
    const std::string proc_root = !proc_dir.empty() ? proc_dir : env && *env ? env : "/proc";
    std::vector<Process> out;
    for (const auto &pid : list_dir(proc_root)) {
        if (!all_digits(pid)) continue;
        const std::string dir = proc_root + "/" + pid;
        // Per device: the usage and the DRM clients already counted.
        std::map<std::string, std::pair<Process, std::set<uint64_t>>> per_dev;
        for (const auto &fd : list_dir(dir + "/fd")) {
            char target[PATH_MAX];
            ssize_t n = readlink((dir + "/fd/" + fd).c_str(), target, sizeof(target) - 1);
            if (n <= 0) continue;  // gone, or not ours to look at
            target[n] = 0;
            if (!starts_with(target, "/dev/accel/")) continue;
            auto info = parse_fdinfo(read_all(dir + "/fdinfo/" + fd));
            if (!info || info->driver != driver) continue;
            auto &slot = per_dev[info->pdev];
            Process &u = slot.first;
            if (info->client_id && !slot.second.insert(*info->client_id).second) {
                continue;  // a dup()ed file of a client already counted
            }
            u.clients++;
            u.device_mem += info->memory["total-device"];
            u.host_mem += info->memory["total-system"];
            for (const auto &e : info->engine_ns) {
                std::optional<uint64_t> *acc = e.first == "dma"       ? &u.dma_ns
                                               : e.first == "compute" ? &u.compute_ns
                                                                      : nullptr;
                if (acc) *acc = acc->value_or(0) + e.second;
            }
        }
        if (per_dev.empty()) continue;
        std::string comm = read_all(dir + "/comm");
        comm = comm.substr(0, comm.find('\n'));
        for (auto &d : per_dev) {
            Process u = d.second.first;
            u.pid = std::atoi(pid.c_str());
            u.name = comm;
            u.bus_id = d.first;
            out.push_back(std::move(u));
        }
    }
    std::sort(out.begin(), out.end(), [](const Process &a, const Process &b) {
        return a.bus_id != b.bus_id ? a.bus_id < b.bus_id : a.pid < b.pid;
    });
    return out;
}

}  // namespace mtia::mgmt
