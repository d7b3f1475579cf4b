// SPDX-License-Identifier: MIT
// The device core's register behaviour, without QEMU.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "mtia/mtia_spec.h"
#include "mtia_core.h"

namespace {

struct Host {
    std::vector<unsigned> irqs;
    std::vector<std::string> errors;
};

const mtia_core_host_ops kOps = {
    [](void *o, unsigned v) { static_cast<Host *>(o)->irqs.push_back(v); },
    [](void *o, const char *m) { static_cast<Host *>(o)->errors.emplace_back(m); },
    nullptr,
    nullptr,
};

class CoreTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        mtia_core_config_default(&cfg);
        core = mtia_core_new(&cfg, &kOps, &host);
        ASSERT_NE(core, nullptr);
    }
    void TearDown() override { mtia_core_free(core); }
    uint32_t rd(uint64_t off) { return static_cast<uint32_t>(mtia_core_mmio_read(core, off, 4)); }
    void wr(uint64_t off, uint32_t v) { mtia_core_mmio_write(core, off, v, 4); }

    mtia_core_config cfg{};
    Host host;
    mtia_core *core = nullptr;
};

TEST_F(CoreTest, IdentityRegisters)
{
    EXPECT_EQ(rd(MTIA_REG_MAGIC), MTIA_MAGIC_VALUE);
    EXPECT_EQ(rd(MTIA_REG_IF_VERSION), MTIA_IF_VERSION_MAJOR << 16 | MTIA_IF_VERSION_MINOR);
    EXPECT_EQ(rd(MTIA_REG_CHIP_ID), MTIA_CHIP_ID_MTIA1);
    EXPECT_EQ(rd(MTIA_REG_REVISION), MTIA_PCI_REVISION);
    EXPECT_EQ(rd(MTIA_REG_PE_GRID), 8u | 8u << 8);
    EXPECT_EQ(rd(MTIA_REG_MSIX_VECTORS), static_cast<uint32_t>(MTIA_DEFAULT_MSIX_VECTORS));
    EXPECT_EQ(rd(MTIA_REG_SRAM_SIZE_LO), static_cast<uint32_t>(MTIA_DEFAULT_SRAM_BYTES));
    EXPECT_EQ(rd(MTIA_REG_SRAM_SIZE_HI), 0u);
    EXPECT_EQ(rd(MTIA_REG_DEVMEM_SIZE_LO), static_cast<uint32_t>(MTIA_DEFAULT_DEVMEM_BYTES));
    EXPECT_EQ(rd(MTIA_REG_STATUS) & MTIA_STATUS_READY, MTIA_STATUS_READY);
    EXPECT_TRUE(host.errors.empty());
}

TEST_F(CoreTest, SizesAbove4GiBSplitAcrossHiLo)
{
    mtia_core_free(core);
    cfg.devmem_bytes = 16ull << 30;
    cfg.pe_rows = 4;
    cfg.pe_cols = 16;
    core = mtia_core_new(&cfg, &kOps, &host);
    ASSERT_NE(core, nullptr);
    EXPECT_EQ(rd(MTIA_REG_DEVMEM_SIZE_LO), 0u);
    EXPECT_EQ(rd(MTIA_REG_DEVMEM_SIZE_HI), 4u);
    EXPECT_EQ(rd(MTIA_REG_PE_GRID), 4u | 16u << 8);
}

TEST_F(CoreTest, ScratchReadsBackAndResets)
{
    wr(MTIA_REG_SCRATCH, 0xdeadbeef);
    EXPECT_EQ(rd(MTIA_REG_SCRATCH), 0xdeadbeefu);
    mtia_core_reset(core);
    EXPECT_EQ(rd(MTIA_REG_SCRATCH), 0u);
}

TEST_F(CoreTest, ResetRegisterNeedsKeyAndCounts)
{
    wr(MTIA_REG_SCRATCH, 5);
    wr(MTIA_REG_RESET, 1);  // wrong key: ignored, flagged
    EXPECT_EQ(rd(MTIA_REG_SCRATCH), 5u);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(host.errors.size(), 1u);
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    EXPECT_EQ(rd(MTIA_REG_SCRATCH), 0u);
    EXPECT_EQ(rd(MTIA_REG_RESET_COUNT), 1u);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    EXPECT_EQ(rd(MTIA_REG_RESET_COUNT), 2u);
}

TEST_F(CoreTest, UnmappedOffsetIsFlaggedNotFatal)
{
    EXPECT_EQ(rd(0x700), 0u);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_OFFSET);
    EXPECT_EQ(rd(MTIA_REG_ERR_ADDR), 0x700u);
    wr(MTIA_REG_ERR_STATUS, MTIA_ERR_BAD_OFFSET);  // W1C
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);
    wr(0xffffc, 1);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_OFFSET);
    EXPECT_EQ(rd(MTIA_REG_ERR_ADDR), 0xffffcu);
    EXPECT_EQ(host.errors.size(), 2u);
    EXPECT_EQ(rd(MTIA_REG_MAGIC), MTIA_MAGIC_VALUE);
}

TEST_F(CoreTest, WriteToReadOnlyRegisterIsIgnored)
{
    wr(MTIA_REG_MAGIC, 0);
    EXPECT_EQ(rd(MTIA_REG_MAGIC), MTIA_MAGIC_VALUE);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(rd(MTIA_REG_ERR_ADDR), static_cast<uint32_t>(MTIA_REG_MAGIC));
}

TEST_F(CoreTest, BadSizeOrAlignment)
{
    EXPECT_EQ(mtia_core_mmio_read(core, MTIA_REG_MAGIC, 2), 0u);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_SIZE);
    wr(MTIA_REG_ERR_STATUS, ~0u);
    mtia_core_mmio_write(core, MTIA_REG_SCRATCH + 1, 7, 4);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_SIZE);
    EXPECT_EQ(rd(MTIA_REG_SCRATCH), 0u);
    mtia_core_mmio_write(core, MTIA_REG_SCRATCH, 7, 8);
    EXPECT_EQ(rd(MTIA_REG_SCRATCH), 0u);
}

TEST_F(CoreTest, TestInterruptMaskedByDefault)
{
    EXPECT_EQ(rd(MTIA_REG_IRQ_MASK), MTIA_IRQ_ALL);
    wr(MTIA_REG_IRQ_TEST, 1);
    EXPECT_TRUE(host.irqs.empty());
    EXPECT_EQ(rd(MTIA_REG_IRQ_STATUS), MTIA_IRQ_TEST);
    // Unmasking a pending cause delivers it.
    wr(MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_TEST);
    ASSERT_EQ(host.irqs.size(), 1u);
    EXPECT_EQ(host.irqs[0], static_cast<unsigned>(MTIA_MSIX_VEC_ADMIN));
}

TEST_F(CoreTest, TestInterruptEdgeAndW1C)
{
    wr(MTIA_REG_IRQ_MASK, 0);
    wr(MTIA_REG_IRQ_TEST, 1);
    EXPECT_EQ(host.irqs.size(), 1u);
    wr(MTIA_REG_IRQ_TEST, 1);  // still pending: no second edge
    EXPECT_EQ(host.irqs.size(), 1u);
    wr(MTIA_REG_IRQ_STATUS, MTIA_IRQ_TEST);
    EXPECT_EQ(rd(MTIA_REG_IRQ_STATUS), 0u);
    wr(MTIA_REG_IRQ_TEST, 1);
    EXPECT_EQ(host.irqs.size(), 2u);
    wr(MTIA_REG_IRQ_TEST, 0);  // bit 0 clear: no effect
    EXPECT_EQ(host.irqs.size(), 2u);
}

TEST_F(CoreTest, BadAccessRaisesErrorInterruptWhenUnmasked)
{
    wr(MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_ERROR);
    rd(0x700);
    EXPECT_EQ(host.irqs.size(), 1u);
    EXPECT_EQ(rd(MTIA_REG_IRQ_STATUS), MTIA_IRQ_ERROR);
}

TEST_F(CoreTest, SnapshotRoundTrip)
{
    wr(MTIA_REG_SCRATCH, 42);
    wr(MTIA_REG_IRQ_MASK, MTIA_IRQ_ERROR);
    wr(MTIA_REG_IRQ_TEST, 1);
    wr(MTIA_REG_RESET, 9);
    mtia_core_snapshot snap{};
    mtia_core_save(core, &snap);

    mtia_core *other = mtia_core_new(&cfg, nullptr, nullptr);
    ASSERT_NE(other, nullptr);
    ASSERT_EQ(mtia_core_load(other, &snap), 0);
    mtia_core_snapshot snap2{};
    mtia_core_save(other, &snap2);
    EXPECT_EQ(snap2.scratch, 42u);
    EXPECT_EQ(snap2.err_status, MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(snap2.irq_status, MTIA_IRQ_TEST | MTIA_IRQ_ERROR);
    EXPECT_EQ(snap2.irq_mask, MTIA_IRQ_ERROR);
    for (uint64_t off : {MTIA_REG_SCRATCH, MTIA_REG_RESET_COUNT, MTIA_REG_IRQ_STATUS, MTIA_REG_IRQ_MASK,
                         MTIA_REG_ERR_STATUS, MTIA_REG_ERR_ADDR}) {
        EXPECT_EQ(mtia_core_mmio_read(other, off, 4), mtia_core_mmio_read(core, off, 4)) << off;
    }
    mtia_core_free(other);
}

TEST_F(CoreTest, SnapshotWithImpossibleValuesRejected)
{
    mtia_core_snapshot snap{};
    mtia_core_save(core, &snap);
    snap.irq_status = 0x80000000u;
    EXPECT_EQ(mtia_core_load(core, &snap), -1);
    mtia_core_save(core, &snap);
    snap.err_addr = MTIA_BAR0_SIZE;
    EXPECT_EQ(mtia_core_load(core, &snap), -1);
}

struct BadConfig {
    const char *name;
    void (*mutate)(mtia_core_config *);
    const char *needle;
};

class ConfigTest : public ::testing::TestWithParam<BadConfig> {};

TEST_P(ConfigTest, RejectedWithReason)
{
    mtia_core_config cfg;
    mtia_core_config_default(&cfg);
    GetParam().mutate(&cfg);
    char err[128] = "";
    EXPECT_EQ(mtia_core_config_validate(&cfg, err, sizeof(err)), -1);
    EXPECT_NE(std::string(err).find(GetParam().needle), std::string::npos) << err;
    EXPECT_EQ(mtia_core_new(&cfg, nullptr, nullptr), nullptr);
}

INSTANTIATE_TEST_SUITE_P(
    Bad, ConfigTest,
    ::testing::Values(
        BadConfig{"rows0", [](mtia_core_config *c) { c->pe_rows = 0; }, "pe-rows"},
        BadConfig{"cols65", [](mtia_core_config *c) { c->pe_cols = 65; }, "pe-cols"},
        BadConfig{"sram3M", [](mtia_core_config *c) { c->sram_bytes = 3 << 20; }, "sram-size"},
        BadConfig{"devmem3M", [](mtia_core_config *c) { c->devmem_bytes = 3 << 20; }, "devmem-size"},
        BadConfig{"devmemHuge", [](mtia_core_config *c) { c->devmem_bytes = 128ull << 30; }, "devmem-size"},
        BadConfig{"msix0", [](mtia_core_config *c) { c->msix_vectors = 0; }, "msix-vectors"},
        BadConfig{"msix33", [](mtia_core_config *c) { c->msix_vectors = 33; }, "msix-vectors"},
        BadConfig{"rev", [](mtia_core_config *c) { c->revision = 256; }, "revision"},
        BadConfig{"fwkeyZero", [](mtia_core_config *c) { std::memset(c->fw_pubkey, 0, sizeof(c->fw_pubkey)); },
                  "fw-pubkey"}),
    [](const auto &info) { return std::string(info.param.name); });

TEST(Config, DefaultIsValid)
{
    mtia_core_config cfg;
    mtia_core_config_default(&cfg);
    EXPECT_EQ(mtia_core_config_validate(&cfg, nullptr, 0), 0);
}

}  // namespace
