// SPDX-License-Identifier: MIT
// The soak's job load (tests/vm/soak.sh): P processes x M streams of
// checksummed jobs on the mtia devices, until a stop file appears.
//
//   soak_worker --procs P --streams M --dir DIR [--seed N] DEVICE...
//
// DEVICE: a PCI address (0000:01:00.0), whose accel node is looked up at
// every open (a device bound again may come back as another node while an
// old file of it is still open), or a node path. Process i works on
// DEVICE[i % count]. Each of its M streams is a queue of a
// random priority whose jobs COPY a random-sized pattern host -> device ->
// host and are checked byte for byte. Stream 0 is also a link of a chain
// across processes: processes on one device form a ring in which each
// stream-0 job waits (in_syncobj) for the previous process's latest job
// and signals (out_syncobj) its own; the syncobjs are created here and
// passed to the processes as fds, as separate programs would pass them.
// That the device honoured the wait is checked: a chained job starts with a
// TIMESTAMP that must not be earlier than the end TIMESTAMP of the job it
// waited for (published by that process in shared memory).
//
// Clients that lose their file recover as a real one would: a banned file
// (-ECANCELED from SUBMIT/WAIT) or a vanished device (-ENODEV: unbind,
// hot-unplug) is closed, and the process opens the node again once it
// exists, re-imports its syncobjs and carries on.
//
// Each process rewrites DIR/pI.state after every round (atomically):
//   jobs N ok N eio N canceled N badsum N chain N chainbad N reopen N cut N banned N collateral N err E
// eio: status -EIO/-EFAULT (a job's own fault); canceled: status
// -ECANCELED (a reset or timeout); chain: chained jobs whose order was
// checked, chainbad: ones that ran too early; reopen: files reopened (ban,
// device gone); cut: jobs whose WAIT found the device gone, or whose status
// says it went (-ENODEV); banned: a WAIT refused because the file was
// banned before any job of that round was seen to fail (the job that made it
// guilty the third time, whose own status is never seen); collateral: one
// refused after a job of the round failed (that job banned the file: the
// rest of the file's work goes with it, it is no loss of its own); err: an
// unexpected errno, which ends that process with exit status 1.
// The run ends when DIR/stop exists.
#include <dirent.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xf86drm.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "mtia/mtia_spec.h"
#include "uapi/drm/mtia_accel.h"

namespace {

constexpr uint64_t kMaxBytes = 1 << 20;
constexpr uint64_t kWaitNs = 120ull * 1000000000ull;  // far above any recovery
constexpr int kMaxProcs = 32;
constexpr int kRing = 64;  // chain publications kept per process

// The node of DEVICE now ("" if it has none: unbound).
std::string node_of(const std::string &device)
{
    if (device.rfind("/dev/", 0) == 0) return device;
    const std::string dir = "/sys/bus/pci/devices/" + device + "/accel";
    std::string node;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d))
            if (std::strncmp(e->d_name, "accel", 5) == 0) node = std::string("/dev/accel/") + e->d_name;
        closedir(d);
    }
    return node;
}

// Chain bookkeeping shared by all processes (MAP_SHARED).
struct Chain {
    std::atomic<uint64_t> submitted[kMaxProcs];  // latest job k in its syncobj
    std::atomic<uint64_t> done_k[kMaxProcs][kRing];
    std::atomic<uint64_t> done_end_ns[kMaxProcs][kRing];  // 0: failed, no order to check
};

struct Counters {
    unsigned long jobs = 0, ok = 0, eio = 0, canceled = 0, badsum = 0, chain = 0, chainbad = 0, reopen = 0, cut = 0,
                  banned = 0, collateral = 0;
    int err = 0;
};

int xioctl(int fd, unsigned long req, void *arg) { return drmIoctl(fd, req, arg) ? errno : 0; }

struct HostBo {
    uint32_t handle = 0;
    uint8_t *map = nullptr;
    uint64_t size = 0;
};

struct Stream {
    uint32_t queue = 0;
    HostBo src, dst, ts;
    uint32_t mid = 0;  // device BO
    uint64_t bytes = 0, seqno = 0, k = 0, waited_k = 0;
    bool submitted = false;
};

class Proc {
public:
    Proc(int index, int prev, std::string node, int streams, int my_sync_fd, int prev_sync_fd, Chain *chain,
         std::string dir, uint64_t seed)
        : i_(index),
          prev_(prev),
          node_(std::move(node)),
          nstreams_(streams),
          my_sync_fd_(my_sync_fd),
          prev_sync_fd_(prev_sync_fd),
          chain_(chain),
          dir_(std::move(dir)),
          rng_(seed)
    {
    }
    int run();

private:
    bool stopped() const { return access((dir_ + "/stop").c_str(), F_OK) == 0; }
    int setup();  // 0 or errno
    void teardown();
    int host_bo(uint64_t size, HostBo *bo);
    // One round: a job on every stream, then wait and check each. Returns
    // 0, or the errno that ended the file (ECANCELED ban, ENODEV gone).
    int round();
    int submit(Stream &s, bool chained);
    int check(Stream &s, bool chained, const drm_mtia_wait &w);  // 0, or ENODEV
    void write_state();
    void pattern(uint8_t *p, uint64_t bytes, uint64_t tag);

    int i_, prev_;
    std::string node_;
    int nstreams_, my_sync_fd_, prev_sync_fd_;
    Chain *chain_;
    std::string dir_;
    std::mt19937_64 rng_;
    int fd_ = -1;
    uint32_t my_sync_ = 0, prev_sync_ = 0;
    std::vector<Stream> streams_;
    Counters c_;
    uint64_t next_k_ = 1;
};

void Proc::pattern(uint8_t *p, uint64_t bytes, uint64_t tag)
{
    uint64_t x = 0x9e3779b97f4a7c15ull * (tag + 1);
    for (uint64_t o = 0; o < bytes; o += 8) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        std::memcpy(p + o, &x, 8);
    }
}

int Proc::host_bo(uint64_t size, HostBo *bo)
{
    drm_mtia_bo_create c{};
    c.size = size;
    c.placement = MTIA_BO_HOST;
    if (int e = xioctl(fd_, DRM_IOCTL_MTIA_BO_CREATE, &c)) return e;
    bo->handle = c.handle;
    drm_mtia_bo_info i{};
    i.handle = c.handle;
    if (int e = xioctl(fd_, DRM_IOCTL_MTIA_BO_INFO, &i)) return e;
    void *p = mmap(nullptr, i.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, i.mmap_offset);
    if (p == MAP_FAILED) return errno;
    bo->map = static_cast<uint8_t *>(p);
    bo->size = i.size;
    return 0;
}

int Proc::setup()
{
    const std::string node = node_of(node_);
    if (node.empty()) return ENODEV;
    fd_ = open(node.c_str(), O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return errno;
    drm_syncobj_handle h{};
    if (my_sync_fd_ >= 0) {
        h.fd = my_sync_fd_;
        if (int e = xioctl(fd_, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &h)) return e;
        my_sync_ = h.handle;
        h = {};
        h.fd = prev_sync_fd_;
        if (int e = xioctl(fd_, DRM_IOCTL_SYNCOBJ_FD_TO_HANDLE, &h)) return e;
        prev_sync_ = h.handle;
    }
    streams_.assign(nstreams_, Stream());
    for (auto &s : streams_) {
        drm_mtia_queue_create q{};
        q.priority = static_cast<uint32_t>(rng_() % 3);
        if (int e = xioctl(fd_, DRM_IOCTL_MTIA_QUEUE_CREATE, &q)) return e;
        s.queue = q.queue_id;
        if (int e = host_bo(kMaxBytes, &s.src)) return e;
        if (int e = host_bo(kMaxBytes, &s.dst)) return e;
        if (int e = host_bo(4096, &s.ts)) return e;
        drm_mtia_bo_create d{};
        d.size = kMaxBytes;
        d.placement = MTIA_BO_DEVICE;
        if (int e = xioctl(fd_, DRM_IOCTL_MTIA_BO_CREATE, &d)) return e;
        s.mid = d.handle;
    }
    return 0;
}

void Proc::teardown()
{
    for (auto &s : streams_)
        for (HostBo *b : {&s.src, &s.dst, &s.ts})
            if (b->map) munmap(b->map, b->size);
    streams_.clear();
    if (fd_ >= 0) close(fd_);  // frees BOs, queues and syncobj handles
    fd_ = -1;
}

int Proc::submit(Stream &s, bool chained)
{
    s.bytes = 8 * (1 + rng_() % (kMaxBytes / 8));
    s.k = next_k_++;
    pattern(s.src.map, s.bytes, s.k * 131 + static_cast<uint64_t>(i_));
    std::memset(s.dst.map, 0, s.bytes);
    std::memset(s.ts.map, 0, 16);
    std::vector<drm_mtia_cmd> cmds;
    drm_mtia_cmd c{};
    if (chained) {
        c.opcode = MTIA_CMD_TIMESTAMP, c.dst_bo = 3, c.dst_offset = 0, c.len = 8;
        cmds.push_back(c);
    }
    c = {};
    c.opcode = MTIA_CMD_COPY, c.src_bo = 0, c.dst_bo = 1, c.len = s.bytes;
    cmds.push_back(c);
    c.src_bo = 1, c.dst_bo = 2;
    cmds.push_back(c);
    if (chained) {
        c = {};
        c.opcode = MTIA_CMD_TIMESTAMP, c.dst_bo = 3, c.dst_offset = 8, c.len = 8;
        cmds.push_back(c);
    }
    uint32_t bos[4] = {s.src.handle, s.mid, s.dst.handle, s.ts.handle};
    drm_mtia_submit a{};
    a.cmds = reinterpret_cast<uintptr_t>(cmds.data());
    a.cmd_count = cmds.size();
    a.bo_handles = reinterpret_cast<uintptr_t>(bos);
    a.bo_count = 4;
    a.queue_id = s.queue;
    if (chained) {
        // The job the previous process last put into its syncobj, or later.
        s.waited_k = chain_->submitted[prev_].load();
        a.in_syncobjs = reinterpret_cast<uintptr_t>(&prev_sync_);
        a.in_syncobj_count = 1;
        a.out_syncobj = my_sync_;
    }
    if (int e = xioctl(fd_, DRM_IOCTL_MTIA_SUBMIT, &a)) return e;
    if (chained) chain_->submitted[i_].store(s.k);
    s.seqno = a.seqno;
    s.submitted = true;
    return 0;
}

// The time of day, for stderr lines matched against the soak's event log.
std::string now_hms()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm t{};
    localtime_r(&ts.tv_sec, &t);
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%02d:%02d:%02d.%03ld", t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
    return buf;
}

// A failed job, on stderr.
void log_failure(int proc, const std::string &node, const Stream &s, bool chained, const drm_mtia_wait &w)
{
    std::fprintf(stderr, "soak p%d: %s %s queue %u job %llu%s: status %d (%s), cqe %u\n", proc, now_hms().c_str(),
                 node.c_str(), s.queue, (unsigned long long)s.seqno, chained ? " (chained)" : "", w.status,
                 std::strerror(-w.status), w.cqe_status);
}

int Proc::check(Stream &s, bool chained, const drm_mtia_wait &w)
{
    // The device was removed (or given up) under the job: cut, like a WAIT
    // that finds it gone.
    if (w.status == -ENODEV) {
        c_.cut++;
        return ENODEV;
    }
    c_.jobs++;
    if (w.status) log_failure(i_, node_, s, chained, w);
    uint64_t end_ns = 0;
    if (w.status == 0) {
        c_.ok++;
        if (std::memcmp(s.src.map, s.dst.map, s.bytes)) c_.badsum++;
        std::memcpy(&end_ns, s.ts.map + 8, 8);
    } else if (w.status == -EIO || w.status == -EFAULT) {
        c_.eio++;
    } else if (w.status == -ECANCELED) {
        c_.canceled++;
    } else {
        c_.err = -w.status;
    }
    if (!chained) return 0;
    chain_->done_end_ns[i_][s.k % kRing].store(end_ns);
    chain_->done_k[i_][s.k % kRing].store(s.k);
    if (w.status != 0 || s.waited_k == 0) return 0;
    // The job we waited for is done (ours ran after it); its end time is
    // published right after its owner's WAIT: wait for that, bounded.
    uint64_t start_ns;
    std::memcpy(&start_ns, s.ts.map, 8);
    for (int tries = 0; tries < 2000 && !stopped(); tries++) {
        uint64_t k = chain_->done_k[prev_][s.waited_k % kRing].load();
        if (k > s.waited_k) return 0;  // overwritten by a newer job: not checkable
        if (k == s.waited_k) {
            uint64_t prev_end = chain_->done_end_ns[prev_][s.waited_k % kRing].load();
            c_.chain++;
            if (prev_end && start_ns < prev_end) {
                c_.chainbad++;
                std::fprintf(stderr, "soak p%d: job %llu started at %llu ns, before p%d's job %llu ended (%llu ns)\n",
                             i_, (unsigned long long)s.k, (unsigned long long)start_ns, prev_,
                             (unsigned long long)s.waited_k, (unsigned long long)prev_end);
            }
            return 0;
        }
        usleep(5000);
    }
    return 0;
}

int Proc::round()
{
    for (size_t n = 0; n < streams_.size(); n++)
        if (int e = submit(streams_[n], n == 0 && my_sync_)) return e;
    bool failed = false;  // a job of this round failed: a ban now is its doing
    for (size_t n = 0; n < streams_.size(); n++) {
        Stream &s = streams_[n];
        if (!s.submitted) continue;
        drm_mtia_wait w{};
        w.queue_id = s.queue;
        w.seqno = s.seqno;
        w.timeout_ns = kWaitNs;
        int e = xioctl(fd_, DRM_IOCTL_MTIA_WAIT, &w);
        s.submitted = false;
        if (e == ENODEV) c_.cut++;
        if (e == ECANCELED) {
            (failed ? c_.collateral : c_.banned)++;
            std::fprintf(stderr, "soak p%d: %s %s queue %u job %llu: WAIT refused, file banned (%s)\n", i_,
                         now_hms().c_str(), node_.c_str(), s.queue, (unsigned long long)s.seqno,
                         failed ? "collateral" : "counted as failed");
        }
        if (e) return e;
        if (int cut = check(s, n == 0 && my_sync_, w)) return cut;
        if (c_.err) return c_.err;
        failed |= w.status != 0;
    }
    return 0;
}

void Proc::write_state()
{
    const std::string path = dir_ + "/p" + std::to_string(i_) + ".state", tmp = path + ".tmp";
    FILE *f = std::fopen(tmp.c_str(), "w");
    if (!f) return;
    std::fprintf(f,
                 "jobs %lu ok %lu eio %lu canceled %lu badsum %lu chain %lu chainbad %lu reopen %lu cut %lu banned %lu "
                 "collateral %lu err %d\n",
                 c_.jobs, c_.ok, c_.eio, c_.canceled, c_.badsum, c_.chain, c_.chainbad, c_.reopen, c_.cut, c_.banned,
                 c_.collateral, c_.err);
    std::fclose(f);
    std::rename(tmp.c_str(), path.c_str());
}

int Proc::run()
{
    write_state();
    while (!stopped()) {
        int e = setup();
        while (!e && !stopped()) {
            e = round();
            write_state();
        }
        teardown();
        if (stopped()) break;
        // A banned file, or a device that went away (and may come back):
        // start over with a new file. Anything else ends the process.
        if (e != ECANCELED && e != ENODEV && e != ENOENT && e != ENXIO) {
            c_.err = e;
            break;
        }
        c_.reopen++;
        write_state();
        usleep(50000);
    }
    write_state();
    if (c_.err) std::fprintf(stderr, "soak p%d: unexpected error: %s\n", i_, std::strerror(c_.err));
    return c_.err ? 1 : 0;
}

// A syncobj as an fd, made on a file of NODE that is closed again: the fd
// keeps it alive and any process can import it.
int new_syncobj_fd(const std::string &device)
{
    int fd = open(node_of(device).c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    drm_syncobj_create c{};
    c.flags = DRM_SYNCOBJ_CREATE_SIGNALED;
    drm_syncobj_handle h{};
    int out = -1;
    if (!xioctl(fd, DRM_IOCTL_SYNCOBJ_CREATE, &c)) {
        h.handle = c.handle;
        if (!xioctl(fd, DRM_IOCTL_SYNCOBJ_HANDLE_TO_FD, &h)) out = h.fd;
    }
    close(fd);
    return out;
}

}  // namespace

int main(int argc, char **argv)
{
    int procs = 4, streams = 2;
    uint64_t seed = 1;
    std::string dir;
    std::vector<std::string> nodes;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (i + 1 < argc && a == "--procs")
            procs = std::atoi(argv[++i]);
        else if (i + 1 < argc && a == "--streams")
            streams = std::atoi(argv[++i]);
        else if (i + 1 < argc && a == "--dir")
            dir = argv[++i];
        else if (i + 1 < argc && a == "--seed")
            seed = std::strtoull(argv[++i], nullptr, 0);
        else if (a[0] != '-')
            nodes.push_back(a);
        else
            nodes.clear(), i = argc;
    }
    if (nodes.empty() || dir.empty() || procs < 1 || procs > kMaxProcs || streams < 1 || streams > 16) {
        std::fprintf(stderr, "usage: soak_worker --procs 1..%d --streams 1..16 --dir DIR [--seed N] NODE...\n",
                     kMaxProcs);
        return 2;
    }
    void *shm = mmap(nullptr, sizeof(Chain), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shm == MAP_FAILED) return perror("mmap"), 2;
    Chain *chain = new (shm) Chain();
    // The ring of each device: its processes in order, each waiting for the
    // one before it (a device with one process has no chain).
    std::vector<int> sync_fd(procs, -1), prev(procs, -1);
    for (int i = 0; i < procs; i++) {
        std::vector<int> ring;
        for (int j = 0; j < procs; j++)
            if (j % static_cast<int>(nodes.size()) == i % static_cast<int>(nodes.size())) ring.push_back(j);
        if (ring.size() < 2) continue;
        size_t at = 0;
        while (ring[at] != i) at++;
        prev[i] = ring[(at + ring.size() - 1) % ring.size()];
        sync_fd[i] = new_syncobj_fd(nodes[i % nodes.size()]);
        if (sync_fd[i] < 0)
            return std::fprintf(stderr, "soak_worker: syncobj on %s: %s\n", nodes[i % nodes.size()].c_str(),
                                strerror(errno)),
                   1;
    }
    std::vector<pid_t> pids;
    for (int i = 0; i < procs; i++) {
        pid_t pid = fork();
        if (pid < 0) return perror("fork"), 1;
        if (pid == 0) {
            Proc p(i, prev[i], nodes[i % nodes.size()], streams, sync_fd[i], prev[i] >= 0 ? sync_fd[prev[i]] : -1,
                   chain, dir, seed * 7919 + static_cast<uint64_t>(i));
            _exit(p.run());
        }
        pids.push_back(pid);
    }
    int bad = 0;
    for (pid_t pid : pids) {
        int st = 0;
        waitpid(pid, &st, 0);
        if (!WIFEXITED(st) || WEXITSTATUS(st)) bad++;
    }
    return bad ? 1 : 0;
}
