// SPDX-License-Identifier: MIT
// A direct queue (docs/driver.md "Direct queues") as a stream drives it:
// libmtia's side of user-mode submission. Not installed.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mtia/mtia_spec.h"

namespace mtia {
namespace detail {

struct DeviceState;

// One hardware queue of this process: its SQ, CQ and doorbell mapped, jobs
// numbered 1, 2, ... as they are pushed. A job is a run of commands ending
// with a FILL64 of the queue's fence word (its number), so DIRECT_SIGNAL can
// turn any job into a syncobj fence; it is done when the CQE of its last
// command has been taken from the CQ. Completions are taken by whoever
// waits (spinning briefly on the phase bit, then sleeping in DIRECT_WAIT,
// woken by the queue's interrupt), with mu held only while taking them.
class DirectRing {
public:
    // A direct queue of the device's file, or nullptr when the driver offers
    // none now (no device MMU, every one taken, an older driver).
    static std::shared_ptr<DirectRing> open(const std::shared_ptr<DeviceState> &dev, int fd, uint32_t priority);
    ~DirectRing();  // waits for its jobs, then unmaps and destroys the queue
    DirectRing(const DirectRing &) = delete;
    DirectRing &operator=(const DirectRing &) = delete;

    uint32_t ctx() const { return ctx_; }
    uint32_t queue_id() const { return queue_id_; }

    // Writes one job (operands already device VAs; ctx, cid and the fence
    // word's FILL64 are added here), ringing the doorbell; waits for room
    // when the ring is full. Returns the job's number. Throws Error(IO) if
    // the queue is lost.
    uint64_t push_job(int fd, const std::vector<mtia_cmd> &cmds);
    // 1 once job n is done, 0 at the timeout (0: poll). Throws Error for a
    // job that failed on the device or was lost with the queue.
    int wait(int fd, uint64_t n, int64_t timeout_ns, uint64_t *device_ns = nullptr);
    // A fence for job n in syncobj (DRM_IOCTL_MTIA_DIRECT_SIGNAL): 0 or the
    // errno (EOPNOTSUPP if the driver gave no fence word).
    int signal(int fd, uint64_t n, uint32_t syncobj);
    bool lost() const;

private:
    DirectRing() = default;
    struct Slot {
        uint64_t job = 0;
        uint8_t opcode = 0;
        bool last = false;  // the job's last command
    };
    struct Result {
        uint64_t job = 0;
        uint16_t cqe_status = 0;  // the first failing command's, else 0
        uint8_t opcode = 0;       // its opcode
        uint64_t device_ns = 0;   // COMPUTE results, summed
    };
    static constexpr unsigned kResults = 256;  // jobs whose results are kept

    void take_locked();                      // the CQEs there are, without blocking
    // Spins (if spin), then sleeps in DIRECT_WAIT, mu not held, until the next
    // CQE, the queue's loss or max_ns.
    void wait_completion(int fd, bool spin, int64_t max_ns);
    int result_locked(uint64_t n, uint64_t *device_ns) const;

    std::shared_ptr<DeviceState> dev_;
    uint32_t queue_id_ = 0, ctx_ = 0, entries_ = 0;
    uint64_t fence_va_ = 0;
    mtia_cmd *sq_ = nullptr;
    const volatile mtia_cqe *cq_ = nullptr;
    volatile uint32_t *db_ = nullptr;
    size_t sq_bytes_ = 0, cq_bytes_ = 0;

    // Protects everything below, and the rings.
    mutable std::mutex mu_;
    uint32_t tail_ = 0, head_ = 0, phase_ = 1;
    uint64_t pushed_cmds_ = 0, taken_cmds_ = 0;
    uint64_t next_job_ = 1, done_ = 0;
    std::vector<Slot> slots_;
    Result results_[kResults];
    int lost_err_ = 0;  // DIRECT_WAIT's ECANCELED (reset) or EFAULT (MMU fault)
};

// The device VA of a buffer in this file's context (BO_MAP, asked once).
struct BufferState;
uint64_t buffer_va(int fd, BufferState &b);

// False when MTIA_DIRECT_QUEUES=0: streams use the ioctl path only.
bool direct_queues_enabled();

}  // namespace detail
}  // namespace mtia
