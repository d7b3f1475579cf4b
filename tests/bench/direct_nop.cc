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
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include <algorithm>
#include <atomic>
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

namespace {

using Clock = std::chrono::steady_clock;

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

double pct(std::vector<double> v, double p)
{
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

struct Ring {
    drm_mtia_direct_create c{};
    mtia_cmd *sq = nullptr;
    const volatile mtia_cqe *cq = nullptr;
    volatile uint32_t *db = nullptr;
    uint32_t tail = 0, head = 0, phase = 1;
    uint32_t n() const { return 1u << c.sq_order; }
};

bool open_ring(int fd, Ring *r)
{
    r->c.priority = MTIA_QUEUE_PRIO_HIGH;
    r->c.sq_order = r->c.cq_order = 8;
    if (drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_CREATE, &r->c)) return false;
    void *s = mmap(nullptr, sizeof(mtia_cmd) << 8, PROT_READ | PROT_WRITE, MAP_SHARED, fd, r->c.sq_offset);
    void *q = mmap(nullptr, 4096, PROT_READ, MAP_SHARED, fd, r->c.cq_offset);
    void *d = mmap(nullptr, 4096, PROT_WRITE, MAP_SHARED, fd, r->c.doorbell_offset);
    if (s == MAP_FAILED || q == MAP_FAILED || d == MAP_FAILED) return false;
    r->sq = static_cast<mtia_cmd *>(s);
    r->cq = static_cast<const volatile mtia_cqe *>(q);
    r->db = static_cast<volatile uint32_t *>(d);
    return true;
}

void launch(Ring &r)
{
    mtia_cmd c{};
    c.opcode = MTIA_CMD_NOP;
    c.ctx = r.c.ctx;
    c.cid = static_cast<uint16_t>(r.tail);
    r.sq[r.tail] = c;
    r.tail = (r.tail + 1) % r.n();
    std::atomic_thread_fence(std::memory_order_release);
    r.db[MTIA_DB_SQ_TAIL / 4] = r.tail;
}

bool ready(const Ring &r) { return mtia_cqe_phase(r.cq[r.head].status) == r.phase; }

bool consume(int fd, Ring &r, bool sleep)
{
    if (sleep) {
        drm_mtia_direct_wait w{};
        w.queue_id = r.c.queue_id;
        w.cq_index = r.head;
        w.phase = r.phase;
        w.timeout_ns = 10000000000ull;
        if (drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_WAIT, &w)) return false;
    } else {
        while (!ready(r)) {
        }
    }
    const bool ok = mtia_cqe_status(r.cq[r.head].status) == MTIA_CQE_OK;
    r.head = (r.head + 1) % r.n();
    if (!r.head) r.phase ^= 1;
    r.db[MTIA_DB_CQ_HEAD / 4] = r.head;
    return ok;
}

}  // namespace

int main(int argc, char **argv)
{
    const int iters = argc > 1 ? std::atoi(argv[1]) : 2000;
    const auto nodes = mtia::device_nodes();
    if (nodes.empty() || iters < 10) return std::fprintf(stderr, "direct_nop: no device\n"), 2;
    const int fd = open(nodes.front().c_str(), O_RDWR | O_CLOEXEC);
    Ring r;
    if (fd < 0 || !open_ring(fd, &r))
        return std::fprintf(stderr, "direct_nop: no direct queue: %s\n", strerror(errno)), 2;

    std::vector<double> launch_us, spin_us, wait_us, ioctl_launch_us, ioctl_us;
    for (int pass = 0; pass < 2; pass++)  // warm-up, then measured
        for (int i = 0; i < iters; i++) {
            for (bool sleep : {false, true}) {
                const auto t0 = Clock::now();
                launch(r);
                const auto t1 = Clock::now();
                if (!consume(fd, r, sleep)) return std::fprintf(stderr, "direct_nop: a NOP failed\n"), 1;
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
