// SPDX-License-Identifier: MIT
#include "smi_read.h"

#include <algorithm>
#include <cctype>
#include <sstream>

namespace mtia::smi {

namespace {

std::string lower(std::string s)
{
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

std::vector<SmiDevice> read_devices(bool pci_names)
{
    std::vector<PciFunction> pci;
    if (pci_names) pci = scan_mtia_pci();
    std::vector<SmiDevice> out;
    for (const auto &dev : mtia::mgmt::Device::all()) {
        SmiDevice d;
        try {
            static_cast<mtia::mgmt::Status &>(d) = dev.status();
        } catch (const mtia::Error &) {
            continue;  // unbound while we looked
        }
        for (const auto &p : pci) {
            if (p.bus_id == d.info.pci_bus_id) d.names = p;
        }
        out.push_back(std::move(d));
    }
    for (auto &d : out) d.count = static_cast<unsigned>(out.size());
    return out;
}

std::vector<size_t> select_devices(const std::vector<SmiDevice> &all, const std::string &ids, std::string *err)
{
    std::vector<size_t> out;
    std::stringstream in(ids);
    std::string id;
    while (std::getline(in, id, ',')) {
        if (id.empty()) continue;
        bool numeric = std::all_of(id.begin(), id.end(), ::isdigit);
        const std::string l = lower(id);
        auto match = [&](const SmiDevice &d) {
            if (numeric) return std::to_string(d.info.index) == id;
            const std::string &b = d.info.pci_bus_id;
            return l == b || (b.size() > 5 && l == b.substr(5)) ||
                   (!d.tel.serial.empty() && l == lower(d.tel.serial)) || (!d.uuid.empty() && l == lower(d.uuid));
        };
        auto it = std::find_if(all.begin(), all.end(), match);
        if (it == all.end()) {
            *err = numeric ? "no device with index " + id + " (" + std::to_string(all.size()) + " present)"
                           : "no device with bus id, serial or UUID '" + id + "'";
            return {};
        }
        size_t pos = static_cast<size_t>(it - all.begin());
        if (std::find(out.begin(), out.end(), pos) == out.end()) out.push_back(pos);
    }
    if (out.empty()) *err = "-i names no device";
    return out;
}

}  // namespace mtia::smi
