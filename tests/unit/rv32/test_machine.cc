// SPDX-License-Identifier: MIT
#include "test_machine.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace mtia::rv32::test {

TestMachine::TestMachine() : ram_(kRamSize), rom_(kRomSize), data_(kDataSize), cpu_(*this, CpuConfig{kRamBase, 0})
{
    const uint32_t ret = 0x00008067;  // jalr x0, 0(ra)
    std::memcpy(rom_.data(), &ret, sizeof(ret));
}

std::vector<RamRegion> TestMachine::ram_regions()
{
    return {
        {kRamBase, kRamSize, ram_.data(), true, true},
        {kRomBase, kRomSize, rom_.data(), false, true},
        {kDataBase, kDataSize, data_.data(), true, false},
    };
}

void TestMachine::load(const std::string &name)
{
    std::string path = std::string(RV32_PROGRAM_DIR) + "/" + name + ".bin";
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open " + path);
    std::vector<uint8_t> image((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (image.size() > ram_.size()) throw std::runtime_error(path + " does not fit in RAM");
    std::fill(ram_.begin(), ram_.end(), 0);
    std::copy(image.begin(), image.end(), ram_.begin());
    cpu_.invalidate_code(kRamBase, kRamSize);
    exited_ = false;
    cpu_.reset();
}

RunResult TestMachine::run(uint64_t max_instructions) { return cpu_.run(max_instructions); }

uint32_t TestMachine::ram_word(uint32_t addr) const
{
    uint32_t v;
    std::memcpy(&v, &ram_.at(addr - kRamBase), sizeof(v));
    return v;
}

void TestMachine::set_mtime(uint64_t t)
{
    mtime_.store(t);
    update_mtip();
}

void TestMachine::update_mtip() { cpu_.set_mtip(mtime_.load() >= mtimecmp_.load()); }

bool TestMachine::mmio_read(uint32_t addr, unsigned size, uint32_t *value)
{
    if (addr - kTbBase >= kTbSize) return false;
    uint32_t off = addr - kTbBase, reg = off & ~3u, shift = (off & 3) * 8;
    uint32_t v;
    switch (reg) {
        case kTbMtimecmp:
            v = mtimecmp_.load();
            break;
        case kTbMtime:
            v = static_cast<uint32_t>(mtime_.load());
            break;
        case kTbScratch:
            v = scratch_;
            break;
        default:
            return false;
    }
    v >>= shift;
    *value = size == 4 ? v : v & ((1u << (8 * size)) - 1);
    return true;
}

bool TestMachine::mmio_write(uint32_t addr, unsigned size, uint32_t value)
{
    if (addr - kTbBase >= kTbSize) return false;
    uint32_t off = addr - kTbBase, reg = off & ~3u;
    if (reg != kTbScratch && size != 4) return false;
    switch (reg) {
        case kTbExit:
            exited_ = true;
            exit_value_ = value;
            cpu_.request_stop();
            return true;
        case kTbMtimecmp:
            mtimecmp_.store(value);
            update_mtip();
            return true;
        case kTbMtime:
            set_mtime(value);
            return true;
        case kTbExtIrq:
            cpu_.set_external_irq(value != 0);
            return true;
        case kTbMsip:
            cpu_.set_msip(value != 0);
            return true;
        case kTbScratch: {
            uint32_t shift = (off & 3) * 8;
            uint32_t mask = (size == 4 ? ~0u : (1u << (8 * size)) - 1) << shift;
            scratch_ = (scratch_ & ~mask) | ((value << shift) & mask);
            return true;
        }
    }
    return false;
}

}  // namespace mtia::rv32::test
