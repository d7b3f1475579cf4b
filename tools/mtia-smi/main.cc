// SPDX-License-Identifier: MIT
// mtia-smi: monitors and manages mtia devices, like nvidia-smi. Everything
// is read from sysfs and /proc, so only --reset needs root
// (docs/telemetry.md has the views, fields and an example of each).
//
// Exit codes:
//   0 ok
//   1 usage error or another failure
//   2 no device (none present, or none matches -i)
//   3 mtia PCI device present but the driver is not loaded
//   4 permission denied (--reset as a user other than root)
//   5 unknown --query field or --format
//   6 the device did not come back from --reset
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>
#include <sstream>
#include <thread>

#include "smi_fields.h"
#include "smi_format.h"
#include "smi_proc.h"
#include "smi_sysfs.h"

namespace {

enum Exit { kOk = 0, kError = 1, kNoDevice = 2, kNoDriver = 3, kPermission = 4, kBadField = 5, kResetFailed = 6 };

int fail(int code, const std::string &msg)
{
    std::cerr << "mtia-smi: " << msg << "\n";
    return code;
}

std::string now_string()
{
    char buf[64];
    std::time_t t = std::time(nullptr);
    std::strftime(buf, sizeof(buf), "%Y/%m/%d %H:%M:%S", std::localtime(&t));
    return buf;
}

std::string lower(std::string s)
{
    for (auto &c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

struct Found {
    std::vector<mtia::smi::SmiDevice> devs;
    std::vector<std::string> pci_dirs;  // parallel to devs
};

// Every device the driver drives, read from sysfs.
Found read_devices(const std::vector<std::string> &nodes, const std::vector<mtia::smi::PciFunction> &pci)
{
    mtia::smi::SysfsPaths paths;
    Found f;
    for (size_t i = 0; i < nodes.size(); i++) {
        std::string name = nodes[i].substr(nodes[i].rfind('/') + 1);
        std::string dir = mtia::smi::accel_pci_dir(paths, name);
        if (dir.empty()) continue;  // unbound while we looked
        auto d = mtia::smi::read_sysfs_device(paths, dir, nodes[i], static_cast<int>(i));
        for (const auto &p : pci) {
            if (p.bus_id == d.info.pci_bus_id) d.pci = p;
        }
        f.devs.push_back(std::move(d));
        f.pci_dirs.push_back(dir);
    }
    return f;
}

// -i: indexes, bus ids ("0000:00:03.0" or "00:03.0") or serials, comma
// separated. Returns the positions in @all, or an error message.
std::vector<size_t> select_devices(const Found &all, const std::string &ids, std::string *err)
{
    std::vector<size_t> out;
    std::stringstream in(ids);
    std::string id;
    while (std::getline(in, id, ',')) {
        if (id.empty()) continue;
        bool numeric = std::all_of(id.begin(), id.end(), ::isdigit);
        auto match = [&](const mtia::smi::SmiDevice &d) {
            if (numeric) return std::to_string(d.info.index) == id;
            const std::string &b = d.info.pci_bus_id;
            return lower(id) == b || (b.size() > 5 && lower(id) == b.substr(5)) ||
                   (!d.tel.serial.empty() && lower(id) == lower(d.tel.serial));
        };
        auto it = std::find_if(all.devs.begin(), all.devs.end(), match);
        if (it == all.devs.end()) {
            *err = numeric ? "no device with index " + id + " (" + std::to_string(all.devs.size()) + " present)"
                           : "no device with bus id or serial '" + id + "'";
            return {};
        }
        size_t pos = static_cast<size_t>(it - all.devs.begin());
        if (std::find(out.begin(), out.end(), pos) == out.end()) out.push_back(pos);
    }
    if (out.empty()) *err = "-i names no device";
    return out;
}

int reset(const Found &sel)
{
    if (sel.devs.size() != 1) {
        return fail(kError, "--reset resets one device: choose it with -i");
    }
    const auto &d = sel.devs[0];
    std::string what = "MTIA " + std::to_string(d.info.index) + " (" + d.info.pci_bus_id + ")";
    int err = mtia::smi::sysfs_reset(sel.pci_dirs[0]);
    if (err == EACCES || err == EPERM) {
        return fail(kPermission, what + ": permission denied: resetting a device needs root");
    }
    auto after = mtia::smi::read_sysfs_device(mtia::smi::SysfsPaths{}, sel.pci_dirs[0], d.info.node, d.info.index);
    if (err) {
        return fail(kResetFailed, what + ": reset failed: " + std::strerror(err) + " (firmware " + after.tel.fw_status +
                                      "; see dmesg)");
    }
    std::printf("%s: reset; firmware %s, %u reset(s) since the driver loaded\n", what.c_str(),
                after.tel.fw_status.c_str(), after.tel.reset_count.value_or(0));
    return kOk;
}

}  // namespace

int main(int argc, char **argv)
{
    CLI::App app{"mtia-smi: monitor and manage mtia accelerators"};
    bool json = false, list = false, version = false, list_fields = false, do_reset = false, watch = false;
    std::string ids, format_spec = "csv", query_fields;
    double loop_s = 0;
    unsigned count = 0;
    auto *q = app.add_option("-q,--query", query_fields,
                             "without a value: every property of each device; "
                             "--query=FIELD,...: those fields (see --list-fields)")
                  ->expected(0, 1);
    auto *qg = app.add_option("--query-gpu", query_fields, "same as --query=FIELD,...");
    app.add_option("--format", format_spec, "for --query=FIELDS: csv[,noheader][,nounits] or json");
    app.add_flag("--list-fields", list_fields, "list the --query fields and exit");
    app.add_flag("--json", json, "every property of each device and the processes, as JSON");
    app.add_flag("-L,--list-devices", list, "one line per device");
    app.add_option("-i,--id", ids, "only these devices: index, bus id or serial, comma separated");
    app.add_option("-l,--loop", loop_s, "repeat every SECONDS until interrupted")->check(CLI::PositiveNumber);
    app.add_flag("--watch", watch, "refresh the view in place every second (-l 1 on a clear screen)");
    app.add_option("--count", count, "with -l/--watch: stop after N refreshes")->check(CLI::PositiveNumber);
    app.add_flag("-r,--reset", do_reset, "reset the device chosen with -i (root)");
    app.add_flag("--version", version, "print the version and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e) == 0 ? kOk : kError;  // --help is not an error
    }

    if (version) {
        int ma, mi, pa;
        mtia_runtime_version(&ma, &mi, &pa);
        std::printf("mtia-smi %d.%d.%d\n", ma, mi, pa);
        return kOk;
    }
    if (list_fields) {
        std::fputs(mtia::smi::format_field_list().c_str(), stdout);
        return kOk;
    }
    // Fields and format are checked before looking for devices.
    bool field_query = (q->count() && !query_fields.empty()) || qg->count();
    std::vector<const mtia::smi::Field *> fields;
    mtia::smi::OutputFormat fmt;
    if (field_query) {
        try {
            fields = mtia::smi::parse_field_list(query_fields);
            fmt = mtia::smi::parse_format(format_spec);
        } catch (const std::invalid_argument &e) {
            return fail(kBadField, e.what());
        }
    }
    if (watch && loop_s == 0) loop_s = 1;

    std::vector<std::string> nodes;
    try {
        nodes = mtia::device_nodes();
    } catch (const std::exception &e) {
        return fail(kError, e.what());
    }
    if (nodes.empty()) {
        auto pci = mtia::smi::scan_mtia_pci();
        if (!pci.empty()) {
            return fail(kNoDriver, std::to_string(pci.size()) +
                                       " MTIA PCI device(s) found but the mtia driver is not "
                                       "loaded (no node in " +
                                       mtia::accel_dir() + ")");
        }
        return fail(kNoDevice, "no MTIA devices found");
    }
    const bool root = geteuid() == 0;
    // libpci (vendor names from pci.ids) is slow in a TCG guest: only for
    // the views that show them.
    std::vector<mtia::smi::PciFunction> pci;
    if (!field_query && (json || (q->count() && query_fields.empty()))) pci = mtia::smi::scan_mtia_pci();

    for (unsigned n = 1;; n++) {
        Found all = read_devices(nodes, pci), sel = all;
        if (!ids.empty()) {
            std::string err;
            auto pos = select_devices(all, ids, &err);
            if (pos.empty()) return fail(kNoDevice, err);
            sel = {};
            for (size_t p : pos) {
                sel.devs.push_back(all.devs[p]);
                sel.pci_dirs.push_back(all.pci_dirs[p]);
            }
        }
        if (do_reset) return reset(sel);

        // Field queries show no processes: skip the /proc walk.
        std::vector<mtia::smi::ProcessUsage> procs;
        if (!field_query && !list) procs = mtia::smi::scan_processes();
        std::string ts = now_string(), out;
        if (field_query) {
            out = fmt.json ? mtia::smi::format_query_json(sel.devs, fields, ts)
                           : mtia::smi::format_query_csv(sel.devs, fields, fmt, ts);
        } else if (json) {
            out = mtia::smi::format_json(sel.devs, procs);
        } else if (q->count()) {
            out = mtia::smi::format_detail(sel.devs, procs, ts);
        } else if (list) {
            out = mtia::smi::format_list(sel.devs);
        } else {
            out = ts + "\n" + mtia::smi::format_table(sel.devs) + "\n" +
                  mtia::smi::format_processes(sel.devs, procs, root);
        }
        if (watch && isatty(STDOUT_FILENO)) std::fputs("\033[H\033[2J", stdout);
        std::fputs(out.c_str(), stdout);
        std::fflush(stdout);
        if (loop_s == 0 || (count && n >= count)) return kOk;
        std::this_thread::sleep_for(std::chrono::duration<double>(loop_s));
    }
}
