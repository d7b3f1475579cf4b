// SPDX-License-Identifier: MIT
// mtia-run --bench copy: DMA bandwidth by direction and NOP job latency.
//
// Bandwidth: `iters` copies of `size` bytes submitted back to back on one
// stream, timed on the host from the first submit to synchronize() (after
// one untimed warm-up copy); the device-timestamp figure (events recorded
// around the copies) is printed beside it. Latency: one NOP job at a time,
// submit -> WAIT returns, on the host clock.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "bench.h"
#include "mtia/mtia.hpp"

namespace mtia::run {

namespace {

using Clock = std::chrono::steady_clock;

struct Bw {
    double host_gbps = 0;
    double device_gbps = 0;
};

Bw measure(mtia::Device &dev, mtia::Stream &s, mtia::Buffer &dst, mtia::Buffer &src, size_t size, int iters)
{
    mtia::Event a(dev), b(dev);
    s.copy(dst, 0, src, 0, size);  // warm-up (first-touch, DMA mapping)
    s.synchronize();
    auto t0 = Clock::now();
    s.record(a);
    for (int i = 0; i < iters; i++) s.copy(dst, 0, src, 0, size);
    s.record(b);
    s.synchronize();
    double secs = std::chrono::duration<double>(Clock::now() - t0).count();
    double bytes = static_cast<double>(size) * iters;
    Bw r;
    r.host_gbps = bytes / secs / 1e9;
    double ms = mtia::Event::elapsed_ms(a, b);
    r.device_gbps = ms > 0 ? bytes / (ms / 1e3) / 1e9 : 0;
    return r;
}

}  // namespace

int bench_copy(const CopyBenchOptions &o)
{
    auto dev = o.device.open();
    mtia::Stream s(dev, mtia::Priority::Normal);
    mtia::Buffer host(dev, o.size, mtia::Placement::Host);
    mtia::Buffer d0(dev, o.size, mtia::Placement::Device);
    mtia::Buffer d1(dev, o.size, mtia::Placement::Device);
    std::memset(host.map(), 0x5a, o.size);

    Bw h2d = measure(dev, s, d0, host, o.size, o.iters);
    Bw d2h = measure(dev, s, host, d0, o.size, o.iters);
    Bw d2d = measure(dev, s, d1, d0, o.size, o.iters);

    s.nop();
    s.synchronize();
    std::vector<double> lat;
    lat.reserve(o.nop_iters);
    for (int i = 0; i < o.nop_iters; i++) {
        auto t0 = Clock::now();
        s.nop();
        s.synchronize();
        lat.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::sort(lat.begin(), lat.end());
    double p50 = percentile(lat, 50), p99 = percentile(lat, 99);

    if (o.json) {
        nlohmann::json j;
        j["device"] = dev.info().node;
        j["size"] = o.size;
        j["iters"] = o.iters;
        auto bw = [](const Bw &b) { return nlohmann::json{{"gbps", b.host_gbps}, {"device_gbps", b.device_gbps}}; };
        j["host_to_device"] = bw(h2d);
        j["device_to_host"] = bw(d2h);
        j["device_to_device"] = bw(d2d);
        j["nop"] = {{"iters", o.nop_iters}, {"p50_us", p50}, {"p99_us", p99}};
        std::cout << j.dump(2) << "\n";
    } else {
        std::printf("mtia-run copy bench on %s: %zu bytes x %d per direction\n", dev.info().node.c_str(), o.size,
                    o.iters);
        auto line = [](const char *n, const Bw &b) {
            std::printf("  %-16s %8.3f GB/s   (device clock %8.3f GB/s)\n", n, b.host_gbps, b.device_gbps);
        };
        line("host->device", h2d);
        line("device->host", d2h);
        line("device->device", d2d);
        std::printf("  NOP job submit->complete: p50 %.1f us  p99 %.1f us  (%d jobs)\n", p50, p99, o.nop_iters);
    }
    return 0;
}

}  // namespace mtia::run
