// SPDX-License-Identifier: MIT
// A minimal platform around the RV32 simulator for tests and benchmarks:
// RAM for the program, an executable ROM, a non-executable data RAM, and a
// test-bench MMIO block (exit register, timer, interrupt lines, scratch).
// programs/common.inc mirrors this memory map for the assembly tests.
#ifndef MTIA_RV32_TEST_MACHINE_H
#define MTIA_RV32_TEST_MACHINE_H

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rv32_cpu.h"

namespace mtia::rv32::test {

constexpr uint32_t kRamBase = 0x80000000, kRamSize = 0x10000;   // rwx, programs load here
constexpr uint32_t kRomBase = 0x00001000, kRomSize = 0x1000;    // r-x, starts with `ret`
constexpr uint32_t kDataBase = 0x90000000, kDataSize = 0x1000;  // rw-
constexpr uint32_t kTbBase = 0x10000000, kTbSize = 0x100;       // MMIO
constexpr uint32_t kTbExit = 0x00, kTbMtimecmp = 0x04, kTbMtime = 0x08, kTbExtIrq = 0x0c, kTbMsip = 0x10,
                   kTbScratch = 0x14;

class TestMachine : public Bus {
public:
    TestMachine();

    // Load build/.../rv32-programs/<name>.bin at kRamBase and reset the CPU.
    void load(const std::string &name);
    // Run until the program writes the exit register (or something else stops it).
    RunResult run(uint64_t max_instructions = 50'000'000);

    Cpu &cpu() { return cpu_; }
    std::optional<uint32_t> exit_code() const { return exited_ ? std::optional<uint32_t>(exit_value_) : std::nullopt; }
    uint32_t scratch() const { return scratch_; }
    uint32_t ram_word(uint32_t addr) const;
    // Thread-safe: the host side of the platform timer.
    void set_mtime(uint64_t t);

    std::vector<RamRegion> ram_regions() override;
    bool mmio_read(uint32_t addr, unsigned size, uint32_t *value) override;
    bool mmio_write(uint32_t addr, unsigned size, uint32_t value) override;
    uint64_t mtime() override { return mtime_.load(); }

private:
    void update_mtip();

    std::vector<uint8_t> ram_, rom_, data_;
    std::atomic<uint64_t> mtime_{0};
    std::atomic<uint32_t> mtimecmp_{~0u};
    uint32_t scratch_ = 0;
    bool exited_ = false;
    uint32_t exit_value_ = 0;
    Cpu cpu_;  // last: constructed after the memory it maps
};

}  // namespace mtia::rv32::test

#endif  // MTIA_RV32_TEST_MACHINE_H
