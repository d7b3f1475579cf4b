// SPDX-License-Identifier: MIT
// The management API's C face (include/mtia/mtia_mgmt.h) against a
// hand-written sysfs tree and /proc (mgmt_fake_sysfs.h), for what the
// device's telemetry model cannot show (mgmt_model_test.cc has the sensors'
// values and units): lookups, handles, NOT_SUPPORTED for what the driver
// does not report, a device that went away, processes, memory, sizes, and
// the two controls writing their attributes.
#include <gtest/gtest.h>

#include <cstring>

#include "mgmt_fake_sysfs.h"
#include "mtia/mtia_mgmt.h"
#include "mtia/mtia_mgmt.hpp"

namespace {

using mgmt_test::FakeSysfs;
namespace fs = std::filesystem;

class MgmtApi : public FakeSysfs {
protected:
    mtia_mgmt_device *dev()
    {
        mtia_mgmt_device *d = nullptr;
        EXPECT_EQ(mtia_mgmt_device_get_by_index(0, &d), MTIA_SUCCESS) << mtia_last_error();
        return d;
    }
    std::string read(const fs::path &p)
    {
        std::ifstream f(p);
        std::string s;
        std::getline(f, s);
        return s;
    }
};

TEST_F(MgmtApi, CountAndLookups)
{
    unsigned n = 0;
    ASSERT_EQ(mtia_mgmt_device_count(&n), MTIA_SUCCESS);
    EXPECT_EQ(n, 1u);
    mtia_mgmt_device *a = dev(), *b = nullptr;
    ASSERT_NE(a, nullptr);
    // Every way to find the device gives the same handle.
    EXPECT_EQ(mtia_mgmt_device_get_by_pci_bus_id("0000:00:03.0", &b), MTIA_SUCCESS);
    EXPECT_EQ(b, a);
    EXPECT_EQ(mtia_mgmt_device_get_by_pci_bus_id("00:03.0", &b), MTIA_SUCCESS);
    EXPECT_EQ(b, a);
    EXPECT_EQ(mtia_mgmt_device_get_by_serial("4D544941C9C3B830", &b), MTIA_SUCCESS);
    EXPECT_EQ(b, a);
    char uuid[MTIA_MGMT_STRING_LEN];
    ASSERT_EQ(mtia_mgmt_device_get_uuid(a, uuid, sizeof(uuid)), MTIA_SUCCESS);
    EXPECT_EQ(mtia_mgmt_device_get_by_uuid(uuid, &b), MTIA_SUCCESS);
    EXPECT_EQ(b, a);
    unsigned idx = 9;
    EXPECT_EQ(mtia_mgmt_device_get_index(a, &idx), MTIA_SUCCESS);
    EXPECT_EQ(idx, 0u);

    EXPECT_EQ(mtia_mgmt_device_get_by_index(1, &b), MTIA_ERROR_NO_DEVICE);
    EXPECT_NE(std::string(mtia_last_error()).find("1 present"), std::string::npos) << mtia_last_error();
    EXPECT_EQ(mtia_mgmt_device_get_by_pci_bus_id("0000:00:04.0", &b), MTIA_ERROR_NO_DEVICE);
    EXPECT_EQ(mtia_mgmt_device_get_by_serial("deadbeef", &b), MTIA_ERROR_NO_DEVICE);
    EXPECT_EQ(mtia_mgmt_device_get_by_uuid("MTIA-00000000-0000-0000-0000-000000000000", &b), MTIA_ERROR_NO_DEVICE);
    EXPECT_EQ(mtia_mgmt_device_get_by_serial(nullptr, &b), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_mgmt_device_get_by_index(0, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_mgmt_device_count(nullptr), MTIA_ERROR_INVALID_ARGUMENT);
}

TEST_F(MgmtApi, BogusHandlesAreRefused)
{
    EXPECT_EQ(mtia_mgmt_device_get_index(nullptr, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    unsigned idx;
    EXPECT_EQ(mtia_mgmt_device_get_index(reinterpret_cast<mtia_mgmt_device *>(0x1236), &idx),
              MTIA_ERROR_INVALID_HANDLE);
    // Another kind's handle (a C API device id has kind 1).
    EXPECT_EQ(mtia_mgmt_device_get_index(reinterpret_cast<mtia_mgmt_device *>(0x11), &idx), MTIA_ERROR_INVALID_HANDLE);
}

TEST_F(MgmtApi, Identity)
{
    mtia_mgmt_device *d = dev();
    char buf[MTIA_MGMT_STRING_LEN];
    ASSERT_EQ(mtia_mgmt_device_get_name(d, buf, sizeof(buf)), MTIA_SUCCESS);
    EXPECT_STREQ(buf, "MTIA v1 (emulated)");
    ASSERT_EQ(mtia_mgmt_device_get_serial(d, buf, sizeof(buf)), MTIA_SUCCESS);
    EXPECT_STREQ(buf, "4d544941c9c3b830");
    ASSERT_EQ(mtia_mgmt_device_get_uuid(d, buf, sizeof(buf)), MTIA_SUCCESS);
    EXPECT_STREQ(buf, mtia::mgmt::uuid_from_serial("4d544941c9c3b830").c_str());
    ASSERT_EQ(mtia_mgmt_device_get_node(d, buf, sizeof(buf)), MTIA_SUCCESS);
    EXPECT_STREQ(buf, "/dev/accel/accel0");
    ASSERT_EQ(mtia_mgmt_device_get_firmware_version(d, buf, sizeof(buf)), MTIA_SUCCESS);
    EXPECT_STREQ(buf, "0.1.0");
    ASSERT_EQ(mtia_mgmt_device_get_firmware_status(d, buf, sizeof(buf)), MTIA_SUCCESS);
    EXPECT_STREQ(buf, "ready");
    ASSERT_EQ(mtia_mgmt_get_driver_version(buf, sizeof(buf)), MTIA_SUCCESS);
    EXPECT_STREQ(buf, "0.1.0");
    // Too small a buffer: nothing written past it, the size needed in the detail.
    char small[4] = {'x', 'x', 'x', 'x'};
    EXPECT_EQ(mtia_mgmt_device_get_serial(d, small, sizeof(small)), MTIA_ERROR_INSUFFICIENT_SIZE);
    EXPECT_NE(std::string(mtia_last_error()).find("17 needed"), std::string::npos) << mtia_last_error();
    EXPECT_EQ(mtia_mgmt_device_get_name(d, nullptr, 64), MTIA_ERROR_INVALID_ARGUMENT);

    mtia_mgmt_pci_info pci{};
    EXPECT_EQ(mtia_mgmt_device_get_pci_info(d, &pci), MTIA_ERROR_INVALID_ARGUMENT);  // struct_size not set
    pci.struct_size = sizeof(pci);
    ASSERT_EQ(mtia_mgmt_device_get_pci_info(d, &pci), MTIA_SUCCESS);
    EXPECT_STREQ(pci.bus_id, "0000:00:03.0");
    EXPECT_EQ(pci.domain, 0u);
    EXPECT_EQ(pci.bus, 0u);
    EXPECT_EQ(pci.device, 3u);
    EXPECT_EQ(pci.function, 0u);
    EXPECT_EQ(pci.vendor_id, 0x1d9bu);
    EXPECT_EQ(pci.device_id, 0x0a01u);
    EXPECT_EQ(pci.link_gen, 4u);
    EXPECT_EQ(pci.link_gen_max, 4u);
    EXPECT_EQ(pci.link_width, 8u);
    EXPECT_EQ(pci.link_width_max, 8u);
}

// The sensors' values and units against the device's telemetry model are
// mgmt_model_test.cc's; here what the model cannot produce: a bad argument,
// a throttle word list the model never shows in this order, and the
// driver's memory figures (its allocator's, not a register).
TEST_F(MgmtApi, SensorsBeyondTheModel)
{
    mtia_mgmt_device *d = dev();
    int32_t mc = 0;
    EXPECT_EQ(mtia_mgmt_device_get_temperature(d, static_cast<mtia_mgmt_temperature>(7), &mc),
              MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_mgmt_device_get_clock(d, static_cast<mtia_mgmt_clock>(9), nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    uint64_t reasons = 0;
    put(pci / "mtia" / "throttle_reasons", "thermal,power");
    ASSERT_EQ(mtia_mgmt_device_get_throttle_reasons(d, &reasons), MTIA_SUCCESS);
    EXPECT_EQ(reasons, MTIA_MGMT_THROTTLE_SW_POWER_CAP | MTIA_MGMT_THROTTLE_HW_SLOWDOWN |
                           MTIA_MGMT_THROTTLE_HW_THERMAL_SLOWDOWN);
    // Energy beyond 2^32 mJ (the register pair's high half in use).
    put(pci / "hwmon" / "hwmon3" / "energy1_input", "5000000000123456");
    uint64_t mj = 0;
    ASSERT_EQ(mtia_mgmt_device_get_energy(d, &mj), MTIA_SUCCESS);
    EXPECT_EQ(mj, 5000000000123u);

    mtia_mgmt_memory m{};
    m.struct_size = sizeof(m);
    ASSERT_EQ(mtia_mgmt_device_get_memory_info(d, &m), MTIA_SUCCESS);
    EXPECT_EQ(m.total_bytes, 535822336u);
    EXPECT_EQ(m.used_bytes, 64u << 20);
    EXPECT_EQ(m.free_bytes, 535822336u - (64u << 20));
    EXPECT_EQ(m.reserved_bytes, (512u << 20) - 535822336u);
    uint64_t un = 0;
    EXPECT_EQ(mtia_mgmt_device_get_ecc_errors(d, nullptr, &un), MTIA_SUCCESS);
    EXPECT_EQ(un, 1u);
    // The same as the volatile counts; the aggregate ones are their own files.
    uint64_t corr = 0;
    EXPECT_EQ(mtia_mgmt_device_get_ecc_error_counts(d, MTIA_MGMT_ECC_VOLATILE, &corr, &un), MTIA_SUCCESS);
    EXPECT_EQ(corr, 5u);
    EXPECT_EQ(un, 1u);
    EXPECT_EQ(mtia_mgmt_device_get_ecc_error_counts(d, MTIA_MGMT_ECC_AGGREGATE, &corr, &un), MTIA_ERROR_NOT_SUPPORTED);
    put(pci / "mtia" / "ecc_corrected_aggregate", "4294967295");
    put(pci / "mtia" / "ecc_uncorrected_aggregate", "17");
    EXPECT_EQ(mtia_mgmt_device_get_ecc_error_counts(d, MTIA_MGMT_ECC_AGGREGATE, &corr, nullptr), MTIA_SUCCESS);
    EXPECT_EQ(corr, 4294967295u);
    EXPECT_EQ(mtia_mgmt_device_get_ecc_error_counts(d, MTIA_MGMT_ECC_AGGREGATE, nullptr, &un), MTIA_SUCCESS);
    EXPECT_EQ(un, 17u);
}

TEST_F(MgmtApi, WhatTheDriverDoesNotReportIsNotSupported)
{
    fs::remove_all(pci / "hwmon" / "hwmon3");
    fs::remove(pci / "mtia" / "serial");
    fs::remove(pci / "mtia" / "ecc_corrected");
    put(pci / "mtia" / "fw_version", "none");
    put(pci / "mtia" / "throttle_reasons", "sunspots");
    mtia_mgmt_device *d = dev();
    char buf[MTIA_MGMT_STRING_LEN];
    int32_t mc;
    uint32_t mw, lo, hi;
    uint64_t v;
    EXPECT_EQ(mtia_mgmt_device_get_serial(d, buf, sizeof(buf)), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_EQ(mtia_mgmt_device_get_uuid(d, buf, sizeof(buf)), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_EQ(mtia_mgmt_device_get_firmware_version(d, buf, sizeof(buf)), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_EQ(mtia_mgmt_device_get_temperature(d, MTIA_MGMT_TEMP_DIE, &mc), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_EQ(mtia_mgmt_device_get_power_usage(d, &mw), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_EQ(mtia_mgmt_device_get_power_limit_constraints(d, &lo, &hi), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_EQ(mtia_mgmt_device_get_energy(d, &v), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_EQ(mtia_mgmt_device_get_throttle_reasons(d, &v), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_EQ(mtia_mgmt_device_get_ecc_errors(d, &v, &v), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_EQ(mtia_mgmt_device_set_power_limit(d, 10000), MTIA_ERROR_NOT_SUPPORTED);
    EXPECT_STREQ(mtia_status_name(MTIA_ERROR_NOT_SUPPORTED), "MTIA_ERROR_NOT_SUPPORTED");
}

TEST_F(MgmtApi, ADeviceThatWentAwayGivesNoDevice)
{
    mtia_mgmt_device *d = dev();
    fs::remove_all(pci / "mtia");
    char buf[MTIA_MGMT_STRING_LEN];
    EXPECT_EQ(mtia_mgmt_device_get_name(d, buf, sizeof(buf)), MTIA_ERROR_NO_DEVICE);
    unsigned n = 9;
    EXPECT_EQ(mtia_mgmt_device_count(&n), MTIA_SUCCESS);
    EXPECT_EQ(n, 0u);
}

TEST_F(MgmtApi, ProcessesWithTheirMemoryAndEngineTime)
{
    // Two processes with the device open: fd links into /dev/accel, fdinfo per fd.
    auto add = [&](int pid, const char *comm, const std::string &fdinfo) {
        fs::path p = root / "proc" / std::to_string(pid);
        fs::create_directories(p / "fd");
        put(p / "comm", comm);
        fs::create_symlink("/dev/accel/accel0", p / "fd" / "3");
        put(p / "fdinfo" / "3", fdinfo);
    };
    add(42, "mtia-run",
        "drm-driver:\tmtia\ndrm-client-id:\t1\ndrm-pdev:\t0000:00:03.0\ndrm-engine-compute:\t2000 ns\n"
        "drm-engine-dma:\t300 ns\ndrm-total-device:\t64 MiB\ndrm-total-system:\t4 KiB\n");
    add(7, "python3", "drm-driver:\tmtia\ndrm-client-id:\t2\ndrm-pdev:\t0000:00:03.0\ndrm-total-device:\t1 MiB\n");
    mtia_mgmt_device *d = dev();
    unsigned n = 0;
    EXPECT_EQ(mtia_mgmt_device_get_processes(d, &n, nullptr), MTIA_ERROR_INSUFFICIENT_SIZE);
    EXPECT_EQ(n, 2u);
    mtia_mgmt_process procs[2] = {};
    n = 2;
    EXPECT_EQ(mtia_mgmt_device_get_processes(d, &n, procs), MTIA_ERROR_INVALID_ARGUMENT);  // sizes not set
    for (auto &p : procs) p.struct_size = sizeof(p);
    n = 1;
    EXPECT_EQ(mtia_mgmt_device_get_processes(d, &n, procs), MTIA_ERROR_INSUFFICIENT_SIZE);
    EXPECT_EQ(n, 2u);
    ASSERT_EQ(mtia_mgmt_device_get_processes(d, &n, procs), MTIA_SUCCESS) << mtia_last_error();
    ASSERT_EQ(n, 2u);
    EXPECT_EQ(procs[0].pid, 7);
    EXPECT_STREQ(procs[0].name, "python3");
    EXPECT_EQ(procs[0].device_bytes, 1u << 20);
    EXPECT_EQ(procs[0].compute_ns, UINT64_MAX);  // not reported
    EXPECT_EQ(procs[1].pid, 42);
    EXPECT_STREQ(procs[1].name, "mtia-run");
    EXPECT_EQ(procs[1].device_bytes, 64u << 20);
    EXPECT_EQ(procs[1].host_bytes, 4096u);
    EXPECT_EQ(procs[1].compute_ns, 2000u);
    EXPECT_EQ(procs[1].dma_ns, 300u);
}

TEST_F(MgmtApi, PowerLimitIsCheckedAndWrittenInMicrowatts)
{
    mtia_mgmt_device *d = dev();
    const fs::path cap = pci / "hwmon" / "hwmon3" / "power1_cap";
    EXPECT_EQ(mtia_mgmt_device_set_power_limit(d, 5999), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("outside [6.00 W, 25.00 W]"), std::string::npos) << mtia_last_error();
    EXPECT_EQ(mtia_mgmt_device_set_power_limit(d, 25001), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(read(cap), "10000000");  // untouched
    if (geteuid() != 0) {
        GTEST_SKIP() << "writing the fake tree needs no root, but a user's result depends on its modes";
    }
    ASSERT_EQ(mtia_mgmt_device_set_power_limit(d, 12500), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_EQ(read(cap), "12500000");
}

TEST_F(MgmtApi, ResetWritesTheAttribute)
{
    put(pci / "mtia" / "reset", "");
    mtia_mgmt_device *d = dev();
    ASSERT_EQ(mtia_mgmt_device_reset(d), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_EQ(read(pci / "mtia" / "reset"), "1");
    fs::remove(pci / "mtia" / "reset");
    EXPECT_EQ(mtia_mgmt_device_reset(d), MTIA_ERROR_NOT_SUPPORTED);
}

TEST_F(MgmtApi, EccClearWritesTheAttribute)
{
    mtia_mgmt_device *d = dev();
    // A device older than interface 1.6: the driver shows no ecc_clear.
    EXPECT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d, MTIA_MGMT_ECC_VOLATILE), MTIA_ERROR_NOT_SUPPORTED);
    put(pci / "mtia" / "ecc_clear", "");
    ASSERT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d, MTIA_MGMT_ECC_VOLATILE), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_EQ(read(pci / "mtia" / "ecc_clear"), "volatile");
    ASSERT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d, MTIA_MGMT_ECC_AGGREGATE), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_EQ(read(pci / "mtia" / "ecc_clear"), "aggregate");
    EXPECT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d, static_cast<mtia_mgmt_ecc_counter>(2)),
              MTIA_ERROR_INVALID_ARGUMENT);
    if (geteuid() == 0) GTEST_SKIP() << "root writes a file of mode 0200 whoever owns it";
    fs::permissions(pci / "mtia" / "ecc_clear", fs::perms::none);  // as the driver's root-owned 0200 is to a user
    EXPECT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d, MTIA_MGMT_ECC_VOLATILE), MTIA_ERROR_PERMISSION);
    EXPECT_NE(std::string(mtia_last_error()).find("needs root"), std::string::npos) << mtia_last_error();
}

TEST(MgmtUuid, StableNvidiaShapedAndDistinct)
{
    std::string u = mtia::mgmt::uuid_from_serial("4d544941c9c3b830");
    EXPECT_EQ(u, mtia::mgmt::uuid_from_serial("4D544941C9C3B830"));
    ASSERT_EQ(u.size(), 41u);
    EXPECT_EQ(u.substr(0, 14), "MTIA-4d544941-");
    for (size_t dash : {4u, 13u, 18u, 23u, 28u}) EXPECT_EQ(u[dash], '-') << u;
    EXPECT_NE(u, mtia::mgmt::uuid_from_serial("4d544941c9c3b831"));
    EXPECT_EQ(mtia::mgmt::uuid_from_serial(""), "");
    EXPECT_EQ(mtia::mgmt::uuid_from_serial("not-hex").size(), 41u);
}

}  // namespace
