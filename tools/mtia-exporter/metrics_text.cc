// SPDX-License-Identifier: MIT
// Prometheus exposition of mtia telemetry (see metrics_text.h).
#include "metrics_text.h"

#include <cinttypes>
#include <cstdio>
#include <functional>
#include <optional>

namespace mtia::exporter {

namespace {

// A number as the format writes it: integers exactly, others in full.
std::string num(double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

std::string device_labels(const mgmt::Status &s)
{
    return "device=\"" + std::to_string(s.info.index) + "\",uuid=\"" + escape_label(s.uuid) + "\",pci_bus_id=\"" +
           escape_label(s.pci.bus_id) + "\",model=\"" + escape_label(s.info.name) + "\"";
}

// One family: HELP, TYPE, then one line per (device, extra labels, value).
class Family {
public:
    Family(std::string *out, const char *name, const char *type, const char *help) : out_(out), name_(name)
    {
        *out_ += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    }
    void add(const std::string &labels, std::optional<double> v)
    {
        if (v) *out_ += name_ + (labels.empty() ? "" : "{" + labels + "}") + " " + num(*v) + "\n";
    }

private:
    std::string *out_;
    std::string name_;
};

template <typename T>
std::optional<double> opt(const std::optional<T> &v, double scale = 1.0)
{
    return v ? std::optional<double>(double(*v) * scale) : std::nullopt;
}

}  // namespace

std::string escape_label(const std::string &v)
{
    std::string r;
    for (char c : v) {
        if (c == '\\')
            r += "\\\\";
        else if (c == '"')
            r += "\\\"";
        else if (c == '\n')
            r += "\\n";
        else
            r += c;
    }
    return r;
}

std::string render(const std::vector<DeviceSample> &devices, bool with_processes, unsigned scrape_errors)
{
    std::string out;
    // A family whose series are one value per device.
    auto per_device = [&](const char *name, const char *type, const char *help,
                          const std::function<std::optional<double>(const mgmt::Status &)> &value) {
        Family f(&out, name, type, help);
        for (const auto &d : devices) f.add(device_labels(d.status), value(d.status));
    };
    {
        Family f(&out, "mtia_device_info", "gauge",
                 "Always 1: the device's serial, firmware and driver versions and firmware state as labels.");
        for (const auto &d : devices) {
            const mgmt::Status &s = d.status;
            f.add(device_labels(s) + ",serial=\"" + escape_label(s.tel.serial) + "\",firmware_version=\"" +
                      escape_label(s.tel.fw_version) + "\",driver_version=\"" + escape_label(s.info.driver_version) +
                      "\",firmware_status=\"" + escape_label(s.tel.fw_status) + "\"",
                  1.0);
        }
    }
    per_device("mtia_firmware_ready", "gauge", "1 while the firmware is up and serving the driver, else 0.",
               [](const mgmt::Status &s) { return s.tel.fw_status == "ready" ? 1.0 : 0.0; });
    per_device("mtia_temperature_celsius", "gauge", "Die temperature.",
               [](const mgmt::Status &s) { return s.tel.temp_c; });
    per_device("mtia_temperature_slowdown_celsius", "gauge", "Temperature at which the clock is throttled.",
               [](const mgmt::Status &s) { return s.tel.temp_slowdown_c; });
    per_device("mtia_temperature_shutdown_celsius", "gauge", "Temperature at which the device shuts down.",
               [](const mgmt::Status &s) { return s.tel.temp_shutdown_c; });
    per_device("mtia_power_watts", "gauge", "Board power draw (the latest 100 ms sample).",
               [](const mgmt::Status &s) { return s.tel.power_w; });
    per_device("mtia_power_average_watts", "gauge", "Board power draw averaged over the last second.",
               [](const mgmt::Status &s) { return s.tel.power_avg_w; });
    per_device("mtia_power_limit_watts", "gauge", "Enforced power limit.",
               [](const mgmt::Status &s) { return s.tel.power_cap_w; });
    per_device("mtia_power_limit_min_watts", "gauge", "Lowest power limit that can be set.",
               [](const mgmt::Status &s) { return s.tel.power_cap_min_w; });
    per_device("mtia_power_limit_max_watts", "gauge", "Highest power limit that can be set.",
               [](const mgmt::Status &s) { return s.tel.power_cap_max_w; });
    per_device("mtia_energy_joules_total", "counter", "Energy consumed since the device powered on.",
               [](const mgmt::Status &s) { return s.tel.energy_j; });
    per_device("mtia_clock_hertz", "gauge", "Core clock now.",
               [](const mgmt::Status &s) { return opt(s.tel.clock_mhz, 1e6); });
    per_device("mtia_clock_max_hertz", "gauge", "Highest core clock.",
               [](const mgmt::Status &s) { return opt(s.tel.clock_max_mhz, 1e6); });
    per_device("mtia_throttle_reasons", "gauge",
               "Why the clock is below its maximum, as NVML's clocks throttle reason bits (0: not throttled).",
               [](const mgmt::Status &s) { return opt(s.tel.throttle_mask); });
    {
        Family f(&out, "mtia_engine_utilization_ratio", "gauge",
                 "Share of the last second each engine was busy (pe: the PE grid, dma, cc: the control core).");
        for (const auto &d : devices) {
            const std::string l = device_labels(d.status);
            f.add(l + ",engine=\"pe\"", opt(d.status.tel.util_pe, 0.01));
            f.add(l + ",engine=\"dma\"", opt(d.status.tel.util_dma, 0.01));
            f.add(l + ",engine=\"cc\"", opt(d.status.tel.util_cc, 0.01));
        }
    }
    per_device("mtia_memory_used_bytes", "gauge", "Device memory in buffers of any process.",
               [](const mgmt::Status &s) { return opt(s.tel.mem_used); });
    per_device("mtia_memory_total_bytes", "gauge", "Device memory buffers can take.",
               [](const mgmt::Status &s) { return opt(s.tel.mem_total); });
    {
        Family f(&out, "mtia_ecc_errors_total", "counter",
                 "Memory ECC errors since power-on or the last clear (volatile), by type.");
        for (const auto &d : devices) {
            const std::string l = device_labels(d.status);
            f.add(l + ",type=\"corrected\"", opt(d.status.tel.ecc_corrected));
            f.add(l + ",type=\"uncorrected\"", opt(d.status.tel.ecc_uncorrected));
        }
    }
    {
        Family f(&out, "mtia_ecc_errors_aggregate_total", "counter",
                 "Memory ECC errors over the board's life (kept in its infoROM; aggregate), by type.");
        for (const auto &d : devices) {
            const std::string l = device_labels(d.status);
            f.add(l + ",type=\"corrected\"", opt(d.status.tel.ecc_corrected_aggregate));
            f.add(l + ",type=\"uncorrected\"", opt(d.status.tel.ecc_uncorrected_aggregate));
        }
    }
    per_device("mtia_resets_total", "counter", "Device resets since the driver loaded.",
               [](const mgmt::Status &s) { return opt(s.tel.reset_count); });
    per_device("mtia_pcie_link_generation", "gauge", "PCIe link generation now.",
               [](const mgmt::Status &s) { return opt(s.pci.link_gen); });
    per_device("mtia_pcie_link_width", "gauge", "PCIe link width now, lanes.",
               [](const mgmt::Status &s) { return opt(s.pci.link_width); });
    if (with_processes) {
        Family mem(&out, "mtia_process_memory_bytes", "gauge", "Device memory in a process's buffers.");
        for (const auto &d : devices)
            for (const auto &p : d.processes)
                mem.add(device_labels(d.status) + ",pid=\"" + std::to_string(p.pid) + "\",process_name=\"" +
                            escape_label(p.name) + "\"",
                        double(p.device_mem));
        Family eng(&out, "mtia_process_engine_seconds_total", "counter",
                   "Engine time of a process's jobs submitted through the driver, by engine.");
        for (const auto &d : devices)
            for (const auto &p : d.processes) {
                const std::string l = device_labels(d.status) + ",pid=\"" + std::to_string(p.pid) +
                                      "\",process_name=\"" + escape_label(p.name) + "\"";
                eng.add(l + ",engine=\"compute\"", opt(p.compute_ns, 1e-9));
                eng.add(l + ",engine=\"dma\"", opt(p.dma_ns, 1e-9));
            }
    }
    Family dev(&out, "mtia_exporter_devices", "gauge", "Devices read at this scrape.");
    dev.add("", double(devices.size()));
    Family err(&out, "mtia_exporter_scrape_errors", "gauge", "Devices that could not be read at this scrape.");
    err.add("", double(scrape_errors));
    return out;
}

}  // namespace mtia::exporter
