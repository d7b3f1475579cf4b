// SPDX-License-Identifier: MIT
// In-VM: every mtia PCI function has a node, and GET_INFO through libmtia
// (C++ and C) agrees with what the device and PCI config space say.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "mtia/mtia.h"
#include "mtia/mtia.hpp"
#include "mtia/mtia_spec.h"

namespace {

std::vector<std::string> mtia_pci_functions()
{
    std::vector<std::string> out;
    FILE *p = popen(
        "for d in /sys/bus/pci/devices/*; do "
        "[ \"$(cat $d/vendor)\" = 0x1d9b ] && [ \"$(cat $d/device)\" = 0x0a01 ] && "
        "basename $d; done",
        "r");
    char line[64];
    while (p && fgets(line, sizeof(line), p)) {
        out.emplace_back(line, strcspn(line, "\n"));
    }
    if (p) pclose(p);
    return out;
}

// Size of BAR @bar of a PCI function, from sysfs "resource" (start end flags).
uint64_t bar_size(const std::string &bus_id, int bar)
{
    std::ifstream f("/sys/bus/pci/devices/" + bus_id + "/resource");
    std::string line;
    for (int i = 0; i <= bar && std::getline(f, line); i++) {
    }
    std::istringstream in(line);
    uint64_t start = 0, end = 0;
    in >> std::hex >> start >> end;
    return end ? end - start + 1 : 0;
}

TEST(DeviceInfo, EveryPciFunctionHasANode)
{
    auto pci = mtia_pci_functions();
    ASSERT_FALSE(pci.empty()) << "no mtia PCI device in this VM";
    EXPECT_EQ(mtia::device_count(), static_cast<int>(pci.size()));
    std::set<std::string> seen;
    for (int i = 0; i < mtia::device_count(); i++) {
        auto dev = mtia::Device::open(i);
        seen.insert(dev.info().pci_bus_id);
    }
    EXPECT_EQ(seen, std::set<std::string>(pci.begin(), pci.end()));
}

TEST(DeviceInfo, MatchesDeviceAndConfigSpace)
{
    for (int i = 0; i < mtia::device_count(); i++) {
        auto dev = mtia::Device::open(i);
        const auto &info = dev.info();
        SCOPED_TRACE(info.node);
        EXPECT_EQ(info.index, i);
        EXPECT_EQ(info.chip_id, MTIA_CHIP_ID_MTIA1);
        EXPECT_EQ(info.if_version_major, MTIA_IF_VERSION_MAJOR);
        EXPECT_GE(info.pe_rows, 1u);
        EXPECT_GE(info.pe_cols, 1u);
        EXPECT_GE(info.msix_vectors, 1u);
        EXPECT_EQ(info.driver_version, "0.1.0");
        EXPECT_EQ(info.name, "MTIA v1 (emulated)");
        EXPECT_EQ(info.devmem_bytes, bar_size(info.pci_bus_id, MTIA_BAR_DEVMEM));
        std::ifstream rev("/sys/bus/pci/devices/" + info.pci_bus_id + "/revision");
        unsigned r = 0;
        rev >> std::hex >> r;
        EXPECT_EQ(info.revision, r);
    }
}

TEST(DeviceInfo, PropertiesFromTheVmCommandLine)
{
    // MTIA_EXPECT_DEVICES lists what the QEMU command line gave each device,
    // as "devmem-bytes:ROWSxCOLS" separated by commas, in any order.
    const char *expect = std::getenv("MTIA_EXPECT_DEVICES");
    if (!expect) {
        GTEST_SKIP() << "MTIA_EXPECT_DEVICES not set";
    }
    std::multiset<std::string> want, got;
    std::stringstream in(expect);
    for (std::string item; std::getline(in, item, ',');) {
        auto colon = item.find(':');
        ASSERT_NE(colon, std::string::npos) << item;
        want.insert(std::to_string(std::strtoull(item.substr(0, colon).c_str(), nullptr, 0)) + ":" +
                    item.substr(colon + 1));
    }
    for (int i = 0; i < mtia::device_count(); i++) {
        auto dev = mtia::Device::open(i);
        const auto &info = dev.info();
        got.insert(std::to_string(info.devmem_bytes) + ":" + std::to_string(info.pe_rows) + "x" +
                   std::to_string(info.pe_cols));
    }
    EXPECT_EQ(got, want);
}

TEST(DeviceInfo, CApiAgreesWithCxx)
{
    int count = -1;
    ASSERT_EQ(mtia_device_count(&count), MTIA_SUCCESS);
    ASSERT_GT(count, 0);
    mtia_device *dev = nullptr;
    ASSERT_EQ(mtia_device_open(count - 1, &dev), MTIA_SUCCESS) << mtia_last_error();
    mtia_device_info info{};
    info.struct_size = sizeof(info);
    ASSERT_EQ(mtia_device_get_info(dev, &info), MTIA_SUCCESS);
    auto cxx = mtia::Device::open(count - 1);
    EXPECT_EQ(info.index, count - 1);
    EXPECT_EQ(std::string(info.pci_bus_id), cxx.info().pci_bus_id);
    EXPECT_EQ(std::string(info.node), cxx.info().node);
    EXPECT_EQ(info.devmem_bytes, cxx.info().devmem_bytes);
    EXPECT_EQ(info.sram_bytes, cxx.info().sram_bytes);
    info.struct_size = 8;  // too small for any version
    EXPECT_EQ(mtia_device_get_info(dev, &info), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_device_close(dev), MTIA_SUCCESS);
    EXPECT_EQ(mtia_device_open(count, &dev), MTIA_ERROR_NO_DEVICE);
}

TEST(DeviceInfo, ManyOpensAndClosesLeakNothing)
{
    for (int n = 0; n < 200; n++) {
        auto dev = mtia::Device::open(0);
        ASSERT_GE(dev.fd(), 0);
    }
}

}  // namespace
