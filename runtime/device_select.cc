// SPDX-License-Identifier: MIT
// Which devices a process sees and how it names them: MTIA_VISIBLE_DEVICES
// (physical indices or serials, in the order given, an invalid entry ending
// the list as CUDA_VISIBLE_DEVICES does) and Device::open by runtime index,
// PCI bus id or serial.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <sstream>

#include "runtime_internal.h"

namespace mtia {

namespace {

std::string lower(std::string s)
{
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string trim(const std::string &s)
{
    size_t a = s.find_first_not_of(" \t"), b = s.find_last_not_of(" \t");
    return a == std::string::npos ? std::string{} : s.substr(a, b - a + 1);
}

bool all_digits(const std::string &s)
{
    return !s.empty() && s.size() < 6 &&
           std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

namespace detail {

std::vector<size_t> visible_positions(const std::vector<std::string> &serials, const char *env)
{
    std::vector<size_t> out;
    if (!env) {
        for (size_t i = 0; i < serials.size(); i++) out.push_back(i);
        return out;
    }
    std::stringstream in(env);
    std::string entry;
    while (std::getline(in, entry, ',')) {
        entry = trim(entry);
        size_t pos = serials.size();
        if (all_digits(entry)) {
            pos = static_cast<size_t>(std::atoi(entry.c_str()));
        } else if (!entry.empty()) {
            auto it = std::find_if(serials.begin(), serials.end(),
                                   [&](const std::string &s) { return !s.empty() && lower(s) == lower(entry); });
            pos = static_cast<size_t>(it - serials.begin());
        }
        if (pos >= serials.size() || std::find(out.begin(), out.end(), pos) != out.end()) break;
        out.push_back(pos);
    }
    return out;
}

}  // namespace detail

std::string device_serial(const std::string &node) { return sysfs_mtia_attr(node, "serial"); }

std::vector<std::string> visible_device_nodes()
{
    auto nodes = device_nodes();
    const char *env = std::getenv("MTIA_VISIBLE_DEVICES");
    if (!env) return nodes;
    std::vector<std::string> serials;
    for (auto &n : nodes) serials.push_back(device_serial(n));
    std::vector<std::string> out;
    for (size_t pos : detail::visible_positions(serials, env)) out.push_back(nodes[pos]);
    return out;
}

int device_count() { return static_cast<int>(visible_device_nodes().size()); }

Device Device::open(const std::string &id_in)
{
    const std::string id = lower(trim(id_in));
    if (id.empty()) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "device id is empty");
    if (all_digits(id)) return open(std::atoi(id.c_str()));
    auto nodes = visible_device_nodes();
    for (size_t i = 0; i < nodes.size(); i++) {
        const std::string bus = sysfs_pci_bus_id(nodes[i]);
        const std::string serial = lower(device_serial(nodes[i]));
        if ((!bus.empty() && (id == bus || (bus.size() > 5 && id == bus.substr(5)))) ||
            (!serial.empty() && id == serial)) {
            return open_node(nodes[i], static_cast<int>(i));
        }
    }
    throw Error(MTIA_ERROR_NO_DEVICE, "no visible mtia device with bus id or serial '" + id_in + "' (" +
                                          std::to_string(nodes.size()) + " visible)");
}

}  // namespace mtia
