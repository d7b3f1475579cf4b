// SPDX-License-Identifier: MIT
#include "smi_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace mtia_smi {

namespace {

std::string version_string()
{
    return fmt::format("{}.{}.{}", MTIA_RUNTIME_VERSION_MAJOR, MTIA_RUNTIME_VERSION_MINOR,
                       MTIA_RUNTIME_VERSION_PATCH);
}

}  // namespace

std::string format_fw_version(uint32_t fw)
{
    return fw ? fmt::format("{}.{}.{}", fw >> 16, (fw >> 8) & 0xff, fw & 0xff) : "N/A";
}

std::string format_bytes_mib(uint64_t bytes)
{
    return fmt::format("{} MiB", bytes >> 20);
}

std::string format_table(const std::vector<SmiDevice> &devs)
{
    const std::vector<std::string> head = {"Idx", "Name", "Bus-Id", "PE Grid",
                                           "SRAM", "Device Memory", "Firmware"};
    std::vector<std::vector<std::string>> rows;
    for (const auto &d : devs) {
        const auto &i = d.info;
        rows.push_back({std::to_string(i.index), i.name, i.pci_bus_id,
                        fmt::format("{}x{}", i.pe_rows, i.pe_cols), format_bytes_mib(i.sram_bytes),
                        format_bytes_mib(i.devmem_bytes), format_fw_version(i.fw_version)});
    }
    std::vector<size_t> w(head.size());
    for (size_t c = 0; c < head.size(); c++) {
        w[c] = head[c].size();
        for (const auto &r : rows) {
            w[c] = std::max(w[c], r[c].size());
        }
    }
    auto rule = [&] {
        std::string s = "+";
        for (size_t c : w) {
            s += std::string(c + 2, '-') + "+";
        }
        return s + "\n";
    };
    auto line = [&](const std::vector<std::string> &cells) {
        std::string s = "|";
        for (size_t c = 0; c < cells.size(); c++) {
            s += fmt::format(" {:<{}} |", cells[c], w[c]);
        }
        return s + "\n";
    };
    std::string driver = devs.empty() ? "N/A" : devs.front().info.driver_version;
    std::string out = fmt::format("MTIA-SMI {}    Driver Version: {}    Devices: {}\n",
                                  version_string(), driver, devs.size());
    out += rule() + line(head) + rule();
    for (const auto &r : rows) {
        out += line(r);
    }
    return out + rule();
}

std::string format_list(const std::vector<SmiDevice> &devs)
{
    std::string out;
    for (const auto &d : devs) {
        out += fmt::format("MTIA {}: {} (Bus-Id: {}, Node: {})\n", d.info.index, d.info.name,
                           d.info.pci_bus_id, d.info.node);
    }
    return out;
}

std::string format_detail(const std::vector<SmiDevice> &devs, const std::string &timestamp)
{
    auto kv = [](int indent, const std::string &k, const std::string &v) {
        return fmt::format("{:{}}{:<{}}: {}\n", "", indent, k, 30 - indent, v);
    };
    std::string out = "\n==============MTIA-SMI LOG==============\n\n";
    out += kv(0, "Timestamp", timestamp);
    out += kv(0, "Driver Version", devs.empty() ? "N/A" : devs.front().info.driver_version);
    out += kv(0, "MTIA-SMI Version", version_string());
    out += kv(0, "Attached Devices", std::to_string(devs.size()));
    for (const auto &d : devs) {
        const auto &i = d.info;
        out += fmt::format("\nMTIA {}\n", i.pci_bus_id);
        out += kv(4, "Product Name", i.name);
        out += kv(4, "Index", std::to_string(i.index));
        out += kv(4, "Device Node", i.node);
        out += kv(4, "Chip ID", fmt::format("0x{:04x}", i.chip_id));
        out += kv(4, "Revision", std::to_string(i.revision));
        out += kv(4, "Interface Version", fmt::format("{}.{}", i.if_version_major, i.if_version_minor));
        out += kv(4, "Firmware Version", format_fw_version(i.fw_version));
        out += kv(4, "PE Grid", fmt::format("{} x {}", i.pe_rows, i.pe_cols));
        out += kv(4, "SRAM", format_bytes_mib(i.sram_bytes));
        out += kv(4, "Device Memory", format_bytes_mib(i.devmem_bytes));
        out += kv(4, "MSI-X Vectors", std::to_string(i.msix_vectors));
        out += fmt::format("    PCI\n");
        out += kv(8, "Bus Id", i.pci_bus_id);
        out += kv(8, "Vendor Id", d.pci.vendor_name.empty()
                                     ? fmt::format("0x{:04x}", d.pci.vendor_id)
                                     : fmt::format("0x{:04x} ({})", d.pci.vendor_id, d.pci.vendor_name));
        out += kv(8, "Device Id", fmt::format("0x{:04x}", d.pci.device_id));
    }
    return out;
}

std::string format_json(const std::vector<SmiDevice> &devs)
{
    nlohmann::ordered_json j;
    j["mtia_smi_version"] = version_string();
    j["driver_version"] = devs.empty() ? "" : devs.front().info.driver_version;
    j["devices"] = nlohmann::ordered_json::array();
    for (const auto &d : devs) {
        const auto &i = d.info;
        nlohmann::ordered_json e;
        e["index"] = i.index;
        e["name"] = i.name;
        e["pci_bus_id"] = i.pci_bus_id;
        e["node"] = i.node;
        e["chip_id"] = i.chip_id;
        e["revision"] = i.revision;
        e["interface_version"] = fmt::format("{}.{}", i.if_version_major, i.if_version_minor);
        e["pe_rows"] = i.pe_rows;
        e["pe_cols"] = i.pe_cols;
        e["sram_bytes"] = i.sram_bytes;
        e["device_memory_bytes"] = i.devmem_bytes;
        e["driver_version"] = i.driver_version;
        e["firmware_version"] = i.fw_version ? nlohmann::ordered_json(format_fw_version(i.fw_version))
                                             : nlohmann::ordered_json(nullptr);
        e["msix_vectors"] = i.msix_vectors;
        e["pci"] = {{"vendor_id", fmt::format("0x{:04x}", d.pci.vendor_id)},
                    {"device_id", fmt::format("0x{:04x}", d.pci.device_id)},
                    {"vendor_name", d.pci.vendor_name},
                    {"device_name", d.pci.device_name}};
        j["devices"].push_back(std::move(e));
    }
    return j.dump(2) + "\n";
}

}  // namespace mtia_smi
