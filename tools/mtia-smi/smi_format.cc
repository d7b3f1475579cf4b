// SPDX-License-Identifier: MIT
#include "smi_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "mtia/mtia_spec.h"

namespace mtia::smi {

namespace {

using Row = std::vector<std::string>;

std::string version_string()
{
    return fmt::format("{}.{}.{}", MTIA_RUNTIME_VERSION_MAJOR, MTIA_RUNTIME_VERSION_MINOR, MTIA_RUNTIME_VERSION_PATCH);
}

// A boxed table; every line has the same width. A row with one cell spans
// the whole table.
std::string render_table(const Row &head, const std::vector<Row> &rows)
{
    std::vector<size_t> w(head.size());
    for (size_t c = 0; c < head.size(); c++) {
        w[c] = head[c].size();
        for (const auto &r : rows) {
            if (r.size() == head.size()) w[c] = std::max(w[c], r[c].size());
        }
    }
    auto width = [&] {  // of every line, without the newline
        size_t len = 1;
        for (size_t c : w) len += c + 3;
        return len;
    };
    for (const auto &r : rows) {
        if (r.size() == 1 && r[0].size() + 4 > width()) w.back() += r[0].size() + 4 - width();
    }
    const size_t len = width();
    std::string rule = "+";
    for (size_t c : w) rule += std::string(c + 2, '-') + "+";
    rule += "\n";
    auto line = [&](const Row &cells) {
        if (cells.size() == 1) return fmt::format("| {:<{}} |\n", cells[0], len - 4);
        std::string s = "|";
        for (size_t c = 0; c < cells.size(); c++) s += fmt::format(" {:<{}} |", cells[c], w[c]);
        return s + "\n";
    };
    std::string out = rule + line(head) + rule;
    for (const auto &r : rows) out += line(r);
    return out + rule;
}

template <typename T>
std::string opt(const std::optional<T> &v, const char *fmtstr, const char *na = "N/A")
{
    return v ? fmt::format(fmt::runtime(fmtstr), *v) : na;
}

std::string mem_usage(const Telemetry &t)
{
    if (!t.mem_used || !t.mem_total) return "N/A";
    return fmt::format("{}MiB / {}MiB", *t.mem_used >> 20, *t.mem_total >> 20);
}

std::string power_usage(const Telemetry &t)
{
    return opt(t.power_w, "{:.1f}W") + " / " + opt(t.power_cap_w, "{:.1f}W");
}

std::string index_of(const std::vector<SmiDevice> &devs, const std::string &bus_id)
{
    for (const auto &d : devs) {
        if (d.info.pci_bus_id == bus_id) return std::to_string(d.info.index);
    }
    return "?";
}

std::string secs(const std::optional<uint64_t> &ns) { return ns ? fmt::format("{:.3f} s", *ns / 1e9) : "N/A"; }

template <typename T>
nlohmann::ordered_json jopt(const std::optional<T> &v)
{
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

nlohmann::ordered_json jtext(const std::string &s)
{
    return s.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(s);
}

}  // namespace

std::string format_fw_version(uint32_t fw)
{
    return fw ? fmt::format("{}.{}.{}", mtia_fw_version_major(fw), mtia_fw_version_minor(fw), mtia_fw_version_patch(fw))
              : "N/A";
}

std::string format_bytes_mib(uint64_t bytes) { return fmt::format("{} MiB", bytes >> 20); }

std::string format_table(const std::vector<SmiDevice> &devs)
{
    const Row head = {"Idx", "Name", "Bus-Id", "Temp",  "Power / Cap", "Memory-Usage",
                      "PE",  "DMA",  "CC",     "Clock", "Firmware"};
    std::vector<Row> rows;
    for (const auto &d : devs) {
        const auto &i = d.info;
        const auto &t = d.tel;
        rows.push_back({std::to_string(i.index), i.name, i.pci_bus_id, opt(t.temp_c, "{:.0f}C"), power_usage(t),
                        mem_usage(t), opt(t.util_pe, "{}%"), opt(t.util_dma, "{}%"), opt(t.util_cc, "{}%"),
                        opt(t.clock_mhz, "{}MHz"), format_fw_version(i.fw_version)});
    }
    std::string driver = devs.empty() ? "N/A" : devs.front().info.driver_version;
    return fmt::format("MTIA-SMI {}    Driver Version: {}    Devices: {}\n", version_string(), driver, devs.size()) +
           render_table(head, rows);
}

std::string format_processes(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs, bool all_users)
{
    const Row head = {"Idx", "PID", "Process name", "Device Memory", "Host Memory"};
    std::vector<Row> rows;
    for (const auto &p : procs) {
        rows.push_back({index_of(devs, p.bus_id), std::to_string(p.pid), p.name, format_bytes_mib(p.device_mem),
                        format_bytes_mib(p.host_mem)});
    }
    if (rows.empty()) rows.push_back({"No running processes found"});
    if (!all_users) rows.push_back({"Only your own processes are shown (root sees all)"});
    return "Processes:\n" + render_table(head, rows);
}

std::string format_list(const std::vector<SmiDevice> &devs)
{
    std::string out;
    for (const auto &d : devs) {
        out += fmt::format("MTIA {}: {} (Bus-Id: {}, Node: {}{}{})\n", d.info.index, d.info.name, d.info.pci_bus_id,
                           d.info.node, d.tel.serial.empty() ? "" : ", Serial: " + d.tel.serial,
                           d.uuid.empty() ? "" : ", UUID: " + d.uuid);
    }
    return out;
}

std::string format_detail(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs,
                          const std::string &timestamp)
{
    auto kv = [](int indent, const std::string &k, const std::string &v) {
        return fmt::format("{:{}}{:<{}}: {}\n", "", indent, k, 30 - indent, v);
    };
    auto section = [](int indent, const std::string &name) { return fmt::format("{:{}}{}\n", "", indent, name); };
    std::string out = "\n==============MTIA-SMI LOG==============\n\n";
    out += kv(0, "Timestamp", timestamp);
    out += kv(0, "Driver Version", devs.empty() ? "N/A" : devs.front().info.driver_version);
    out += kv(0, "MTIA-SMI Version", version_string());
    out += kv(0, "Attached Devices", std::to_string(devs.size()));
    for (const auto &d : devs) {
        const auto &i = d.info;
        const auto &t = d.tel;
        out += fmt::format("\nMTIA {}\n", i.pci_bus_id);
        out += kv(4, "Product Name", i.name);
        out += kv(4, "Index", std::to_string(i.index));
        out += kv(4, "Serial Number", t.serial.empty() ? "N/A" : t.serial);
        out += kv(4, "UUID", d.uuid.empty() ? "N/A" : d.uuid);
        out += kv(4, "Device Node", i.node);
        out += kv(4, "Chip ID", fmt::format("0x{:04x}", i.chip_id));
        out += kv(4, "Revision", std::to_string(i.revision));
        out += kv(4, "Interface Version", fmt::format("{}.{}", i.if_version_major, i.if_version_minor));
        out += kv(4, "Firmware Version", format_fw_version(i.fw_version));
        out += kv(4, "Firmware Status", t.fw_status.empty() ? "N/A" : t.fw_status);
        out += kv(4, "Reset Count", opt(t.reset_count, "{}"));
        out += kv(4, "PE Grid", fmt::format("{} x {}", i.pe_rows, i.pe_cols));
        out += kv(4, "SRAM", format_bytes_mib(i.sram_bytes));
        out += kv(4, "Device Memory", format_bytes_mib(i.devmem_bytes));
        out += kv(4, "MSI-X Vectors", std::to_string(i.msix_vectors));
        out += section(4, "Memory Usage");
        out += kv(8, "Total", t.mem_total ? format_bytes_mib(*t.mem_total) : "N/A");
        out += kv(8, "Used", t.mem_used ? format_bytes_mib(*t.mem_used) : "N/A");
        out += kv(
            8, "Free",
            t.mem_used && t.mem_total ? format_bytes_mib(*t.mem_total - std::min(*t.mem_used, *t.mem_total)) : "N/A");
        out += section(4, "Utilization");
        out += kv(8, "PE Grid", opt(t.util_pe, "{} %"));
        out += kv(8, "Data Engine", opt(t.util_dma, "{} %"));
        out += kv(8, "Control Core", opt(t.util_cc, "{} %"));
        out += section(4, "Temperature");
        out += kv(8, "Die", opt(t.temp_c, "{:.1f} C"));
        out += kv(8, "Slowdown", opt(t.temp_slowdown_c, "{:.1f} C"));
        out += kv(8, "Shutdown", opt(t.temp_shutdown_c, "{:.1f} C"));
        out += section(4, "Power");
        out += kv(8, "Draw", opt(t.power_w, "{:.2f} W"));
        out += kv(8, "Average (1 s)", opt(t.power_avg_w, "{:.2f} W"));
        out += kv(8, "Limit", opt(t.power_cap_w, "{:.2f} W"));
        out += kv(8, "Min Limit", opt(t.power_cap_min_w, "{:.2f} W"));
        out += kv(8, "Max Limit", opt(t.power_cap_max_w, "{:.2f} W"));
        out += kv(8, "Energy", opt(t.energy_j, "{:.3f} J"));
        out += section(4, "Clocks");
        out += kv(8, "Core", opt(t.clock_mhz, "{} MHz"));
        out += kv(8, "Max", opt(t.clock_max_mhz, "{} MHz"));
        out += kv(8, "Min", opt(t.clock_min_mhz, "{} MHz"));
        out += kv(8, "Throttle Reasons", t.throttle.empty() ? "N/A" : t.throttle);
        out += section(4, "ECC Errors");
        out += section(8, "Volatile");
        out += kv(12, "Corrected", opt(t.ecc_corrected, "{}"));
        out += kv(12, "Uncorrected", opt(t.ecc_uncorrected, "{}"));
        out += section(8, "Aggregate");
        out += kv(12, "Corrected", opt(t.ecc_corrected_aggregate, "{}"));
        out += kv(12, "Uncorrected", opt(t.ecc_uncorrected_aggregate, "{}"));
        out += section(4, "PCI");
        out += kv(8, "Bus Id", i.pci_bus_id);
        out += kv(8, "Vendor Id",
                  d.names.vendor_name.empty() ? fmt::format("0x{:04x}", d.pci.vendor_id)
                                              : fmt::format("0x{:04x} ({})", d.pci.vendor_id, d.names.vendor_name));
        out += kv(8, "Device Id", fmt::format("0x{:04x}", d.pci.device_id));
        out += kv(8, "Link Generation", opt(t.link_gen, "{}") + " (max " + opt(t.link_gen_max, "{}") + ")");
        out += kv(8, "Link Width", opt(t.link_width, "x{}") + " (max " + opt(t.link_width_max, "x{}") + ")");
        bool any = false;
        for (const auto &p : procs) {
            if (p.bus_id != i.pci_bus_id) continue;
            if (!any) out += section(4, "Processes");
            any = true;
            out += kv(8, "Process ID", std::to_string(p.pid));
            out += kv(12, "Name", p.name);
            out += kv(12, "Device Memory", format_bytes_mib(p.device_mem));
            out += kv(12, "Host Memory", format_bytes_mib(p.host_mem));
            out += kv(12, "Data Engine Time", secs(p.dma_ns));
            out += kv(12, "PE Grid Time", secs(p.compute_ns));
        }
        if (!any) out += kv(4, "Processes", "None");
    }
    return out;
}

std::string format_json(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs)
{
    nlohmann::ordered_json j;
    j["mtia_smi_version"] = version_string();
    j["driver_version"] = devs.empty() ? "" : devs.front().info.driver_version;
    j["devices"] = nlohmann::ordered_json::array();
    for (const auto &d : devs) {
        const auto &i = d.info;
        const auto &t = d.tel;
        nlohmann::ordered_json e;
        e["index"] = i.index;
        e["name"] = i.name;
        e["pci_bus_id"] = i.pci_bus_id;
        e["serial"] = jtext(t.serial);
        e["uuid"] = jtext(d.uuid);
        e["node"] = i.node;
        e["chip_id"] = i.chip_id;
        e["revision"] = i.revision;
        e["interface_version"] = fmt::format("{}.{}", i.if_version_major, i.if_version_minor);
        e["pe_rows"] = i.pe_rows;
        e["pe_cols"] = i.pe_cols;
        e["sram_bytes"] = i.sram_bytes;
        e["device_memory_bytes"] = i.devmem_bytes;
        e["driver_version"] = i.driver_version;
        e["firmware_version"] =
            i.fw_version ? nlohmann::ordered_json(format_fw_version(i.fw_version)) : nlohmann::ordered_json(nullptr);
        e["firmware_status"] = jtext(t.fw_status);
        e["reset_count"] = jopt(t.reset_count);
        e["msix_vectors"] = i.msix_vectors;
        e["memory"] = {{"total_bytes", jopt(t.mem_total)}, {"used_bytes", jopt(t.mem_used)}};
        e["temperature_c"] = {
            {"die", jopt(t.temp_c)}, {"slowdown", jopt(t.temp_slowdown_c)}, {"shutdown", jopt(t.temp_shutdown_c)}};
        e["power_w"] = {{"draw", jopt(t.power_w)},
                        {"average", jopt(t.power_avg_w)},
                        {"limit", jopt(t.power_cap_w)},
                        {"min_limit", jopt(t.power_cap_min_w)},
                        {"max_limit", jopt(t.power_cap_max_w)}};
        e["energy_j"] = jopt(t.energy_j);
        e["utilization_percent"] = {{"pe", jopt(t.util_pe)}, {"dma", jopt(t.util_dma)}, {"cc", jopt(t.util_cc)}};
        e["clocks_mhz"] = {
            {"current", jopt(t.clock_mhz)}, {"max", jopt(t.clock_max_mhz)}, {"min", jopt(t.clock_min_mhz)}};
        e["throttle_reasons"] = jtext(t.throttle);
        e["ecc_errors"] = {
            {"corrected", jopt(t.ecc_corrected)},
            {"uncorrected", jopt(t.ecc_uncorrected)},
            {"aggregate",
             {{"corrected", jopt(t.ecc_corrected_aggregate)}, {"uncorrected", jopt(t.ecc_uncorrected_aggregate)}}}};
        e["pci"] = {{"vendor_id", fmt::format("0x{:04x}", d.pci.vendor_id)},
                    {"device_id", fmt::format("0x{:04x}", d.pci.device_id)},
                    {"vendor_name", d.names.vendor_name},
                    {"device_name", d.names.device_name},
                    {"link_gen", jopt(t.link_gen)},
                    {"link_gen_max", jopt(t.link_gen_max)},
                    {"link_width", jopt(t.link_width)},
                    {"link_width_max", jopt(t.link_width_max)}};
        j["devices"].push_back(std::move(e));
    }
    j["processes"] = nlohmann::ordered_json::array();
    for (const auto &p : procs) {
        j["processes"].push_back({{"pid", p.pid},
                                  {"name", p.name},
                                  {"pci_bus_id", p.bus_id},
                                  {"clients", p.clients},
                                  {"device_memory_bytes", p.device_mem},
                                  {"host_memory_bytes", p.host_mem},
                                  {"dma_busy_ns", jopt(p.dma_ns)},
                                  {"compute_busy_ns", jopt(p.compute_ns)}});
    }
    return j.dump(2) + "\n";
}

}  // namespace mtia::smi
