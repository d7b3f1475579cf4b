// SPDX-License-Identifier: MIT
// Hardware queues and the data engine (see mtia_queues.h, docs/queues.md).
//
// Locking, in this order:
//   Queue::ring_mu  one per queue: serialises every DMA access to that
//                   queue's rings (SQ fetch, CQE writes) and the interrupt
//                   raised for them, so disable/reset/quiesce can wait for
//                   the ring traffic in progress by taking it.
//   mu_             all register and engine state. Never held across DMA or
//                   a host op other than meip_changed() (which only takes
//                   the core's leaf MEIP lock).
// Data DMA (COPY/FILL/TIMESTAMP operands) holds no lock at all, so a long
// copy never blocks MMIO or the control core. raise_irq is called with no
// core/engine state lock held (a queue's ring_mu may be held; the host must
// not call back into the core from raise_irq). The same goes for the trace
// hook (trace()), which reports doorbells, fetches, dispatches, CQEs and
// command errors where they happen, only when the host set one.
#include "mtia_queues.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "mtia_compute.h"
#include "mtia_mmu.h"
#include "mtia/mtia_cmd_rules.h"

static_assert(MTIA_CORE_NUM_QUEUES == MTIA_NUM_QUEUES, "snapshot queue count");
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "rings are little endian");

namespace mtia {

namespace {

constexpr uint64_t kChunk = 1u << 20;  // copy/fill step; abort checked between
constexpr uint32_t kSgtBatch = 4096;   // SG entries read per DMA
constexpr uint32_t kQueueRegsEnd = MTIA_REG_QUEUE_BASE + MTIA_NUM_QUEUES * MTIA_QUEUE_STRIDE;
constexpr uint32_t kDoorbellEnd = MTIA_REG_DOORBELL_BASE + MTIA_NUM_QUEUES * MTIA_DOORBELL_STRIDE;
constexpr uint32_t kCtrlBits = MTIA_Q_CTRL_ENABLE | MTIA_Q_CTRL_PRIO_MASK | MTIA_Q_CTRL_VEC_MASK;
constexpr uint32_t kStatusFlags = MTIA_Q_STATUS_ERROR | MTIA_Q_STATUS_BAD_DB;
constexpr uint32_t kCtxBits = MTIA_Q_CTX_BIND | MTIA_Q_CTX_ID_MASK;
constexpr uint32_t kSqeOff = MTIA_CC_REG_SQE;
constexpr uint32_t kSqeEnd = MTIA_CC_REG_SQE + 64;

uint64_t now_ns()
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

bool valid_log2(uint32_t v) { return v >= MTIA_Q_SIZE_LOG2_MIN && v <= MTIA_Q_SIZE_LOG2_MAX; }
bool valid_size(uint32_t size)
{
    return (size & ~(MTIA_Q_SIZE_SQ_MASK | MTIA_Q_SIZE_CQ_MASK)) == 0 && valid_log2(mtia_q_size_sq(size)) &&
           valid_log2(mtia_q_size_cq(size));
}

}  // namespace

// ---- the translate seam ------------------------------------------------------

// Device memory, SG tables in host memory and flat host addresses: the
// address space of every context while the device MMU is off.
class FlatSpace final : public AddressSpace {
public:
    explicit FlatSpace(QueueEngine &e) : e_(e) {}

    uint16_t translate(uint32_t /*ctx*/, const mtia_operand &op, uint64_t len, bool /*write*/, std::vector<Span> *out,
                       TranslateFault * /*fault*/) override
    {
        out->clear();
        const uint64_t tag = op.addr & MTIA_ADDR_TAG_MASK;
        const uint64_t base = op.addr & ~MTIA_ADDR_TAG_MASK;
        if (tag == MTIA_ADDR_TAG_MASK) return MTIA_CQE_BAD_ADDRESS;
        if (len == 0) return MTIA_CQE_OK;
        if (tag == MTIA_ADDR_DEVMEM) {
            if (op.offset > UINT64_MAX - base) return MTIA_CQE_BAD_ADDRESS;
            const uint64_t off = base + op.offset;
            if (!e_.devmem_ || off > e_.devmem_size_ || len > e_.devmem_size_ - off) return MTIA_CQE_BAD_ADDRESS;
            out->push_back(Span{true, e_.devmem_ + off, 0, len});
            return MTIA_CQE_OK;
        }
        if (tag == MTIA_ADDR_SGT) return sgt(base, op.offset, len, out);
        if (op.offset > UINT64_MAX - base) return MTIA_CQE_BAD_ADDRESS;
        const uint64_t dma = base + op.offset;
        if (len - 1 > UINT64_MAX - dma) return MTIA_CQE_BAD_ADDRESS;
        out->push_back(Span{false, nullptr, dma, len});
        return MTIA_CQE_OK;
    }

private:
    // The SG table at host address @table; [offset, offset + len) of the
    // buffer it describes. Every entry is read and checked.
    uint16_t sgt(uint64_t table, uint64_t offset, uint64_t len, std::vector<Span> *out)
    {
        mtia_sgt h;
        if (table > UINT64_MAX - sizeof(h)) return MTIA_CQE_BAD_ADDRESS;
        if (e_.host_.dma_read(table, &h, sizeof(h))) return MTIA_CQE_DMA_ERROR;
        if (h.magic != MTIA_SGT_MAGIC || h.count < 1 || h.count > MTIA_SGT_MAX_ENTRIES) return MTIA_CQE_BAD_ADDRESS;
        if (offset > h.total || len > h.total - offset) return MTIA_CQE_BAD_ADDRESS;
        const uint64_t entries = table + sizeof(h);
        if (uint64_t{h.count} * sizeof(mtia_sg_entry) - 1 > UINT64_MAX - entries) return MTIA_CQE_BAD_ADDRESS;
        const uint64_t end = offset + len;
        std::vector<mtia_sg_entry> batch(std::min(h.count, kSgtBatch));
        uint64_t pos = 0;  // buffer offset of the entry's first byte
        for (uint32_t i = 0; i < h.count; i += kSgtBatch) {
            const uint32_t n = std::min(kSgtBatch, h.count - i);
            if (e_.host_.dma_read(entries + uint64_t{i} * sizeof(mtia_sg_entry), batch.data(),
                                  uint64_t{n} * sizeof(mtia_sg_entry)))
                return MTIA_CQE_DMA_ERROR;
            for (uint32_t k = 0; k < n; k++) {
                const mtia_sg_entry &en = batch[k];
                if (en.len == 0 || en.len - 1 > UINT64_MAX - en.dma) return MTIA_CQE_BAD_ADDRESS;
                if (en.len > UINT64_MAX - pos) return MTIA_CQE_BAD_ADDRESS;
                // Overlap of [pos, pos + len) with [offset, end)
                const uint64_t lo = std::max(pos, offset), hi = std::min(pos + en.len, end);
                if (lo < hi) out->push_back(Span{false, nullptr, en.dma + (lo - pos), hi - lo});
                pos += en.len;
            }
        }
        if (pos != h.total) return MTIA_CQE_BAD_ADDRESS;
        return MTIA_CQE_OK;
    }

    QueueEngine &e_;
};

AddressSpace &QueueEngine::space_for(uint32_t /*ctx*/)
{
    if (mmu_ && mmu_->enabled()) return *mmu_;
    return *flat_;
}

// A bound queue belongs to one process: its commands may name no other
// context, and without the MMU every address would be a bus address.
uint16_t QueueEngine::bound_status(const Queue &q, const mtia_cmd &c) const
{
    const uint32_t b = q.ctx_bind.load(std::memory_order_relaxed);
    if (!(b & MTIA_Q_CTX_BIND)) return MTIA_CQE_OK;
    if (c.ctx != mtia_q_ctx_id(b) || !mmu_ || !mmu_->enabled()) return MTIA_CQE_BAD_CONTEXT;
    return MTIA_CQE_OK;
}

uint16_t QueueEngine::translate(unsigned qi, const mtia_cmd &c, const mtia_operand &op, uint64_t len, bool write,
                                std::vector<Span> *out, uint64_t *result)
{
    // fault-translation: the Nth operand translation from now fails as
    // the MMU's would, whatever the context's space.
    if (faults_.take_translation()) {
        out->clear();
        *result = op.addr;
        fault(MTIA_CORE_FAULT_TRANSLATION, qi, c.cid, c.opcode, op.addr);
        return MTIA_CQE_TRANSLATION_FAULT;
    }
    TranslateFault f;
    const uint16_t st = space_for(c.ctx).translate(c.ctx, op, len, write, out, &f);
    if (st == MTIA_CQE_TRANSLATION_FAULT) {
        *result = f.va;
        if (host_.tracing()) {
            mtia_core_trace_event ev{};
            ev.kind = MTIA_CORE_TRACE_MMU_FAULT;
            ev.queue = qi;
            ev.cid = c.cid;
            ev.opcode = c.opcode;
            ev.status = st;
            ev.value = f.va;
            ev.ctx = c.ctx;
            ev.info = f.info;
            host_.trace(ev);
        }
    }
    return st;
}

// ---- life cycle ----------------------------------------------------------------

QueueEngine::QueueEngine(QueueHost &host, unsigned msix_vectors, unsigned pe_rows, unsigned pe_cols, bool mmu,
                         bool defer_workers)
    : host_(host),
      msix_vectors_(msix_vectors),
      pe_rows_(pe_rows),
      pe_cols_(pe_cols),
      flat_(new FlatSpace(*this)),
      mmu_(mmu ? new Mmu(host) : nullptr)
{
    if (defer_workers) return;
    try {
        start_workers();
    } catch (...) {
        {
            std::lock_guard<std::mutex> l(mu_);
            stop_ = true;
        }
        for (auto &q : q_) {
            q.cv.notify_all();
            if (q.worker.joinable()) q.worker.join();
        }
        throw;
    }
}

QueueEngine::~QueueEngine()
{
    reset();
    {
        std::lock_guard<std::mutex> l(mu_);
        stop_ = true;
    }
    pause_cv_.notify_all();
    for (auto &q : q_) {
        q.cv.notify_all();
        if (q.worker.joinable()) q.worker.join();  // deferred: maybe never started
    }
}

bool QueueEngine::idle() const
{
    std::lock_guard<std::mutex> l(mu_);
    if (posting_.load()) return false;
    for (const Queue &q : q_)
        if (q.executing || !q.fifo.empty()) return false;
    return true;
}

// Idempotent per queue: after a failure the workers already created run
// and the next call creates the others. The new threads wait for mu_.
void QueueEngine::start_workers()
{
    std::lock_guard<std::mutex> l(mu_);
    for (unsigned i = 0; i < MTIA_NUM_QUEUES; i++)
        if (!q_[i].worker.joinable()) q_[i].worker = std::thread(&QueueEngine::worker_main, this, i);
}

void QueueEngine::wrote(const uint8_t *p, uint64_t len)
{
    track_.wrote(static_cast<uint64_t>(p - devmem_), len);
    devmem_dirty_.store(true);
}

void QueueEngine::devmem_write(uint64_t off, uint64_t value, unsigned size)
{
    if (!devmem_ || size > 8 || off > devmem_size_ || size > devmem_size_ - off) return;
    for (unsigned k = 0; k < size; k++) devmem_[off + k] = static_cast<uint8_t>(value >> (8 * k));
    track_.wrote(off, size);  // the host logs its own stores for migration
}

bool QueueEngine::devmem_zero(uint64_t page, uint64_t pages)
{
    const uint64_t off = page * MTIA_DEVMEM_ZERO_PAGE_SIZE, len = pages * MTIA_DEVMEM_ZERO_PAGE_SIZE;
    if (!devmem_ || off > devmem_size_ || len > devmem_size_ - off) return false;
    std::memset(devmem_ + off, 0, len);
    wrote(devmem_ + off, len);
    return true;
}

void QueueEngine::attach_devmem(uint8_t *host, uint64_t size)
{
    std::lock_guard<std::mutex> l(mu_);
    devmem_ = host;
    devmem_size_ = host ? size : 0;
    track_.reset(devmem_size_);
    if (mmu_) mmu_->attach_devmem(devmem_, devmem_size_);
}

unsigned QueueEngine::vector(const Queue &q) const
{
    unsigned v = mtia_q_ctrl_vec(q.ctrl);
    return v < msix_vectors_ ? v : MTIA_MSIX_VEC_ADMIN;
}

uint32_t QueueEngine::pending_mask() const
{
    uint32_t m = 0;
    for (unsigned i = 0; i < MTIA_NUM_QUEUES; i++)
        if (running(q_[i]) && q_[i].sq_head != q_[i].sq_tail) m |= 1u << i;
    return m;
}

void QueueEngine::update_meip()
{
    bool v = pending_mask() != 0 || engine_event_ != 0;
    if (meip_.exchange(v) != v) host_.meip_changed();
}

// Every ring position and flag back to the reset state except the config.
void QueueEngine::enable(unsigned qi)
{
    Queue &q = q_[qi];
    q.gen++;
    q.ctrl |= MTIA_Q_CTRL_ENABLE;
    q.status = 0;
    q.sq_head = q.sq_tail = q.cq_head = q.cq_tail = 0;
    q.phase = 1;
    q.fifo.clear();
    q.held.clear();
    q.inflight = 0;
    q.unsignalled = 0;
    q.commands = q.bytes = q.busy_ns = q.completions = 0;
    update_meip();
}

// CTRL.ENABLE 1 -> 0 (see docs/queues.md, "Disable"): unfetched entries are
// dropped; the command the engine runs and every one queued behind it
// complete with ABORTED (Q_COMPLETEs queued behind them keep their status),
// written after the completions already held, as far as the CQ has room.
// When this returns the device no longer touches the queue's rings.
void QueueEngine::disable(unsigned qi, std::unique_lock<std::mutex> &l)
{
    Queue &q = q_[qi];
    const bool had_work = q.inflight > 0;
    q.ctrl &= ~MTIA_Q_CTRL_ENABLE;
    q.gen++;
    pause_cv_.notify_all();  // a parked program of this queue ends
    std::vector<Item> aborted;
    if (q.executing) aborted.push_back(q.current);
    aborted.insert(aborted.end(), q.fifo.begin(), q.fifo.end());
    q.fifo.clear();
    q.inflight = 0;
    wake_workers();
    if (had_work) engine_event_ |= 1u << qi;
    update_meip();
    idle_cv_.wait(l, [&] { return !q.executing; });
    std::deque<mtia_cqe> held;
    held.swap(q.held);
    l.unlock();

    bool irq = false;
    {
        std::lock_guard<std::mutex> ring(q.ring_mu);
        // Written with the old generation and the queue briefly "running" in
        // write_cqe's eyes: the abort completions are the last ring writes.
        for (auto &it : aborted) {
            mtia_cqe c{};
            c.result = 0;
            c.sq_head = it.sq_head;
            c.sq_id = static_cast<uint16_t>(qi);
            c.cid = it.cmd.cid;
            c.status = mtia_cqe_status_word(it.precompleted ? it.status : MTIA_CQE_ABORTED, 0);
            held.push_back(c);
        }
        for (auto &c : held) {
            std::unique_lock<std::mutex> l2(mu_);
            if (q.status & MTIA_Q_STATUS_ERROR) break;
            const uint32_t n = cq_entries(q);
            if ((q.cq_tail + 1) % n == q.cq_head) break;  // no room: dropped
            mtia_cqe w = c;
            w.status = static_cast<uint16_t>((w.status & ~1u) | q.phase);
            const uint64_t addr = cq_base(q) + uint64_t{q.cq_tail} * sizeof(mtia_cqe);
            l2.unlock();
            const int rc = host_.dma_write(addr, &w, sizeof(w));
            l2.lock();
            if (rc) break;
            const uint32_t slot = q.cq_tail;
            q.cq_tail = (q.cq_tail + 1) % n;
            if (q.cq_tail == 0) q.phase ^= 1;
            q.completions++;
            irq = true;
            l2.unlock();
            trace(MTIA_CORE_TRACE_CQE, qi, w.cid, 0, w.status >> 1, w.result, slot);
        }
        std::unique_lock<std::mutex> l2(mu_);
        q.unsignalled = 0;
        const unsigned v = vector(q);
        l2.unlock();
        if (irq) host_.raise_irq(v);
    }
    l.lock();
}

// ---- host registers --------------------------------------------------------------

bool QueueEngine::owns(uint64_t off)
{
    return (off >= MTIA_REG_QUEUE_BASE && off < kQueueRegsEnd) || (off >= MTIA_REG_DOORBELL_BASE && off < kDoorbellEnd);
}

QueueEngine::Access QueueEngine::host_read(uint64_t off, uint32_t *val)
{
    *val = 0;
    if (off >= MTIA_REG_DOORBELL_BASE) {
        const uint64_t r = (off - MTIA_REG_DOORBELL_BASE) % MTIA_DOORBELL_STRIDE;
        return r == MTIA_DB_SQ_TAIL || r == MTIA_DB_CQ_HEAD ? Access::kOk : Access::kBadOffset;
    }
    const unsigned qi = static_cast<unsigned>((off - MTIA_REG_QUEUE_BASE) / MTIA_QUEUE_STRIDE);
    const uint64_t r = (off - MTIA_REG_QUEUE_BASE) % MTIA_QUEUE_STRIDE;
    std::lock_guard<std::mutex> l(mu_);
    const Queue &q = q_[qi];
    switch (r) {
        case MTIA_Q_SQ_BASE_LO:
            *val = q.sq_base_lo;
            break;
        case MTIA_Q_SQ_BASE_HI:
            *val = q.sq_base_hi;
            break;
        case MTIA_Q_CQ_BASE_LO:
            *val = q.cq_base_lo;
            break;
        case MTIA_Q_CQ_BASE_HI:
            *val = q.cq_base_hi;
            break;
        case MTIA_Q_SIZE:
            *val = q.size;
            break;
        case MTIA_Q_CTRL:
            *val = q.ctrl;
            break;
        case MTIA_Q_STATUS:
            *val = (enabled(q) ? MTIA_Q_STATUS_ENABLED : 0) | q.status |
                   MTIA_FIELD_PREP(MTIA_Q_STATUS_SQ_HEAD_MASK, q.sq_head);
            break;
        case MTIA_Q_COALESCE:
            *val = q.coalesce;
            break;
        case MTIA_Q_CQ_TAIL:
            *val = q.cq_tail;
            break;
        case MTIA_Q_SQ_TAIL:
            *val = q.sq_tail;
            break;
        case MTIA_Q_CTX:
            *val = q.ctx_bind;
            break;
        case MTIA_Q_BUSY_DMA_LO:
        case MTIA_Q_BUSY_DMA_HI:
        case MTIA_Q_BUSY_PE_LO:
        case MTIA_Q_BUSY_PE_HI: {
            const uint64_t ns = q.engine_ns[r >= MTIA_Q_BUSY_PE_LO ? 1 : 0].load();
            *val = static_cast<uint32_t>(r == MTIA_Q_BUSY_DMA_HI || r == MTIA_Q_BUSY_PE_HI ? ns >> 32 : ns);
            break;
        }
        default:
            return Access::kBadOffset;
    }
    return Access::kOk;
}

QueueEngine::Access QueueEngine::host_write(uint64_t off, uint32_t val)
{
    if (off >= MTIA_REG_DOORBELL_BASE) {
        const unsigned qi = static_cast<unsigned>((off - MTIA_REG_DOORBELL_BASE) / MTIA_DOORBELL_STRIDE);
        const uint64_t r = (off - MTIA_REG_DOORBELL_BASE) % MTIA_DOORBELL_STRIDE;
        Queue &q = q_[qi];
        if (r == MTIA_DB_SQ_TAIL) {
            std::unique_lock<std::mutex> l(mu_);
            if (!enabled(q)) return Access::kOk;  // ignored while disabled
            if (val >= sq_entries(q)) {
                q.status |= MTIA_Q_STATUS_BAD_DB;
                return Access::kBadDoorbell;
            }
            // Reported before firmware can see the new tail (MEIP), so a
            // fetch never precedes its doorbell in the trace.
            if (host_.tracing()) {
                l.unlock();
                trace(MTIA_CORE_TRACE_DOORBELL_SQ, qi, 0, 0, 0, val);
                l.lock();
                if (!enabled(q) || val >= sq_entries(q)) return Access::kOk;  // disabled meanwhile
            }
            q.sq_tail = val;
            update_meip();
            return Access::kOk;
        }
        if (r == MTIA_DB_CQ_HEAD) {
            std::lock_guard<std::mutex> ring(q.ring_mu);
            std::unique_lock<std::mutex> l(mu_);
            if (!enabled(q)) return Access::kOk;
            if (val >= cq_entries(q)) {
                q.status |= MTIA_Q_STATUS_BAD_DB;
                return Access::kBadDoorbell;
            }
            q.cq_head = val;
            const uint64_t gen = q.gen;
            bool irq = false;
            l.unlock();
            trace(MTIA_CORE_TRACE_DOORBELL_CQ, qi, 0, 0, 0, val);
            l.lock();
            // Completions held for room go out now, in order.
            while (!q.held.empty() && running(q)) {
                mtia_cqe c = q.held.front();
                l.unlock();
                int r2 = write_cqe(qi, c, gen, &irq);
                l.lock();
                if (r2 != 0) break;
                if (!q.held.empty()) q.held.pop_front();
            }
            const unsigned v = vector(q);
            l.unlock();
            if (irq) host_.raise_irq(v);
            return Access::kOk;
        }
        return Access::kBadOffset;
    }

    const unsigned qi = static_cast<unsigned>((off - MTIA_REG_QUEUE_BASE) / MTIA_QUEUE_STRIDE);
    const uint64_t r = (off - MTIA_REG_QUEUE_BASE) % MTIA_QUEUE_STRIDE;
    std::unique_lock<std::mutex> l(mu_);
    Queue &q = q_[qi];
    switch (r) {
        case MTIA_Q_SQ_BASE_LO:
        case MTIA_Q_CQ_BASE_LO:
            if (enabled(q) || (val & 0xfff)) return Access::kBadWrite;
            (r == MTIA_Q_SQ_BASE_LO ? q.sq_base_lo : q.cq_base_lo) = val;
            return Access::kOk;
        case MTIA_Q_SQ_BASE_HI:
        case MTIA_Q_CQ_BASE_HI:
            if (enabled(q)) return Access::kBadWrite;
            (r == MTIA_Q_SQ_BASE_HI ? q.sq_base_hi : q.cq_base_hi) = val;
            return Access::kOk;
        case MTIA_Q_SIZE:
            if (enabled(q) || !valid_size(val)) return Access::kBadWrite;
            q.size = val;
            return Access::kOk;
        case MTIA_Q_CTRL: {
            const bool was = enabled(q), en = val & MTIA_Q_CTRL_ENABLE;
            if (en && !was && !valid_size(q.size)) return Access::kBadWrite;  // never sized
            q.ctrl = (q.ctrl & MTIA_Q_CTRL_ENABLE) | (val & kCtrlBits & ~MTIA_Q_CTRL_ENABLE);
            if (en && !was) enable(qi);
            if (!en && was) disable(qi, l);
            return Access::kOk;
        }
        case MTIA_Q_COALESCE:
            q.coalesce = val & (MTIA_Q_COALESCE_COUNT_MASK | MTIA_Q_COALESCE_DELAY_MASK);
            return Access::kOk;
        case MTIA_Q_CTX:
            if (enabled(q) || (val & ~kCtxBits)) return Access::kBadWrite;
            q.ctx_bind = val;
            return Access::kOk;
        case MTIA_Q_STATUS:
        case MTIA_Q_CQ_TAIL:
        case MTIA_Q_SQ_TAIL:
        case MTIA_Q_BUSY_DMA_LO:
        case MTIA_Q_BUSY_DMA_HI:
        case MTIA_Q_BUSY_PE_LO:
        case MTIA_Q_BUSY_PE_HI:
            return Access::kBadWrite;
        default:
            return Access::kBadOffset;
    }
}

// ---- completions -------------------------------------------------------------------

void QueueEngine::stop_queue_on_error(unsigned qi)
{
    Queue &q = q_[qi];
    q.status |= MTIA_Q_STATUS_ERROR;
    q.gen++;  // abandons the engine's work on it
    q.fifo.clear();
    q.held.clear();
    if (q.inflight) engine_event_ |= 1u << qi;
    q.inflight = 0;
    update_meip();
    pending_errors_.fetch_or(1u << qi);
    wake_workers();
}

// Strict priority between the engines (docs/queues.md "Priority"): a queue's
// worker starts its next command only while no running queue of higher
// priority has work anywhere on the device: posted in its SQ and not yet
// fetched, fetched and not yet dispatched, waiting for its engine or
// executing. The engines run in parallel, so arbitrating only where firmware
// fetches would let a lower queue's dispatched backlog run beside (and in
// the gaps of) a higher queue's work.
bool QueueEngine::outranked(unsigned qi) const
{
    const uint32_t p = prio(q_[qi]);
    for (unsigned j = 0; j < MTIA_NUM_QUEUES; j++) {
        const Queue &o = q_[j];
        if (prio(o) <= p || !running(o)) continue;
        if (o.executing || !o.fifo.empty() || o.sq_head != o.sq_tail || (sqe_valid_ && sqe_q_ == j)) return true;
    }
    return false;
}

void QueueEngine::wake_workers()
{
    for (auto &q : q_) q.cv.notify_all();
}

void QueueEngine::flush_errors()
{
    uint32_t m = pending_errors_.exchange(0);
    while (m) {
        const unsigned qi = static_cast<unsigned>(__builtin_ctz(m));
        m &= m - 1;
        unsigned v;
        {
            std::lock_guard<std::mutex> l(mu_);
            v = vector(q_[qi]);
        }
        host_.queue_error(qi);
        host_.raise_irq(v);  // whoever waits on the queue looks at STATUS
    }
}

// Writes @c at CQ tail: 0 written, 1 no room, -1 dropped (queue stopped,
// disabled or re-enabled since @gen), -2 the write failed (queue stopped).
int QueueEngine::write_cqe(unsigned qi, mtia_cqe c, uint64_t gen, bool *irq)
{
    Queue &q = q_[qi];
    std::unique_lock<std::mutex> l(mu_);
    if (q.gen != gen || !running(q)) return -1;
    const uint32_t n = cq_entries(q);
    if ((q.cq_tail + 1) % n == q.cq_head) return 1;
    c.status = static_cast<uint16_t>((c.status & ~1u) | q.phase);
    const uint64_t addr = cq_base(q) + uint64_t{q.cq_tail} * sizeof(mtia_cqe);
    l.unlock();
    const int rc = host_.dma_write(addr, &c, sizeof(c));
    l.lock();
    if (q.gen != gen) return -1;
    const uint32_t slot = q.cq_tail;
    if (rc) {
        stop_queue_on_error(qi);
        l.unlock();
        trace(MTIA_CORE_TRACE_CMD_ERROR, qi, 0, 0, MTIA_CQE_DMA_ERROR, 0, slot, MTIA_CORE_TRACE_BY_RING);
        return -2;
    }
    q.cq_tail = (q.cq_tail + 1) % n;
    if (q.cq_tail == 0) q.phase ^= 1;
    q.completions++;
    if (note_completion(q)) *irq = true;
    l.unlock();
    trace(MTIA_CORE_TRACE_CQE, qi, c.cid, 0, c.status >> 1, c.result, slot);
    return 0;
}

void QueueEngine::trace(uint32_t kind, unsigned qi, uint32_t cid, uint32_t opcode, uint32_t status, uint64_t value,
                        uint32_t slot, uint32_t source)
{
    if (!host_.tracing()) return;
    mtia_core_trace_event ev{};
    ev.kind = kind;
    ev.queue = qi;
    ev.cid = cid;
    ev.opcode = opcode;
    ev.status = status;
    ev.source = source;
    ev.slot = slot;
    ev.value = value;
    host_.trace(ev);
}

// Coalescing: true if this completion raises the vector now. Count 0 = 1;
// with a max delay the worker's timer raises it when the delay expires.
bool QueueEngine::note_completion(Queue &q)
{
    uint32_t count = mtia_q_coalesce_count(q.coalesce);
    if (count == 0) count = 1;
    if (q.unsignalled == 0) q.first_ns = now_ns();
    if (++q.unsignalled >= count) {
        q.unsignalled = 0;
        return true;
    }
    if (mtia_q_coalesce_delay_us(q.coalesce)) q.cv.notify_all();  // the worker arms the timer
    return false;
}

// Posts @c behind the completions already held. ring_mu held.
bool QueueEngine::post(unsigned qi, mtia_cqe c, uint64_t gen)
{
    Queue &q = q_[qi];
    {
        std::lock_guard<std::mutex> l(mu_);
        if (q.gen != gen || !running(q)) return false;
        if (!q.held.empty()) {
            q.held.push_back(c);
            return false;
        }
    }
    bool irq = false;
    if (write_cqe(qi, c, gen, &irq) == 1) {
        std::lock_guard<std::mutex> l(mu_);
        if (q.gen == gen && running(q)) q.held.push_back(c);
    }
    return irq;
}

// ---- firmware dispatch registers ---------------------------------------------

bool QueueEngine::fw_owns(uint32_t off)
{
    return (off >= MTIA_CC_REG_Q_PENDING && off <= MTIA_CC_REG_ENGINE_EVENT) || (off >= kSqeOff && off < kSqeEnd);
}

bool QueueEngine::fw_read(uint32_t off, unsigned size, uint32_t *val)
{
    std::lock_guard<std::mutex> l(mu_);
    if (off >= kSqeOff && off < kSqeEnd) {  // byte-addressable, like the mailbox
        if (off % size) return false;
        uint32_t word;
        std::memcpy(&word, reinterpret_cast<const uint8_t *>(&sqe_) + ((off - kSqeOff) & ~3u), 4);
        word >>= 8 * (off & 3);
        *val = size == 4 ? word : word & ((1u << 8 * size) - 1);
        return true;
    }
    if (size != 4 || (off & 3)) return false;
    switch (off) {
        case MTIA_CC_REG_Q_PENDING:
            *val = pending_mask();
            return true;
        case MTIA_CC_REG_Q_FETCH:
        case MTIA_CC_REG_Q_DISPATCH:
        case MTIA_CC_REG_Q_COMPLETE:
            *val = 0;
            return true;
        case MTIA_CC_REG_Q_FETCH_STATUS:
            *val = fetch_status_;
            return true;
        case MTIA_CC_REG_Q_INFLIGHT:
            *val = q_[select_].inflight;
            return true;
        case MTIA_CC_REG_Q_SELECT:
            *val = select_;
            return true;
        case MTIA_CC_REG_Q_PRIO:
            *val = prio(q_[select_]);
            return true;
        case MTIA_CC_REG_ENGINE_EVENT:
            *val = engine_event_;
            return true;
        default:
            return false;
    }
}

bool QueueEngine::fw_write(uint32_t off, unsigned size, uint32_t val)
{
    if (size != 4 || (off & 3)) return false;
    switch (off) {
        case MTIA_CC_REG_Q_FETCH:
            if (val >= MTIA_NUM_QUEUES) return false;
            fetch(val);
            return true;
        case MTIA_CC_REG_Q_DISPATCH:
            if (val >= MTIA_NUM_QUEUES) return false;
            return dispatch(val);
        case MTIA_CC_REG_Q_COMPLETE:
            if (mtia_cc_q_complete_queue(val) >= MTIA_NUM_QUEUES) return false;
            return complete(mtia_cc_q_complete_queue(val), static_cast<uint16_t>(mtia_cc_q_complete_status(val)));
        case MTIA_CC_REG_Q_SELECT: {
            std::lock_guard<std::mutex> l(mu_);
            select_ = val % MTIA_NUM_QUEUES;
            return true;
        }
        case MTIA_CC_REG_ENGINE_EVENT: {
            std::lock_guard<std::mutex> l(mu_);
            engine_event_ &= ~val;
            update_meip();
            return true;
        }
        default:
            return false;  // read-only (Q_PENDING, FETCH_STATUS, INFLIGHT, PRIO, SQE)
    }
}

void QueueEngine::fetch(unsigned qi)
{
    Queue &q = q_[qi];
    mtia_cmd fetched{};
    int traced = 0;  // 1: fetched, -1: ring read failed
    uint32_t slot = 0, head_after = 0;
    {
        std::lock_guard<std::mutex> ring(q.ring_mu);
        std::unique_lock<std::mutex> l(mu_);
        if (!running(q) || q.sq_head == q.sq_tail) {
            fetch_status_ = MTIA_CQE_ABORTED;  // nothing to fetch; CC_SQE unchanged
            return;
        }
        const uint32_t head = q.sq_head;
        const uint64_t addr = sq_base(q) + uint64_t{head} * sizeof(mtia_cmd);
        const uint64_t gen = q.gen;
        l.unlock();
        mtia_cmd c;
        const int rc = host_.dma_read(addr, &c, sizeof(c));
        l.lock();
        slot = head;
        if (q.gen != gen) {
            fetch_status_ = MTIA_CQE_ABORTED;
        } else if (rc) {
            fetch_status_ = MTIA_CQE_DMA_ERROR;
            stop_queue_on_error(qi);
            traced = -1;
        } else {
            q.sq_head = (head + 1) % sq_entries(q);
            sqe_ = c;
            sqe_valid_ = true;
            sqe_q_ = qi;
            sqe_head_ = static_cast<uint16_t>(q.sq_head);
            sqe_gen_ = gen;
            fetch_status_ = MTIA_CQE_OK;
            update_meip();
            fetched = c;
            head_after = q.sq_head;
            traced = 1;
        }
    }
    if (traced > 0)
        trace(MTIA_CORE_TRACE_FETCH, qi, fetched.cid, fetched.opcode, 0, head_after, slot);
    else if (traced < 0)
        trace(MTIA_CORE_TRACE_CMD_ERROR, qi, 0, 0, MTIA_CQE_DMA_ERROR, 0, slot, MTIA_CORE_TRACE_BY_RING);
    flush_errors();
}

// false: no fetched command for queue @qi (a firmware bug: access fault).
// The DISPATCH event is reported before the worker can see the command, so
// that its CQE never precedes it in the trace; the hook runs unlocked, so
// the checks are made again after it.
bool QueueEngine::dispatch(unsigned qi)
{
    std::unique_lock<std::mutex> l(mu_);
    Queue &q = q_[qi];
    if (!sqe_valid_ || sqe_q_ != qi) return false;
    if (host_.tracing() && sqe_gen_ == q.gen && running(q)) {
        const mtia_cmd c = sqe_;
        l.unlock();
        trace(MTIA_CORE_TRACE_DISPATCH, qi, c.cid, c.opcode, 0, 0);
        l.lock();
        if (!sqe_valid_ || sqe_q_ != qi) return true;  // reset meanwhile: dropped
    }
    sqe_valid_ = false;
    if (sqe_gen_ != q.gen || !running(q)) return true;  // queue disabled since: dropped
    q.fifo.push_back(Item{sqe_, sqe_head_, false, 0});
    q.inflight++;
    q.cv.notify_all();
    return true;
}

bool QueueEngine::complete(unsigned qi, uint16_t status)
{
    Queue &q = q_[qi];
    mtia_cqe c{};
    uint64_t gen;
    {
        std::unique_lock<std::mutex> l(mu_);
        if (!sqe_valid_ || sqe_q_ != qi) return false;
        sqe_valid_ = false;
        if (sqe_gen_ != q.gen || !running(q)) return true;
        // NOP and FENCE too answer to the queue's binding.
        uint32_t by = MTIA_CORE_TRACE_BY_FIRMWARE;
        if (status == MTIA_CQE_OK && (status = bound_status(q, sqe_)) != MTIA_CQE_OK) by = MTIA_CORE_TRACE_BY_ENGINE;
        if (status != MTIA_CQE_OK) {  // refused by firmware, or by the binding
            const mtia_cmd bad = sqe_;
            l.unlock();
            trace(MTIA_CORE_TRACE_CMD_ERROR, qi, bad.cid, bad.opcode, status, 0, 0, by);
            l.lock();
            if (sqe_gen_ != q.gen || !running(q)) return true;  // disabled meanwhile: dropped
        }
        if (q.inflight > 0) {  // behind the engine's work: keeps CQ order
            q.fifo.push_back(Item{sqe_, sqe_head_, true, status});
            q.inflight++;
            q.cv.notify_all();
            return true;
        }
        c.sq_head = sqe_head_;
        c.sq_id = static_cast<uint16_t>(qi);
        c.cid = sqe_.cid;
        c.status = mtia_cqe_status_word(status, 0);
        gen = sqe_gen_;
    }
    {
        std::lock_guard<std::mutex> ring(q.ring_mu);
        if (post(qi, c, gen)) {
            unsigned v;
            {
                std::lock_guard<std::mutex> l(mu_);
                v = vector(q);
            }
            host_.raise_irq(v);
        }
    }
    flush_errors();
    return true;
}

// ---- the engine ------------------------------------------------------------------------

void QueueEngine::worker_main(unsigned qi)
{
    char name[16];
    std::snprintf(name, sizeof(name), "mtia-queue%u", qi);
    pthread_setname_np(pthread_self(), name);  // for top -H, perf, gdb
    Queue &q = q_[qi];
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
        if (stop_) return;
        const uint64_t delay_ns = uint64_t{mtia_q_coalesce_delay_us(q.coalesce)} * 1000;
        if (q.unsignalled && delay_ns) {  // coalescing timer
            const uint64_t deadline = q.first_ns + delay_ns, now = now_ns();
            if (now >= deadline) {
                l.unlock();
                {
                    std::lock_guard<std::mutex> ring(q.ring_mu);
                    std::unique_lock<std::mutex> l2(mu_);
                    const bool fire = q.unsignalled && now_ns() >= q.first_ns + delay_ns && running(q);
                    if (fire) q.unsignalled = 0;
                    const unsigned v = vector(q);
                    l2.unlock();
                    if (fire) host_.raise_irq(v);
                }
                l.lock();
                continue;
            }
            if (q.fifo.empty() || outranked(qi)) {
                q.cv.wait_for(l, std::chrono::nanoseconds(deadline - now));
                continue;
            }
        } else if (q.fifo.empty() || outranked(qi)) {
            q.cv.wait(l);
            continue;
        }

        Item it = q.fifo.front();
        q.fifo.pop_front();
        q.executing = true;
        q.current = it;
        q.busy_reported = 0;
        const uint64_t gen = q.gen;
        l.unlock();

        uint16_t status = it.status;
        uint64_t result = 0;
        if (!it.precompleted && fault_delay(qi, it.cmd, gen)) status = MTIA_CQE_ABORTED;
        const uint64_t t0 = now_ns();
        if (!it.precompleted && status != MTIA_CQE_ABORTED) execute(qi, it.cmd, gen, &status, &result);
        const uint64_t t1 = now_ns();
        if (!it.precompleted && status != MTIA_CQE_OK && q.gen.load() == gen)
            trace(MTIA_CORE_TRACE_CMD_ERROR, qi, it.cmd.cid, it.cmd.opcode, status, result, 0,
                  MTIA_CORE_TRACE_BY_ENGINE);

        bool irq = false;
        {
            std::lock_guard<std::mutex> ring(q.ring_mu);
            l.lock();
            q.executing = false;
            idle_cv_.notify_all();
            if (q.fifo.empty()) wake_workers();  // lower queues may go on
            if (q.gen != gen) continue;          // aborted: disable/reset/stop posts or drops it
            if (!it.precompleted) {
                q.commands++;
                q.busy_ns += t1 - t0;
                // What pacing reported as the command ran is not counted again.
                account(q, it.cmd.opcode == MTIA_CMD_COMPUTE, t1 - t0 - std::min(q.busy_reported, t1 - t0));
                if (it.cmd.opcode == MTIA_CMD_COPY || it.cmd.opcode == MTIA_CMD_FILL) q.bytes += result;
            }
            if (--q.inflight == 0) {
                engine_event_ |= 1u << qi;
                update_meip();
            }
            posting_++;
            l.unlock();
            mtia_cqe c{};
            c.result = result;
            c.sq_head = it.sq_head;
            c.sq_id = static_cast<uint16_t>(qi);
            c.cid = it.cmd.cid;
            c.status = mtia_cqe_status_word(status, 0);
            irq = post(qi, c, gen);
            if (irq) {
                unsigned v;
                {
                    std::lock_guard<std::mutex> l2(mu_);
                    v = vector(q);
                }
                host_.raise_irq(v);
            }
            posting_--;
        }
        flush_errors();
        l.lock();
    }
}

void QueueEngine::execute(unsigned qi, const mtia_cmd &c, uint64_t gen, uint16_t *status, uint64_t *result)
{
    *result = 0;
    // The one command contract (also the firmware's and the driver's): the
    // engine does not trust firmware to have checked.
    *status = static_cast<uint16_t>(mtia_cmd_check(&c));
    if (*status == MTIA_CQE_OK) *status = bound_status(q_[qi], c);
    if (*status != MTIA_CQE_OK) return;
    if (c.opcode != MTIA_CMD_NOP && c.opcode != MTIA_CMD_FENCE && faults_.take_dma_error()) {
        fault(MTIA_CORE_FAULT_DMA_ERROR, qi, c.cid, c.opcode, c.cid);
        *status = MTIA_CQE_DMA_ERROR;
        return;
    }
    switch (c.opcode) {
        case MTIA_CMD_NOP:
        case MTIA_CMD_FENCE:  // the queue's FIFO already ran everything before it
            return;
        case MTIA_CMD_COPY:
            *status = do_copy(qi, c, gen, result);
            return;
        case MTIA_CMD_FILL:
            *status = do_fill(qi, c, gen, result);
            return;
        case MTIA_CMD_COMPUTE:
            *status = do_compute(qi, c, gen, result);
            return;
        case MTIA_CMD_TIMESTAMP:
            *status = do_timestamp(qi, c, result);
            return;
        default:  // mtia_cmd_check() refused it
            return;
    }
}

uint16_t QueueEngine::do_timestamp(unsigned qi, const mtia_cmd &c, uint64_t *result)
{
    std::vector<Span> d;
    const uint16_t st = translate(qi, c, c.dst, 8, true, &d, result);
    if (st != MTIA_CQE_OK) return st;
    const uint64_t ns = host_.device_ns();
    uint8_t bytes[8];
    std::memcpy(bytes, &ns, 8);
    uint64_t pos = 0;
    for (const Span &s : d) {
        if (s.devmem) {
            std::memcpy(s.ptr, bytes + pos, s.len);
            wrote(s.ptr, s.len);
        } else if (host_.dma_write(s.dma, bytes + pos, s.len)) {
            return MTIA_CQE_DMA_ERROR;
        }
        pos += s.len;
    }
    *result = ns;
    return MTIA_CQE_OK;
}

uint16_t QueueEngine::do_copy(unsigned qi, const mtia_cmd &c, uint64_t gen, uint64_t *done)
{
    Queue &q = q_[qi];
    std::vector<Span> s, d;
    uint16_t st = translate(qi, c, c.src, c.len, false, &s, done);
    if (st == MTIA_CQE_OK) st = translate(qi, c, c.dst, c.len, true, &d, done);
    if (st != MTIA_CQE_OK) return st;
    PacedJob pace = paced_job(q, gen, false);
    size_t i = 0, j = 0;
    uint64_t si = 0, dj = 0;
    while (*done < c.len) {
        if (q.gen.load() != gen) return MTIA_CQE_ABORTED;
        const Span &a = s[i], &b = d[j];
        const uint64_t n = std::min({a.len - si, b.len - dj, kChunk});
        if (a.devmem && b.devmem) {
            std::memmove(b.ptr + dj, a.ptr + si, n);
            wrote(b.ptr + dj, n);
        } else if (a.devmem) {
            if (host_.dma_write(b.dma + dj, a.ptr + si, n)) return MTIA_CQE_DMA_ERROR;
        } else if (b.devmem) {
            const bool failed = host_.dma_read(a.dma + si, b.ptr + dj, n);
            wrote(b.ptr + dj, n);  // maybe partly, even if it failed
            if (failed) return MTIA_CQE_DMA_ERROR;
        } else {  // host -> host through the worker's bounce buffer
            if (q.buf.size() < kChunk) q.buf.resize(kChunk);
            if (host_.dma_read(a.dma + si, q.buf.data(), n) || host_.dma_write(b.dma + dj, q.buf.data(), n))
                return MTIA_CQE_DMA_ERROR;
        }
        *done += n;
        si += n;
        dj += n;
        if (si == a.len) i++, si = 0;
        if (dj == b.len) j++, dj = 0;
        pace.mark(*done == c.len);
    }
    return MTIA_CQE_OK;
}

uint16_t QueueEngine::do_fill(unsigned qi, const mtia_cmd &c, uint64_t gen, uint64_t *done)
{
    Queue &q = q_[qi];
    const bool wide = c.flags & MTIA_CMD_F_FILL64;
    std::vector<Span> d;
    uint16_t st = translate(qi, c, c.dst, c.len, true, &d, done);
    if (st != MTIA_CQE_OK) return st;
    uint8_t pat[8];
    for (unsigned k = 0; k < 8; k++) pat[k] = static_cast<uint8_t>(wide ? c.value >> (8 * k) : c.value);
    // Byte i of the destination is pat[i % 8]: a buffer of the pattern, read
    // from offset (position % 8).
    const uint64_t bufsz = std::min(c.len, kChunk) + 8;
    if (q.buf.size() < bufsz) q.buf.resize(bufsz);
    for (uint64_t k = 0; k < bufsz; k++) q.buf[k] = pat[k % 8];
    PacedJob pace = paced_job(q, gen, false);
    for (const Span &s : d) {
        uint64_t off = 0;
        while (off < s.len) {
            if (q.gen.load() != gen) return MTIA_CQE_ABORTED;
            const uint64_t n = std::min(s.len - off, kChunk);
            const uint8_t *src = q.buf.data() + (*done % 8);
            if (s.devmem) {
                std::memcpy(s.ptr + off, src, n);
                wrote(s.ptr + off, n);
            } else if (host_.dma_write(s.dma + off, src, n)) {
                return MTIA_CQE_DMA_ERROR;
            }
            off += n;
            *done += n;
            pace.mark(*done == c.len);
        }
    }
    return MTIA_CQE_OK;
}

// COMPUTE (docs/compute.md): src = the program (host or device memory, len
// bytes), dst = the tensor arena (device memory, value bytes). The program
// is copied first (the guest may rewrite it meanwhile), then validated and
// run by the compute engine while this worker holds the PE grid. A disable
// or reset (the queue's generation changes) stops it between ops or chunks.
// It runs on the device's one compute thread (mtia_compute_thread.h).
// With MTIA_CMD_F_PROFILE the arena's last MTIA_PROFILE_BYTES(n) bytes are
// the profile (mtia_spec.h): the program gets the bytes before it, and the
// records, taken on the device clock (TIMESTAMP's), are written there once
// the program has completed.
uint16_t QueueEngine::do_compute(unsigned qi, const mtia_cmd &c, uint64_t gen, uint64_t *result)
{
    Queue &q = q_[qi];
    std::vector<Span> arena, prog;
    // The arena is one range of device memory (with the MMU: its pages
    // merge into one span), the program anywhere.
    uint16_t st = translate(qi, c, c.dst, c.value, true, &arena, result);
    if (st == MTIA_CQE_OK && (arena.size() != 1 || !arena[0].devmem)) st = MTIA_CQE_BAD_ADDRESS;
    if (st == MTIA_CQE_OK) st = translate(qi, c, c.src, c.len, false, &prog, result);
    if (st != MTIA_CQE_OK) return st;

    const uint32_t n = static_cast<uint32_t>(c.len / MTIA_OP_BYTES);
    std::vector<mtia_op> ops(n);
    uint8_t *dst = reinterpret_cast<uint8_t *>(ops.data());
    for (const Span &s : prog) {
        if (s.devmem)
            std::memcpy(dst, s.ptr, s.len);
        else if (host_.dma_read(s.dma, dst, s.len))
            return MTIA_CQE_DMA_ERROR;
        dst += s.len;
    }

    // The grid is one resource: wait for it, but give up if this queue is
    // disabled or reset meanwhile (disable waits for this worker).
    std::unique_lock<std::timed_mutex> grid(pe_mu_, std::defer_lock);
    while (!grid.try_lock_for(std::chrono::milliseconds(1)))
        if (compute_poll(q, gen)) return MTIA_CQE_ABORTED;
    // The program is paced to the engine clock at each poll: the work since
    // the last one (an op or a chunk) is stretched; a park is not work.
    PacedJob pace = paced_job(q, gen, true);
    struct Stop {
        QueueEngine *e;
        Queue &q;
        uint64_t gen;
        PacedJob &pace;
    } stop{this, q, gen, pace};
    const mtia_compute_grid g{pe_rows_, pe_cols_};
    uint64_t program_bytes = c.value;
    std::vector<mtia_op_profile> records;
    mtia_profile_header header{};
    mtia_compute_profile prof{};
    if (c.flags & MTIA_CMD_F_PROFILE) {
        program_bytes -= MTIA_PROFILE_BYTES(n);  // > 0: the command rules
        records.resize(n);
        prof.clock_ns = [](void *h) { return static_cast<QueueHost *>(h)->device_ns(); };
        prof.opaque = &host_;
        prof.header = &header;
        prof.ops = records.data();
    }
    // Device memory is tracked: reordered weights are reused without a compare.
    WriteTracker::Arena tracked{&track_, static_cast<uint64_t>(arena[0].ptr - devmem_)};
    const mtia_compute_tracker tracker = WriteTracker::for_arena(&tracked);
    st = compute_thread_.run([&] {
        return mtia_compute_run_tracked(
            &g, ops.data(), n, arena[0].ptr, program_bytes,
            [](void *p) -> int {
                auto *s = static_cast<Stop *>(p);
                s->pace.mark();
                const bool stopped = s->e->compute_poll(s->q, s->gen);
                s->pace.skip();
                return stopped;
            },
            &stop, prof.ops ? &prof : nullptr, &tracker, result);
    });
    // The waits before the last op's end (the final mark's remainder, under
    // PacedJob::kMinWaitNs, comes after it).
    header.throttle_ns = pace.waited_ns();
    pace.mark(true);
    if (st == MTIA_CQE_OK) {
        // The timing model's figures are for f_max: at the clocks the ops
        // ran at they take as much longer as the engine did.
        *result = pace.scale(*result);
        header.model_ns = *result;
        for (mtia_op_profile &r : records) r.model_ns = pace.scale(r.model_ns);
    }
    if (st == MTIA_CQE_OK && prof.ops) {
        uint8_t *tail = arena[0].ptr + program_bytes;
        std::memcpy(tail, &header, sizeof(header));
        std::memcpy(tail + sizeof(header), records.data(), n * sizeof(mtia_op_profile));
        wrote(tail, sizeof(header) + n * sizeof(mtia_op_profile));
    }
    if (st != MTIA_CQE_BAD_PROGRAM) devmem_dirty_.store(true);  // (partly) written
    if (st == MTIA_CQE_ABORTED) *result = 0;
    return st;
}

void QueueEngine::account(Queue &q, bool pe, uint64_t ns)
{
    (pe ? pe_busy_ns_ : dma_busy_ns_) += ns;
    q.engine_ns[pe ? 1 : 0] += ns;
}

PacedJob QueueEngine::paced_job(Queue &q, uint64_t gen, bool pe)
{
    return PacedJob(
        now_ns, [this] { return host_.engine_clock(); },
        [this, &q, gen](uint64_t until_ns) {
            std::unique_lock<std::mutex> l(mu_);
            return wait_until_or(l, pause_cv_, until_ns, [&] { return q.gen != gen || stop_ || quiescing_; });
        },
        [this, &q, pe](uint64_t ns) {
            account(q, pe, ns);
            q.busy_reported += ns;
        });
}

bool QueueEngine::compute_poll(Queue &q, uint64_t gen)
{
    std::unique_lock<std::mutex> l(mu_);
    if (pe_paused_ && q.gen == gen && !stop_) {
        q.parked = true;
        idle_cv_.notify_all();
        pause_cv_.wait(l, [&] { return !pe_paused_ || q.gen != gen || stop_; });
        q.parked = false;
    }
    return q.gen != gen || stop_;
}

// ---- reset, VM stop, migration ------------------------------------------------------

// A queue held by fault-hang counts as idle while the hang lasts (a VM
// stop must not wait for it; reset ends the hang first, then waits).
void QueueEngine::wait_idle(std::unique_lock<std::mutex> &l, bool parked_ok)
{
    pause_cv_.notify_all();  // parked programs of an aborted generation end
    idle_cv_.wait(l, [&] {
        for (auto &q : q_) {
            if ((parked_ok && q.parked) || (q.hung && faults_.hang())) continue;
            if (q.executing || !q.fifo.empty()) return false;
        }
        return true;
    });
}

// ---- fault injection ------------------------------------------------------------

void QueueEngine::fault_changed()
{
    std::lock_guard<std::mutex> l(mu_);
    pause_cv_.notify_all();
    idle_cv_.notify_all();
}

void QueueEngine::fault(uint32_t kind, uint32_t qi, uint32_t cid, uint32_t opcode, uint64_t value)
{
    trace(MTIA_CORE_TRACE_FAULT, qi, cid, opcode, 0, value, 0, kind);
}

bool QueueEngine::fault_delay(unsigned qi, const mtia_cmd &c, uint64_t gen)
{
    Queue &q = q_[qi];
    std::unique_lock<std::mutex> l(mu_);
    if (faults_.hang() && q.gen == gen && !stop_) {
        q.hung = true;
        idle_cv_.notify_all();  // a VM stop waiting for this queue goes on
        l.unlock();
        fault(MTIA_CORE_FAULT_HANG, qi, c.cid, c.opcode, c.cid);
        l.lock();
        pause_cv_.wait(l, [&] { return !faults_.hang() || q.gen != gen || stop_; });
        q.hung = false;
    }
    const uint64_t us = faults_.latency_us();
    if (us && q.gen == gen && !stop_) {
        faults_.count(MTIA_CORE_FAULT_LATENCY_US);
        l.unlock();
        fault(MTIA_CORE_FAULT_LATENCY_US, qi, c.cid, c.opcode, us);
        l.lock();
        pause_cv_.wait_for(l, std::chrono::microseconds(us), [&] { return q.gen != gen || stop_; });
    }
    return q.gen != gen || stop_;
}

void QueueEngine::reset()
{
    std::unique_lock<std::mutex> l(mu_);
    faults_.clear_hang();  // a device reset ends fault-hang
    for (auto &q : q_) {
        q.gen++;
        q.fifo.clear();
        q.held.clear();
        q.inflight = 0;
        q.ctrl = 0;
    }
    wait_idle(l);
    l.unlock();
    for (auto &q : q_) std::lock_guard<std::mutex> ring(q.ring_mu);  // ring DMA done
    l.lock();
    for (auto &q : q_) {
        q.sq_base_lo = q.sq_base_hi = q.cq_base_lo = q.cq_base_hi = 0;
        q.size = q.ctrl = q.status = q.coalesce = 0;
        q.ctx_bind = 0;
        q.sq_head = q.sq_tail = q.cq_head = q.cq_tail = 0;
        q.phase = 1;
        q.unsignalled = 0;
        q.commands = q.bytes = q.busy_ns = q.completions = 0;
    }
    sqe_ = mtia_cmd{};
    sqe_valid_ = false;
    sqe_q_ = 0;
    sqe_head_ = 0;
    fetch_status_ = MTIA_CQE_OK;
    select_ = 0;
    engine_event_ = 0;
    pending_errors_.store(0);
    update_meip();
    if (mmu_) mmu_->reset();  // no command runs: nothing translates meanwhile
}

void QueueEngine::quiesce()
{
    {
        std::unique_lock<std::mutex> l(mu_);
        // A program may run for minutes: with a host that resumes us, it
        // waits at its next op for the VM to run again (nothing touches
        // guest memory meanwhile; save() refuses while it is outstanding).
        pe_paused_ = resume_seen_;
        quiescing_ = true;  // no throttle stretch is waited out (wait_idle notifies)
        wait_idle(l, pe_paused_);
        quiescing_ = false;
    }
    for (unsigned i = 0; i < MTIA_NUM_QUEUES; i++) {
        Queue &q = q_[i];
        std::lock_guard<std::mutex> ring(q.ring_mu);  // posts in progress are done
        std::unique_lock<std::mutex> l(mu_);
        const bool fire = q.unsignalled && running(q);
        q.unsignalled = 0;
        const unsigned v = vector(q);
        l.unlock();
        if (fire) host_.raise_irq(v);
    }
    flush_errors();
}

void QueueEngine::resume()
{
    std::lock_guard<std::mutex> l(mu_);
    resume_seen_ = true;
    pe_paused_ = false;
    pause_cv_.notify_all();
}

int QueueEngine::save(mtia_core_snapshot *s)
{
    std::lock_guard<std::mutex> l(mu_);
    for (unsigned i = 0; i < MTIA_NUM_QUEUES; i++) {
        const Queue &q = q_[i];
        if (q.executing || !q.fifo.empty() || !q.held.empty() || q.inflight) return -1;
        uint32_t *w = s->q_state + i * MTIA_CORE_Q_WORDS;
        std::memset(w, 0, MTIA_CORE_Q_WORDS * 4);
        w[MTIA_CORE_QS_SQ_BASE_LO] = q.sq_base_lo;
        w[MTIA_CORE_QS_SQ_BASE_HI] = q.sq_base_hi;
        w[MTIA_CORE_QS_CQ_BASE_LO] = q.cq_base_lo;
        w[MTIA_CORE_QS_CQ_BASE_HI] = q.cq_base_hi;
        w[MTIA_CORE_QS_SIZE] = q.size;
        w[MTIA_CORE_QS_CTRL] = q.ctrl;
        w[MTIA_CORE_QS_STATUS] = q.status;
        w[MTIA_CORE_QS_COALESCE] = q.coalesce;
        w[MTIA_CORE_QS_SQ_HEAD] = q.sq_head;
        w[MTIA_CORE_QS_SQ_TAIL] = q.sq_tail;
        w[MTIA_CORE_QS_CQ_HEAD] = q.cq_head;
        w[MTIA_CORE_QS_CQ_TAIL] = q.cq_tail;
        w[MTIA_CORE_QS_PHASE] = q.phase;
        w[MTIA_CORE_QS_CTX] = q.ctx_bind;
    }
    std::memcpy(s->q_sqe, &sqe_, sizeof(sqe_));
    s->q_sqe_valid = sqe_valid_ && sqe_gen_ == q_[sqe_q_].gen;
    s->q_sqe_queue = sqe_q_;
    s->q_sqe_head = sqe_head_;
    s->q_fetch_status = fetch_status_;
    s->q_select = select_;
    s->q_engine_event = engine_event_;
    const Mmu::Regs m = mmu_ ? mmu_->regs() : Mmu::Regs{};
    s->mmu_ctrl = m.ctrl;
    s->mmu_ctx_table_lo = m.table_lo;
    s->mmu_ctx_table_hi = m.table_hi;
    s->mmu_ctx_count = m.ctx_count;
    s->mmu_fault_addr_lo = m.fault_addr_lo;
    s->mmu_fault_addr_hi = m.fault_addr_hi;
    s->mmu_fault_ctx = m.fault_ctx;
    s->mmu_fault_count = m.fault_count;
    s->mmu_fault_info = m.fault_info;
    return 0;
}

static Mmu::Regs mmu_regs_of(const mtia_core_snapshot *s)
{
    Mmu::Regs m;
    m.ctrl = s->mmu_ctrl;
    m.table_lo = s->mmu_ctx_table_lo;
    m.table_hi = s->mmu_ctx_table_hi;
    m.ctx_count = s->mmu_ctx_count;
    m.fault_addr_lo = s->mmu_fault_addr_lo;
    m.fault_addr_hi = s->mmu_fault_addr_hi;
    m.fault_ctx = s->mmu_fault_ctx;
    m.fault_count = s->mmu_fault_count;
    m.fault_info = s->mmu_fault_info;
    return m;
}

bool QueueEngine::snapshot_valid(const mtia_core_snapshot *s, bool mmu)
{
    const Mmu::Regs m = mmu_regs_of(s);
    if (!Mmu::regs_valid(m) || (!mmu && (m.ctrl | m.table_lo | m.table_hi | m.ctx_count | m.fault_addr_lo |
                                         m.fault_addr_hi | m.fault_ctx | m.fault_count | m.fault_info)))
        return false;
    for (unsigned i = 0; i < MTIA_NUM_QUEUES; i++) {
        const uint32_t *w = s->q_state + i * MTIA_CORE_Q_WORDS;
        const uint32_t ctrl = w[MTIA_CORE_QS_CTRL];
        if ((w[MTIA_CORE_QS_SQ_BASE_LO] | w[MTIA_CORE_QS_CQ_BASE_LO]) & 0xfff) return false;
        if (ctrl & ~kCtrlBits) return false;
        if (w[MTIA_CORE_QS_STATUS] & ~kStatusFlags) return false;
        if (w[MTIA_CORE_QS_COALESCE] & ~0xffff00ffu) return false;
        if (w[MTIA_CORE_QS_PHASE] > 1) return false;
        if (w[MTIA_CORE_QS_CTX] & ~kCtxBits) return false;
        for (unsigned k = MTIA_CORE_QS_CTX + 1; k < MTIA_CORE_Q_WORDS; k++)
            if (w[k]) return false;
        if (w[MTIA_CORE_QS_SIZE] == 0 && !(ctrl & MTIA_Q_CTRL_ENABLE)) {
            if (w[MTIA_CORE_QS_SQ_HEAD] | w[MTIA_CORE_QS_SQ_TAIL] | w[MTIA_CORE_QS_CQ_HEAD] | w[MTIA_CORE_QS_CQ_TAIL])
                return false;
            continue;
        }
        if (!valid_size(w[MTIA_CORE_QS_SIZE])) return false;
        const uint32_t sqn = 1u << mtia_q_size_sq(w[MTIA_CORE_QS_SIZE]);
        const uint32_t cqn = 1u << mtia_q_size_cq(w[MTIA_CORE_QS_SIZE]);
        if (w[MTIA_CORE_QS_SQ_HEAD] >= sqn || w[MTIA_CORE_QS_SQ_TAIL] >= sqn || w[MTIA_CORE_QS_CQ_HEAD] >= cqn ||
            w[MTIA_CORE_QS_CQ_TAIL] >= cqn)
            return false;
    }
    if (s->q_sqe_valid > 1 || s->q_sqe_queue >= MTIA_NUM_QUEUES || s->q_sqe_head > 0xffff ||
        s->q_fetch_status > 0x7fff || s->q_select >= MTIA_NUM_QUEUES || s->q_engine_event >> MTIA_NUM_QUEUES)
        return false;
    return true;
}

void QueueEngine::load(const mtia_core_snapshot *s)
{
    std::lock_guard<std::mutex> l(mu_);
    for (unsigned i = 0; i < MTIA_NUM_QUEUES; i++) {
        Queue &q = q_[i];
        const uint32_t *w = s->q_state + i * MTIA_CORE_Q_WORDS;
        q.gen++;
        q.sq_base_lo = w[MTIA_CORE_QS_SQ_BASE_LO];
        q.sq_base_hi = w[MTIA_CORE_QS_SQ_BASE_HI];
        q.cq_base_lo = w[MTIA_CORE_QS_CQ_BASE_LO];
        q.cq_base_hi = w[MTIA_CORE_QS_CQ_BASE_HI];
        q.size = w[MTIA_CORE_QS_SIZE];
        q.ctrl = w[MTIA_CORE_QS_CTRL];
        q.status = w[MTIA_CORE_QS_STATUS];
        q.coalesce = w[MTIA_CORE_QS_COALESCE];
        q.sq_head = w[MTIA_CORE_QS_SQ_HEAD];
        q.sq_tail = w[MTIA_CORE_QS_SQ_TAIL];
        q.cq_head = w[MTIA_CORE_QS_CQ_HEAD];
        q.cq_tail = w[MTIA_CORE_QS_CQ_TAIL];
        q.phase = w[MTIA_CORE_QS_PHASE];
        q.ctx_bind = w[MTIA_CORE_QS_CTX];
    }
    std::memcpy(&sqe_, s->q_sqe, sizeof(sqe_));
    sqe_valid_ = s->q_sqe_valid != 0;
    sqe_q_ = s->q_sqe_queue;
    sqe_head_ = static_cast<uint16_t>(s->q_sqe_head);
    sqe_gen_ = q_[sqe_q_].gen;
    fetch_status_ = s->q_fetch_status;
    select_ = s->q_select;
    engine_event_ = s->q_engine_event;
    update_meip();
    if (mmu_) mmu_->load(mmu_regs_of(s));
}

void QueueEngine::stats(unsigned qi, mtia_core_queue_stats *out)
{
    std::lock_guard<std::mutex> l(mu_);
    const Queue &q = q_[qi % MTIA_NUM_QUEUES];
    out->commands = q.commands;
    out->completions = q.completions;
    out->bytes = q.bytes;
    out->busy_ns = q.busy_ns;
    out->inflight = q.inflight;
    out->held = static_cast<uint32_t>(q.held.size());
}

}  // namespace mtia
