// SPDX-License-Identifier: MIT
#include "smi_mon.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace mtia::smi {

namespace {

struct Column {
    char group;
    const char *name, *unit;
    std::string (*get)(const SmiDevice &d);
};

template <typename T>
std::string opt(const std::optional<T> &v)
{
    return v ? fmt::format("{}", *v) : "-";
}

std::string whole(const std::optional<double> &v) { return v ? fmt::format("{:.0f}", *v) : "-"; }

std::string none(const SmiDevice &) { return "-"; }

const std::vector<Column> kColumns = {
    {'p', "pwr", "W", [](const SmiDevice &d) { return whole(d.tel.power_w); }},
    {'p', "gtemp", "C", [](const SmiDevice &d) { return whole(d.tel.temp_c); }},
    {'p', "mtemp", "C", none},  // no memory temperature sensor
    {'u', "sm", "%", [](const SmiDevice &d) { return opt(d.tel.util_pe); }},
    {'u', "mem", "%", [](const SmiDevice &d) { return opt(d.tel.util_dma); }},
    {'u', "enc", "%", none},  // no video engines
    {'u', "dec", "%", none},
    {'c', "mclk", "MHz", [](const SmiDevice &d) { return opt(d.tel.clock_mhz); }},  // the one clock
    {'c', "pclk", "MHz", [](const SmiDevice &d) { return opt(d.tel.clock_mhz); }},
    {'m', "fb", "MB",
     [](const SmiDevice &d) { return d.tel.mem_used ? fmt::format("{}", *d.tel.mem_used >> 20) : "-"; }},
    {'m', "bar1", "MB", none},
    {'e', "sbecc", "errs", [](const SmiDevice &d) { return opt(d.tel.ecc_corrected); }},
    {'e', "dbecc", "errs", [](const SmiDevice &d) { return opt(d.tel.ecc_uncorrected); }},
    {'e', "pci", "errs", none},
};

std::string line(const std::string &first, const std::vector<std::string> &cells)
{
    std::string s = fmt::format("{:>5}", first);
    for (const auto &c : cells) s += fmt::format(" {:>5}", c);
    return s + "\n";
}

template <typename F>
std::vector<std::string> cells(const std::string &groups, F f)
{
    std::vector<std::string> out;
    for (char g : groups) {
        for (const auto &c : kColumns) {
            if (c.group == g) out.push_back(f(c));
        }
    }
    return out;
}

// Busy percent of @now - @before over @interval_s.
std::string busy(const std::optional<uint64_t> &now, const std::optional<uint64_t> &before, double interval_s)
{
    if (!now || !before || *now < *before || interval_s <= 0) return "-";
    double pct = static_cast<double>(*now - *before) / (interval_s * 1e9) * 100.0;
    return fmt::format("{:.0f}", std::min(100.0, pct));
}

}  // namespace

std::string dmon_groups(const std::string &spec)
{
    std::string out;
    for (char g : spec.empty() ? std::string("puc") : spec) {
        if (std::string("pucme").find(g) == std::string::npos) {
            throw std::invalid_argument(fmt::format("unknown dmon metric group '{}' (p, u, c, m, e)", g));
        }
        if (out.find(g) == std::string::npos) out += g;
    }
    // nvidia-smi prints the groups in its own order, whatever the order asked.
    std::string ordered;
    for (char g : std::string("pucme")) {
        if (out.find(g) != std::string::npos) ordered += g;
    }
    return ordered;
}

std::string dmon_header(const std::string &groups)
{
    return "#" + line("gpu", cells(groups, [](const Column &c) { return std::string(c.name); })).substr(1) + "#" +
           line("Idx", cells(groups, [](const Column &c) { return std::string(c.unit); })).substr(1);
}

std::string dmon_row(const SmiDevice &d, const std::string &groups)
{
    return line(std::to_string(d.info.index), cells(groups, [&](const Column &c) { return c.get(d); }));
}

std::string pmon_header()
{
    return fmt::format("# {:>3} {:>10} {:>5} {:>5} {:>5} {:>5} {:>5}   {}\n", "gpu", "pid", "type", "sm", "mem", "enc",
                       "dec", "command") +
           fmt::format("# {:>3} {:>10} {:>5} {:>5} {:>5} {:>5} {:>5}   {}\n", "Idx", "#", "C/G", "%", "%", "%", "%",
                       "name");
}

std::string pmon_rows(const std::vector<SmiDevice> &devs, const std::vector<ProcessUsage> &now,
                      const std::vector<ProcessUsage> &prev, double interval_s)
{
    std::string out;
    auto row = [&](int idx, const std::string &pid, const std::string &type, const std::string &sm,
                   const std::string &mem, const std::string &name) {
        out +=
            fmt::format("  {:>3} {:>10} {:>5} {:>5} {:>5} {:>5} {:>5}   {}\n", idx, pid, type, sm, mem, "-", "-", name);
    };
    for (const auto &d : devs) {
        bool any = false;
        for (const auto &p : now) {
            if (p.bus_id != d.info.pci_bus_id) continue;
            any = true;
            const ProcessUsage *before = nullptr;
            for (const auto &q : prev) {
                if (q.pid == p.pid && q.bus_id == p.bus_id) before = &q;
            }
            row(d.info.index, std::to_string(p.pid), "C",
                before ? busy(p.compute_ns, before->compute_ns, interval_s) : "-",
                before ? busy(p.dma_ns, before->dma_ns, interval_s) : "-", p.name);
        }
        if (!any) row(d.info.index, "-", "-", "-", "-", "-");
    }
    return out;
}

}  // namespace mtia::smi
