// SPDX-License-Identifier: MIT
// Chrome trace-event JSON of profiled model runs (docs/models.md
// "Profiling"), the format Perfetto's UI and chrome://tracing open: an
// object with "traceEvents", complete events ("ph": "X", ts and dur in µs)
// and metadata events ("ph": "M") naming the processes and threads.
//
// Tracks (pid.tid):
//   1.1 host: one span per run, submit to done (host clock);
//   2.1 device: the run's program span and, nested in it, one span per op
//       (device clock, placed so that the program starts where the host
//       span does: the two clocks are not related);
//   3.1 MTIA v1 model: the timing model's estimate of the program and its
//       ops laid end to end from the same start.
// Times are relative to the first run's submit.
#include <fstream>
#include <nlohmann/json.hpp>
#include <ostream>

#include "runtime_internal.h"

namespace mtia {

namespace {

enum : int { kHostPid = 1, kDevicePid = 2, kModelPid = 3 };

double us(uint64_t ns) { return static_cast<double>(ns) / 1e3; }
double us_signed(uint64_t a, uint64_t b) { return a >= b ? us(a - b) : -us(b - a); }

nlohmann::json meta(const char *what, int pid, const std::string &name)
{
    nlohmann::json e = {{"name", what}, {"ph", "M"}, {"pid", pid}, {"args", {{"name", name}}}};
    if (std::string(what) == "thread_name") e["tid"] = 1;
    return e;
}

nlohmann::json span(const std::string &name, const char *cat, int pid, double ts, double dur, nlohmann::json args)
{
    return {{"name", name}, {"cat", cat}, {"ph", "X"},  {"pid", pid},
            {"tid", 1},     {"ts", ts},   {"dur", dur}, {"args", std::move(args)}};
}

uint64_t ns_between(uint64_t a, uint64_t b) { return b >= a ? b - a : 0; }

}  // namespace

void write_chrome_trace(std::ostream &out, const std::vector<RunProfile> &runs)
{
    nlohmann::json ev = nlohmann::json::array();
    ev.push_back(meta("process_name", kHostPid, "host (libmtia)"));
    ev.push_back(meta("thread_name", kHostPid, "runs: submit to done, host clock"));
    ev.push_back(meta("process_name", kDevicePid, "MTIA device"));
    ev.push_back(meta("thread_name", kDevicePid, "program and ops, device clock"));
    ev.push_back(meta("process_name", kModelPid, "MTIA v1 model"));
    ev.push_back(meta("thread_name", kModelPid, "timing model estimate"));
    for (int pid : {kHostPid, kDevicePid, kModelPid})
        ev.push_back({{"name", "process_sort_index"}, {"ph", "M"}, {"pid", pid}, {"args", {{"sort_index", pid}}}});

    uint64_t t0 = 0;
    for (size_t r = 0; r < runs.size(); r++)
        if (r == 0 || runs[r].host_submit_ns < t0) t0 = runs[r].host_submit_ns;

    for (size_t r = 0; r < runs.size(); r++) {
        const RunProfile &p = runs[r];
        const std::string run = p.model + " run " + std::to_string(r);
        const double start = us_signed(p.host_submit_ns, t0);
        const uint64_t host_ns = ns_between(p.host_submit_ns, p.host_done_ns);
        const uint64_t dev_ns = ns_between(p.device_start_ns, p.device_end_ns);
        uint64_t op_sum = 0;
        for (const OpProfile &o : p.ops) op_sum += ns_between(o.device_start_ns, o.device_end_ns);
        const nlohmann::json job_args = {{"run", r},
                                         {"ops", p.ops.size()},
                                         {"host_ns", host_ns},
                                         {"device_ns", dev_ns},
                                         {"ops_device_ns", op_sum},
                                         {"model_ns", p.model_ns},
                                         {"throttle_ns", p.throttle_ns}};
        ev.push_back(span(run, "run", kHostPid, start, us(host_ns), job_args));
        ev.push_back(span(run, "program", kDevicePid, start, us(dev_ns), job_args));
        ev.push_back(span(run, "program", kModelPid, start, us(p.model_ns), job_args));
        uint64_t model_at = 0;
        for (size_t i = 0; i < p.ops.size(); i++) {
            const OpProfile &o = p.ops[i];
            const uint64_t d = ns_between(o.device_start_ns, o.device_end_ns);
            const nlohmann::json args = {
                {"run", r},         {"index", i},     {"op", o.name},          {"type", o.type},
                {"bytes", o.bytes}, {"device_ns", d}, {"model_ns", o.model_ns}};
            const std::string name = o.name.empty() ? o.type : o.name;
            ev.push_back(span(name, "op", kDevicePid, start + us(ns_between(p.device_start_ns, o.device_start_ns)),
                              us(d), args));
            ev.push_back(span(name, "op", kModelPid, start + us(model_at), us(o.model_ns), args));
            model_at += o.model_ns;
        }
    }
    nlohmann::json doc = {{"traceEvents", std::move(ev)}, {"displayTimeUnit", "ns"}};
    out << doc.dump() << "\n";
}

void write_chrome_trace(const std::string &path, const std::vector<RunProfile> &runs)
{
    std::ofstream f(path, std::ios::out | std::ios::trunc);
    if (!f) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "cannot write profile '" + path + "'");
    write_chrome_trace(f, runs);
    f.close();
    if (!f) throw Error(MTIA_ERROR_IO, "writing profile '" + path + "' failed");
}

}  // namespace mtia
