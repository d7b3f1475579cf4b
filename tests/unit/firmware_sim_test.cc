// SPDX-License-Identifier: MIT
// Runs the real control-core firmware (build/firmware/mtia/mtia-fw*.bin) on
// the RV32 simulator with a small fake of the firmware's side of the device:
// SRAM, the register window (identity, FW_*, mailbox, mtime/mtimecmp,
// MBOX_POST, EVENT) and the first 2 MiB of device memory (the log ring).
// The real device model is qemu-device/core/; this fake only unit-tests the
// firmware against include/mtia/mtia_spec.h.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "mtia/mtia_spec.h"
#include "rv32_cpu.h"

#ifndef MTIA_FW_DIR
#define MTIA_FW_DIR "build/firmware"
#endif

namespace {

using mtia::rv32::Bus;
using mtia::rv32::Cpu;
using mtia::rv32::RamRegion;
using mtia::rv32::RunResult;
using mtia::rv32::StopReason;

static_assert(sizeof(mtia_fw_header) == MTIA_FW_HEADER_SIZE, "header size");
static_assert(offsetof(mtia_fw_header, sha256) == MTIA_FW_HEADER_SIZE - 32, "sha256 offset");
static_assert(sizeof(mtia_mbox_msg) == MTIA_MBOX_MSG_BYTES, "mailbox message size");
static_assert(sizeof(mtia_fw_log_header) == 16, "log header size");

constexpr uint32_t kFwVersion = MTIA_FW_VERSION(0, 1, 0);
constexpr uint32_t kIfVersion = MTIA_IF_VERSION_MAJOR << 16 | MTIA_IF_VERSION_MINOR;
constexpr uint32_t kDevmemBacked = 2u << 20;  // enough for the firmware's first MiB
constexpr uint32_t kIllegalInsn = 0xc0001073;  // what fw_die_illegal executes
constexpr uint32_t kLogData = MTIA_DEVMEM_FW_LOG_SIZE - sizeof(mtia_fw_log_header);
constexpr uint64_t kMs = MTIA_CC_TIMEBASE_HZ / 1000;

std::vector<uint8_t> read_file(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::string image_path(const char *name) { return std::string(MTIA_FW_DIR) + "/mtia/" + name; }

class FwMachine : public Bus {
public:
    FwMachine() : sram_(MTIA_CC_SRAM_SIZE), devmem_(kDevmemBacked), cpu_(*this) {}

    // What the boot ROM does: copy the payload, start at entry with
    // a0 = flags, a1 = FW_BOOT_STATUS.
    void boot(const char *name) {
        std::vector<uint8_t> img = read_file(image_path(name));
        ASSERT_GE(img.size(), sizeof(mtia_fw_header)) << image_path(name) << " missing (make firmware)";
        std::memcpy(&hdr_, img.data(), sizeof(hdr_));
        ASSERT_EQ(hdr_.magic, MTIA_FW_MAGIC);
        ASSERT_EQ(hdr_.header_size, MTIA_FW_HEADER_SIZE);
        ASSERT_EQ(img.size(), hdr_.header_size + uint64_t{hdr_.payload_size});
        ASSERT_GE(hdr_.load_addr, MTIA_CC_SRAM_BASE);
        ASSERT_LE(hdr_.load_addr - MTIA_CC_SRAM_BASE + uint64_t{hdr_.payload_size}, sram_.size());
        std::memcpy(&sram_[hdr_.load_addr - MTIA_CC_SRAM_BASE], img.data() + hdr_.header_size,
                    hdr_.payload_size);
        cpu_.invalidate_code(MTIA_CC_SRAM_BASE, MTIA_CC_SRAM_SIZE);
        cpu_.reset();
        cpu_.set_pc(hdr_.entry);
        cpu_.set_reg(10, hdr_.flags);
        cpu_.set_reg(11, MTIA_BOOT_RUNNING);
    }

    // Run until the core waits for an interrupt, halts, or spends the budget.
    RunResult run(uint64_t budget = 20'000'000) {
        RunResult r = cpu_.run(budget);
        last_ = r;
        return r;
    }

    void advance(uint64_t ticks) {
        mtime_ += ticks;
        cpu_.set_mtip(mtime_ >= mtimecmp_);
    }
    void set_time(uint64_t t) {
        mtime_ = t;
        cpu_.set_mtip(mtime_ >= mtimecmp_);
    }

    // Host side of the admin mailbox: post, ring, let the firmware run.
    mtia_mbox_msg command(uint16_t opcode, uint16_t seq, std::vector<uint32_t> args = {}) {
        mtia_mbox_msg m{};
        m.opcode = opcode;
        m.seq = seq;
        for (size_t i = 0; i < args.size() && i < 14; i++) m.args[i] = args[i];
        std::memcpy(cmd_, &m, sizeof(m));
        std::memset(resp_, 0xa5, sizeof(resp_));
        doorbell_ = 1;
        cpu_.set_external_irq(true);
        run();
        mtia_mbox_msg r;
        std::memcpy(&r, resp_, sizeof(r));
        return r;
    }

    // The log stream still in the ring (all of it until it wraps).
    std::string log() const {
        mtia_fw_log_header h;
        std::memcpy(&h, &devmem_[MTIA_DEVMEM_FW_LOG_OFF], sizeof(h));
        const uint8_t *data = &devmem_[MTIA_DEVMEM_FW_LOG_OFF + sizeof(h)];
        uint32_t n = h.head < kLogData ? h.head : kLogData;
        std::string s;
        for (uint32_t i = h.head - n; i != h.head; i++) s += static_cast<char>(data[i % kLogData]);
        return s;
    }
    mtia_fw_log_header log_header() const {
        mtia_fw_log_header h;
        std::memcpy(&h, &devmem_[MTIA_DEVMEM_FW_LOG_OFF], sizeof(h));
        return h;
    }

    // ---- Bus ---------------------------------------------------------------
    std::vector<RamRegion> ram_regions() override {
        return {{MTIA_CC_SRAM_BASE, MTIA_CC_SRAM_SIZE, sram_.data(), true, true},
                {MTIA_CC_DEVMEM_BASE, kDevmemBacked, devmem_.data(), true, false}};
    }
    uint64_t mtime() override { return mtime_; }

    bool mmio_read(uint32_t addr, unsigned size, uint32_t *value) override {
        uint32_t off = addr - MTIA_CC_REGS_BASE;
        if (off >= MTIA_BAR0_SIZE || size != 4) return false;
        if (off >= MTIA_REG_MBOX_CMD && off < MTIA_REG_MBOX_CMD + MTIA_MBOX_MSG_BYTES) {
            if (fail_cmd_read) return false;
            *value = cmd_[(off - MTIA_REG_MBOX_CMD) / 4];
            return true;
        }
        if (off >= MTIA_REG_MBOX_RESP && off < MTIA_REG_MBOX_RESP + MTIA_MBOX_MSG_BYTES) {
            *value = resp_[(off - MTIA_REG_MBOX_RESP) / 4];
            return true;
        }
        switch (off) {
        case MTIA_REG_MAGIC: *value = MTIA_MAGIC_VALUE; break;
        case MTIA_REG_IF_VERSION: *value = kIfVersion; break;
        case MTIA_REG_CHIP_ID: *value = MTIA_CHIP_ID_MTIA1; break;
        case MTIA_REG_REVISION: *value = MTIA_PCI_REVISION; break;
        case MTIA_REG_PE_GRID: *value = MTIA_DEFAULT_PE_ROWS | MTIA_DEFAULT_PE_COLS << 8; break;
        case MTIA_REG_MSIX_VECTORS: *value = MTIA_DEFAULT_MSIX_VECTORS; break;
        case MTIA_REG_SRAM_SIZE_LO: *value = static_cast<uint32_t>(MTIA_DEFAULT_SRAM_BYTES); break;
        case MTIA_REG_SRAM_SIZE_HI: *value = MTIA_DEFAULT_SRAM_BYTES >> 32; break;
        case MTIA_REG_DEVMEM_SIZE_LO: *value = static_cast<uint32_t>(devmem_size); break;
        case MTIA_REG_DEVMEM_SIZE_HI: *value = devmem_size >> 32; break;
        case MTIA_REG_FW_STATUS: *value = fw_status; break;
        case MTIA_REG_FW_VERSION: *value = fw_version; break;
        case MTIA_REG_FW_HEARTBEAT: *value = heartbeat; break;
        case MTIA_REG_FW_LOG_ADDR: *value = log_addr; break;
        case MTIA_REG_FW_LOG_SIZE: *value = log_size; break;
        case MTIA_REG_MBOX_DOORBELL: *value = doorbell_; break;
        case MTIA_CC_REG_MTIME_LO: *value = static_cast<uint32_t>(mtime_); break;
        case MTIA_CC_REG_MTIME_HI: *value = mtime_ >> 32; break;
        case MTIA_CC_REG_MTIMECMP_LO: *value = static_cast<uint32_t>(mtimecmp_); break;
        case MTIA_CC_REG_MTIMECMP_HI: *value = mtimecmp_ >> 32; break;
        default: return false;  // strict: catches firmware typos
        }
        return true;
    }

    bool mmio_write(uint32_t addr, unsigned size, uint32_t value) override {
        uint32_t off = addr - MTIA_CC_REGS_BASE;
        if (off >= MTIA_BAR0_SIZE || size != 4) return false;
        if (off >= MTIA_REG_MBOX_RESP && off < MTIA_REG_MBOX_RESP + MTIA_MBOX_MSG_BYTES) {
            resp_[(off - MTIA_REG_MBOX_RESP) / 4] = value;
            return true;
        }
        switch (off) {
        case MTIA_REG_FW_STATUS:
            fw_status = value;
            status_history.push_back(value);
            break;
        case MTIA_REG_FW_VERSION: fw_version = value; break;
        case MTIA_REG_FW_HEARTBEAT: heartbeat = value; break;
        case MTIA_REG_FW_LOG_ADDR: log_addr = value; break;
        case MTIA_REG_FW_LOG_SIZE: log_size = value; break;
        case MTIA_REG_MBOX_DOORBELL:
            doorbell_ &= ~value;
            cpu_.set_external_irq(doorbell_ != 0);
            break;
        case MTIA_CC_REG_MTIMECMP_LO:
            mtimecmp_ = (mtimecmp_ & ~0xffffffffull) | value;
            cpu_.set_mtip(mtime_ >= mtimecmp_);
            break;
        case MTIA_CC_REG_MTIMECMP_HI:
            mtimecmp_ = (mtimecmp_ & 0xffffffffull) | uint64_t{value} << 32;
            cpu_.set_mtip(mtime_ >= mtimecmp_);
            break;
        case MTIA_CC_REG_MBOX_POST: posts += value == 1; break;
        case MTIA_CC_REG_EVENT: events += value == 1; break;
        default: return false;
        }
        return true;
    }

    Cpu &cpu() { return cpu_; }
    uint64_t mtimecmp() const { return mtimecmp_; }
    uint32_t doorbell() const { return doorbell_; }
    const mtia_fw_header &header() const { return hdr_; }

    uint64_t devmem_size = MTIA_DEFAULT_DEVMEM_BYTES;
    uint32_t fw_status = MTIA_FW_STATUS_OFF, fw_version = 0, heartbeat = 0, log_addr = 0,
             log_size = 0;
    std::vector<uint32_t> status_history;
    int posts = 0, events = 0;
    bool fail_cmd_read = false;

private:
    std::vector<uint8_t> sram_, devmem_;
    uint32_t cmd_[16] = {}, resp_[16] = {}, doorbell_ = 0;
    uint64_t mtime_ = 0, mtimecmp_ = ~0ull;
    mtia_fw_header hdr_{};
    RunResult last_{};
    Cpu cpu_;  // last: maps the memory above
};

bool contains(const std::string &hay, const std::string &needle) {
    return hay.find(needle) != std::string::npos;
}

class FirmwareTest : public ::testing::Test {
protected:
    // Boot the normal image to READY.
    void boot_ready() {
        m.boot("mtia-fw.bin");
        ASSERT_FALSE(HasFatalFailure());
        RunResult r = m.run();
        ASSERT_EQ(r.reason, StopReason::kWaitForInterrupt) << to_string(r.reason) << " pc 0x"
                                                           << std::hex << r.pc;
        ASSERT_EQ(m.fw_status, MTIA_FW_STATUS_READY);
    }
    FwMachine m;
};

// ---- images -----------------------------------------------------------------

TEST(FirmwareImage, HeadersMatchTheSpec) {
    const char *names[] = {"mtia-fw.bin", "mtia-fw-test-hang.bin", "mtia-fw-test-trap.bin"};
    const uint32_t flags[] = {0, MTIA_FW_FLAG_TEST_HANG, MTIA_FW_FLAG_TEST_TRAP};
    std::vector<uint8_t> payload0;
    for (int i = 0; i < 3; i++) {
        SCOPED_TRACE(names[i]);
        std::vector<uint8_t> img = read_file(image_path(names[i]));
        ASSERT_GE(img.size(), sizeof(mtia_fw_header)) << "missing: run make firmware";
        mtia_fw_header h;
        std::memcpy(&h, img.data(), sizeof(h));
        EXPECT_EQ(h.magic, MTIA_FW_MAGIC);
        EXPECT_EQ(h.format_version, MTIA_FW_FORMAT_VERSION);
        EXPECT_EQ(h.header_size, MTIA_FW_HEADER_SIZE);
        EXPECT_EQ(h.load_addr, MTIA_CC_SRAM_BASE);
        EXPECT_GE(h.entry, h.load_addr);
        EXPECT_LT(h.entry, h.load_addr + h.payload_size);
        EXPECT_EQ(h.entry % 4, 0u);
        EXPECT_EQ(img.size(), MTIA_FW_HEADER_SIZE + size_t{h.payload_size});
        EXPECT_LE(h.payload_size, MTIA_CC_SRAM_SIZE / 2);
        EXPECT_EQ(h.fw_version, kFwVersion);
        EXPECT_EQ(h.flags, flags[i]);
        for (uint32_t r : h.reserved) EXPECT_EQ(r, 0u);
        std::vector<uint8_t> payload(img.begin() + MTIA_FW_HEADER_SIZE, img.end());
        if (i == 0)
            payload0 = payload;
        else
            EXPECT_EQ(payload, payload0) << "test variants must share the payload";
    }
}

// ---- boot -------------------------------------------------------------------

TEST_F(FirmwareTest, BootsToReady) {
    boot_ready();
    EXPECT_EQ(m.fw_version, kFwVersion);
    ASSERT_GE(m.status_history.size(), 2u);
    EXPECT_EQ(m.status_history.front(), MTIA_FW_STATUS_INIT);
    EXPECT_EQ(m.status_history.back(), MTIA_FW_STATUS_READY);
    EXPECT_EQ(m.events, 1);
    EXPECT_EQ(m.log_addr, MTIA_DEVMEM_FW_LOG_OFF);
    EXPECT_EQ(m.log_size, MTIA_DEVMEM_FW_LOG_SIZE);
    EXPECT_EQ(m.heartbeat, 0u);
    EXPECT_EQ(m.mtimecmp(), 100 * kMs);  // default heartbeat period from t = 0
    uint32_t mie = 0, mstatus = 0, mtvec = 0;
    m.cpu().read_csr(0x304, &mie);
    m.cpu().read_csr(0x300, &mstatus);
    m.cpu().read_csr(0x305, &mtvec);
    EXPECT_EQ(mie, (1u << 7) | (1u << 11));
    EXPECT_TRUE(mstatus & (1u << 3));
    EXPECT_NE(mtvec, 0u);
}

TEST_F(FirmwareTest, LogRing) {
    boot_ready();
    mtia_fw_log_header h = m.log_header();
    EXPECT_EQ(h.magic, MTIA_FW_LOG_MAGIC);
    EXPECT_EQ(h.size, MTIA_DEVMEM_FW_LOG_SIZE);
    EXPECT_EQ(h.reserved, 0u);
    std::string log = m.log();
    EXPECT_EQ(log.size(), h.head);
    EXPECT_TRUE(contains(log, "[    0.000] mtia-fw 0.1.0 booting\n")) << log;
    EXPECT_TRUE(contains(log, "chip 0x0001 rev 1, interface 1.0, PE grid 8x8, 1 MSI-X vectors\n"))
        << log;
    EXPECT_TRUE(contains(log, "SRAM 131072 KiB, device memory 1024 MiB\n")) << log;
    EXPECT_TRUE(contains(log, "heartbeat every 100 ms\n")) << log;
    EXPECT_TRUE(log.size() >= 18 && log.compare(log.size() - 18, 18, "[    0.000] ready\n") == 0)
        << log;
    // every line: "[sssss.mmm] text\n"
    size_t pos = 0;
    while (pos < log.size()) {
        size_t nl = log.find('\n', pos);
        ASSERT_NE(nl, std::string::npos);
        std::string line = log.substr(pos, nl - pos);
        EXPECT_EQ(line.size() > 12 && line[0] == '[' && line[6] == '.' && line[10] == ']', true)
            << line;
        pos = nl + 1;
    }
}

TEST_F(FirmwareTest, TimestampsInMilliseconds) {
    boot_ready();
    m.set_time(12'345'678);  // us
    m.command(0x0bad, 1);
    EXPECT_TRUE(contains(m.log(), "[   12.345] error: admin: unknown opcode 0x0bad (seq 1)\n"))
        << m.log();
    m.set_time(5000ull * 1'000'000 + 7'000);  // beyond 2^32 us
    m.command(0x0bad, 2);
    EXPECT_TRUE(contains(m.log(), "[ 5000.007] error: admin: unknown opcode 0x0bad (seq 2)\n"))
        << m.log();
}

TEST_F(FirmwareTest, SmallDevmemDisablesTheLog) {
    m.devmem_size = MTIA_DEVMEM_FW_LOG_OFF;  // ring would not fit
    boot_ready();
    EXPECT_EQ(m.log_size, 0u);
    EXPECT_EQ(m.log_header().magic, 0u);
}

// ---- heartbeat --------------------------------------------------------------

TEST_F(FirmwareTest, HeartbeatAdvancesWithTime) {
    boot_ready();
    m.advance(99 * kMs);
    EXPECT_EQ(m.run().reason, StopReason::kWaitForInterrupt);
    EXPECT_EQ(m.heartbeat, 0u);
    for (uint32_t i = 1; i <= 5; i++) {
        m.advance(i == 1 ? 1 * kMs : 100 * kMs);
        EXPECT_EQ(m.run().reason, StopReason::kWaitForInterrupt);
        EXPECT_EQ(m.heartbeat, i);
        EXPECT_EQ(m.mtimecmp(), (i + 1) * 100 * kMs);  // phase kept
    }
    // Fell far behind: one tick, then a full period from now (no burst).
    m.advance(10'000 * kMs);
    m.run();
    EXPECT_EQ(m.heartbeat, 6u);
    EXPECT_EQ(m.mtimecmp(), 500 * kMs + 10'000 * kMs + 100 * kMs);
}

// ---- admin mailbox ----------------------------------------------------------

TEST_F(FirmwareTest, Ping) {
    boot_ready();
    std::vector<uint32_t> args;
    for (uint32_t i = 0; i < 14; i++) args.push_back(0x1000 * i + 7);
    mtia_mbox_msg r = m.command(MTIA_ADMIN_PING, 0x1234, args);
    EXPECT_EQ(r.opcode, MTIA_ADMIN_PING);
    EXPECT_EQ(r.seq, 0x1234);
    EXPECT_EQ(r.status, MTIA_ADMIN_STATUS_OK);
    for (int i = 0; i < 14; i++) EXPECT_EQ(r.args[i], args[i]);
    EXPECT_EQ(m.posts, 1);
    EXPECT_EQ(m.doorbell(), 0u);
    // Still serving.
    r = m.command(MTIA_ADMIN_PING, 2, {42});
    EXPECT_EQ(r.seq, 2);
    EXPECT_EQ(r.args[0], 42u);
    EXPECT_EQ(r.args[1], 0u);
    EXPECT_EQ(m.posts, 2);
}

TEST_F(FirmwareTest, GetVersion) {
    boot_ready();
    mtia_mbox_msg r = m.command(MTIA_ADMIN_GET_VERSION, 9);
    EXPECT_EQ(r.opcode, MTIA_ADMIN_GET_VERSION);
    EXPECT_EQ(r.status, MTIA_ADMIN_STATUS_OK);
    EXPECT_EQ(r.args[0], kFwVersion);
    EXPECT_EQ(r.args[1], kIfVersion);
    EXPECT_EQ(r.args[2], 0u);
}

TEST_F(FirmwareTest, BadOpcode) {
    boot_ready();
    mtia_mbox_msg r = m.command(0x7777, 3, {1, 2});
    EXPECT_EQ(r.opcode, 0x7777);
    EXPECT_EQ(r.seq, 3);
    EXPECT_EQ(r.status, MTIA_ADMIN_STATUS_BAD_OPCODE);
    EXPECT_EQ(r.args[0], 0u);
    EXPECT_TRUE(contains(m.log(), "error: admin: unknown opcode 0x7777 (seq 3)\n")) << m.log();
}

TEST_F(FirmwareTest, Params) {
    boot_ready();
    auto get = [&](uint32_t id) { return m.command(MTIA_ADMIN_GET_PARAM, 1, {id}); };
    auto set = [&](uint32_t id, uint32_t v) { return m.command(MTIA_ADMIN_SET_PARAM, 2, {id, v}); };

    mtia_mbox_msg r = get(MTIA_PARAM_HEARTBEAT_MS);
    EXPECT_EQ(r.status, MTIA_ADMIN_STATUS_OK);
    EXPECT_EQ(r.args[0], 100u);
    r = get(MTIA_PARAM_LOG_LEVEL);
    EXPECT_EQ(r.status, MTIA_ADMIN_STATUS_OK);
    EXPECT_EQ(r.args[0], 2u);

    EXPECT_EQ(get(0).status, MTIA_ADMIN_STATUS_BAD_ARG);
    EXPECT_EQ(get(99).status, MTIA_ADMIN_STATUS_BAD_ARG);
    EXPECT_EQ(set(99, 1).status, MTIA_ADMIN_STATUS_BAD_ARG);
    EXPECT_EQ(set(MTIA_PARAM_HEARTBEAT_MS, 9).status, MTIA_ADMIN_STATUS_BAD_ARG);
    EXPECT_EQ(set(MTIA_PARAM_HEARTBEAT_MS, 10001).status, MTIA_ADMIN_STATUS_BAD_ARG);
    EXPECT_EQ(set(MTIA_PARAM_LOG_LEVEL, 4).status, MTIA_ADMIN_STATUS_BAD_ARG);
    EXPECT_EQ(get(MTIA_PARAM_HEARTBEAT_MS).args[0], 100u);  // unchanged
    std::string log = m.log();
    EXPECT_TRUE(contains(log, "error: admin: GET_PARAM of unknown parameter 99\n")) << log;
    EXPECT_TRUE(contains(log, "error: admin: SET_PARAM of unknown parameter 99\n")) << log;
    EXPECT_TRUE(contains(log, "error: admin: SET_PARAM heartbeat_ms = 9 out of range\n")) << log;
    EXPECT_TRUE(contains(log, "error: admin: SET_PARAM log_level = 4 out of range\n")) << log;

    EXPECT_EQ(set(MTIA_PARAM_HEARTBEAT_MS, 10).status, MTIA_ADMIN_STATUS_OK);
    EXPECT_EQ(set(MTIA_PARAM_HEARTBEAT_MS, 10000).status, MTIA_ADMIN_STATUS_OK);
    m.set_time(50 * kMs);
    r = set(MTIA_PARAM_HEARTBEAT_MS, 1000);
    EXPECT_EQ(r.status, MTIA_ADMIN_STATUS_OK);
    EXPECT_EQ(r.opcode, MTIA_ADMIN_SET_PARAM);
    EXPECT_EQ(get(MTIA_PARAM_HEARTBEAT_MS).args[0], 1000u);
    EXPECT_EQ(m.mtimecmp(), 1050 * kMs);  // re-armed from now
    m.advance(999 * kMs);
    m.run();
    EXPECT_EQ(m.heartbeat, 0u);
    m.advance(1 * kMs);
    m.run();
    EXPECT_EQ(m.heartbeat, 1u);
    EXPECT_TRUE(contains(m.log(), "heartbeat period set to 1000 ms\n"));
}

TEST_F(FirmwareTest, LogLevel) {
    boot_ready();
    m.command(MTIA_ADMIN_PING, 5);
    EXPECT_FALSE(contains(m.log(), "admin: opcode")) << "debug lines hidden at level 2";
    EXPECT_EQ(m.command(MTIA_ADMIN_SET_PARAM, 6, {MTIA_PARAM_LOG_LEVEL, 3}).status,
              MTIA_ADMIN_STATUS_OK);
    m.command(MTIA_ADMIN_PING, 7, {0xabc});
    EXPECT_TRUE(contains(m.log(), "admin: opcode 0x0001 seq 7 args 0xabc 0x0\n")) << m.log();
    EXPECT_TRUE(contains(m.log(), "admin: seq 7 -> status 0\n")) << m.log();

    m.command(MTIA_ADMIN_SET_PARAM, 8, {MTIA_PARAM_LOG_LEVEL, 0});
    uint32_t head = m.log_header().head;
    m.command(MTIA_ADMIN_SET_PARAM, 9, {MTIA_PARAM_HEARTBEAT_MS, 200});  // info: hidden
    EXPECT_EQ(m.log_header().head, head);
    m.command(0x0bad, 10);  // error: shown
    EXPECT_GT(m.log_header().head, head);
}

TEST_F(FirmwareTest, LogWraps) {
    boot_ready();
    m.command(MTIA_ADMIN_SET_PARAM, 1, {MTIA_PARAM_LOG_LEVEL, 3});
    for (uint32_t seq = 0; seq < 1500; seq++) m.command(MTIA_ADMIN_PING, static_cast<uint16_t>(seq));
    mtia_fw_log_header h = m.log_header();
    EXPECT_GT(h.head, 2 * kLogData);  // wrapped at least twice
    std::string log = m.log();
    ASSERT_EQ(log.size(), kLogData);
    const std::string last = "] admin: seq 1499 -> status 0\n";
    EXPECT_EQ(log.compare(log.size() - last.size(), last.size(), last), 0)
        << log.substr(log.size() - 80);
    // The oldest surviving text is the tail of some line; every line after
    // the first newline is whole.
    std::string whole = log.substr(log.find('\n') + 1);
    for (size_t pos = 0; pos < whole.size();) {
        size_t nl = whole.find('\n', pos);
        ASSERT_NE(nl, std::string::npos);
        ASSERT_EQ(whole[pos], '[') << whole.substr(pos, nl - pos);
        pos = nl + 1;
    }
    EXPECT_FALSE(contains(log, "booting"));  // overwritten
}

// ---- faults -----------------------------------------------------------------

TEST_F(FirmwareTest, TestTrapFlagHaltsBeforeReady) {
    m.boot("mtia-fw-test-trap.bin");
    ASSERT_FALSE(HasFatalFailure());
    RunResult r = m.run();
    ASSERT_EQ(r.reason, StopReason::kHaltedOnTrap);
    EXPECT_EQ(r.cause, 2u);  // illegal instruction
    EXPECT_EQ(r.tval, kIllegalInsn);
    EXPECT_GE(r.pc, MTIA_CC_SRAM_BASE);
    EXPECT_LT(r.pc, MTIA_CC_SRAM_BASE + m.header().payload_size);
    EXPECT_EQ(m.fw_status, MTIA_FW_STATUS_INIT);
    EXPECT_EQ(m.events, 0);
    EXPECT_TRUE(contains(m.log(), "warning: test flag TEST_TRAP")) << m.log();
    EXPECT_FALSE(contains(m.log(), "ready"));
}

TEST_F(FirmwareTest, TestHangFlagSpinsBeforeReady) {
    m.boot("mtia-fw-test-hang.bin");
    ASSERT_FALSE(HasFatalFailure());
    RunResult r = m.run(1'000'000);
    EXPECT_EQ(r.reason, StopReason::kBudget);
    EXPECT_EQ(m.fw_status, MTIA_FW_STATUS_INIT);
    EXPECT_TRUE(contains(m.log(), "warning: test flag TEST_HANG")) << m.log();
    // Interrupts are off: neither time nor the doorbell gets a reaction.
    m.advance(1000 * kMs);
    m.command(MTIA_ADMIN_PING, 1);
    EXPECT_EQ(m.posts, 0);
    EXPECT_EQ(m.heartbeat, 0u);
    uint32_t mie = 1;
    m.cpu().read_csr(0x304, &mie);
    EXPECT_EQ(mie, 0u);
}

TEST_F(FirmwareTest, DebugTrapRespondsThenHalts) {
    boot_ready();
    mtia_mbox_msg r = m.command(MTIA_ADMIN_DEBUG_TRAP, 77);
    EXPECT_EQ(m.posts, 1);
    EXPECT_EQ(r.opcode, MTIA_ADMIN_DEBUG_TRAP);
    EXPECT_EQ(r.seq, 77);
    EXPECT_EQ(r.status, MTIA_ADMIN_STATUS_OK);
    RunResult h = m.run();
    ASSERT_EQ(h.reason, StopReason::kHaltedOnTrap);
    EXPECT_EQ(h.cause, 2u);
    EXPECT_EQ(h.tval, kIllegalInsn);
    EXPECT_TRUE(contains(m.log(), "warning: admin: DEBUG_TRAP")) << m.log();
}

TEST_F(FirmwareTest, DebugHangRespondsThenSpins) {
    boot_ready();
    mtia_mbox_msg r = m.command(MTIA_ADMIN_DEBUG_HANG, 78);
    EXPECT_EQ(m.posts, 1);
    EXPECT_EQ(r.status, MTIA_ADMIN_STATUS_OK);
    EXPECT_EQ(r.seq, 78);
    EXPECT_EQ(m.run(100'000).reason, StopReason::kBudget);
    m.advance(1000 * kMs);
    m.run(100'000);
    EXPECT_EQ(m.heartbeat, 0u);
    m.command(MTIA_ADMIN_PING, 79);
    EXPECT_EQ(m.posts, 1);
    EXPECT_EQ(m.fw_status, MTIA_FW_STATUS_READY);
}

TEST_F(FirmwareTest, UnexpectedExceptionIsLoggedThenHalts) {
    boot_ready();
    m.fail_cmd_read = true;  // the mailbox read becomes a load access fault
    m.command(MTIA_ADMIN_PING, 1);
    RunResult h = m.run();
    ASSERT_EQ(h.reason, StopReason::kHaltedOnTrap);
    EXPECT_EQ(h.cause, 5u);  // load access fault, re-executed with mtvec = 0
    EXPECT_EQ(h.tval, MTIA_CC_REGS_BASE + MTIA_REG_MBOX_CMD);
    EXPECT_EQ(m.fw_status, MTIA_FW_STATUS_ERROR);
    EXPECT_EQ(m.events, 2);  // READY, then ERROR
    EXPECT_EQ(m.posts, 0);
    char want[96];
    std::snprintf(want, sizeof(want),
                  "error: fatal trap: cause 5 (load access fault) pc 0x%08x tval 0x%08x\n", h.pc,
                  h.tval);
    EXPECT_TRUE(contains(m.log(), want)) << m.log();
}

}  // namespace
