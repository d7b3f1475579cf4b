// SPDX-License-Identifier: MIT
// In-VM: direct queues (DIRECT_CREATE/DESTROY/WAIT/SIGNAL, BO_MAP; docs/queues.md
// "Bound queues"): commands written straight into a mapped SQ, the doorbell
// rung through its mapped page, completions read from the mapped CQ. A
// FILL, COPY, NOP, FENCE and TIMESTAMP run; a forged context, a bad
// doorbell value and malformed commands each fail only their own command
// or doorbell; another file's BO is out of reach; an unmapped VA takes
// the file's direct queues back (DIRECT_WAIT: EFAULT), nobody else's;
// another file cannot map the queue; the kernel path runs beside it; a
// process killed with commands in flight leaves the device usable;
// DIRECT_WAIT times out and sleeps until the interrupt; a reset loses the
// queue. DIRECT_SIGNAL: a kernel job waits for direct work through a
// syncobj, and so does the host; every fence ends (destroy, close, fault,
// job_timeout_ms). Needs the device MMU.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/sync_file.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xf86drm.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <functional>
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

uint32_t syncobj(int fd)
{
    uint32_t h = 0;
    EXPECT_EQ(0, drmSyncobjCreate(fd, 0, &h));
    return h;
}

int64_t now_ns()
{
    timespec t{};
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * int64_t{1000000000} + t.tv_nsec;
}

// drmSyncobjWait for @h: 0 once signalled (with or without an error),
// -ETIME if not within @timeout_ns (0: a look).
int sync_wait(int fd, uint32_t h, int64_t timeout_ns)
{
    return drmSyncobjWait(fd, &h, 1, timeout_ns ? now_ns() + timeout_ns : 0, 0, nullptr);
}

// A sync_file's fence status: 1 signalled, 0 pending, < 0 its error.
int sync_file_status(int sf)
{
    sync_file_info info{};
    if (ioctl(sf, SYNC_IOC_FILE_INFO, &info)) return -1000 - errno;
    return info.status;
}

// The status of @h's fence (as sync_file_status()).
int fence_status(int fd, uint32_t h)
{
    int sf = -1;
    if (drmSyncobjExportSyncFile(fd, h, &sf)) return -2000 - errno;
    int st = sync_file_status(sf);
    close(sf);
    return st;
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
    // A FENCE completes once everything before it has: behind a big FILL.
    Bo big = bo_create(fd, 8u << 20, MTIA_BO_HOST);
    const uint64_t va_big = va_of(fd, big.handle);
    q.push(dcmd(MTIA_CMD_FILL, ctx, 8u << 20, 0, va_big, 0x3c));
    q.push(dcmd(MTIA_CMD_FENCE, ctx));
    mtia_cqe fill{}, fence{};
    ASSERT_EQ(0, q.next(&fill));
    ASSERT_EQ(0, q.next(&fence));
    EXPECT_EQ(MTIA_CQE_OK, mtia_cqe_status(fill.status));
    EXPECT_EQ(MTIA_CQE_OK, mtia_cqe_status(fence.status));
    EXPECT_EQ(0x3c, big.map[(8u << 20) - 1]);
    uint64_t ns = 0;
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_TIMESTAMP, ctx, 8, 0, va_b), &ns));
    uint64_t written;
    memcpy(&written, b.map, 8);
    EXPECT_EQ(ns, written);
    // More than a ring's worth, to wrap the SQ and the CQ's phase.
    for (uint32_t i = 0; i < 3 * q.entries(); i++)
        ASSERT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, ctx, 64, 0, va_a + 64 * (i % 64), i & 0xff)));
}

// A forged context and a bad doorbell value fail their own command (or
// doorbell) only: they are no fault of the context, the queue goes on.
TEST_F(DirectTest, ForgedContextAndBadDoorbellFailOnlyThemselves)
{
    const uint32_t ctx = q.c.ctx;
    memset(b.map, 0, 4096);
    EXPECT_EQ(MTIA_CQE_BAD_CONTEXT, q.run(dcmd(MTIA_CMD_FILL, ctx + 1, 4096, 0, va_b, 1)));
    EXPECT_EQ(MTIA_CQE_BAD_CONTEXT, q.run(dcmd(MTIA_CMD_FILL, 0, 4096, 0, va_b, 1)));
    EXPECT_EQ(0, b.map[0]);
    q.ring(q.entries() + 5);  // out of range: ignored
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, ctx, 64, 0, va_b, 7)));
    EXPECT_EQ(7, b.map[63]);
}

// Malformed commands (an unknown opcode, a flag the opcode does not take, a
// non-zero reserved word, a FILL64 length not a multiple of 8) fail alone,
// touching nothing, and the queue goes on.
TEST_F(DirectTest, MalformedCommandsFailOnlyThemselves)
{
    const uint32_t ctx = q.c.ctx;
    memset(b.map, 0, 4096);
    EXPECT_EQ(MTIA_CQE_BAD_OPCODE, q.run(dcmd(0x7f, ctx, 64, 0, va_b, 1)));
    mtia_cmd flags = dcmd(MTIA_CMD_COPY, ctx, 64, va_a, va_b);
    flags.flags = 0x80;
    EXPECT_EQ(MTIA_CQE_BAD_FIELD, q.run(flags));
    mtia_cmd reserved = dcmd(MTIA_CMD_FILL, ctx, 64, 0, va_b, 2);
    reserved.reserved = 1;
    EXPECT_EQ(MTIA_CQE_BAD_FIELD, q.run(reserved));
    mtia_cmd fill64 = dcmd(MTIA_CMD_FILL, ctx, 12, 0, va_b, 3);
    fill64.flags = MTIA_CMD_F_FILL64;
    EXPECT_NE(MTIA_CQE_OK, q.run(fill64));
    EXPECT_EQ(0, b.map[0]);
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, ctx, 64, 0, va_b, 4)));
    EXPECT_EQ(4, b.map[63]);
}

// Another file's BO cannot be reached: its VA means, in this context,
// this file's own memory at that address or nothing (a fault). Either
// way the other file's BO keeps its data.
TEST_F(DirectTest, AnotherFilesBoIsOutOfReach)
{
    const int other = open_dev();
    ASSERT_GE(other, 0);
    Bo ob = bo_create(other, 64 * 1024, MTIA_BO_HOST);
    memset(ob.map, 0x77, 64 * 1024);
    const uint64_t va_ob = va_of(other, ob.handle);
    uint32_t st = q.run(dcmd(MTIA_CMD_FILL, q.c.ctx, 64 * 1024, 0, va_ob, 0x11));
    EXPECT_TRUE(st == MTIA_CQE_OK || st == MTIA_CQE_TRANSLATION_FAULT) << st;
    st = q.run(dcmd(MTIA_CMD_COPY, q.c.ctx, 4096, va_ob, va_a));
    EXPECT_TRUE(st == MTIA_CQE_OK || st == MTIA_CQE_TRANSLATION_FAULT || st == ~0u) << st;
    for (size_t i = 0; i < 64 * 1024; i++) ASSERT_EQ(0x77, ob.map[i]) << "byte " << i;
    bo_free(other, ob);
    close(other);
}

// A command that faults in the device MMU takes the file's direct queue
// back: DIRECT_WAIT says EFAULT, nothing more runs, its fences end; a new
// queue works, and another file's direct queue and the file's kernel jobs
// never noticed.
TEST_F(DirectTest, UnmappedVaTakesTheQueueBack)
{
    const int other = open_dev();
    ASSERT_GE(other, 0);
    Direct o;
    ASSERT_EQ(0, o.create(other));
    Bo ob = bo_create(other, 4096, MTIA_BO_HOST);
    const uint64_t va_ob = va_of(other, ob.handle);
    const uint32_t kq = queue_create(fd);
    const uint32_t pending = syncobj(fd);
    ASSERT_EQ(0, q.signal(pending, 9));
    memset(b.map, 0, 4096);

    uint64_t fault_va = 0;
    EXPECT_EQ(MTIA_CQE_TRANSLATION_FAULT, q.run(dcmd(MTIA_CMD_FILL, q.c.ctx, 64, 0, 0x7000000000ull, 1), &fault_va));
    EXPECT_EQ(0x7000000000ull, fault_va);
    mtia_cqe e{};
    EXPECT_EQ(EFAULT, q.next(&e));
    q.push(dcmd(MTIA_CMD_FILL, q.c.ctx, 64, 0, va_b, 7));
    EXPECT_EQ(EFAULT, q.next(&e));
    EXPECT_EQ(0, b.map[0]);
    EXPECT_EQ(0, sync_wait(fd, pending, 30 * kSec));
    EXPECT_EQ(-ECANCELED, fence_status(fd, pending));
    const uint32_t late = syncobj(fd);  // a fence of a taken queue ends at once
    ASSERT_EQ(0, q.signal(late, 1));
    EXPECT_EQ(-ECANCELED, fence_status(fd, late));

    EXPECT_EQ(MTIA_CQE_OK, o.run(dcmd(MTIA_CMD_FILL, o.c.ctx, 64, 0, va_ob, 3)));
    EXPECT_EQ(3, ob.map[63]);
    Submit s;
    s.bos = {a.handle};
    s.cmds.push_back(cmd_fill(0, 0, 4096, 0x33));
    EXPECT_EQ(0, run(fd, kq, s));
    EXPECT_EQ(0x33, a.map[100]);

    EXPECT_EQ(0, q.destroy());
    ASSERT_EQ(0, q.create(fd));
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, q.c.ctx, 64, 0, va_b, 5)));
    EXPECT_EQ(5, b.map[0]);
    o.destroy();
    close(other);
}

// A legacy flat address is a VA too (nothing outside the context): it
// faults, and takes every direct queue of the file back.
TEST_F(DirectTest, FaultTakesEveryQueueOfTheFile)
{
    Direct q2;
    ASSERT_EQ(0, q2.create(fd));
    EXPECT_EQ(MTIA_CQE_TRANSLATION_FAULT, q.run(dcmd(MTIA_CMD_FILL, q.c.ctx, 64, 0, 0x1000, 1)));
    mtia_cqe e{};
    EXPECT_EQ(EFAULT, q2.next(&e));
    EXPECT_EQ(EFAULT, q.next(&e));
    EXPECT_EQ(0, q2.destroy());
}

// Direct work, then a kernel job behind it through DIRECT_SIGNAL's syncobj:
// the job starts only once the fence word is written, behind long FILLs of
// the BO it copies.
TEST_F(DirectTest, KernelJobWaitsForDirectWork)
{
    constexpr uint64_t kLen = 8 * kMiB;
    Bo dev = bo_create(fd, kLen, MTIA_BO_DEVICE, false);
    Bo host = bo_create(fd, kLen, MTIA_BO_HOST);
    const uint64_t va_dev = va_of(fd, dev.handle);
    const uint32_t s = syncobj(fd);
    ASSERT_EQ(0, q.signal(s, 2));  // never written
    EXPECT_EQ(-ETIME, sync_wait(fd, s, 0));
    const uint8_t fills[] = {0x11, 0x22, 0x33, 0x77};
    for (uint8_t v : fills) q.write(dcmd(MTIA_CMD_FILL, q.c.ctx, kLen, 0, va_dev, v));
    q.write(q.fence_cmd(1));
    ASSERT_EQ(0, q.signal(s, 1));
    EXPECT_EQ(-ETIME, sync_wait(fd, s, 0));  // not rung yet

    const uint32_t kq = queue_create(fd);
    Submit copy;
    copy.bos = {dev.handle, host.handle};
    copy.cmds.push_back(cmd_copy(0, 0, 1, 0, kLen));
    copy.in_syncs = {s};
    uint64_t seq = 0;
    ASSERT_EQ(0, submit(fd, kq, copy, &seq));
    int32_t st = -1;
    EXPECT_EQ(ETIME, wait_job(fd, kq, seq, 0, &st));  // held by the fence
    q.kick();
    ASSERT_EQ(0, wait_job(fd, kq, seq, 60 * kSec, &st));
    EXPECT_EQ(0, st);
    EXPECT_EQ(1, fence_status(fd, s));
    for (uint64_t off = 0; off < kLen; off += 4096) ASSERT_EQ(0x77, host.map[off]) << off;
    EXPECT_EQ(0x77, host.map[kLen - 1]);
    for (size_t i = 0; i < sizeof(fills) + 1; i++) {
        mtia_cqe e{};
        ASSERT_EQ(0, q.next(&e));
        EXPECT_EQ(MTIA_CQE_OK, mtia_cqe_status(e.status));
    }
}

// The host waits for direct work with drmSyncobjWait; a value the word
// already reached (or passed) gives a signalled fence.
TEST_F(DirectTest, HostWaitsForTheFenceWord)
{
    const uint32_t s = syncobj(fd);
    ASSERT_EQ(0, q.signal(s, 1));
    q.push(dcmd(MTIA_CMD_FILL, q.c.ctx, 4096, 0, va_a, 0x21));
    q.push(q.fence_cmd(3));
    EXPECT_EQ(0, sync_wait(fd, s, 30 * kSec));
    EXPECT_EQ(1, fence_status(fd, s));
    EXPECT_EQ(0x21, a.map[4095]);
    const uint32_t later = syncobj(fd);
    ASSERT_EQ(0, q.signal(later, 3));
    EXPECT_EQ(1, fence_status(fd, later));
    ASSERT_EQ(0, q.signal(later, 2));
    EXPECT_EQ(1, fence_status(fd, later));
    ASSERT_EQ(0, q.signal(later, 4));
    EXPECT_EQ(0, fence_status(fd, later));
}

// A fence for a value never written ends with ECANCELED when its queue is
// destroyed, and when its file closes. A kernel job behind it still runs:
// drm_sched (6.12) runs a job whose dependency ended with an error, as it
// does behind a failed kernel job; whoever cares reads the fence's status.
TEST_F(DirectTest, FencesEndWithTheQueue)
{
    const uint32_t s = syncobj(fd);
    ASSERT_EQ(0, q.signal(s, 5));
    const uint32_t kq = queue_create(fd);
    Submit fill;
    fill.bos = {a.handle};
    fill.cmds.push_back(cmd_fill(0, 0, 4096, 0x66));
    fill.in_syncs = {s};
    uint64_t seq = 0;
    ASSERT_EQ(0, submit(fd, kq, fill, &seq));
    int32_t st = -1;
    EXPECT_EQ(ETIME, wait_job(fd, kq, seq, 0, &st));
    EXPECT_EQ(0, q.destroy());
    EXPECT_EQ(0, sync_wait(fd, s, 30 * kSec));
    EXPECT_EQ(-ECANCELED, fence_status(fd, s));
    EXPECT_EQ(0, wait_job(fd, kq, seq, 60 * kSec, &st));
    EXPECT_EQ(0, st);
    EXPECT_EQ(0x66, a.map[4095]);
    ASSERT_EQ(0, q.create(fd));

    // Closing the file ends them too (a sync_file keeps the fence).
    const int f2 = open_dev();
    ASSERT_GE(f2, 0);
    Direct d2;
    ASSERT_EQ(0, d2.create(f2));
    const uint32_t s2 = syncobj(f2);
    ASSERT_EQ(0, d2.signal(s2, 1));
    int sf = -1;
    ASSERT_EQ(0, drmSyncobjExportSyncFile(f2, s2, &sf));
    EXPECT_EQ(0, sync_file_status(sf));
    d2.unmap();
    close(f2);
    pollfd p{sf, POLLIN, 0};
    EXPECT_EQ(1, poll(&p, 1, 30000));
    EXPECT_EQ(-ECANCELED, sync_file_status(sf));
    close(sf);
}

// A fence still pending job_timeout_ms after DIRECT_SIGNAL ends with
// ETIMEDOUT; the queue goes on. Runs with a short timeout only
// (test-direct.sh reloads the driver with job_timeout_ms=500).
TEST_F(DirectTest, FenceTimesOut)
{
    unsigned ms = 0;
    std::ifstream("/sys/module/mtia/parameters/job_timeout_ms") >> ms;
    if (!ms || ms > 1000) GTEST_SKIP() << "job_timeout_ms " << ms << ": the short-timeout run covers it";
    const uint32_t s = syncobj(fd);
    const int64_t t0 = now_ns();
    ASSERT_EQ(0, q.signal(s, 7));
    EXPECT_EQ(0, sync_wait(fd, s, 30 * kSec));
    EXPECT_GE(now_ns() - t0, int64_t{ms} * 1000000 * 9 / 10);
    EXPECT_EQ(-ETIMEDOUT, fence_status(fd, s));
    q.push(q.fence_cmd(7));
    mtia_cqe e{};
    ASSERT_EQ(0, q.next(&e));
    EXPECT_EQ(MTIA_CQE_OK, mtia_cqe_status(e.status));
    const uint32_t s2 = syncobj(fd);
    ASSERT_EQ(0, q.signal(s2, 7));
    EXPECT_EQ(1, fence_status(fd, s2));
}

// A queue busy with work ahead of a fence keeps it pending past
// job_timeout_ms (every completion is progress), and it signals once its
// value is written; but however busy the queue, a fence ends with ETIMEDOUT
// at the cap, ten job timeouts after it was made. Short-timeout run only.
TEST_F(DirectTest, FenceWaitsWhileItsQueueProgressesUpToACap)
{
    unsigned ms = 0;
    std::ifstream("/sys/module/mtia/parameters/job_timeout_ms") >> ms;
    if (!ms || ms > 1000) GTEST_SKIP() << "job_timeout_ms " << ms << ": the short-timeout run covers it";
    Bo big = bo_create(fd, 8u << 20, MTIA_BO_HOST);
    const uint64_t va_big = va_of(fd, big.handle);
    // Keeps a few 8 MiB FILLs in flight until @until (ns) or @stop says so;
    // false if a command failed.
    auto busy = [&](int64_t until, const std::function<bool()> &stop) {
        unsigned inflight = 0;
        bool ok = true;
        while (now_ns() < until && !stop()) {
            q.push(dcmd(MTIA_CMD_FILL, q.c.ctx, 8u << 20, 0, va_big, 0x11));
            if (++inflight < 4) continue;
            mtia_cqe e{};
            ok = ok && q.next(&e) == 0 && mtia_cqe_status(e.status) == MTIA_CQE_OK;
            inflight--;
        }
        for (; inflight; inflight--) {
            mtia_cqe e{};
            ok = ok && q.next(&e) == 0 && mtia_cqe_status(e.status) == MTIA_CQE_OK;
        }
        return ok;
    };
    const int64_t timeout_ns = int64_t{ms} * 1000000;
    const uint32_t s = syncobj(fd);
    ASSERT_EQ(0, q.signal(s, 5));
    ASSERT_TRUE(busy(now_ns() + 3 * timeout_ns, [] { return false; }));
    EXPECT_EQ(0, fence_status(fd, s)) << "three job timeouts of progress: still pending";
    q.push(q.fence_cmd(5));
    mtia_cqe e{};
    ASSERT_EQ(0, q.next(&e));
    EXPECT_EQ(0, sync_wait(fd, s, 30 * kSec));
    EXPECT_EQ(1, fence_status(fd, s));

    const uint32_t capped = syncobj(fd);
    const int64_t t0 = now_ns();
    ASSERT_EQ(0, q.signal(capped, 6));
    ASSERT_TRUE(busy(t0 + 30 * timeout_ns, [&] { return fence_status(fd, capped) != 0; }));
    EXPECT_EQ(-ETIMEDOUT, fence_status(fd, capped));
    EXPECT_GE(now_ns() - t0, 10 * timeout_ns * 9 / 10);
}

TEST_F(DirectTest, SignalArgumentsAreChecked)
{
    EXPECT_NE(0u, q.c.fence_va);
    EXPECT_EQ(0u, q.c.fence_va % 8);
    const uint32_t s = syncobj(fd);
    drm_mtia_direct_signal a{};
    a.queue_id = q.c.queue_id;
    a.value = 1;
    a.syncobj = s;
    auto bad = [&](void (*spoil)(drm_mtia_direct_signal &)) {
        drm_mtia_direct_signal x = a;
        spoil(x);
        return ioctl_err(fd, DRM_IOCTL_MTIA_DIRECT_SIGNAL, &x);
    };
    EXPECT_EQ(EINVAL, bad([](drm_mtia_direct_signal &x) { x.flags = 1; }));
    EXPECT_EQ(EINVAL, bad([](drm_mtia_direct_signal &x) { x.pad = 1; }));
    EXPECT_EQ(EINVAL, bad([](drm_mtia_direct_signal &x) { x.reserved[0] = 1; }));
    EXPECT_EQ(EINVAL, bad([](drm_mtia_direct_signal &x) { x.reserved[1] = 1; }));
    EXPECT_EQ(EINVAL, bad([](drm_mtia_direct_signal &x) { x.value = 0; }));
    EXPECT_EQ(EINVAL, bad([](drm_mtia_direct_signal &x) { x.queue_id = 12345; }));
    EXPECT_EQ(ENOENT, bad([](drm_mtia_direct_signal &x) { x.syncobj = 9999; }));
    EXPECT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_DIRECT_SIGNAL, &a));
    drm_mtia_direct_create c{};
    c.sq_order = c.cq_order = 4;
    c.fence_va = 1;
    EXPECT_EQ(EINVAL, ioctl_err(fd, DRM_IOCTL_MTIA_DIRECT_CREATE, &c));
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

// A device reset disables the queue: its waiters hear -ECANCELED, its
// fences end with it, and a new queue works.
TEST_F(DirectTest, ResetLosesTheQueue)
{
    const uint32_t s = syncobj(fd);
    ASSERT_EQ(0, q.signal(s, 1));
    const std::string bdf = g_debugfs.substr(g_debugfs.rfind('/') + 1);
    std::ofstream("/sys/bus/pci/devices/" + bdf + "/mtia/reset") << "1\n";
    mtia_cqe e{};
    EXPECT_EQ(ECANCELED, q.next(&e));
    EXPECT_EQ(0, sync_wait(fd, s, 30 * kSec));
    EXPECT_EQ(-ECANCELED, fence_status(fd, s));
    EXPECT_EQ(0, q.destroy());
    ASSERT_EQ(0, q.create(fd));
    EXPECT_EQ(MTIA_CQE_OK, q.run(dcmd(MTIA_CMD_FILL, q.c.ctx, 64, 0, va_b, 5)));
    EXPECT_EQ(5, b.map[0]);
}

}  // namespace
