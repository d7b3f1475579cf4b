// SPDX-License-Identifier: MIT
// A direct queue (docs/driver.md "Direct queues") as a stream drives it:
// libmtia's side of user-mode submission. Not installed.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"
#include "mtia/mtia_spec.h"

namespace mtia {
namespace detail {

struct DeviceState;

// One hardware queue of this process: its SQ, CQ and doorbell mapped, jobs
// numbered 1, 2, ... as they are pushed. A job is a run of commands, done
// when the CQE of its last one has been taken from the CQ. signal() turns a
// job into a syncobj fence (DIRECT_SIGNAL), writing the queue's fence word
// (a FILL64 of the newest job's number) behind it if no write covers it yet. Completions are taken by whoever
// waits (spinning briefly on the phase bit, then sleeping in DIRECT_WAIT,
// woken by the queue's interrupt). A waiter holds mu: pushes to the ring
// wait behind it (a stream's own are behind its lock anyway), and a replay
// cannot unmap the rings under it.
//
// A device reset takes the hardware queue (DIRECT_WAIT: ECANCELED): the ring
// gets a new one and writes to it again, whole and in order, every job not
// done, under the same numbers, as the driver re-runs the innocent jobs of
// its own queues after a reset. The commands of those jobs are kept until
// they are done for that. A queue taken back for an MMU fault of this
// process (EFAULT) is not replayed: its jobs fail, and the ring is lost.
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
    struct Pending {  // a job pushed (or being pushed), not yet done
        uint64_t job = 0;
        std::vector<mtia_cmd> cmds;
        size_t written = 0;  // commands written to the SQ so far
    };
    struct Result {
        uint64_t job = 0;
        uint16_t cqe_status = 0;  // the first failing command's, else 0
        uint64_t device_ns = 0;   // COMPUTE results, summed
    };
    static constexpr unsigned kResults = 256;  // jobs whose results are kept

    struct Replayed {};  // thrown by make_room_locked() when a replay rewrote the ring

    void take_locked();  // the CQEs there are, without blocking
    // c at the SQ's tail, of job (0: the fence word's), its last or not.
    void write_locked(mtia_cmd c, uint64_t job, bool last);
    bool room_locked() const { return pushed_cmds_ - taken_cmds_ < entries_ - 1; }
    void ring_locked();               // the SQ's tail to the doorbell, after the writes
    Error lost_error_locked() const;  // for work offered to a lost queue
    // Until the SQ has a free slot; Error if the queue is lost, Replayed if
    // a reset's replay rewrote it meanwhile.
    void make_room_locked(int fd, bool spin);
    int map_queue(int fd);  // DIRECT_CREATE and the mappings: 0 or the errno
    void unmap_queue(int fd);
    bool replay_locked(int fd);  // after a reset: a new queue, the jobs not done again
    // Spins (if spin), then sleeps in DIRECT_WAIT until the next CQE, the
    // queue's loss (replayed if a reset took it) or max_ns.
    void wait_completion_locked(int fd, bool spin, int64_t max_ns);
    int result_locked(uint64_t n, uint64_t *device_ns) const;

    std::shared_ptr<DeviceState> dev_;
    uint32_t priority_ = 0;
    uint32_t queue_id_ = 0, ctx_ = 0, entries_ = 0;
    uint64_t fence_va_ = 0;
    mtia_cmd *sq_ = nullptr;
    const volatile mtia_cqe *cq_ = nullptr;
    volatile uint32_t *db_ = nullptr;
    size_t sq_bytes_ = 0, cq_bytes_ = 0;

    // Protects everything below, the rings, and the queue and its mappings
    // above (a replay changes them).
    mutable std::mutex mu_;
    std::deque<Pending> pending_;
    uint32_t tail_ = 0, head_ = 0, phase_ = 1;
    uint64_t pushed_cmds_ = 0, taken_cmds_ = 0;
    uint64_t next_job_ = 1, done_ = 0;
    uint64_t fence_written_ = 0;  // the highest value a pushed FILL64 gives the fence word
    std::vector<Slot> slots_;
    Result results_[kResults];
    uint64_t generation_ = 0;  // hardware queues it has had
    int lost_err_ = 0;         // DIRECT_WAIT's ECANCELED (reset) or EFAULT (MMU fault)
};

// The device VA of a buffer in this file's context (BO_MAP, asked once).
struct BufferState;
uint64_t buffer_va(int fd, BufferState &b);

// False when MTIA_DIRECT_QUEUES=0: streams use the ioctl path only.
bool direct_queues_enabled();

}  // namespace detail
}  // namespace mtia
