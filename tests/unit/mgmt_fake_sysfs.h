// SPDX-License-Identifier: MIT
// A fake sysfs tree laid out as the driver, hwmon and the PCI core lay out
// theirs, for the management API's tests: one device (accel0 at
// 0000:00:03.0) with every attribute, and the environment pointing the
// library at it (restored afterwards).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>

namespace mgmt_test {

namespace fs = std::filesystem;

class FakeSysfs : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/smi-sysfs-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root = tmpl;
        pci = root / "devices" / "0000:00:03.0";
        setenv_saved("MTIA_SYSFS_ACCEL_CLASS", (root / "class" / "accel").string());
        setenv_saved("MTIA_SYSFS_MODULE_DIR", (root / "module" / "mtia").string());
        setenv_saved("MTIA_ACCEL_DIR", "/dev/accel");
        setenv_saved("MTIA_PROC_DIR", (root / "proc").string());
        fs::create_directories(root / "proc");
        fs::create_directories(pci / "mtia");
        put(pci / "vendor", "0x1d9b");
        put(pci / "device", "0x0a01");
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
    void TearDown() override
    {
        fs::remove_all(root);
        for (const auto &e : saved) {
            if (e.second) {
                setenv(e.first.c_str(), e.second->c_str(), 1);
            } else {
                unsetenv(e.first.c_str());
            }
        }
    }
    void setenv_saved(const std::string &name, const std::string &value)
    {
        const char *old = std::getenv(name.c_str());
        if (!saved.count(name)) saved[name] = old ? std::optional<std::string>(old) : std::nullopt;
        setenv(name.c_str(), value.c_str(), 1);
    }
    static void put(const fs::path &p, const std::string &v)
    {
        fs::create_directories(p.parent_path());
        std::ofstream(p) << v << "\n";
    }

    fs::path root, pci;
    std::map<std::string, std::optional<std::string>> saved;
};

}  // namespace mgmt_test
