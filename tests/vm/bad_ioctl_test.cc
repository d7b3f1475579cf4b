// SPDX-License-Identifier: MIT
// In-VM: malformed GET_INFO calls get clean errors, never a crash or a write
// past the caller's buffer.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include <cerrno>
#include <cstring>

#include "mtia/mtia.hpp"
#include "uapi/drm/mtia_accel.h"

namespace {

class BadIoctl : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto nodes = mtia::device_nodes();
        ASSERT_FALSE(nodes.empty());
        fd = open(nodes[0].c_str(), O_RDWR | O_CLOEXEC);
        ASSERT_GE(fd, 0) << strerror(errno);
    }
    void TearDown() override { close(fd); }

    int get_info(drm_mtia_get_info *req) { return ioctl(fd, DRM_IOCTL_MTIA_GET_INFO, req) == 0 ? 0 : errno; }
    drm_mtia_get_info good_request()
    {
        drm_mtia_get_info req{};
        req.size = sizeof(info);
        req.info_ptr = reinterpret_cast<uintptr_t>(&info);
        return req;
    }

    int fd = -1;
    drm_mtia_info info{};
};

TEST_F(BadIoctl, GoodRequestWorks)
{
    auto req = good_request();
    EXPECT_EQ(get_info(&req), 0);
    EXPECT_EQ(req.size, sizeof(drm_mtia_info));
    EXPECT_NE(info.chip_id, 0u);
    EXPECT_EQ(info.pad, 0u);
}

TEST_F(BadIoctl, UnknownFlagsRejected)
{
    auto req = good_request();
    req.flags = 1;
    EXPECT_EQ(get_info(&req), EINVAL);
    req.flags = 0x80000000u;
    EXPECT_EQ(get_info(&req), EINVAL);
}

TEST_F(BadIoctl, NonZeroReservedRejected)
{
    for (int i = 0; i < 2; i++) {
        auto req = good_request();
        req.reserved[i] = 1;
        EXPECT_EQ(get_info(&req), EINVAL) << i;
    }
}

TEST_F(BadIoctl, ShortInfoBufferRejected)
{
    auto req = good_request();
    for (uint32_t size : {0u, 1u, 8u, static_cast<uint32_t>(MTIA_INFO_SIZE_V0 - 1)}) {
        req.size = size;
        EXPECT_EQ(get_info(&req), EINVAL) << size;
    }
}

TEST_F(BadIoctl, LargerBufferGetsKernelSizeAndNoMore)
{
    unsigned char buf[256];
    memset(buf, 0xa5, sizeof(buf));
    drm_mtia_get_info req{};
    req.size = sizeof(buf);
    req.info_ptr = reinterpret_cast<uintptr_t>(buf);
    EXPECT_EQ(get_info(&req), 0);
    EXPECT_EQ(req.size, sizeof(drm_mtia_info));
    for (size_t i = sizeof(drm_mtia_info); i < sizeof(buf); i++) {
        ASSERT_EQ(buf[i], 0xa5) << "kernel wrote past its struct at " << i;
    }
}

TEST_F(BadIoctl, BadPointersFault)
{
    auto req = good_request();
    req.info_ptr = 0;
    EXPECT_EQ(get_info(&req), EFAULT);
    req.info_ptr = 0xffff800000000000ull;  // kernel address
    EXPECT_EQ(get_info(&req), EFAULT);
    void *ro = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ASSERT_NE(ro, MAP_FAILED);
    req.info_ptr = reinterpret_cast<uintptr_t>(ro);
    EXPECT_EQ(get_info(&req), EFAULT);
    munmap(ro, 4096);
}

TEST_F(BadIoctl, NullArgumentFaults)
{
    EXPECT_NE(ioctl(fd, DRM_IOCTL_MTIA_GET_INFO, nullptr), 0);
    EXPECT_EQ(errno, EFAULT);
}

TEST_F(BadIoctl, UnknownDriverIoctlRejected)
{
    drm_mtia_get_info req = good_request();
    unsigned long bogus = DRM_IOWR(DRM_COMMAND_BASE + 0x3f, struct drm_mtia_get_info);
    EXPECT_NE(ioctl(fd, bogus, &req), 0);
    EXPECT_EQ(errno, EINVAL);
}

TEST_F(BadIoctl, ShortIoctlStructIsZeroExtendedAndRejectedBySize)
{
    // An old binary passing only 8 bytes: DRM zero-fills the rest, so info_ptr
    // is 0 and size is checked: no kernel read past the user's struct.
    struct {
        uint32_t size;
        uint32_t flags;
    } small = {MTIA_INFO_SIZE_V0, 0};
    unsigned long cmd = DRM_IOWR(DRM_COMMAND_BASE + DRM_MTIA_GET_INFO, small);
    EXPECT_NE(ioctl(fd, cmd, &small), 0);
    EXPECT_EQ(errno, EFAULT);
}

}  // namespace
