// SPDX-License-Identifier: MIT
// mtia-exporter: a Prometheus exporter of mtia devices' telemetry, in the
// manner of DCGM's exporter (docs/telemetry.md, "mtia-exporter").
//
// Every GET /metrics reads every device through libmtia's management API
// (mtia_mgmt.hpp: sysfs and DRM fdinfo, no device node opened) and answers
// the text exposition (metrics_text.h); nothing is cached between scrapes,
// so a value is as fresh as mtia-smi's. A device that cannot be read (it
// went away mid-scrape) is left out and counted in
// mtia_exporter_scrape_errors. cpp-httplib serves the requests on its own
// threads; SIGTERM or SIGINT (blocked in every thread, taken here with
// sigwait) stops the server and exits 0.
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <httplib.h>

#include "metrics_text.h"

namespace {

// Every device now; the ones that fail to read are counted, not fatal.
std::string scrape(bool with_processes)
{
    std::vector<mtia::exporter::DeviceSample> devices;
    unsigned errors = 0;
    std::vector<mtia::mgmt::Device> all;
    try {
        all = mtia::mgmt::Device::all();
    } catch (const std::exception &) {
        errors++;  // no driver: no devices, one error
    }
    // /proc is scanned once per scrape, not once per device.
    const std::vector<mtia::mgmt::Process> procs =
        with_processes ? mtia::mgmt::scan_processes() : std::vector<mtia::mgmt::Process>();
    for (const auto &d : all) {
        try {
            mtia::exporter::DeviceSample s{d.status(), {}};
            for (const auto &p : procs)
                if (p.bus_id == d.bus_id()) s.processes.push_back(p);
            devices.push_back(std::move(s));
        } catch (const std::exception &) {
            errors++;
        }
    }
    return mtia::exporter::render(devices, with_processes, errors);
}

// "host:port", ":port" or "port" -> host (default 0.0.0.0) and port.
bool parse_listen(const std::string &s, std::string *host, int *port)
{
    const size_t colon = s.rfind(':');
    std::string h = colon == std::string::npos ? "" : s.substr(0, colon);
    const std::string p = colon == std::string::npos ? s : s.substr(colon + 1);
    if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);  // [::1]
    char *end = nullptr;
    const long v = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end || v < 0 || v > 65535) return false;
    *host = h.empty() ? "0.0.0.0" : h;
    *port = int(v);
    return true;
}

}  // namespace

int main(int argc, char **argv)
{
    CLI::App app{"Prometheus exporter of mtia devices' telemetry (GET /metrics)"};
    std::string listen = ":9400";
    bool processes = false;
    app.add_option("-l,--listen", listen,
                   "address to serve on: HOST:PORT, :PORT or PORT (default :9400; port 0 picks "
                   "a free one, printed at start)");
    app.add_flag("-p,--processes", processes,
                 "also export each process's device memory and engine time (it reads /proc/*/fdinfo: as root, "
                 "every process; otherwise the exporter's user's)");
    app.set_version_flag("--version", std::string("mtia-exporter ") + MTIA_EXPORTER_VERSION);
    CLI11_PARSE(app, argc, argv);
    std::string host;
    int port = 0;
    if (!parse_listen(listen, &host, &port)) {
        std::fprintf(stderr, "mtia-exporter: --listen %s: not HOST:PORT\n", listen.c_str());
        return 2;
    }

    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);  // before any thread starts
    signal(SIGPIPE, SIG_IGN);

    httplib::Server srv;
    srv.Get("/metrics", [processes](const httplib::Request &, httplib::Response &res) {
        res.set_content(scrape(processes), "text/plain; version=0.0.4; charset=utf-8");
    });
    srv.Get("/", [](const httplib::Request &, httplib::Response &res) {
        res.set_content("<html><body><h1>mtia-exporter</h1><a href=\"/metrics\">/metrics</a></body></html>\n",
                        "text/html");
    });
    const int bound = port ? (srv.bind_to_port(host.c_str(), port) ? port : -1) : srv.bind_to_any_port(host.c_str());
    if (bound < 0) {
        std::fprintf(stderr, "mtia-exporter: cannot listen on %s:%d: %s\n", host.c_str(), port, std::strerror(errno));
        return 1;
    }
    std::printf("mtia-exporter: serving http://%s:%d/metrics\n", host.c_str(), bound);
    std::fflush(stdout);
    std::thread server([&srv] { srv.listen_after_bind(); });
    int sig = 0;
    sigwait(&sigs, &sig);
    std::fprintf(stderr, "mtia-exporter: %s: stopping\n", strsignal(sig));
    srv.stop();
    server.join();
    return 0;
}
