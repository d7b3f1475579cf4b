// SPDX-License-Identifier: MIT
// The control core's view of memory. RAM regions are handed to the CPU as host
// pointers so ordinary loads, stores and instruction fetches never leave the
// interpreter loop; everything else (device registers) is MMIO through the
// virtual read()/write() calls, which may refuse an access (bus error).
#ifndef MTIA_RV32_BUS_H
#define MTIA_RV32_BUS_H

#include <cstdint>
#include <vector>

namespace mtia::rv32 {

struct RamRegion {
    uint32_t base = 0;        // guest physical address; multiple of 4
    uint32_t size = 0;        // bytes; multiple of 4, base + size <= 2^32
    uint8_t *host = nullptr;  // little-endian backing store, owned by the bus
    bool writable = false;    // stores to a read-only region are store access faults
    bool executable = false;  // instructions are fetched only from these
    bool watched = false;     // stores are reported to Bus::ram_stored()
};

class Bus {
public:
    virtual ~Bus() = default;

    // The RAM map. Read by Cpu's constructor and by Cpu::remap(); the regions
    // must not overlap and their host memory must outlive the Cpu.
    virtual std::vector<RamRegion> ram_regions() = 0;

    // MMIO for addresses outside every RAM region. @size is 1, 2 or 4 and
    // @addr is naturally aligned. Return false for an access fault.
    // A read stores the zero-extended value in *value.
    virtual bool mmio_read(uint32_t addr, unsigned size, uint32_t *value) = 0;
    virtual bool mmio_write(uint32_t addr, unsigned size, uint32_t value) = 0;

    // A store of @size bytes at @addr in a watched RAM region, after it
    // landed (device memory's write tracking).
    virtual void ram_stored(uint32_t /*addr*/, unsigned /*size*/) {}

    // The platform timer (mtime), shown to software as the time/timeh CSRs.
    virtual uint64_t mtime() { return 0; }
};

}  // namespace mtia::rv32

#endif  // MTIA_RV32_BUS_H
