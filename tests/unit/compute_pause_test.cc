// SPDX-License-Identifier: MIT
// VM stop with a COMPUTE program running, on the queue engine itself (with a
// fake host): quiesce() parks the program at its next op instead of waiting
// for it (a program may run for minutes) once the host resumes the engine,
// save() refuses while it is parked, resume() lets it finish; a reset ends
// a parked program; a host that never calls resume() gets run-to-completion.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "compute_ref.h"
#include "mtia_core.h"
#include "mtia_queues.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr uint64_t kRam = 1 << 20;  // fake guest RAM at bus address 0
constexpr uint64_t kSq = 0x10000, kCq = 0x20000, kProg = 0x40000;
constexpr uint64_t kDevmem = 16 << 20;

class Host final : public mtia::QueueHost {
public:
    std::vector<uint8_t> ram = std::vector<uint8_t>(kRam);
    int dma_read(uint64_t a, void *b, uint64_t n) override {
        if (a > kRam || n > kRam - a) return -1;
        std::memcpy(b, ram.data() + a, n);
        return 0;
    }
    int dma_write(uint64_t a, const void *b, uint64_t n) override {
        if (a > kRam || n > kRam - a) return -1;
        std::memcpy(ram.data() + a, b, n);
        return 0;
    }
    void raise_irq(unsigned) override {}
    void meip_changed() override {}
    void queue_error(unsigned) override {}
    uint64_t device_ns() override { return 1; }
};

class PauseTest : public ::testing::Test {
protected:
    void SetUp() override {
        e.attach_devmem(devmem.data(), devmem.size());
        e.host_write(MTIA_REG_Q(0, MTIA_Q_SQ_BASE_LO), kSq);
        e.host_write(MTIA_REG_Q(0, MTIA_Q_CQ_BASE_LO), kCq);
        e.host_write(MTIA_REG_Q(0, MTIA_Q_SIZE), 4 | 4 << 8);
        e.host_write(MTIA_REG_Q(0, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE);
        // 60 convs of 2 x 64 x 56 x 56 (231 M MACs each): seconds.
        const auto x = cref::tensor(0, {2, 64, 56, 56}), w = cref::tensor(4 << 20, {64, 64, 3, 3});
        const auto y = cref::tensor(5 << 20, {2, 64, 56, 56});
        const mtia_op conv = cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
        for (int i = 0; i < 60; i++) std::memcpy(&h.ram[kProg + i * 256], &conv, 256);
    }
    // Submits a COMPUTE of @ops ops and has "firmware" dispatch it.
    void submit(uint32_t ops) {
        mtia_cmd c{};
        c.opcode = MTIA_CMD_COMPUTE;
        c.cid = static_cast<uint16_t>(tail);
        c.len = ops * 256ull;
        c.value = 8 << 20;
        c.src.addr = kProg;
        c.dst.addr = MTIA_ADDR_DEVMEM;
        std::memcpy(&h.ram[kSq + tail * 64], &c, 64);
        e.host_write(MTIA_REG_DB(0, MTIA_DB_SQ_TAIL), ++tail);
        ASSERT_TRUE(e.fw_write(MTIA_CC_REG_Q_FETCH, 4, 0));
        ASSERT_TRUE(e.fw_write(MTIA_CC_REG_Q_DISPATCH, 4, 0));
    }
    // The CQE in slot @i, if its phase bit is set.
    bool cqe(unsigned i, mtia_cqe *out) {
        std::memcpy(out, &h.ram[kCq + i * 16], 16);
        return out->status & 1;
    }

    Host h;
    std::vector<uint8_t> devmem = std::vector<uint8_t>(kDevmem);
    mtia::QueueEngine e{h, MTIA_DEFAULT_MSIX_VECTORS};
    uint32_t tail = 0;
    mtia_core_snapshot snap{};
};

TEST_F(PauseTest, StopParksTheProgramAndResumeFinishesIt) {
    e.resume();  // the VM runs: the host resumes the engine
    submit(60);
    std::this_thread::sleep_for(30ms);
    auto t0 = Clock::now();
    e.quiesce();  // VM stop
    EXPECT_LT(Clock::now() - t0, 1s);
    mtia_cqe c;
    EXPECT_FALSE(cqe(0, &c));
    EXPECT_EQ(e.save(&snap), -1);  // outstanding work: migration refused
    std::this_thread::sleep_for(100ms);
    EXPECT_FALSE(cqe(0, &c));  // still parked: nothing written while stopped
    e.resume();
    const auto until = Clock::now() + 120s;
    while (!cqe(0, &c) && Clock::now() < until) std::this_thread::sleep_for(5ms);
    ASSERT_TRUE(cqe(0, &c));
    EXPECT_EQ(c.status >> 1, MTIA_CQE_OK);
    EXPECT_GT(c.result, 0u);
    EXPECT_EQ(e.save(&snap), 0);
}

TEST_F(PauseTest, ResetEndsAParkedProgram) {
    e.resume();
    submit(60);
    std::this_thread::sleep_for(30ms);
    e.quiesce();
    auto t0 = Clock::now();
    e.reset();
    EXPECT_LT(Clock::now() - t0, 1s);
    mtia_cqe c;
    EXPECT_FALSE(cqe(0, &c));  // reset writes no completion
}

TEST_F(PauseTest, WithoutResumeStopRunsToCompletion) {
    submit(2);
    e.quiesce();
    mtia_cqe c;
    ASSERT_TRUE(cqe(0, &c));
    EXPECT_EQ(c.status >> 1, MTIA_CQE_OK);
}

}  // namespace
