// SPDX-License-Identifier: MIT
// mtia-smi's sysfs reader against a fake tree laid out as the driver,
// hwmon and the PCI core lay out theirs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "mtia/mtia_spec.h"
#include "smi_sysfs.h"

namespace {

namespace fs = std::filesystem;

class FakeSysfs : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/smi-sysfs-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root = tmpl;
        pci = root / "devices" / "0000:00:03.0";
        paths.accel_class = (root / "class" / "accel").string();
        paths.module = (root / "module" / "mtia").string();
        fs::create_directories(pci / "mtia");
        fs::create_directories(root / "class" / "accel" / "accel0");
        fs::create_symlink(pci, root / "class" / "accel" / "accel0" / "device");
        put(root / "module" / "mtia" / "version", "0.1.0");
        for (auto [k, v] : std::initializer_list<std::pair<const char *, const char *>>{{"chip_id", "0x0001"},
                                                                                        {"revision", "1"},
                                                                                        {"if_version", "1.0"},
                                                                                        {"pe_rows", "4"},
                                                                                        {"pe_cols", "16"},
                                                                                        {"sram_bytes", "134217728"},
                                                                                        {"devmem_bytes", "536870912"},
                                                                                        {"msix_vectors", "9"},
                                                                                        {"fw_version", "0.1.0"},
                                                                                        {"fw_status", "ready"},
                                                                                        {"reset_count", "3"},
                                                                                        {"mem_total", "535822336"},
                                                                                        {"mem_used", "67108864"},
                                                                                        {"serial", "4d544941c9c3b830"},
                                                                                        {"pe_busy_percent", "0"},
                                                                                        {"dma_busy_percent", "87"},
                                                                                        {"cc_busy_percent", "4"},
                                                                                        {"clock_mhz", "254"},
                                                                                        {"clock_max_mhz", "800"},
                                                                                        {"clock_min_mhz", "100"},
                                                                                        {"throttle_reasons", "power"},
                                                                                        {"ecc_corrected", "5"},
                                                                                        {"ecc_uncorrected", "1"}}) {
            put(pci / "mtia" / k, v);
        }
        // Another chip's hwmon first: only the one named "mtia" counts.
        put(pci / "hwmon" / "hwmon2" / "name", "nvme");
        put(pci / "hwmon" / "hwmon2" / "temp1_input", "99000");
        fs::path hw = pci / "hwmon" / "hwmon3";
        for (auto [k, v] :
             std::initializer_list<std::pair<const char *, const char *>>{{"name", "mtia"},
                                                                          {"temp1_input", "52350"},
                                                                          {"temp1_max", "90000"},
                                                                          {"temp1_crit", "105000"},
                                                                          {"power1_input", "10000000"},
                                                                          {"power1_average", "9876000"},
                                                                          {"power1_cap", "10000000"},
                                                                          {"power1_cap_min", "6000000"},
                                                                          {"power1_cap_max", "25000000"},
                                                                          {"energy1_input", "123456789"}}) {
            put(hw / k, v);
        }
        put(pci / "current_link_speed", "16.0 GT/s PCIe");
        put(pci / "max_link_speed", "16.0 GT/s PCIe");
        put(pci / "current_link_width", "8");
        put(pci / "max_link_width", "8");
    }
    void TearDown() override { fs::remove_all(root); }
    static void put(const fs::path &p, const std::string &v)
    {
        fs::create_directories(p.parent_path());
        std::ofstream(p) << v << "\n";
    }

    fs::path root, pci;
    mtia::smi::SysfsPaths paths;
};

TEST_F(FakeSysfs, ReadsIdentityTelemetryAndLink)
{
    EXPECT_EQ(mtia::smi::accel_pci_dir(paths, "accel0"), fs::canonical(pci).string());
    EXPECT_EQ(mtia::smi::accel_pci_dir(paths, "accel9"), "");

    auto d = mtia::smi::read_sysfs_device(paths, pci.string(), "/dev/accel/accel0", 0);
    const auto &i = d.info;
    EXPECT_EQ(i.index, 0);
    EXPECT_EQ(i.node, "/dev/accel/accel0");
    EXPECT_EQ(i.pci_bus_id, "0000:00:03.0");
    EXPECT_EQ(i.name, "MTIA v1 (emulated)");
    EXPECT_EQ(i.driver_version, "0.1.0");
    EXPECT_EQ(i.chip_id, 1u);
    EXPECT_EQ(i.revision, 1u);
    EXPECT_EQ(i.if_version_major, 1u);
    EXPECT_EQ(i.if_version_minor, 0u);
    EXPECT_EQ(i.pe_rows, 4u);
    EXPECT_EQ(i.pe_cols, 16u);
    EXPECT_EQ(i.sram_bytes, 128ull << 20);
    EXPECT_EQ(i.devmem_bytes, 512ull << 20);
    EXPECT_EQ(i.msix_vectors, 9u);
    EXPECT_EQ(i.fw_version, MTIA_FW_VERSION(0, 1, 0));

    const auto &t = d.tel;
    EXPECT_EQ(t.serial, "4d544941c9c3b830");
    EXPECT_EQ(t.fw_status, "ready");
    EXPECT_EQ(t.reset_count, 3u);
    EXPECT_EQ(t.mem_total, 535822336u);
    EXPECT_EQ(t.mem_used, 64u << 20);
    EXPECT_EQ(t.util_pe, 0u);
    EXPECT_EQ(t.util_dma, 87u);
    EXPECT_EQ(t.util_cc, 4u);
    EXPECT_EQ(t.clock_mhz, 254u);
    EXPECT_EQ(t.clock_max_mhz, 800u);
    EXPECT_EQ(t.clock_min_mhz, 100u);
    EXPECT_EQ(t.throttle, "power");
    EXPECT_EQ(t.ecc_corrected, 5u);
    EXPECT_EQ(t.ecc_uncorrected, 1u);
    EXPECT_DOUBLE_EQ(t.temp_c.value(), 52.35);
    EXPECT_DOUBLE_EQ(t.temp_slowdown_c.value(), 90);
    EXPECT_DOUBLE_EQ(t.temp_shutdown_c.value(), 105);
    EXPECT_DOUBLE_EQ(t.power_w.value(), 10);
    EXPECT_DOUBLE_EQ(t.power_avg_w.value(), 9.876);
    EXPECT_DOUBLE_EQ(t.power_cap_w.value(), 10);
    EXPECT_DOUBLE_EQ(t.power_cap_min_w.value(), 6);
    EXPECT_DOUBLE_EQ(t.power_cap_max_w.value(), 25);
    EXPECT_DOUBLE_EQ(t.energy_j.value(), 123.456789);
    EXPECT_EQ(t.link_gen, 4u);
    EXPECT_EQ(t.link_gen_max, 4u);
    EXPECT_EQ(t.link_width, 8u);
    EXPECT_EQ(t.link_width_max, 8u);
}

TEST_F(FakeSysfs, MissingOrMalformedAttributesAreNotAvailable)
{
    fs::remove_all(pci / "hwmon" / "hwmon3");
    fs::remove(pci / "mtia" / "serial");
    put(pci / "mtia" / "dma_busy_percent", "lots");
    put(pci / "mtia" / "clock_mhz", "");
    put(pci / "mtia" / "fw_version", "none");
    put(pci / "current_link_width", "0");  // an integrated endpoint has no link
    put(pci / "max_link_width", "255");
    put(pci / "max_link_speed", "Unknown");
    auto d = mtia::smi::read_sysfs_device(paths, pci.string(), "/dev/accel/accel0", 0);
    EXPECT_FALSE(d.tel.temp_c.has_value());  // the nvme hwmon is not ours
    EXPECT_FALSE(d.tel.power_w.has_value());
    EXPECT_FALSE(d.tel.util_dma.has_value());
    EXPECT_FALSE(d.tel.clock_mhz.has_value());
    EXPECT_EQ(d.tel.serial, "");
    EXPECT_EQ(d.info.fw_version, 0u);
    EXPECT_FALSE(d.tel.link_width.has_value());
    EXPECT_FALSE(d.tel.link_width_max.has_value());
    EXPECT_FALSE(d.tel.link_gen_max.has_value());
    EXPECT_EQ(d.tel.util_cc, 4u);  // the rest still read
}

TEST(SmiSysfs, PcieGenerationAndFirmwareVersion)
{
    EXPECT_EQ(mtia::smi::pcie_gen_of("2.5 GT/s PCIe"), 1u);
    EXPECT_EQ(mtia::smi::pcie_gen_of("8.0 GT/s PCIe"), 3u);
    EXPECT_EQ(mtia::smi::pcie_gen_of("16.0 GT/s PCIe"), 4u);
    EXPECT_EQ(mtia::smi::pcie_gen_of("32.0 GT/s PCIe"), 5u);
    EXPECT_FALSE(mtia::smi::pcie_gen_of("Unknown").has_value());
    EXPECT_FALSE(mtia::smi::pcie_gen_of("16.0").has_value());
    EXPECT_EQ(mtia::smi::parse_fw_version("1.2.3"), MTIA_FW_VERSION(1, 2, 3));
    EXPECT_EQ(mtia::smi::parse_fw_version("none"), 0u);
    EXPECT_EQ(mtia::smi::parse_fw_version("1.2"), 0u);
    EXPECT_EQ(mtia::smi::parse_fw_version("1.2.3x"), 0u);
    EXPECT_EQ(mtia::smi::parse_fw_version("1.2.300"), 0u);
}

TEST_F(FakeSysfs, ResetWritesTheAttribute)
{
    put(pci / "mtia" / "reset", "");
    EXPECT_EQ(mtia::smi::sysfs_reset(pci.string()), 0);
    std::ifstream f(pci / "mtia" / "reset");
    std::string v;
    std::getline(f, v);
    EXPECT_EQ(v, "1");
    EXPECT_NE(mtia::smi::sysfs_reset((root / "nowhere").string()), 0);
}

}  // namespace
