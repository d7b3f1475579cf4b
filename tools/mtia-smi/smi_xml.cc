// SPDX-License-Identifier: MIT
#include "smi_xml.h"

#include <fmt/format.h>

#include "smi_fields.h"
#include "smi_format.h"

namespace mtia::smi {

namespace {

std::string escape(const std::string &s)
{
    std::string out;
    for (char c : s) {
        switch (c) {
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '&':
                out += "&amp;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

// Builds the document: open/close elements, leaves with text, tab indented.
class Xml {
public:
    void open(const std::string &tag, const std::string &attrs = "")
    {
        out_ += std::string(depth_++, '\t') + "<" + tag + attrs + ">\n";
    }
    void close(const std::string &tag) { out_ += std::string(--depth_, '\t') + "</" + tag + ">\n"; }
    void leaf(const std::string &tag, const std::string &text)
    {
        out_ += std::string(depth_, '\t') + "<" + tag + ">" + escape(text) + "</" + tag + ">\n";
    }
    std::string &str() { return out_; }

private:
    std::string out_;
    int depth_ = 0;
};

// A field's value as nvidia-smi's XML shows it: with its unit, "N/A" if none.
std::string val(const SmiDevice &d, const char *field)
{
    for (const auto &f : all_fields()) {
        if (f.name != field) continue;
        std::string s = format_value(f.get(d, ""), f.unit, true);
        return s == "[N/A]" ? "N/A" : s;
    }
    return "N/A";
}

template <typename T>
std::string opt(const std::optional<T> &v, const char *suffix = "")
{
    return v ? fmt::format("{}{}", *v, suffix) : "N/A";
}

void gpu(Xml &x, const SmiDevice &d, const std::vector<ProcessUsage> &procs)
{
    const auto &t = d.tel;
    x.open("gpu", " id=\"" + escape(d.info.pci_bus_id) + "\"");
    x.leaf("product_name", d.info.name);
    x.leaf("serial", t.serial.empty() ? "N/A" : t.serial);
    x.leaf("uuid", d.uuid.empty() ? "N/A" : d.uuid);
    x.leaf("minor_number", std::to_string(d.info.index));
    x.leaf("device_node", d.info.node);
    x.leaf("vbios_version", t.fw_version.empty() ? "N/A" : t.fw_version);
    x.leaf("firmware_status", t.fw_status.empty() ? "N/A" : t.fw_status);
    x.leaf("reset_count", opt(t.reset_count));
    x.open("pci");
    x.leaf("pci_bus", fmt::format("{:02X}", d.pci.bus));
    x.leaf("pci_device", fmt::format("{:02X}", d.pci.device));
    x.leaf("pci_domain", fmt::format("{:04X}", d.pci.domain));
    x.leaf("pci_device_id", fmt::format("{:04X}{:04X}", d.pci.device_id, d.pci.vendor_id));
    x.leaf("pci_bus_id", d.info.pci_bus_id);
    x.open("pci_gpu_link_info");
    x.open("pcie_gen");
    x.leaf("max_link_gen", opt(t.link_gen_max));
    x.leaf("current_link_gen", opt(t.link_gen));
    x.close("pcie_gen");
    x.open("link_widths");
    x.leaf("max_link_width", opt(t.link_width_max, "x"));
    x.leaf("current_link_width", opt(t.link_width, "x"));
    x.close("link_widths");
    x.close("pci_gpu_link_info");
    x.close("pci");
    x.leaf("performance_state", val(d, "pstate"));
    x.open("clocks_throttle_reasons");
    for (const char *r : {"gpu_idle", "sw_power_cap", "hw_slowdown", "hw_thermal_slowdown", "sw_thermal_slowdown"}) {
        x.leaf(std::string("clocks_throttle_reason_") + r,
               val(d, (std::string("clocks_throttle_reasons.") + r).c_str()));
    }
    x.close("clocks_throttle_reasons");
    x.open("fb_memory_usage");
    x.leaf("total", val(d, "memory.total"));
    x.leaf("reserved", val(d, "memory.reserved"));
    x.leaf("used", val(d, "memory.used"));
    x.leaf("free", val(d, "memory.free"));
    x.close("fb_memory_usage");
    x.open("utilization");
    x.leaf("gpu_util", val(d, "utilization.gpu"));
    x.leaf("memory_util", val(d, "utilization.memory"));
    x.leaf("control_core_util", val(d, "utilization.cc"));
    x.close("utilization");
    x.open("ecc_errors");
    x.open("volatile");
    x.leaf("total_corrected", opt(t.ecc_corrected));
    x.leaf("total_uncorrected", opt(t.ecc_uncorrected));
    x.close("volatile");
    x.open("aggregate");
    x.leaf("total_corrected", opt(t.ecc_corrected_aggregate));
    x.leaf("total_uncorrected", opt(t.ecc_uncorrected_aggregate));
    x.close("aggregate");
    x.close("ecc_errors");
    x.open("temperature");
    x.leaf("gpu_temp", t.temp_c ? fmt::format("{:.0f} C", *t.temp_c) : "N/A");
    x.leaf("gpu_temp_max_threshold", t.temp_shutdown_c ? fmt::format("{:.0f} C", *t.temp_shutdown_c) : "N/A");
    x.leaf("gpu_temp_slow_threshold", t.temp_slowdown_c ? fmt::format("{:.0f} C", *t.temp_slowdown_c) : "N/A");
    x.close("temperature");
    x.open("power_readings");
    x.leaf("power_state", val(d, "pstate"));
    x.leaf("power_draw", val(d, "power.draw"));
    x.leaf("average_power_draw", val(d, "power.draw.average"));
    x.leaf("current_power_limit", val(d, "power.limit"));
    x.leaf("default_power_limit", val(d, "power.default_limit"));
    x.leaf("min_power_limit", val(d, "power.min_limit"));
    x.leaf("max_power_limit", val(d, "power.max_limit"));
    x.leaf("energy_consumption", val(d, "energy.consumption"));
    x.close("power_readings");
    for (const char *which : {"clocks", "max_clocks"}) {
        x.open(which);
        const char *f = which[0] == 'c' ? "clocks.current" : "clocks.max";
        for (const char *c : {"graphics_clock", "sm_clock", "mem_clock"}) x.leaf(c, val(d, f));
        x.close(which);
    }
    x.open("processes");
    for (const auto &p : procs) {
        if (p.bus_id != d.info.pci_bus_id) continue;
        x.open("process_info");
        x.leaf("pid", std::to_string(p.pid));
        x.leaf("type", "C");
        x.leaf("process_name", p.name);
        x.leaf("used_memory", format_bytes_mib(p.device_mem));
        x.close("process_info");
    }
    x.close("processes");
    x.close("gpu");
}

}  // namespace

std::string format_xml(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs,
                       const std::string &timestamp)
{
    Xml x;
    x.str() = "<?xml version=\"1.0\" ?>\n<!DOCTYPE mtia_smi_log SYSTEM \"mtia_smi_log.dtd\">\n";
    x.open("mtia_smi_log");
    x.leaf("timestamp", timestamp);
    x.leaf("driver_version", devs.empty() ? "N/A" : devs.front().info.driver_version);
    x.leaf("mtia_smi_version",
           fmt::format("{}.{}.{}", MTIA_RUNTIME_VERSION_MAJOR, MTIA_RUNTIME_VERSION_MINOR, MTIA_RUNTIME_VERSION_PATCH));
    x.leaf("attached_gpus", std::to_string(devs.empty() ? 0 : devs.front().count));  // all, -i or not
    for (const auto &d : devs) gpu(x, d, procs);
    x.close("mtia_smi_log");
    return x.str();
}

}  // namespace mtia::smi
