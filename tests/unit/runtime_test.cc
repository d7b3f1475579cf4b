// SPDX-License-Identifier: MIT
// libmtia behaviour that needs no device: status codes, enumeration over a
// directory without mtia nodes, argument checking in the C API.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>

#include "mtia/mtia.h"
#include "mtia/mtia.hpp"

namespace {

class ScopedEnv {
public:
    ScopedEnv(const char *name, const std::string &value) : name_(name) { setenv(name, value.c_str(), 1); }
    ~ScopedEnv() { unsetenv(name_); }

private:
    const char *name_;
};

std::string make_temp_dir()
{
    char tmpl[] = "/tmp/mtia-rt-XXXXXX";
    EXPECT_NE(mkdtemp(tmpl), nullptr);
    return tmpl;
}

TEST(Status, NamesAndStringsCoverEveryCode)
{
    for (int s = MTIA_SUCCESS; s >= MTIA_STATUS_LAST; s--) {
        auto st = static_cast<mtia_status>(s);
        EXPECT_STRNE(mtia_status_name(st), "MTIA_ERROR_UNKNOWN") << s;
        EXPECT_STRNE(mtia_status_string(st), "unknown status") << s;
    }
    EXPECT_STREQ(mtia_status_name(static_cast<mtia_status>(-100)), "MTIA_ERROR_UNKNOWN");
}

TEST(Version, MatchesHeader)
{
    int ma = -1, mi = -1, pa = -1;
    mtia_runtime_version(&ma, &mi, &pa);
    EXPECT_EQ(ma, MTIA_RUNTIME_VERSION_MAJOR);
    EXPECT_EQ(mi, MTIA_RUNTIME_VERSION_MINOR);
    EXPECT_EQ(pa, MTIA_RUNTIME_VERSION_PATCH);
    mtia_runtime_version(nullptr, nullptr, nullptr);
}

TEST(Enumerate, MissingDirectoryMeansNoDevices)
{
    ScopedEnv env("MTIA_ACCEL_DIR", "/nonexistent/accel");
    ScopedEnv pci("MTIA_SYSFS_PCI_DIR", "/nonexistent/pci");
    int count = -1;
    EXPECT_EQ(mtia_device_count(&count), MTIA_SUCCESS);
    EXPECT_EQ(count, 0);
    mtia_device *dev = reinterpret_cast<mtia_device *>(0x1);
    EXPECT_EQ(mtia_device_open(0, &dev), MTIA_ERROR_NO_DEVICE);
    EXPECT_EQ(dev, nullptr);
    EXPECT_NE(std::string(mtia_last_error()).find("no mtia device 0"), std::string::npos) << mtia_last_error();
}

TEST(Enumerate, NonDeviceEntriesAreSkipped)
{
    std::string dir = make_temp_dir();
    std::ofstream(dir + "/accel0") << "not a device";
    ASSERT_EQ(symlink("/dev/null", (dir + "/accel1").c_str()), 0);  // a char dev, not DRM
    std::ofstream(dir + "/accelX") << "bad name";
    ScopedEnv env("MTIA_ACCEL_DIR", dir);
    EXPECT_EQ(mtia::device_count(), 0);
    EXPECT_TRUE(mtia::device_nodes().empty());
    system(("rm -rf " + dir).c_str());
}

TEST(Enumerate, PciDeviceWithoutDriverIsNoDriver)
{
    std::string accel = make_temp_dir();
    std::string pci = make_temp_dir();
    mkdir((pci + "/0000:00:03.0").c_str(), 0755);
    std::ofstream(pci + "/0000:00:03.0/vendor") << "0x1d9b\n";
    std::ofstream(pci + "/0000:00:03.0/device") << "0x0a01\n";
    mkdir((pci + "/0000:00:04.0").c_str(), 0755);
    std::ofstream(pci + "/0000:00:04.0/vendor") << "0x8086\n";
    std::ofstream(pci + "/0000:00:04.0/device") << "0x0a01\n";
    ScopedEnv e1("MTIA_ACCEL_DIR", accel);
    ScopedEnv e2("MTIA_SYSFS_PCI_DIR", pci);
    mtia_device *dev = nullptr;
    EXPECT_EQ(mtia_device_open(0, &dev), MTIA_ERROR_NO_DRIVER);
    EXPECT_NE(std::string(mtia_last_error()).find("mtia.ko"), std::string::npos);
    try {
        mtia::Device::open(0);
        FAIL() << "open succeeded";
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), MTIA_ERROR_NO_DRIVER);
    }
    system(("rm -rf " + accel + " " + pci).c_str());
}

TEST(OpenNode, NonMtiaNodeIsRejected)
{
    try {
        mtia::Device::open_node("/dev/null");
        FAIL() << "opened /dev/null";
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), MTIA_ERROR_NO_DEVICE);
        EXPECT_NE(std::string(e.what()).find("not an mtia device"), std::string::npos);
    }
    try {
        mtia::Device::open_node("/nonexistent/accel0");
        FAIL();
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), MTIA_ERROR_NO_DEVICE);
    }
}

TEST(CApi, NullArgumentsAreInvalid)
{
    EXPECT_EQ(mtia_device_count(nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_device_open(0, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_device_get_info(nullptr, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_STRNE(mtia_last_error(), "");
    EXPECT_EQ(mtia_device_close(nullptr), MTIA_SUCCESS);
}

TEST(CApi, NegativeIndexIsInvalid)
{
    mtia_device *dev = nullptr;
    EXPECT_EQ(mtia_device_open(-1, &dev), MTIA_ERROR_INVALID_ARGUMENT);
}

TEST(Chip, Names)
{
    EXPECT_EQ(mtia::chip_name(1), "MTIA v1 (emulated)");
    EXPECT_EQ(mtia::chip_name(0x77), "MTIA (chip 0x0077)");
}

}  // namespace
