// SPDX-License-Identifier: MIT
// Direct queues as streams drive them (direct_ring.h): DIRECT_CREATE and
// the three mappings, jobs written to the SQ with one doorbell write,
// completions taken from the CQ by their phase bit.
//
// Waiting: a short spin on the phase bit (a small job is back in tens of
// microseconds, less than a sleep and wake-up costs), then DIRECT_WAIT,
// which sleeps until the queue's interrupt, so an idle waiter costs no CPU.
// Neither holds mu, so other threads keep pushing while one waits.
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

constexpr int64_t kSpinNs = 50'000;          // before sleeping
constexpr int64_t kSleepNs = 100'000'000;    // per DIRECT_WAIT, then look again
constexpr uint32_t kOrder = MTIA_DIRECT_ORDER_MAX;

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

std::shared_ptr<DirectRing> DirectRing::open(const std::shared_ptr<DeviceState> &dev, int fd, uint32_t priority)
{
    drm_mtia_direct_create c{};
    c.priority = priority;
    c.sq_order = c.cq_order = kOrder;
    if (drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_CREATE, &c) != 0) return nullptr;
    std::shared_ptr<DirectRing> r(new DirectRing());
    r->dev_ = dev;
    r->queue_id_ = c.queue_id;
    r->ctx_ = c.ctx;
    r->fence_va_ = c.fence_va;
    r->entries_ = 1u << kOrder;
    r->sq_bytes_ = sizeof(mtia_cmd) << kOrder;
    r->cq_bytes_ = ((sizeof(mtia_cqe) << kOrder) + 4095) & ~size_t{4095};
    r->slots_.resize(r->entries_);
    void *s = mmap(nullptr, r->sq_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, c.sq_offset);
    void *q = mmap(nullptr, r->cq_bytes_, PROT_READ, MAP_SHARED, fd, c.cq_offset);
    void *d = mmap(nullptr, 4096, PROT_WRITE, MAP_SHARED, fd, c.doorbell_offset);
    if (s != MAP_FAILED) r->sq_ = static_cast<mtia_cmd *>(s);
    if (q != MAP_FAILED) r->cq_ = static_cast<const volatile mtia_cqe *>(q);
    if (d != MAP_FAILED) r->db_ = static_cast<volatile uint32_t *>(d);
    if (!r->sq_ || !r->cq_ || !r->db_) return nullptr;  // ~DirectRing unmaps and destroys
    return r;
}

DirectRing::~DirectRing()
{
    // DIRECT_DESTROY drops what the device has not done; a stream's jobs,
    // like the ioctl path's, still complete after it goes.
    if (cq_ && db_) {
        if_open(dev_, [&](int fd) {
            try {
                if (next_job_ > 1) wait(fd, next_job_ - 1, -1);
            } catch (const Error &) {
            }
        });
    }
    if (sq_) munmap(sq_, sq_bytes_);
    if (cq_) munmap(const_cast<mtia_cqe *>(cq_), cq_bytes_);
    if (db_) munmap(const_cast<uint32_t *>(db_), 4096);
    if_open(dev_, [&](int fd) {
        drm_mtia_direct_destroy d{};
        d.queue_id = queue_id_;
        drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_DESTROY, &d);
    });
}

bool DirectRing::lost() const
{
    std::lock_guard<std::mutex> l(mu_);
    return lost_err_ != 0;
}

void DirectRing::take_locked()
{
    bool took = false;
    while (mtia_cqe_phase(cq_[head_].status) == phase_) {
        std::atomic_thread_fence(std::memory_order_acquire);
        const uint16_t st = cq_[head_].status;
        const uint16_t cid = cq_[head_].cid;
        const uint64_t res = cq_[head_].result;
        const Slot &sl = slots_[cid % entries_];
        Result &r = results_[sl.job % kResults];
        if (r.job != sl.job) r = Result{sl.job, 0, 0, 0};
        if (mtia_cqe_status(st) != MTIA_CQE_OK && !r.cqe_status) {
            r.cqe_status = static_cast<uint16_t>(mtia_cqe_status(st));
            r.opcode = sl.opcode;
        }
        if (sl.opcode == MTIA_CMD_COMPUTE && mtia_cqe_status(st) == MTIA_CQE_OK) r.device_ns += res;
        if (sl.last) done_ = sl.job;
        taken_cmds_++;
        head_ = (head_ + 1) % entries_;
        if (!head_) phase_ ^= 1;
        took = true;
    }
    if (took) db_[MTIA_DB_CQ_HEAD / 4] = head_;
}

void DirectRing::wait_completion(int fd, bool spin, int64_t max_ns)
{
    uint32_t head, phase;
    {
        std::lock_guard<std::mutex> l(mu_);
        head = head_;
        phase = phase_;
    }
    if (spin) {
        const int64_t spin_ns = std::min(kSpinNs, max_ns);
        const int64_t end = now_ns() + spin_ns;
        while (now_ns() < end) {
            if (mtia_cqe_phase(cq_[head].status) == phase) return;
        }
        max_ns -= spin_ns;
        if (max_ns <= 0) return;
    }
    drm_mtia_direct_wait w{};
    w.queue_id = queue_id_;
    w.cq_index = head;
    w.phase = phase;
    w.timeout_ns = static_cast<uint64_t>(std::min(kSleepNs, max_ns));
    if (drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_WAIT, &w) != 0) {
        const int err = errno;
        if (err == ETIME || err == ETIMEDOUT || err == EINTR) return;
        std::lock_guard<std::mutex> l(mu_);
        take_locked();  // what completed before it was lost
        if (!lost_err_) lost_err_ = err;
    }
}

uint64_t DirectRing::push_job(int fd, const std::vector<mtia_cmd> &cmds)
{
    std::unique_lock<std::mutex> l(mu_);
    if (lost_err_) throw Error(MTIA_ERROR_IO, "direct queue " + std::to_string(queue_id_) + " was lost");
    const uint64_t job = next_job_++;
    const size_t n = cmds.size() + (fence_va_ ? 1 : 0);
    uint32_t unrung = 0;
    for (size_t i = 0; i < n; i++) {
        while (pushed_cmds_ - taken_cmds_ >= entries_ - 1) {  // full: one slot stays empty
            if (unrung) {
                std::atomic_thread_fence(std::memory_order_release);
                db_[MTIA_DB_SQ_TAIL / 4] = tail_;
                unrung = 0;
            }
            take_locked();
            if (pushed_cmds_ - taken_cmds_ < entries_ - 1) break;
            l.unlock();
            wait_completion(fd, true, kSleepNs);
            l.lock();
            if (lost_err_) throw Error(MTIA_ERROR_IO, "direct queue " + std::to_string(queue_id_) + " was lost");
        }
        mtia_cmd c{};
        if (i < cmds.size()) {
            c = cmds[i];
        } else {  // the fence word: this job's number
            c.opcode = MTIA_CMD_FILL;
            c.flags = MTIA_CMD_F_FILL64;
            c.len = 8;
            c.value = job;
            c.dst.addr = fence_va_;
        }
        c.ctx = ctx_;
        c.cid = static_cast<uint16_t>(tail_);
        slots_[tail_] = Slot{job, c.opcode, i + 1 == n};
        sq_[tail_] = c;
        tail_ = (tail_ + 1) % entries_;
        pushed_cmds_++;
        unrung++;
    }
    std::atomic_thread_fence(std::memory_order_release);
    db_[MTIA_DB_SQ_TAIL / 4] = tail_;
    return job;
}

int DirectRing::result_locked(uint64_t n, uint64_t *device_ns) const
{
    const std::string job = "job " + std::to_string(n) + " of direct queue " + std::to_string(queue_id_);
    if (n > done_) {
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
    bool spin = true;
    for (;;) {
        {
            std::lock_guard<std::mutex> l(mu_);
            take_locked();
            if (done_ >= n || lost_err_) return result_locked(n, device_ns);
        }
        const int64_t left = end - now_ns();
        if (timeout_ns == 0 || left <= 0) return 0;
        wait_completion(fd, spin, left);
        spin = false;
    }
}

int DirectRing::signal(int fd, uint64_t n, uint32_t syncobj)
{
    if (!fence_va_) return EOPNOTSUPP;
    drm_mtia_direct_signal s{};
    s.queue_id = queue_id_;
    s.value = n;
    s.syncobj = syncobj;
    return drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_SIGNAL, &s) != 0 ? errno : 0;
}

}  // namespace detail
}  // namespace mtia
