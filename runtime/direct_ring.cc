// SPDX-License-Identifier: MIT
// Direct queues as streams drive them (direct_ring.h): DIRECT_CREATE and
// the three mappings, jobs written to the SQ with one doorbell write,
// completions taken from the CQ by their phase bit.
//
// Waiting: a short spin on the phase bit (a small job is back in tens of
// microseconds, less than a sleep and wake-up costs), then DIRECT_WAIT,
// which sleeps until the queue's interrupt, so an idle waiter costs no CPU.
#include "direct_ring.h"

#include <sys/mman.h>
#include <xf86drm.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "runtime_internal.h"

namespace mtia {
namespace detail {

namespace {

constexpr int64_t kSpinNs = 50'000;        // before sleeping
constexpr int64_t kSleepNs = 100'000'000;  // per DIRECT_WAIT, then look again
constexpr uint32_t kOrder = MTIA_DIRECT_ORDER_MAX;
constexpr int64_t kDrainStallNs = 30'000'000'000;  // a queue going away: no job done in this long

int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

}  // namespace

bool direct_queues_enabled()
{
    const char *e = std::getenv("MTIA_DIRECT_QUEUES");
    return !e || std::strcmp(e, "0") != 0;
}

uint64_t buffer_va(int fd, BufferState &b)
{
    std::lock_guard<std::mutex> l(b.map_mu);
    if (b.va) return b.va;
    drm_mtia_bo_map m{};
    m.handle = b.handle;
    if (drmIoctl(fd, DRM_IOCTL_MTIA_BO_MAP, &m) != 0) {
        int err = errno;
        throw Error(err == ENOMEM || err == ENOSPC ? MTIA_ERROR_OUT_OF_MEMORY : MTIA_ERROR_IO,
                    std::string("BO_MAP of a buffer for a direct queue: ") + std::strerror(err));
    }
    b.va = m.va;
    return b.va;
}

int DirectRing::map_queue(int fd)
{
    drm_mtia_direct_create c{};
    c.priority = priority_;
    c.sq_order = c.cq_order = kOrder;
    if (drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_CREATE, &c) != 0) return errno;
    queue_id_ = c.queue_id;
    ctx_ = c.ctx;
    fence_va_ = c.fence_va;
    void *s = mmap(nullptr, sq_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, c.sq_offset);
    void *q = mmap(nullptr, cq_bytes_, PROT_READ, MAP_SHARED, fd, c.cq_offset);
    void *d = mmap(nullptr, 4096, PROT_WRITE, MAP_SHARED, fd, c.doorbell_offset);
    sq_ = s != MAP_FAILED ? static_cast<mtia_cmd *>(s) : nullptr;
    cq_ = q != MAP_FAILED ? static_cast<const volatile mtia_cqe *>(q) : nullptr;
    db_ = d != MAP_FAILED ? static_cast<volatile uint32_t *>(d) : nullptr;
    tail_ = head_ = 0;
    phase_ = 1;
    pushed_cmds_ = taken_cmds_ = 0;
    fence_written_ = 0;
    generation_++;
    if (sq_ && cq_ && db_) return 0;
    const int err = errno;
    unmap_queue(fd);
    return err;
}

void DirectRing::unmap_queue(int fd)
{
    if (!queue_id_) return;
    if (sq_) munmap(sq_, sq_bytes_);
    if (cq_) munmap(const_cast<mtia_cqe *>(cq_), cq_bytes_);
    if (db_) munmap(const_cast<uint32_t *>(db_), 4096);
    sq_ = nullptr;
    cq_ = nullptr;
    db_ = nullptr;
    const uint32_t id = queue_id_;
    queue_id_ = 0;
    if (fd >= 0) {
        drm_mtia_direct_destroy d{};
        d.queue_id = id;
        drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_DESTROY, &d);
    }
}

std::shared_ptr<DirectRing> DirectRing::open(const std::shared_ptr<DeviceState> &dev, int fd, uint32_t priority)
{
    std::shared_ptr<DirectRing> r(new DirectRing());
    r->dev_ = dev;
    r->priority_ = priority;
    r->entries_ = 1u << kOrder;
    r->sq_bytes_ = sizeof(mtia_cmd) << kOrder;
    r->cq_bytes_ = ((sizeof(mtia_cqe) << kOrder) + 4095) & ~size_t{4095};
    r->slots_.resize(r->entries_);
    if (r->map_queue(fd)) return nullptr;  // nothing is left mapped or created
    return r;
}

DirectRing::~DirectRing()
{
    // DIRECT_DESTROY drops what the device has not done; a stream's jobs,
    // like the ioctl path's, still complete after it goes, as long as they
    // make progress (no job timeout watches a direct queue).
    std::shared_lock<std::shared_mutex> dl(dev_->mu);
    const int fd = dev_->closed ? -1 : dev_->fd;  // closed: the driver took the queue
    try {
        uint64_t before;
        {
            std::lock_guard<std::mutex> l(mu_);
            before = done_;
        }
        while (fd >= 0 && next_job_ > 1) {
            if (wait(fd, next_job_ - 1, kDrainStallNs)) break;
            std::lock_guard<std::mutex> l(mu_);
            if (done_ == before) break;  // nothing finished in that long: drop the rest
            before = done_;
        }
    } catch (const Error &) {
    }
    std::lock_guard<std::mutex> l(mu_);
    unmap_queue(fd);
}

bool DirectRing::lost() const
{
    std::lock_guard<std::mutex> l(mu_);
    return lost_err_ != 0;
}

void DirectRing::take_locked()
{
    if (!cq_) return;
    bool took = false;
    while (mtia_cqe_phase(cq_[head_].status) == phase_) {
        std::atomic_thread_fence(std::memory_order_acquire);
        const uint16_t st = cq_[head_].status;
        const uint16_t cid = cq_[head_].cid;
        const uint64_t res = cq_[head_].result;
        const Slot &sl = slots_[cid % entries_];
        taken_cmds_++;
        head_ = (head_ + 1) % entries_;
        if (!head_) phase_ ^= 1;
        took = true;
        if (!sl.job) continue;  // the fence word's, for DIRECT_SIGNAL
        Result &r = results_[sl.job % kResults];
        if (r.job != sl.job) r = Result{sl.job, 0, 0};
        if (mtia_cqe_status(st) != MTIA_CQE_OK && !r.cqe_status)
            r.cqe_status = static_cast<uint16_t>(mtia_cqe_status(st));
        if (sl.opcode == MTIA_CMD_COMPUTE && mtia_cqe_status(st) == MTIA_CQE_OK) r.device_ns += res;
        if (sl.last) {
            done_ = sl.job;
            while (!pending_.empty() && pending_.front().job <= done_) pending_.pop_front();
        }
    }
    if (took) db_[MTIA_DB_CQ_HEAD / 4] = head_;
}

void DirectRing::write_locked(mtia_cmd c, uint64_t job, bool last)
{
    c.ctx = ctx_;
    c.cid = static_cast<uint16_t>(tail_);
    slots_[tail_] = Slot{job, c.opcode, last};
    sq_[tail_] = c;
    tail_ = (tail_ + 1) % entries_;
    pushed_cmds_++;
}

void DirectRing::ring_locked()
{
    std::atomic_thread_fence(std::memory_order_release);
    db_[MTIA_DB_SQ_TAIL / 4] = tail_;
}

Error DirectRing::lost_error_locked() const
{
    return Error(MTIA_ERROR_IO, "direct queue was lost (" + std::string(std::strerror(lost_err_)) + ")");
}

void DirectRing::make_room_locked(int fd, bool spin)
{
    while (!room_locked()) {  // one slot stays empty: full is not empty
        take_locked();
        if (room_locked()) return;
        const uint64_t gen = generation_;
        wait_completion_locked(fd, spin, kSleepNs);
        if (lost_err_) throw lost_error_locked();
        if (generation_ != gen) throw Replayed{};
    }
}

void DirectRing::wait_completion_locked(int fd, bool spin, int64_t max_ns)
{
    if (!cq_) return;
    ring_locked();  // what is written runs, or room never comes
    if (spin) {
        const int64_t spin_ns = std::min(kSpinNs, max_ns);
        const int64_t end = now_ns() + spin_ns;
        while (now_ns() < end) {
            if (mtia_cqe_phase(cq_[head_].status) == phase_) return;
        }
        max_ns -= spin_ns;
        if (max_ns <= 0) return;
    }
    drm_mtia_direct_wait w{};
    w.queue_id = queue_id_;
    w.cq_index = head_;
    w.phase = phase_;
    w.timeout_ns = static_cast<uint64_t>(std::min(kSleepNs, max_ns));
    if (drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_WAIT, &w) == 0) return;
    const int err = errno;
    if (err == ETIME || err == ETIMEDOUT || err == EINTR) return;
    take_locked();  // what completed before it was lost
    if (err == ECANCELED && replay_locked(fd)) return;
    if (!lost_err_) lost_err_ = err;
}

bool DirectRing::replay_locked(int fd)
{
    unmap_queue(fd);
    if (const int err = map_queue(fd)) {
        lost_err_ = err == ENODEV ? ENODEV : ECANCELED;  // removed or given up, or a reset's loss
        return false;
    }
    try {
        for (Pending &p : pending_) {
            results_[p.job % kResults] = Result{p.job, 0, 0};
            for (size_t i = 0; i < p.written; i++) {
                make_room_locked(fd, false);
                write_locked(p.cmds[i], p.job, i + 1 == p.cmds.size());
            }
        }
    } catch (const Replayed &) {
        return true;  // reset again: that replay wrote everything
    } catch (const Error &) {
        return false;  // lost_err_ says why
    }
    ring_locked();
    return true;
}

uint64_t DirectRing::push_job(int fd, const std::vector<mtia_cmd> &cmds)
{
    std::lock_guard<std::mutex> l(mu_);
    if (lost_err_) throw lost_error_locked();
    if (cmds.empty()) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "a direct queue job needs a command");
    pending_.push_back(Pending{next_job_++, cmds, 0});
    Pending &p = pending_.back();  // stays in place: only the front is ever removed, once done
    const uint64_t job = p.job;
    while (p.written < p.cmds.size()) {
        try {
            make_room_locked(fd, true);
        } catch (const Replayed &) {
            continue;  // the replay wrote p's first p.written commands again
        }
        write_locked(p.cmds[p.written], job, p.written + 1 == p.cmds.size());
        p.written++;
    }
    ring_locked();
    return job;
}

int DirectRing::result_locked(uint64_t n, uint64_t *device_ns) const
{
    const std::string job = "job " + std::to_string(n) + " of direct queue " + std::to_string(queue_id_);
    if (n > done_) {
        if (lost_err_ == ENODEV) throw_job_error(job, -ENODEV, 0);
        throw_job_error(job, lost_err_ == EFAULT ? -EFAULT : -ECANCELED, 0,
                        lost_err_ == EFAULT ? "the driver took the queue back after a command faulted in the device MMU"
                                            : "the queue was lost to a device reset");
    }
    const Result &r = results_[n % kResults];
    if (r.job != n) return 1;  // older than the results kept: it was waited for already
    if (device_ns) *device_ns = r.device_ns;
    if (r.cqe_status) {
        throw_job_error(job, r.cqe_status == MTIA_CQE_TRANSLATION_FAULT ? -EFAULT : -EIO, r.cqe_status);
    }
    return 1;
}

int DirectRing::wait(int fd, uint64_t n, int64_t timeout_ns, uint64_t *device_ns)
{
    const int64_t end = timeout_ns < 0 ? INT64_MAX : now_ns() + timeout_ns;
    std::lock_guard<std::mutex> l(mu_);
    for (bool spin = true;; spin = false) {
        take_locked();
        if (done_ >= n || lost_err_) return result_locked(n, device_ns);
        const int64_t left = end - now_ns();
        if (timeout_ns == 0 || left <= 0) return 0;
        wait_completion_locked(fd, spin, left);
    }
}

int DirectRing::signal(int fd, uint64_t n, uint32_t syncobj)
{
    std::lock_guard<std::mutex> l(mu_);
    if (!fence_va_) return EOPNOTSUPP;
    if (lost_err_) return lost_err_;
    // The fence word is written on demand, behind the newest job (>= n), so
    // a job nobody waits for this way costs no extra command.
    if (fence_written_ < n) {
        const uint64_t v = next_job_ - 1;
        try {
            make_room_locked(fd, true);
        } catch (const Replayed &) {
        } catch (const Error &) {
            return lost_err_;
        }
        mtia_cmd c{};
        c.opcode = MTIA_CMD_FILL;
        c.flags = MTIA_CMD_F_FILL64;
        c.len = 8;
        c.value = v;
        c.dst.addr = fence_va_;
        write_locked(c, 0, false);
        ring_locked();
        fence_written_ = v;
    }
    drm_mtia_direct_signal s{};
    s.queue_id = queue_id_;
    s.value = n;
    s.syncobj = syncobj;
    return drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_SIGNAL, &s) != 0 ? errno : 0;
}

}  // namespace detail
}  // namespace mtia
