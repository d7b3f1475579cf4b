// SPDX-License-Identifier: MIT
// The management API's sysfs reader (runtime/mgmt_sysfs.cc) against a fake
// tree laid out as the driver, hwmon and the PCI core lay out theirs.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "mtia/mtia_spec.h"
#include "mgmt_fake_sysfs.h"
#include "mtia/mtia_mgmt.hpp"

namespace {

namespace fs = std::filesystem;
using mgmt_test::FakeSysfs;

TEST_F(FakeSysfs, ReadsIdentityTelemetryAndLink)
{
    ASSERT_EQ(mtia::mgmt::Device::count(), 1u);
    auto dev = mtia::mgmt::Device::by_index(0);
    EXPECT_EQ(dev.bus_id(), "0000:00:03.0");
    auto d = dev.status();
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
    EXPECT_EQ(t.throttle_mask, mtia::mgmt::kThrottleSwPowerCap);
    EXPECT_EQ(t.fw_version, "0.1.0");
    EXPECT_EQ(d.uuid, mtia::mgmt::uuid_from_serial("4d544941c9c3b830"));
    EXPECT_EQ(d.pci.bus_id, "0000:00:03.0");
    EXPECT_EQ(d.pci.domain, 0u);
    EXPECT_EQ(d.pci.bus, 0u);
    EXPECT_EQ(d.pci.device, 3u);
    EXPECT_EQ(d.pci.function, 0u);
    EXPECT_EQ(d.pci.vendor_id, 0x1d9bu);
    EXPECT_EQ(d.pci.device_id, 0x0a01u);
    EXPECT_EQ(d.pci.link_gen, 4u);
    EXPECT_EQ(d.pci.link_width_max, 8u);
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
    auto d = mtia::mgmt::Device::by_index(0).status();
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

TEST(MgmtSysfs, PcieGenerationAndFirmwareVersion)
{
    EXPECT_EQ(mtia::mgmt::pcie_gen_of("2.5 GT/s PCIe"), 1u);
    EXPECT_EQ(mtia::mgmt::pcie_gen_of("8.0 GT/s PCIe"), 3u);
    EXPECT_EQ(mtia::mgmt::pcie_gen_of("16.0 GT/s PCIe"), 4u);
    EXPECT_EQ(mtia::mgmt::pcie_gen_of("32.0 GT/s PCIe"), 5u);
    EXPECT_FALSE(mtia::mgmt::pcie_gen_of("Unknown").has_value());
    EXPECT_FALSE(mtia::mgmt::pcie_gen_of("16.0").has_value());
    EXPECT_EQ(mtia::mgmt::parse_fw_version("1.2.3"), MTIA_FW_VERSION(1, 2, 3));
    EXPECT_EQ(mtia::mgmt::parse_fw_version("none"), 0u);
    EXPECT_EQ(mtia::mgmt::parse_fw_version("1.2"), 0u);
    EXPECT_EQ(mtia::mgmt::parse_fw_version("1.2.3x"), 0u);
    EXPECT_EQ(mtia::mgmt::parse_fw_version("1.2.300"), 0u);
}

// The C++ face finds the device every way mtia-smi -i names one.
TEST_F(FakeSysfs, DeviceByAnyId)
{
    const std::string uuid = mtia::mgmt::uuid_from_serial("4d544941c9c3b830");
    for (const char *id : {"0", "0000:00:03.0", "00:03.0", "4D544941C9C3B830"}) {
        EXPECT_EQ(mtia::mgmt::Device::by_id(id).bus_id(), "0000:00:03.0") << id;
    }
    EXPECT_EQ(mtia::mgmt::Device::by_id(uuid).node(), "/dev/accel/accel0");
    for (const char *id : {"1", "99999999999", "0000:00:04.0", "", "MTIA-0"}) {
        try {
            mtia::mgmt::Device::by_id(id);
            ADD_FAILURE() << "found a device for '" << id << "'";
        } catch (const mtia::Error &e) {
            EXPECT_EQ(e.status(), MTIA_ERROR_NO_DEVICE) << id;
        }
    }
    // Another accel driver's node (no "mtia" group) is not a device.
    fs::create_directories(root / "other" / "0000:00:05.0");
    fs::create_directories(root / "class" / "accel" / "accel1");
    fs::create_symlink(root / "other" / "0000:00:05.0", root / "class" / "accel" / "accel1" / "device");
    EXPECT_EQ(mtia::mgmt::Device::count(), 1u);
}

TEST(MgmtSysfs, ThrottleReasonsAsNvmlBits)
{
    EXPECT_EQ(mtia::mgmt::throttle_mask_of("none"), 0u);
    EXPECT_EQ(mtia::mgmt::throttle_mask_of("power"), 0x4u);
    EXPECT_EQ(mtia::mgmt::throttle_mask_of("thermal"), 0x48u);
    EXPECT_EQ(mtia::mgmt::throttle_mask_of("power,thermal"), 0x4cu);
    EXPECT_FALSE(mtia::mgmt::throttle_mask_of("fan").has_value());
    EXPECT_FALSE(mtia::mgmt::throttle_mask_of("").has_value());
}

}  // namespace
