// SPDX-License-Identifier: MIT
// mtia-smi: monitors and manages mtia devices, like nvidia-smi, through
// libmtia's management API (mtia/mtia_mgmt.hpp). Everything is read from
// sysfs and /proc, so only --reset, -pl and -p need root (docs/telemetry.md has
// the views, fields, nvidia-smi's names and an example of each).
//
// Exit codes:
//   0 ok
//   1 usage error or another failure
//   2 no device (none present, or none matches -i); an unknown --query
//     field, an out-of-range -pl or a -p other than 0 or 1 (nvidia-smi's
//     code for all three)
//   3 mtia PCI device present but the driver is not loaded
//   4 permission denied (--reset, -pl or -p as a user other than root)
//   5 unknown --format or dmon metric group
//   6 the device did not come back from --reset
#include <sys/time.h>
#include <unistd.h>

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <thread>

#include "smi_fields.h"
#include "smi_format.h"
#include "smi_mon.h"
#include "smi_read.h"
#include "smi_xml.h"

namespace {

enum Exit { kOk = 0, kError = 1, kNoDevice = 2, kNoDriver = 3, kPermission = 4, kBadFormat = 5, kResetFailed = 6 };
constexpr int kBadField = 2;  // nvidia-smi's code for an invalid argument

int fail(int code, const std::string &msg)
{
    std::cerr << "mtia-smi: " << msg << "\n";
    return code;
}

// nvidia-smi's timestamps: "2026/12/06 22:15:02.123" in CSV, ctime's in XML.
std::string now_string(bool xml = false)
{
    timeval tv;
    gettimeofday(&tv, nullptr);
    std::tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char buf[64];
    if (xml) {
        std::strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
        return buf;
    }
    std::strftime(buf, sizeof(buf), "%Y/%m/%d %H:%M:%S", &tm);
    return fmt::format("{}.{:03}", buf, tv.tv_usec / 1000);
}

// nvidia-smi's multi-letter single-dash options, which CLI11 would read as
// clusters of short ones: -lms -> --loop-ms, -pl -> --power-limit.
std::vector<std::string> nvidia_args(int argc, char **argv)
{
    std::vector<std::string> out;
    for (int i = argc - 1; i >= 1; i--) {  // CLI11 wants them reversed
        std::string a = argv[i];
        for (auto [from, to] : {std::pair<const char *, const char *>{"-lms", "--loop-ms"}, {"-pl", "--power-limit"}}) {
            std::string f = from;
            if (a == f || a.rfind(f + "=", 0) == 0) a = to + a.substr(f.size());
        }
        out.push_back(a);
    }
    return out;
}

int reset(const mtia::smi::SmiDevice &d)
{
    std::string what = "MTIA " + std::to_string(d.info.index) + " (" + d.info.pci_bus_id + ")";
    try {
        mtia::mgmt::Device::by_pci_bus_id(d.info.pci_bus_id).reset();
    } catch (const mtia::Error &e) {
        if (e.status() == MTIA_ERROR_PERMISSION) {
            return fail(kPermission, what + ": permission denied: resetting a device needs root");
        }
        return fail(kResetFailed, what + ": reset failed: " + e.what());
    }
    auto after = mtia::mgmt::Device::by_pci_bus_id(d.info.pci_bus_id).status();
    std::printf("%s: reset; firmware %s, %u reset(s) since the driver loaded\n", what.c_str(),
                after.tel.fw_status.c_str(), after.tel.reset_count.value_or(0));
    return kOk;
}

// -pl: nvidia-smi's messages and exit codes.
int power_limit(const std::vector<mtia::smi::SmiDevice> &devs, double watts)
{
    for (const auto &d : devs) {
        const auto &t = d.tel;
        const std::string &bus = d.info.pci_bus_id;
        if (t.power_cap_min_w && t.power_cap_max_w &&
            (watts < *t.power_cap_min_w - 1e-6 || watts > *t.power_cap_max_w + 1e-6)) {
            std::printf(
                "Provided power limit %.2f W is not a valid power limit which should be between %.2f W and "
                "%.2f W for GPU %s\nTerminating early due to previous errors.\n",
                watts, *t.power_cap_min_w, *t.power_cap_max_w, bus.c_str());
            return kBadField;
        }
        try {
            mtia::mgmt::Device::by_pci_bus_id(bus).set_power_limit(watts);
        } catch (const mtia::Error &e) {
            if (e.status() == MTIA_ERROR_PERMISSION) {
                std::printf(
                    "The current user does not have permission to change power management limit for GPU "
                    "%s.\nTerminating early due to previous errors.\n",
                    bus.c_str());
                return kPermission;
            }
            std::printf(
                "Changing power management limit failed for GPU %s: %s\nTerminating early due to previous "
                "errors.\n",
                bus.c_str(), e.what());
            return kError;
        }
        std::printf("Power limit for GPU %s was set to %.2f W from %.2f W.\n", bus.c_str(), watts,
                    t.power_cap_w.value_or(0));
    }
    std::printf("All done.\n");
    return kOk;
}

// -p / --reset-ecc-errors: nvidia-smi's messages and exit codes; every
// selected device (-i) or all of them.
int reset_ecc(const std::vector<mtia::smi::SmiDevice> &devs, mtia::mgmt::EccCounter which)
{
    const bool agg = which == mtia::mgmt::EccCounter::kAggregate;
    for (const auto &d : devs) {
        const std::string &bus = d.info.pci_bus_id;
        try {
            mtia::mgmt::Device::by_pci_bus_id(bus).clear_ecc_errors(which);
        } catch (const mtia::Error &e) {
            if (e.status() == MTIA_ERROR_PERMISSION) {
                std::printf(
                    "The current user does not have permission to reset ECC error counts for GPU %s.\n"
                    "Terminating early due to previous errors.\n",
                    bus.c_str());
                return kPermission;
            }
            std::printf("Resetting %s ECC errors failed for GPU %s: %s\nTerminating early due to previous errors.\n",
                        agg ? "aggregate" : "volatile", bus.c_str(), e.what());
            return kError;
        }
        std::printf("Reset %s ECC errors to zero for GPU %s.\n", agg ? "aggregate" : "volatile", bus.c_str());
    }
    std::printf("All done.\n");
    return kOk;
}

// -p's value: 0|VOLATILE or 1|AGGREGATE (nvidia-smi's), case-insensitive.
std::optional<mtia::mgmt::EccCounter> ecc_counter_of(std::string v)
{
    for (char &c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "0" || v == "volatile") return mtia::mgmt::EccCounter::kVolatile;
    if (v == "1" || v == "aggregate") return mtia::mgmt::EccCounter::kAggregate;
    return std::nullopt;
}

struct Options {
    bool json = false, list = false, version = false, list_fields = false, do_reset = false, watch = false;
    bool xml = false, help_query = false;
    std::string ids, format_spec = "csv", query_fields, apps_fields, file, reset_ecc;
    double loop_s = 0, power_w = 0;
    unsigned loop_ms = 0, count = 0;
    // dmon / pmon
    unsigned mon_count = 0;
    double mon_delay = 1;
    std::string mon_groups;
};

// Writes each view to stdout or -f FILE.
class Out {
public:
    explicit Out(const std::string &file)
    {
        if (!file.empty()) f_.open(file, std::ios::trunc);
    }
    bool ok() const { return !f_.is_open() || f_.good(); }
    bool to_file() const { return f_.is_open(); }
    void put(const std::string &s)
    {
        if (f_.is_open()) {
            f_ << s << std::flush;
        } else {
            std::fputs(s.c_str(), stdout);
            std::fflush(stdout);
        }
    }

private:
    std::ofstream f_;
};

// Devices, narrowed by -i; the exit code (not kOk) if there are none.
int devices(const Options &o, bool pci_names, std::vector<mtia::smi::SmiDevice> *out)
{
    auto all = mtia::smi::read_devices(pci_names);
    if (all.empty()) {
        auto pci = mtia::smi::scan_mtia_pci();
        if (!pci.empty()) {
            return fail(kNoDriver, std::to_string(pci.size()) +
                                       " MTIA PCI device(s) found but the mtia driver is not loaded (no node in " +
                                       mtia::accel_dir() + ")");
        }
        return fail(kNoDevice, "no MTIA devices found");
    }
    *out = all;
    if (o.ids.empty()) return kOk;
    std::string err;
    auto pos = mtia::smi::select_devices(all, o.ids, &err);
    if (pos.empty()) return fail(kNoDevice, err);
    out->clear();
    for (size_t p : pos) out->push_back(all[p]);
    return kOk;
}

int monitor(const Options &o, bool pmon)
{
    std::string groups;
    try {
        groups = mtia::smi::dmon_groups(o.mon_groups);
    } catch (const std::invalid_argument &e) {
        return fail(kBadFormat, e.what());
    }
    Out out(o.file);
    if (!out.ok()) return fail(kError, "cannot write " + o.file);
    std::vector<mtia::smi::ProcessUsage> prev;
    for (unsigned n = 1;; n++) {
        std::vector<mtia::smi::SmiDevice> devs;
        if (int rc = devices(o, false, &devs)) return rc;
        std::string s = n == 1 ? (pmon ? mtia::smi::pmon_header() : mtia::smi::dmon_header(groups)) : "";
        if (pmon) {
            auto now = mtia::mgmt::scan_processes();
            s += mtia::smi::pmon_rows(devs, now, prev, o.mon_delay);
            prev = std::move(now);
        } else {
            for (const auto &d : devs) s += mtia::smi::dmon_row(d, groups);
        }
        out.put(s);
        if (o.mon_count && n >= o.mon_count) return kOk;
        std::this_thread::sleep_for(std::chrono::duration<double>(o.mon_delay));
    }
}

void add_monitor(CLI::App &app, CLI::App *sub, Options &o, bool pmon)
{
    sub->add_option("-i,--id", o.ids, "only these devices: index, bus id, serial or UUID");
    sub->add_option("-c,--count", o.mon_count, "stop after COUNT samples")->check(CLI::PositiveNumber);
    sub->add_option("-d,--delay", o.mon_delay, "seconds between samples (default 1)")->check(CLI::PositiveNumber);
    sub->add_option("-f,--filename", o.file, "write to FILE instead of stdout");
    if (!pmon)
        sub->add_option("-s,--select", o.mon_groups,
                        "metric groups: p power/temp, u utilisation, c clocks, "
                        "m memory, e errors (default puc)");
    (void)app;
}

}  // namespace

int main(int argc, char **argv)
{
    CLI::App app{"mtia-smi: monitor and manage mtia accelerators (nvidia-smi's options and fields work)", "mtia-smi"};
    Options o;
    auto *q = app.add_option("-q,--query", o.query_fields,
                             "without a value: every property of each device; "
                             "--query=FIELD,...: those fields (see --help-query-gpu)")
                  ->expected(0, 1);
    auto *qg = app.add_option("--query-gpu", o.query_fields, "same as --query=FIELD,...");
    auto *qa = app.add_option("--query-compute-apps", o.apps_fields,
                              "processes using the devices: pid,process_name,used_memory,gpu_uuid,gpu_bus_id,...");
    app.add_option("--format", o.format_spec, "for --query: csv[,noheader][,nounits] or json");
    app.add_flag("-x,--xml-format", o.xml, "every property as XML (mtia_smi_log.dtd), like nvidia-smi -q -x");
    app.add_flag("--help-query-gpu", o.help_query, "list the --query-gpu and --query-compute-apps fields and exit");
    app.add_flag("--list-fields", o.list_fields, "list the --query fields as a table and exit");
    app.add_flag("--json", o.json, "every property of each device and the processes, as JSON");
    app.add_flag("-L,--list-devices,--list-gpus", o.list, "one line per device");
    app.add_option("-i,--id", o.ids, "only these devices: index, bus id, serial or UUID, comma separated");
    app.add_option("-l,--loop", o.loop_s, "repeat every SECONDS until interrupted")->check(CLI::PositiveNumber);
    app.add_option("--loop-ms", o.loop_ms, "repeat every MS milliseconds (also -lms MS)")->check(CLI::PositiveNumber);
    app.add_option("-f,--filename", o.file, "write to FILE instead of stdout");
    app.add_flag("--watch", o.watch, "refresh the view in place every second (-l 1 on a clear screen)");
    app.add_option("--count", o.count, "with -l/-lms/--watch: stop after N refreshes")->check(CLI::PositiveNumber);
    app.add_flag("-r,--reset,--gpu-reset", o.do_reset, "reset the device chosen with -i (root)");
    auto *pl = app.add_option("--power-limit", o.power_w, "set the power limit in watts (also -pl WATTS; root)");
    auto *pe = app.add_option("-p,--reset-ecc-errors", o.reset_ecc,
                              "zero the ECC error counts: 0|VOLATILE or 1|AGGREGATE (the lifetime ones; root)");
    app.add_flag("--version", o.version, "print the version and exit");
    auto *dmon = app.add_subcommand("dmon", "one line of device metrics per device per sample (nvidia-smi dmon)");
    auto *pmon = app.add_subcommand("pmon", "one line per process per sample (nvidia-smi pmon)");
    add_monitor(app, dmon, o, false);
    add_monitor(app, pmon, o, true);
    auto args = nvidia_args(argc, argv);
    try {
        app.parse(args);
    } catch (const CLI::ParseError &e) {
        return app.exit(e) == 0 ? kOk : kError;  // --help is not an error
    }

    if (o.version) {
        int ma, mi, pa;
        mtia_runtime_version(&ma, &mi, &pa);
        std::printf("mtia-smi %d.%d.%d\n", ma, mi, pa);
        return kOk;
    }
    if (o.list_fields) {
        std::fputs(mtia::smi::format_field_list().c_str(), stdout);
        return kOk;
    }
    if (o.help_query) {
        std::fputs(mtia::smi::format_help_query_gpu().c_str(), stdout);
        return kOk;
    }
    if (dmon->parsed() || pmon->parsed()) return monitor(o, pmon->parsed());

    // Fields and format are checked before looking for devices.
    const bool field_query = (q->count() && !o.query_fields.empty()) || qg->count();
    const bool apps_query = qa->count() > 0;
    std::vector<const mtia::smi::Field *> fields;
    std::vector<const mtia::smi::AppField *> app_fields;
    mtia::smi::OutputFormat fmt;
    try {
        if (field_query) fields = mtia::smi::parse_field_list(o.query_fields);
        if (apps_query) app_fields = mtia::smi::parse_app_field_list(o.apps_fields);
    } catch (const std::invalid_argument &e) {
        std::printf("%s\n\n", e.what());  // nvidia-smi's words, on stdout as it prints them
        return kBadField;
    }
    try {
        if (field_query || apps_query) fmt = mtia::smi::parse_format(o.format_spec);
    } catch (const std::invalid_argument &e) {
        return fail(kBadFormat, e.what());
    }
    if (apps_query && fmt.json) return fail(kBadFormat, "--query-compute-apps prints CSV only");
    std::optional<mtia::mgmt::EccCounter> ecc_counter;
    if (pe->count()) {
        ecc_counter = ecc_counter_of(o.reset_ecc);
        if (!ecc_counter) {
            std::printf("Invalid value for -p/--reset-ecc-errors: \"%s\" (0|VOLATILE or 1|AGGREGATE).\n\n",
                        o.reset_ecc.c_str());
            return kBadField;
        }
    }
    if (o.watch && o.loop_s == 0) o.loop_s = 1;
    if (o.loop_ms) o.loop_s = o.loop_ms / 1000.0;

    const bool root = geteuid() == 0;
    const bool detail = q->count() && o.query_fields.empty();
    Out out(o.file);
    if (!out.ok()) return fail(kError, "cannot write " + o.file);
    for (unsigned n = 1;; n++) {
        std::vector<mtia::smi::SmiDevice> sel;
        // libpci (vendor names from pci.ids) is slow in a TCG guest: only for the views that show them.
        if (int rc = devices(o, !field_query && !apps_query && (o.json || detail), &sel)) return rc;
        if (o.do_reset) {
            if (sel.size() != 1) return fail(kError, "--reset resets one device: choose it with -i");
            return reset(sel[0]);
        }
        if (pl->count()) return power_limit(sel, o.power_w);
        if (ecc_counter) return reset_ecc(sel, *ecc_counter);

        // Field queries show no processes: skip the /proc walk.
        std::vector<mtia::smi::ProcessUsage> procs;
        if (!field_query && !o.list) procs = mtia::mgmt::scan_processes();
        std::string ts = now_string(o.xml), s;
        auto f = fmt;
        f.header = fmt.header && n == 1;  // nvidia-smi heads a looped query once
        if (field_query) {
            s = fmt.json ? mtia::smi::format_query_json(sel, fields, ts)
                         : mtia::smi::format_query_csv(sel, fields, f, ts);
        } else if (apps_query) {
            s = mtia::smi::format_apps_csv(sel, procs, app_fields, f, ts);
        } else if (o.xml) {
            s = mtia::smi::format_xml(sel, procs, ts);
        } else if (o.json) {
            s = mtia::smi::format_json(sel, procs);
        } else if (detail) {
            s = mtia::smi::format_detail(sel, procs, ts);
        } else if (o.list) {
            s = mtia::smi::format_list(sel);
        } else {
            s = ts + "\n" + mtia::smi::format_table(sel) + "\n" + mtia::smi::format_processes(sel, procs, root);
        }
        if (o.watch && !out.to_file() && isatty(STDOUT_FILENO)) std::fputs("\033[H\033[2J", stdout);
        out.put(s);
        if (o.loop_s == 0 || (o.count && n >= o.count)) return kOk;
        std::this_thread::sleep_for(std::chrono::duration<double>(o.loop_s));
    }
}
