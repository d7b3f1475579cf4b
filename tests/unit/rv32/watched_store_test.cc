// SPDX-License-Identifier: MIT
// Watched RAM regions: every store into one is reported to the bus after it
// landed (how the device core tracks the control core's writes to device
// memory); stores elsewhere are not.
#include <gtest/gtest.h>

#include <cstring>
#include <utility>
#include <vector>

#include "rv32_bus.h"
#include "rv32_cpu.h"

namespace mtia::rv32::test {
namespace {

constexpr uint32_t kWatched = 0x80000000;

struct WatchBus : Bus {
    uint8_t code[256] = {};
    uint8_t watched[512] = {};
    std::vector<std::pair<uint32_t, unsigned>> stores;
    std::vector<uint8_t> seen;  // watched[addr] at report time

    std::vector<RamRegion> ram_regions() override
    {
        return {{0, sizeof(code), code, true, true}, {kWatched, sizeof(watched), watched, true, false, true}};
    }
    bool mmio_read(uint32_t, unsigned, uint32_t *) override { return false; }
    bool mmio_write(uint32_t, unsigned, uint32_t) override { return false; }
    void ram_stored(uint32_t addr, unsigned size) override
    {
        stores.emplace_back(addr, size);
        seen.push_back(watched[addr - kWatched]);
    }
};

TEST(Rv32Watched, StoresToWatchedRamAreReportedAfterTheyLand)
{
    WatchBus bus;
    const uint32_t prog[] = {
        0x800000B7,  // lui  x1, 0x80000
        0x05500113,  // addi x2, x0, 0x55
        0x0020A423,  // sw   x2, 8(x1)
        0x102080A3,  // sb   x2, 0x101(x1)
        0x0E202823,  // sw   x2, 0xf0(x0): code RAM, not watched
        0x0000006F,  // j    .
    };
    std::memcpy(bus.code, prog, sizeof(prog));
    Cpu cpu(bus);
    cpu.run(5);
    EXPECT_EQ(bus.watched[8], 0x55);
    EXPECT_EQ(bus.watched[0x101], 0x55);
    EXPECT_EQ(bus.code[0xf0], 0x55);
    const std::vector<std::pair<uint32_t, unsigned>> want = {{kWatched + 8, 4u}, {kWatched + 0x101, 1u}};
    EXPECT_EQ(bus.stores, want);
    EXPECT_EQ(bus.seen, (std::vector<uint8_t>{0x55, 0x55}));
}

}  // namespace
}  // namespace mtia::rv32::test
