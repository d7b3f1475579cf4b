// SPDX-License-Identifier: MIT
// The device MMU (see mtia_mmu.h, docs/device-spec.md "Device MMU").
#include "mtia_mmu.h"

#include <algorithm>

namespace mtia {

namespace {

constexpr uint64_t kPage = MTIA_MMU_PAGE_SIZE;
constexpr uint64_t kTablePtrBits = MTIA_PTE_PFN_MASK | MTIA_PTE_VALID;
constexpr uint64_t kLeafBits = MTIA_PTE_PFN_MASK | MTIA_PTE_FLAGS;

}  // namespace

void Mmu::attach_devmem(uint8_t *host, uint64_t size)
{
    std::lock_guard<std::mutex> l(mu_);
    devmem_ = host;
    devmem_size_ = host ? size : 0;
    flush_locked(MTIA_MMU_INVALIDATE_ALL);
}

Mmu::Access Mmu::read(uint64_t off, uint32_t *val)
{
    std::lock_guard<std::mutex> l(mu_);
    return read_locked(off, val);
}

Mmu::Access Mmu::read_locked(uint64_t off, uint32_t *val)
{
    switch (off) {
        case MTIA_REG_MMU_CTRL:
            *val = r_.ctrl;
            return Access::kOk;
        case MTIA_REG_MMU_CTX_TABLE_LO:
            *val = r_.table_lo;
            return Access::kOk;
        case MTIA_REG_MMU_CTX_TABLE_HI:
            *val = r_.table_hi;
            return Access::kOk;
        case MTIA_REG_MMU_CTX_COUNT:
            *val = r_.ctx_count;
            return Access::kOk;
        case MTIA_REG_MMU_INVALIDATE:  // write-only
            *val = 0;
            return Access::kOk;
        case MTIA_REG_MMU_FAULT_ADDR_LO:
            *val = r_.fault_addr_lo;
            return Access::kOk;
        case MTIA_REG_MMU_FAULT_ADDR_HI:
            *val = r_.fault_addr_hi;
            return Access::kOk;
        case MTIA_REG_MMU_FAULT_CTX:
            *val = r_.fault_ctx;
            return Access::kOk;
        case MTIA_REG_MMU_FAULT_COUNT:
            *val = r_.fault_count;
            return Access::kOk;
        case MTIA_REG_MMU_FAULT_INFO:
            *val = r_.fault_info;
            return Access::kOk;
        default:
            *val = 0;
            return Access::kBadOffset;
    }
}

Mmu::Access Mmu::write(uint64_t off, uint32_t val)
{
    std::lock_guard<std::mutex> l(mu_);
    const bool on = r_.ctrl & MTIA_MMU_CTRL_ENABLE;
    switch (off) {
        case MTIA_REG_MMU_CTRL:
            if (val & ~MTIA_MMU_CTRL_ENABLE) return Access::kBadWrite;
            r_.ctrl = val;
            flush_locked(MTIA_MMU_INVALIDATE_ALL);
            enabled_.store(val & MTIA_MMU_CTRL_ENABLE, std::memory_order_release);
            return Access::kOk;
        case MTIA_REG_MMU_CTX_TABLE_LO:
            if (on || (val & (kPage - 1))) return Access::kBadWrite;
            r_.table_lo = val;
            return Access::kOk;
        case MTIA_REG_MMU_CTX_TABLE_HI:
            if (on) return Access::kBadWrite;
            r_.table_hi = val;
            return Access::kOk;
        case MTIA_REG_MMU_CTX_COUNT:
            if (on || val > MTIA_MMU_MAX_CTX) return Access::kBadWrite;
            r_.ctx_count = val;
            return Access::kOk;
        case MTIA_REG_MMU_INVALIDATE:
            flush_locked(val);
            return Access::kOk;
        default: {
            uint32_t dummy;
            return read_locked(off, &dummy) == Access::kOk ? Access::kBadWrite : Access::kBadOffset;
        }
    }
}

void Mmu::reset()
{
    std::lock_guard<std::mutex> l(mu_);
    r_ = Regs{};
    enabled_.store(false, std::memory_order_release);
    flush_locked(MTIA_MMU_INVALIDATE_ALL);
}

Mmu::Regs Mmu::regs()
{
    std::lock_guard<std::mutex> l(mu_);
    return r_;
}

bool Mmu::regs_valid(const Regs &r)
{
    return !(r.ctrl & ~MTIA_MMU_CTRL_ENABLE) && !(r.table_lo & (kPage - 1)) && r.ctx_count <= MTIA_MMU_MAX_CTX &&
           !(r.fault_info & ~(MTIA_MMU_FAULT_REASON_MASK | MTIA_MMU_FAULT_WRITE)) &&
           mtia_mmu_fault_reason(r.fault_info) <= MTIA_MMU_FAULT_TABLE_DMA;
}

void Mmu::load(const Regs &r)
{
    std::lock_guard<std::mutex> l(mu_);
    r_ = r;
    flush_locked(MTIA_MMU_INVALIDATE_ALL);
    enabled_.store(r.ctrl & MTIA_MMU_CTRL_ENABLE, std::memory_order_release);
}

void Mmu::flush_locked(uint32_t ctx)
{
    gen_++;
    for (TlbEntry &e : tlb_)
        if (ctx == MTIA_MMU_INVALIDATE_ALL || e.ctx == ctx) e.valid = false;
}

unsigned Mmu::slot(uint32_t ctx, uint64_t vpn)
{
    return static_cast<unsigned>((vpn ^ (uint64_t{ctx} * 0x9e3779b97f4a7c15ull >> 40)) % kTlbEntries);
}

uint32_t Mmu::leaf_reason(uint64_t pte) const
{
    if (!(pte & MTIA_PTE_VALID)) return MTIA_MMU_FAULT_UNMAPPED;
    if (pte & ~kLeafBits) return MTIA_MMU_FAULT_BAD_ENTRY;
    const uint64_t at = mtia_pte_addr(pte);
    if ((pte & MTIA_PTE_DEVMEM) && (at >= devmem_size_ || devmem_size_ - at < kPage)) return MTIA_MMU_FAULT_BAD_ENTRY;
    return MTIA_MMU_FAULT_NONE;
}

uint32_t Mmu::walk(uint32_t ctx, uint64_t va, uint64_t pages, uint64_t *ptes, unsigned *got)
{
    uint64_t table, gen;
    uint32_t count;
    {
        std::lock_guard<std::mutex> l(mu_);
        table = uint64_t{r_.table_hi} << 32 | r_.table_lo;
        count = r_.ctx_count;
        gen = gen_;
    }
    walks_++;
    if (ctx >= count) return MTIA_MMU_FAULT_CTX;
    uint64_t e;
    if (host_.dma_read(table + uint64_t{ctx} * sizeof(e), &e, sizeof(e))) return MTIA_MMU_FAULT_TABLE_DMA;
    if (!(e & MTIA_PTE_VALID)) return MTIA_MMU_FAULT_CTX;
    for (unsigned level = MTIA_MMU_LEVELS - 1; level > 0; level--) {
        if (e & ~kTablePtrBits) return MTIA_MMU_FAULT_BAD_ENTRY;  // a table pointer: VALID alone
        const uint64_t at = mtia_pte_addr(e) + uint64_t{mtia_mmu_va_index(va, level)} * sizeof(e);
        if (host_.dma_read(at, &e, sizeof(e))) return MTIA_MMU_FAULT_TABLE_DMA;
        if (!(e & MTIA_PTE_VALID)) return MTIA_MMU_FAULT_UNMAPPED;
    }
    if (e & ~kTablePtrBits) return MTIA_MMU_FAULT_BAD_ENTRY;
    // The leaf table's entries for this page and the operand's next ones,
    // in one read (a large operand costs a walk per 2 MiB, not per page).
    const unsigned idx = mtia_mmu_va_index(va, 0);
    const unsigned n = static_cast<unsigned>(std::min<uint64_t>(pages, MTIA_MMU_TABLE_ENTRIES - idx));
    if (host_.dma_read(mtia_pte_addr(e) + uint64_t{idx} * sizeof(e), ptes, uint64_t{n} * sizeof(e)))
        return MTIA_MMU_FAULT_TABLE_DMA;
    *got = n;
    std::lock_guard<std::mutex> l(mu_);
    if (gen != gen_) return MTIA_MMU_FAULT_NONE;  // invalidated meanwhile: used once, not cached
    const uint64_t vpn = va / kPage;
    for (unsigned k = 0; k < std::min(n, kTlbEntries); k++)
        if (leaf_reason(ptes[k]) == MTIA_MMU_FAULT_NONE)
            tlb_[slot(ctx, vpn + k)] = TlbEntry{true, ctx, vpn + k, ptes[k]};
    return MTIA_MMU_FAULT_NONE;
}

bool Mmu::tlb_get(uint32_t ctx, uint64_t vpn, uint64_t *pte)
{
    std::lock_guard<std::mutex> l(mu_);
    const TlbEntry &e = tlb_[slot(ctx, vpn)];
    if (!e.valid || e.ctx != ctx || e.vpn != vpn) return false;
    *pte = e.pte;
    hits_++;
    return true;
}

uint16_t Mmu::fault(uint32_t ctx, uint64_t va, bool write, uint32_t reason, TranslateFault *f)
{
    const uint32_t info = MTIA_FIELD_PREP(MTIA_MMU_FAULT_REASON_MASK, reason) | (write ? MTIA_MMU_FAULT_WRITE : 0);
    {
        std::lock_guard<std::mutex> l(mu_);
        r_.fault_addr_lo = static_cast<uint32_t>(va);
        r_.fault_addr_hi = static_cast<uint32_t>(va >> 32);
        r_.fault_ctx = ctx;
        r_.fault_count++;
        r_.fault_info = info;
    }
    f->va = va;
    f->info = info;
    return MTIA_CQE_TRANSLATION_FAULT;
}

uint16_t Mmu::translate(uint32_t ctx, const mtia_operand &op, uint64_t len, bool write, std::vector<Span> *out,
                        TranslateFault *f)
{
    out->clear();
    if (len == 0) return MTIA_CQE_OK;
    const uint64_t va = op.addr + op.offset;  // wraps: then beyond the VA space
    if (va < op.addr || va >= MTIA_MMU_VA_LIMIT) return fault(ctx, va, write, MTIA_MMU_FAULT_UNMAPPED, f);
    if (len > MTIA_MMU_VA_LIMIT - va) return fault(ctx, MTIA_MMU_VA_LIMIT, write, MTIA_MMU_FAULT_UNMAPPED, f);
    const uint64_t need = write ? MTIA_PTE_WRITE : MTIA_PTE_READ;
    const uint64_t end = va + len;
    uint64_t ptes[MTIA_MMU_TABLE_ENTRIES];
    for (uint64_t pos = va; pos < end;) {
        unsigned got = 1;
        uint32_t reason = MTIA_MMU_FAULT_NONE;
        if (!tlb_get(ctx, pos / kPage, &ptes[0]))
            reason = walk(ctx, pos, (end - 1) / kPage - pos / kPage + 1, ptes, &got);
        for (unsigned k = 0; k < got && reason == MTIA_MMU_FAULT_NONE; k++) {
            const uint64_t pte = ptes[k];
            reason = leaf_reason(pte);
            if (reason == MTIA_MMU_FAULT_NONE && !(pte & need)) reason = MTIA_MMU_FAULT_PERMISSION;
            if (reason != MTIA_MMU_FAULT_NONE) break;
            const uint64_t page = pos & ~(kPage - 1);
            const uint64_t n = std::min(end, page + kPage) - pos;
            const bool dev = pte & MTIA_PTE_DEVMEM;
            const uint64_t at = mtia_pte_addr(pte) + (pos - page);
            Span *last = out->empty() ? nullptr : &out->back();
            if (last && last->devmem == dev &&
                (dev ? last->ptr + last->len == devmem_ + at : last->dma + last->len == at))
                last->len += n;
            else
                out->push_back(dev ? Span{true, devmem_ + at, 0, n} : Span{false, nullptr, at, n});
            pos += n;
        }
        if (reason != MTIA_MMU_FAULT_NONE) {
            out->clear();
            return fault(ctx, pos, write, reason, f);
        }
    }
    return MTIA_CQE_OK;
}

}  // namespace mtia
