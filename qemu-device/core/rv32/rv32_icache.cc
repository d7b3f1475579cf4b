// SPDX-License-Identifier: MIT
#include "rv32_icache.h"

#include <algorithm>

namespace mtia::rv32 {

void DecodeCache::reset(const std::vector<RamRegion> &regions)
{
    regions_.clear();
    for (const RamRegion &r : regions) {
        if (!r.executable || r.size == 0) continue;
        ExecRegion e{r, r.base >> kPageShift, {}};
        uint32_t last_page = static_cast<uint32_t>((uint64_t{r.base} + r.size - 1) >> kPageShift);
        e.pages.resize(last_page - e.first_page + 1);
        regions_.push_back(std::move(e));
    }
}

DecodeCache::Page DecodeCache::lookup(uint32_t pc)
{
    for (ExecRegion &e : regions_) {
        if (pc - e.ram.base >= e.ram.size) continue;
        uint32_t number = pc >> kPageShift;
        auto &page = e.pages[number - e.first_page];
        if (!page) page.reset(new Decoded[kSlotsPerPage]());  // zeroed: all kUndecoded
        return Page{page.get(), number, &e.ram};
    }
    return Page{};
}

void DecodeCache::invalidate(uint32_t addr, uint32_t len)
{
    if (len == 0) return;
    // An instruction starting one halfword before @addr may overlap it.
    uint64_t first = addr >= 2 ? addr - 2 : 0;
    uint64_t end = uint64_t{addr} + len;
    for (ExecRegion &e : regions_) {
        uint64_t lo = std::max<uint64_t>(first, e.ram.base);
        uint64_t hi = std::min<uint64_t>(end, uint64_t{e.ram.base} + e.ram.size);
        for (uint64_t a = lo & ~uint64_t{1}; a < hi;) {
            uint64_t page_end = ((a >> kPageShift) + 1) << kPageShift;
            uint64_t stop = std::min(hi, page_end);
            auto &page = e.pages[(a >> kPageShift) - e.first_page];
            if (page) {
                // Only the op: an executing handler may still read len.
                for (uint64_t s = a; s < stop; s += 2) page[(s % kPageBytes) / 2].op = Op::kUndecoded;
            }
            a = page_end;
        }
    }
}

void DecodeCache::flush()
{
    for (ExecRegion &e : regions_)
        for (auto &page : e.pages) page.reset();
}

}  // namespace mtia::rv32
