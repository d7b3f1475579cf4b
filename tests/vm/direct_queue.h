// SPDX-License-Identifier: MIT
// A direct queue (docs/driver.md "Direct queues") as user space drives one,
// for the in-VM tests (direct_test.cc) and the bench (direct_nop.cc):
// DIRECT_CREATE, its SQ, CQ and doorbell mapped, commands written to the SQ
// and the doorbell rung, completions taken by their phase bit; the fence
// word written behind work, and DIRECT_SIGNAL's syncobj fences on it.
#ifndef MTIA_VM_DIRECT_QUEUE_H
#define MTIA_VM_DIRECT_QUEUE_H

#include <sys/mman.h>
#include <xf86drm.h>

#include <atomic>
#include <cerrno>
#include <cstdint>

#include "mtia/mtia_spec.h"
#include "uapi/drm/mtia_accel.h"

struct DirectQueue {
    int fd = -1;
    drm_mtia_direct_create c{};
    mtia_cmd *sq = nullptr;
    const volatile mtia_cqe *cq = nullptr;
    volatile uint32_t *db = nullptr;
    uint32_t tail = 0, head = 0, phase = 1;

    // 0 or the errno of DIRECT_CREATE or of a mapping.
    int create(int f, uint32_t order, uint32_t priority = MTIA_QUEUE_PRIO_NORMAL)
    {
        fd = f;
        c = {};
        tail = head = 0;
        phase = 1;
        c.priority = priority;
        c.sq_order = c.cq_order = order;
        if (drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_CREATE, &c)) return errno;
        void *s = mmap(nullptr, sq_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, c.sq_offset);
        void *q = mmap(nullptr, cq_bytes(), PROT_READ, MAP_SHARED, fd, c.cq_offset);
        void *d = mmap(nullptr, 4096, PROT_WRITE, MAP_SHARED, fd, c.doorbell_offset);
        if (s == MAP_FAILED || q == MAP_FAILED || d == MAP_FAILED) return errno;
        sq = static_cast<mtia_cmd *>(s);
        cq = static_cast<const volatile mtia_cqe *>(q);
        db = static_cast<volatile uint32_t *>(d);
        return 0;
    }
    uint32_t entries() const { return 1u << c.sq_order; }
    size_t sq_bytes() const { return sizeof(mtia_cmd) << c.sq_order; }
    size_t cq_bytes() const { return ((sizeof(mtia_cqe) << c.cq_order) + 4095) & ~size_t{4095}; }
    void ring(uint32_t value) { db[MTIA_DB_SQ_TAIL / 4] = value; }
    // Writes @cmd (its cid: the slot) into the SQ; kick() posts it.
    void write(mtia_cmd cmd)
    {
        cmd.cid = static_cast<uint16_t>(tail);
        sq[tail] = cmd;
        tail = (tail + 1) % entries();
    }
    void kick()
    {
        std::atomic_thread_fence(std::memory_order_release);
        ring(tail);
    }
    // Writes @cmd and rings the doorbell: the launch.
    void push(mtia_cmd cmd)
    {
        write(cmd);
        kick();
    }
    // The command that sets the fence word to @value behind what is before it.
    mtia_cmd fence_cmd(uint64_t value) const
    {
        mtia_cmd f{};
        f.opcode = MTIA_CMD_FILL;
        f.flags = MTIA_CMD_F_FILL64;
        f.ctx = c.ctx;
        f.len = 8;
        f.value = value;
        f.dst.addr = c.fence_va;
        return f;
    }
    // DIRECT_SIGNAL: @syncobj gets a fence for the fence word reaching
    // @value. 0 or the errno.
    int signal(uint32_t syncobj, uint64_t value)
    {
        drm_mtia_direct_signal s{};
        s.queue_id = c.queue_id;
        s.value = value;
        s.syncobj = syncobj;
        return drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_SIGNAL, &s) ? errno : 0;
    }
    bool ready() const { return mtia_cqe_phase(cq[head].status) == phase; }
    // The next completion into @out, once there: by spinning on its phase
    // bit, or by sleeping in DIRECT_WAIT (@timeout_ns). 0 or the errno.
    int next(mtia_cqe *out, uint64_t timeout_ns, bool spin = false)
    {
        if (spin) {
            while (!ready()) {
            }
        } else {
            drm_mtia_direct_wait w{};
            w.queue_id = c.queue_id;
            w.cq_index = head;
            w.phase = phase;
            w.timeout_ns = timeout_ns;
            if (drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_WAIT, &w)) return errno;
        }
        std::atomic_thread_fence(std::memory_order_acquire);
        out->result = cq[head].result;
        out->cid = cq[head].cid;
        out->status = cq[head].status;
        head = (head + 1) % entries();
        if (!head) phase ^= 1;
        db[MTIA_DB_CQ_HEAD / 4] = head;
        return 0;
    }
    void unmap()
    {
        munmap(sq, sq_bytes());
        munmap(const_cast<mtia_cqe *>(cq), cq_bytes());
        munmap(const_cast<uint32_t *>(db), 4096);
    }
    // Unmaps, then DIRECT_DESTROY: 0 or its errno.
    int destroy()
    {
        drm_mtia_direct_destroy d{};
        d.queue_id = c.queue_id;
        unmap();
        return drmIoctl(fd, DRM_IOCTL_MTIA_DIRECT_DESTROY, &d) ? errno : 0;
    }
};

#endif  // MTIA_VM_DIRECT_QUEUE_H
