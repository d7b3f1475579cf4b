// SPDX-License-Identifier: MIT
// The predecoded-instruction cache: one Decoded slot per halfword of
// executable RAM, allocated lazily in 4 KiB pages so a large SRAM costs memory
// only where code actually runs. A slot is decoded on first execution and
// reset to kUndecoded when the bytes under it change (guest stores, host
// writes via Cpu::invalidate_code), so self-modifying code stays correct.
#ifndef MTIA_RV32_ICACHE_H
#define MTIA_RV32_ICACHE_H

#include <cstdint>
#include <memory>
#include <vector>

#include "rv32_bus.h"
#include "rv32_decode.h"

namespace mtia::rv32 {

class DecodeCache {
public:
    static constexpr unsigned kPageShift = 12;
    static constexpr uint32_t kPageBytes = 1u << kPageShift;
    static constexpr uint32_t kSlotsPerPage = kPageBytes / 2;
    static constexpr uint32_t kNoPage = ~0u;  // never equals pc >> kPageShift

    // A page of slots and the executable region it lies in.
    struct Page {
        Decoded *slots = nullptr;   // indexed by (pc % kPageBytes) / 2
        uint32_t number = kNoPage;  // pc >> kPageShift
        const RamRegion *region = nullptr;
    };

    // Rebuild for a new memory map (drops everything).
    void reset(const std::vector<RamRegion> &regions);

    // The page holding @pc, or a Page with slots == nullptr if @pc is not in
    // executable RAM.
    Page lookup(uint32_t pc);

    // The bytes [addr, addr + len) changed: forget instructions overlapping them.
    void invalidate(uint32_t addr, uint32_t len);

    // Forget everything (FENCE.I, misa.C changes).
    void flush();

private:
    struct ExecRegion {
        RamRegion ram;
        uint32_t first_page;  // base >> kPageShift
        std::vector<std::unique_ptr<Decoded[]>> pages;
    };
    std::vector<ExecRegion> regions_;
};

}  // namespace mtia::rv32

#endif  // MTIA_RV32_ICACHE_H
