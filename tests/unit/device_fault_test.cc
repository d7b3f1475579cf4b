// SPDX-License-Identifier: MIT
// Fault injection in the device core (mtia_core_fault_*, docs/
// fault-injection.md): each fault's effect on the queues, interrupts, BAR0,
// the control core and the telemetry, its countdown and read-back, its
// trace event, and that a device reset ends the faults that need one.
#include "queue_fixture.h"

namespace {

using namespace qfix;

class FaultTest : public QueueTest {
protected:
    void SetUp() override
    {
        QueueTest::SetUp();
        mtia_core_set_trace(core, record, this);
    }
    static void record(void *o, const mtia_core_trace_event *ev)
    {
        if (ev->kind != MTIA_CORE_TRACE_FAULT) return;
        auto *t = static_cast<FaultTest *>(o);
        std::lock_guard<std::mutex> l(t->tmu);
        t->faults.push_back(*ev);
        t->tcv.notify_all();
    }
    // Waits (5 s at most) for @n fault events of @kind; how many there are.
    size_t wait_faults(uint32_t kind, size_t n)
    {
        std::unique_lock<std::mutex> l(tmu);
        auto count = [&] {
            return static_cast<size_t>(std::count_if(faults.begin(), faults.end(),
                                                     [&](const mtia_core_trace_event &e) { return e.source == kind; }));
        };
        tcv.wait_for(l, 5s, [&] { return count() >= n; });
        return count();
    }
    void set(uint32_t kind, uint64_t v) { ASSERT_EQ(mtia_core_fault_set(core, kind, v), 0) << kind; }
    uint32_t inflight(unsigned q)
    {
        mtia_core_queue_stats s;
        mtia_core_get_queue_stats(core, q, &s);
        return s.inflight;
    }

    std::mutex tmu;
    std::condition_variable tcv;
    std::vector<mtia_core_trace_event> faults;
};

TEST_F(FaultTest, SetValidatesAndReadsBack)
{
    for (uint32_t k = MTIA_CORE_FAULT_DMA_ERROR; k < MTIA_CORE_FAULT_KINDS; k++) {
        EXPECT_STRNE(mtia_core_fault_name(k), "?");
        EXPECT_EQ(mtia_core_fault_get(core, k), 0u);
        EXPECT_EQ(mtia_core_fault_injected(core, k), 0u);
        if (mtia_core_fault_is_bool(k)) {
            EXPECT_EQ(mtia_core_fault_set(core, k, 2), -1) << k;
        }
    }
    EXPECT_STREQ(mtia_core_fault_name(MTIA_CORE_FAULT_DMA_ERROR), "dma-error");
    EXPECT_STREQ(mtia_core_fault_name(0), "?");
    EXPECT_STREQ(mtia_core_fault_name(MTIA_CORE_FAULT_KINDS), "?");
    EXPECT_EQ(mtia_core_fault_set(core, 0, 1), -1);
    EXPECT_EQ(mtia_core_fault_set(core, MTIA_CORE_FAULT_KINDS, 1), -1);
    EXPECT_EQ(mtia_core_fault_set(core, MTIA_CORE_FAULT_LATENCY_US, 10'000'001), -1);
    EXPECT_EQ(mtia_core_fault_set(core, MTIA_CORE_FAULT_LOST_IRQ, 1ull << 32), -1);
    set(MTIA_CORE_FAULT_DMA_ERROR, 7);
    EXPECT_EQ(mtia_core_fault_get(core, MTIA_CORE_FAULT_DMA_ERROR), 7u);
    set(MTIA_CORE_FAULT_DMA_ERROR, 0);
    EXPECT_EQ(mtia_core_fault_get(core, MTIA_CORE_FAULT_DMA_ERROR), 0u);
}

TEST_F(FaultTest, DmaErrorFailsTheNthDataCommand)
{
    setup(1);
    fill_random(h.at(kData, 4096), 4096, 3);
    set(MTIA_CORE_FAULT_DMA_ERROR, 3);
    for (uint16_t i = 0; i < 5; i++) submit(1, cmd(MTIA_CMD_COPY, i, 4096, host(kData), dev(0x10000 * (i + 1))));
    submit(1, cmd(MTIA_CMD_NOP, 9));
    fw_run();
    auto v = reap(1, 6);
    ASSERT_EQ(v.size(), 6u);
    for (uint16_t i = 0; i < 5; i++) {
        EXPECT_EQ(st(v[i]), i == 2 ? MTIA_CQE_DMA_ERROR : MTIA_CQE_OK) << i;
        const bool copied = std::memcmp(devmem.data() + 0x10000 * (i + 1), h.at(kData, 4096), 4096) == 0;
        EXPECT_EQ(copied, i != 2) << i;  // the failed one moved nothing
    }
    EXPECT_EQ(mtia_core_fault_get(core, MTIA_CORE_FAULT_DMA_ERROR), 0u);
    EXPECT_EQ(mtia_core_fault_injected(core, MTIA_CORE_FAULT_DMA_ERROR), 1u);
    ASSERT_EQ(wait_faults(MTIA_CORE_FAULT_DMA_ERROR, 1), 1u);
    EXPECT_EQ(faults[0].queue, 1u);
    EXPECT_EQ(faults[0].cid, 2u);
    EXPECT_EQ(faults[0].opcode, static_cast<uint32_t>(MTIA_CMD_COPY));
}

TEST_F(FaultTest, TranslationFailsTheNthOperand)
{
    setup(0);
    set(MTIA_CORE_FAULT_TRANSLATION, 2);  // COPY translates src, then dst
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 1, 64, host(kData), dev(0x1000)))), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 2, 64, host(kData), dev(0x1000)))), MTIA_CQE_OK);
    EXPECT_EQ(mtia_core_fault_injected(core, MTIA_CORE_FAULT_TRANSLATION), 1u);
    EXPECT_EQ(wait_faults(MTIA_CORE_FAULT_TRANSLATION, 1), 1u);
    EXPECT_EQ(faults[0].value, MTIA_ADDR_DEVMEM | 0x1000);  // the dst operand
}

TEST_F(FaultTest, HangHoldsCommandsUntilClearedOrReset)
{
    setup(2);
    set(MTIA_CORE_FAULT_HANG, 1);
    submit(2, cmd(MTIA_CMD_FILL, 1, 64, {}, dev(0x2000), 0x11));
    fw_run();
    ASSERT_EQ(wait_faults(MTIA_CORE_FAULT_HANG, 2), 2u);  // switched on, then the held command
    EXPECT_EQ(inflight(2), 1u);
    // A VM stop does not wait for a hung engine (QEMU would hang).
    mtia_core_set_vm_running(core, 0);
    mtia_core_set_vm_running(core, 1);
    EXPECT_EQ(inflight(2), 1u);
    EXPECT_EQ(devmem[0x2000], 0);
    set(MTIA_CORE_FAULT_HANG, 0);  // released: the command runs
    auto v = reap(2, 1);
    ASSERT_EQ(v.size(), 1u);
    EXPECT_EQ(st(v[0]), MTIA_CQE_OK);
    EXPECT_EQ(devmem[0x2000], 0x11);

    set(MTIA_CORE_FAULT_HANG, 1);
    submit(2, cmd(MTIA_CMD_FILL, 2, 64, {}, dev(0x3000), 0x22));
    fw_run();
    ASSERT_EQ(wait_faults(MTIA_CORE_FAULT_HANG, 4), 4u);
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);  // returns: reset ends the hang
    EXPECT_EQ(mtia_core_fault_get(core, MTIA_CORE_FAULT_HANG), 0u);
    EXPECT_EQ(devmem[0x3000], 0);  // aborted, never ran
    EXPECT_EQ(mtia_core_fault_injected(core, MTIA_CORE_FAULT_HANG), 2u);
}

TEST_F(FaultTest, LostIrqDropsTheNextMessagesNotTheCompletions)
{
    setup(3, 6, 6, 4);
    set(MTIA_CORE_FAULT_LOST_IRQ, 2);
    for (uint16_t i = 0; i < 3; i++) EXPECT_EQ(st(run1(3, cmd(MTIA_CMD_NOP, i))), MTIA_CQE_OK);
    {
        std::unique_lock<std::mutex> l(h.mu);
        h.cv.wait_for(l, 5s, [&] { return std::count(h.irqs.begin(), h.irqs.end(), 4u) >= 1; });
    }
    EXPECT_EQ(h.irq_count(4), 1u);  // three completions, two messages lost
    EXPECT_EQ(mtia_core_fault_get(core, MTIA_CORE_FAULT_LOST_IRQ), 0u);
    EXPECT_EQ(mtia_core_fault_injected(core, MTIA_CORE_FAULT_LOST_IRQ), 2u);
    ASSERT_EQ(wait_faults(MTIA_CORE_FAULT_LOST_IRQ, 2), 2u);
    EXPECT_EQ(faults[0].value, 4u);
}

TEST_F(FaultTest, LinkDownReadsAllOnesUntilRestored)
{
    setup(0);
    wr(MTIA_REG_SCRATCH, 0x1234);
    set(MTIA_CORE_FAULT_LINK_DOWN, 1);
    EXPECT_EQ(rd(MTIA_REG_MAGIC), 0xffffffffu);
    EXPECT_EQ(mtia_core_mmio_read(core, MTIA_REG_MAGIC, 2), 0xffffu);
    wr(MTIA_REG_SCRATCH, 0x5678);  // lost
    const unsigned irqs = h.irq_count(1);
    submit(0, cmd(MTIA_CMD_NOP, 1));  // the doorbell is lost too
    EXPECT_EQ(fr(MTIA_CC_REG_Q_PENDING), 0u);
    EXPECT_EQ(h.irq_count(1), irqs);
    EXPECT_EQ(mtia_core_fault_get(core, MTIA_CORE_FAULT_LINK_DOWN), 1u);
    set(MTIA_CORE_FAULT_LINK_DOWN, 0);
    EXPECT_EQ(rd(MTIA_REG_MAGIC), MTIA_MAGIC_VALUE);
    EXPECT_EQ(rd(MTIA_REG_SCRATCH), 0x1234u);
    EXPECT_EQ(mtia_core_fault_injected(core, MTIA_CORE_FAULT_LINK_DOWN), 1u);
}

TEST_F(FaultTest, LatencyDelaysEveryCommand)
{
    setup(0);
    set(MTIA_CORE_FAULT_LATENCY_US, 30000);
    const auto t0 = Clock::now();
    for (uint16_t i = 0; i < 2; i++) submit(0, cmd(MTIA_CMD_FILL, i, 64, {}, dev(0x1000), 1));
    fw_run();
    EXPECT_EQ(reap(0, 2).size(), 2u);
    EXPECT_GE(Clock::now() - t0, 60ms);
    EXPECT_EQ(mtia_core_fault_injected(core, MTIA_CORE_FAULT_LATENCY_US), 2u);
    EXPECT_EQ(mtia_core_fault_get(core, MTIA_CORE_FAULT_LATENCY_US), 30000u);  // stays armed
}

TEST_F(FaultTest, EccEventsReachTheTelemetryCounters)
{
    set(MTIA_CORE_FAULT_ECC_CE, 5);
    set(MTIA_CORE_FAULT_ECC_UE, 2);
    ASSERT_EQ(wait_faults(MTIA_CORE_FAULT_ECC_UE, 1), 1u);
    ASSERT_EQ(wait_faults(MTIA_CORE_FAULT_ECC_CE, 1), 1u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR), 5u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_UNCORR), 2u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR_AGG), 5u);  // and the lifetime counts
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_UNCORR_AGG), 2u);
    EXPECT_EQ(mtia_core_fault_get(core, MTIA_CORE_FAULT_ECC_CE), 0u);
    EXPECT_EQ(mtia_core_fault_injected(core, MTIA_CORE_FAULT_ECC_CE), 5u);
}

TEST_F(FaultTest, FwTrapHaltsTheRunningFirmware)
{
#ifndef MTIA_FW_IMAGE_PATH
    GTEST_SKIP() << "no firmware image path";
#else
    set(MTIA_CORE_FAULT_FW_TRAP, 1);  // armed before boot: taken once the core runs
    if (!boot_firmware(MTIA_FW_IMAGE_PATH)) GTEST_SKIP() << "build/firmware/mtia/mtia-fw.bin not built";
    ASSERT_EQ(wait_faults(MTIA_CORE_FAULT_FW_TRAP, 1), 1u);
    auto until = Clock::now() + 5s;
    while (rd(MTIA_REG_FW_BOOT_STATUS) != MTIA_BOOT_HALTED && Clock::now() < until) std::this_thread::sleep_for(1ms);
    EXPECT_EQ(rd(MTIA_REG_FW_BOOT_STATUS), static_cast<uint32_t>(MTIA_BOOT_HALTED));
    EXPECT_EQ(rd(MTIA_REG_FW_TRAP_CAUSE), 1u);
    EXPECT_EQ(rd(MTIA_REG_FW_TRAP_PC), faults[0].value);
    EXPECT_EQ(mtia_core_fault_get(core, MTIA_CORE_FAULT_FW_TRAP), 0u);
    // A reset and a new boot run normally: the trap was taken once.
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    ASSERT_TRUE(boot_firmware(MTIA_FW_IMAGE_PATH));
    EXPECT_EQ(rd(MTIA_REG_FW_STATUS), static_cast<uint32_t>(MTIA_FW_STATUS_READY));
    EXPECT_EQ(mtia_core_fault_injected(core, MTIA_CORE_FAULT_FW_TRAP), 1u);
#endif
}

}  // namespace
