// SPDX-License-Identifier: MIT
// The queue tests' harness (device_queue_test.cc, device_mmu_test.cc,
// device_fault_test.cc): a device core without QEMU, a fake host memory map
// behind the dma_read/dma_write host ops, and the firmware's dispatch
// registers driven through the core's test hook (mtia_core_fw_read/write).
#ifndef MTIA_QUEUE_FIXTURE_H
#define MTIA_QUEUE_FIXTURE_H

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mtia/mtia_spec.h"
#include "mtia_core.h"
#include "test_watchdog.h"

namespace qfix {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kRamBase = 0x100000;  // fake guest RAM
constexpr uint64_t kRamSize = 96ull << 20;
constexpr uint64_t kDevmem = 64ull << 20;
constexpr uint64_t kSq0 = kRamBase;            // SQ q at kSq0 + q * 64K
constexpr uint64_t kCq0 = kRamBase + 0x80000;  // CQ q at kCq0 + q * 64K
constexpr uint64_t kData = kRamBase + (2ull << 20);
constexpr uint64_t kUnmapped = 0x40000000;

// Guest memory and interrupts; callbacks come from any thread.
struct Host {
    std::vector<uint8_t> ram = std::vector<uint8_t>(kRamSize);
    std::atomic<int> dma_delay_us{0};
    std::atomic<uint64_t> dma_reads{0}, dma_writes{0};
    std::mutex mu;
    std::condition_variable cv;
    std::vector<unsigned> irqs;
    std::vector<std::string> errors;

    uint8_t *at(uint64_t addr, uint64_t len)
    {
        if (addr < kRamBase || len > kRamSize || addr - kRamBase > kRamSize - len) return nullptr;
        return ram.data() + (addr - kRamBase);
    }

    unsigned irq_count(unsigned vec)
    {
        std::lock_guard<std::mutex> l(mu);
        return static_cast<unsigned>(std::count(irqs.begin(), irqs.end(), vec));
    }
};

const mtia_core_host_ops kOps = {
    [](void *o, unsigned v) {
        auto *h = static_cast<Host *>(o);
        std::lock_guard<std::mutex> l(h->mu);
        h->irqs.push_back(v);
        h->cv.notify_all();
    },
    [](void *o, const char *m) {
        auto *h = static_cast<Host *>(o);
        std::lock_guard<std::mutex> l(h->mu);
        h->errors.emplace_back(m);
    },
    [](void *o, uint64_t addr, void *buf, uint64_t len) -> int {
        auto *h = static_cast<Host *>(o);
        if (int d = h->dma_delay_us.load()) std::this_thread::sleep_for(std::chrono::microseconds(d));
        uint8_t *p = h->at(addr, len);
        if (!p) return -1;
        std::memcpy(buf, p, len);
        h->dma_reads++;
        return 0;
    },
    [](void *o, uint64_t addr, const void *buf, uint64_t len) -> int {
        auto *h = static_cast<Host *>(o);
        if (int d = h->dma_delay_us.load()) std::this_thread::sleep_for(std::chrono::microseconds(d));
        uint8_t *p = h->at(addr, len);
        if (!p) return -1;
        std::memcpy(p, buf, len);
        h->dma_writes++;
        return 0;
    },
};

inline std::vector<uint8_t> read_file(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline mtia_operand host(uint64_t a, uint64_t off = 0) { return mtia_operand{a, off}; }
inline mtia_operand dev(uint64_t a, uint64_t off = 0) { return mtia_operand{MTIA_ADDR_DEVMEM | a, off}; }
inline mtia_operand sgt(uint64_t a, uint64_t off = 0) { return mtia_operand{MTIA_ADDR_SGT | a, off}; }

inline mtia_cmd cmd(uint8_t op, uint16_t cid, uint64_t len = 0, mtia_operand src = {}, mtia_operand dst = {},
                    uint64_t value = 0, uint8_t flags = 0)
{
    mtia_cmd c{};
    c.opcode = op;
    c.flags = flags;
    c.cid = cid;
    c.len = len;
    c.value = value;
    c.src = src;
    c.dst = dst;
    return c;
}

class QueueTest : public ::testing::Test {
protected:
    void SetUp() override { make(MTIA_DEFAULT_MSIX_VECTORS); }
    void TearDown() override { mtia_core_free(core); }
    void make(uint32_t vectors)
    {
        if (core) mtia_core_free(core);
        mtia_core_config_default(&cfg);
        cfg.devmem_bytes = kDevmem;
        cfg.msix_vectors = vectors;
        core = mtia_core_new(&cfg, &kOps, &h);
        ASSERT_NE(core, nullptr);
        devmem.assign(kDevmem, 0);
        mtia_core_attach_devmem(core, devmem.data(), devmem.size());
        for (auto &c : cons) c = Cons{};
    }

    uint32_t rd(uint64_t off) { return static_cast<uint32_t>(mtia_core_mmio_read(core, off, 4)); }
    void wr(uint64_t off, uint32_t v) { mtia_core_mmio_write(core, off, v, 4); }
    uint32_t fr(uint32_t off)
    {
        uint32_t v = 0;
        EXPECT_EQ(mtia_core_fw_read(core, off, 4, &v), 0) << std::hex << off;
        return v;
    }
    int fw(uint32_t off, uint32_t v) { return mtia_core_fw_write(core, off, 4, v); }

    // Queue @q: 2^sq SQ and 2^cq CQ entries, CQ on vector @vec.
    void setup(unsigned q, unsigned sq = 6, unsigned cq = 6, unsigned vec = 1, uint32_t coalesce = 0)
    {
        wr(MTIA_REG_Q(q, MTIA_Q_SQ_BASE_LO), static_cast<uint32_t>(kSq0 + q * 0x10000));
        wr(MTIA_REG_Q(q, MTIA_Q_SQ_BASE_HI), 0);
        wr(MTIA_REG_Q(q, MTIA_Q_CQ_BASE_LO), static_cast<uint32_t>(kCq0 + q * 0x10000));
        wr(MTIA_REG_Q(q, MTIA_Q_CQ_BASE_HI), 0);
        wr(MTIA_REG_Q(q, MTIA_Q_SIZE), sq | cq << 8);
        wr(MTIA_REG_Q(q, MTIA_Q_COALESCE), coalesce);
        wr(MTIA_REG_Q(q, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE | vec << MTIA_Q_CTRL_VEC_SHIFT);
        std::memset(h.at(kCq0 + q * 0x10000, 0x10000), 0, 0x10000);
        cons[q] = Cons{};
        cons[q].sq_n = 1u << sq;
        cons[q].cq_n = 1u << cq;
        ASSERT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);
    }
    // Writes @c at the SQ tail and rings the doorbell.
    void submit(unsigned q, const mtia_cmd &c, bool ring = true)
    {
        Cons &s = cons[q];
        std::memcpy(h.at(kSq0 + q * 0x10000 + s.sq_tail * 64ull, 64), &c, 64);
        s.sq_tail = (s.sq_tail + 1) % s.sq_n;
        if (ring) wr(MTIA_REG_DB(q, MTIA_DB_SQ_TAIL), s.sq_tail);
    }
    // What firmware does: fetch every pending command, complete NOP/FENCE
    // itself (FENCE once nothing is in flight), hand the rest to the engine.
    unsigned fw_run()
    {
        unsigned n = 0;
        while (uint32_t pend = fr(MTIA_CC_REG_Q_PENDING)) {
            for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++) {
                if (!(pend & 1u << q)) continue;
                EXPECT_EQ(fw(MTIA_CC_REG_Q_FETCH, q), 0);
                if (fr(MTIA_CC_REG_Q_FETCH_STATUS) != MTIA_CQE_OK) continue;
                uint32_t w0 = fr(MTIA_CC_REG_SQE);
                uint8_t op = w0 & 0xff;
                if (op == MTIA_CMD_NOP) {
                    EXPECT_EQ(fw(MTIA_CC_REG_Q_COMPLETE, q), 0);
                } else if (op == MTIA_CMD_FENCE) {
                    fw(MTIA_CC_REG_Q_SELECT, q);
                    auto until = Clock::now() + 5s;
                    while (fr(MTIA_CC_REG_Q_INFLIGHT) && Clock::now() < until) std::this_thread::sleep_for(100us);
                    EXPECT_EQ(fw(MTIA_CC_REG_Q_COMPLETE, q), 0);
                } else {
                    EXPECT_EQ(fw(MTIA_CC_REG_Q_DISPATCH, q), 0);
                }
                n++;
            }
        }
        return n;
    }
    // Waits for @n new CQEs on queue @q (phase-checked) and consumes them;
    // rings CQ_HEAD if @ring.
    std::vector<mtia_cqe> reap(unsigned q, unsigned n, bool ring = true, std::chrono::milliseconds limit = 5000ms)
    {
        std::vector<mtia_cqe> out;
        Cons &s = cons[q];
        auto until = Clock::now() + limit;
        while (out.size() < n) {  // looks at least once, even with limit 0
            mtia_cqe e;
            std::memcpy(&e, h.at(kCq0 + q * 0x10000 + s.cq_head * 16ull, 16), 16);
            if ((e.status & 1) != s.phase) {
                if (Clock::now() >= until) break;
                std::this_thread::sleep_for(50us);
                continue;
            }
            out.push_back(e);
            s.cq_head = (s.cq_head + 1) % s.cq_n;
            if (s.cq_head == 0) s.phase ^= 1;
        }
        if (ring && !out.empty()) wr(MTIA_REG_DB(q, MTIA_DB_CQ_HEAD), s.cq_head);
        return out;
    }

    // Boots the firmware image at @path and waits (5 s at most) for READY
    // or the core to halt; false if the image is not built.
    bool boot_firmware(const char *path)
    {
        std::vector<uint8_t> img = read_file(path);
        if (img.empty()) return false;
        std::memcpy(devmem.data(), img.data(), img.size());
        wr(MTIA_REG_FW_STAGE_LO, 0);
        wr(MTIA_REG_FW_STAGE_SIZE, static_cast<uint32_t>(img.size()));
        wr(MTIA_REG_FW_BOOT, MTIA_FW_BOOT_KEY);
        // RUNNING, or HALTED already if a trap was armed (FaultTest).
        auto until = Clock::now() + 5s;
        while (rd(MTIA_REG_FW_STATUS) != MTIA_FW_STATUS_READY && rd(MTIA_REG_FW_BOOT_STATUS) == MTIA_BOOT_RUNNING &&
               Clock::now() < until)
            std::this_thread::sleep_for(1ms);
        return true;
    }
    // Submit one command, run firmware, return its completion.
    mtia_cqe run1(unsigned q, const mtia_cmd &c)
    {
        submit(q, c);
        fw_run();
        auto v = reap(q, 1);
        EXPECT_EQ(v.size(), 1u);
        return v.empty() ? mtia_cqe{} : v[0];
    }
    static uint16_t st(const mtia_cqe &e) { return e.status >> 1; }
    void fill_random(uint8_t *p, size_t n, unsigned seed)
    {
        std::mt19937 r(seed);
        for (size_t i = 0; i < n; i++) p[i] = static_cast<uint8_t>(r());
    }
    // An SG table at @at describing @lens pieces placed at @bufs.
    void write_sgt(uint64_t at, const std::vector<std::pair<uint64_t, uint64_t>> &ents, uint32_t magic = MTIA_SGT_MAGIC,
                   int64_t total_adj = 0)
    {
        mtia_sgt t{magic, static_cast<uint32_t>(ents.size()), 0};
        for (auto &e : ents) t.total += e.second;
        t.total += total_adj;
        std::memcpy(h.at(at, 16), &t, 16);
        for (size_t i = 0; i < ents.size(); i++) {
            mtia_sg_entry e{ents[i].first, ents[i].second};
            std::memcpy(h.at(at + 16 + i * 16, 16), &e, 16);
        }
    }

    struct Cons {
        uint32_t sq_n = 64, cq_n = 64, sq_tail = 0, cq_head = 0, phase = 1;
    };
    Cons cons[MTIA_NUM_QUEUES];
    mtia_core_config cfg{};
    Host h;
    std::vector<uint8_t> devmem;
    mtia_core *core = nullptr;
    Watchdog dog{60s};
};

}  // namespace qfix

#endif  // MTIA_QUEUE_FIXTURE_H
