// SPDX-License-Identifier: MIT
// NOP launch cost and round trip on a direct queue against the ioctl path,
// in one run on the first mtia device (tests/bench/vm-bench.sh, make bench):
//
//   direct_nop [ITERS]
//
// Direct queue (docs/driver.md "Direct queues"): launch = writing the SQ
// entry and the doorbell; round trip = launch to the CQE's phase bit, by
// spinning on it ("spin") or by sleeping in DIRECT_WAIT until the queue's
// interrupt ("wait"). The ioctl path: launch = the SUBMIT ioctl, round trip
// = SUBMIT + WAIT of a one-NOP job. Prints one line of key-value pairs:
//   direct_nop iters N launch_p50_us .. launch_p99_us .. spin_p50_us ..
//   spin_p99_us .. wait_p50_us .. wait_p99_us .. ioctl_launch_p50_us ..
//   ioctl_launch_p99_us .. ioctl_p50_us .. ioctl_p99_us ..
// Exit status 2 without a device or without direct queues (no MMU).
#include <fcntl.h>
#include <unistd.h>
#include <xf86drm.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"
#include "mtia/mtia_spec.h"
#include "uapi/drm/mtia_accel.h"
#include "../vm/direct_queue.h"

namespace {

using Clock = std::chrono::steady_clock;

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double pct(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char **argv)
{
    const int iters = argc > 1 ? std::atoi(argv[1]) : 2000;
    const auto nodes = mtia::device_nodes();
    if (nodes.empty() || iters < 10) return std::fprintf(stderr, "direct_nop: no device\n"), 2;
    const int fd = open(nodes.front().c_str(), O_RDWR | O_CLOEXEC);
    DirectQueue r;
    if (fd < 0) return std::fprintf(stderr, "direct_nop: %s\n", strerror(errno)), 2;
    if (int e = r.create(fd, 8, MTIA_QUEUE_PRIO_HIGH))
        return std::fprintf(stderr, "direct_nop: no direct queue: %s\n", strerror(e)), 2;
    mtia_cmd nop_cmd{};
    nop_cmd.opcode = MTIA_CMD_NOP;
    nop_cmd.ctx = r.c.ctx;

    std::vector<double> launch_us, spin_us, wait_us, ioctl_launch_us, ioctl_us;
    for (int pass = 0; pass < 2; pass++)  // warm-up, then measured
        for (int i = 0; i < iters; i++) {
            for (bool sleep : {false, true}) {
                const auto t0 = Clock::now();
                r.push(nop_cmd);
                const auto t1 = Clock::now();
                mtia_cqe e{};
                if (r.next(&e, 10000000000ull, !sleep) || mtia_cqe_status(e.status) != MTIA_CQE_OK)
                    return std::fprintf(stderr, "direct_nop: a NOP failed\n"), 1;
                const auto t2 = Clock::now();
                if (!pass) continue;
                if (!sleep) launch_us.push_back(us(t1 - t0));
                (sleep ? wait_us : spin_us).push_back(us(t2 - t0));
            }
        }

    drm_mtia_queue_create qc{};
    qc.priority = MTIA_QUEUE_PRIO_HIGH;
    if (drmIoctl(fd, DRM_IOCTL_MTIA_QUEUE_CREATE, &qc)) return std::fprintf(stderr, "direct_nop: queue\n"), 1;
    drm_mtia_cmd nop{};
    nop.opcode = MTIA_CMD_NOP;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < iters; i++) {
            drm_mtia_submit s{};
            s.cmds = reinterpret_cast<uintptr_t>(&nop);
            s.cmd_count = 1;
            s.queue_id = qc.queue_id;
            const auto t0 = Clock::now();
            if (drmIoctl(fd, DRM_IOCTL_MTIA_SUBMIT, &s)) return std::fprintf(stderr, "direct_nop: submit\n"), 1;
            const auto t1 = Clock::now();
            drm_mtia_wait w{};
            w.queue_id = qc.queue_id;
            w.seqno = s.seqno;
            w.timeout_ns = 10000000000ull;
            if (drmIoctl(fd, DRM_IOCTL_MTIA_WAIT, &w) || w.status) return std::fprintf(stderr, "direct_nop: wait\n"), 1;
            const auto t2 = Clock::now();
            if (!pass) continue;
            ioctl_launch_us.push_back(us(t1 - t0));
            ioctl_us.push_back(us(t2 - t0));
        }
    std::printf(
        "direct_nop iters %d launch_p50_us %.2f launch_p99_us %.2f spin_p50_us %.2f spin_p99_us %.2f wait_p50_us %.2f "
        "wait_p99_us %.2f ioctl_launch_p50_us %.2f ioctl_launch_p99_us %.2f ioctl_p50_us %.2f ioctl_p99_us %.2f\n",
        iters, pct(launch_us, 0.5), pct(launch_us, 0.99), pct(spin_us, 0.5), pct(spin_us, 0.99), pct(wait_us, 0.5),
        pct(wait_us, 0.99), pct(ioctl_launch_us, 0.5), pct(ioctl_launch_us, 0.99), pct(ioctl_us, 0.5),
        pct(ioctl_us, 0.99));
    return 0;
}
