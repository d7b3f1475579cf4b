// SPDX-License-Identifier: MIT
// In-VM helper of tests/vm/test-faults.sh: one process that runs checksummed
// COPY jobs (host -> device -> host, raw ioctls) on one mtia device until
// told to stop, and reports what became of each job while faults are
// injected from QEMU's monitor.
//
//   fault_worker NODE STATE_FILE STOP_FILE
//
// Each job: fill a host BO with a pattern from the job number, COPY it to a
// device BO and back into another host BO, WAIT, and compare. After every
// job STATE_FILE is rewritten (atomically) with one line of counters:
//   jobs N ok N eio N canceled N badsum N cqe N banned B gone G err E
// (eio: WAIT status -EIO or -EFAULT (a translation fault), cqe: the last
// such job's CQE status; canceled:
// -ECANCELED; badsum: a job that succeeded but whose data differ; banned:
// SUBMIT or WAIT refused with -ECANCELED, the file is banned; gone: an
// ioctl failed with -ENODEV, or a job did (the device was removed or given
// up under it); err: any other errno, which also ends the
// run). The loop ends when STOP_FILE exists, the file is banned, the device
// is gone or on an unexpected error; exit status 0 unless that last.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>

#include "mtia/mtia_spec.h"
#include "uapi/drm/mtia_accel.h"

namespace {

constexpr uint64_t kBytes = 64 * 1024;
// Between jobs: the guest's vCPUs are shared (one TCG thread) with the test
// that watches these processes; flat out, three workers starve it.
constexpr useconds_t kPauseUs = 5000;
constexpr uint64_t kWaitNs = 120ull * 1000000000ull;  // far above any recovery

struct Counters {
    unsigned long jobs = 0, ok = 0, eio = 0, canceled = 0, badsum = 0, cqe = 0;
    int banned = 0, gone = 0, err = 0;
};

int xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do {
        r = ioctl(fd, req, arg);
    } while (r == -1 && (errno == EINTR || errno == EAGAIN));
    return r == -1 ? errno : 0;
}

void write_state(const std::string &path, const Counters &c)
{
    const std::string tmp = path + ".tmp";
    FILE *f = std::fopen(tmp.c_str(), "w");
    if (!f) return;
    std::fprintf(f, "jobs %lu ok %lu eio %lu canceled %lu badsum %lu cqe %lu banned %d gone %d err %d\n", c.jobs, c.ok,
                 c.eio, c.canceled, c.badsum, c.cqe, c.banned, c.gone, c.err);
    std::fclose(f);
    std::rename(tmp.c_str(), path.c_str());
}

struct Bo {
    uint32_t handle = 0;
    uint8_t *map = nullptr;
};

// 0 or an errno.
int bo_create(int fd, uint32_t placement, Bo *bo)
{
    drm_mtia_bo_create c{};
    c.size = kBytes;
    c.placement = placement;
    if (int e = xioctl(fd, DRM_IOCTL_MTIA_BO_CREATE, &c)) return e;
    bo->handle = c.handle;
    if (placement != MTIA_BO_HOST) return 0;
    drm_mtia_bo_info i{};
    i.handle = c.handle;
    if (int e = xioctl(fd, DRM_IOCTL_MTIA_BO_INFO, &i)) return e;
    void *p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, i.mmap_offset);
    if (p == MAP_FAILED) return errno;
    bo->map = static_cast<uint8_t *>(p);
    return 0;
}

drm_mtia_cmd copy(uint32_t src, uint32_t dst)
{
    drm_mtia_cmd c{};
    c.opcode = MTIA_CMD_COPY;
    c.len = kBytes;
    c.src_bo = src;
    c.dst_bo = dst;
    return c;
}

void pattern(uint8_t *p, unsigned long job)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (job + 1);
    for (uint64_t i = 0; i < kBytes; i += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        std::memcpy(p + i, &x, 8);
    }
}

// Records why an ioctl failed (each of these ends the run).
void failed(Counters *c, int e)
{
    if (e == ECANCELED)
        c->banned = 1;
    else if (e == ENODEV)
        c->gone = 1;
    else
        c->err = e;
}

// One job: submit, wait, check. False when the run is over.
bool run_job(int fd, uint32_t queue, const Bo &src, const Bo &mid, const Bo &dst, Counters *c)
{
    pattern(src.map, c->jobs);
    std::memset(dst.map, 0, kBytes);
    drm_mtia_cmd cmds[2] = {copy(0, 1), copy(1, 2)};
    uint32_t bos[3] = {src.handle, mid.handle, dst.handle};
    drm_mtia_submit s{};
    s.cmds = reinterpret_cast<uintptr_t>(cmds);
    s.cmd_count = 2;
    s.bo_handles = reinterpret_cast<uintptr_t>(bos);
    s.bo_count = 3;
    s.queue_id = queue;
    if (int e = xioctl(fd, DRM_IOCTL_MTIA_SUBMIT, &s)) {
        failed(c, e);
        return false;
    }
    drm_mtia_wait w{};
    w.queue_id = queue;
    w.seqno = s.seqno;
    w.timeout_ns = kWaitNs;
    if (int e = xioctl(fd, DRM_IOCTL_MTIA_WAIT, &w)) {
        failed(c, e);  // ETIME: a job never finished
        return false;
    }
    c->jobs++;
    if (w.status == 0) {
        c->ok++;
        if (std::memcmp(src.map, dst.map, kBytes)) c->badsum++;
    } else if (w.status == -EIO || w.status == -EFAULT) {
        // The job's own fault: a device error, or (-EFAULT) an address
        // its context's MMU did not translate.
        c->eio++;
        c->cqe = w.cqe_status;
    } else if (w.status == -ECANCELED) {
        c->canceled++;
    } else if (w.status == -ENODEV) {
        c->gone = 1;  // removed or given up: the run is over
        return false;
    } else {
        c->err = -w.status;
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 4) {
        std::fprintf(stderr, "usage: fault_worker NODE STATE_FILE STOP_FILE\n");
        return 2;
    }
    const std::string state = argv[2], stop = argv[3];
    Counters c;
    int fd = open(argv[1], O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        std::fprintf(stderr, "fault_worker: %s: %s\n", argv[1], std::strerror(errno));
        return 1;
    }
    Bo src, mid, dst;
    drm_mtia_queue_create q{};
    q.priority = MTIA_QUEUE_PRIO_NORMAL;
    int e = bo_create(fd, MTIA_BO_HOST, &src);
    if (!e) e = bo_create(fd, MTIA_BO_DEVICE, &mid);
    if (!e) e = bo_create(fd, MTIA_BO_HOST, &dst);
    if (!e) e = xioctl(fd, DRM_IOCTL_MTIA_QUEUE_CREATE, &q);
    if (e) {
        std::fprintf(stderr, "fault_worker: setup: %s\n", std::strerror(e));
        return 1;
    }
    write_state(state, c);
    while (access(stop.c_str(), F_OK) != 0 && run_job(fd, q.queue_id, src, mid, dst, &c)) {
        write_state(state, c);
        usleep(kPauseUs);
    }
    write_state(state, c);
    if (c.err) std::fprintf(stderr, "fault_worker: unexpected error: %s\n", std::strerror(c.err));
    return c.err ? 1 : 0;
}
