// SPDX-License-Identifier: MIT
// The device core's hardware queues and data engine (docs/queues.md),
// without QEMU: a fake host memory map behind the dma_read/dma_write host
// ops, the firmware's dispatch registers driven through the core's test hook
// (mtia_core_fw_read/write), and, when built, the real firmware.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cmd_corpus.h"
#include "compute_ref.h"
#include "long_program.h"
#include "mtia/mtia_spec.h"
#include "mtia_compute.h"
#include "mtia_core.h"
#include "queue_fixture.h"
#include "test_watchdog.h"

namespace {

using namespace qfix;

TEST_F(QueueTest, DefaultVectorsAndRegisterReset)
{
    EXPECT_EQ(rd(MTIA_REG_MSIX_VECTORS), 9u);
    EXPECT_EQ(MTIA_DEFAULT_MSIX_VECTORS, 1 + MTIA_NUM_QUEUES);
    for (unsigned q = 0; q < MTIA_NUM_QUEUES; q++) {
        for (uint32_t r = 0; r <= MTIA_Q_CTX; r += 4) EXPECT_EQ(rd(MTIA_REG_Q(q, r)), 0u);
        EXPECT_EQ(rd(MTIA_REG_DB(q, MTIA_DB_SQ_TAIL)), 0u);
        EXPECT_EQ(rd(MTIA_REG_DB(q, MTIA_DB_CQ_HEAD)), 0u);
    }
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);
    EXPECT_EQ(rd(MTIA_REG_Q(0, MTIA_Q_CTX + 4)), 0u);  // gap in the block
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_OFFSET);
    wr(MTIA_REG_ERR_STATUS, ~0u);
    EXPECT_EQ(rd(MTIA_REG_DB(3, 8)), 0u);  // doorbell page, not a doorbell
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_OFFSET);
    EXPECT_EQ(rd(MTIA_REG_ERR_ADDR), static_cast<uint32_t>(MTIA_REG_DB(3, 8)));
}

TEST_F(QueueTest, RingSetupAndEnable)
{
    const unsigned q = 2;
    wr(MTIA_REG_Q(q, MTIA_Q_SQ_BASE_LO), 0x12345);  // not 4 KiB aligned
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_SQ_BASE_LO)), 0u);
    wr(MTIA_REG_ERR_STATUS, ~0u);
    wr(MTIA_REG_Q(q, MTIA_Q_SIZE), 1 | 6 << 8);   // SQ of 2 entries: too small
    wr(MTIA_REG_Q(q, MTIA_Q_SIZE), 6 | 13 << 8);  // CQ too big
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_SIZE)), 0u);
    wr(MTIA_REG_ERR_STATUS, ~0u);
    wr(MTIA_REG_Q(q, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE);  // never sized
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_STATUS)) & MTIA_Q_STATUS_ENABLED, 0u);
    wr(MTIA_REG_ERR_STATUS, ~0u);

    setup(q, 4, 3, 5, 0x00640004);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_SQ_BASE_LO)), kSq0 + q * 0x10000);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_SIZE)), 4u | 3u << 8);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_CTRL)), MTIA_Q_CTRL_ENABLE | 5u << 8);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_COALESCE)), 0x00640004u);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_STATUS)), MTIA_Q_STATUS_ENABLED);
    // Base and size are locked while enabled; priority and vector are not.
    wr(MTIA_REG_Q(q, MTIA_Q_CQ_BASE_LO), 0x200000);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_CQ_BASE_LO)), kCq0 + q * 0x10000);
    wr(MTIA_REG_ERR_STATUS, ~0u);
    wr(MTIA_REG_Q(q, MTIA_Q_SIZE), 5 | 5 << 8);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_SIZE)), 4u | 3u << 8);
    wr(MTIA_REG_ERR_STATUS, ~0u);
    wr(MTIA_REG_Q(q, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE | MTIA_PRIO_HIGH << 4 | 3 << 8 | 0xff000000);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_CTRL)), MTIA_Q_CTRL_ENABLE | MTIA_PRIO_HIGH << 4 | 3u << 8);
    fw(MTIA_CC_REG_Q_SELECT, q);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PRIO), static_cast<uint32_t>(MTIA_PRIO_HIGH));
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_STATUS)), MTIA_Q_STATUS_ENABLED);
    // Read-only registers.
    wr(MTIA_REG_Q(q, MTIA_Q_CQ_TAIL), 1);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE);
    wr(MTIA_REG_ERR_STATUS, ~0u);

    // Work, then disable and re-enable: positions and phase start over.
    for (int i = 0; i < 10; i++) submit(q, cmd(MTIA_CMD_NOP, static_cast<uint16_t>(i)));
    fw_run();
    EXPECT_EQ(reap(q, 7).size(), 7u);  // CQ of 8 holds 7
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_STATUS)) >> 16, 10u);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_SQ_TAIL)), 10u);
    wr(MTIA_REG_Q(q, MTIA_Q_CTRL), 0);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_STATUS)) & MTIA_Q_STATUS_ENABLED, 0u);
    wr(MTIA_REG_Q(q, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_STATUS)), MTIA_Q_STATUS_ENABLED);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_CQ_TAIL)), 0u);
    EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_SQ_TAIL)), 0u);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);
}

TEST_F(QueueTest, DoorbellsAndBadValues)
{
    setup(1, 4, 4);
    wr(MTIA_REG_DB(1, MTIA_DB_SQ_TAIL), 16);  // == size: out of range
    EXPECT_EQ(rd(MTIA_REG_Q(1, MTIA_Q_STATUS)), MTIA_Q_STATUS_ENABLED | MTIA_Q_STATUS_BAD_DB);
    EXPECT_EQ(rd(MTIA_REG_Q(1, MTIA_Q_SQ_TAIL)), 0u);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 0u);
    wr(MTIA_REG_DB(1, MTIA_DB_CQ_HEAD), 0xffffffff);
    EXPECT_EQ(rd(MTIA_REG_Q(1, MTIA_Q_CQ_TAIL)), 0u);
    EXPECT_FALSE(h.errors.empty());
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);  // reported in the queue's STATUS only

    wr(MTIA_REG_DB(1, MTIA_DB_SQ_TAIL), 3);
    EXPECT_EQ(rd(MTIA_REG_Q(1, MTIA_Q_SQ_TAIL)), 3u);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 1u << 1);
    // A disabled queue ignores its doorbells.
    wr(MTIA_REG_DB(5, MTIA_DB_SQ_TAIL), 2);
    EXPECT_EQ(rd(MTIA_REG_Q(5, MTIA_Q_SQ_TAIL)), 0u);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 1u << 1);
    // Bad sizes on doorbells are bad accesses like anywhere else.
    mtia_core_mmio_write(core, MTIA_REG_DB(1, MTIA_DB_SQ_TAIL), 1, 2);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_SIZE);
    EXPECT_EQ(rd(MTIA_REG_Q(1, MTIA_Q_SQ_TAIL)), 3u);
}

TEST_F(QueueTest, FetchDispatchComplete)
{
    setup(3, 4, 4, 2);
    setup(6, 4, 4, 3);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 0u);
    // Nothing to fetch: ABORTED, window unchanged; dispatch without a fetch faults.
    fw(MTIA_CC_REG_Q_FETCH, 3);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_FETCH_STATUS), static_cast<uint32_t>(MTIA_CQE_ABORTED));
    EXPECT_EQ(fw(MTIA_CC_REG_Q_DISPATCH, 3), -1);
    EXPECT_EQ(fw(MTIA_CC_REG_Q_COMPLETE, 3), -1);
    EXPECT_EQ(fw(MTIA_CC_REG_Q_FETCH, 8), -1);
    EXPECT_EQ(fw(MTIA_CC_REG_Q_PENDING, 1), -1);  // read-only

    fill_random(devmem.data() + 0x2000, 256, 1);
    submit(3, cmd(MTIA_CMD_COPY, 0x77, 256, dev(0x2000), host(kData)));
    submit(6, cmd(MTIA_CMD_NOP, 0x99));
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 1u << 3 | 1u << 6);
    fw(MTIA_CC_REG_Q_FETCH, 3);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_FETCH_STATUS), static_cast<uint32_t>(MTIA_CQE_OK));
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 1u << 6);
    EXPECT_EQ(rd(MTIA_REG_Q(3, MTIA_Q_STATUS)) >> 16, 1u);
    EXPECT_EQ(fr(MTIA_CC_REG_SQE), MTIA_CMD_COPY | 0x77u << 16);
    EXPECT_EQ(fr(MTIA_CC_REG_SQE + 8), 256u);
    uint32_t b = 0;
    EXPECT_EQ(mtia_core_fw_read(core, MTIA_CC_REG_SQE + 2, 2, &b), 0);
    EXPECT_EQ(b, 0x77u);
    EXPECT_EQ(fw(MTIA_CC_REG_Q_DISPATCH, 6), -1);  // fetched from 3, not 6
    EXPECT_EQ(fw(MTIA_CC_REG_Q_DISPATCH, 3), 0);
    auto c = reap(3, 1);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].cid, 0x77);
    EXPECT_EQ(c[0].sq_id, 3);
    EXPECT_EQ(c[0].sq_head, 1);
    EXPECT_EQ(st(c[0]), MTIA_CQE_OK);
    EXPECT_EQ(c[0].result, 256u);
    EXPECT_EQ(std::memcmp(h.at(kData, 256), devmem.data() + 0x2000, 256), 0);
    EXPECT_EQ(h.irq_count(2), 1u);
    // The engine drained queue 3: ENGINE_EVENT bit 3, RW1C.
    EXPECT_EQ(fr(MTIA_CC_REG_ENGINE_EVENT), 1u << 3);
    fw(MTIA_CC_REG_ENGINE_EVENT, 1u << 3);
    EXPECT_EQ(fr(MTIA_CC_REG_ENGINE_EVENT), 0u);

    // Firmware completes the NOP itself with a status of its choosing.
    fw(MTIA_CC_REG_Q_FETCH, 6);
    EXPECT_EQ(fw(MTIA_CC_REG_Q_COMPLETE, 6 | MTIA_CQE_BAD_FIELD << 16), 0);
    c = reap(6, 1);
    ASSERT_EQ(c.size(), 1u);
    EXPECT_EQ(c[0].cid, 0x99);
    EXPECT_EQ(st(c[0]), MTIA_CQE_BAD_FIELD);
    EXPECT_EQ(c[0].result, 0u);
    EXPECT_EQ(h.irq_count(3), 1u);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 0u);

    mtia_core_queue_stats s{};
    mtia_core_get_queue_stats(core, 3, &s);
    EXPECT_EQ(s.commands, 1u);
    EXPECT_EQ(s.bytes, 256u);
    EXPECT_EQ(s.completions, 1u);
    EXPECT_EQ(s.inflight, 0u);
}

TEST_F(QueueTest, CopyAllDirections)
{
    setup(0);
    const uint64_t n = (3ull << 20) + 123;  // crosses 1 MiB engine chunks
    fill_random(h.at(kData, n), n, 7);
    // host -> devmem -> devmem -> host -> host
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 1, n, host(kData), dev(0x100000)))), MTIA_CQE_OK);
    EXPECT_EQ(std::memcmp(devmem.data() + 0x100000, h.at(kData, n), n), 0);
    auto e = run1(0, cmd(MTIA_CMD_COPY, 2, n, dev(0x100000), dev(0x800000 + 5)));
    EXPECT_EQ(st(e), MTIA_CQE_OK);
    EXPECT_EQ(e.result, n);
    EXPECT_EQ(std::memcmp(devmem.data() + 0x800005, h.at(kData, n), n), 0);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 3, n, dev(0x800000, 5), host(kData + (8 << 20))))), MTIA_CQE_OK);
    EXPECT_EQ(std::memcmp(h.at(kData + (8 << 20), n), h.at(kData, n), n), 0);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 4, n, host(kData + (8 << 20)), host(kData, 16 << 20)))), MTIA_CQE_OK);
    EXPECT_EQ(std::memcmp(h.at(kData + (16 << 20), n), h.at(kData, n), n), 0);
    // Zero length: a bad field (mtia_cmd_rules.h), refused before any address.
    e = run1(0, cmd(MTIA_CMD_COPY, 5, 0, host(kUnmapped), dev(kDevmem + 100)));
    EXPECT_EQ(st(e), MTIA_CQE_BAD_FIELD);
    EXPECT_EQ(e.result, 0u);
    EXPECT_EQ(mtia_core_set_vm_running(core, 0), 1);  // the engine wrote devmem
    EXPECT_EQ(mtia_core_set_vm_running(core, 1), 0);
}

TEST_F(QueueTest, SgtOperands)
{
    setup(0);
    // Source: 5 odd-sized pieces scattered in host memory.
    std::vector<std::pair<uint64_t, uint64_t>> src = {{kData + 0x10000, 1000},
                                                      {kData + 0x30003, 4096},
                                                      {kData + 0x20000, 1},
                                                      {kData + 0x50000, 70000},
                                                      {kData + 0x90000, 333}};
    uint64_t total = 0;
    std::vector<uint8_t> flat;
    for (auto &p : src) {
        fill_random(h.at(p.first, p.second), p.second, static_cast<unsigned>(p.first));
        flat.insert(flat.end(), h.at(p.first, p.second), h.at(p.first, p.second) + p.second);
        total += p.second;
    }
    const uint64_t t1 = kData + 0x200000, t2 = kData + 0x210000;
    write_sgt(t1, src);
    // Whole buffer to devmem.
    auto e = run1(0, cmd(MTIA_CMD_COPY, 1, total, sgt(t1), dev(0x40000)));
    EXPECT_EQ(st(e), MTIA_CQE_OK);
    EXPECT_EQ(std::memcmp(devmem.data() + 0x40000, flat.data(), total), 0);
    // A window starting inside entry 0 and ending inside entry 3.
    const uint64_t off = 999, len = 1 + 4096 + 1 + 5000;
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 2, len, sgt(t1, off), dev(0x80000)))), MTIA_CQE_OK);
    EXPECT_EQ(std::memcmp(devmem.data() + 0x80000, flat.data() + off, len), 0);
    // SGT -> SGT (host -> host) with different piece boundaries.
    std::vector<std::pair<uint64_t, uint64_t>> dst = {
        {kData + 0x300000, 7}, {kData + 0x310000, 50000}, {kData + 0x340000, total - 50007}};
    write_sgt(t2, dst);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 3, total, sgt(t1), sgt(t2)))), MTIA_CQE_OK);
    std::vector<uint8_t> got;
    for (auto &p : dst) got.insert(got.end(), h.at(p.first, p.second), h.at(p.first, p.second) + p.second);
    EXPECT_EQ(got, flat);
    // devmem -> SGT with an offset.
    fill_random(devmem.data() + 0xc0000, 60000, 3);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 4, 60000, dev(0xc0000), sgt(t2, 5)))), MTIA_CQE_OK);
    got.clear();
    for (auto &p : dst) got.insert(got.end(), h.at(p.first, p.second), h.at(p.first, p.second) + p.second);
    EXPECT_EQ(std::memcmp(got.data() + 5, devmem.data() + 0xc0000, 60000), 0);
}

TEST_F(QueueTest, FillByteAnd64)
{
    setup(0);
    std::memset(devmem.data() + 0x1000, 0xee, 0x3000);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_FILL, 1, 0x1001, {}, dev(0x1800), 0x1234ab))), MTIA_CQE_OK);
    EXPECT_EQ(devmem[0x17ff], 0xee);
    for (uint64_t i = 0x1800; i < 0x2801; i++) ASSERT_EQ(devmem[i], 0xab) << i;
    EXPECT_EQ(devmem[0x2801], 0xee);
    const uint64_t pat = 0x0102030405060708ull;
    const uint64_t n = (2ull << 20) + 64;
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_FILL, 2, n, {}, host(kData), pat, MTIA_CMD_F_FILL64))), MTIA_CQE_OK);
    for (uint64_t i = 0; i < n; i += 8) ASSERT_EQ(std::memcmp(h.at(kData + i, 8), &pat, 8), 0) << i;
    // Through an SGT whose pieces are not multiples of 8: the pattern follows
    // the buffer offset, not the piece.
    write_sgt(kData + 0x400000, {{kData + 0x410000, 3}, {kData + 0x420000, 13}, {kData + 0x430000, 40}});
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_FILL, 3, 48, {}, sgt(kData + 0x400000, 8), pat, MTIA_CMD_F_FILL64))),
              MTIA_CQE_OK);
    std::vector<uint8_t> got;
    for (auto p : {std::pair<uint64_t, int>{kData + 0x410000, 3}, {kData + 0x420000, 13}, {kData + 0x430000, 40}})
        got.insert(got.end(), h.at(p.first, p.second), h.at(p.first, p.second) + p.second);
    for (size_t i = 8; i < 56; i++) ASSERT_EQ(got[i], reinterpret_cast<const uint8_t *>(&pat)[i % 8]) << i;
    // FILL64 needs len % 8 == 0; unknown flags are bad fields.
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_FILL, 4, 12, {}, dev(0), pat, MTIA_CMD_F_FILL64))), MTIA_CQE_BAD_FIELD);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_FILL, 5, 8, {}, dev(0), pat, 0x80))), MTIA_CQE_BAD_FIELD);
}

TEST_F(QueueTest, TimestampMonotonic)
{
    setup(0);
    auto a = run1(0, cmd(MTIA_CMD_TIMESTAMP, 1, 8, {}, dev(0x5000)));
    std::this_thread::sleep_for(2ms);
    auto b = run1(0, cmd(MTIA_CMD_TIMESTAMP, 2, 8, {}, host(kData)));
    EXPECT_EQ(st(a), MTIA_CQE_OK);
    EXPECT_EQ(st(b), MTIA_CQE_OK);
    uint64_t ta, tb;
    std::memcpy(&ta, devmem.data() + 0x5000, 8);
    std::memcpy(&tb, h.at(kData, 8), 8);
    EXPECT_EQ(ta, a.result);
    EXPECT_EQ(tb, b.result);
    EXPECT_GE(tb - ta, 2'000'000u);
    EXPECT_LT(tb - ta, 5'000'000'000u);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_TIMESTAMP, 3, 4, {}, dev(0)))), MTIA_CQE_BAD_FIELD);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_TIMESTAMP, 5, 0, {}, dev(0)))), MTIA_CQE_BAD_FIELD);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_TIMESTAMP, 4, 8, {}, dev(kDevmem - 4)))), MTIA_CQE_BAD_ADDRESS);
}

TEST_F(QueueTest, BadAddressesAndDmaErrors)
{
    setup(0);
    // Device memory bounds, including offsets that would wrap.
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 1, 16, dev(kDevmem - 8), host(kData)))), MTIA_CQE_BAD_ADDRESS);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 2, 16, host(kData), dev(8, ~0ull - 4)))), MTIA_CQE_BAD_ADDRESS);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_FILL, 3, ~0ull, {}, dev(1)))), MTIA_CQE_BAD_ADDRESS);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 4, 16, mtia_operand{MTIA_ADDR_TAG_MASK, 0}, dev(0)))),
              MTIA_CQE_BAD_FIELD);  // no such operand kind: the command's encoding is bad
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 5, 16, host(~0ull >> 2, ~0ull - 10), dev(0)))),
              MTIA_CQE_BAD_ADDRESS);  // flat address + offset overflows
    // Unmapped host memory: DMA_ERROR, result = bytes done before it.
    auto e = run1(0, cmd(MTIA_CMD_COPY, 6, 4096, host(kUnmapped), dev(0)));
    EXPECT_EQ(st(e), MTIA_CQE_DMA_ERROR);
    EXPECT_EQ(e.result, 0u);
    // Runs off the end of RAM after 2 MiB (+ the engine's chunking).
    const uint64_t start = kRamBase + kRamSize - (2ull << 20);
    e = run1(0, cmd(MTIA_CMD_COPY, 7, 3ull << 20, dev(0), host(start)));
    EXPECT_EQ(st(e), MTIA_CQE_DMA_ERROR);
    EXPECT_EQ(e.result, 2ull << 20);
    e = run1(0, cmd(MTIA_CMD_FILL, 8, 64, {}, host(kUnmapped)));
    EXPECT_EQ(st(e), MTIA_CQE_DMA_ERROR);
    // The queue is fine afterwards.
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 9, 64, host(kData), dev(0)))), MTIA_CQE_OK);
    EXPECT_EQ(rd(MTIA_REG_Q(0, MTIA_Q_STATUS)) & MTIA_Q_STATUS_ERROR, 0u);
    // Opcodes and fields the engine refuses (firmware would normally catch them).
    EXPECT_EQ(st(run1(0, cmd(0x42, 10))), MTIA_CQE_BAD_OPCODE);
    mtia_cmd r = cmd(MTIA_CMD_COPY, 11, 8, host(kData), dev(0));
    r.reserved = 1;
    EXPECT_EQ(st(run1(0, r)), MTIA_CQE_BAD_FIELD);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 12, 8, host(kData), dev(0), 0, 1))), MTIA_CQE_BAD_FIELD);
}

TEST_F(QueueTest, MalformedSgt)
{
    setup(0);
    const uint64_t t = kData + 0x100000;
    std::vector<std::pair<uint64_t, uint64_t>> ok = {{kData, 100}, {kData + 0x1000, 100}};
    auto copy = [&](uint16_t cid, uint64_t len, uint64_t off = 0) {
        return st(run1(0, cmd(MTIA_CMD_COPY, cid, len, sgt(t, off), dev(0))));
    };
    write_sgt(t, ok, 0x1234);
    EXPECT_EQ(copy(1, 10), MTIA_CQE_BAD_ADDRESS);  // magic
    write_sgt(t, ok, MTIA_SGT_MAGIC, 1);
    EXPECT_EQ(copy(2, 10), MTIA_CQE_BAD_ADDRESS);  // total != sum
    write_sgt(t, {{kData, 100}, {kData + 0x1000, 0}});
    EXPECT_EQ(copy(3, 10), MTIA_CQE_BAD_ADDRESS);  // empty entry
    write_sgt(t, {});
    EXPECT_EQ(copy(4, 10), MTIA_CQE_BAD_ADDRESS);  // count 0
    mtia_sgt big{MTIA_SGT_MAGIC, MTIA_SGT_MAX_ENTRIES + 1, 0};
    std::memcpy(h.at(t, 16), &big, 16);
    EXPECT_EQ(copy(5, 10), MTIA_CQE_BAD_ADDRESS);  // too many entries
    write_sgt(t, {{~0ull - 10, 100}});
    EXPECT_EQ(copy(6, 10), MTIA_CQE_BAD_ADDRESS);  // entry wraps
    write_sgt(t, ok);
    EXPECT_EQ(copy(7, 101, 100), MTIA_CQE_BAD_ADDRESS);  // past total
    EXPECT_EQ(copy(8, 1, ~0ull), MTIA_CQE_BAD_ADDRESS);
    EXPECT_EQ(copy(9, 100, 100), MTIA_CQE_OK);
    // The table itself unreachable: DMA_ERROR; a piece unreachable: DMA_ERROR.
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 10, 8, sgt(kUnmapped), dev(0)))), MTIA_CQE_DMA_ERROR);
    write_sgt(t, {{kData, 100}, {kUnmapped, 100}});
    EXPECT_EQ(copy(11, 200), MTIA_CQE_DMA_ERROR);
}

TEST_F(QueueTest, CqWrapAndPhaseFlip)
{
    setup(4, 3, 2);  // SQ 8, CQ 4 (3 usable)
    std::vector<uint16_t> cids;
    for (uint16_t i = 0; i < 20; i++) {
        submit(4, cmd(i % 2 ? MTIA_CMD_NOP : MTIA_CMD_FILL, i, 8, {}, dev(0x100 * i), i));
        fw_run();
        auto v = reap(4, 1);
        ASSERT_EQ(v.size(), 1u);
        EXPECT_EQ(v[0].sq_head, (i + 1) % 8);
        cids.push_back(v[0].cid);
    }
    for (uint16_t i = 0; i < 20; i++) EXPECT_EQ(cids[i], i);
    EXPECT_EQ(rd(MTIA_REG_Q(4, MTIA_Q_CQ_TAIL)), 0u);  // 20 % 4
    EXPECT_EQ(cons[4].phase, 0u);                      // wrapped 5 times
}

TEST_F(QueueTest, CqFullHoldsCompletions)
{
    setup(5, 4, 2);  // CQ of 4: room for 3
    for (uint16_t i = 0; i < 9; i++) submit(5, cmd(i % 3 ? MTIA_CMD_NOP : MTIA_CMD_TIMESTAMP, i, 8, {}, dev(0x40 * i)));
    fw_run();
    auto first = reap(5, 3, false);
    ASSERT_EQ(first.size(), 3u);
    mtia_core_queue_stats s{};
    auto stats = [&] {
        mtia_core_get_queue_stats(core, 5, &s);
        return s;
    };
    EXPECT_TRUE(wait_until([&] { return stats().held == 6; }, 60s)) << s.held;
    EXPECT_EQ(s.completions, 3u);
    // Nothing overwritten: the slot after the three is still the old phase.
    EXPECT_EQ(reap(5, 1, false, 50ms).size(), 0u);
    // Consuming releases the held ones, in order.
    std::vector<mtia_cqe> all = first;
    wr(MTIA_REG_DB(5, MTIA_DB_CQ_HEAD), cons[5].cq_head);
    while (all.size() < 9) {
        auto more = reap(5, 1);
        ASSERT_EQ(more.size(), 1u);
        all.push_back(more[0]);
    }
    for (uint16_t i = 0; i < 9; i++) {
        EXPECT_EQ(all[i].cid, i);
        EXPECT_EQ(st(all[i]), MTIA_CQE_OK);
    }
    mtia_core_get_queue_stats(core, 5, &s);
    EXPECT_EQ(s.held, 0u);
    EXPECT_EQ(s.completions, 9u);
}

TEST_F(QueueTest, CoalescingByCount)
{
    setup(0, 6, 6, 4, 4);  // every 4th completion
    for (uint16_t i = 0; i < 8; i++) submit(0, cmd(MTIA_CMD_NOP, i));
    fw_run();
    EXPECT_EQ(reap(0, 8).size(), 8u);
    EXPECT_EQ(h.irq_count(4), 2u);
    for (uint16_t i = 0; i < 3; i++) submit(0, cmd(MTIA_CMD_NOP, i));
    fw_run();
    EXPECT_EQ(reap(0, 3).size(), 3u);
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(h.irq_count(4), 2u);  // no timer: the count alone decides
    // Count 0 = every completion.
    wr(MTIA_REG_Q(0, MTIA_Q_COALESCE), 0);
    submit(0, cmd(MTIA_CMD_NOP, 50));  // the 12th: completes the group of 4
    fw_run();
    reap(0, 1);
    EXPECT_EQ(h.irq_count(4), 3u);
    for (uint16_t i = 0; i < 3; i++) submit(0, cmd(MTIA_CMD_NOP, i));
    fw_run();
    reap(0, 3);
    EXPECT_EQ(h.irq_count(4), 6u);
}

TEST_F(QueueTest, CoalescingByTimer)
{
    setup(2, 6, 6, 7, 16u | 3000u << 16);  // 16 completions or 3 ms
    const auto t0 = Clock::now();
    for (uint16_t i = 0; i < 3; i++) submit(2, cmd(MTIA_CMD_FILL, i, 64, {}, dev(0x1000 * i), i));
    fw_run();
    EXPECT_EQ(reap(2, 3).size(), 3u);
    std::unique_lock<std::mutex> l(h.mu);
    ASSERT_TRUE(h.cv.wait_for(l, 2s, [&] { return !h.irqs.empty(); }));
    const auto dt = Clock::now() - t0;
    EXPECT_EQ(h.irqs, std::vector<unsigned>{7});
    EXPECT_GE(dt, 2900us);
}

TEST_F(QueueTest, VectorOutOfRangeUsesVectorZero)
{
    make(4);
    setup(0, 6, 6, 6);  // vector 6 of 4
    run1(0, cmd(MTIA_CMD_NOP, 1));
    EXPECT_EQ(h.irq_count(0), 1u);
    EXPECT_EQ(h.irq_count(6), 0u);
}

TEST_F(QueueTest, PerQueueOrderUnderConcurrency)
{
    const unsigned nq = 4, per = 40;
    for (unsigned q = 0; q < nq; q++) setup(q, 7, 7, q + 1);
    for (unsigned q = 0; q < nq; q++) fill_random(devmem.data() + (q << 22), 1 << 20, q);
    for (unsigned i = 0; i < per; i++) {
        for (unsigned q = 0; q < nq; q++) {
            const uint16_t cid = static_cast<uint16_t>(i);
            const uint64_t len = (i * 7919 + q * 104729) % (768 << 10) + 1;
            switch ((i + q) % 4) {
                case 0:
                    submit(q, cmd(MTIA_CMD_COPY, cid, len, dev(q << 22), host(kData + (q << 22))), false);
                    break;
                case 1:
                    submit(q, cmd(MTIA_CMD_NOP, cid), false);
                    break;
                case 2:
                    submit(q, cmd(MTIA_CMD_FILL, cid, len, {}, dev((q << 22) + (2 << 20)), i), false);
                    break;
                default:
                    submit(q, cmd(MTIA_CMD_FENCE, cid), false);
                    break;
            }
        }
    }
    for (unsigned q = 0; q < nq; q++) wr(MTIA_REG_DB(q, MTIA_DB_SQ_TAIL), cons[q].sq_tail);
    fw_run();
    for (unsigned q = 0; q < nq; q++) {
        auto v = reap(q, per);
        ASSERT_EQ(v.size(), per) << q;
        for (unsigned i = 0; i < per; i++) {
            EXPECT_EQ(v[i].cid, i) << "queue " << q;
            EXPECT_EQ(st(v[i]), MTIA_CQE_OK);
            EXPECT_EQ(v[i].sq_id, q);
        }
        EXPECT_EQ(std::memcmp(h.at(kData + (q << 22), 1000), devmem.data() + (q << 22), 1000), 0);
    }
}

TEST_F(QueueTest, DisableAbortsInFlightWork)
{
    setup(1, 6, 6, 2);
    // Every DMA takes 10 ms: a host->host copy of 8 MiB takes 160+ ms.
    h.dma_delay_us = 10000;
    const uint64_t reads = h.dma_reads;
    for (uint16_t i = 0; i < 4; i++)
        submit(1, cmd(MTIA_CMD_COPY, i, 8ull << 20, host(kData), host(kData + (16 << 20))));
    submit(1, cmd(MTIA_CMD_NOP, 10));
    submit(1, cmd(MTIA_CMD_NOP, 11), true);
    // Firmware takes 4 copies and the first NOP (queued behind them), leaves the last NOP unfetched.
    for (int i = 0; i < 4; i++) {
        fw(MTIA_CC_REG_Q_FETCH, 1);
        fw(MTIA_CC_REG_Q_DISPATCH, 1);
    }
    fw(MTIA_CC_REG_Q_FETCH, 1);
    fw(MTIA_CC_REG_Q_COMPLETE, 1);
    fw(MTIA_CC_REG_Q_SELECT, 1);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_INFLIGHT), 5u);
    // The first copy has started (data DMA after the 6 SQE fetches).
    ASSERT_TRUE(wait_until([&] { return h.dma_reads > reads + 6; }, 60s));
    h.dma_delay_us = 0;
    const auto t0 = Clock::now();
    wr(MTIA_REG_Q(1, MTIA_Q_CTRL), 2 << MTIA_Q_CTRL_VEC_SHIFT);  // disable, keep the vector
    EXPECT_LT(Clock::now() - t0, 1s);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_INFLIGHT), 0u);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 0u);
    EXPECT_EQ(fr(MTIA_CC_REG_ENGINE_EVENT) & 2u, 2u);
    // Already written when the CTRL write returned: 4 ABORTED + the NOP, in order.
    auto v = reap(1, 6, false, 100ms);
    ASSERT_EQ(v.size(), 5u);
    for (uint16_t i = 0; i < 4; i++) {
        EXPECT_EQ(v[i].cid, i);
        EXPECT_EQ(st(v[i]), MTIA_CQE_ABORTED);
    }
    EXPECT_EQ(v[4].cid, 10);
    EXPECT_EQ(st(v[4]), MTIA_CQE_OK);
    EXPECT_GE(h.irq_count(2), 1u);
    // Nothing more is written after the disable.
    const uint64_t writes = h.dma_writes;
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(h.dma_writes.load(), writes);
    // Dispatching a command fetched before a disable is silently dropped.
    setup(1);
    submit(1, cmd(MTIA_CMD_NOP, 1));
    fw(MTIA_CC_REG_Q_FETCH, 1);
    wr(MTIA_REG_Q(1, MTIA_Q_CTRL), 0);
    EXPECT_EQ(fw(MTIA_CC_REG_Q_COMPLETE, 1), 0);
    EXPECT_EQ(reap(1, 1, false, 30ms).size(), 0u);
}

TEST_F(QueueTest, ResetAndFreeWithWorkInFlight)
{
    for (unsigned q = 0; q < 3; q++) setup(q);
    h.dma_delay_us = 1000;
    for (unsigned q = 0; q < 3; q++)
        for (uint16_t i = 0; i < 3; i++) submit(q, cmd(MTIA_CMD_COPY, i, 16ull << 20, host(kData), dev(q << 22)));
    const uint64_t fetched = h.dma_reads;
    fw_run();
    // The copies have started (data DMA after the 9 SQE fetches): tens of
    // milliseconds of 1 ms DMAs are left on every queue.
    ASSERT_TRUE(wait_until([&] { return h.dma_reads > fetched + 9; }, 60s));
    const auto t0 = Clock::now();
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    EXPECT_LT(Clock::now() - t0, 10s);  // a DMA or two, not the copies
    const uint64_t writes = h.dma_writes;
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(h.dma_writes.load(), writes);  // no DMA after reset
    for (unsigned q = 0; q < 3; q++) {
        EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_CTRL)), 0u);
        EXPECT_EQ(rd(MTIA_REG_Q(q, MTIA_Q_SQ_BASE_LO)), 0u);
    }
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 0u);
    EXPECT_EQ(fr(MTIA_CC_REG_ENGINE_EVENT), 0u);
    h.dma_delay_us = 0;
    // Usable again.
    setup(0);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_FILL, 1, 16, {}, dev(0), 1))), MTIA_CQE_OK);
    // Free with a long copy running: no hang, no use after free.
    h.dma_delay_us = 1000;
    const uint64_t reads = h.dma_reads;
    submit(0, cmd(MTIA_CMD_COPY, 2, 32ull << 20, host(kData), dev(0)));
    fw_run();
    ASSERT_TRUE(wait_until([&] { return h.dma_reads > reads + 1; }, 60s));  // copying
    mtia_core_free(core);
    core = nullptr;
    h.dma_delay_us = 0;
    make(MTIA_DEFAULT_MSIX_VECTORS);
}

// A reset at any moment of a job's life (fetch, data DMA, completion write,
// interrupt) leaves no DMA behind it: once the RESET write returns, the
// device writes nothing to host memory, so a driver may reuse the rings at
// once. The reset lands at random points of 200 runs of copies and
// timestamps completing on two queues.
TEST_F(QueueTest, NoDmaAfterResetReturnsWhateverItInterrupts)
{
    Watchdog wd(120s);
    std::mt19937 rng(7);
    unsigned interrupted = 0;
    for (int run = 0; run < 200; run++) {
        setup(0);
        setup(1);
        for (uint16_t i = 0; i < 6; i++) {
            submit(0, cmd(MTIA_CMD_TIMESTAMP, i, 8, {}, host(kData + 8 * i)));
            submit(1, cmd(MTIA_CMD_COPY, i, 64 << 10, host(kData + (1 << 20)), host(kData + (4 << 20))));
        }
        fw_run();
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 400));
        wr(MTIA_REG_RESET, MTIA_RESET_KEY);
        const uint64_t writes = h.dma_writes;
        std::vector<uint8_t> cq(h.at(kCq0, 0x20000), h.at(kCq0, 0x20000) + 0x20000);
        unsigned posted = 0;  // CQEs written before the reset (setup zeroed the CQs)
        for (unsigned q = 0; q < 2; q++)
            for (unsigned i = 0; i < 6; i++)
                posted += cq[q * 0x10000 + i * sizeof(mtia_cqe) + offsetof(mtia_cqe, status)] & 1;
        if (posted < 12) interrupted++;
        std::this_thread::sleep_for(1ms);
        ASSERT_EQ(h.dma_writes.load(), writes) << "run " << run;
        ASSERT_EQ(std::memcmp(cq.data(), h.at(kCq0, 0x20000), cq.size()), 0) << "run " << run;
    }
    EXPECT_GT(interrupted, 0u);
}

// A long copy holds no lock that MMIO, the control core or other queues need.
TEST_F(QueueTest, LongCopyDoesNotBlockRegistersOrOtherQueues)
{
    setup(0);
    setup(1);
    // 10 ms per DMA: the 48 MiB host -> devmem copy takes half a second or
    // more on any host. Everything below must complete while it is still in
    // flight: had it waited for the copy, the copy would be over.
    h.dma_delay_us = 10000;
    const uint64_t reads = h.dma_reads;
    submit(0, cmd(MTIA_CMD_COPY, 1, 48ull << 20, host(kData), dev(0)));
    fw_run();
    ASSERT_TRUE(wait_until([&] { return h.dma_reads > reads + 1; }, 60s));  // copying
    mtia_core_queue_stats s{};
    for (int i = 0; i < 50; i++) {
        rd(MTIA_REG_Q(0, MTIA_Q_STATUS));
        wr(MTIA_REG_SCRATCH, i);
        fr(MTIA_CC_REG_Q_PENDING);
        fw(MTIA_CC_REG_Q_SELECT, 0);
        fr(MTIA_CC_REG_Q_INFLIGHT);
    }
    // Another queue completes devmem-only work while the copy runs.
    auto e = run1(1, cmd(MTIA_CMD_FILL, 2, 4096, {}, dev(60ull << 20), 7));
    EXPECT_EQ(st(e), MTIA_CQE_OK);
    mtia_core_get_queue_stats(core, 0, &s);
    EXPECT_EQ(s.inflight, 1u);  // the copy is still going
    h.dma_delay_us = 0;
    auto v = reap(0, 1);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(st(v[0]), MTIA_CQE_OK);
    EXPECT_EQ(v[0].result, 48ull << 20);
}

TEST_F(QueueTest, SnapshotMigratesQueuesAndRefusesHeldWork)
{
    setup(3, 5, 2, 2, 0x00100002);
    for (uint16_t i = 0; i < 5; i++) submit(3, cmd(MTIA_CMD_NOP, i));
    fw_run();
    ASSERT_EQ(reap(3, 3, false).size(), 3u);  // 2 held
    mtia_core_set_vm_running(core, 0);
    std::unique_ptr<mtia_core_snapshot> snap(new mtia_core_snapshot{});
    EXPECT_EQ(mtia_core_save(core, snap.get()), -1);  // completions held
    mtia_core_set_vm_running(core, 1);
    wr(MTIA_REG_DB(3, MTIA_DB_CQ_HEAD), cons[3].cq_head);
    ASSERT_EQ(reap(3, 2).size(), 2u);
    submit(3, cmd(MTIA_CMD_NOP, 9), true);  // pending, not fetched: migrates
    mtia_core_set_vm_running(core, 0);
    ASSERT_EQ(mtia_core_save(core, snap.get()), 0);

    mtia_core *other = mtia_core_new(&cfg, &kOps, &h);
    ASSERT_NE(other, nullptr);
    mtia_core_attach_devmem(other, devmem.data(), devmem.size());
    ASSERT_EQ(mtia_core_load(other, snap.get()), 0);
    mtia_core_free(core);
    core = other;
    EXPECT_EQ(rd(MTIA_REG_Q(3, MTIA_Q_CTRL)), MTIA_Q_CTRL_ENABLE | 2u << 8);
    EXPECT_EQ(rd(MTIA_REG_Q(3, MTIA_Q_COALESCE)), 0x00100002u);
    EXPECT_EQ(rd(MTIA_REG_Q(3, MTIA_Q_SQ_TAIL)), 6u);
    EXPECT_EQ(rd(MTIA_REG_Q(3, MTIA_Q_STATUS)) >> 16, 5u);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 1u << 3);
    fw_run();
    auto v = reap(3, 1);  // continues with the right slot and phase
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(v[0].cid, 9);
    // Impossible queue state is refused.
    snap->q_state[3 * MTIA_CORE_Q_WORDS + MTIA_CORE_QS_SQ_TAIL] = 1000;
    EXPECT_EQ(mtia_core_load(core, snap.get()), -1);
}

TEST_F(QueueTest, RingDmaErrorStopsQueue)
{
    // SQ placed in unmapped memory: the fetch fails, the queue stops.
    wr(MTIA_REG_Q(0, MTIA_Q_SQ_BASE_LO), static_cast<uint32_t>(kUnmapped));
    wr(MTIA_REG_Q(0, MTIA_Q_CQ_BASE_LO), static_cast<uint32_t>(kCq0));
    wr(MTIA_REG_Q(0, MTIA_Q_SIZE), 4 | 4 << 8);
    wr(MTIA_REG_Q(0, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE | 1 << 8);
    wr(MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_ERROR);
    wr(MTIA_REG_DB(0, MTIA_DB_SQ_TAIL), 1);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 1u);
    fw(MTIA_CC_REG_Q_FETCH, 0);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_FETCH_STATUS), static_cast<uint32_t>(MTIA_CQE_DMA_ERROR));
    EXPECT_EQ(rd(MTIA_REG_Q(0, MTIA_Q_STATUS)), MTIA_Q_STATUS_ENABLED | MTIA_Q_STATUS_ERROR);
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 0u);
    EXPECT_EQ(rd(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_ERROR, MTIA_IRQ_ERROR);
    EXPECT_GE(h.irq_count(0), 1u);  // ERROR cause on the admin vector
    EXPECT_GE(h.irq_count(1), 1u);  // and the queue's own vector
    // CQ unreachable: the completion write fails, the queue stops.
    wr(MTIA_REG_Q(0, MTIA_Q_CTRL), 0);
    wr(MTIA_REG_Q(0, MTIA_Q_SQ_BASE_LO), static_cast<uint32_t>(kSq0));
    wr(MTIA_REG_Q(0, MTIA_Q_CQ_BASE_LO), static_cast<uint32_t>(kUnmapped));
    wr(MTIA_REG_Q(0, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE);
    EXPECT_EQ(rd(MTIA_REG_Q(0, MTIA_Q_STATUS)), MTIA_Q_STATUS_ENABLED);
    cons[0] = Cons{};
    cons[0].sq_n = cons[0].cq_n = 16;
    submit(0, cmd(MTIA_CMD_NOP, 1));
    fw_run();
    EXPECT_EQ(rd(MTIA_REG_Q(0, MTIA_Q_STATUS)) & 0xffff, MTIA_Q_STATUS_ENABLED | MTIA_Q_STATUS_ERROR);
}

// ---- with the real firmware's dispatch loop ---------------------------------------

// ---- COMPUTE (docs/compute.md) ---------------------------------------------------

constexpr uint64_t kArenaOff = 0x400000;  // arena in device memory
constexpr uint64_t kArenaBytes = 8ull << 20;

mtia_cmd compute(uint16_t cid, uint64_t prog_len, mtia_operand prog, mtia_operand arena,
                 uint64_t arena_bytes = kArenaBytes)
{
    return cmd(MTIA_CMD_COMPUTE, cid, prog_len, prog, arena, arena_bytes);
}

// A conv + relu feeding a GEMM over an arena at devmem kArenaOff, with its
// reference result; the program is written wherever the test puts it.
struct ConvGemm {
    cref::Arena a{kArenaBytes};
    mtia_tensor_desc x, w, b, c, fw, y;
    std::vector<mtia_op> prog;
    std::vector<float> want;
    ConvGemm()
    {
        std::mt19937 rng(17);
        x = a.alloc({1, 3, 10, 10});
        w = a.alloc({6, 3, 3, 3});
        b = a.alloc({6});
        c = a.alloc({1, 6, 10, 10});
        fw = a.alloc({600, 5});
        y = a.alloc({1, 5});
        a.fill_random(x, rng);
        a.fill_random(w, rng);
        a.fill_random(b, rng);
        a.fill_random(fw, rng);
        prog = {cref::op(MTIA_OP_CONV, {x, w, b}, c, {1, 1, 1, 1, 1, 1, 1, 1, 1}, MTIA_ACT_RELU),
                cref::op(MTIA_OP_GEMM, {cref::tensor(c.offset, {1, 600}), fw}, y, {0, 0, cref::bits(1), 0})};
        const auto bv = a.get(b);
        const auto cv = cref::conv(a.get(x), {1, 3, 10, 10}, a.get(w), {6, 3, 3, 3}, &bv, {1, 6, 10, 10}, prog[0]);
        want = cref::gemm(cv, {1, 600}, a.get(fw), {600, 5}, nullptr, {}, {1, 5}, prog[1]);
    }
    uint64_t bytes() const { return prog.size() * sizeof(mtia_op); }
    std::vector<float> result(const std::vector<uint8_t> &devmem) const
    {
        std::vector<float> r(5);
        std::memcpy(r.data(), devmem.data() + kArenaOff + y.offset, 20);
        return r;
    }
};

void expect_close(const std::vector<float> &got, const std::vector<float> &want)
{
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); i++) EXPECT_NEAR(got[i], want[i], 1e-4 * (1 + std::fabs(want[i]))) << i;
}

TEST_F(QueueTest, ComputeRunsAProgramFromHostOrDeviceMemory)
{
    setup(0);
    ConvGemm p;
    std::memcpy(devmem.data() + kArenaOff, p.a.data(), kArenaBytes);
    std::memcpy(h.at(kData, p.bytes()), p.prog.data(), p.bytes());
    auto e = run1(0, compute(1, p.bytes(), host(kData), dev(kArenaOff)));
    EXPECT_EQ(st(e), MTIA_CQE_OK);
    EXPECT_GT(e.result, 2000u);  // two ops' launch cost at least
    uint64_t model = 0;
    for (auto &o : p.prog) model += mtia_compute_op_ns(nullptr, &o);
    EXPECT_EQ(e.result, model);
    expect_close(p.result(devmem), p.want);
    // Program in device memory (through an offset), arena via dst offset.
    std::memset(devmem.data() + kArenaOff + p.y.offset, 0, 20);
    std::memcpy(devmem.data() + 0x10000, p.prog.data(), p.bytes());
    e = run1(0, compute(2, p.bytes(), dev(0x8000, 0x8000), dev(kArenaOff - 0x100, 0x100)));
    EXPECT_EQ(st(e), MTIA_CQE_OK);
    expect_close(p.result(devmem), p.want);
    // Program in an SG buffer of two pieces.
    std::memset(devmem.data() + kArenaOff + p.y.offset, 0, 20);
    std::memcpy(h.at(kData + 0x10000, 300), p.prog.data(), 300);
    std::memcpy(h.at(kData + 0x20000, p.bytes() - 300), reinterpret_cast<uint8_t *>(p.prog.data()) + 300,
                p.bytes() - 300);
    write_sgt(kData + 0x30000, {{kData + 0x10000, 300}, {kData + 0x20000, p.bytes() - 300}});
    EXPECT_EQ(st(run1(0, compute(3, p.bytes(), sgt(kData + 0x30000), dev(kArenaOff)))), MTIA_CQE_OK);
    expect_close(p.result(devmem), p.want);
    EXPECT_EQ(mtia_core_set_vm_running(core, 0), 1);  // the engine wrote devmem
    EXPECT_EQ(mtia_core_set_vm_running(core, 1), 0);
}

TEST_F(QueueTest, ComputeBadProgramRunsNothingAndNamesTheOp)
{
    setup(0);
    ConvGemm p;
    std::memcpy(devmem.data() + kArenaOff, p.a.data(), kArenaBytes);
    p.prog.push_back(p.prog[1]);
    p.prog[2].out.offset = kArenaBytes - 8;  // 20 bytes: outside the arena
    std::memcpy(h.at(kData, p.bytes()), p.prog.data(), p.bytes());
    auto e = run1(0, compute(1, p.bytes(), host(kData), dev(kArenaOff)));
    EXPECT_EQ(st(e), MTIA_CQE_BAD_PROGRAM);
    EXPECT_EQ(e.result, 2u);
    EXPECT_EQ(p.result(devmem), std::vector<float>(5, 0.0f));  // op 1 did not run
    // The same program with a smaller arena: op 1's out is now outside.
    p.prog.pop_back();
    std::memcpy(h.at(kData, p.bytes()), p.prog.data(), p.bytes());
    e = run1(0, compute(2, p.bytes(), host(kData), dev(kArenaOff), p.y.offset + 16));
    EXPECT_EQ(st(e), MTIA_CQE_BAD_PROGRAM);
    EXPECT_EQ(e.result, 1u);
    // Garbage: op 0.
    fill_random(h.at(kData, 4096), 4096, 3);
    e = run1(0, compute(3, 4096, host(kData), dev(kArenaOff)));
    EXPECT_EQ(st(e), MTIA_CQE_BAD_PROGRAM);
    EXPECT_EQ(e.result, 0u);
    // The queue still works.
    EXPECT_EQ(st(run1(0, compute(4, p.bytes(), host(kData + 0x100000), dev(kArenaOff)))),
              MTIA_CQE_BAD_PROGRAM);  // zeros: opcode 0
}

TEST_F(QueueTest, ComputeBadFieldsAndAddresses)
{
    setup(0);
    ConvGemm p;
    std::memcpy(h.at(kData, p.bytes()), p.prog.data(), p.bytes());
    const uint64_t n = p.bytes();
    // len: 0, not a multiple of 256, over MTIA_MAX_PROGRAM_OPS; flags; arena 0.
    EXPECT_EQ(st(run1(0, compute(1, 0, host(kData), dev(kArenaOff)))), MTIA_CQE_BAD_FIELD);
    EXPECT_EQ(st(run1(0, compute(2, n - 1, host(kData), dev(kArenaOff)))), MTIA_CQE_BAD_FIELD);
    EXPECT_EQ(st(run1(0, compute(3, (MTIA_MAX_PROGRAM_OPS + 1ull) * 256, host(kData), dev(kArenaOff)))),
              MTIA_CQE_BAD_FIELD);
    mtia_cmd c = compute(4, n, host(kData), dev(kArenaOff));
    c.flags = 1;
    EXPECT_EQ(st(run1(0, c)), MTIA_CQE_BAD_FIELD);
    EXPECT_EQ(st(run1(0, compute(5, n, host(kData), dev(kArenaOff), 0))), MTIA_CQE_BAD_FIELD);
    // The arena must be device memory, inside it.
    EXPECT_EQ(st(run1(0, compute(6, n, host(kData), host(kData + 0x100000)))), MTIA_CQE_BAD_ADDRESS);
    EXPECT_EQ(st(run1(0, compute(7, n, host(kData), sgt(kData + 0x100000)))), MTIA_CQE_BAD_ADDRESS);
    EXPECT_EQ(st(run1(0, compute(8, n, host(kData), dev(kDevmem - 0x1000), 0x1001))), MTIA_CQE_BAD_ADDRESS);
    EXPECT_EQ(st(run1(0, compute(9, n, host(kData), dev(0, UINT64_MAX - 8)))), MTIA_CQE_BAD_ADDRESS);
    // The program must translate: outside devmem, unmapped host memory.
    EXPECT_EQ(st(run1(0, compute(10, n, dev(kDevmem - 256), dev(kArenaOff)))), MTIA_CQE_BAD_ADDRESS);
    EXPECT_EQ(st(run1(0, compute(11, n, host(kUnmapped), dev(kArenaOff)))), MTIA_CQE_DMA_ERROR);
}

// MTIA_CMD_F_PROFILE: the arena's tail holds the header and one record per
// op, written when the program completes; the program gets the bytes before
// it; a value too small for the profile is BAD_FIELD, a tensor in the tail
// BAD_PROGRAM, and neither writes the tail. Without the flag nothing is.
TEST_F(QueueTest, ComputeProfile)
{
    setup(0);
    ConvGemm p;
    std::memcpy(devmem.data() + kArenaOff, p.a.data(), kArenaBytes);
    std::memcpy(h.at(kData, p.bytes()), p.prog.data(), p.bytes());
    const uint64_t n = p.bytes(), prof = MTIA_PROFILE_BYTES(p.prog.size());
    uint8_t *tail = devmem.data() + kArenaOff + kArenaBytes - prof;
    const std::vector<uint8_t> untouched(prof, 0xab);
    auto tail_untouched = [&] { return std::equal(untouched.begin(), untouched.end(), tail); };
    std::memset(tail, 0xab, prof);

    // Off: the whole arena is the program's, nothing recorded.
    auto e = run1(0, compute(1, n, host(kData), dev(kArenaOff)));
    ASSERT_EQ(st(e), MTIA_CQE_OK);
    EXPECT_TRUE(tail_untouched());

    // On.
    std::memset(devmem.data() + kArenaOff + p.y.offset, 0, 20);
    mtia_cmd c = compute(2, n, host(kData), dev(kArenaOff));
    c.flags = MTIA_CMD_F_PROFILE;
    // TIMESTAMPs around it: the profile is on their clock.
    const uint64_t before = run1(0, cmd(MTIA_CMD_TIMESTAMP, 20, 8, {}, dev(0x1000))).result;
    e = run1(0, c);
    const uint64_t after = run1(0, cmd(MTIA_CMD_TIMESTAMP, 21, 8, {}, dev(0x1000))).result;
    ASSERT_EQ(st(e), MTIA_CQE_OK);
    expect_close(p.result(devmem), p.want);
    mtia_profile_header hd;
    std::memcpy(&hd, tail, sizeof(hd));
    std::vector<mtia_op_profile> r(p.prog.size());
    std::memcpy(r.data(), tail + sizeof(hd), r.size() * sizeof(r[0]));
    EXPECT_EQ(hd.magic, MTIA_PROFILE_MAGIC);
    EXPECT_EQ(hd.n_ops, p.prog.size());
    EXPECT_EQ(hd.model_ns, e.result);
    EXPECT_LE(before, hd.start_ns);
    EXPECT_LE(hd.end_ns, after);
    uint64_t t = hd.start_ns, op_sum = 0, model_sum = 0;
    for (size_t i = 0; i < r.size(); i++) {
        SCOPED_TRACE(i);
        EXPECT_LE(t, r[i].start_ns);  // in order, not overlapping
        EXPECT_LT(r[i].start_ns, r[i].end_ns);
        t = r[i].end_ns;
        op_sum += r[i].end_ns - r[i].start_ns;
        EXPECT_EQ(r[i].model_ns, mtia_compute_op_ns(nullptr, &p.prog[i]));
        model_sum += r[i].model_ns;
    }
    EXPECT_EQ(hd.end_ns, r.back().end_ns);
    EXPECT_LE(op_sum, hd.end_ns - hd.start_ns);
    EXPECT_EQ(model_sum, e.result);
    // bytes: conv reads x, w, b and writes c; the GEMM reads c, fw, writes y.
    EXPECT_EQ(r[0].bytes, (300 + 162 + 6 + 600) * 4u);
    EXPECT_EQ(r[1].bytes, (600 + 3000 + 5) * 4u);

    // The tail is the last bytes of [dst, dst + value), wherever dst points.
    std::memset(tail, 0xab, prof);
    c = compute(3, n, host(kData), dev(kArenaOff - 0x100, 0x100), kArenaBytes - 0x1000);
    c.flags = MTIA_CMD_F_PROFILE;
    ASSERT_EQ(st(run1(0, c)), MTIA_CQE_OK);
    EXPECT_TRUE(tail_untouched());
    std::memcpy(&hd, tail - 0x1000, sizeof(hd));
    EXPECT_EQ(hd.magic, MTIA_PROFILE_MAGIC);
    EXPECT_EQ(hd.n_ops, p.prog.size());

    // The program's tensors must end before the profile: y ends at
    // y.offset + 20, so an arena of that plus the profile is the least.
    std::memset(tail, 0xab, prof);
    const uint64_t least = p.y.offset + 20 + prof;
    c = compute(4, n, host(kData), dev(kArenaOff), least - 4);
    c.flags = MTIA_CMD_F_PROFILE;
    e = run1(0, c);
    EXPECT_EQ(st(e), MTIA_CQE_BAD_PROGRAM);
    EXPECT_EQ(e.result, 1u);  // the GEMM's out reaches into the profile
    c = compute(5, n, host(kData), dev(kArenaOff), least);
    c.flags = MTIA_CMD_F_PROFILE;
    ASSERT_EQ(st(run1(0, c)), MTIA_CQE_OK);
    std::memcpy(&hd, devmem.data() + kArenaOff + least - prof, sizeof(hd));
    EXPECT_EQ(hd.magic, MTIA_PROFILE_MAGIC);

    // Too small for the profile: BAD_FIELD (the command rules), nothing run.
    std::memset(devmem.data() + kArenaOff + p.y.offset, 0, 20);
    for (uint64_t v : {uint64_t{0}, uint64_t{1}, prof - 1, prof}) {
        SCOPED_TRACE(v);
        c = compute(6, n, host(kData), dev(kArenaOff), v);
        c.flags = MTIA_CMD_F_PROFILE;
        EXPECT_EQ(st(run1(0, c)), MTIA_CQE_BAD_FIELD);
    }
    EXPECT_EQ(p.result(devmem), std::vector<float>(5, 0.0f));
    EXPECT_TRUE(tail_untouched());
}

// Abort of a program that cannot finish before the test acts on it
// (long_program.h: the spec's maximum of ops, minutes on any host), once its
// first op has run.
TEST_F(QueueTest, ComputeAbortedByDisableAndByReset)
{
    const auto prog = long_program::ops(long_program::kMaxOps);
    const uint64_t n = prog.size() * sizeof(mtia_op);
    std::memcpy(h.at(kData, n), prog.data(), n);
    uint8_t *arena = devmem.data() + kArenaOff;
    long_program::prepare_arena(arena);
    setup(0);
    auto t0 = Clock::now();
    submit(0, compute(1, n, host(kData), dev(kArenaOff)));
    fw_run();
    ASSERT_TRUE(wait_until([&] { return long_program::started(arena); }, 120s));
    const auto first_op = Clock::now() - t0;  // includes building the kernel
    t0 = Clock::now();
    wr(MTIA_REG_Q(0, MTIA_Q_CTRL), 0);  // disable: ABORTED at the next op
    // Stopped at an op boundary, not at the end: far below the program's
    // 65536 op-times (generous for a loaded host).
    EXPECT_LT(Clock::now() - t0, 10 * first_op + 1s);
    auto v = reap(0, 1, false, 100ms);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(st(v[0]), MTIA_CQE_ABORTED);
    EXPECT_EQ(v[0].result, 0u);

    // Reset with a long program running on queue 0 and another waiting for
    // the grid on queue 1: both abandoned, no completion, no DMA after the
    // reset returns.
    long_program::prepare_arena(arena);
    setup(0);
    setup(1);
    submit(0, compute(1, n, host(kData), dev(kArenaOff)));
    submit(1, compute(1, n, host(kData), dev(kArenaOff)));
    fw_run();
    ASSERT_TRUE(wait_until([&] { return long_program::started(arena); }, 120s));
    t0 = Clock::now();
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    EXPECT_LT(Clock::now() - t0, 10 * first_op + 1s);
    const uint64_t writes = h.dma_writes;
    EXPECT_EQ(reap(0, 1, false, 50ms).size(), 0u);
    EXPECT_EQ(reap(1, 1, false, 50ms).size(), 0u);
    EXPECT_EQ(h.dma_writes.load(), writes);
    // Usable again.
    setup(0);
    ConvGemm p;
    std::memcpy(devmem.data() + kArenaOff, p.a.data(), kArenaBytes);
    std::memcpy(h.at(kData, p.bytes()), p.prog.data(), p.bytes());
    EXPECT_EQ(st(run1(0, compute(2, p.bytes(), host(kData), dev(kArenaOff)))), MTIA_CQE_OK);
    expect_close(p.result(devmem), p.want);
}

// Programs from several queues share the grid one at a time; every one
// completes with the right data, and the PE busy time counts them.
TEST_F(QueueTest, ComputeFromSeveralQueues)
{
    ConvGemm p;
    std::memcpy(devmem.data() + kArenaOff, p.a.data(), kArenaBytes);
    std::memcpy(h.at(kData, p.bytes()), p.prog.data(), p.bytes());
    for (unsigned q = 0; q < 4; q++) setup(q);
    for (unsigned q = 0; q < 4; q++)
        for (uint16_t i = 0; i < 5; i++) submit(q, compute(i, p.bytes(), host(kData), dev(kArenaOff)));
    fw_run();
    for (unsigned q = 0; q < 4; q++) {
        auto v = reap(q, 5);
        ASSERT_EQ(v.size(), 5u);
        for (uint16_t i = 0; i < 5; i++) {
            EXPECT_EQ(v[i].cid, i);
            EXPECT_EQ(st(v[i]), MTIA_CQE_OK);
        }
        mtia_core_queue_stats s;
        mtia_core_get_queue_stats(core, q, &s);
        EXPECT_EQ(s.commands, 5u);
    }
    expect_close(p.result(devmem), p.want);
}

TEST_F(QueueTest, RealFirmwareDispatchLoop)
{
#ifndef MTIA_FW_IMAGE_PATH
    GTEST_SKIP() << "no firmware image path";
#else
    if (!boot_firmware(MTIA_FW_IMAGE_PATH)) GTEST_SKIP() << "build/firmware/mtia/mtia-fw.bin not built";
    ASSERT_EQ(rd(MTIA_REG_FW_STATUS), static_cast<uint32_t>(MTIA_FW_STATUS_READY));
    setup(2, 6, 6, 3);
    fill_random(h.at(kData, 4096), 4096, 11);
    submit(2, cmd(MTIA_CMD_NOP, 1));
    auto first = reap(2, 1, true, 3000ms);
    if (first.empty()) GTEST_SKIP() << "this firmware does not serve the hardware queues yet";
    EXPECT_EQ(st(first[0]), MTIA_CQE_OK);
    submit(2, cmd(MTIA_CMD_COPY, 2, 4096, host(kData), dev(0x200000)));
    submit(2, cmd(MTIA_CMD_FENCE, 3));
    submit(2, cmd(MTIA_CMD_FILL, 4, 64, {}, dev(0x300000), 0x5a));
    submit(2, cmd(0x77, 5));
    auto v = reap(2, 4);
    ASSERT_EQ(v.size(), 4u);
    for (uint16_t i = 0; i < 4; i++) EXPECT_EQ(v[i].cid, i + 2);
    EXPECT_EQ(st(v[0]), MTIA_CQE_OK);
    EXPECT_EQ(st(v[1]), MTIA_CQE_OK);
    EXPECT_EQ(st(v[2]), MTIA_CQE_OK);
    EXPECT_EQ(st(v[3]), MTIA_CQE_BAD_OPCODE);
    EXPECT_EQ(std::memcmp(devmem.data() + 0x200000, h.at(kData, 4096), 4096), 0);
    EXPECT_EQ(devmem[0x30003f], 0x5a);
    // COMPUTE through the firmware: a program runs; an arena in host memory
    // is refused by the firmware itself.
    ConvGemm p;
    std::memcpy(devmem.data() + kArenaOff, p.a.data(), kArenaBytes);
    std::memcpy(h.at(kData, p.bytes()), p.prog.data(), p.bytes());
    submit(2, compute(6, p.bytes(), host(kData), dev(kArenaOff)));
    submit(2, compute(7, p.bytes(), host(kData), host(kData + 0x100000)));
    v = reap(2, 2);
    ASSERT_EQ(v.size(), 2u);
    EXPECT_EQ(st(v[0]), MTIA_CQE_OK);
    EXPECT_GT(v[0].result, 0u);
    EXPECT_EQ(st(v[1]), MTIA_CQE_BAD_ADDRESS);
    expect_close(p.result(devmem), p.want);
#endif
}

// mtia_core_wait_idle (behind the fuzz-only x-settle-us) returns only once
// all a doorbell started is over: the firmware's fetch, its dispatch (or its
// own completion of a NOP), the engine's command and the CQE. Its test once
// saw the engine idle just before the firmware dispatched, and the firmware
// asleep just after; and an engine that had finished but not yet posted.
TEST_F(QueueTest, WaitIdleReturnsOnceTheDoorbellsWorkIsDone)
{
#ifndef MTIA_FW_IMAGE_PATH
    GTEST_SKIP() << "no firmware image path";
#else
    if (!boot_firmware(MTIA_FW_IMAGE_PATH)) GTEST_SKIP() << "build/firmware/mtia/mtia-fw.bin not built";
    ASSERT_EQ(rd(MTIA_REG_FW_STATUS), static_cast<uint32_t>(MTIA_FW_STATUS_READY));
    setup(2);
    for (uint16_t i = 0; i < 400; i++) {
        if (i % 2)
            submit(2, cmd(MTIA_CMD_COPY, i, 4096, host(kData), dev(0x200000)));
        else
            submit(2, cmd(MTIA_CMD_NOP, i));
        ASSERT_EQ(mtia_core_wait_idle(core, 10'000'000), 0) << "command " << i;
        auto v = reap(2, 1, true, 0ms);  // already there: no waiting
        ASSERT_EQ(v.size(), 1u) << "command " << i;
        EXPECT_EQ(v[0].cid, i);
        EXPECT_EQ(st(v[0]), MTIA_CQE_OK);
    }
#endif
}

// The shared command corpus (cmd_corpus.h) through the engine: firmware
// here hands every command, NOP and FENCE included, to the engine, so the
// verdict is the engine's own check (it does not trust firmware) and, for a
// valid command, its execution over the corpus's device memory.
TEST_F(QueueTest, CommandCorpus)
{
    static_assert(corpus::kDevmemBytes <= kDevmem, "corpus operands fit");
    const mtia_op op = corpus::copy_op();
    for (uint64_t i = 0; i < MTIA_MAX_PROGRAM_OPS; i++)
        std::memcpy(devmem.data() + corpus::kSrc + i * sizeof(op), &op, sizeof(op));
    setup(4);
    const std::vector<corpus::Case> cases = corpus::cases();
    for (size_t i = 0; i < cases.size(); i++) {
        SCOPED_TRACE(cases[i].name);
        mtia_cmd c = cases[i].cmd;
        c.cid = static_cast<uint16_t>(i);
        submit(4, c);
        ASSERT_EQ(fw(MTIA_CC_REG_Q_FETCH, 4), 0);
        ASSERT_EQ(fr(MTIA_CC_REG_Q_FETCH_STATUS), MTIA_CQE_OK);
        ASSERT_EQ(fw(MTIA_CC_REG_Q_DISPATCH, 4), 0);
        auto v = reap(4, 1, true, 60000ms);
        ASSERT_EQ(v.size(), 1u);
        EXPECT_EQ(v[0].cid, i);
        EXPECT_EQ(mtia_cqe_status(v[0].status), cases[i].status);
    }
}

// ---- write tracking of device memory (mtia_write_track.h) ----------------------

// Every writer of device memory marks the pages it wrote, and only those:
// BAR2 stores, COPY (host or device source), FILL, TIMESTAMP, COMPUTE
// outputs and its profile; reads (COPY to the host) mark nothing.
// MTIA_REG_DEVMEM_ZERO: whole pages zeroed and marked written; a range
// past device memory zeroes nothing and flags a bad write.
}  // namespace

TEST_F(QueueTest, DevmemZeroRegister)
{
    setup(0);
    std::memset(devmem.data(), 0xab, 0x6000);
    const uint64_t g = mtia_core_devmem_generation(core);
    wr(MTIA_REG_DEVMEM_ZERO,
       MTIA_FIELD_PREP(MTIA_DEVMEM_ZERO_PAGE_MASK, 1) | MTIA_FIELD_PREP(MTIA_DEVMEM_ZERO_COUNT_MASK, 3));  // pages 1..4
    EXPECT_EQ(devmem[0xfff], 0xab);
    for (uint64_t i = 0x1000; i < 0x5000; i++) ASSERT_EQ(devmem[i], 0) << i;
    EXPECT_EQ(devmem[0x5000], 0xab);
    EXPECT_GT(mtia_core_devmem_last_write(core, 0x1000, 0x4000), g);
    EXPECT_LE(mtia_core_devmem_last_write(core, 0x5000, 0x1000), g);
    EXPECT_EQ(rd(MTIA_REG_DEVMEM_ZERO), 0u);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS) & MTIA_ERR_BAD_WRITE, 0u);
    // The last page and one past it: refused whole.
    devmem[kDevmem - 1] = 0xcd;
    wr(MTIA_REG_DEVMEM_ZERO, MTIA_FIELD_PREP(MTIA_DEVMEM_ZERO_PAGE_MASK, kDevmem / 4096 - 1) |
                                 MTIA_FIELD_PREP(MTIA_DEVMEM_ZERO_COUNT_MASK, 1));
    EXPECT_EQ(devmem[kDevmem - 1], 0xcd);
    EXPECT_NE(rd(MTIA_REG_ERR_STATUS) & MTIA_ERR_BAD_WRITE, 0u);
}

TEST_F(QueueTest, WriteTrackingMarksWhatEachWriterWrote)
{
    setup(0);
    auto marked = [&](uint64_t off, uint64_t len, uint64_t since) {
        return mtia_core_devmem_last_write(core, off, len) > since;
    };
    uint64_t g = mtia_core_devmem_generation(core);
    EXPECT_FALSE(marked(0, kDevmem, g));

    // BAR2 (the guest's stores, handed over by the host).
    mtia_core_devmem_write(core, 0x5008, 0x1122334455667788ull, 8);
    EXPECT_EQ(devmem[0x5008], 0x88);
    EXPECT_EQ(devmem[0x500f], 0x11);
    EXPECT_TRUE(marked(0x5000, 4096, g));
    EXPECT_FALSE(marked(0x4000, 4096, g));
    EXPECT_FALSE(marked(0x6000, 4096, g));
    g = mtia_core_devmem_generation(core);
    mtia_core_devmem_write(core, kDevmem - 4, ~0ull, 8);  // past the end: ignored
    mtia_core_devmem_write(core, 0x5000, ~0ull, 9);
    mtia_core_devmem_write(core, ~0ull - 2, ~0ull, 4);
    EXPECT_EQ(devmem[kDevmem - 4], 0);
    EXPECT_FALSE(marked(0, kDevmem, g));

    // COPY host -> device: three pages from 0x10000.
    fill_random(h.at(kData, 0x3000), 0x3000, 1);
    g = mtia_core_devmem_generation(core);
    ASSERT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 1, 0x3000, host(kData), dev(0x10000)))), MTIA_CQE_OK);
    for (uint64_t p = 0x10000; p < 0x13000; p += 4096) EXPECT_TRUE(marked(p, 4096, g)) << p;
    EXPECT_FALSE(marked(0x13000, 4096, g));
    EXPECT_FALSE(marked(0xf000, 4096, g));

    // COPY device -> device: the destination (two pages) only.
    g = mtia_core_devmem_generation(core);
    ASSERT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 2, 0x1000, dev(0x10000), dev(0x20800)))), MTIA_CQE_OK);
    EXPECT_TRUE(marked(0x20000, 4096, g));
    EXPECT_TRUE(marked(0x21000, 4096, g));
    EXPECT_FALSE(marked(0x10000, 0x3000, g));
    EXPECT_FALSE(marked(0x22000, 4096, g));

    // COPY device -> host, a failed COPY from the host: no device page written.
    g = mtia_core_devmem_generation(core);
    ASSERT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 3, 0x1000, dev(0x10000), host(kData)))), MTIA_CQE_OK);
    EXPECT_FALSE(marked(0, kDevmem, g));

    // FILL and TIMESTAMP.
    ASSERT_EQ(st(run1(0, cmd(MTIA_CMD_FILL, 4, 100, {}, dev(0x30000), 0x5a))), MTIA_CQE_OK);
    EXPECT_TRUE(marked(0x30000, 4096, g));
    EXPECT_FALSE(marked(0x31000, 4096, g));
    g = mtia_core_devmem_generation(core);
    ASSERT_EQ(st(run1(0, cmd(MTIA_CMD_TIMESTAMP, 5, 8, {}, dev(0x40ff8)))), MTIA_CQE_OK);
    EXPECT_TRUE(marked(0x40000, 4096, g));
    EXPECT_FALSE(marked(0x41000, 4096, g));

    // COMPUTE: its outputs and, profiled, the records at the arena's end.
    ConvGemm p;
    std::memcpy(devmem.data() + kArenaOff, p.a.data(), kArenaBytes);
    std::memcpy(h.at(kData, p.bytes()), p.prog.data(), p.bytes());
    g = mtia_core_devmem_generation(core);
    mtia_cmd c = compute(6, p.bytes(), host(kData), dev(kArenaOff));
    c.flags = MTIA_CMD_F_PROFILE;
    ASSERT_EQ(st(run1(0, c)), MTIA_CQE_OK);
    expect_close(p.result(devmem), p.want);
    EXPECT_TRUE(marked(kArenaOff + p.y.offset, 20, g));
    EXPECT_TRUE(marked(kArenaOff + p.c.offset + cref::count(cref::dims(p.c)) * 4 - 4, 4, g));
    const uint64_t prof = MTIA_PROFILE_BYTES(p.prog.size());
    EXPECT_TRUE(marked(kArenaOff + kArenaBytes - prof, prof, g));
    EXPECT_FALSE(marked(kArenaOff + kArenaBytes - prof - 8192, 4096, g));  // between: untouched
    EXPECT_FALSE(marked(0, kArenaOff, g));
}

// After an incoming migration device memory's contents are new: every page
// counts as written.
TEST_F(QueueTest, WriteTrackingAfterMigrationLoad)
{
    mtia_core_set_vm_running(core, 0);
    std::unique_ptr<mtia_core_snapshot> snap(new mtia_core_snapshot{});
    ASSERT_EQ(mtia_core_save(core, snap.get()), 0);
    const uint64_t g = mtia_core_devmem_generation(core);
    ASSERT_EQ(mtia_core_load(core, snap.get()), 0);
    EXPECT_GT(mtia_core_devmem_last_write(core, 0x123000, 4096), g);
    mtia_core_set_vm_running(core, 1);
}
