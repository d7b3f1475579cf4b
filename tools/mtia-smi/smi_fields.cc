// SPDX-License-Identifier: MIT
#include "smi_fields.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>

#include "smi_format.h"

namespace mtia::smi {

namespace {

template <typename T>
Value num(const std::optional<T> &v)
{
    Value out;
    if (v) {
        out.kind = Value::Kind::kInt;
        out.i = static_cast<int64_t>(*v);
    }
    return out;
}

Value num(int64_t v) { return num(std::optional<int64_t>(v)); }

Value real(const std::optional<double> &v, int precision)
{
    Value out;
    if (v) {
        out.kind = Value::Kind::kReal;
        out.d = *v;
        out.precision = precision;
    }
    return out;
}

Value text(const std::string &s)
{
    Value out;
    if (!s.empty()) {
        out.kind = Value::Kind::kText;
        out.s = s;
    }
    return out;
}

std::optional<int64_t> mib(const std::optional<uint64_t> &bytes)
{
    return bytes ? std::optional<int64_t>(static_cast<int64_t>(*bytes >> 20)) : std::nullopt;
}

std::optional<uint64_t> free_bytes(const Telemetry &t)
{
    if (!t.mem_total || !t.mem_used) return std::nullopt;
    return *t.mem_total - std::min(*t.mem_used, *t.mem_total);
}

// Physical device memory the driver keeps for firmware (not allocatable).
std::optional<uint64_t> reserved_bytes(const SmiDevice &d)
{
    if (!d.tel.mem_total || d.info.devmem_bytes < *d.tel.mem_total) return std::nullopt;
    return d.info.devmem_bytes - *d.tel.mem_total;
}

using D = const SmiDevice &;
using TS = const std::string &;

std::string hex(uint64_t v, int digits) { return fmt::format("0x{:0{}X}", v, digits); }

// "Active" / "Not Active" for one throttle reason bit, as nvidia-smi.
Value reason(const SmiDevice &d, uint64_t bit)
{
    if (!d.tel.throttle_mask) return {};
    return text(*d.tel.throttle_mask & bit ? "Active" : "Not Active");
}

// nvidia-smi's performance state: P0 at the maximum clock, P1 below it (the
// device has one clock and no idle states).
Value pstate(const SmiDevice &d)
{
    if (!d.tel.clock_mhz || !d.tel.clock_max_mhz) return {};
    return text(*d.tel.clock_mhz >= *d.tel.clock_max_mhz ? "P0" : "P1");
}

const std::vector<Field> kFields = {
    {"timestamp", "", "time of the query", [](D, TS ts) { return text(ts); }},
    {"index", "", "device index (accel node order)", [](D d, TS) { return num(d.info.index); }},
    {"name", "", "product name", [](D d, TS) { return text(d.info.name); }},
    {"pci.bus_id", "", "PCI domain:bus:device.function", [](D d, TS) { return text(d.info.pci_bus_id); }},
    {"serial", "", "board serial number", [](D d, TS) { return text(d.tel.serial); }},
    {"node", "", "device node", [](D d, TS) { return text(d.info.node); }},
    {"driver_version", "", "mtia driver version", [](D d, TS) { return text(d.info.driver_version); }},
    {"firmware.version", "", "running control-core firmware",
     [](D d, TS) { return text(d.info.fw_version ? format_fw_version(d.info.fw_version) : ""); }},
    {"firmware.status", "", "firmware state as the driver sees it: ready, recovering, dead...",
     [](D d, TS) { return text(d.tel.fw_status); }},
    {"reset.count", "", "device resets by the driver since it loaded", [](D d, TS) { return num(d.tel.reset_count); }},
    {"chip_id", "", "chip id register", [](D d, TS) { return text(fmt::format("0x{:04x}", d.info.chip_id)); }},
    {"pe.grid", "", "processing-element grid, rows x columns",
     [](D d, TS) { return text(fmt::format("{}x{}", d.info.pe_rows, d.info.pe_cols)); }},
    {"temperature.die", "C", "die temperature", [](D d, TS) { return real(d.tel.temp_c, 1); }},
    {"temperature.slowdown", "C", "temperature above which the clock throttles",
     [](D d, TS) { return real(d.tel.temp_slowdown_c, 1); }},
    {"temperature.shutdown", "C", "critical temperature", [](D d, TS) { return real(d.tel.temp_shutdown_c, 1); }},
    {"power.draw", "W", "board power now (100 ms sample)", [](D d, TS) { return real(d.tel.power_w, 2); }},
    {"power.draw.average", "W", "mean board power over the last second",
     [](D d, TS) { return real(d.tel.power_avg_w, 2); }},
    {"power.limit", "W", "power limit (the clock throttles to stay below it)",
     [](D d, TS) { return real(d.tel.power_cap_w, 2); }},
    {"power.min_limit", "W", "lowest settable power limit", [](D d, TS) { return real(d.tel.power_cap_min_w, 2); }},
    {"power.max_limit", "W", "highest settable power limit (TDP)",
     [](D d, TS) { return real(d.tel.power_cap_max_w, 2); }},
    {"energy.consumption", "J", "energy since the board powered on", [](D d, TS) { return real(d.tel.energy_j, 3); }},
    {"utilization.pe", "%", "PE grid busy, last second", [](D d, TS) { return num(d.tel.util_pe); }},
    {"utilization.dma", "%", "data engine busy, last second", [](D d, TS) { return num(d.tel.util_dma); }},
    {"utilization.cc", "%", "control core busy (not waiting for interrupts), last second",
     [](D d, TS) { return num(d.tel.util_cc); }},
    {"clocks.current", "MHz", "core clock now", [](D d, TS) { return num(d.tel.clock_mhz); }},
    {"clocks.max", "MHz", "maximum core clock", [](D d, TS) { return num(d.tel.clock_max_mhz); }},
    {"clocks.min", "MHz", "lowest clock throttling goes to", [](D d, TS) { return num(d.tel.clock_min_mhz); }},
    {"memory.total", "MiB", "device memory for buffers", [](D d, TS) { return num(mib(d.tel.mem_total)); }},
    {"memory.used", "MiB", "device memory in buffers", [](D d, TS) { return num(mib(d.tel.mem_used)); }},
    {"memory.free", "MiB", "device memory free for buffers", [](D d, TS) { return num(mib(free_bytes(d.tel))); }},
    {"memory.reserved", "MiB", "device memory kept for firmware", [](D d, TS) { return num(mib(reserved_bytes(d))); }},
    {"sram.total", "MiB", "on-chip SRAM", [](D d, TS) { return num(mib(std::optional<uint64_t>(d.info.sram_bytes))); }},
    {"ecc.errors.corrected", "", "corrected ECC errors since power-on or the last clear",
     [](D d, TS) { return num(d.tel.ecc_corrected); }},
    {"ecc.errors.uncorrected", "", "uncorrected ECC errors since power-on or the last clear",
     [](D d, TS) { return num(d.tel.ecc_uncorrected); }},
    {"pcie.link.gen.current", "", "PCIe generation of the link now", [](D d, TS) { return num(d.tel.link_gen); }},
    {"pcie.link.gen.max", "", "highest PCIe generation of the link", [](D d, TS) { return num(d.tel.link_gen_max); }},
    {"pcie.link.width.current", "", "PCIe lanes now", [](D d, TS) { return num(d.tel.link_width); }},
    {"pcie.link.width.max", "", "most PCIe lanes", [](D d, TS) { return num(d.tel.link_width_max); }},
    {"throttle_reasons", "", "why the clock is below its maximum, in words: none, power, thermal",
     [](D d, TS) { return text(d.tel.throttle); }},
    // nvidia-smi's names (docs/telemetry.md maps them to the device's).
    {"count", "", "number of devices", [](D d, TS) { return num(static_cast<int64_t>(d.count)); }},
    {"uuid", "", "device UUID, derived from the serial", [](D d, TS) { return text(d.uuid); }},
    {"pci.domain", "", "PCI domain, hex", [](D d, TS) { return text(hex(d.pci.domain, 4)); }},
    {"pci.bus", "", "PCI bus, hex", [](D d, TS) { return text(hex(d.pci.bus, 2)); }},
    {"pci.device", "", "PCI device, hex", [](D d, TS) { return text(hex(d.pci.device, 2)); }},
    {"pci.device_id", "", "PCI device id and vendor id, hex",
     [](D d, TS) { return text(hex((uint64_t(d.pci.device_id) << 16) | d.pci.vendor_id, 8)); }},
    {"vbios_version", "", "firmware version (the device's VBIOS analogue)",
     [](D d, TS) { return text(d.tel.fw_version); }},
    {"temperature.gpu", "", "die temperature, whole degrees C", [](D d, TS) { return real(d.tel.temp_c, 0); }},
    {"utilization.gpu", "%", "PE grid busy, last second (utilization.pe)", [](D d, TS) { return num(d.tel.util_pe); }},
    {"utilization.memory", "%", "data engine busy, last second (utilization.dma)",
     [](D d, TS) { return num(d.tel.util_dma); }},
    {"power.draw.instant", "W", "board power now (power.draw)", [](D d, TS) { return real(d.tel.power_w, 2); }},
    {"enforced.power.limit", "W", "power limit in force (power.limit)",
     [](D d, TS) { return real(d.tel.power_cap_w, 2); }},
    {"power.default_limit", "W", "power limit after a reset (the highest, power.max_limit)",
     [](D d, TS) { return real(d.tel.power_cap_max_w, 2); }},
    {"clocks.current.graphics", "MHz", "core clock now (the device's one clock)",
     [](D d, TS) { return num(d.tel.clock_mhz); }},
    {"clocks.gr", "MHz", "core clock now (the device's one clock)", [](D d, TS) { return num(d.tel.clock_mhz); }},
    {"clocks.current.sm", "MHz", "core clock now (the device's one clock)",
     [](D d, TS) { return num(d.tel.clock_mhz); }},
    {"clocks.sm", "MHz", "core clock now (the device's one clock)", [](D d, TS) { return num(d.tel.clock_mhz); }},
    {"clocks.current.memory", "MHz", "core clock now (the device's one clock)",
     [](D d, TS) { return num(d.tel.clock_mhz); }},
    {"clocks.mem", "MHz", "core clock now (the device's one clock)", [](D d, TS) { return num(d.tel.clock_mhz); }},
    {"clocks.max.graphics", "MHz", "maximum core clock", [](D d, TS) { return num(d.tel.clock_max_mhz); }},
    {"clocks.max.gr", "MHz", "maximum core clock", [](D d, TS) { return num(d.tel.clock_max_mhz); }},
    {"clocks.max.sm", "MHz", "maximum core clock", [](D d, TS) { return num(d.tel.clock_max_mhz); }},
    {"clocks.max.memory", "MHz", "maximum core clock", [](D d, TS) { return num(d.tel.clock_max_mhz); }},
    {"clocks.max.mem", "MHz", "maximum core clock", [](D d, TS) { return num(d.tel.clock_max_mhz); }},
    {"clocks_throttle_reasons.supported", "", "throttle reasons the device can report, NVML bit mask",
     [](D, TS) {
         return text(hex(
             mtia::mgmt::kThrottleSwPowerCap | mtia::mgmt::kThrottleHwSlowdown | mtia::mgmt::kThrottleHwThermalSlowdown,
             16));
     }},
    {"clocks_throttle_reasons.active", "", "why the clock is below its maximum, NVML bit mask",
     [](D d, TS) { return d.tel.throttle_mask ? text(hex(*d.tel.throttle_mask, 16)) : Value{}; }},
    {"clocks_throttle_reasons.gpu_idle", "", "never: the clock does not idle down",
     [](D d, TS) { return reason(d, 0x1); }},
    {"clocks_throttle_reasons.sw_power_cap", "", "held below the power limit",
     [](D d, TS) { return reason(d, mtia::mgmt::kThrottleSwPowerCap); }},
    {"clocks_throttle_reasons.hw_slowdown", "", "hardware slowdown (with thermal)",
     [](D d, TS) { return reason(d, mtia::mgmt::kThrottleHwSlowdown); }},
    {"clocks_throttle_reasons.hw_thermal_slowdown", "", "above the slowdown temperature",
     [](D d, TS) { return reason(d, mtia::mgmt::kThrottleHwThermalSlowdown); }},
    {"clocks_throttle_reasons.sw_thermal_slowdown", "", "never: thermal throttling is the hardware's",
     [](D d, TS) { return reason(d, 0x20); }},
    {"ecc.errors.corrected.volatile.total", "", "corrected ECC errors since power-on or the last clear (-p 0)",
     [](D d, TS) { return num(d.tel.ecc_corrected); }},
    {"ecc.errors.uncorrected.volatile.total", "", "uncorrected ECC errors since power-on or the last clear (-p 0)",
     [](D d, TS) { return num(d.tel.ecc_uncorrected); }},
    {"ecc.errors.corrected.aggregate.total", "", "corrected ECC errors over the board's life (its infoROM; -p 1)",
     [](D d, TS) { return num(d.tel.ecc_corrected_aggregate); }},
    {"ecc.errors.uncorrected.aggregate.total", "", "uncorrected ECC errors over the board's life (its infoROM; -p 1)",
     [](D d, TS) { return num(d.tel.ecc_uncorrected_aggregate); }},
    {"pstate", "", "performance state: P0 at the maximum clock, P1 throttled", [](D d, TS) { return pstate(d); }},
};

std::string trim(const std::string &s)
{
    size_t b = s.find_first_not_of(" \t"), e = s.find_last_not_of(" \t");
    return b == std::string::npos ? std::string{} : s.substr(b, e - b + 1);
}

std::vector<std::string> split_commas(const std::string &s)
{
    std::vector<std::string> out;
    size_t start = 0;
    for (;;) {
        size_t comma = s.find(',', start);
        out.push_back(trim(s.substr(start, comma == std::string::npos ? comma : comma - start)));
        if (comma == std::string::npos) return out;
        start = comma + 1;
    }
}

// A real as CSV shows it (the same rounding), so the two formats agree.
double rounded(const Value &v) { return std::stod(fmt::format("{:.{}f}", v.d, v.precision)); }

std::string csv_quote(const std::string &s)
{
    if (s.find_first_of(",\"\n") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
}

// Names in @list looked up in @table, in order (duplicates kept).
template <typename F>
std::vector<const F *> parse_list(const std::vector<F> &table, const std::string &list)
{
    std::vector<const F *> out;
    for (const auto &name : split_commas(list)) {
        if (name.empty()) continue;  // "a,,b" and a trailing comma are harmless
        auto it = std::find_if(table.begin(), table.end(), [&](const F &f) { return f.name == name; });
        if (it == table.end()) throw UnknownField(name);
        out.push_back(&*it);
    }
    if (out.empty()) throw std::invalid_argument("no fields to query");
    return out;
}

using P = const ProcessUsage &;
using DP = const SmiDevice *;

// --query-compute-apps fields, nvidia-smi's names; the device is nullptr
// if it is not among those shown.
const std::vector<AppField> kAppFields = {
    {"timestamp", "timestamp", "", "time of the query", [](P, DP, TS ts) { return text(ts); }},
    {"gpu_name", "gpu_name", "", "product name of the device", [](P, DP d, TS) { return text(d ? d->info.name : ""); }},
    {"gpu_bus_id", "gpu_bus_id", "", "PCI bus id of the device", [](P p, DP, TS) { return text(p.bus_id); }},
    {"gpu_serial", "gpu_serial", "", "serial of the device", [](P, DP d, TS) { return text(d ? d->tel.serial : ""); }},
    {"gpu_uuid", "gpu_uuid", "", "UUID of the device", [](P, DP d, TS) { return text(d ? d->uuid : ""); }},
    {"pid", "pid", "", "process id", [](P p, DP, TS) { return num(static_cast<int64_t>(p.pid)); }},
    {"process_name", "process_name", "", "process name (comm)", [](P p, DP, TS) { return text(p.name); }},
    {"used_memory", "used_gpu_memory", "MiB", "device memory in the process's buffers",
     [](P p, DP, TS) { return num(static_cast<int64_t>(p.device_mem >> 20)); }},
    {"used_gpu_memory", "used_gpu_memory", "MiB", "device memory in the process's buffers",
     [](P p, DP, TS) { return num(static_cast<int64_t>(p.device_mem >> 20)); }},
};

}  // namespace

const std::vector<Field> &all_fields() { return kFields; }
const std::vector<AppField> &all_app_fields() { return kAppFields; }

std::vector<const Field *> parse_field_list(const std::string &list) { return parse_list(kFields, list); }

std::vector<const AppField *> parse_app_field_list(const std::string &list) { return parse_list(kAppFields, list); }

OutputFormat parse_format(const std::string &spec)
{
    OutputFormat f;
    auto words = split_commas(spec);
    if (words[0] == "json" && words.size() == 1) {
        f.json = true;
        return f;
    }
    if (words[0] != "csv") throw std::invalid_argument("unknown format '" + words[0] + "' (csv or json)");
    for (size_t i = 1; i < words.size(); i++) {
        if (words[i] == "noheader") {
            f.header = false;
        } else if (words[i] == "nounits") {
            f.units = false;
        } else {
            throw std::invalid_argument("unknown format option '" + words[i] + "' (noheader, nounits)");
        }
    }
    return f;
}

std::string format_value(const Value &v, const std::string &unit, bool units)
{
    std::string s;
    switch (v.kind) {
        case Value::Kind::kNa:
            return "[N/A]";
        case Value::Kind::kText:
            return csv_quote(v.s);
        case Value::Kind::kInt:
            s = std::to_string(v.i);
            break;
        case Value::Kind::kReal:
            s = fmt::format("{:.{}f}", v.d, v.precision);
            break;
    }
    return units && !unit.empty() ? s + " " + unit : s;
}

std::string format_query_csv(const std::vector<SmiDevice> &devs, const std::vector<const Field *> &fields,
                             const OutputFormat &fmt, const std::string &timestamp)
{
    std::string out;
    auto row = [&](auto cell) {
        for (size_t i = 0; i < fields.size(); i++) out += (i ? ", " : "") + cell(*fields[i]);
        out += "\n";
    };
    if (fmt.header) {
        row([&](const Field &f) { return fmt.units && !f.unit.empty() ? f.name + " [" + f.unit + "]" : f.name; });
    }
    for (const auto &d : devs) {
        row([&](const Field &f) { return format_value(f.get(d, timestamp), f.unit, fmt.units); });
    }
    return out;
}

std::string format_apps_csv(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &procs,
                            const std::vector<const AppField *> &fields, const OutputFormat &fmt,
                            const std::string &timestamp)
{
    std::string out;
    auto row = [&](auto cell) {
        for (size_t i = 0; i < fields.size(); i++) out += (i ? ", " : "") + cell(*fields[i]);
        out += "\n";
    };
    if (fmt.header) {
        row([&](const AppField &f) {
            return fmt.units && !f.unit.empty() ? f.header + " [" + f.unit + "]" : f.header;
        });
    }
    for (const auto &p : procs) {
        const SmiDevice *dev = nullptr;
        for (const auto &d : devs) {
            if (d.info.pci_bus_id == p.bus_id) dev = &d;
        }
        if (!dev) continue;  // a device not selected with -i
        row([&](const AppField &f) { return format_value(f.get(p, dev, timestamp), f.unit, fmt.units); });
    }
    return out;
}

std::string format_help_query_gpu()
{
    std::string out = "List of valid properties to query for the switch \"--query-gpu=\":\n\n";
    for (const auto &f : kFields) {
        out += "\"" + f.name + "\"\n" + f.help + (f.unit.empty() ? "" : " (" + f.unit + ")") + ".\n\n";
    }
    out += "List of valid properties to query for the switch \"--query-compute-apps=\":\n\n";
    for (const auto &f : kAppFields) out += "\"" + f.name + "\"\n" + f.help + ".\n\n";
    return out;
}

std::string format_query_json(const std::vector<SmiDevice> &devs, const std::vector<const Field *> &fields,
                              const std::string &timestamp)
{
    auto out = nlohmann::ordered_json::array();
    for (const auto &d : devs) {
        nlohmann::ordered_json o = nlohmann::ordered_json::object();
        for (const Field *f : fields) {
            Value v = f->get(d, timestamp);
            switch (v.kind) {
                case Value::Kind::kNa:
                    o[f->name] = nullptr;
                    break;
                case Value::Kind::kInt:
                    o[f->name] = v.i;
                    break;
                case Value::Kind::kReal:
                    o[f->name] = rounded(v);
                    break;
                case Value::Kind::kText:
                    o[f->name] = v.s;
                    break;
            }
        }
        out.push_back(std::move(o));
    }
    return out.dump(2) + "\n";
}

std::string format_field_list()
{
    size_t w = 0;
    for (const auto &f : kFields) w = std::max(w, f.name.size());
    std::string out = fmt::format("{:<{}}  {:<5}  {}\n", "FIELD", w, "UNIT", "DESCRIPTION");
    for (const auto &f : kFields) {
        out += fmt::format("{:<{}}  {:<5}  {}\n", f.name, w, f.unit.empty() ? "-" : f.unit, f.help);
    }
    return out;
}

}  // namespace mtia::smi
