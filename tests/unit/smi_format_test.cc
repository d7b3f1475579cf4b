// SPDX-License-Identifier: MIT
// mtia-smi's views from fixed device descriptions.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "smi_format.h"

namespace {

std::vector<mtia_smi::SmiDevice> two_devices()
{
    mtia_smi::SmiDevice a;
    a.info.index = 0;
    a.info.name = "MTIA v1 (emulated)";
    a.info.node = "/dev/accel/accel0";
    a.info.pci_bus_id = "0000:00:03.0";
    a.info.driver_version = "0.1.0";
    a.info.chip_id = 1;
    a.info.pe_rows = 8;
    a.info.pe_cols = 8;
    a.info.sram_bytes = 128ull << 20;
    a.info.devmem_bytes = 1ull << 30;
    a.info.msix_vectors = 1;
    a.pci = {"0000:00:03.0", 0x1d9b, 0x0a01, "Meta Platforms, Inc.", "Device 0a01"};
    mtia_smi::SmiDevice b = a;
    b.info.index = 1;
    b.info.node = "/dev/accel/accel1";
    b.info.pci_bus_id = "0000:00:04.0";
    b.info.devmem_bytes = 2ull << 30;
    b.info.fw_version = 0x10203;
    return {a, b};
}

TEST(Format, Bytes) { EXPECT_EQ(mtia_smi::format_bytes_mib(3ull << 30), "3072 MiB"); }

TEST(Format, TableHasOneAlignedRowPerDevice)
{
    std::string t = mtia_smi::format_table(two_devices());
    EXPECT_NE(t.find("Driver Version: 0.1.0"), std::string::npos) << t;
    EXPECT_NE(t.find("| 0   | MTIA v1 (emulated) | 0000:00:03.0 |"), std::string::npos) << t;
    EXPECT_NE(t.find("2048 MiB"), std::string::npos);
    EXPECT_NE(t.find("| 1.2.3 "), std::string::npos) << t;
    EXPECT_NE(t.find("N/A"), std::string::npos);
    // Every table line has the same width.
    size_t width = 0;
    size_t start = t.find('\n') + 1;
    while (start < t.size()) {
        size_t end = t.find('\n', start);
        if (width == 0) width = end - start;
        EXPECT_EQ(end - start, width) << t.substr(start, end - start);
        start = end + 1;
    }
}

TEST(Format, ListOneLinePerDevice)
{
    EXPECT_EQ(mtia_smi::format_list(two_devices()),
              "MTIA 0: MTIA v1 (emulated) (Bus-Id: 0000:00:03.0, Node: /dev/accel/accel0)\n"
              "MTIA 1: MTIA v1 (emulated) (Bus-Id: 0000:00:04.0, Node: /dev/accel/accel1)\n");
}

TEST(Format, JsonParsesAndCarriesEveryField)
{
    auto j = nlohmann::json::parse(mtia_smi::format_json(two_devices()));
    ASSERT_EQ(j["devices"].size(), 2u);
    EXPECT_EQ(j["driver_version"], "0.1.0");
    const auto &d = j["devices"][1];
    EXPECT_EQ(d["index"], 1);
    EXPECT_EQ(d["pci_bus_id"], "0000:00:04.0");
    EXPECT_EQ(d["device_memory_bytes"], 2ull << 30);
    EXPECT_EQ(d["pe_rows"], 8);
    EXPECT_EQ(d["firmware_version"], "1.2.3");
    EXPECT_TRUE(j["devices"][0]["firmware_version"].is_null());
    EXPECT_EQ(d["pci"]["vendor_id"], "0x1d9b");
    EXPECT_EQ(d["pci"]["vendor_name"], "Meta Platforms, Inc.");
}

TEST(Format, FirmwareVersion)
{
    EXPECT_EQ(mtia_smi::format_fw_version(0), "N/A");
    EXPECT_EQ(mtia_smi::format_fw_version(0x000100), "0.1.0");
    EXPECT_EQ(mtia_smi::format_fw_version(0x0a0b0c), "10.11.12");
}

TEST(Format, DetailViewListsEveryProperty)
{
    std::string q = mtia_smi::format_detail(two_devices(), "Thu Nov 26 10:00:00 2026");
    EXPECT_NE(q.find("Timestamp                     : Thu Nov 26 10:00:00 2026\n"), std::string::npos) << q;
    EXPECT_NE(q.find("Attached Devices              : 2\n"), std::string::npos) << q;
    EXPECT_NE(q.find("\nMTIA 0000:00:04.0\n"), std::string::npos) << q;
    EXPECT_NE(q.find("    Firmware Version          : 1.2.3\n"), std::string::npos) << q;
    EXPECT_NE(q.find("    Firmware Version          : N/A\n"), std::string::npos) << q;
    EXPECT_NE(q.find("    Device Memory             : 2048 MiB\n"), std::string::npos) << q;
    EXPECT_NE(q.find("        Vendor Id             : 0x1d9b (Meta Platforms, Inc.)\n"), std::string::npos) << q;
}

TEST(Format, EmptyListIsValidJson)
{
    auto j = nlohmann::json::parse(mtia_smi::format_json({}));
    EXPECT_TRUE(j["devices"].empty());
}

}  // namespace
