// SPDX-License-Identifier: MIT
// The device MMU (docs/device-spec.md "Device MMU", mtia_spec.h): per-context
// page tables in host memory, walked by DMA, with a small TLB. It is the
// address space of every context while MMU_CTRL.ENABLE is set
// (QueueEngine::space_for()): an operand is a device VA of its command's
// ctx, translated page by page into Spans of device memory or host DMA
// addresses (physically adjacent pages merged into one Span), each page
// checked for READ or WRITE. A failure is MTIA_CQE_TRANSLATION_FAULT with
// the faulting VA, recorded in the MMU_FAULT_* registers.
//
// Locking: mu_ guards the registers and the TLB and is a leaf: table walks
// (host DMA) run without it. A walk that raced with an invalidation (the
// generation changed meanwhile) does not fill the TLB, so once an
// MMU_INVALIDATE write returns no translation cached before it is used by
// a later lookup.
#ifndef MTIA_MMU_H
#define MTIA_MMU_H

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#include "mtia/mtia_spec.h"
#include "mtia_queues.h"

namespace mtia {

class Mmu final : public AddressSpace {
public:
    enum class Access { kOk, kBadOffset, kBadWrite };
    // The MMU_* registers, for snapshots (mtia_core_snapshot version 5).
    struct Regs {
        uint32_t ctrl = 0, table_lo = 0, table_hi = 0, ctx_count = 0;
        uint32_t fault_addr_lo = 0, fault_addr_hi = 0, fault_ctx = 0, fault_count = 0, fault_info = 0;
    };
    static constexpr unsigned kTlbEntries = 256;  // direct-mapped, keyed by (ctx, vpn)

    explicit Mmu(QueueHost &host) : host_(host) {}

    // Only while no command runs (realize / tests), like QueueEngine's.
    void attach_devmem(uint8_t *host, uint64_t size);

    // Enabled: operands are VAs (QueueEngine::space_for()). Any thread.
    bool enabled() const { return enabled_.load(std::memory_order_acquire); }

    // MTIA_REG_MMU_* (owns() says which offsets those are). Any thread.
    static bool owns(uint64_t off) { return off >= MTIA_REG_MMU_CTRL && off <= MTIA_REG_MMU_FAULT_INFO; }
    Access read(uint64_t off, uint32_t *val);
    Access write(uint64_t off, uint32_t val);

    // Device reset: registers to 0, the TLB emptied.
    void reset();
    Regs regs();
    static bool regs_valid(const Regs &r);
    void load(const Regs &r);  // r valid

    uint16_t translate(uint32_t ctx, const mtia_operand &op, uint64_t len, bool write, std::vector<Span> *out,
                       TranslateFault *fault) override;

    // Counters for the unit tests: page lookups the TLB answered / walks.
    uint64_t tlb_hits() const { return hits_.load(); }
    uint64_t walks() const { return walks_.load(); }

private:
    struct TlbEntry {
        bool valid = false;
        uint32_t ctx = 0;
        uint64_t vpn = 0;
        uint64_t pte = 0;  // the leaf entry, checked by walk()
    };
    static unsigned slot(uint32_t ctx, uint64_t vpn);
    Access read_locked(uint64_t off, uint32_t *val);  // mu_ held
    // The TLB's leaf entry of (ctx, vpn), if it has one.
    bool tlb_get(uint32_t ctx, uint64_t vpn, uint64_t *pte);
    // Walks (ctx, va) through host memory (no lock held): 0 and the leaf
    // entries of va's page and the next ones up to @pages, as far as its
    // leaf table goes (*got of them, unchecked; good ones are cached), or
    // an MTIA_MMU_FAULT_* reason.
    uint32_t walk(uint32_t ctx, uint64_t va, uint64_t pages, uint64_t *ptes, unsigned *got);
    // 0 if @pte is a usable leaf, else why not.
    uint32_t leaf_reason(uint64_t pte) const;
    uint16_t fault(uint32_t ctx, uint64_t va, bool write, uint32_t reason, TranslateFault *f);
    void flush_locked(uint32_t ctx);  // mu_ held: ctx or MTIA_MMU_INVALIDATE_ALL

    QueueHost &host_;
    uint8_t *devmem_ = nullptr;
    uint64_t devmem_size_ = 0;
    std::atomic<bool> enabled_{false};
    std::atomic<uint64_t> hits_{0}, walks_{0};
    // Protects r_, tlb_ and gen_ (a leaf lock, never held across DMA).
    std::mutex mu_;
    Regs r_;
    uint64_t gen_ = 0;  // bumped by every invalidation: stale walks do not fill
    std::array<TlbEntry, kTlbEntries> tlb_{};
};

}  // namespace mtia

#endif  // MTIA_MMU_H
