// SPDX-License-Identifier: MIT
// The device core's trace hook (mtia_core_set_trace(), docs/debugging.md)
// through the C API: a command's doorbell, fetch, dispatch and CQE are
// reported in that order, and every kind of command error (refused by
// firmware, failed in the engine, a ring the device cannot read) is
// reported with who found it. The firmware side is driven through the
// core's test hook (mtia_core_fw_read/write), as device_queue_test.cc does.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "mtia/mtia_spec.h"
#include "mtia_core.h"
#include "test_watchdog.h"

namespace {

using namespace std::chrono_literals;

constexpr uint64_t kRamBase = 0x100000;
constexpr uint64_t kRamSize = 4ull << 20;
constexpr uint64_t kDevmem = 4ull << 20;
constexpr uint64_t kSq = kRamBase;
constexpr uint64_t kCq = kRamBase + 0x10000;
constexpr uint64_t kData = kRamBase + (1ull << 20);
constexpr uint64_t kUnmapped = 0x40000000;

struct Host {
    std::vector<uint8_t> ram = std::vector<uint8_t>(kRamSize);
    std::mutex mu;
    std::vector<mtia_core_trace_event> events;

    uint8_t *at(uint64_t addr, uint64_t len)
    {
        if (addr < kRamBase || len > kRamSize || addr - kRamBase > kRamSize - len) return nullptr;
        return ram.data() + (addr - kRamBase);
    }
    std::vector<mtia_core_trace_event> snapshot()
    {
        std::lock_guard<std::mutex> l(mu);
        return events;
    }
};

void record(void *h, const mtia_core_trace_event *ev)
{
    auto *host = static_cast<Host *>(h);
    std::lock_guard<std::mutex> l(host->mu);
    host->events.push_back(*ev);
}

mtia_core_host_ops ops()
{
    mtia_core_host_ops o{};
    o.dma_read = [](void *h, uint64_t addr, void *buf, uint64_t len) -> int {
        uint8_t *p = static_cast<Host *>(h)->at(addr, len);
        if (!p) return -1;
        std::memcpy(buf, p, len);
        return 0;
    };
    o.dma_write = [](void *h, uint64_t addr, const void *buf, uint64_t len) -> int {
        uint8_t *p = static_cast<Host *>(h)->at(addr, len);
        if (!p) return -1;
        std::memcpy(p, buf, len);
        return 0;
    };
    return o;
}

mtia_cmd cmd(uint8_t op, uint16_t cid, uint64_t len, uint64_t src, uint64_t dst)
{
    mtia_cmd c{};
    c.opcode = op;
    c.cid = cid;
    c.len = len;
    c.src.addr = src;
    c.dst.addr = dst;
    return c;
}

class TraceTest : public ::testing::Test {
protected:
    void SetUp() override { make(true); }
    void TearDown() override { mtia_core_free(core); }
    void make(bool with_trace)
    {
        if (core) mtia_core_free(core);
        mtia_core_config_default(&cfg);
        cfg.devmem_bytes = kDevmem;
        hops = ops();
        core = mtia_core_new(&cfg, &hops, &h);
        ASSERT_NE(core, nullptr);
        if (with_trace) mtia_core_set_trace(core, record, &h);
        devmem.assign(kDevmem, 0);
        mtia_core_attach_devmem(core, devmem.data(), devmem.size());
    }
    void wr(uint64_t off, uint32_t v) { mtia_core_mmio_write(core, off, v, 4); }
    uint32_t fr(uint32_t off)
    {
        uint32_t v = 0;
        EXPECT_EQ(mtia_core_fw_read(core, off, 4, &v), 0);
        return v;
    }
    int fw(uint32_t off, uint32_t v) { return mtia_core_fw_write(core, off, 4, v); }
    // Queue 0: 64-entry SQ and CQ at @sq / kCq.
    void setup(uint64_t sq = kSq)
    {
        wr(MTIA_REG_Q(0, MTIA_Q_SQ_BASE_LO), static_cast<uint32_t>(sq));
        wr(MTIA_REG_Q(0, MTIA_Q_SQ_BASE_HI), 0);
        wr(MTIA_REG_Q(0, MTIA_Q_CQ_BASE_LO), static_cast<uint32_t>(kCq));
        wr(MTIA_REG_Q(0, MTIA_Q_CQ_BASE_HI), 0);
        wr(MTIA_REG_Q(0, MTIA_Q_SIZE), 6 | 6 << 8);
        wr(MTIA_REG_Q(0, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE | 1 << MTIA_Q_CTRL_VEC_SHIFT);
        tail = 0;
    }
    void submit(const mtia_cmd &c)
    {
        std::memcpy(h.at(kSq + tail * 64ull, 64), &c, 64);
        tail++;
        wr(MTIA_REG_DB(0, MTIA_DB_SQ_TAIL), tail);
    }
    // Events of @kind (and cid, if given) so far.
    std::vector<mtia_core_trace_event> of(uint32_t kind, int cid = -1)
    {
        std::vector<mtia_core_trace_event> out;
        for (const auto &e : h.snapshot())
            if (e.kind == kind && (cid < 0 || e.cid == static_cast<uint32_t>(cid))) out.push_back(e);
        return out;
    }
    // Index of the first event of @kind for @cid in the log, -1 if none.
    int index(uint32_t kind, uint32_t cid)
    {
        auto ev = h.snapshot();
        for (size_t i = 0; i < ev.size(); i++)
            if (ev[i].kind == kind && ev[i].cid == cid) return static_cast<int>(i);
        return -1;
    }
    bool wait_cqe(uint32_t cid)
    {
        return wait_until([&] { return !of(MTIA_CORE_TRACE_CQE, cid).empty(); }, 60000ms);
    }

    mtia_core_config cfg{};
    mtia_core_host_ops hops{};
    Host h;
    std::vector<uint8_t> devmem;
    mtia_core *core = nullptr;
    uint32_t tail = 0;
    Watchdog dog{60s};
};

TEST_F(TraceTest, CopyReportsDoorbellFetchDispatchCqeInOrder)
{
    setup();
    std::memset(h.at(kData, 4096), 0x5a, 4096);
    submit(cmd(MTIA_CMD_COPY, 7, 4096, kData, MTIA_ADDR_DEVMEM | 0x1000));

    auto db = of(MTIA_CORE_TRACE_DOORBELL_SQ);
    ASSERT_EQ(db.size(), 1u);
    EXPECT_EQ(db[0].queue, 0u);
    EXPECT_EQ(db[0].value, 1u);

    ASSERT_EQ(fw(MTIA_CC_REG_Q_FETCH, 0), 0);
    ASSERT_EQ(fr(MTIA_CC_REG_Q_FETCH_STATUS), MTIA_CQE_OK);
    auto fe = of(MTIA_CORE_TRACE_FETCH, 7);
    ASSERT_EQ(fe.size(), 1u);
    EXPECT_EQ(fe[0].opcode, MTIA_CMD_COPY);
    EXPECT_EQ(fe[0].slot, 0u);
    EXPECT_EQ(fe[0].value, 1u);  // SQ head after the fetch

    ASSERT_EQ(fw(MTIA_CC_REG_Q_DISPATCH, 0), 0);
    auto di = of(MTIA_CORE_TRACE_DISPATCH, 7);
    ASSERT_EQ(di.size(), 1u);
    EXPECT_EQ(di[0].opcode, MTIA_CMD_COPY);

    ASSERT_TRUE(wait_cqe(7));
    auto cq = of(MTIA_CORE_TRACE_CQE, 7);
    ASSERT_EQ(cq.size(), 1u);
    EXPECT_EQ(cq[0].status, MTIA_CQE_OK);
    EXPECT_EQ(cq[0].value, 4096u);  // result: bytes copied
    EXPECT_EQ(cq[0].slot, 0u);
    EXPECT_EQ(devmem[0x1000], 0x5a);

    EXPECT_LT(index(MTIA_CORE_TRACE_FETCH, 7), index(MTIA_CORE_TRACE_DISPATCH, 7));
    EXPECT_LT(index(MTIA_CORE_TRACE_DISPATCH, 7), index(MTIA_CORE_TRACE_CQE, 7));
    EXPECT_TRUE(of(MTIA_CORE_TRACE_CMD_ERROR).empty());

    wr(MTIA_REG_DB(0, MTIA_DB_CQ_HEAD), 1);
    auto cdb = of(MTIA_CORE_TRACE_DOORBELL_CQ);
    ASSERT_EQ(cdb.size(), 1u);
    EXPECT_EQ(cdb[0].value, 1u);
}

TEST_F(TraceTest, FirmwareRefusedCommandIsAnError)
{
    setup();
    submit(cmd(0x7f, 9, 0, 0, 0));
    ASSERT_EQ(fw(MTIA_CC_REG_Q_FETCH, 0), 0);
    ASSERT_EQ(fw(MTIA_CC_REG_Q_COMPLETE, 0 | MTIA_CQE_BAD_OPCODE << 16), 0);
    ASSERT_TRUE(wait_cqe(9));
    auto err = of(MTIA_CORE_TRACE_CMD_ERROR, 9);
    ASSERT_EQ(err.size(), 1u);
    EXPECT_EQ(err[0].opcode, 0x7fu);
    EXPECT_EQ(err[0].status, MTIA_CQE_BAD_OPCODE);
    EXPECT_EQ(err[0].source, MTIA_CORE_TRACE_BY_FIRMWARE);
    EXPECT_EQ(of(MTIA_CORE_TRACE_CQE, 9)[0].status, MTIA_CQE_BAD_OPCODE);
    EXPECT_LT(index(MTIA_CORE_TRACE_CMD_ERROR, 9), index(MTIA_CORE_TRACE_CQE, 9));
    EXPECT_TRUE(of(MTIA_CORE_TRACE_DISPATCH).empty());
}

TEST_F(TraceTest, EngineErrorsAreReported)
{
    setup();
    // A bad opcode handed to the engine anyway, then a COPY from unmapped
    // host memory.
    submit(cmd(0x7e, 1, 0, 0, 0));
    submit(cmd(MTIA_CMD_COPY, 2, 4096, kUnmapped, MTIA_ADDR_DEVMEM));
    for (int i = 0; i < 2; i++) {
        ASSERT_EQ(fw(MTIA_CC_REG_Q_FETCH, 0), 0);
        ASSERT_EQ(fw(MTIA_CC_REG_Q_DISPATCH, 0), 0);
    }
    ASSERT_TRUE(wait_cqe(2));
    auto e1 = of(MTIA_CORE_TRACE_CMD_ERROR, 1);
    ASSERT_EQ(e1.size(), 1u);
    EXPECT_EQ(e1[0].status, MTIA_CQE_BAD_OPCODE);
    EXPECT_EQ(e1[0].source, MTIA_CORE_TRACE_BY_ENGINE);
    auto e2 = of(MTIA_CORE_TRACE_CMD_ERROR, 2);
    ASSERT_EQ(e2.size(), 1u);
    EXPECT_EQ(e2[0].opcode, MTIA_CMD_COPY);
    EXPECT_EQ(e2[0].status, MTIA_CQE_DMA_ERROR);
    EXPECT_EQ(e2[0].source, MTIA_CORE_TRACE_BY_ENGINE);
    EXPECT_EQ(of(MTIA_CORE_TRACE_CQE, 2)[0].status, MTIA_CQE_DMA_ERROR);
}

TEST_F(TraceTest, UnreadableRingIsAnError)
{
    setup(kUnmapped);
    wr(MTIA_REG_DB(0, MTIA_DB_SQ_TAIL), 3);
    ASSERT_EQ(fw(MTIA_CC_REG_Q_FETCH, 0), 0);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_FETCH_STATUS), MTIA_CQE_DMA_ERROR);
    auto err = of(MTIA_CORE_TRACE_CMD_ERROR);
    ASSERT_EQ(err.size(), 1u);
    EXPECT_EQ(err[0].source, MTIA_CORE_TRACE_BY_RING);
    EXPECT_EQ(err[0].status, MTIA_CQE_DMA_ERROR);
    EXPECT_EQ(err[0].slot, 0u);
    EXPECT_TRUE(of(MTIA_CORE_TRACE_FETCH).empty());
}

TEST_F(TraceTest, NoHookStillRuns)
{
    make(false);
    setup();
    submit(cmd(MTIA_CMD_COPY, 3, 64, kData, MTIA_ADDR_DEVMEM));
    ASSERT_EQ(fw(MTIA_CC_REG_Q_FETCH, 0), 0);
    ASSERT_EQ(fw(MTIA_CC_REG_Q_DISPATCH, 0), 0);
    mtia_cqe e{};
    ASSERT_TRUE(wait_until(
        [&] {
            std::memcpy(&e, h.at(kCq, 16), 16);
            return (e.status & 1) == 1;
        },
        10000ms));
    EXPECT_EQ(e.cid, 3u);
    EXPECT_EQ(e.status >> 1, MTIA_CQE_OK);
    EXPECT_TRUE(h.snapshot().empty());
}

TEST(TraceNames, OpcodesStatusesSources)
{
    EXPECT_STREQ(mtia_core_opcode_name(MTIA_CMD_COPY), "COPY");
    EXPECT_STREQ(mtia_core_opcode_name(MTIA_CMD_COMPUTE), "COMPUTE");
    EXPECT_STREQ(mtia_core_opcode_name(0xee), "?");
    EXPECT_STREQ(mtia_cqe_status_name(MTIA_CQE_OK), "OK");
    EXPECT_STREQ(mtia_cqe_status_name(MTIA_CQE_DMA_ERROR), "DMA_ERROR");
    EXPECT_STREQ(mtia_cqe_status_name(0x7777), "?");
    EXPECT_STREQ(mtia_core_trace_source_name(MTIA_CORE_TRACE_BY_ENGINE), "engine");
    EXPECT_STREQ(mtia_core_trace_source_name(0), "?");
}

}  // namespace
