// SPDX-License-Identifier: MIT
// The device's hardware queues and data engine (docs/queues.md): per-queue
// registers and doorbells (host view), the firmware's dispatch registers
// (MTIA_CC_REG_Q_*, CC_SQE, ENGINE_EVENT), one engine worker thread per
// queue executing COPY / FILL / TIMESTAMP and COMPUTE (on the PE grid, one
// program at a time: mtia_compute.h), completion posting with CQ
// backpressure, interrupt coalescing, and the per-context translate seam.
// Internal to the device core (mtia_core.cc owns one QueueEngine).
#ifndef MTIA_QUEUES_H
#define MTIA_QUEUES_H

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "mtia_compute_thread.h"
#include "mtia/mtia_spec.h"
#include "mtia_core.h"
#include "mtia_fault.h"
#include "mtia_pacer.h"
#include "mtia_write_track.h"

namespace mtia {

// What the engine needs from the device around it. Every method may be
// called from any thread (vCPU, control core, engine worker) with no engine
// lock held.
class QueueHost {
public:
    virtual ~QueueHost() = default;
    // Host (guest-physical / bus) memory. 0 on success, else the access failed.
    virtual int dma_read(uint64_t addr, void *buf, uint64_t len) = 0;
    virtual int dma_write(uint64_t addr, const void *buf, uint64_t len) = 0;
    virtual void raise_irq(unsigned vector) = 0;
    // The engine's contribution to MEIP (QueueEngine::meip()) may have changed.
    virtual void meip_changed() = 0;
    // A queue stopped on a ring access error (raise the ERROR cause).
    virtual void queue_error(unsigned q) = 0;
    // Device time in ns (monotonic), for TIMESTAMP.
    virtual uint64_t device_ns() = 0;
    // The engines' clock now (the telemetry governor's, mtia_pacer.h):
    // work is paced to it. The default, mhz 0, is full speed.
    virtual EngineClock engine_clock() { return EngineClock{}; }
    // The trace hook (mtia_core_set_trace()): tracing() says whether one
    // is set, so the engine builds no event otherwise. No engine lock but a
    // queue's ring_mu is held when trace() is called.
    virtual bool tracing() const { return false; }
    virtual void trace(const mtia_core_trace_event & /*ev*/) {}
};

// One contiguous piece of a translated operand: device memory (host
// pointer) or host DMA address.
struct Span {
    bool devmem;
    uint8_t *ptr;  // devmem
    uint64_t dma;  // host
    uint64_t len;
};

// Where a translation failed (MTIA_CQE_TRANSLATION_FAULT): the VA and
// MTIA_REG_MMU_FAULT_INFO's value.
struct TranslateFault {
    uint64_t va = 0;
    uint32_t info = 0;
};

// The translate-and-check seam: the address space of a command's context
// (QueueEngine::space_for(ctx)). With the device MMU off every context has
// the FlatSpace (device memory, SG tables, flat host addresses); with it on,
// the Mmu (mtia_mmu.h): the context's page tables.
class AddressSpace {
public:
    virtual ~AddressSpace() = default;
    // MTIA_CQE_OK and the spans covering [op.addr + op.offset, +len) in
    // context @ctx, or MTIA_CQE_BAD_ADDRESS / MTIA_CQE_DMA_ERROR /
    // MTIA_CQE_TRANSLATION_FAULT (then *fault says where). len 0 gives no
    // spans.
    virtual uint16_t translate(uint32_t ctx, const mtia_operand &op, uint64_t len, bool write, std::vector<Span> *out,
                               TranslateFault *fault) = 0;
};

class Mmu;

class QueueEngine {
public:
    enum class Access { kOk, kBadOffset, kBadWrite, kBadDoorbell };

    // pe_rows x pe_cols: the PE grid the compute timing model is scaled to;
    // mmu: the device has the MMU (MTIA_CAP_MMU); defer_workers: the workers
    // start at the first start_workers(), not here.
    QueueEngine(QueueHost &host, unsigned msix_vectors, unsigned pe_rows = MTIA_DEFAULT_PE_ROWS,
                unsigned pe_cols = MTIA_DEFAULT_PE_COLS, bool mmu = true, bool defer_workers = false);
    ~QueueEngine();
    QueueEngine(const QueueEngine &) = delete;
    QueueEngine &operator=(const QueueEngine &) = delete;

    // Only while the engine is idle (no queue enabled): realize / tests.
    void attach_devmem(uint8_t *host, uint64_t size);

    // Host view of BAR0: queue blocks and doorbell pages.
    static bool owns(uint64_t off);
    Access host_read(uint64_t off, uint32_t *val);
    Access host_write(uint64_t off, uint32_t val);

    // Firmware view: MTIA_CC_REG_Q_*, ENGINE_EVENT, the CC_SQE window.
    static bool fw_owns(uint32_t off);
    bool fw_read(uint32_t off, unsigned size, uint32_t *val);
    bool fw_write(uint32_t off, unsigned size, uint32_t val);

    // The device MMU (MTIA_REG_MMU_*), or nullptr if the device has none.
    Mmu *mmu() { return mmu_.get(); }

    // The engine's MEIP input: Q_PENDING != 0 || ENGINE_EVENT != 0.
    bool meip() const { return meip_.load(); }

    // Device reset: abandon all work (no completions written, no DMA after
    // return), registers to reset values. Workers stay (idle).
    void reset();
    // No queue has a command queued for or running on its engine, nor a
    // finished one whose CQE is still being posted.
    bool idle() const;
    // Starts the worker threads if they do not run yet (the constructor
    // does, unless told to defer them: mtia_core_config.defer_threads).
    // Throws std::system_error if a thread cannot be created.
    void start_workers();
    // VM stop: wait until every dispatched command has run and its completion
    // is posted (or held, CQ full), then send pending coalesced interrupts.
    // A COMPUTE program still running parks at its next op boundary instead
    // (with the commands behind it) until resume(), if the host has ever
    // called resume(); otherwise it runs to completion too.
    void quiesce();
    // VM continue: parked COMPUTE programs go on.
    void resume();
    // Device memory written by the engine since the last call.
    bool take_devmem_dirty() { return devmem_dirty_.exchange(false); }
    // Device memory's write tracker (mtia_write_track.h): the engine marks
    // its own writes; other writers call wrote() / devmem_write().
    WriteTracker &devmem_track() { return track_; }
    // [p, p + len) of device memory was written (after the store).
    void wrote(const uint8_t *p, uint64_t len);
    // A store of @size (1..8) bytes of @value (little-endian) at device
    // memory offset @off from outside the device (BAR2); out of range: none.
    // Not in take_devmem_dirty(): the host logs these stores itself.
    void devmem_write(uint64_t off, uint64_t value, unsigned size);
    // MTIA_REG_DEVMEM_ZERO: zeroes @pages 4 KiB pages from @page (marked
    // written); false, zeroing nothing, if they reach past device memory.
    bool devmem_zero(uint64_t page, uint64_t pages);

    // Fault injection (mtia_fault.h): the engine's own faults (DMA error,
    // translation, hang, latency) and the armed state for the rest of the
    // device. fault_changed() after arming: ends a hang that was switched
    // off. fault() reports one that took effect to the trace hook.
    FaultInjector &faults() { return faults_; }
    void fault_changed();
    void fault(uint32_t kind, uint32_t qi, uint32_t cid, uint32_t opcode, uint64_t value);

    // Migration: 0, or -1 if completions are held (CQ full) or work is queued.
    int save(mtia_core_snapshot *s);
    // mmu: this device has the MMU (a snapshot of one without has its
    // registers all 0).
    static bool snapshot_valid(const mtia_core_snapshot *s, bool mmu);
    void load(const mtia_core_snapshot *s);  // after reset(); s valid

    void stats(unsigned q, mtia_core_queue_stats *out);
    // Time the engines spent executing since power-on (never reset), for
    // telemetry: data movement (COPY/FILL/...) and the PE grid (COMPUTE).
    uint64_t dma_busy_ns() const { return dma_busy_ns_.load(); }
    uint64_t pe_busy_ns() const { return pe_busy_ns_.load(); }

private:
    struct Item {
        mtia_cmd cmd;
        uint16_t sq_head;   // SQ head after the fetch, for the CQE
        bool precompleted;  // Q_COMPLETE queued behind engine work
        uint16_t status;    // precompleted: its status
    };
    struct Queue {
        // Registers and state, all under mu_.
        uint32_t sq_base_lo = 0, sq_base_hi = 0, cq_base_lo = 0, cq_base_hi = 0;
        uint32_t size = 0, ctrl = 0, status = 0, coalesce = 0;
        uint32_t sq_head = 0, sq_tail = 0, cq_head = 0, cq_tail = 0, phase = 1;
        // Q_CTX: written under mu_ while disabled, read by the worker too.
        std::atomic<uint32_t> ctx_bind{0};
        std::deque<Item> fifo;   // dispatched, not started
        bool executing = false;  // the worker runs `current`
        Item current{};
        uint32_t inflight = 0;      // fifo + executing (+ being posted)
        std::deque<mtia_cqe> held;  // completions waiting for CQ room
        uint32_t unsignalled = 0;   // completions since the last interrupt
        uint64_t first_ns = 0;      // when the first of them was posted
        uint64_t commands = 0, bytes = 0, busy_ns = 0, completions = 0;
        // MTIA_Q_BUSY_*: each engine's time on this queue's commands since
        // power-on (never reset), indexed by EngineIdx.
        std::atomic<uint64_t> engine_ns[2] = {0, 0};
        // Of the running command's time, what its pacing already added to
        // the engine's busy counter (its worker, or the compute thread
        // running its program while the worker waits).
        uint64_t busy_reported = 0;
        bool parked = false;           // its COMPUTE program waits for resume()
        bool hung = false;             // its command is held by fault-hang
        std::atomic<uint64_t> gen{0};  // bumped by disable / reset: aborts work
        std::mutex ring_mu;            // serialises ring DMA (fetch, CQE writes)
        std::condition_variable cv;    // worker wake-up (with mu_)
        std::thread worker;
        std::vector<uint8_t> buf;  // worker's bounce / pattern buffer
    };

    bool enabled(const Queue &q) const { return q.ctrl & MTIA_Q_CTRL_ENABLE; }
    bool running(const Queue &q) const { return enabled(q) && !(q.status & MTIA_Q_STATUS_ERROR); }
    static uint32_t prio(const Queue &q) { return mtia_q_ctrl_prio(q.ctrl); }
    static uint32_t sq_entries(const Queue &q) { return 1u << mtia_q_size_sq(q.size); }
    static uint32_t cq_entries(const Queue &q) { return 1u << mtia_q_size_cq(q.size); }
    static uint64_t sq_base(const Queue &q) { return uint64_t{q.sq_base_hi} << 32 | q.sq_base_lo; }
    static uint64_t cq_base(const Queue &q) { return uint64_t{q.cq_base_hi} << 32 | q.cq_base_lo; }
    unsigned vector(const Queue &q) const;
    uint32_t pending_mask() const;  // mu_ held
    void update_meip();             // mu_ held

    void enable(unsigned qi);                                    // mu_ held
    void disable(unsigned qi, std::unique_lock<std::mutex> &l);  // mu_ held
    void cq_head_doorbell(unsigned qi, uint32_t val);            // no lock

    // Completion posting. ring_mu held, mu_ not. Returns true if the queue's
    // vector is to be raised (after the locks are dropped).
    bool post(unsigned qi, mtia_cqe c, uint64_t gen);
    int write_cqe(unsigned qi, mtia_cqe c, uint64_t gen, bool *irq);  // ring_mu held
    void flush_errors();                                              // no lock held: report queues stopped on errors
    bool note_completion(Queue &q);                                   // mu_ held: coalescing
    void stop_queue_on_error(unsigned qi);                            // mu_ held
    bool outranked(unsigned qi) const;                                // mu_ held
    void wake_workers();                                              // mu_ held

    // Reports to the host's trace hook, if any; no engine lock held.
    void trace(uint32_t kind, unsigned qi, uint32_t cid, uint32_t opcode, uint32_t status, uint64_t value,
               uint32_t slot = 0, uint32_t source = 0);

    void fetch(unsigned qi);
    bool dispatch(unsigned qi);
    bool complete(unsigned qi, uint16_t status);

    void worker_main(unsigned qi);
    void execute(unsigned qi, const mtia_cmd &c, uint64_t gen, uint16_t *status, uint64_t *result);
    uint16_t do_copy(unsigned qi, const mtia_cmd &c, uint64_t gen, uint64_t *done);
    uint16_t do_fill(unsigned qi, const mtia_cmd &c, uint64_t gen, uint64_t *done);
    uint16_t do_timestamp(unsigned qi, const mtia_cmd &c, uint64_t *result);
    uint16_t do_compute(unsigned qi, const mtia_cmd &c, uint64_t gen, uint64_t *result);
    // Between a program's ops: parks while the VM is stopped; true if the
    // program is to stop (disable, reset).
    bool compute_poll(Queue &q, uint64_t gen);
    // Pacing of a command of queue @q (mtia_pacer.h) to the engine clock;
    // its waits end when the command is aborted (the generation changes),
    // the VM stops (quiesce) or the engine goes away. Each piece's time goes
    // to the engine's counters (account()) as it is marked (and to
    // q.busy_reported, which the worker does not count again). No engine
    // lock held.
    PacedJob paced_job(Queue &q, uint64_t gen, bool pe);
    // @ns of engine time (the PE grid if @pe, else the data engine) for a
    // command of @q: the engine's counter and the queue's MTIA_Q_BUSY_*.
    void account(Queue &q, bool pe, uint64_t ns);
    AddressSpace &space_for(uint32_t ctx);
    // MTIA_CQE_OK, or BAD_CONTEXT if @q is bound (Q_CTX) and @c is not its
    // context's or the MMU is off.
    uint16_t bound_status(const Queue &q, const mtia_cmd &c) const;
    // Operand @op of command @c (queue @qi) through its context's space; a
    // translation fault puts the VA in *result and is traced.
    uint16_t translate(unsigned qi, const mtia_cmd &c, const mtia_operand &op, uint64_t len, bool write,
                       std::vector<Span> *out, uint64_t *result);
    // Before a command runs: holds it while fault-hang is on (true: it was
    // aborted meanwhile), then adds fault-latency-us. mu_ not held.
    bool fault_delay(unsigned qi, const mtia_cmd &c, uint64_t gen);
    // mu_ held. parked_ok: a queue whose COMPUTE program is parked counts as idle.
    void wait_idle(std::unique_lock<std::mutex> &l, bool parked_ok = false);

    friend class FlatSpace;
    QueueHost &host_;
    const unsigned msix_vectors_;
    const unsigned pe_rows_, pe_cols_;
    uint8_t *devmem_ = nullptr;
    uint64_t devmem_size_ = 0;
    std::unique_ptr<AddressSpace> flat_;
    std::unique_ptr<Mmu> mmu_;  // with MTIA_CAP_MMU
    FaultInjector faults_;

    mutable std::mutex mu_;
    std::condition_variable idle_cv_;  // a worker finished an item
    Queue q_[MTIA_NUM_QUEUES];
    // Firmware dispatch state (mu_).
    mtia_cmd sqe_{};
    bool sqe_valid_ = false;
    unsigned sqe_q_ = 0;
    uint16_t sqe_head_ = 0;
    uint64_t sqe_gen_ = 0;
    uint32_t fetch_status_ = MTIA_CQE_OK;
    uint32_t select_ = 0;
    uint32_t engine_event_ = 0;
    bool stop_ = false;
    std::atomic<bool> meip_{false};
    // Workers past executing = false (set under mu_ with it) whose CQE and
    // interrupt are not out yet: idle() is false meanwhile.
    std::atomic<unsigned> posting_{0};
    std::atomic<bool> devmem_dirty_{false};
    WriteTracker track_;                       // device memory's pages (reset by attach_devmem)
    std::atomic<uint32_t> pending_errors_{0};  // queues stopped, not yet reported
    std::atomic<uint64_t> dma_busy_ns_{0}, pe_busy_ns_{0};
    // The PE grid runs one program at a time (COMPUTE from any queue). Leaf
    // lock: taken by a worker with no other engine lock held.
    std::timed_mutex pe_mu_;
    ComputeThread compute_thread_;      // runs the programs (its own lock; callers hold pe_mu_)
    bool pe_paused_ = false;            // mu_: VM stopped, COMPUTE parks
    bool quiescing_ = false;            // mu_: quiesce() runs: pacing waits end
    bool resume_seen_ = false;          // mu_: the host calls resume()
    std::condition_variable pause_cv_;  // with mu_: pe_paused_, quiescing_ or a generation changed
};

}  // namespace mtia

#endif  // MTIA_QUEUES_H
