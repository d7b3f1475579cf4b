// SPDX-License-Identifier: MIT
// In-VM: direct queues (DIRECT_CREATE/DESTROY/WAIT, BO_MAP; docs/queues.md
// "Bound queues"): commands written straight into a mapped SQ, the doorbell
// rung through its mapped page, completions read from the mapped CQ. A
// FILL, COPY, NOP and TIMESTAMP run; a forged context, an unmapped VA and a
// bad doorbell value each fail only their own command or doorbell; another
// file cannot map the queue; the kernel path runs beside it; a process
// killed with commands in flight leaves the device usable; DIRECT_WAIT
// times out and sleeps until the interrupt; a reset loses the queue.
// Needs the device MMU.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xf86drm.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>

#include "mtia/mtia_spec.h"
#include "uapi/drm/mtia_accel.h"
#include "direct_queue.h"
#include "submit_util.h"

namespace {

using namespace vmt;

// The shared driver of a direct queue, with the tests' defaults and a
// command run to its completion status.
struct Direct : DirectQueue {
    int create(int f, uint32_t order = 4) { return DirectQueue::create(f, order); }
    int next(mtia_cqe *out, uint64_t timeout_ns = 30 * kSec) { return DirectQueue::next(out, timeout_ns); }
    uint32_t run(const mtia_cmd &cmd, uint64_t *result = nullptr)
    {
        push(cmd);
        mtia_cqe e{};
        if (next(&e)) return ~0u;
        if (result) *result = e.result;
        return mtia_cqe_status(e.status);
    }
};

uint64_t va_of(int fd, uint32_t handle)
{
    drm_mtia_bo_map m{};
    m.handle = handle;
    EXPECT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_BO_MAP, &m));
    return m.va;
}

mtia_cmd dcmd(uint8_t op, uint32_t ctx, uint64_t len = 0, uint64_t src = 0, uint64_t dst = 0, uint64_t value = 0)
{
    mtia_cmd c{};
    c.opcode = op;
    c.ctx = ctx;
    c.len = len;
    c.value = value;
    c.src.addr = src;
    c.dst.addr = dst;
    return c;
}

class DirectTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(!g_node.empty() || find_device()) << "no mtia accel device";
        if (!g_mmu) GTEST_SKIP() << "direct queues need the device MMU";
        fd = open_dev();
        ASSERT_GE(fd, 0);
        ASSERT_EQ(0, q.create(fd));
        a = bo_create(fd, 64 * 1024, MTIA_BO_HOST);
        b = bo_create(fd, 64 * 1024, MTIA_BO_HOST);
        va_a = va_of(fd, a.handle);
        va_b = va_of(fd, b.handle);
    }
    void TearDown() override
    {
        if (fd < 0) return;
        q.destroy();
        close(fd);
    }
    int fd = -1;
    Direct q;
    Bo a, b;
    uint64_t va_a = 0, va_b = 0;
};

TEST_F(DirectTest, FillCopyNopTimestamp)
{
    const uint32_t ctx = q.c.ctx;
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, ctx, 4096, 0, va_a, 0x5a)));
    EXPECT_EQ(0x5a, a.map[4095]);
    uint64_t done = 0;
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_COPY, ctx, 4096, va_a, va_b + 8192), &done));
    EXPECT_EQ(4096u, done);
    EXPECT_EQ(0, memcmp(a.map, b.map + 8192, 4096));
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_NOP, ctx)));
    uint64_t ns = 0;
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_TIMESTAMP, ctx, 8, 0, va_b), &ns));
    uint64_t written;
    memcpy(&written, b.map, 8);
    EXPECT_EQ(ns, written);
    // More than a ring's worth, to wrap the SQ and the CQ's phase.
    for (uint32_t i = 0; i < 3 * q.entries(); i++)
        ASSERT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, ctx, 64, 0, va_a + 64 * (i % 64), i & 0xff)));
}

// Each bad thing fails its own command (or doorbell) only: the queue and
// the file go on.
TEST_F(DirectTest, ForgedContextUnmappedVaAndBadDoorbellFailOnlyThemselves)
{
    const uint32_t ctx = q.c.ctx;
    memset(b.map, 0, 4096);
    EXPECT_EQ(MTIA_CQE_BAD_CONTEXT, q.run(dcmd(MTIA_CMD_FILL, ctx + 1, 4096, 0, va_b, 1)));
    EXPECT_EQ(MTIA_CQE_BAD_CONTEXT, q.run(dcmd(MTIA_CMD_FILL, 0, 4096, 0, va_b, 1)));
    EXPECT_EQ(0, b.map[0]);
    uint64_t fault_va = 0;
    EXPECT_EQ(MTIA_CQE_TRANSLATION_FAULT, q.run(dcmd(MTIA_CMD_FILL, ctx, 64, 0, 0x7000000000ull, 1), &fault_va));
    EXPECT_EQ(0x7000000000ull, fault_va);
    // A legacy flat address is a VA too: nothing outside the context.
    EXPECT_EQ(MTIA_CQE_TRANSLATION_FAULT, q.run(dcmd(MTIA_CMD_FILL, ctx, 64, 0, 0x1000, 1)));
    q.ring(q.entries() + 5);  // out of range: ignored
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, ctx, 64, 0, va_b, 7)));
    EXPECT_EQ(7, b.map[63]);
}

TEST_F(DirectTest, WaitTimesOutAndArgumentsAreChecked)
{
    mtia_cqe e{};
    EXPECT_EQ(ETIME, q.next(&e, 20 * 1000 * 1000));
    drm_mtia_direct_wait w{};
    w.queue_id = q.c.queue_id;
    w.cq_index = q.entries();
    EXPECT_EQ(EINVAL, ioctl_err(fd, DRM_IOCTL_MTIA_DIRECT_WAIT, &w));
    w.cq_index = 0;
    w.phase = 2;
    EXPECT_EQ(EINVAL, ioctl_err(fd, DRM_IOCTL_MTIA_DIRECT_WAIT, &w));
    w.phase = 1;
    w.queue_id = 12345;
    EXPECT_EQ(EINVAL, ioctl_err(fd, DRM_IOCTL_MTIA_DIRECT_WAIT, &w));
    drm_mtia_direct_create c{};
    c.sq_order = 1;
    c.cq_order = 4;
    EXPECT_EQ(EINVAL, ioctl_err(fd, DRM_IOCTL_MTIA_DIRECT_CREATE, &c));
    c.sq_order = MTIA_DIRECT_ORDER_MAX + 1;
    EXPECT_EQ(EINVAL, ioctl_err(fd, DRM_IOCTL_MTIA_DIRECT_CREATE, &c));
    c.sq_order = 4;
    c.flags = 1;
    EXPECT_EQ(EINVAL, ioctl_err(fd, DRM_IOCTL_MTIA_DIRECT_CREATE, &c));
}

// Another file sees none of it: no mapping of the queue, and its own
// direct queue runs its own context only.
TEST_F(DirectTest, AnotherFileCannotMapTheQueue)
{
    int other = open_dev();
    ASSERT_GE(other, 0);
    for (uint64_t off : {q.c.sq_offset, q.c.cq_offset, q.c.doorbell_offset})
        EXPECT_EQ(MAP_FAILED, mmap(nullptr, 4096, PROT_READ, MAP_SHARED, other, off));
    // Nor the owner a writable CQ or a private copy.
    EXPECT_EQ(MAP_FAILED, mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, q.c.cq_offset));
    EXPECT_EQ(MAP_FAILED, mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, q.c.sq_offset));
    close(other);
}

// The kernel's queues run beside a direct one.
TEST_F(DirectTest, KernelPathRunsBeside)
{
    uint32_t kq = queue_create(fd);
    Submit s;
    s.bos = {a.handle};
    s.cmds.push_back(cmd_fill(0, 0, 4096, 0x33));
    EXPECT_EQ(0, run(fd, kq, s));
    EXPECT_EQ(0x33, a.map[100]);
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, q.c.ctx, 4096, 0, va_a, 0x44)));
    EXPECT_EQ(0x44, a.map[100]);
    EXPECT_EQ(0, run(fd, kq, s));
    EXPECT_EQ(0x33, a.map[100]);
}

// A process killed with commands in flight: the device, and the hardware
// queue once its mappings are gone, are usable again.
TEST_F(DirectTest, KilledProcessLeavesTheDeviceUsable)
{
    for (int round = 0; round < 3; round++) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            int f = open_dev();
            Direct d;
            if (f < 0 || d.create(f, 8)) _exit(2);
            Bo big = bo_create(f, 8 << 20, MTIA_BO_HOST);
            const uint64_t va = va_of(f, big.handle);
            for (uint32_t i = 0; i + 1 < d.entries(); i++) d.push(dcmd(MTIA_CMD_FILL, d.c.ctx, 8 << 20, 0, va, i));
            _exit(0);  // everything in flight
        }
        int st = 0;
        ASSERT_EQ(pid, waitpid(pid, &st, 0));
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
    }
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, q.c.ctx, 64, 0, va_b, 9)));
    EXPECT_EQ(9, b.map[0]);
}

// A device reset disables the queue: its waiters hear -ECANCELED, and a
// new queue works.
TEST_F(DirectTest, ResetLosesTheQueue)
{
    const std::string bdf = g_debugfs.substr(g_debugfs.rfind('/') + 1);
    std::ofstream("/sys/bus/pci/devices/" + bdf + "/mtia/reset") << "1\n";
    mtia_cqe e{};
    EXPECT_EQ(ECANCELED, q.next(&e));
    EXPECT_EQ(0, q.destroy());
    ASSERT_EQ(0, q.create(fd));
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, q.c.ctx, 64, 0, va_b, 5)));
    EXPECT_EQ(5, b.map[0]);
}

}  // namespace
