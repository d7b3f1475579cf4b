// SPDX-License-Identifier: MIT
// The management API's processes (runtime/mgmt_proc.cc): DRM fdinfo parsing
// and a scan of a fake /proc.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "mtia/mtia_mgmt.hpp"

namespace {

namespace fs = std::filesystem;
using mtia::mgmt::parse_fdinfo;
using mtia::mgmt::parse_fdinfo_size;

// As the 6.12 kernel prints it for an mtia file (drm_show_fdinfo, then the
// driver's memory regions and engine times).
const char *kFdinfo =
    "pos:\t0\n"
    "flags:\t02100002\n"
    "mnt_id:\t26\n"
    "ino:\t1031\n"
    "drm-driver:\tmtia\n"
    "drm-client-id:\t5\n"
    "drm-pdev:\t0000:00:03.0\n"
    "drm-engine-dma:\t1234567890 ns\n"
    "drm-engine-compute:\t42 ns\n"
    "drm-engine-capacity-dma:\t8\n"
    "drm-total-system:\t0\n"
    "drm-shared-system:\t0\n"
    "drm-resident-system:\t0\n"
    "drm-total-device:\t64 MiB\n"
    "drm-shared-device:\t0\n"
    "drm-resident-device:\t64 MiB\n";

TEST(MgmtFdinfo, ParsesRealLookingText)
{
    auto info = parse_fdinfo(kFdinfo);
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->driver, "mtia");
    EXPECT_EQ(info->pdev, "0000:00:03.0");
    ASSERT_TRUE(info->client_id.has_value());
    EXPECT_EQ(*info->client_id, 5u);
    EXPECT_EQ(info->engine_ns.size(), 2u);
    EXPECT_EQ(info->engine_ns.at("dma"), 1234567890u);
    EXPECT_EQ(info->engine_ns.at("compute"), 42u);
    EXPECT_EQ(info->memory.at("total-device"), 64ull << 20);
    EXPECT_EQ(info->memory.at("resident-device"), 64ull << 20);
    EXPECT_EQ(info->memory.at("total-system"), 0u);
}

TEST(MgmtFdinfo, NotADrmFileOrMalformedLines)
{
    EXPECT_FALSE(parse_fdinfo("pos:\t0\nflags:\t02\nmnt_id:\t3\n").has_value());
    EXPECT_FALSE(parse_fdinfo("").has_value());
    auto info = parse_fdinfo(
        "drm-driver:\ti915\n"
        "drm-client-id:\tx\n"
        "drm-engine-render:\t12 us\n"  // wrong unit: skipped
        "drm-engine-video:\tns\n"      // no number
        "drm-total-local:\t12 TiB\n"   // unknown unit
        "drm-total-system0:\t3 KiB\n"
        "garbage line\n");
    ASSERT_TRUE(info.has_value());
    EXPECT_EQ(info->driver, "i915");
    EXPECT_FALSE(info->client_id.has_value());
    EXPECT_TRUE(info->engine_ns.empty());
    EXPECT_EQ(info->memory.size(), 1u);
    EXPECT_EQ(info->memory.at("total-system0"), 3072u);
}

TEST(MgmtFdinfo, Sizes)
{
    EXPECT_EQ(parse_fdinfo_size("0"), 0u);
    EXPECT_EQ(parse_fdinfo_size("4096"), 4096u);
    EXPECT_EQ(parse_fdinfo_size("512 KiB"), 512u << 10);
    EXPECT_EQ(parse_fdinfo_size("3 MiB"), 3u << 20);
    EXPECT_EQ(parse_fdinfo_size("2 GiB"), 2ull << 30);
    EXPECT_FALSE(parse_fdinfo_size("MiB").has_value());
    EXPECT_FALSE(parse_fdinfo_size("-1").has_value());
    EXPECT_FALSE(parse_fdinfo_size("7 bytes").has_value());
}

// A fake /proc: pid directories with comm, fd symlinks and fdinfo files.
class FakeProc : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/smi-proc-XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        root = tmpl;
    }
    void TearDown() override { fs::remove_all(root); }
    void add_fd(int pid, const std::string &comm, int fd, const std::string &target, const std::string &fdinfo)
    {
        fs::path p = root / std::to_string(pid);
        fs::create_directories(p / "fd");
        fs::create_directories(p / "fdinfo");
        std::ofstream(p / "comm") << comm << "\n";
        fs::create_symlink(target, p / "fd" / std::to_string(fd));
        std::ofstream(p / "fdinfo" / std::to_string(fd)) << fdinfo;
    }
    static std::string mtia(int client, const std::string &pdev, const std::string &dev_mem, const std::string &sys_mem,
                            const std::string &engines = "")
    {
        return "pos:\t0\nflags:\t02100002\ndrm-driver:\tmtia\ndrm-client-id:\t" + std::to_string(client) +
               "\ndrm-pdev:\t" + pdev + "\n" + engines + "drm-total-system:\t" + sys_mem + "\ndrm-resident-system:\t" +
               sys_mem + "\ndrm-total-device:\t" + dev_mem + "\ndrm-resident-device:\t" + dev_mem + "\n";
    }
    fs::path root;
};

TEST_F(FakeProc, ProcessTableSumsClientsPerDeviceOnce)
{
    // pid 100: two clients on device 3, one dup()ed; one client on device 4.
    add_fd(100, "mtia-run", 3, "/dev/accel/accel0",
           mtia(7, "0000:00:03.0", "64 MiB", "8 MiB", "drm-engine-dma:\t1000 ns\n"));
    add_fd(100, "mtia-run", 4, "/dev/accel/accel0",
           mtia(7, "0000:00:03.0", "64 MiB", "8 MiB", "drm-engine-dma:\t1000 ns\n"));
    add_fd(100, "mtia-run", 5, "/dev/accel/accel0",
           mtia(8, "0000:00:03.0", "16 MiB", "0", "drm-engine-dma:\t500 ns\ndrm-engine-compute:\t7 ns\n"));
    add_fd(100, "mtia-run", 6, "/dev/accel/accel1", mtia(9, "0000:00:04.0", "0", "4 KiB"));
    // Not accel files, or another driver's accel file.
    add_fd(100, "mtia-run", 0, "/dev/pts/0", "pos:\t0\n");
    add_fd(200, "other", 3, "/dev/accel/accel2", "drm-driver:\tivpu\ndrm-client-id:\t1\ndrm-pdev:\t0000:00:05.0\n");
    add_fd(300, "cat", 1, "/dev/dri/card0", mtia(1, "0000:00:03.0", "1 MiB", "0"));
    // pid 50 on device 3; not numeric entries are ignored.
    add_fd(50, "python3", 9, "/dev/accel/accel0", mtia(2, "0000:00:03.0", "1 MiB", "2 MiB"));
    fs::create_directories(root / "self");
    fs::create_directories(root / "sys");

    auto procs = mtia::mgmt::scan_processes(root.string());
    ASSERT_EQ(procs.size(), 3u);
    // Sorted by device, then pid.
    EXPECT_EQ(procs[0].pid, 50);
    EXPECT_EQ(procs[0].name, "python3");
    EXPECT_EQ(procs[0].bus_id, "0000:00:03.0");
    EXPECT_EQ(procs[0].device_mem, 1u << 20);
    EXPECT_EQ(procs[0].host_mem, 2u << 20);
    EXPECT_FALSE(procs[0].dma_ns.has_value());

    EXPECT_EQ(procs[1].pid, 100);
    EXPECT_EQ(procs[1].name, "mtia-run");
    EXPECT_EQ(procs[1].bus_id, "0000:00:03.0");
    EXPECT_EQ(procs[1].clients, 2u);
    EXPECT_EQ(procs[1].device_mem, 80u << 20);
    EXPECT_EQ(procs[1].host_mem, 8u << 20);
    EXPECT_EQ(procs[1].dma_ns, 1500u);
    EXPECT_EQ(procs[1].compute_ns, 7u);

    EXPECT_EQ(procs[2].pid, 100);
    EXPECT_EQ(procs[2].bus_id, "0000:00:04.0");
    EXPECT_EQ(procs[2].host_mem, 4096u);
    EXPECT_EQ(procs[2].device_mem, 0u);
}

TEST_F(FakeProc, UnreadableOrVanishedProcessesAreSkipped)
{
    add_fd(10, "gone", 3, "/dev/accel/accel0", "");  // fdinfo empty: exited meanwhile
    fs::create_directories(root / "11" / "fd");      // no comm, no fds
    EXPECT_TRUE(mtia::mgmt::scan_processes(root.string()).empty());
    EXPECT_TRUE(mtia::mgmt::scan_processes((root / "nonexistent").string()).empty());
}

}  // namespace
