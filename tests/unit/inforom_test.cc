// SPDX-License-Identifier: MIT
// The board's infoROM (qemu-device/core/mtia_inforom.h, docs/telemetry.md
// "Aggregate ECC counts"): the file format and its checks, then the device
// core keeping the lifetime ECC counts in it across power cycles (a core
// freed and a new one created on the same file) and device resets.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include "mtia/mtia_spec.h"
#include "mtia_core.h"
#include "mtia_inforom.h"

namespace {

namespace fs = std::filesystem;
using mtia::InforomCounts;

class Inforom : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/inforom_test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        path = dir + "/board.irom";
    }
    void TearDown() override { fs::remove_all(dir); }

    std::string bytes() const
    {
        std::ifstream f(path, std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(f), {});
    }
    void put(const std::string &b) const { std::ofstream(path, std::ios::binary | std::ios::trunc) << b; }

    // A device core on the infoROM at @p: 0 and *core, or -1 and *why.
    int power_on(const std::string &p, mtia_core **core, std::string *why)
    {
        mtia_core_config cfg;
        mtia_core_config_default(&cfg);
        *core = mtia_core_new(&cfg, nullptr, nullptr);
        char buf[256] = "";
        int rc = mtia_core_open_inforom(*core, p.c_str(), buf, sizeof(buf));
        *why = buf;
        return rc;
    }
    static uint32_t rd(mtia_core *c, uint64_t off) { return static_cast<uint32_t>(mtia_core_mmio_read(c, off, 4)); }
    static void wr(mtia_core *c, uint64_t off, uint32_t v) { mtia_core_mmio_write(c, off, v, 4); }

    std::string dir, path;
};

TEST_F(Inforom, FileRoundTrip)
{
    std::string why;
    InforomCounts c{123456, 0xffffffffu}, back;
    ASSERT_TRUE(mtia::inforom_store(path, c, &why)) << why;
    EXPECT_EQ(bytes().size(), mtia::kInforomBytes);
    EXPECT_EQ(bytes().substr(0, 8), "MTIAIROM");
    ASSERT_TRUE(mtia::inforom_load(path, &back, &why)) << why;
    EXPECT_EQ(back, c);
    EXPECT_FALSE(fs::exists(path + ".tmp"));  // renamed into place
    // Replaced whole.
    ASSERT_TRUE(mtia::inforom_store(path, InforomCounts{1, 2}, &why)) << why;
    ASSERT_TRUE(mtia::inforom_load(path, &back, &why)) << why;
    EXPECT_EQ(back, (InforomCounts{1, 2}));
}

TEST_F(Inforom, MissingFileIsANewBoard)
{
    std::string why;
    InforomCounts c{5, 5};
    ASSERT_TRUE(mtia::inforom_load(path, &c, &why)) << why;
    EXPECT_EQ(c, InforomCounts{});
}

TEST_F(Inforom, BadFilesAreRefusedWithTheirReason)
{
    const std::string good = mtia::inforom_encode(InforomCounts{7, 3});
    struct Case {
        std::string bytes, reason;
    };
    std::string bad_magic = good, bad_crc = good, bad_version = good;
    bad_magic[0] = 'X';
    bad_crc[12] ^= 1;  // the corrected count
    bad_version[8] = 2;
    const Case cases[] = {
        {"", "is 0 bytes"},
        {good.substr(0, 20), "is 20 bytes, not 24 (truncated"},
        {good + "x", "is 25 bytes"},
        {std::string(4096, 'A'), "is 4096 bytes, not 24"},
        {bad_magic, "bad magic"},
        {bad_crc, "checksum"},
        {bad_version, "format version 2"},
    };
    for (const Case &k : cases) {
        put(k.bytes);
        InforomCounts c;
        std::string why;
        EXPECT_FALSE(mtia::inforom_load(path, &c, &why));
        EXPECT_NE(why.find(k.reason), std::string::npos) << why;
        EXPECT_NE(why.find(path), std::string::npos) << why;
        // The device core refuses it too, with the same words (QEMU's realize
        // fails with them), and leaves the file alone.
        mtia_core *core = nullptr;
        EXPECT_EQ(power_on(path, &core, &why), -1);
        EXPECT_NE(why.find(k.reason), std::string::npos) << why;
        EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_CORR_AGG), 0u);
        mtia_core_free(core);
        EXPECT_EQ(bytes(), k.bytes);
    }
}

TEST_F(Inforom, UnwritablePathIsRefusedAtPowerOn)
{
    mtia_core *core = nullptr;
    std::string why;
    EXPECT_EQ(power_on(dir + "/no/such/dir/board.irom", &core, &why), -1);
    EXPECT_NE(why.find("No such file or directory"), std::string::npos) << why;
    mtia_core_free(core);
}

TEST_F(Inforom, DeviceKeepsAggregateCountsAcrossPowerCycles)
{
    mtia_core *core = nullptr;
    std::string why;
    ASSERT_EQ(power_on(path, &core, &why), 0) << why;
    ASSERT_TRUE(fs::exists(path));  // created at power-on
    wr(core, MTIA_REG_TEL_ECC_INJECT, 4);
    wr(core, MTIA_REG_TEL_ECC_INJECT, MTIA_TEL_ECC_INJECT_UNCORR | 1);
    // Written back as they change, not only at power-off.
    InforomCounts c;
    ASSERT_TRUE(mtia::inforom_load(path, &c, &why)) << why;
    EXPECT_EQ(c, (InforomCounts{4, 1}));
    // A device reset keeps both kinds.
    wr(core, MTIA_REG_RESET, MTIA_RESET_KEY);
    mtia_core_reset(core);
    EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_CORR), 4u);
    EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_CORR_AGG), 4u);
    mtia_core_free(core);

    // Power on again: the lifetime counts are back, the volatile ones 0.
    ASSERT_EQ(power_on(path, &core, &why), 0) << why;
    EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_CORR), 0u);
    EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_UNCORR), 0u);
    EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_CORR_AGG), 4u);
    EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_UNCORR_AGG), 1u);
    wr(core, MTIA_REG_TEL_ECC_INJECT, 2);
    EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_CORR), 2u);
    EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_CORR_AGG), 6u);
    // Clearing the volatile counts does not touch the file's.
    wr(core, MTIA_REG_TEL_ECC_CLEAR, MTIA_TEL_ECC_CLEAR_VOLATILE);
    ASSERT_TRUE(mtia::inforom_load(path, &c, &why)) << why;
    EXPECT_EQ(c, (InforomCounts{6, 1}));
    // Clearing the aggregate ones does.
    wr(core, MTIA_REG_TEL_ECC_CLEAR, MTIA_TEL_ECC_CLEAR_AGGREGATE);
    ASSERT_TRUE(mtia::inforom_load(path, &c, &why)) << why;
    EXPECT_EQ(c, InforomCounts{});
    mtia_core_free(core);
    ASSERT_EQ(power_on(path, &core, &why), 0) << why;
    EXPECT_EQ(rd(core, MTIA_REG_TEL_ECC_CORR_AGG), 0u);
    mtia_core_free(core);
}

TEST_F(Inforom, SnapshotLoadWritesTheMigratedCounts)
{
    mtia_core *src = nullptr, *dst = nullptr;
    std::string why;
    ASSERT_EQ(power_on(dir + "/src.irom", &src, &why), 0) << why;
    wr(src, MTIA_REG_TEL_ECC_INJECT, 9);
    auto snap = std::make_unique<mtia_core_snapshot>();
    ASSERT_EQ(mtia_core_save(src, snap.get()), 0);
    ASSERT_EQ(power_on(path, &dst, &why), 0) << why;
    ASSERT_EQ(mtia_core_load(dst, snap.get()), 0);
    EXPECT_EQ(rd(dst, MTIA_REG_TEL_ECC_CORR_AGG), 9u);
    InforomCounts c;
    ASSERT_TRUE(mtia::inforom_load(path, &c, &why)) << why;
    EXPECT_EQ(c, (InforomCounts{9, 0}));
    mtia_core_free(src);
    mtia_core_free(dst);
}

}  // namespace
