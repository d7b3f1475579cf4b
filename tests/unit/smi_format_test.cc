// SPDX-License-Identifier: MIT
// mtia-smi's views from fixed device descriptions.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "smi_format.h"
#include "smi_test_devices.h"

namespace {

using smi_test::two_devices;
using smi_test::two_processes;

// Every line after the first @skip has the same width.
void expect_aligned(const std::string &t, size_t skip)
{
    size_t width = 0, start = 0;
    for (size_t i = 0; i < skip; i++) start = t.find('\n', start) + 1;
    while (start < t.size()) {
        size_t end = t.find('\n', start);
        if (width == 0) width = end - start;
        EXPECT_EQ(end - start, width) << t.substr(start, end - start) << "\nin\n" << t;
        start = end + 1;
    }
}

TEST(Format, Bytes) { EXPECT_EQ(mtia::smi::format_bytes_mib(3ull << 30), "3072 MiB"); }

TEST(Format, TableHasOneAlignedRowPerDeviceWithTelemetry)
{
    std::string t = mtia::smi::format_table(two_devices());
    EXPECT_NE(t.find("Driver Version: 0.1.0    Devices: 2"), std::string::npos) << t;
    EXPECT_NE(t.find("| 0   | MTIA v1 (emulated) | 0000:00:03.0 |"), std::string::npos) << t;
    EXPECT_NE(t.find("| 1   | MTIA v1 (emulated) | 0000:00:04.0 | 47C  | 9.2W / 25.0W |"
                     " 64MiB / 2047MiB | 0%  | 97% | 12% | 800MHz | 1.2.3    |"),
              std::string::npos)
        << t;
    // Device 0 reports no telemetry: N/A, not zeros.
    EXPECT_NE(t.find("| 0000:00:03.0 | N/A  | N/A / N/A    | N/A             | N/A | N/A | N/A |"
                     " N/A    | N/A      |"),
              std::string::npos)
        << t;
    expect_aligned(t, 1);
}

TEST(Format, ProcessTable)
{
    std::string t = mtia::smi::format_processes(two_devices(), two_processes(), true);
    EXPECT_EQ(t.rfind("Processes:\n", 0), 0u) << t;
    EXPECT_NE(t.find("| 1   | 4242 | mtia-run     | 64 MiB        | 128 MiB     |"), std::string::npos) << t;
    EXPECT_NE(t.find("| 0   | 77   | python3      | 0 MiB         | 0 MiB       |"), std::string::npos) << t;
    EXPECT_EQ(t.find("Only your own"), std::string::npos);
    expect_aligned(t, 1);

    std::string none = mtia::smi::format_processes(two_devices(), {}, false);
    EXPECT_NE(none.find("| No running processes found"), std::string::npos) << none;
    EXPECT_NE(none.find("| Only your own processes are shown (root sees all)  "), std::string::npos) << none;
    expect_aligned(none, 1);
}

TEST(Format, ListOneLinePerDevice)
{
    EXPECT_EQ(mtia::smi::format_list(two_devices()),
              "MTIA 0: MTIA v1 (emulated) (Bus-Id: 0000:00:03.0, Node: /dev/accel/accel0)\n"
              "MTIA 1: MTIA v1 (emulated) (Bus-Id: 0000:00:04.0, Node: /dev/accel/accel1, "
              "Serial: 4d544941e1c3ddf8, UUID: MTIA-4d544941-e1c3-ddf8-0000-000000000000)\n");
}

TEST(Format, JsonParsesAndCarriesEveryField)
{
    auto j = nlohmann::json::parse(mtia::smi::format_json(two_devices(), two_processes()));
    ASSERT_EQ(j["devices"].size(), 2u);
    EXPECT_EQ(j["driver_version"], "0.1.0");
    const auto &d = j["devices"][1];
    EXPECT_EQ(d["index"], 1);
    EXPECT_EQ(d["pci_bus_id"], "0000:00:04.0");
    EXPECT_EQ(d["serial"], "4d544941e1c3ddf8");
    EXPECT_EQ(d["device_memory_bytes"], 2ull << 30);
    EXPECT_EQ(d["pe_rows"], 8);
    EXPECT_EQ(d["firmware_version"], "1.2.3");
    EXPECT_EQ(d["firmware_status"], "ready");
    EXPECT_EQ(d["reset_count"], 2);
    EXPECT_EQ(d["memory"]["used_bytes"], 64ull << 20);
    EXPECT_DOUBLE_EQ(d["temperature_c"]["die"].get<double>(), 47.25);
    EXPECT_DOUBLE_EQ(d["power_w"]["limit"].get<double>(), 25.0);
    EXPECT_EQ(d["utilization_percent"]["dma"], 97);
    EXPECT_EQ(d["clocks_mhz"]["current"], 800);
    EXPECT_EQ(d["throttle_reasons"], "none");
    EXPECT_EQ(d["ecc_errors"]["corrected"], 3);
    EXPECT_EQ(d["ecc_errors"]["aggregate"]["corrected"], 40);
    EXPECT_EQ(d["ecc_errors"]["aggregate"]["uncorrected"], 2);
    EXPECT_EQ(d["pci"]["vendor_id"], "0x1d9b");
    EXPECT_EQ(d["pci"]["vendor_name"], "Meta Platforms, Inc.");
    EXPECT_EQ(d["pci"]["link_gen"], 4);
    EXPECT_EQ(d["pci"]["link_width"], 8);
    const auto &a = j["devices"][0];
    EXPECT_TRUE(a["firmware_version"].is_null());
    EXPECT_TRUE(a["serial"].is_null());
    EXPECT_TRUE(a["temperature_c"]["die"].is_null());
    EXPECT_TRUE(a["utilization_percent"]["pe"].is_null());
    ASSERT_EQ(j["processes"].size(), 2u);
    EXPECT_EQ(j["processes"][1]["pid"], 4242);
    EXPECT_EQ(j["processes"][1]["pci_bus_id"], "0000:00:04.0");
    EXPECT_EQ(j["processes"][1]["device_memory_bytes"], 64ull << 20);
    EXPECT_EQ(j["processes"][1]["dma_busy_ns"], 1500000000);
    EXPECT_TRUE(j["processes"][1]["compute_busy_ns"].is_null());
}

TEST(Format, FirmwareVersion)
{
    EXPECT_EQ(mtia::smi::format_fw_version(0), "N/A");
    EXPECT_EQ(mtia::smi::format_fw_version(0x000100), "0.1.0");
    EXPECT_EQ(mtia::smi::format_fw_version(0x0a0b0c), "10.11.12");
}

TEST(Format, DetailViewListsEveryProperty)
{
    std::string q = mtia::smi::format_detail(two_devices(), two_processes(), "2026/11/26 10:00:00");
    for (const char *want : {
             "Timestamp                     : 2026/11/26 10:00:00\n",
             "Attached Devices              : 2\n",
             "\nMTIA 0000:00:04.0\n",
             "    Serial Number             : 4d544941e1c3ddf8\n",
             "    Firmware Version          : 1.2.3\n",
             "    Firmware Version          : N/A\n",
             "    Firmware Status           : ready\n",
             "    Reset Count               : 2\n",
             "    Device Memory             : 2048 MiB\n",
             "    Memory Usage\n        Total                 : 2047 MiB\n"
             "        Used                  : 64 MiB\n        Free                  : 1983 MiB\n",
             "        Data Engine           : 97 %\n",
             "        Die                   : 47.2 C\n",
             "        Average (1 s)         : 8.99 W\n",
             "        Limit                 : 25.00 W\n",
             "        Energy                : 1234.568 J\n",
             "        Core                  : 800 MHz\n",
             "        Throttle Reasons      : none\n",
             "    ECC Errors\n        Volatile\n            Corrected         : 3\n"
             "            Uncorrected       : 0\n        Aggregate\n            Corrected         : 40\n"
             "            Uncorrected       : 2\n",
             "        Vendor Id             : 0x1d9b (Meta Platforms, Inc.)\n",
             "        Link Generation       : 4 (max 4)\n",
             "        Link Width            : x8 (max x8)\n",
             "        Process ID            : 4242\n            Name              : mtia-run\n",
             "            Data Engine Time  : 1.500 s\n",
             "            PE Grid Time      : N/A\n",
         }) {
        EXPECT_NE(q.find(want), std::string::npos) << "missing: " << want << "\nin:\n" << q;
    }
    // Device 0 has no telemetry and its process shows under it only.
    size_t dev0 = q.find("\nMTIA 0000:00:03.0\n"), dev1 = q.find("\nMTIA 0000:00:04.0\n");
    ASSERT_LT(dev0, dev1);
    std::string first = q.substr(dev0, dev1 - dev0);
    EXPECT_NE(first.find("        Die                   : N/A\n"), std::string::npos) << first;
    EXPECT_NE(first.find("        Process ID            : 77\n"), std::string::npos) << first;
    EXPECT_EQ(first.find("4242"), std::string::npos) << first;
    std::string none = mtia::smi::format_detail(two_devices(), {}, "t");
    EXPECT_NE(none.find("    Processes                 : None\n"), std::string::npos) << none;
}

TEST(Format, EmptyListIsValidJson)
{
    auto j = nlohmann::json::parse(mtia::smi::format_json({}, {}));
    EXPECT_TRUE(j["devices"].empty());
    EXPECT_TRUE(j["processes"].empty());
}

}  // namespace
