// SPDX-License-Identifier: MIT
// In-VM: GEM buffer objects (DRM_IOCTL_MTIA_BO_CREATE / BO_INFO) against the
// driver: host (shmem) and device (BAR2) BOs, mmap, argument checks, device
// memory exhaustion and accounting (sysfs mem_used / mem_total), fdinfo
// memory stats, per-file handles, create/close cycles. Raw ioctls through
// libdrm's drmIoctl(); runs on the first mtia device.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"
#include "mtia/mtia_spec.h"
#include "uapi/drm/mtia_accel.h"

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMiB = 1ull << 20;
// Tests that allocate device BOs (up to 64 MiB) skip smaller devices.
constexpr uint64_t kMinDevmem = 128 * kMiB;
#define NEED_DEVMEM()                                                                            \
    do {                                                                                         \
        if (mem_total < kMinDevmem)                                                              \
            GTEST_SKIP() << "device has " << mem_total << " bytes for BOs, need " << kMinDevmem; \
    } while (0)

std::string read_file(const std::string &path)
{
    std::ifstream f(path);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// The first mtia node (libmtia's enumeration) and its PCI function's sysfs
// directory.
bool find_device(std::string *node, std::string *sysdev)
{
    auto nodes = mtia::device_nodes();
    if (nodes.empty()) return false;
    *node = nodes.front();
    *sysdev = "/sys/class/accel/" + node->substr(node->rfind('/') + 1) + "/device";
    return true;
}

// fdinfo "drm-<stat>-<region>:\t<n>[ KiB| MiB]" values in bytes.
std::map<std::string, uint64_t> fdinfo(int fd)
{
    std::map<std::string, uint64_t> out;
    std::istringstream in(read_file("/proc/self/fdinfo/" + std::to_string(fd)));
    std::string line;
    while (std::getline(in, line)) {
        auto colon = line.find(':');
        if (line.rfind("drm-", 0) != 0 || colon == std::string::npos) continue;
        std::istringstream v(line.substr(colon + 1));
        uint64_t n = 0;
        std::string unit;
        if (!(v >> n)) continue;
        v >> unit;
        if (unit == "KiB")
            n <<= 10;
        else if (unit == "MiB")
            n <<= 20;
        else if (!unit.empty())
            continue;  // drm-engine-* and friends: not sizes
        out[line.substr(0, colon)] = n;
    }
    return out;
}

class Bo : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(find_device(&node, &sysdev)) << "no mtia accel device";
        fd = open(node.c_str(), O_RDWR | O_CLOEXEC);
        ASSERT_GE(fd, 0) << node << ": " << strerror(errno);
        mem_total = sysfs_u64("mem_total");
        used_at_start = sysfs_u64("mem_used");
    }
    void TearDown() override
    {
        if (fd >= 0) close(fd);
        // Every test frees what it allocated.
        EXPECT_EQ(sysfs_u64("mem_used"), used_at_start);
    }

    uint64_t sysfs_u64(const char *name)
    {
        std::string s = read_file(sysdev + "/mtia/" + name);
        return s.empty() ? UINT64_MAX : std::stoull(s);
    }

    // 0 or errno.
    static int create(int f, uint64_t size, uint32_t placement, uint32_t *handle, uint32_t flags = 0)
    {
        drm_mtia_bo_create req{};
        req.size = size;
        req.placement = placement;
        req.flags = flags;
        if (drmIoctl(f, DRM_IOCTL_MTIA_BO_CREATE, &req)) return errno;
        *handle = req.handle;
        return 0;
    }
    static int info(int f, uint32_t handle, drm_mtia_bo_info *out)
    {
        *out = {};
        out->handle = handle;
        return drmIoctl(f, DRM_IOCTL_MTIA_BO_INFO, out) ? errno : 0;
    }
    static int gem_close(int f, uint32_t handle)
    {
        drm_gem_close req{};
        req.handle = handle;
        return drmIoctl(f, DRM_IOCTL_GEM_CLOSE, &req) ? errno : 0;
    }
    // mmap of a whole BO, or MAP_FAILED.
    void *map(const drm_mtia_bo_info &bi, int flags = MAP_SHARED)
    {
        return mmap(nullptr, bi.size, PROT_READ | PROT_WRITE, flags, fd, bi.mmap_offset);
    }

    // Write a pattern seeded by seed through p and check it reads back.
    static ::testing::AssertionResult pattern_ok(void *p, uint64_t size, uint64_t seed)
    {
        auto *w = static_cast<volatile uint64_t *>(p);
        uint64_t n = size / 8;
        for (uint64_t i = 0; i < n; i++) w[i] = seed ^ (i * 0x9e3779b97f4a7c15ull);
        __sync_synchronize();  // drain write-combining buffers
        return check_pattern(p, size, seed);
    }
    static ::testing::AssertionResult check_pattern(void *p, uint64_t size, uint64_t seed)
    {
        auto *w = static_cast<volatile uint64_t *>(p);
        for (uint64_t i = 0; i < size / 8; i++)
            if (w[i] != (seed ^ (i * 0x9e3779b97f4a7c15ull)))
                return ::testing::AssertionFailure()
                       << "word " << i << " of " << size / 8 << " reads 0x" << std::hex << w[i];
        return ::testing::AssertionSuccess();
    }
    static ::testing::AssertionResult all_zero(void *p, uint64_t size)
    {
        auto *w = static_cast<volatile uint64_t *>(p);
        for (uint64_t i = 0; i < size / 8; i++)
            if (w[i]) return ::testing::AssertionFailure() << "word " << i << " is not zero";
        return ::testing::AssertionSuccess();
    }

    // Create, check BO_INFO, map, write/read a pattern, unmap, close.
    void round_trip(uint64_t size, uint32_t placement)
    {
        SCOPED_TRACE("size " + std::to_string(size) + " placement " + std::to_string(placement));
        const uint64_t want = (size + kPage - 1) & ~(kPage - 1);
        uint32_t h = 0;
        ASSERT_EQ(create(fd, size, placement, &h), 0);
        EXPECT_NE(h, 0u);
        drm_mtia_bo_info bi;
        ASSERT_EQ(info(fd, h, &bi), 0);
        EXPECT_EQ(bi.size, want);
        EXPECT_EQ(bi.placement, placement);
        EXPECT_EQ(bi.pad, 0u);
        EXPECT_NE(bi.mmap_offset, 0u);
        EXPECT_EQ(bi.mmap_offset % kPage, 0u);
        if (placement == MTIA_BO_DEVICE) {
            EXPECT_GE(bi.devmem_offset, MTIA_DEVMEM_FW_RESERVED);
            EXPECT_EQ(bi.devmem_offset % kPage, 0u);
            EXPECT_LE(bi.devmem_offset + bi.size, MTIA_DEVMEM_FW_RESERVED + mem_total);
            EXPECT_EQ(sysfs_u64("mem_used"), used_at_start + want);
        } else {
            EXPECT_EQ(bi.devmem_offset, 0u);
            EXPECT_EQ(sysfs_u64("mem_used"), used_at_start);
        }
        // BO_INFO twice gives the same offset.
        drm_mtia_bo_info bi2;
        ASSERT_EQ(info(fd, h, &bi2), 0);
        EXPECT_EQ(bi2.mmap_offset, bi.mmap_offset);

        void *p = map(bi);
        ASSERT_NE(p, MAP_FAILED) << strerror(errno);
        EXPECT_TRUE(all_zero(p, want)) << "a new BO must read as zeros";
        EXPECT_TRUE(pattern_ok(p, want, size * 31 + placement));
        EXPECT_EQ(munmap(p, want), 0);
        // A second mapping sees the same memory.
        p = map(bi);
        ASSERT_NE(p, MAP_FAILED) << strerror(errno);
        EXPECT_TRUE(check_pattern(p, want, size * 31 + placement));
        EXPECT_EQ(munmap(p, want), 0);
        EXPECT_EQ(gem_close(fd, h), 0);
    }

    std::string node, sysdev;
    int fd = -1;
    uint64_t mem_total = 0, used_at_start = 0;
};

TEST_F(Bo, SysfsAccounting)
{
    ASSERT_NE(mem_total, UINT64_MAX) << "no mtia/mem_total in " << sysdev;
    ASSERT_NE(used_at_start, UINT64_MAX);
    drm_mtia_get_info req{};
    drm_mtia_info di{};
    req.size = sizeof(di);
    req.info_ptr = reinterpret_cast<uintptr_t>(&di);
    ASSERT_EQ(drmIoctl(fd, DRM_IOCTL_MTIA_GET_INFO, &req), 0) << strerror(errno);
    EXPECT_EQ(mem_total, di.devmem_bytes - MTIA_DEVMEM_FW_RESERVED);
    EXPECT_LE(used_at_start, mem_total);
}

TEST_F(Bo, HostRoundTrip)
{
    for (uint64_t size : std::initializer_list<uint64_t>{1, 4095, kPage, kPage + 1, kMiB, 64 * kMiB})
        round_trip(size, MTIA_BO_HOST);
}

TEST_F(Bo, DeviceRoundTrip)
{
    NEED_DEVMEM();
    for (uint64_t size :
         std::initializer_list<uint64_t>{1, 4095, kPage, kPage + 1, 3 * kPage, kMiB, 3 * kMiB + kPage, 64 * kMiB})
        round_trip(size, MTIA_BO_DEVICE);
}

TEST_F(Bo, BosDoNotAlias)
{
    NEED_DEVMEM();
    for (uint32_t placement : {MTIA_BO_HOST, MTIA_BO_DEVICE}) {
        SCOPED_TRACE("placement " + std::to_string(placement));
        const uint64_t size = 256 * 1024;
        uint32_t h[4] = {};
        drm_mtia_bo_info bi[4];
        void *p[4];
        for (int i = 0; i < 4; i++) {
            ASSERT_EQ(create(fd, size, placement, &h[i]), 0);
            ASSERT_EQ(info(fd, h[i], &bi[i]), 0);
            p[i] = map(bi[i]);
            ASSERT_NE(p[i], MAP_FAILED);
        }
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < i; j++) {
                EXPECT_NE(h[i], h[j]);
                EXPECT_NE(bi[i].mmap_offset, bi[j].mmap_offset);
                if (placement == MTIA_BO_DEVICE) {
                    EXPECT_TRUE(bi[i].devmem_offset + size <= bi[j].devmem_offset ||
                                bi[j].devmem_offset + size <= bi[i].devmem_offset)
                        << "device ranges overlap: " << bi[i].devmem_offset << " " << bi[j].devmem_offset;
                }
            }
            EXPECT_TRUE(pattern_ok(p[i], size, 0x1000 + i));
        }
        for (int i = 0; i < 4; i++) {
            EXPECT_TRUE(check_pattern(p[i], size, 0x1000 + i)) << "BO " << i << " was overwritten";
            munmap(p[i], size);
            EXPECT_EQ(gem_close(fd, h[i]), 0);
        }
    }
}

TEST_F(Bo, FreedDeviceMemoryIsClearedForTheNextUser)
{
    NEED_DEVMEM();
    uint32_t h = 0;
    drm_mtia_bo_info bi;
    ASSERT_EQ(create(fd, kMiB, MTIA_BO_DEVICE, &h), 0);
    ASSERT_EQ(info(fd, h, &bi), 0);
    void *p = map(bi);
    ASSERT_NE(p, MAP_FAILED);
    memset(p, 0xa5, kMiB);
    __sync_synchronize();
    munmap(p, kMiB);
    uint64_t old = bi.devmem_offset;
    ASSERT_EQ(gem_close(fd, h), 0);

    ASSERT_EQ(create(fd, kMiB, MTIA_BO_DEVICE, &h), 0);
    ASSERT_EQ(info(fd, h, &bi), 0);
    EXPECT_EQ(bi.devmem_offset, old) << "(not the same range: the check is weaker)";
    p = map(bi);
    ASSERT_NE(p, MAP_FAILED);
    EXPECT_TRUE(all_zero(p, kMiB));
    munmap(p, kMiB);
    EXPECT_EQ(gem_close(fd, h), 0);
}

TEST_F(Bo, MappingsCannotReachOutsideTheBo)
{
    NEED_DEVMEM();
    for (uint32_t placement : {MTIA_BO_HOST, MTIA_BO_DEVICE}) {
        SCOPED_TRACE("placement " + std::to_string(placement));
        const uint64_t size = 4 * kPage;
        uint32_t h = 0;
        drm_mtia_bo_info bi;
        ASSERT_EQ(create(fd, size, placement, &h), 0);
        ASSERT_EQ(info(fd, h, &bi), 0);
        void *whole = map(bi);
        ASSERT_NE(whole, MAP_FAILED);
        ASSERT_TRUE(pattern_ok(whole, size, 77));

        // A shorter mapping from the start sees the same bytes.
        auto *part =
            static_cast<uint64_t *>(mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, bi.mmap_offset));
        ASSERT_NE(part, MAP_FAILED) << strerror(errno);
        EXPECT_EQ(part[kPage / 8], static_cast<uint64_t *>(whole)[kPage / 8]);
        munmap(part, 2 * kPage);
        // Mappings must start at the BO's offset (DRM looks the offset up
        // exactly): one page into the BO is refused.
        errno = 0;
        EXPECT_EQ(mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd, bi.mmap_offset + kPage), MAP_FAILED);
        EXPECT_EQ(errno, EINVAL);

        // Longer than the BO, starting at the end, or crossing it: refused.
        errno = 0;
        EXPECT_EQ(mmap(nullptr, size + kPage, PROT_READ, MAP_SHARED, fd, bi.mmap_offset), MAP_FAILED);
        EXPECT_EQ(errno, EINVAL);
        EXPECT_EQ(mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd, bi.mmap_offset + size), MAP_FAILED);
        EXPECT_EQ(mmap(nullptr, 2 * kPage, PROT_READ, MAP_SHARED, fd, bi.mmap_offset + size - kPage), MAP_FAILED);
        // Growing a mapping past the BO: refused (VM_DONTEXPAND).
        EXPECT_EQ(mremap(whole, size, size + kPage, 0), MAP_FAILED);
        munmap(whole, size);
        EXPECT_EQ(gem_close(fd, h), 0);
    }
}

TEST_F(Bo, DeviceBoRefusesPrivateMappings)
{
    NEED_DEVMEM();
    uint32_t h = 0;
    drm_mtia_bo_info bi;
    ASSERT_EQ(create(fd, kPage, MTIA_BO_DEVICE, &h), 0);
    ASSERT_EQ(info(fd, h, &bi), 0);
    errno = 0;
    EXPECT_EQ(map(bi, MAP_PRIVATE), MAP_FAILED);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(gem_close(fd, h), 0);
}

TEST_F(Bo, MappingKeepsTheBoAliveAfterClose)
{
    NEED_DEVMEM();
    uint32_t h = 0;
    drm_mtia_bo_info bi;
    ASSERT_EQ(create(fd, kMiB, MTIA_BO_DEVICE, &h), 0);
    ASSERT_EQ(info(fd, h, &bi), 0);
    void *p = map(bi);
    ASSERT_NE(p, MAP_FAILED);
    ASSERT_EQ(gem_close(fd, h), 0);
    EXPECT_EQ(info(fd, h, &bi), ENOENT);
    // Still mapped, still allocated.
    EXPECT_TRUE(pattern_ok(p, kMiB, 5));
    EXPECT_EQ(sysfs_u64("mem_used"), used_at_start + kMiB);
    munmap(p, kMiB);
    EXPECT_EQ(sysfs_u64("mem_used"), used_at_start);
}

TEST_F(Bo, BadCreateArguments)
{
    uint32_t h = 0;
    for (uint32_t placement : {MTIA_BO_HOST, MTIA_BO_DEVICE}) {
        SCOPED_TRACE("placement " + std::to_string(placement));
        EXPECT_EQ(create(fd, 0, placement, &h), EINVAL);
        EXPECT_EQ(create(fd, kPage, placement, &h, 1), EINVAL);
        EXPECT_EQ(create(fd, kPage, placement, &h, 0x80000000u), EINVAL);
        EXPECT_EQ(create(fd, 1ull << 62, placement, &h), EINVAL);
        EXPECT_EQ(create(fd, UINT64_MAX, placement, &h), EINVAL);
        for (int field = 0; field < 3; field++) {
            drm_mtia_bo_create req{};
            req.size = kPage;
            req.placement = placement;
            if (field == 0)
                req.pad = 1;
            else
                req.reserved[field - 1] = 1;
            errno = 0;
            EXPECT_EQ(drmIoctl(fd, DRM_IOCTL_MTIA_BO_CREATE, &req), -1) << "field " << field;
            EXPECT_EQ(errno, EINVAL);
        }
    }
    EXPECT_EQ(create(fd, kPage, 2, &h), EINVAL);
    EXPECT_EQ(create(fd, kPage, UINT32_MAX, &h), EINVAL);
    EXPECT_EQ(create(fd, mem_total + 1, MTIA_BO_DEVICE, &h), EINVAL);
    EXPECT_EQ(create(fd, (4ull << 30) + 1, MTIA_BO_HOST, &h), EINVAL);
    EXPECT_EQ(sysfs_u64("mem_used"), used_at_start);
    EXPECT_EQ(fdinfo(fd)["drm-total-system"], 0u);
}

TEST_F(Bo, BadInfoArguments)
{
    drm_mtia_bo_info bi;
    EXPECT_EQ(info(fd, 0, &bi), ENOENT);
    EXPECT_EQ(info(fd, 12345, &bi), ENOENT);
    uint32_t h = 0;
    ASSERT_EQ(create(fd, kPage, MTIA_BO_HOST, &h), 0);
    for (int field = 0; field < 3; field++) {
        drm_mtia_bo_info req{};
        req.handle = h;
        if (field == 0)
            req.flags = 1;
        else
            req.reserved[field - 1] = 1;
        errno = 0;
        EXPECT_EQ(drmIoctl(fd, DRM_IOCTL_MTIA_BO_INFO, &req), -1) << "field " << field;
        EXPECT_EQ(errno, EINVAL);
    }
    EXPECT_EQ(gem_close(fd, h), 0);
    EXPECT_EQ(info(fd, h, &bi), ENOENT);
    EXPECT_EQ(gem_close(fd, h), EINVAL);
}

TEST_F(Bo, HandlesArePerFile)
{
    NEED_DEVMEM();
    int fd2 = open(node.c_str(), O_RDWR | O_CLOEXEC);
    ASSERT_GE(fd2, 0);
    uint32_t h1 = 0, h2 = 0;
    ASSERT_EQ(create(fd, kPage, MTIA_BO_HOST, &h1), 0);
    ASSERT_EQ(create(fd, kPage, MTIA_BO_DEVICE, &h2), 0);
    drm_mtia_bo_info bi;
    EXPECT_EQ(info(fd2, h1, &bi), ENOENT);
    EXPECT_EQ(info(fd2, h2, &bi), ENOENT);
    EXPECT_EQ(gem_close(fd2, h1), EINVAL);
    // The other file cannot map this file's BOs either.
    ASSERT_EQ(info(fd, h2, &bi), 0);
    EXPECT_EQ(mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd2, bi.mmap_offset), MAP_FAILED);
    EXPECT_EQ(info(fd, h1, &bi), 0);
    // Closing a file frees its BOs.
    close(fd);
    fd = fd2;
    EXPECT_EQ(sysfs_u64("mem_used"), used_at_start);
}

TEST_F(Bo, FdinfoShowsMemory)
{
    NEED_DEVMEM();
    auto s = fdinfo(fd);
    ASSERT_TRUE(s.count("drm-total-system")) << read_file("/proc/self/fdinfo/" + std::to_string(fd));
    ASSERT_TRUE(s.count("drm-total-device"));
    EXPECT_EQ(s["drm-total-system"], 0u);
    EXPECT_EQ(s["drm-total-device"], 0u);

    uint32_t hh = 0, hd = 0;
    ASSERT_EQ(create(fd, 64 * 1024, MTIA_BO_HOST, &hh), 0);
    ASSERT_EQ(create(fd, 2 * kMiB, MTIA_BO_DEVICE, &hd), 0);
    s = fdinfo(fd);
    EXPECT_EQ(s["drm-total-system"], 64u * 1024);
    EXPECT_EQ(s["drm-resident-system"], 0u) << "host pages are allocated on first use";
    EXPECT_EQ(s["drm-total-device"], 2 * kMiB);
    EXPECT_EQ(s["drm-resident-device"], 2 * kMiB);

    drm_mtia_bo_info bi;
    ASSERT_EQ(info(fd, hh, &bi), 0);
    void *p = map(bi);
    ASSERT_NE(p, MAP_FAILED);
    memset(p, 1, bi.size);
    s = fdinfo(fd);
    EXPECT_EQ(s["drm-resident-system"], 64u * 1024);
    munmap(p, bi.size);

    EXPECT_EQ(gem_close(fd, hh), 0);
    EXPECT_EQ(gem_close(fd, hd), 0);
    s = fdinfo(fd);
    EXPECT_EQ(s["drm-total-system"], 0u);
    EXPECT_EQ(s["drm-total-device"], 0u);
    EXPECT_EQ(s["drm-resident-device"], 0u);
}

TEST_F(Bo, DeviceMemoryExhaustionAndRecovery)
{
    NEED_DEVMEM();
    std::vector<uint32_t> handles;
    auto fill = [&](uint64_t chunk) {
        uint32_t h = 0;
        int err;
        while ((err = create(fd, chunk, MTIA_BO_DEVICE, &h)) == 0) handles.push_back(h);
        return err;
    };
    EXPECT_EQ(fill(64 * kMiB), ENOSPC);
    size_t big = handles.size();
    EXPECT_GT(big, 0u);
    EXPECT_EQ(fill(kMiB), ENOSPC);
    EXPECT_EQ(fill(kPage), ENOSPC);
    EXPECT_EQ(sysfs_u64("mem_used"), mem_total) << "every page allocatable";
    uint32_t h = 0;
    EXPECT_EQ(create(fd, kPage, MTIA_BO_DEVICE, &h), ENOSPC);
    // Host BOs do not come from device memory.
    ASSERT_EQ(create(fd, kMiB, MTIA_BO_HOST, &h), 0);
    EXPECT_EQ(gem_close(fd, h), 0);

    for (uint32_t x : handles) EXPECT_EQ(gem_close(fd, x), 0);
    handles.clear();
    EXPECT_EQ(sysfs_u64("mem_used"), used_at_start);

    // The space is available again, as large contiguous ranges.
    EXPECT_EQ(fill(64 * kMiB), ENOSPC);
    EXPECT_EQ(handles.size(), big);
    for (uint32_t x : handles) EXPECT_EQ(gem_close(fd, x), 0);
}

TEST_F(Bo, CreateCloseCyclesLeakNothing)
{
    NEED_DEVMEM();
    const uint64_t sizes[] = {1, kPage, 5 * kPage, 100 * 1024, kMiB, 2 * kMiB + 1};
    for (int cycle = 0; cycle < 300; cycle++) {
        uint32_t h[4] = {};
        for (int i = 0; i < 4; i++) {
            uint32_t placement = (cycle + i) % 2 ? MTIA_BO_DEVICE : MTIA_BO_HOST;
            ASSERT_EQ(create(fd, sizes[(cycle + i) % 6], placement, &h[i]), 0) << "cycle " << cycle;
        }
        if (cycle % 50 == 0) {
            drm_mtia_bo_info bi;
            ASSERT_EQ(info(fd, h[1], &bi), 0);
            void *p = map(bi);
            ASSERT_NE(p, MAP_FAILED);
            munmap(p, bi.size);
        }
        for (int i = 3; i >= 0; i--) ASSERT_EQ(gem_close(fd, h[i]), 0);
    }
    EXPECT_EQ(sysfs_u64("mem_used"), used_at_start);
    auto s = fdinfo(fd);
    EXPECT_EQ(s["drm-total-system"], 0u);
    EXPECT_EQ(s["drm-total-device"], 0u);
}

}  // namespace
