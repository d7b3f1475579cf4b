// SPDX-License-Identifier: MIT
// Raw-ioctl helpers of the in-VM job tests (submit_test.cc,
// isolation_test.cc): the first mtia node, BOs, queues, commands, SUBMIT
// and WAIT, debugfs fault injection.
#ifndef MTIA_VM_SUBMIT_UTIL_H
#define MTIA_VM_SUBMIT_UTIL_H

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include <cerrno>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"
#include "mtia/mtia_spec.h"
#include "uapi/drm/mtia_accel.h"

namespace vmt {

constexpr uint64_t kMiB = 1ull << 20;
constexpr uint64_t kSec = 1000000000ull;

inline std::string g_node, g_debugfs;
inline bool g_mmu;  // the device MMU is on (sysfs mtia/mmu): operands are VAs

// The first mtia node (libmtia's enumeration) and its debugfs directory,
// which 6.12 names after the PCI address.
inline bool find_device()
{
    auto nodes = mtia::device_nodes();
    if (nodes.empty()) return false;
    g_node = nodes.front();
    const std::string bdf = mtia::Device::open_node(g_node).info().pci_bus_id;
    g_debugfs = "/sys/kernel/debug/accel/" + bdf;
    std::ifstream mmu("/sys/bus/pci/devices/" + bdf + "/mtia/mmu");
    std::string on;
    g_mmu = (mmu >> on) && on == "on";
    return true;
}

inline int open_dev() { return open(g_node.c_str(), O_RDWR | O_CLOEXEC); }

inline int ioctl_err(int fd, unsigned long req, void *arg) { return drmIoctl(fd, req, arg) ? errno : 0; }

struct Bo {
    uint32_t handle = 0;
    uint64_t size = 0;
    uint8_t *map = nullptr;
};

inline Bo bo_create(int fd, uint64_t size, uint32_t placement, bool map = true)
{
    Bo bo;
    drm_mtia_bo_create c{};
    c.size = size;
    c.placement = placement;
    EXPECT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_BO_CREATE, &c));
    bo.handle = c.handle;
    drm_mtia_bo_info i{};
    i.handle = c.handle;
    EXPECT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_BO_INFO, &i));
    bo.size = i.size;
    if (map) {
        void *p = mmap(nullptr, i.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, i.mmap_offset);
        EXPECT_NE(MAP_FAILED, p);
        bo.map = p == MAP_FAILED ? nullptr : static_cast<uint8_t *>(p);
    }
    return bo;
}

inline void bo_free(int fd, Bo &bo)
{
    if (bo.map) munmap(bo.map, bo.size);
    drm_gem_close gc{};
    gc.handle = bo.handle;
    drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
    bo = Bo();
}

inline uint32_t queue_create(int fd, uint32_t prio = MTIA_QUEUE_PRIO_NORMAL)
{
    drm_mtia_queue_create q{};
    q.priority = prio;
    EXPECT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_QUEUE_CREATE, &q));
    return q.queue_id;
}

inline drm_mtia_cmd cmd_copy(uint32_t sbo, uint64_t soff, uint32_t dbo, uint64_t doff, uint64_t len)
{
    drm_mtia_cmd c{};
    c.opcode = MTIA_CMD_COPY;
    c.src_bo = sbo;
    c.src_offset = soff;
    c.dst_bo = dbo;
    c.dst_offset = doff;
    c.len = len;
    return c;
}

inline drm_mtia_cmd cmd_fill(uint32_t dbo, uint64_t doff, uint64_t len, uint64_t value, uint8_t flags = 0)
{
    drm_mtia_cmd c{};
    c.opcode = MTIA_CMD_FILL;
    c.flags = flags;
    c.dst_bo = dbo;
    c.dst_offset = doff;
    c.len = len;
    c.value = value;
    return c;
}

inline drm_mtia_cmd cmd_op(uint8_t op)
{
    drm_mtia_cmd c{};
    c.opcode = op;
    return c;
}

struct Submit {
    std::vector<drm_mtia_cmd> cmds;
    std::vector<uint32_t> bos;
    std::vector<uint32_t> in_syncs;
    uint32_t out_sync = 0;
};

inline int submit(int fd, uint32_t queue, const Submit &s, uint64_t *seqno)
{
    drm_mtia_submit a{};
    a.cmds = reinterpret_cast<uintptr_t>(s.cmds.data());
    a.cmd_count = s.cmds.size();
    a.bo_handles = reinterpret_cast<uintptr_t>(s.bos.data());
    a.bo_count = s.bos.size();
    a.in_syncobjs = reinterpret_cast<uintptr_t>(s.in_syncs.data());
    a.in_syncobj_count = s.in_syncs.size();
    a.out_syncobj = s.out_sync;
    a.queue_id = queue;
    int err = ioctl_err(fd, DRM_IOCTL_MTIA_SUBMIT, &a);
    if (!err && seqno) *seqno = a.seqno;
    return err;
}

inline int wait_job(int fd, uint32_t queue, uint64_t seqno, uint64_t timeout_ns, int32_t *status,
                    uint32_t *cqe = nullptr)
{
    drm_mtia_wait w{};
    w.queue_id = queue;
    w.seqno = seqno;
    w.timeout_ns = timeout_ns;
    int err = ioctl_err(fd, DRM_IOCTL_MTIA_WAIT, &w);
    if (status) *status = w.status;
    if (cqe) *cqe = w.cqe_status;
    return err;
}

// Submit and wait; returns the job status (or 1000 + errno on ioctl failure).
inline int run(int fd, uint32_t queue, const Submit &s, uint32_t *cqe = nullptr)
{
    uint64_t seq = 0;
    int err = submit(fd, queue, s, &seq);
    if (err) return 1000 + err;
    int32_t st = 0;
    err = wait_job(fd, queue, seq, 60 * kSec, &st, cqe);
    return err ? 1000 + err : st;
}

inline bool write_debugfs(const std::string &file, const std::string &what)
{
    std::ofstream f(g_debugfs + "/" + file);
    f << what << "\n";
    f.flush();
    return f.good();
}

}  // namespace vmt

#endif  // MTIA_VM_SUBMIT_UTIL_H
