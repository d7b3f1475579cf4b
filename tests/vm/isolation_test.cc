// SPDX-License-Identifier: MIT
// In-VM proof of isolation between two processes (docs/security.md): a
// victim fills a host and a device BO with known data and keeps their
// checksums; an attacker (a forked child with its own file, so its own
// device context) then tries to read and write them every way it can:
//   - the victim's handle numbers                   -> -EINVAL (driver)
//   - offsets beyond its own BOs, an arena larger
//     than its BO                                   -> -EINVAL (driver)
//   - a COMPUTE program whose tensor leaves its arena -> -EIO, BAD_PROGRAM
//                                                       (device's program check)
//   - mmap of the victim's mmap offsets             -> EACCES (DRM's vma check)
//   - raw addresses forged past every driver check
//     (debugfs fault_inject "forge", root only): the
//     victim's VA, a DEVMEM-tagged physical offset,
//     as COPY source/destination, FILL and COMPUTE
//     arena                                         -> -EFAULT, TRANSLATION_FAULT
//                                                       (device MMU)
// The victim's checksums stay, and its later jobs run. The forged VA is
// shown to be the victim's real one first: the victim itself reads its BO
// through it. Needs the device MMU (sysfs mtia/mmu "on") and root.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "../unit/cmd_corpus.h"
#include "submit_util.h"

namespace {

using namespace vmt;

constexpr uint64_t kVmStart = 1ull << 20;  // the driver's first VA (mtia_vm.c)
constexpr uint64_t kPage = 4096;
constexpr uint64_t kBoBytes = 64 * 1024;

uint64_t checksum(const uint8_t *p, uint64_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (uint64_t i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

uint64_t mmap_offset(int fd, uint32_t handle, uint64_t *devmem_offset = nullptr)
{
    drm_mtia_bo_info i{};
    i.handle = handle;
    EXPECT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_BO_INFO, &i));
    if (devmem_offset) *devmem_offset = i.devmem_offset;
    return i.mmap_offset;
}

drm_mtia_cmd cmd_compute(uint32_t prog_bo, uint64_t prog_len, uint32_t arena_bo, uint64_t arena_bytes)
{
    drm_mtia_cmd c{};
    c.opcode = MTIA_CMD_COMPUTE;
    c.src_bo = prog_bo;
    c.len = prog_len;
    c.dst_bo = arena_bo;
    c.value = arena_bytes;
    return c;
}

// What an attempt gave: the job's status (or 1000 + errno of the ioctl)
// and its CQE status.
struct Outcome {
    int status;
    uint32_t cqe;
};

class IsolationTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(!g_node.empty() || find_device()) << "no mtia accel device";
        if (!g_mmu) GTEST_SKIP() << "the device MMU is off (mmu=off): nothing to prove";
        if (access((g_debugfs + "/fault_inject").c_str(), W_OK))
            GTEST_SKIP() << "no debugfs fault_inject (needs root and debugfs)";
        fd = open_dev();
        ASSERT_GE(fd, 0);
        q = queue_create(fd);
        // Handles 1..3 in this order; mapped in the job's BO order, so
        // their VAs follow one another from kVmStart, each with a guard page.
        host = bo_create(fd, kBoBytes, MTIA_BO_HOST);
        dev = bo_create(fd, kBoBytes, MTIA_BO_DEVICE);
        out = bo_create(fd, kBoBytes, MTIA_BO_HOST);
        ASSERT_TRUE(host.map && dev.map && out.map);
        for (uint64_t i = 0; i < kBoBytes; i++) host.map[i] = static_cast<uint8_t>(i * 13 + 7);
        Submit s;
        s.bos = {host.handle, dev.handle, out.handle};
        s.cmds = {cmd_copy(0, 0, 1, 0, kBoBytes), cmd_fill(1, 0, 256, 0xd5)};
        ASSERT_EQ(0, run(fd, q, s));
        host_va = kVmStart;
        dev_va = host_va + kBoBytes + kPage;
        mmap_offset(fd, dev.handle, &dev_off);
        host_sum = checksum(host.map, kBoBytes);
        dev_sum = device_checksum();
    }
    void TearDown() override
    {
        if (fd < 0) return;
        bo_free(fd, host);
        bo_free(fd, dev);
        bo_free(fd, out);
        close(fd);
    }
    // The device BO's checksum, read through a copy into `out`.
    uint64_t device_checksum()
    {
        Submit s;
        s.bos = {dev.handle, out.handle};
        s.cmds = {cmd_copy(0, 0, 1, 0, kBoBytes)};
        EXPECT_EQ(0, run(fd, q, s));
        return checksum(out.map, kBoBytes);
    }

    int fd = -1;
    uint32_t q = 0;
    Bo host, dev, out;
    uint64_t host_va = 0, dev_va = 0, dev_off = 0, host_sum = 0, dev_sum = 0;
};

// The attacker, in a child process with a file of its own: every attempt
// against the victim; what went otherwise than expected, one line each.
std::vector<std::string> attack(uint64_t victim_dev_va, uint64_t victim_dev_off,
                                const std::vector<uint64_t> &victim_mmap_offsets)
{
    std::vector<std::string> bad;
    const int fd = open_dev();
    if (fd < 0) return {"cannot open the device"};
    const uint32_t q = queue_create(fd);
    Bo a = bo_create(fd, kPage, MTIA_BO_HOST);     // handle 1
    Bo ad = bo_create(fd, kPage, MTIA_BO_DEVICE);  // handle 2
    Bo prog = bo_create(fd, kPage, MTIA_BO_HOST);  // handle 3
    std::memset(a.map, 0x11, kPage);
    const auto expect = [&](const std::string &what, const Submit &s, int status, uint32_t cqe) {
        uint32_t got_cqe = 0;
        const int got = run(fd, q, s, &got_cqe);
        if (got != status || (status < 1000 && got_cqe != cqe))
            bad.push_back(what + ": status " + std::to_string(got) + " cqe " + std::to_string(got_cqe) + ", expected " +
                          std::to_string(status) + " cqe " + std::to_string(cqe));
    };
    const auto forged = [&](const std::string &what, const std::string &forge, const Submit &s) {
        if (!write_debugfs("fault_inject", forge)) bad.push_back(what + ": cannot arm " + forge);
        expect(what, s, -EFAULT, MTIA_CQE_TRANSLATION_FAULT);
    };

    // The victim's handle numbers (4, 5: handles this file does not have).
    Submit s;
    s.bos = {4, a.handle};
    s.cmds = {cmd_copy(0, 0, 1, 0, 64)};
    expect("copy from the victim's handle", s, 1000 + EINVAL, 0);
    s.bos = {a.handle, 5};
    s.cmds = {cmd_fill(1, 0, 64, 0)};
    expect("fill the victim's handle", s, 1000 + EINVAL, 0);
    // Offsets past its own BOs, towards whatever lies next to them.
    s.bos = {a.handle, ad.handle};
    s.cmds = {cmd_copy(1, kPage, 0, 0, 64)};
    expect("copy from past its device BO", s, 1000 + EINVAL, 0);
    s.cmds = {cmd_copy(0, 0, 1, kPage - 32, 64)};
    expect("copy to past its device BO", s, 1000 + EINVAL, 0);
    s.cmds = {cmd_fill(0, 1ull << 40, 64, 0)};
    expect("fill far past its host BO", s, 1000 + EINVAL, 0);
    // COMPUTE: an arena larger than its BO; a tensor outside its arena.
    mtia_op op = corpus::copy_op();
    op.in[0].offset = kBoBytes * 4;
    std::memcpy(prog.map, &op, sizeof(op));
    s.bos = {prog.handle, ad.handle};
    s.cmds = {cmd_compute(0, sizeof(op), 1, 16 * kPage)};
    expect("compute arena past its BO", s, 1000 + EINVAL, 0);
    s.cmds = {cmd_compute(0, sizeof(op), 1, kPage)};
    expect("compute tensor outside its arena", s, -EIO, MTIA_CQE_BAD_PROGRAM);
    // mmap of the victim's BOs through their fake offsets.
    for (uint64_t off : victim_mmap_offsets) {
        void *p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
        if (p != MAP_FAILED) {
            bad.push_back("mmap of the victim's offset " + std::to_string(off) + " succeeded");
            munmap(p, kPage);
        } else if (errno != EACCES) {
            bad.push_back("mmap of the victim's offset: errno " + std::to_string(errno) + ", expected EACCES");
        }
    }
    // Raw addresses past every driver check: the device MMU refuses them.
    const std::string va = std::to_string(victim_dev_va);
    const std::string phys = std::to_string(MTIA_ADDR_DEVMEM | victim_dev_off);
    s.bos = {a.handle};
    s.cmds = {cmd_copy(0, 0, 0, 64, 64)};
    forged("read the victim's VA", "forge src " + va, s);
    forged("write the victim's VA", "forge dst " + va, s);
    forged("read its device memory by offset", "forge src " + phys, s);
    forged("write its device memory by offset", "forge dst " + phys, s);
    s.cmds = {cmd_fill(0, 0, 64, 0x66)};
    forged("fill the victim's VA", "forge dst " + va, s);
    op = corpus::copy_op();
    std::memcpy(prog.map, &op, sizeof(op));
    s.bos = {prog.handle, ad.handle};
    s.cmds = {cmd_compute(0, sizeof(op), 1, kPage)};
    forged("compute in the victim's memory as arena", "forge dst " + va, s);
    for (uint64_t i = 0; i < kPage; i++)
        if (a.map[i] != 0x11) {
            bad.push_back("its own BO changed at " + std::to_string(i));
            break;
        }
    // Its own work still runs.
    s.bos = {a.handle, ad.handle};
    s.cmds = {cmd_fill(0, 0, 64, 0x22), cmd_copy(0, 0, 1, 0, 64)};
    expect("its own valid job", s, 0, 0);
    bo_free(fd, a);
    bo_free(fd, ad);
    bo_free(fd, prog);
    close(fd);
    return bad;
}

TEST_F(IsolationTest, AnotherProcessCannotReachTheVictimsMemory)
{
    // The forged VA is right: through it the victim reads its own BO.
    ASSERT_TRUE(write_debugfs("fault_inject", "forge src " + std::to_string(dev_va)));
    Submit s;
    s.bos = {out.handle};
    s.cmds = {cmd_copy(0, 0, 0, 0, kBoBytes)};
    std::memset(out.map, 0, kBoBytes);
    ASSERT_EQ(0, run(fd, q, s));
    ASSERT_EQ(checksum(out.map, kBoBytes), dev_sum) << "dev_va is not the victim's device BO";

    const std::vector<uint64_t> offsets = {mmap_offset(fd, host.handle), mmap_offset(fd, dev.handle)};
    int pipefd[2];
    ASSERT_EQ(0, pipe(pipefd));
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        close(pipefd[0]);
        close(fd);  // the victim's file: the child's own comes from open_dev()
        std::string report;
        for (const std::string &line : attack(dev_va, dev_off, offsets)) report += line + "\n";
        if (write(pipefd[1], report.data(), report.size()) < 0) _exit(2);
        _exit(report.empty() ? 0 : 1);
    }
    close(pipefd[1]);
    std::string report;
    char buf[512];
    for (ssize_t n; (n = read(pipefd[0], buf, sizeof(buf))) > 0;) report.append(buf, static_cast<size_t>(n));
    close(pipefd[0]);
    int wst = 0;
    ASSERT_EQ(pid, waitpid(pid, &wst, 0));
    EXPECT_TRUE(WIFEXITED(wst) && WEXITSTATUS(wst) == 0) << report;

    // The victim's data is as it was, and its jobs still run.
    EXPECT_EQ(checksum(host.map, kBoBytes), host_sum);
    EXPECT_EQ(device_checksum(), dev_sum);
    s.bos = {host.handle, dev.handle};
    s.cmds = {cmd_fill(1, 0, 64, 0x5a), cmd_copy(1, 0, 0, 0, 64)};
    EXPECT_EQ(0, run(fd, q, s));
    EXPECT_EQ(host.map[63], 0x5a);
}

// Closing a handle unmaps the BO from the file's space: a VA kept from
// before faults afterwards, and the next use maps it again.
TEST_F(IsolationTest, ClosedHandleIsUnmapped)
{
    const uint64_t out_va = dev_va + kBoBytes + kPage;
    bo_free(fd, out);
    ASSERT_TRUE(write_debugfs("fault_inject", "forge dst " + std::to_string(out_va)));
    Submit s;
    s.bos = {host.handle};
    s.cmds = {cmd_copy(0, 0, 0, 0, 64)};
    uint32_t cqe = 0;
    EXPECT_EQ(-EFAULT, run(fd, q, s, &cqe));
    EXPECT_EQ(static_cast<uint32_t>(MTIA_CQE_TRANSLATION_FAULT), cqe);
    out = bo_create(fd, kBoBytes, MTIA_BO_HOST);
    s.bos = {host.handle, out.handle};
    s.cmds = {cmd_copy(0, 0, 1, 0, kBoBytes)};
    EXPECT_EQ(0, run(fd, q, s));
    EXPECT_EQ(checksum(out.map, kBoBytes), host_sum);
}

}  // namespace
