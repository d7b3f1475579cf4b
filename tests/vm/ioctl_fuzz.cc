// SPDX-License-Identifier: MIT
// In-VM ioctl fuzzer of the mtia driver (tests/vm/test-ioctl-fuzz.sh, make
// fuzz). Structure-aware random calls, bounded by time:
//
//   ioctl_fuzz [--seconds S] [--procs P] [--threads T] [--seed N] NODE...
//
// P processes (forked), each with T threads sharing a table of what the
// process owns (fds of the nodes, BOs, queues, syncobjs, submitted jobs),
// call every ioctl of the driver (GET_INFO, BO_CREATE, BO_INFO,
// QUEUE_CREATE/DESTROY, SUBMIT, WAIT, BO_MAP, DIRECT_CREATE/DESTROY/WAIT/
// SIGNAL: direct queues are mapped and fed random commands, forged contexts
// and VAs, FILL64s of their fence words, and doorbell values in and out of
// range; their fences go into the syncobjs SUBMIT waits for), the DRM core ones it relies on
// (GEM_CLOSE, SYNCOBJ_*), unknown command numbers and wrong sizes, with
// arguments that are mostly almost right: real handles beside stale and
// random ones, offsets and lengths at BO edges and past them, counts at and
// beyond the limits, bad user pointers, non-zero reserved fields, a command
// array another thread rewrites during SUBMIT. Around them: mmap/munmap of
// BOs (edges, stale offsets), dup and close of fds under other threads, GEM
// close of BOs with jobs in flight, and short-lived children (fork) that
// submit work and are SIGKILLed or exit with jobs in flight.
//
// The kernel must answer all of it with an errno: a process killed by a
// signal it did not get from us (a crash), a call that does not return
// within the hang limit, or a kernel oops (the VM harness checks dmesg) is
// a failure. Last, a fresh file runs a checksummed COPY/FILL job that must
// be right. One summary line:
//   ioctl-fuzz: N calls, D distinct outcomes, P processes, T threads,
//   J jobs submitted, K children killed mid-job, C crashes, H hangs
// and exit status 0 only if C, H are 0 and the final job was right.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xf86drm.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mtia/mtia_spec.h"
#include "uapi/drm/mtia_accel.h"

namespace {

using Clock = std::chrono::steady_clock;

// ---- outcomes, shared by every process of the run --------------------------
// One slot per (call kind, errno); counts summed with atomics in a
// MAP_SHARED page so the parent sees its children's counts.
enum Call {
    C_GET_INFO,
    C_BO_CREATE,
    C_BO_INFO,
    C_GEM_CLOSE,
    C_QUEUE_CREATE,
    C_QUEUE_DESTROY,
    C_SUBMIT,
    C_WAIT,
    C_SYNC_CREATE,
    C_SYNC_DESTROY,
    C_SYNC_WAIT,
    C_SYNC_EXPORT,
    C_SYNC_IMPORT,
    C_UNKNOWN_NR,
    C_MMAP,
    C_BO_MAP,
    C_DIRECT_CREATE,
    C_DIRECT_DESTROY,
    C_DIRECT_WAIT,
    C_DIRECT_SIGNAL,
    C_OPEN,
    C_CLOSE,
    C_FORK,
    C_COUNT
};
const char *const kCallNames[C_COUNT] = {
    "get_info",       "bo_create",     "bo_info",        "gem_close",       "queue_create",  "queue_destroy",
    "submit",         "wait",          "syncobj_create", "syncobj_destroy", "syncobj_wait",  "syncobj_export",
    "syncobj_import", "unknown_nr",    "mmap",           "bo_map",          "direct_create", "direct_destroy",
    "direct_wait",    "direct_signal", "open",           "close",           "fork"};
constexpr int kErrnos = 160;
constexpr uint64_t kBoBudget = 96ull << 20;  // bytes of BOs a process keeps

struct Shared {
    std::atomic<uint64_t> outcome[C_COUNT][kErrnos];
    std::atomic<uint64_t> calls, jobs, killed_mid_job;
    // Per worker process: the time (ms since start) of its last call return,
    // so the parent can name a process stuck in the kernel.
    std::atomic<int64_t> last_return_ms[64];
};
Shared *g_shared;
Clock::time_point g_t0;

int64_t now_ms() { return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - g_t0).count(); }

// ---- what a process owns ------------------------------------------------------
struct BoRec {
    uint32_t handle;
    uint64_t size, mmap_offset;
    uint32_t placement;
};
struct DirectRec {
    drm_mtia_direct_create c;
    uint32_t tail;  // next SQ slot this process writes
};
struct FileRec {
    int fd;
    std::vector<BoRec> bos;
    std::vector<DirectRec> directs;
    std::vector<uint32_t> queues, syncobjs;
    std::vector<std::pair<uint32_t, uint64_t>> jobs;  // (queue, seqno)
};

class Worker {
public:
    Worker(int index, std::vector<std::string> nodes, uint64_t seed, int64_t deadline_ms)
        : index_(index), nodes_(std::move(nodes)), seed_(seed), deadline_ms_(deadline_ms)
    {
    }
    void run(int threads);
    static void child_job(const std::string &node, uint64_t seed);

private:
    void thread_main(int t);
    void step(std::mt19937_64 &rng);
    // One call: counts its outcome; returns 0 or the errno.
    int call(Call c, int fd, unsigned long req, void *arg);
    void note(Call c, int err);

    // Actions.
    void act_open(std::mt19937_64 &rng);
    void act_close(std::mt19937_64 &rng);
    void act_get_info(std::mt19937_64 &rng, int fd);
    void act_bo_create(std::mt19937_64 &rng, int fd);
    void act_bo_info(std::mt19937_64 &rng, int fd);
    void act_gem_close(std::mt19937_64 &rng, int fd);
    void act_mmap(std::mt19937_64 &rng, int fd);
    void act_queue(std::mt19937_64 &rng, int fd);
    void act_submit(std::mt19937_64 &rng, int fd);
    void act_wait(std::mt19937_64 &rng, int fd);
    void act_syncobj(std::mt19937_64 &rng, int fd);
    void act_unknown(std::mt19937_64 &rng, int fd);
    void act_direct(std::mt19937_64 &rng, int fd);
    void direct_feed(std::mt19937_64 &rng, int fd, DirectRec &d, const std::vector<BoRec> &bos);
    void act_fork(std::mt19937_64 &rng);

    drm_mtia_cmd random_cmd(std::mt19937_64 &rng, const std::vector<BoRec> &bos, unsigned bad_pct);
    uint64_t edge_value(std::mt19937_64 &rng, uint64_t around);
    uint64_t bad_pointer(std::mt19937_64 &rng);
    // A snapshot of one file (under mu_), or false if none is open.
    bool pick_file(std::mt19937_64 &rng, int fd, FileRec *out);
    FileRec *file_of(int fd);

    int index_;
    std::vector<std::string> nodes_;
    uint64_t seed_;
    int64_t deadline_ms_;
    std::mutex mu_;  // Protects files_.
    std::vector<FileRec> files_;
    // A command array SUBMIT reads while another thread rewrites it: the
    // driver must copy it once and check the copy.
    drm_mtia_cmd racy_cmds_[8] = {};
};

template <typename T>
const T &pick(std::mt19937_64 &rng, const std::vector<T> &v)
{
    return v[rng() % v.size()];
}
bool chance(std::mt19937_64 &rng, unsigned percent) { return rng() % 100 < percent; }

void Worker::note(Call c, int err)
{
    g_shared->outcome[c][err >= 0 && err < kErrnos ? err : kErrnos - 1].fetch_add(1, std::memory_order_relaxed);
    g_shared->calls.fetch_add(1, std::memory_order_relaxed);
    g_shared->last_return_ms[index_].store(now_ms(), std::memory_order_relaxed);
}

int Worker::call(Call c, int fd, unsigned long req, void *arg)
{
    int err = ioctl(fd, req, arg) == 0 ? 0 : errno;
    note(c, err);
    return err;
}

FileRec *Worker::file_of(int fd)
{
    for (auto &f : files_)
        if (f.fd == fd) return &f;
    return nullptr;
}

bool Worker::pick_file(std::mt19937_64 &rng, int fd, FileRec *out)
{
    std::lock_guard<std::mutex> l(mu_);
    FileRec *f = fd >= 0 ? file_of(fd) : nullptr;
    if (!f && files_.empty()) return false;
    *out = f ? *f : pick(rng, files_);
    return true;
}

// Values at and around an edge, and the extremes.
uint64_t Worker::edge_value(std::mt19937_64 &rng, uint64_t around)
{
    switch (rng() % 10) {
        case 0:
            return 0;
        case 1:
            return around;
        case 2:
            return around - 1;
        case 3:
            return around + 1;
        case 4:
            return around + 4096;
        case 5:
            return ~0ull;
        case 6:
            return ~0ull - around + 1;  // wraps when added to around
        case 7:
            return 1ull << (rng() % 64);
        case 8:
            return rng();
        default:
            return around ? rng() % around : 0;
    }
}

uint64_t Worker::bad_pointer(std::mt19937_64 &rng)
{
    static const uint64_t kBad[] = {0, 1, 4096, 0xffff888000000000ull, 0xffffffffff600000ull, ~0ull, 0x7fffffffe000ull};
    return kBad[rng() % (sizeof(kBad) / sizeof(kBad[0]))];
}

void Worker::act_open(std::mt19937_64 &rng)
{
    std::lock_guard<std::mutex> l(mu_);
    if (files_.size() >= 4) return;
    int fd = open(pick(rng, nodes_).c_str(), O_RDWR | O_CLOEXEC);
    note(C_OPEN, fd < 0 ? errno : 0);
    if (fd >= 0) files_.push_back(FileRec{fd, {}, {}, {}, {}, {}});
}

// Closes (or dup2-replaces) an fd other threads may be using right now: their
// calls then fail with EBADF, or land on whatever file reuses the number,
// which is always another of this process's mtia files.
void Worker::act_close(std::mt19937_64 &rng)
{
    std::lock_guard<std::mutex> l(mu_);
    if (files_.size() < 2) return;
    size_t i = rng() % files_.size();
    note(C_CLOSE, close(files_[i].fd) ? errno : 0);
    files_.erase(files_.begin() + i);
}

void Worker::act_get_info(std::mt19937_64 &rng, int fd)
{
    struct {
        drm_mtia_info info;
        uint8_t slack[64];
    } buf;
    drm_mtia_get_info a{};
    a.size = chance(rng, 70) ? sizeof(drm_mtia_info) : static_cast<uint32_t>(edge_value(rng, MTIA_INFO_SIZE_V0));
    if (a.size > sizeof(buf) && chance(rng, 50)) a.size = sizeof(buf);
    a.info_ptr = chance(rng, 80) ? reinterpret_cast<uintptr_t>(&buf) : bad_pointer(rng);
    if (chance(rng, 10)) a.flags = 1u << (rng() % 32);
    if (chance(rng, 10)) a.reserved[rng() % 2] = rng();
    // A size beyond our buffer with a real pointer would let the kernel
    // write past it, as it must only if asked to: keep it within buf.
    if (a.info_ptr == reinterpret_cast<uintptr_t>(&buf) && a.size > sizeof(buf)) a.size = sizeof(buf);
    call(C_GET_INFO, fd, DRM_IOCTL_MTIA_GET_INFO, &a);
}

void Worker::act_bo_create(std::mt19937_64 &rng, int fd)
{
    static const uint64_t kSizes[] = {1, 4095, 4096, 65536, 1 << 20, 4 << 20};
    drm_mtia_bo_create a{};
    a.size = chance(rng, 85) ? kSizes[rng() % 6] : edge_value(rng, 1ull << 28);
    a.placement = chance(rng, 90) ? static_cast<uint32_t>(rng() % 2) : static_cast<uint32_t>(rng());
    if (chance(rng, 5)) a.flags = 1u << (rng() % 32);
    if (chance(rng, 5)) a.pad = 1;
    if (chance(rng, 5)) a.reserved[rng() % 2] = 1;
    if (call(C_BO_CREATE, fd, DRM_IOCTL_MTIA_BO_CREATE, &a)) return;
    drm_mtia_bo_info i{};
    i.handle = a.handle;
    if (call(C_BO_INFO, fd, DRM_IOCTL_MTIA_BO_INFO, &i)) return;
    std::lock_guard<std::mutex> l(mu_);
    FileRec *f = file_of(fd);
    // Kept BOs stay within a budget: jobs pin the host ones, and a guest
    // out of memory would only show the OOM killer at work.
    uint64_t kept = 0;
    for (const auto &g : files_)
        for (const auto &b : g.bos) kept += b.size;
    if (!f || f->bos.size() >= 32 || kept + i.size > kBoBudget) {
        drm_gem_close gc{};
        gc.handle = a.handle;
        call(C_GEM_CLOSE, fd, DRM_IOCTL_GEM_CLOSE, &gc);
        return;
    }
    f->bos.push_back(BoRec{a.handle, i.size, i.mmap_offset, i.placement});
}

void Worker::act_bo_info(std::mt19937_64 &rng, int fd)
{
    FileRec f;
    if (!pick_file(rng, fd, &f)) return;
    drm_mtia_bo_info a{};
    a.handle = !f.bos.empty() && chance(rng, 80) ? pick(rng, f.bos).handle : static_cast<uint32_t>(edge_value(rng, 8));
    if (chance(rng, 5)) a.flags = 1;
    if (chance(rng, 5)) a.reserved[1] = 1;
    call(C_BO_INFO, fd, DRM_IOCTL_MTIA_BO_INFO, &a);
}

// Closes a BO that jobs in flight may still use: they hold it until done.
void Worker::act_gem_close(std::mt19937_64 &rng, int fd)
{
    drm_gem_close a{};
    {
        std::lock_guard<std::mutex> l(mu_);
        FileRec *f = file_of(fd);
        if (f && !f->bos.empty() && chance(rng, 80)) {
            size_t i = rng() % f->bos.size();
            a.handle = f->bos[i].handle;
            f->bos.erase(f->bos.begin() + i);
        } else {
            a.handle = static_cast<uint32_t>(edge_value(rng, 16));
        }
    }
    if (chance(rng, 5)) a.pad = 1;
    call(C_GEM_CLOSE, fd, DRM_IOCTL_GEM_CLOSE, &a);
}

void Worker::act_mmap(std::mt19937_64 &rng, int fd)
{
    FileRec f;
    if (!pick_file(rng, fd, &f) || f.bos.empty()) return;
    const BoRec &b = pick(rng, f.bos);
    uint64_t off = chance(rng, 80) ? b.mmap_offset : edge_value(rng, b.mmap_offset) & ~4095ull;
    uint64_t len = chance(rng, 80) ? b.size : (edge_value(rng, b.size) & ~4095ull);
    if (!len || len > (1ull << 32)) len = 4096;
    int prot = chance(rng, 80) ? PROT_READ | PROT_WRITE : PROT_READ;
    void *p = mmap(nullptr, len, prot, MAP_SHARED, fd, static_cast<off_t>(off));
    note(C_MMAP, p == MAP_FAILED ? errno : 0);
    if (p == MAP_FAILED) return;
    // Only touch what is ours for sure: a mapping of exactly this BO. A
    // stale offset that maps another BO or a longer length is not touched.
    if (off == b.mmap_offset && len == b.size) {
        volatile uint8_t *m = static_cast<volatile uint8_t *>(p);
        (void)m[0];
        (void)m[len - 1];
        if (prot & PROT_WRITE) m[rng() % len] = static_cast<uint8_t>(rng());
    }
    munmap(p, len);
}

void Worker::act_queue(std::mt19937_64 &rng, int fd)
{
    if (chance(rng, 60)) {
        drm_mtia_queue_create a{};
        a.priority = chance(rng, 90) ? static_cast<uint32_t>(rng() % 3) : static_cast<uint32_t>(edge_value(rng, 3));
        if (chance(rng, 5)) a.flags = 1;
        if (chance(rng, 5)) a.pad = 1;
        if (chance(rng, 5)) a.reserved[0] = 1;
        if (call(C_QUEUE_CREATE, fd, DRM_IOCTL_MTIA_QUEUE_CREATE, &a)) return;
        std::lock_guard<std::mutex> l(mu_);
        if (FileRec *f = file_of(fd); f && f->queues.size() < 8) f->queues.push_back(a.queue_id);
        return;
    }
    drm_mtia_queue_destroy a{};
    {
        std::lock_guard<std::mutex> l(mu_);
        FileRec *f = file_of(fd);
        if (f && !f->queues.empty() && chance(rng, 70)) {
            size_t i = rng() % f->queues.size();
            a.queue_id = f->queues[i];
            f->queues.erase(f->queues.begin() + i);
        } else {
            a.queue_id = static_cast<uint32_t>(edge_value(rng, 64));
        }
    }
    if (chance(rng, 5)) a.flags = 1;
    call(C_QUEUE_DESTROY, fd, DRM_IOCTL_MTIA_QUEUE_DESTROY, &a);
}

// A command that is valid for the job's BOs (their sizes in @sizes, the
// device ones flagged in @dev), or with probability @bad_pct one field
// made wrong: an edge value, a random opcode or flag, a non-zero pad.
drm_mtia_cmd Worker::random_cmd(std::mt19937_64 &rng, const std::vector<BoRec> &bos, unsigned bad_pct)
{
    static const uint8_t kOps[] = {MTIA_CMD_NOP,       MTIA_CMD_COPY,  MTIA_CMD_FILL, MTIA_CMD_FILL,
                                   MTIA_CMD_TIMESTAMP, MTIA_CMD_FENCE, MTIA_CMD_COPY, MTIA_CMD_COMPUTE};
    drm_mtia_cmd c{};
    c.opcode = bos.empty() ? MTIA_CMD_NOP : kOps[rng() % 8];
    const uint32_t n = bos.size();
    auto any_bo = [&] { return static_cast<uint32_t>(rng() % n); };
    auto device_bo = [&]() -> int64_t {
        for (uint32_t k = 0, at = rng() % n; k < n; k++)
            if (bos[(at + k) % n].placement == MTIA_BO_DEVICE) return (at + k) % n;
        return -1;
    };
    // [off, off + len) inside a BO of @size: off < size, 1 <= len <= size - off.
    auto range = [&](uint64_t size, __u64 *off, __u64 *len, uint64_t align) {
        *off = (rng() % size) & ~(align - 1);
        uint64_t room = size - *off;
        *len = room < align ? room : ((1 + rng() % room) + align - 1) & ~(align - 1);
        if (*len > room) *len = room & ~(align - 1);
    };
    switch (c.opcode) {
        case MTIA_CMD_TIMESTAMP:
            c.dst_bo = any_bo();
            c.dst_offset = (rng() % (bos[c.dst_bo].size / 8)) * 8;
            c.len = 8;
            break;
        case MTIA_CMD_FILL:
            c.dst_bo = any_bo();
            if (chance(rng, 30)) c.flags = MTIA_CMD_F_FILL64;
            range(bos[c.dst_bo].size, &c.dst_offset, &c.len, c.flags ? 8 : 1);
            c.value = rng();
            break;
        case MTIA_CMD_COPY: {
            c.src_bo = any_bo(), c.dst_bo = any_bo();
            __u64 dlen;
            range(bos[c.src_bo].size, &c.src_offset, &c.len, 1);
            range(bos[c.dst_bo].size, &c.dst_offset, &dlen, 1);
            if (dlen < c.len) c.len = dlen;
            break;
        }
        case MTIA_CMD_COMPUTE: {  // a program of whatever the BO holds: the device validates it
            int64_t arena = device_bo();
            if (arena < 0) {
                c.opcode = MTIA_CMD_FENCE;
                break;
            }
            c.src_bo = any_bo();
            c.len = MTIA_OP_BYTES * (1 + rng() % 4);
            if (c.len > bos[c.src_bo].size) c.len = MTIA_OP_BYTES;
            c.dst_bo = static_cast<uint32_t>(arena);
            range(bos[c.dst_bo].size, &c.dst_offset, &c.value, 8);
            break;
        }
        default:
            break;
    }
    if (!chance(rng, bad_pct)) return c;
    switch (rng() % 10) {
        case 0:
            c.opcode = static_cast<uint8_t>(rng());
            break;
        case 1:
            c.flags = static_cast<uint8_t>(1u << (rng() % 8));
            break;
        case 2:
            c.len = edge_value(rng, c.len);
            break;
        case 3:
            c.src_offset = edge_value(rng, c.src_offset + c.len);
            break;
        case 4:
            c.dst_offset = edge_value(rng, c.dst_offset + c.len);
            break;
        case 5:
            c.src_bo = static_cast<uint32_t>(edge_value(rng, n));
            break;
        case 6:
            c.dst_bo = static_cast<uint32_t>(edge_value(rng, n));
            break;
        case 7:
            c.value = edge_value(rng, c.value);
            break;
        case 8:
            c.pad0 = 1, c.pad1 = static_cast<uint32_t>(rng());
            break;
        default:
            c.reserved[rng() % 2] = 1;
            break;
    }
    return c;
}

void Worker::act_submit(std::mt19937_64 &rng, int fd)
{
    FileRec f;
    if (!pick_file(rng, fd, &f)) return;
    std::vector<BoRec> job_bos;
    unsigned nb = f.bos.empty() ? 0 : 1 + rng() % 4;
    for (unsigned i = 0; i < nb; i++) job_bos.push_back(pick(rng, f.bos));
    std::vector<uint32_t> bos;
    for (const BoRec &b : job_bos) bos.push_back(b.handle);
    if (chance(rng, 5)) bos.push_back(static_cast<uint32_t>(rng()));  // a handle this file never had
    // Half the jobs are valid throughout, the others have wrong fields.
    unsigned bad_pct = chance(rng, 50) ? 0 : 10 + rng() % 40;
    std::vector<drm_mtia_cmd> cmds;
    unsigned nc = 1 + rng() % 8;
    for (unsigned i = 0; i < nc; i++) cmds.push_back(random_cmd(rng, job_bos, bad_pct));
    std::vector<uint32_t> ins;
    if (!f.syncobjs.empty() && chance(rng, 20)) ins.push_back(pick(rng, f.syncobjs));
    if (chance(rng, 3)) ins.push_back(static_cast<uint32_t>(rng()));

    drm_mtia_submit a{};
    a.cmds = reinterpret_cast<uintptr_t>(cmds.data());
    a.cmd_count = nc;
    a.bo_handles = reinterpret_cast<uintptr_t>(bos.data());
    a.bo_count = bos.size();
    a.in_syncobjs = reinterpret_cast<uintptr_t>(ins.data());
    a.in_syncobj_count = ins.size();
    a.out_syncobj = !f.syncobjs.empty() && chance(rng, 30) ? pick(rng, f.syncobjs) : 0;
    a.queue_id = !f.queues.empty() && chance(rng, 90) ? pick(rng, f.queues) : static_cast<uint32_t>(edge_value(rng, 8));
    switch (rng() % 40) {  // one thing wrong with the call itself, sometimes
        case 0:
            a.cmds = bad_pointer(rng);
            break;
        case 1:
            a.bo_handles = bad_pointer(rng);
            break;
        case 2:
            a.in_syncobjs = bad_pointer(rng), a.in_syncobj_count = 1 + rng() % 4;
            break;
        case 3:
            a.cmd_count = static_cast<uint32_t>(edge_value(rng, MTIA_MAX_CMDS_PER_JOB));
            break;
        case 4:
            a.bo_count = static_cast<uint32_t>(edge_value(rng, MTIA_MAX_BOS_PER_JOB));
            break;
        case 5:
            a.in_syncobj_count = static_cast<uint32_t>(edge_value(rng, MTIA_MAX_SYNCOBJS));
            break;
        case 6:
            a.flags = 1u << (rng() % 32);
            break;
        case 7:
            a.reserved[rng() % 2] = 1;
            break;
        case 8:
            a.out_syncobj = static_cast<uint32_t>(rng());
            break;
        case 9:
            a.cmd_count = 0;
            break;
        case 10:  // counts beyond the arrays: the kernel reads past them and must
                  // fault cleanly (the vectors' memory is followed by the heap)
            a.cmd_count = nc + 1 + rng() % 64;
            break;
        case 11:
        case 12: {  // the array is rewritten while SUBMIT reads it
            for (unsigned i = 0; i < nc && i < 8; i++) racy_cmds_[i] = cmds[i];
            a.cmds = reinterpret_cast<uintptr_t>(racy_cmds_);
            a.cmd_count = nc < 8 ? nc : 8;
            break;
        }
        default:
            break;
    }
    if (call(C_SUBMIT, fd, DRM_IOCTL_MTIA_SUBMIT, &a)) return;
    g_shared->jobs.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard<std::mutex> l(mu_);
    if (FileRec *r = file_of(fd)) {
        if (r->jobs.size() >= 64) r->jobs.erase(r->jobs.begin());
        r->jobs.emplace_back(a.queue_id, a.seqno);
    }
}

void Worker::act_wait(std::mt19937_64 &rng, int fd)
{
    FileRec f;
    if (!pick_file(rng, fd, &f)) return;
    drm_mtia_wait a{};
    if (!f.jobs.empty() && chance(rng, 85)) {
        auto j = pick(rng, f.jobs);
        a.queue_id = j.first;
        a.seqno = chance(rng, 90) ? j.second : edge_value(rng, j.second);
    } else {
        a.queue_id = static_cast<uint32_t>(edge_value(rng, 8));
        a.seqno = edge_value(rng, 16);
    }
    a.timeout_ns = chance(rng, 50) ? 0 : (rng() % 20) * 1000000ull;  // never long: the run is bounded
    if (chance(rng, 5)) a.flags = 1;
    if (chance(rng, 5)) a.status = -1, a.cqe_status = 7;  // outputs: ignored on input
    call(C_WAIT, fd, DRM_IOCTL_MTIA_WAIT, &a);
}

void Worker::act_syncobj(std::mt19937_64 &rng, int fd)
{
    FileRec f;
    if (!pick_file(rng, fd, &f)) return;
    uint32_t h = !f.syncobjs.empty() && chance(rng, 85) ? pick(rng, f.syncobjs) : static_cast<uint32_t>(rng() % 64);
    switch (rng() % 6) {
        case 0: {
            drm_syncobj_create a{};
            a.flags = chance(rng, 30) ? DRM_SYNCOBJ_CREATE_SIGNALED : (chance(rng, 5) ? 1u << (rng() % 32) : 0);
            if (call(C_SYNC_CREATE, fd, DRM_IOCTL_SYNCOBJ_CREATE, &a)) return;
            std::lock_guard<std::mutex> l(mu_);
            if (FileRec *r = file_of(fd); r && r->syncobjs.size() < 16) r->syncobjs.push_back(a.handle);
            return;
        }
        case 1: {
            drm_syncobj_destroy a{};
            a.handle = h;
            {
                std::lock_guard<std::mutex> l(mu_);
                if (FileRec *r = file_of(fd))
                    for (size_t i = 0; i < r->syncobjs.size(); i++)
                        if (r->syncobjs[i] == h) r->syncobjs.erase(r->syncobjs.begin() + i--);
            }
            call(C_SYNC_DESTROY, fd, DRM_IOCTL_SYNCOBJ_DESTROY, &a);
            return;
        }
        case 2:
        case 3: {
            uint32_t handles[2] = {h, !f.syncobjs.empty() ? pick(rng, f.syncobjs) : h};
            drm_syncobj_wait a{};
            a.handles = reinterpret_cast<uintptr_t>(handles);
            a.count_handles = 1 + rng() % 2;
            a.timeout_nsec = 0;  // absolute CLOCK_MONOTONIC: 0 polls
            a.flags = static_cast<uint32_t>(rng() % 8) &
                      (DRM_SYNCOBJ_WAIT_FLAGS_WAIT_ALL | DRM_SYNCOBJ_WAIT_FLAGS_WAIT_FOR_SUBMIT);
            call(C_SYNC_WAIT, fd, DRM_IOCTL_SYNCOBJ_WAIT, &a);
            return;
        }
        case 4: {  // to an fd and back into another file of this process
            drm_syncobj_handle a{};
            a.handle = h;
            if (call(C_SYNC_EXPORT, fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &a)) return;
            FileRec g;
            if (pick_file(rng, -1, &g)) {
                drm_syncobj_handle b{};
                b.fd = a.fd;
                if (!call(C_SYNC_IMPORT, g.fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &b)) {
                    std::lock_guard<std::mutex> l(mu_);
                    if (FileRec *r = file_of(g.fd); r && r->syncobjs.size() < 16) r->syncobjs.push_back(b.handle);
                }
            }
            close(a.fd);
            return;
        }
        default: {  // an fd that is not a syncobj
            drm_syncobj_handle b{};
            b.fd = chance(rng, 50) ? fd : static_cast<int32_t>(edge_value(rng, 3));
            call(C_SYNC_IMPORT, fd, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &b);
            return;
        }
    }
}

// Command numbers the driver does not have, and its own with a wrong size
// or direction in the encoding.
void Worker::act_unknown(std::mt19937_64 &rng, int fd)
{
    uint64_t buf[32] = {};
    for (auto &w : buf) w = chance(rng, 50) ? 0 : rng();
    unsigned nr = DRM_COMMAND_BASE + static_cast<unsigned>(rng() % 0x20);
    unsigned size = static_cast<unsigned>(rng() % sizeof(buf));
    unsigned long req;
    switch (rng() % 3) {
        case 0:
            req = _IOC(_IOC_READ | _IOC_WRITE, DRM_IOCTL_BASE, nr, size);
            break;
        case 1:
            req = _IOC(_IOC_WRITE, DRM_IOCTL_BASE, nr, size);
            break;
        default:
            req = _IOC(_IOC_NONE, DRM_IOCTL_BASE, nr, 0);
            break;
    }
    call(C_UNKNOWN_NR, fd, req,
         chance(rng, 90) ? static_cast<void *>(buf) : reinterpret_cast<void *>(bad_pointer(rng)));
}

// A child of this process that queues work on a file of its own and then
// exits or is killed with the work in flight.
void Worker::child_job(const std::string &node, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    int fd = open(node.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) _exit(0);
    drm_mtia_bo_create b{};
    b.size = 4 << 20;
    b.placement = static_cast<uint32_t>(rng() % 2);
    drm_mtia_queue_create q{};
    q.priority = static_cast<uint32_t>(rng() % 3);
    if (ioctl(fd, DRM_IOCTL_MTIA_BO_CREATE, &b) || ioctl(fd, DRM_IOCTL_MTIA_QUEUE_CREATE, &q)) _exit(0);
    drm_mtia_cmd cmds[16] = {};
    for (auto &c : cmds) {
        c.opcode = MTIA_CMD_FILL;
        c.len = b.size;
        c.value = rng();
    }
    for (int i = 0; i < 8; i++) {
        drm_mtia_submit s{};
        s.cmds = reinterpret_cast<uintptr_t>(cmds);
        s.cmd_count = 16;
        s.bo_handles = reinterpret_cast<uintptr_t>(&b.handle);
        s.bo_count = 1;
        s.queue_id = q.queue_id;
        if (ioctl(fd, DRM_IOCTL_MTIA_SUBMIT, &s)) break;
        g_shared->jobs.fetch_add(1, std::memory_order_relaxed);
    }
    if (rng() % 2) _exit(0);  // exit with the jobs queued; else wait to be killed
    pause();
    _exit(0);
}

// Direct queues: create (mostly valid), destroy, wait, BO_MAP, and feeding
// one: its rings and doorbell mapped (sometimes with wrong lengths or
// protections), random commands with the file's or a forged context and
// VAs of its BOs or anything, the doorbell rung in or out of range.
void Worker::act_direct(std::mt19937_64 &rng, int fd)
{
    FileRec f;
    if (!pick_file(rng, fd, &f)) return;
    const unsigned what = rng() % 11;
    if (what < 2) {
        drm_mtia_direct_create a{};
        a.priority = static_cast<uint32_t>(chance(rng, 90) ? rng() % 3 : edge_value(rng, 3));
        a.sq_order = static_cast<uint32_t>(chance(rng, 85) ? 2 + rng() % 7 : edge_value(rng, MTIA_DIRECT_ORDER_MAX));
        a.cq_order = static_cast<uint32_t>(chance(rng, 85) ? 2 + rng() % 7 : edge_value(rng, MTIA_DIRECT_ORDER_MAX));
        if (chance(rng, 5)) a.flags = 1;
        if (chance(rng, 5)) a.reserved = 1;
        if (chance(rng, 5)) a.fence_va = 1;
        if (call(C_DIRECT_CREATE, fd, DRM_IOCTL_MTIA_DIRECT_CREATE, &a)) return;
        std::lock_guard<std::mutex> l(mu_);
        if (FileRec *r = file_of(fd)) r->directs.push_back(DirectRec{a, 0});
        return;
    }
    if (what < 3) {
        drm_mtia_direct_destroy a{};
        {
            std::lock_guard<std::mutex> l(mu_);
            FileRec *r = file_of(fd);
            if (r && !r->directs.empty() && chance(rng, 80)) {
                size_t i = rng() % r->directs.size();
                a.queue_id = r->directs[i].c.queue_id;
                r->directs.erase(r->directs.begin() + i);
            } else {
                a.queue_id = static_cast<uint32_t>(edge_value(rng, 4));
            }
        }
        if (chance(rng, 5)) a.flags = 1;
        call(C_DIRECT_DESTROY, fd, DRM_IOCTL_MTIA_DIRECT_DESTROY, &a);
        return;
    }
    if (what < 5) {
        drm_mtia_bo_map a{};
        a.handle =
            !f.bos.empty() && chance(rng, 85) ? pick(rng, f.bos).handle : static_cast<uint32_t>(edge_value(rng, 16));
        if (chance(rng, 5)) a.reserved[0] = 1;
        call(C_BO_MAP, f.fd, DRM_IOCTL_MTIA_BO_MAP, &a);
        return;
    }
    if (f.directs.empty()) return;
    DirectRec d = pick(rng, f.directs);
    if (what < 7) {
        drm_mtia_direct_wait a{};
        a.queue_id = chance(rng, 90) ? d.c.queue_id : static_cast<uint32_t>(edge_value(rng, 4));
        a.cq_index = static_cast<uint32_t>(chance(rng, 90) ? rng() % (1u << d.c.cq_order) : edge_value(rng, 64));
        a.phase = static_cast<uint32_t>(chance(rng, 95) ? rng() % 2 : 2);
        a.timeout_ns = chance(rng, 50) ? 0 : rng() % 2000000;
        call(C_DIRECT_WAIT, f.fd, DRM_IOCTL_MTIA_DIRECT_WAIT, &a);
        return;
    }
    if (what < 8) {
        drm_mtia_direct_signal a{};
        a.queue_id = chance(rng, 90) ? d.c.queue_id : static_cast<uint32_t>(edge_value(rng, 4));
        a.value = chance(rng, 90) ? 1 + rng() % 64 : edge_value(rng, 64);
        a.syncobj = !f.syncobjs.empty() && chance(rng, 85) ? pick(rng, f.syncobjs) : static_cast<uint32_t>(rng() % 64);
        if (chance(rng, 5)) a.flags = 1;
        if (chance(rng, 5)) a.pad = 1;
        if (chance(rng, 5)) a.reserved[rng() % 2] = 1;
        call(C_DIRECT_SIGNAL, f.fd, DRM_IOCTL_MTIA_DIRECT_SIGNAL, &a);
        return;
    }
    direct_feed(rng, f.fd, d, f.bos);
}

void Worker::direct_feed(std::mt19937_64 &rng, int fd, DirectRec &d, const std::vector<BoRec> &bos)
{
    const uint64_t sq_len = sizeof(mtia_cmd) << d.c.sq_order, entries = 1ull << d.c.sq_order;
    const uint64_t len = chance(rng, 90) ? sq_len : edge_value(rng, sq_len) & ~4095ull;
    const uint64_t off = chance(rng, 90) ? d.c.sq_offset : edge_value(rng, d.c.doorbell_offset) & ~4095ull;
    void *sq = mmap(nullptr, len ? len : 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(off));
    note(C_MMAP, sq == MAP_FAILED ? errno : 0);
    void *db = mmap(nullptr, 4096, PROT_WRITE, MAP_SHARED, fd, static_cast<off_t>(d.c.doorbell_offset));
    note(C_MMAP, db == MAP_FAILED ? errno : 0);
    if (sq != MAP_FAILED && db != MAP_FAILED && off == d.c.sq_offset && len == sq_len) {
        auto *cmds = static_cast<mtia_cmd *>(sq);
        const unsigned n = 1 + rng() % 8;
        for (unsigned i = 0; i < n; i++) {
            mtia_cmd c{};
            c.opcode = static_cast<uint8_t>(chance(rng, 90) ? rng() % 6 : rng());
            c.ctx = chance(rng, 85) ? d.c.ctx : static_cast<uint32_t>(edge_value(rng, d.c.ctx));
            c.len = chance(rng, 80) ? 64 * (1 + rng() % 64) : edge_value(rng, 4096);
            c.value = rng();
            drm_mtia_bo_map m{};
            if (!bos.empty() && chance(rng, 80)) {
                m.handle = pick(rng, bos).handle;
                if (!ioctl(fd, DRM_IOCTL_MTIA_BO_MAP, &m)) c.dst.addr = m.va + rng() % 4096;
            }
            if (!c.dst.addr) c.dst.addr = edge_value(rng, 1ull << 20);
            if (chance(rng, 15)) {  // the fence word, as DIRECT_SIGNAL's fences expect it
                c.opcode = MTIA_CMD_FILL;
                c.flags = MTIA_CMD_F_FILL64;
                c.len = 8;
                c.value = 1 + rng() % 64;
                c.dst.addr = d.c.fence_va;
            }
            c.src.addr = chance(rng, 50) ? c.dst.addr : edge_value(rng, c.dst.addr);
            if (chance(rng, 5)) c.reserved = 1;
            cmds[d.tail % entries] = c;
            d.tail = static_cast<uint32_t>((d.tail + 1) % entries);
        }
        std::atomic_thread_fence(std::memory_order_release);
        const uint32_t v = chance(rng, 90) ? d.tail : static_cast<uint32_t>(edge_value(rng, entries));
        static_cast<volatile uint32_t *>(db)[(chance(rng, 90) ? MTIA_DB_SQ_TAIL : MTIA_DB_CQ_HEAD) / 4] = v;
        std::lock_guard<std::mutex> l(mu_);
        if (FileRec *r = file_of(fd))
            for (auto &x : r->directs)
                if (x.c.queue_id == d.c.queue_id) x.tail = d.tail;
    }
    if (sq != MAP_FAILED) munmap(sq, len ? len : 4096);
    if (db != MAP_FAILED) munmap(db, 4096);
}

void Worker::act_fork(std::mt19937_64 &rng)
{
    const std::string &node = pick(rng, nodes_);
    uint64_t seed = rng();
    pid_t pid = fork();
    note(C_FORK, pid < 0 ? errno : 0);
    if (pid == 0) child_job(node, seed);
    if (pid < 0) return;
    // Kill it at a random point: before, during or after its submits.
    usleep(static_cast<useconds_t>(rng() % 20000));
    if (kill(pid, SIGKILL) == 0) g_shared->killed_mid_job.fetch_add(1, std::memory_order_relaxed);
    waitpid(pid, nullptr, 0);
}

void Worker::step(std::mt19937_64 &rng)
{
    int fd;
    {
        std::lock_guard<std::mutex> l(mu_);
        if (files_.empty())
            fd = -1;
        else
            fd = pick(rng, files_).fd;
    }
    if (fd < 0) return act_open(rng);
    unsigned r = rng() % 100;
    if (r < 2) return act_open(rng);
    if (r < 3) return act_close(rng);
    if (r < 4) return act_fork(rng);
    if (r < 8) return act_get_info(rng, fd);
    if (r < 20) return act_bo_create(rng, fd);
    if (r < 25) return act_bo_info(rng, fd);
    if (r < 31) return act_gem_close(rng, fd);
    if (r < 38) return act_mmap(rng, fd);
    if (r < 44) return act_queue(rng, fd);
    if (r < 70) return act_submit(rng, fd);
    if (r < 82) return act_wait(rng, fd);
    if (r < 91) return act_syncobj(rng, fd);
    if (r < 97) return act_direct(rng, fd);
    return act_unknown(rng, fd);
}

void Worker::thread_main(int t)
{
    std::mt19937_64 rng(seed_ * 1000003u + static_cast<uint64_t>(t));
    while (now_ms() < deadline_ms_) {
        step(rng);
        // The racy array: scribbled on between (and during) submits.
        racy_cmds_[rng() % 8].opcode = static_cast<uint8_t>(rng() % 8);
        racy_cmds_[rng() % 8].len = rng();
    }
}

void Worker::run(int threads)
{
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; t++) ts.emplace_back([this, t] { thread_main(t); });
    for (auto &t : ts) t.join();
    // Files close at exit with whatever is still queued.
}

// ---- the final check: a fresh file runs a right job --------------------------
int xioctl(int fd, unsigned long req, void *arg) { return drmIoctl(fd, req, arg) ? errno : 0; }

bool final_job_ok(const std::string &node)
{
    constexpr uint64_t kBytes = 1 << 20;
    int fd = open(node.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return std::fprintf(stderr, "final: open %s: %s\n", node.c_str(), strerror(errno)), false;
    drm_mtia_bo_create b[3] = {};
    uint8_t *map[3] = {};
    for (int i = 0; i < 3; i++) {
        b[i].size = kBytes;
        b[i].placement = i == 1 ? MTIA_BO_DEVICE : MTIA_BO_HOST;
        drm_mtia_bo_info info{};
        if (xioctl(fd, DRM_IOCTL_MTIA_BO_CREATE, &b[i]) ||
            (info.handle = b[i].handle, xioctl(fd, DRM_IOCTL_MTIA_BO_INFO, &info)))
            return std::fprintf(stderr, "final: BO: %s\n", strerror(errno)), false;
        void *p = mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, info.mmap_offset);
        if (p == MAP_FAILED) return std::fprintf(stderr, "final: mmap: %s\n", strerror(errno)), false;
        map[i] = static_cast<uint8_t *>(p);
    }
    for (uint64_t i = 0; i < kBytes; i++) map[0][i] = static_cast<uint8_t>(i * 131 + 7);
    drm_mtia_queue_create q{};
    if (xioctl(fd, DRM_IOCTL_MTIA_QUEUE_CREATE, &q))
        return std::fprintf(stderr, "final: queue: %s\n", strerror(errno)), false;
    drm_mtia_cmd cmds[3] = {};
    cmds[0].opcode = MTIA_CMD_COPY, cmds[0].src_bo = 0, cmds[0].dst_bo = 1, cmds[0].len = kBytes;
    cmds[1].opcode = MTIA_CMD_COPY, cmds[1].src_bo = 1, cmds[1].dst_bo = 2, cmds[1].len = kBytes;
    cmds[2].opcode = MTIA_CMD_FILL, cmds[2].dst_bo = 2, cmds[2].dst_offset = kBytes - 4096, cmds[2].len = 4096,
    cmds[2].value = 0x5a;
    uint32_t handles[3] = {b[0].handle, b[1].handle, b[2].handle};
    drm_mtia_submit s{};
    s.cmds = reinterpret_cast<uintptr_t>(cmds);
    s.cmd_count = 3;
    s.bo_handles = reinterpret_cast<uintptr_t>(handles);
    s.bo_count = 3;
    s.queue_id = q.queue_id;
    if (xioctl(fd, DRM_IOCTL_MTIA_SUBMIT, &s))
        return std::fprintf(stderr, "final: submit: %s\n", strerror(errno)), false;
    drm_mtia_wait w{};
    w.queue_id = q.queue_id;
    w.seqno = s.seqno;
    w.timeout_ns = 60ull * 1000000000ull;
    if (xioctl(fd, DRM_IOCTL_MTIA_WAIT, &w) || w.status)
        return std::fprintf(stderr, "final: wait: %s, status %d cqe %u\n", strerror(errno), w.status, w.cqe_status),
               false;
    for (uint64_t i = 0; i < kBytes; i++) {
        uint8_t want = i >= kBytes - 4096 ? 0x5a : static_cast<uint8_t>(i * 131 + 7);
        if (map[2][i] != want)
            return std::fprintf(stderr, "final: byte %llu is %u, want %u\n", (unsigned long long)i, map[2][i], want),
                   false;
    }
    close(fd);
    return true;
}

// Where each thread of a stuck process is in the kernel (root reads
// /proc/PID/task/TID/stack): the first thing a hang report needs.
void print_kernel_stacks(pid_t pid)
{
    const std::string dir = "/proc/" + std::to_string(pid) + "/task";
    DIR *d = opendir(dir.c_str());
    if (!d) return;
    while (dirent *e = readdir(d)) {
        if (e->d_name[0] == '.') continue;
        std::fprintf(stderr, "ioctl-fuzz: pid %d thread %s kernel stack:\n", pid, e->d_name);
        if (FILE *f = std::fopen((dir + "/" + e->d_name + "/stack").c_str(), "r")) {
            char line[256];
            while (std::fgets(line, sizeof(line), f)) std::fprintf(stderr, "    %s", line);
            std::fclose(f);
        }
    }
    closedir(d);
}

}  // namespace

int main(int argc, char **argv)
{
    int seconds = 20, procs = 3, threads = 3;
    uint64_t seed = static_cast<uint64_t>(time(nullptr));
    std::vector<std::string> nodes;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        auto next = [&] {
            return i + 1 < argc ? argv[++i] : (std::fprintf(stderr, "%s needs a value\n", a.c_str()), exit(2), nullptr);
        };
        if (a == "--seconds")
            seconds = std::atoi(next());
        else if (a == "--procs")
            procs = std::atoi(next());
        else if (a == "--threads")
            threads = std::atoi(next());
        else if (a == "--seed")
            seed = std::strtoull(next(), nullptr, 0);
        else if (a[0] == '-')
            return std::fprintf(stderr,
                                "usage: ioctl_fuzz [--seconds S] [--procs P] [--threads T] [--seed N] NODE...\n"),
                   2;
        else
            nodes.push_back(a);
    }
    if (nodes.empty() || procs < 1 || procs > 64 || threads < 1 || seconds < 1)
        return std::fprintf(stderr,
                            "usage: ioctl_fuzz [--seconds S] [--procs 1..64] [--threads T] [--seed N] NODE...\n"),
               2;
    void *shm = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) return perror("mmap"), 2;
    g_shared = new (shm) Shared();
    g_t0 = Clock::now();
    const int64_t deadline = seconds * 1000ll;
    std::printf("ioctl-fuzz: seed %llu, %d processes x %d threads, %d s, on %zu node(s)\n", (unsigned long long)seed,
                procs, threads, seconds, nodes.size());
    std::fflush(stdout);

    std::vector<pid_t> pids;
    for (int p = 0; p < procs; p++) {
        pid_t pid = fork();
        if (pid == 0) {
            Worker(p, nodes, seed + static_cast<uint64_t>(p), deadline).run(threads);
            _exit(0);
        }
        if (pid < 0) return perror("fork"), 2;
        pids.push_back(pid);
    }
    // Reap; a worker still inside the kernel long after the deadline is a
    // hang (every wait it makes is bounded to 20 ms; the jobs it queued end
    // within the driver's job timeout).
    constexpr int64_t kHangMs = 120000;
    int crashes = 0, hangs = 0, left = procs;
    while (left > 0) {
        int status;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid > 0) {
            left--;
            if (WIFSIGNALED(status)) {
                crashes++;
                std::fprintf(stderr, "ioctl-fuzz: worker %d killed by signal %d\n", pid, WTERMSIG(status));
            } else if (WEXITSTATUS(status)) {
                crashes++;
                std::fprintf(stderr, "ioctl-fuzz: worker %d exited %d\n", pid, WEXITSTATUS(status));
            }
            continue;
        }
        if (now_ms() > deadline + kHangMs) {
            for (int p = 0; p < procs; p++)
                std::fprintf(stderr, "ioctl-fuzz: worker %d last returned from a call at %lld ms\n", pids[p],
                             (long long)g_shared->last_return_ms[p].load());
            for (pid_t q : pids) print_kernel_stacks(q);
            hangs = left;
            for (pid_t q : pids) kill(q, SIGKILL);
            break;
        }
        usleep(100000);
    }
    if (hangs)
        while (waitpid(-1, nullptr, WNOHANG) > 0) {
        }

    int distinct = 0;
    for (int c = 0; c < C_COUNT; c++)
        for (int e = 0; e < kErrnos; e++) {
            uint64_t n = g_shared->outcome[c][e].load();
            if (!n) continue;
            distinct++;
            std::printf("  %-16s %-12s %llu\n", kCallNames[c], e ? strerrorname_np(e) ? strerrorname_np(e) : "?" : "ok",
                        (unsigned long long)n);
        }
    bool final_ok = true;
    for (const auto &n : nodes) final_ok = final_job_ok(n) && final_ok;
    std::printf(
        "ioctl-fuzz: %llu calls, %d distinct outcomes, %d processes, %d threads, %llu jobs submitted, "
        "%llu children killed mid-job, %d crashes, %d hangs, final job %s\n",
        (unsigned long long)g_shared->calls.load(), distinct, procs, procs * threads,
        (unsigned long long)g_shared->jobs.load(), (unsigned long long)g_shared->killed_mid_job.load(), crashes, hangs,
        final_ok ? "right" : "WRONG");
    return crashes || hangs || !final_ok ? 1 : 0;
}
