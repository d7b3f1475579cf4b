// SPDX-License-Identifier: MIT
// The device MMU (qemu-device/core/mtia_mmu.h, docs/device-spec.md "Device
// MMU"): the page walk, permissions, operands split at pages and merged
// where physically adjacent, the TLB and MMU_INVALIDATE, the fault
// registers; then through the queues: TRANSLATION_FAULT completions with
// the VA, other contexts unaffected, legacy forms with the MMU off (and
// refused with it on), COMPUTE's arena contiguous or BAD_ADDRESS.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "cmd_corpus.h"
#include "mtia/mtia_spec.h"
#include "mtia_core.h"
#include "mtia_mmu.h"
#include "queue_fixture.h"

namespace {

using namespace qfix;

constexpr uint64_t kTables = kRamBase + (64ull << 20);  // page tables in fake RAM
constexpr uint64_t kCtxTable = kTables;
constexpr uint32_t kCtxCount = 16;
constexpr uint64_t kPage = MTIA_MMU_PAGE_SIZE;
constexpr uint64_t kRW = MTIA_PTE_READ | MTIA_PTE_WRITE;

// Builds page tables in the fake host RAM, as a driver would.
struct PageTables {
    Host &h;
    uint64_t next = kTables + kPage;  // after the context table

    explicit PageTables(Host &host) : h(host) { std::memset(h.at(kCtxTable, kPage), 0, kPage); }
    uint64_t *entry(uint64_t table, unsigned idx) { return reinterpret_cast<uint64_t *>(h.at(table + idx * 8, 8)); }
    uint64_t table()
    {
        const uint64_t a = next;
        next += kPage;
        std::memset(h.at(a, kPage), 0, kPage);
        return a;
    }
    // The leaf entry of (ctx, va), tables made on the way.
    uint64_t *leaf(uint32_t ctx, uint64_t va)
    {
        uint64_t *e = entry(kCtxTable, ctx);
        for (int level = MTIA_MMU_LEVELS - 1; level >= 0; level--) {
            if (!(*e & MTIA_PTE_VALID)) *e = mtia_pte(table(), MTIA_PTE_VALID);
            e = entry(mtia_pte_addr(*e), mtia_mmu_va_index(va, static_cast<unsigned>(level)));
        }
        return e;
    }
    void map(uint32_t ctx, uint64_t va, uint64_t target, uint64_t flags, uint64_t pages = 1)
    {
        for (uint64_t k = 0; k < pages; k++) *leaf(ctx, va + k * kPage) = mtia_pte(target + k * kPage, flags | 1);
    }
};

// ---- the Mmu on its own ------------------------------------------------------

// Host memory for an Mmu without a device around it.
struct FakeHost : mtia::QueueHost {
    Host &h;
    explicit FakeHost(Host &host) : h(host) {}
    int dma_read(uint64_t addr, void *buf, uint64_t len) override
    {
        uint8_t *p = h.at(addr, len);
        if (!p) return -1;
        std::memcpy(buf, p, len);
        return 0;
    }
    int dma_write(uint64_t, const void *, uint64_t) override { return -1; }
    void raise_irq(unsigned) override {}
    void meip_changed() override {}
    void queue_error(unsigned) override {}
    uint64_t device_ns() override { return 0; }
};

class MmuTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        mmu.attach_devmem(devmem.data(), devmem.size());
        ASSERT_EQ(mmu.write(MTIA_REG_MMU_CTX_TABLE_LO, static_cast<uint32_t>(kCtxTable)), mtia::Mmu::Access::kOk);
        ASSERT_EQ(mmu.write(MTIA_REG_MMU_CTX_COUNT, kCtxCount), mtia::Mmu::Access::kOk);
        ASSERT_EQ(mmu.write(MTIA_REG_MMU_CTRL, MTIA_MMU_CTRL_ENABLE), mtia::Mmu::Access::kOk);
    }
    uint16_t tr(uint32_t ctx, uint64_t va, uint64_t len, bool write)
    {
        return mmu.translate(ctx, mtia_operand{va, 0}, len, write, &spans, &fault);
    }
    uint32_t reg(uint64_t off)
    {
        uint32_t v = 0;
        EXPECT_EQ(mmu.read(off, &v), mtia::Mmu::Access::kOk);
        return v;
    }

    Host h;
    FakeHost fh{h};
    std::vector<uint8_t> devmem = std::vector<uint8_t>(kDevmem);
    mtia::Mmu mmu{fh};
    PageTables pt{h};
    std::vector<mtia::Span> spans;
    mtia::TranslateFault fault;
};

TEST_F(MmuTest, WalkSplitsAtPagesAndMergesAdjacentOnes)
{
    // VA 0x10000: 4 host pages, the 2nd right after the 1st, then a jump,
    // then adjacent again; VA 0x20000: 3 device pages, contiguous.
    pt.map(1, 0x10000, kData, kRW, 2);
    pt.map(1, 0x12000, kData + 0x10000, kRW, 2);
    pt.map(1, 0x20000, 0x200000, kRW | MTIA_PTE_DEVMEM, 3);
    ASSERT_EQ(tr(1, 0x10000 + 0x100, 4 * kPage - 0x200, false), MTIA_CQE_OK);
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_FALSE(spans[0].devmem);
    EXPECT_EQ(spans[0].dma, kData + 0x100);
    EXPECT_EQ(spans[0].len, 2 * kPage - 0x100);
    EXPECT_EQ(spans[1].dma, kData + 0x10000);
    EXPECT_EQ(spans[1].len, 2 * kPage - 0x100);
    ASSERT_EQ(tr(1, 0x20000 + 8, 3 * kPage - 8, true), MTIA_CQE_OK);
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_TRUE(spans[0].devmem);
    EXPECT_EQ(spans[0].ptr, devmem.data() + 0x200008);
    EXPECT_EQ(spans[0].len, 3 * kPage - 8);
    // A host page and a device page never merge.
    pt.map(1, 0x13000 + kPage, 0x200000 + 3 * kPage, kRW | MTIA_PTE_DEVMEM);
    ASSERT_EQ(tr(1, 0x13000, 2 * kPage, false), MTIA_CQE_OK);
    ASSERT_EQ(spans.size(), 2u);
    EXPECT_FALSE(spans[0].devmem);
    EXPECT_TRUE(spans[1].devmem);
    EXPECT_EQ(reg(MTIA_REG_MMU_FAULT_COUNT), 0u);
}

TEST_F(MmuTest, PermissionsAndUnmappedPagesFault)
{
    pt.map(2, 0x10000, kData, MTIA_PTE_READ);
    pt.map(2, 0x11000, kData + kPage, MTIA_PTE_WRITE);
    EXPECT_EQ(tr(2, 0x10000, 16, false), MTIA_CQE_OK);
    EXPECT_EQ(tr(2, 0x10000 + 8, 16, true), MTIA_CQE_TRANSLATION_FAULT);  // read-only page written
    EXPECT_EQ(fault.va, 0x10008u);
    EXPECT_EQ(fault.info, MTIA_MMU_FAULT_PERMISSION | MTIA_MMU_FAULT_WRITE);
    EXPECT_TRUE(spans.empty());
    EXPECT_EQ(tr(2, 0x11000, 16, false), MTIA_CQE_TRANSLATION_FAULT);  // write-only page read
    EXPECT_EQ(fault.info, uint32_t{MTIA_MMU_FAULT_PERMISSION});
    // An operand running off its last mapped page faults at the next page.
    EXPECT_EQ(tr(2, 0x11000, kPage + 1, true), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(fault.va, 0x12000u);
    EXPECT_EQ(mtia_mmu_fault_reason(fault.info), MTIA_MMU_FAULT_UNMAPPED);
    // The fault registers hold the last one.
    EXPECT_EQ(reg(MTIA_REG_MMU_FAULT_ADDR_LO), 0x12000u);
    EXPECT_EQ(reg(MTIA_REG_MMU_FAULT_ADDR_HI), 0u);
    EXPECT_EQ(reg(MTIA_REG_MMU_FAULT_CTX), 2u);
    EXPECT_EQ(reg(MTIA_REG_MMU_FAULT_COUNT), 3u);
    EXPECT_EQ(reg(MTIA_REG_MMU_FAULT_INFO), MTIA_MMU_FAULT_UNMAPPED | MTIA_MMU_FAULT_WRITE);
    // Another context has none of these pages; one past CTX_COUNT none at all.
    EXPECT_EQ(tr(3, 0x10000, 16, false), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(mtia_mmu_fault_reason(fault.info), MTIA_MMU_FAULT_CTX);
    EXPECT_EQ(tr(kCtxCount, 0x10000, 16, false), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(mtia_mmu_fault_reason(fault.info), MTIA_MMU_FAULT_CTX);
    EXPECT_EQ(reg(MTIA_REG_MMU_FAULT_CTX), kCtxCount);
}

TEST_F(MmuTest, BadEntriesAndAddressesFault)
{
    pt.map(1, 0x10000, kData, kRW);
    // (Each change to a valid entry is followed by an invalidation, as the
    // driver's are.)
    const auto reason = [&](uint64_t va, uint64_t len) {
        EXPECT_EQ(mmu.write(MTIA_REG_MMU_INVALIDATE, 1), mtia::Mmu::Access::kOk);
        EXPECT_EQ(tr(1, va, len, false), MTIA_CQE_TRANSLATION_FAULT) << std::hex << va;
        return mtia_mmu_fault_reason(fault.info);
    };
    // The legacy tagged forms and VAs past 39 bits are not in any space.
    EXPECT_EQ(reason(MTIA_ADDR_DEVMEM | 0x10000, 16), MTIA_MMU_FAULT_UNMAPPED);
    EXPECT_EQ(reason(MTIA_ADDR_SGT | 0x10000, 16), MTIA_MMU_FAULT_UNMAPPED);
    EXPECT_EQ(reason(MTIA_MMU_VA_LIMIT, 16), MTIA_MMU_FAULT_UNMAPPED);
    EXPECT_EQ(reason(MTIA_MMU_VA_LIMIT - 8, 16), MTIA_MMU_FAULT_UNMAPPED);
    EXPECT_EQ(mmu.translate(1, mtia_operand{0x10000, UINT64_MAX}, 16, false, &spans, &fault),
              MTIA_CQE_TRANSLATION_FAULT);
    // Reserved bits in a leaf; flags on a table pointer; a device page
    // past device memory; a table in memory the host cannot read.
    *pt.leaf(1, 0x10000) |= 1ull << 60;
    EXPECT_EQ(reason(0x10000, 16), MTIA_MMU_FAULT_BAD_ENTRY);
    pt.map(1, 0x10000, kDevmem - kPage, kRW | MTIA_PTE_DEVMEM);
    EXPECT_EQ(tr(1, 0x10000, kPage, false), MTIA_CQE_OK);
    pt.map(1, 0x10000, kDevmem, kRW | MTIA_PTE_DEVMEM);
    EXPECT_EQ(reason(0x10000, 16), MTIA_MMU_FAULT_BAD_ENTRY);
    *pt.entry(kCtxTable, 1) |= MTIA_PTE_WRITE;
    EXPECT_EQ(reason(0x10000, 16), MTIA_MMU_FAULT_BAD_ENTRY);
    *pt.entry(kCtxTable, 1) = mtia_pte(kUnmapped, MTIA_PTE_VALID);
    EXPECT_EQ(reason(0x10000, 16), MTIA_MMU_FAULT_TABLE_DMA);
}

TEST_F(MmuTest, TlbHitsUntilInvalidateThenTheNewMappingIsUsed)
{
    pt.map(1, 0x10000, kData, kRW);
    pt.map(2, 0x10000, kData + 0x8000, kRW);
    ASSERT_EQ(tr(1, 0x10000, 16, false), MTIA_CQE_OK);
    const uint64_t walks = mmu.walks();
    ASSERT_EQ(tr(1, 0x10000, 16, false), MTIA_CQE_OK);
    EXPECT_EQ(mmu.walks(), walks);  // a TLB hit
    EXPECT_GE(mmu.tlb_hits(), 1u);
    // Remapped in memory: invalidating another context keeps the entry...
    pt.map(1, 0x10000, kData + 0x4000, kRW);
    ASSERT_EQ(tr(2, 0x10000, 16, false), MTIA_CQE_OK);
    ASSERT_EQ(mmu.write(MTIA_REG_MMU_INVALIDATE, 2), mtia::Mmu::Access::kOk);
    // ...invalidating this one drops it: the new mapping is used.
    ASSERT_EQ(mmu.write(MTIA_REG_MMU_INVALIDATE, 1), mtia::Mmu::Access::kOk);
    ASSERT_EQ(tr(1, 0x10000, 16, false), MTIA_CQE_OK);
    EXPECT_EQ(spans[0].dma, kData + 0x4000);
    // Unmapped, then everything invalidated: a fault, not the old page.
    *pt.leaf(1, 0x10000) = 0;
    ASSERT_EQ(mmu.write(MTIA_REG_MMU_INVALIDATE, MTIA_MMU_INVALIDATE_ALL), mtia::Mmu::Access::kOk);
    EXPECT_EQ(tr(1, 0x10000, 16, false), MTIA_CQE_TRANSLATION_FAULT);
    // A reset empties the TLB and turns the MMU off.
    pt.map(1, 0x10000, kData, kRW);
    ASSERT_EQ(tr(1, 0x10000, 16, false), MTIA_CQE_OK);
    mmu.reset();
    EXPECT_FALSE(mmu.enabled());
    EXPECT_EQ(reg(MTIA_REG_MMU_CTX_COUNT), 0u);
    EXPECT_EQ(reg(MTIA_REG_MMU_FAULT_COUNT), 0u);
}

TEST_F(MmuTest, LargeOperandsWalkOncePerLeafTable)
{
    // 8 MiB of device memory: 2048 pages, 4 leaf tables (and not 2048 walks).
    pt.map(1, 0x40000000, 0x400000, kRW | MTIA_PTE_DEVMEM, 2048);
    ASSERT_EQ(tr(1, 0x40000000, 2048 * kPage, true), MTIA_CQE_OK);
    ASSERT_EQ(spans.size(), 1u);
    EXPECT_EQ(spans[0].len, 2048 * kPage);
    EXPECT_LE(mmu.walks(), 4u);
}

TEST_F(MmuTest, RegisterRules)
{
    // Table and count only while off; CTRL has one bit; reads of INVALIDATE 0.
    EXPECT_EQ(mmu.write(MTIA_REG_MMU_CTX_TABLE_LO, 0x2000), mtia::Mmu::Access::kBadWrite);
    EXPECT_EQ(mmu.write(MTIA_REG_MMU_CTX_COUNT, 4), mtia::Mmu::Access::kBadWrite);
    EXPECT_EQ(mmu.write(MTIA_REG_MMU_CTRL, 3), mtia::Mmu::Access::kBadWrite);
    EXPECT_EQ(mmu.write(MTIA_REG_MMU_FAULT_COUNT, 0), mtia::Mmu::Access::kBadWrite);
    ASSERT_EQ(mmu.write(MTIA_REG_MMU_CTRL, 0), mtia::Mmu::Access::kOk);
    EXPECT_EQ(mmu.write(MTIA_REG_MMU_CTX_TABLE_LO, 0x2001), mtia::Mmu::Access::kBadWrite);
    EXPECT_EQ(mmu.write(MTIA_REG_MMU_CTX_COUNT, MTIA_MMU_MAX_CTX + 1), mtia::Mmu::Access::kBadWrite);
    EXPECT_EQ(mmu.write(MTIA_REG_MMU_CTX_COUNT, MTIA_MMU_MAX_CTX), mtia::Mmu::Access::kOk);
    EXPECT_EQ(reg(MTIA_REG_MMU_CTX_TABLE_LO), static_cast<uint32_t>(kCtxTable));
    EXPECT_EQ(reg(MTIA_REG_MMU_INVALIDATE), 0u);
}

// ---- through the queues --------------------------------------------------------

class MmuQueueTest : public QueueTest {
protected:
    void SetUp() override
    {
        QueueTest::SetUp();
        setup(0);
        ASSERT_EQ(rd(MTIA_REG_CAPS) & MTIA_CAP_MMU, MTIA_CAP_MMU);
    }
    void enable()
    {
        wr(MTIA_REG_MMU_CTX_TABLE_LO, static_cast<uint32_t>(kCtxTable));
        wr(MTIA_REG_MMU_CTX_TABLE_HI, 0);
        wr(MTIA_REG_MMU_CTX_COUNT, kCtxCount);
        wr(MTIA_REG_MMU_CTRL, MTIA_MMU_CTRL_ENABLE);
        ASSERT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);
    }
    mtia_cmd in_ctx(mtia_cmd c, uint32_t ctx)
    {
        c.ctx = ctx;
        return c;
    }
    PageTables pt{h};
};

TEST_F(MmuQueueTest, CopiesThroughEachContextsTables)
{
    enable();
    const uint64_t n = 3 * kPage + 100;
    fill_random(h.at(kData, n), n, 3);
    // Context 1: its host buffer at VA 0x100000, a device buffer at 0x200000.
    pt.map(1, 0x100000, kData, kRW, 4);
    pt.map(1, 0x200000, 0x300000, kRW | MTIA_PTE_DEVMEM, 4);
    const uint64_t gen = mtia_core_devmem_generation(core);
    auto e = run1(0, in_ctx(cmd(MTIA_CMD_COPY, 1, n, host(0x100000), host(0x200000)), 1));
    EXPECT_EQ(st(e), MTIA_CQE_OK);
    EXPECT_EQ(e.result, n);
    EXPECT_EQ(std::memcmp(devmem.data() + 0x300000, h.at(kData, n), n), 0);
    // The write tracker sees the physical pages written, not the VAs.
    EXPECT_GT(mtia_core_devmem_last_write(core, 0x300000 + n - 1, 1), gen);
    EXPECT_LE(mtia_core_devmem_last_write(core, 0x200000, 4 * kPage), gen);
    // FILL and TIMESTAMP through VAs too (an operand offset added to the VA).
    EXPECT_EQ(st(run1(0, in_ctx(cmd(MTIA_CMD_FILL, 2, 64, {}, host(0x200000, 0x1000), 0x5a), 1))), MTIA_CQE_OK);
    EXPECT_EQ(devmem[0x301000], 0x5a);
    EXPECT_EQ(st(run1(0, in_ctx(cmd(MTIA_CMD_TIMESTAMP, 3, 8, {}, host(0x100000 + kPage - 4)), 1))), MTIA_CQE_OK);
    // Context 2 has not mapped those VAs: a fault naming the VA, nothing
    // written; the queue goes on and context 1 still works.
    std::vector<uint8_t> before(devmem.begin() + 0x300000, devmem.begin() + 0x304000);
    e = run1(0, in_ctx(cmd(MTIA_CMD_COPY, 4, 64, host(0x100000), host(0x200000, 8)), 2));
    EXPECT_EQ(st(e), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(e.result, 0x100000u);
    EXPECT_EQ(rd(MTIA_REG_MMU_FAULT_CTX), 2u);
    EXPECT_EQ(rd(MTIA_REG_MMU_FAULT_ADDR_LO), 0x100000u);
    EXPECT_EQ(rd(MTIA_REG_MMU_FAULT_COUNT), 1u);
    e = run1(0, in_ctx(cmd(MTIA_CMD_FILL, 5, 64, {}, host(0x200000)), 2));
    EXPECT_EQ(st(e), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(e.result, 0x200000u);
    EXPECT_TRUE(std::equal(before.begin(), before.end(), devmem.begin() + 0x300000));
    EXPECT_EQ(st(run1(0, in_ctx(cmd(MTIA_CMD_FILL, 6, 8, {}, host(0x200000)), 1))), MTIA_CQE_OK);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);  // a fault is a completion, not a device error
}

TEST_F(MmuQueueTest, LegacyFormsWorkOffAndFaultOn)
{
    fill_random(h.at(kData, 256), 256, 5);
    // MMU off (the reset state): device offsets and host addresses as ever.
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_COPY, 1, 256, host(kData), dev(0x100000)))), MTIA_CQE_OK);
    EXPECT_EQ(std::memcmp(devmem.data() + 0x100000, h.at(kData, 256), 256), 0);
    enable();
    auto e = run1(0, in_ctx(cmd(MTIA_CMD_COPY, 2, 256, host(kData), dev(0x200000)), 1));
    EXPECT_EQ(st(e), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(e.result, kData);  // the flat host address is an unmapped VA
    e = run1(0, in_ctx(cmd(MTIA_CMD_FILL, 3, 16, {}, dev(0x200000)), 1));
    EXPECT_EQ(st(e), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(e.result, MTIA_ADDR_DEVMEM | 0x200000);
    EXPECT_EQ(devmem[0x200000], 0);
    // A device reset turns the MMU off: the legacy forms again.
    mtia_core_reset(core);
    EXPECT_EQ(rd(MTIA_REG_MMU_CTRL), 0u);
    EXPECT_EQ(rd(MTIA_REG_MMU_FAULT_COUNT), 0u);
    setup(0);
    EXPECT_EQ(st(run1(0, cmd(MTIA_CMD_FILL, 4, 16, {}, dev(0x200000), 7))), MTIA_CQE_OK);
    EXPECT_EQ(devmem[0x200000], 7);
}

TEST_F(MmuQueueTest, ComputeArenaMustBeContiguousDeviceMemory)
{
    enable();
    std::vector<mtia_op> prog(2, corpus::copy_op());
    const uint64_t n = prog.size() * sizeof(mtia_op);
    std::memcpy(h.at(kData, n), prog.data(), n);
    pt.map(1, 0x100000, kData, MTIA_PTE_READ);                // the program, read-only
    pt.map(1, 0x200000, 0x400000, kRW | MTIA_PTE_DEVMEM, 2);  // an arena: 2 adjacent pages
    pt.map(1, 0x300000, 0x500000, kRW | MTIA_PTE_DEVMEM);     // another: 2 pages apart
    pt.map(1, 0x301000, 0x500000 + 2 * kPage, kRW | MTIA_PTE_DEVMEM);
    pt.map(1, 0x380000, kData + 0x10000, kRW, 2);  // host pages
    const float x = 2.5f;
    std::memcpy(devmem.data() + 0x400000, &x, 4);
    auto compute = [&](uint16_t cid, mtia_operand arena) {
        return in_ctx(cmd(MTIA_CMD_COMPUTE, cid, n, host(0x100000), arena, 2 * kPage), 1);
    };
    EXPECT_EQ(st(run1(0, compute(1, host(0x200000)))), MTIA_CQE_OK);
    float y = 0;
    std::memcpy(&y, devmem.data() + 0x400004, 4);
    EXPECT_EQ(y, x);
    EXPECT_EQ(st(run1(0, compute(2, host(0x300000)))), MTIA_CQE_BAD_ADDRESS);
    EXPECT_EQ(st(run1(0, compute(3, host(0x380000)))), MTIA_CQE_BAD_ADDRESS);
    // An arena past its mapping, a program the context cannot read.
    auto e = run1(0, compute(4, host(0x200000, kPage)));
    EXPECT_EQ(st(e), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(e.result, 0x202000u);
    e = run1(0, in_ctx(cmd(MTIA_CMD_COMPUTE, 5, n, host(0x100000), host(0x200000), 2 * kPage), 2));
    EXPECT_EQ(st(e), MTIA_CQE_TRANSLATION_FAULT);
    EXPECT_EQ(e.result, 0x200000u);
}

TEST_F(MmuQueueTest, SnapshotCarriesTheRegisters)
{
    enable();
    run1(0, in_ctx(cmd(MTIA_CMD_FILL, 1, 8, {}, host(0x700000)), 3));  // a fault to record
    mtia_core_snapshot snap{};
    ASSERT_EQ(mtia_core_save(core, &snap), 0);
    EXPECT_EQ(snap.mmu_ctrl, MTIA_MMU_CTRL_ENABLE);
    EXPECT_EQ(snap.mmu_ctx_count, kCtxCount);
    EXPECT_EQ(snap.mmu_fault_ctx, 3u);
    mtia_core_reset(core);
    ASSERT_EQ(mtia_core_load(core, &snap), 0);
    EXPECT_EQ(rd(MTIA_REG_MMU_CTRL), MTIA_MMU_CTRL_ENABLE);
    EXPECT_EQ(rd(MTIA_REG_MMU_CTX_TABLE_LO), static_cast<uint32_t>(kCtxTable));
    EXPECT_EQ(rd(MTIA_REG_MMU_FAULT_ADDR_LO), 0x700000u);
    pt.map(1, 0x100000, 0x100000, kRW | MTIA_PTE_DEVMEM);
    EXPECT_EQ(st(run1(0, in_ctx(cmd(MTIA_CMD_FILL, 2, 8, {}, host(0x100000), 9), 1))), MTIA_CQE_OK);
    EXPECT_EQ(devmem[0x100000], 9);
    // Values the device could not have had are refused.
    snap.mmu_ctrl = 2;
    EXPECT_EQ(mtia_core_load(core, &snap), -1);
}

// A queue bound to a context (Q_CTX: a user queue) runs that context's
// commands only, and only with the MMU on; the others complete with
// BAD_CONTEXT and touch nothing, and unbound queues are unaffected.
TEST_F(MmuQueueTest, BoundQueueRunsOnlyItsContextWithTheMmuOn)
{
    wr(MTIA_REG_Q(0, MTIA_Q_CTX), mtia_q_ctx(1));  // queue 0 is enabled
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(rd(MTIA_REG_Q(0, MTIA_Q_CTX)), 0u);
    wr(MTIA_REG_ERR_STATUS, ~0u);
    wr(MTIA_REG_Q(1, MTIA_Q_CTX), 1u << 20);  // a reserved bit
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE);
    wr(MTIA_REG_ERR_STATUS, ~0u);
    wr(MTIA_REG_Q(1, MTIA_Q_CTX), mtia_q_ctx(1));
    EXPECT_EQ(rd(MTIA_REG_Q(1, MTIA_Q_CTX)), MTIA_Q_CTX_BIND | 1u);
    setup(1);
    // MMU off: every address would be a bus address, so nothing runs.
    EXPECT_EQ(st(run1(1, in_ctx(cmd(MTIA_CMD_FILL, 1, 8, {}, dev(0x300000), 7), 1))), MTIA_CQE_BAD_CONTEXT);
    EXPECT_EQ(devmem[0x300000], 0);
    EXPECT_EQ(st(run1(1, in_ctx(cmd(MTIA_CMD_NOP, 2), 1))), MTIA_CQE_BAD_CONTEXT);
    enable();
    pt.map(1, 0x200000, 0x300000, kRW | MTIA_PTE_DEVMEM);
    pt.map(2, 0x200000, 0x400000, kRW | MTIA_PTE_DEVMEM);
    EXPECT_EQ(st(run1(1, in_ctx(cmd(MTIA_CMD_FILL, 3, 8, {}, host(0x200000), 5), 1))), MTIA_CQE_OK);
    EXPECT_EQ(devmem[0x300000], 5);
    // Another context's command, well-formed and mapped there: refused.
    EXPECT_EQ(st(run1(1, in_ctx(cmd(MTIA_CMD_FILL, 4, 8, {}, host(0x200000), 6), 2))), MTIA_CQE_BAD_CONTEXT);
    EXPECT_EQ(devmem[0x400000], 0);
    EXPECT_EQ(st(run1(1, in_ctx(cmd(MTIA_CMD_NOP, 5), 2))), MTIA_CQE_BAD_CONTEXT);
    EXPECT_EQ(st(run1(1, in_ctx(cmd(MTIA_CMD_FENCE, 6), 1))), MTIA_CQE_OK);
    // The unbound queue runs any context's commands.
    EXPECT_EQ(st(run1(0, in_ctx(cmd(MTIA_CMD_FILL, 7, 8, {}, host(0x200000), 6), 2))), MTIA_CQE_OK);
    EXPECT_EQ(devmem[0x400000], 6);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);  // completions, not device errors
    // The binding migrates, and a reset clears it.
    mtia_core_snapshot snap{};
    ASSERT_EQ(mtia_core_save(core, &snap), 0);
    EXPECT_EQ(snap.q_state[MTIA_CORE_Q_WORDS + MTIA_CORE_QS_CTX], MTIA_Q_CTX_BIND | 1u);
    mtia_core_reset(core);
    EXPECT_EQ(rd(MTIA_REG_Q(1, MTIA_Q_CTX)), 0u);
    ASSERT_EQ(mtia_core_load(core, &snap), 0);
    EXPECT_EQ(rd(MTIA_REG_Q(1, MTIA_Q_CTX)), MTIA_Q_CTX_BIND | 1u);
    snap.q_state[MTIA_CORE_Q_WORDS + MTIA_CORE_QS_CTX] = 1u << 20;
    EXPECT_EQ(mtia_core_load(core, &snap), -1);
}

TEST(MmuProperty, OffHasNoCapabilityNorRegisters)
{
    mtia_core_config cfg;
    mtia_core_config_default(&cfg);
    EXPECT_EQ(cfg.mmu, 1u);
    cfg.mmu = 0;
    mtia_core *core = mtia_core_new(&cfg, nullptr, nullptr);
    ASSERT_NE(core, nullptr);
    EXPECT_EQ(mtia_core_mmio_read(core, MTIA_REG_CAPS, 4) & MTIA_CAP_MMU, 0u);
    EXPECT_EQ(mtia_core_mmio_read(core, MTIA_REG_MMU_CTRL, 4), 0u);
    EXPECT_EQ(mtia_core_mmio_read(core, MTIA_REG_ERR_STATUS, 4), uint64_t{MTIA_ERR_BAD_OFFSET});
    mtia_core_free(core);
    cfg.mmu = 2;
    char why[128];
    EXPECT_EQ(mtia_core_config_validate(&cfg, why, sizeof(why)), -1);
}

}  // namespace
