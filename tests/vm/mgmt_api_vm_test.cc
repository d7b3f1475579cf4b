// SPDX-License-Identifier: MIT
// In-VM test of every management call (include/mtia/mtia_mgmt.h) on the
// real devices, checked against the sysfs files the driver publishes. Run
// as root and as nobody by tests/vm/test-mgmt.sh: a user reads everything;
// the controls (power limit, reset, clearing the ECC counts) succeed for root and give
// MTIA_ERROR_PERMISSION to a user, changing nothing.
#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "mtia/mtia_mgmt.h"

namespace {

std::string slurp(const std::string &path)
{
    std::ifstream f(path);
    std::string s;
    std::getline(f, s);
    return s;
}

long long num(const std::string &path) { return std::stoll(slurp(path), nullptr, 0); }

struct Dev {
    mtia_mgmt_device *h = nullptr;
    std::string bus, sys, hwmon;
};

Dev open_dev(unsigned i)
{
    Dev d;
    EXPECT_EQ(mtia_mgmt_device_get_by_index(i, &d.h), MTIA_SUCCESS) << mtia_last_error();
    mtia_mgmt_pci_info pci{};
    pci.struct_size = sizeof(pci);
    EXPECT_EQ(mtia_mgmt_device_get_pci_info(d.h, &pci), MTIA_SUCCESS) << mtia_last_error();
    d.bus = pci.bus_id;
    d.sys = "/sys/bus/pci/devices/" + d.bus;
    if (DIR *dir = opendir((d.sys + "/hwmon").c_str())) {
        while (dirent *e = readdir(dir)) {
            std::string h = d.sys + "/hwmon/" + e->d_name;
            if (e->d_name[0] != '.' && slurp(h + "/name") == "mtia") d.hwmon = h;
        }
        closedir(dir);
    }
    return d;
}

unsigned count()
{
    unsigned n = 0;
    EXPECT_EQ(mtia_mgmt_device_count(&n), MTIA_SUCCESS);
    return n;
}

TEST(MgmtVm, CountMatchesSysfsAndLookupsAgree)
{
    unsigned n = count();
    unsigned pci = 0;
    if (DIR *dir = opendir("/sys/bus/pci/devices")) {
        while (dirent *e = readdir(dir)) {
            std::string p = std::string("/sys/bus/pci/devices/") + e->d_name;
            if (slurp(p + "/vendor") == "0x1d9b" && slurp(p + "/device") == "0x0a01") pci++;
        }
        closedir(dir);
    }
    ASSERT_GT(n, 0u);
    EXPECT_EQ(n, pci);
    for (unsigned i = 0; i < n; i++) {
        Dev d = open_dev(i);
        char serial[MTIA_MGMT_STRING_LEN], uuid[MTIA_MGMT_STRING_LEN];
        ASSERT_EQ(mtia_mgmt_device_get_serial(d.h, serial, sizeof(serial)), MTIA_SUCCESS);
        EXPECT_EQ(serial, slurp(d.sys + "/mtia/serial"));
        ASSERT_EQ(mtia_mgmt_device_get_uuid(d.h, uuid, sizeof(uuid)), MTIA_SUCCESS);
        EXPECT_EQ(std::string(uuid).substr(0, 5), "MTIA-");
        mtia_mgmt_device *o = nullptr;
        EXPECT_EQ(mtia_mgmt_device_get_by_serial(serial, &o), MTIA_SUCCESS);
        EXPECT_EQ(o, d.h);
        EXPECT_EQ(mtia_mgmt_device_get_by_uuid(uuid, &o), MTIA_SUCCESS);
        EXPECT_EQ(o, d.h);
        EXPECT_EQ(mtia_mgmt_device_get_by_pci_bus_id(d.bus.c_str(), &o), MTIA_SUCCESS);
        EXPECT_EQ(o, d.h);
        unsigned idx = 99;
        EXPECT_EQ(mtia_mgmt_device_get_index(d.h, &idx), MTIA_SUCCESS);
        EXPECT_EQ(idx, i);
    }
    mtia_mgmt_device *none = nullptr;
    EXPECT_EQ(mtia_mgmt_device_get_by_index(n, &none), MTIA_ERROR_NO_DEVICE);
}

TEST(MgmtVm, IdentityAndSensorsMatchSysfs)
{
    for (unsigned i = 0; i < count(); i++) {
        Dev d = open_dev(i);
        char buf[MTIA_MGMT_STRING_LEN];
        ASSERT_EQ(mtia_mgmt_device_get_name(d.h, buf, sizeof(buf)), MTIA_SUCCESS);
        EXPECT_STREQ(buf, "MTIA v1 (emulated)");
        ASSERT_EQ(mtia_mgmt_device_get_node(d.h, buf, sizeof(buf)), MTIA_SUCCESS);
        EXPECT_EQ(std::string(buf).rfind("/dev/accel/accel", 0), 0u);
        ASSERT_EQ(mtia_mgmt_device_get_firmware_version(d.h, buf, sizeof(buf)), MTIA_SUCCESS);
        EXPECT_EQ(buf, slurp(d.sys + "/mtia/fw_version"));
        ASSERT_EQ(mtia_mgmt_device_get_firmware_status(d.h, buf, sizeof(buf)), MTIA_SUCCESS);
        EXPECT_TRUE(std::string(buf) == "ready" || std::string(buf) == "suspended") << buf;  // runtime PM
        ASSERT_EQ(mtia_mgmt_get_driver_version(buf, sizeof(buf)), MTIA_SUCCESS);
        EXPECT_EQ(buf, slurp("/sys/module/mtia/version"));
        mtia_mgmt_pci_info pci{};
        pci.struct_size = sizeof(pci);
        ASSERT_EQ(mtia_mgmt_device_get_pci_info(d.h, &pci), MTIA_SUCCESS);
        EXPECT_EQ(pci.vendor_id, 0x1d9bu);
        EXPECT_EQ(pci.device_id, 0x0a01u);
        EXPECT_EQ(pci.link_width, static_cast<uint32_t>(num(d.sys + "/current_link_width")));
        EXPECT_GT(pci.link_gen, 0u);

        ASSERT_FALSE(d.hwmon.empty()) << d.sys;
        int32_t mc = 0;
        ASSERT_EQ(mtia_mgmt_device_get_temperature(d.h, MTIA_MGMT_TEMP_SHUTDOWN, &mc), MTIA_SUCCESS);
        EXPECT_EQ(mc, num(d.hwmon + "/temp1_crit"));
        ASSERT_EQ(mtia_mgmt_device_get_temperature(d.h, MTIA_MGMT_TEMP_SLOWDOWN, &mc), MTIA_SUCCESS);
        EXPECT_EQ(mc, num(d.hwmon + "/temp1_max"));
        ASSERT_EQ(mtia_mgmt_device_get_temperature(d.h, MTIA_MGMT_TEMP_DIE, &mc), MTIA_SUCCESS);
        EXPECT_GT(mc, 0);
        EXPECT_LT(mc, num(d.hwmon + "/temp1_crit"));
        uint32_t mw = 0, lo = 0, hi = 0;
        ASSERT_EQ(mtia_mgmt_device_get_power_usage(d.h, &mw), MTIA_SUCCESS);
        EXPECT_GT(mw, 0u);
        ASSERT_EQ(mtia_mgmt_device_get_power_average(d.h, &mw), MTIA_SUCCESS);
        EXPECT_GT(mw, 0u);
        ASSERT_EQ(mtia_mgmt_device_get_power_limit(d.h, &mw), MTIA_SUCCESS);
        EXPECT_EQ(mw, static_cast<uint32_t>(num(d.hwmon + "/power1_cap") / 1000));
        ASSERT_EQ(mtia_mgmt_device_get_power_limit_constraints(d.h, &lo, &hi), MTIA_SUCCESS);
        EXPECT_EQ(lo, static_cast<uint32_t>(num(d.hwmon + "/power1_cap_min") / 1000));
        EXPECT_EQ(hi, static_cast<uint32_t>(num(d.hwmon + "/power1_cap_max") / 1000));
        uint64_t mj0 = 0, mj1 = 0;
        ASSERT_EQ(mtia_mgmt_device_get_energy(d.h, &mj0), MTIA_SUCCESS);
        // Energy only grows (the board always draws power): wait for it to.
        for (int t = 0; t < 200 && mj1 <= mj0; t++) {
            usleep(20000);
            ASSERT_EQ(mtia_mgmt_device_get_energy(d.h, &mj1), MTIA_SUCCESS);
        }
        EXPECT_GT(mj1, mj0);
        uint32_t cur = 0, max = 0, min = 0;
        ASSERT_EQ(mtia_mgmt_device_get_clock(d.h, MTIA_MGMT_CLOCK_CURRENT, &cur), MTIA_SUCCESS);
        ASSERT_EQ(mtia_mgmt_device_get_clock(d.h, MTIA_MGMT_CLOCK_MAX, &max), MTIA_SUCCESS);
        ASSERT_EQ(mtia_mgmt_device_get_clock(d.h, MTIA_MGMT_CLOCK_MIN, &min), MTIA_SUCCESS);
        EXPECT_EQ(max, static_cast<uint32_t>(num(d.sys + "/mtia/clock_max_mhz")));
        EXPECT_LE(min, cur);
        EXPECT_LE(cur, max);
        uint64_t reasons = 99;
        ASSERT_EQ(mtia_mgmt_device_get_throttle_reasons(d.h, &reasons), MTIA_SUCCESS);
        EXPECT_EQ(reasons & ~uint64_t(0x4c), 0u);
        mtia_mgmt_utilization u{};
        u.struct_size = sizeof(u);
        ASSERT_EQ(mtia_mgmt_device_get_utilization(d.h, &u), MTIA_SUCCESS);
        EXPECT_LE(u.pe, 100u);
        EXPECT_LE(u.dma, 100u);
        EXPECT_LE(u.cc, 100u);
        mtia_mgmt_memory m{};
        m.struct_size = sizeof(m);
        ASSERT_EQ(mtia_mgmt_device_get_memory_info(d.h, &m), MTIA_SUCCESS);
        EXPECT_EQ(m.total_bytes, static_cast<uint64_t>(num(d.sys + "/mtia/mem_total")));
        EXPECT_EQ(m.free_bytes + m.used_bytes, m.total_bytes);
        EXPECT_EQ(m.reserved_bytes + m.total_bytes, static_cast<uint64_t>(num(d.sys + "/mtia/devmem_bytes")));
        uint64_t c = 0, un = 0;
        ASSERT_EQ(mtia_mgmt_device_get_ecc_errors(d.h, &c, &un), MTIA_SUCCESS);
        EXPECT_EQ(c, static_cast<uint64_t>(num(d.sys + "/mtia/ecc_corrected")));
        EXPECT_EQ(un, static_cast<uint64_t>(num(d.sys + "/mtia/ecc_uncorrected")));
        ASSERT_EQ(mtia_mgmt_device_get_ecc_error_counts(d.h, MTIA_MGMT_ECC_AGGREGATE, &c, &un), MTIA_SUCCESS)
            << mtia_last_error();
        EXPECT_EQ(c, static_cast<uint64_t>(num(d.sys + "/mtia/ecc_corrected_aggregate")));
        EXPECT_EQ(un, static_cast<uint64_t>(num(d.sys + "/mtia/ecc_uncorrected_aggregate")));
        uint32_t resets = 0;
        ASSERT_EQ(mtia_mgmt_device_get_reset_count(d.h, &resets), MTIA_SUCCESS);
        EXPECT_EQ(resets, static_cast<uint32_t>(num(d.sys + "/mtia/reset_count")));
        unsigned np = 0;
        mtia_status st = mtia_mgmt_device_get_processes(d.h, &np, nullptr);
        EXPECT_TRUE(st == MTIA_SUCCESS || st == MTIA_ERROR_INSUFFICIENT_SIZE) << mtia_status_name(st);
    }
}

// Root changes the power limit and resets; a user gets PERMISSION and
// nothing changes.
TEST(MgmtVm, ControlsNeedRoot)
{
    Dev d = open_dev(0);
    uint32_t before = 0, lo = 0, hi = 0, after = 0, r0 = 0, r1 = 0;
    ASSERT_EQ(mtia_mgmt_device_get_power_limit(d.h, &before), MTIA_SUCCESS);
    ASSERT_EQ(mtia_mgmt_device_get_power_limit_constraints(d.h, &lo, &hi), MTIA_SUCCESS);
    EXPECT_EQ(mtia_mgmt_device_set_power_limit(d.h, hi + 1000), MTIA_ERROR_INVALID_ARGUMENT);
    ASSERT_EQ(mtia_mgmt_device_get_reset_count(d.h, &r0), MTIA_SUCCESS);
    const uint32_t want = lo + (hi - lo) / 2;
    if (geteuid() != 0) {
        EXPECT_EQ(mtia_mgmt_device_set_power_limit(d.h, want), MTIA_ERROR_PERMISSION) << mtia_last_error();
        EXPECT_EQ(mtia_mgmt_device_reset(d.h), MTIA_ERROR_PERMISSION) << mtia_last_error();
        EXPECT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d.h, MTIA_MGMT_ECC_VOLATILE), MTIA_ERROR_PERMISSION)
            << mtia_last_error();
        EXPECT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d.h, MTIA_MGMT_ECC_AGGREGATE), MTIA_ERROR_PERMISSION)
            << mtia_last_error();
        ASSERT_EQ(mtia_mgmt_device_get_power_limit(d.h, &after), MTIA_SUCCESS);
        EXPECT_EQ(after, before);
        ASSERT_EQ(mtia_mgmt_device_get_reset_count(d.h, &r1), MTIA_SUCCESS);
        EXPECT_EQ(r1, r0);
        return;
    }
    ASSERT_EQ(mtia_mgmt_device_set_power_limit(d.h, want), MTIA_SUCCESS) << mtia_last_error();
    ASSERT_EQ(mtia_mgmt_device_get_power_limit(d.h, &after), MTIA_SUCCESS);
    EXPECT_EQ(after, want);
    ASSERT_EQ(mtia_mgmt_device_set_power_limit(d.h, before), MTIA_SUCCESS);
    ASSERT_EQ(mtia_mgmt_device_reset(d.h), MTIA_SUCCESS) << mtia_last_error();
    ASSERT_EQ(mtia_mgmt_device_get_reset_count(d.h, &r1), MTIA_SUCCESS);
    EXPECT_EQ(r1, r0 + 1);
    char st[MTIA_MGMT_STRING_LEN];
    ASSERT_EQ(mtia_mgmt_device_get_firmware_status(d.h, st, sizeof(st)), MTIA_SUCCESS);
    EXPECT_TRUE(std::string(st) == "ready" || std::string(st) == "suspended") << st;
}

// Root clears the volatile ECC counts, keeping the lifetime ones (the
// counting itself is test-telemetry.sh's, with errors injected).
TEST(MgmtVm, ClearingVolatileEccCountsKeepsTheAggregate)
{
    if (geteuid() != 0) GTEST_SKIP() << "root's half of ControlsNeedRoot";
    Dev d = open_dev(0);
    uint64_t ac0 = 0, au0 = 0, c = 1, u = 1, ac = 0, au = 0;
    ASSERT_EQ(mtia_mgmt_device_get_ecc_error_counts(d.h, MTIA_MGMT_ECC_AGGREGATE, &ac0, &au0), MTIA_SUCCESS);
    ASSERT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d.h, MTIA_MGMT_ECC_VOLATILE), MTIA_SUCCESS) << mtia_last_error();
    ASSERT_EQ(mtia_mgmt_device_get_ecc_error_counts(d.h, MTIA_MGMT_ECC_VOLATILE, &c, &u), MTIA_SUCCESS);
    EXPECT_EQ(c, 0u);
    EXPECT_EQ(u, 0u);
    ASSERT_EQ(mtia_mgmt_device_get_ecc_error_counts(d.h, MTIA_MGMT_ECC_AGGREGATE, &ac, &au), MTIA_SUCCESS);
    EXPECT_EQ(ac, ac0);
    EXPECT_EQ(au, au0);
}

}  // namespace
