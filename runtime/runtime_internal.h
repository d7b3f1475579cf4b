// SPDX-License-Identifier: MIT
// Declarations shared by libmtia's translation units; not installed.
#pragma once

#include <deque>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"
#include "uapi/drm/mtia_accel.h"

namespace mtia {

namespace detail {

// The C API's mtia_tensor_info of t, as much of it as info->struct_size (set
// by the caller) holds: sizeof(mtia_tensor_info), or the first libmtia's
// size (up to zero_point): tensor_info_size_ok(); Error(INVALID_ARGUMENT)
// for another size.
bool tensor_info_size_ok(uint32_t size);
void fill_tensor_info(const TensorInfo &t, mtia_tensor_info *info);

// The open device file, shared by Device and every object made from it.
// Operations hold `mu` shared while they use fd; close() takes it exclusive.
struct StreamState;

struct DeviceState {
    int fd = -1;
    std::string node;
    bool closed = false;
    mutable std::shared_mutex mu;
    // Every stream made on this open device, for Device::synchronize().
    std::mutex streams_mu;
    std::vector<std::weak_ptr<StreamState>> streams;
    std::mutex default_mu;  // Device::default_stream()'s lazy creation
    ~DeviceState();
};

// Holds the device open for one operation; throws if it was closed.
class DeviceUse {
public:
    DeviceUse(const std::shared_ptr<DeviceState> &dev, const char *what);
    int fd() const { return dev_->fd; }

private:
    std::shared_ptr<DeviceState> dev_;
    std::shared_lock<std::shared_mutex> lock_;
};

// For destructors: runs f(fd) only if the device is still open.
template <typename F>
void if_open(const std::shared_ptr<DeviceState> &dev, F &&f)
{
    if (!dev) return;
    std::shared_lock<std::shared_mutex> l(dev->mu);
    if (!dev->closed && dev->fd >= 0) f(dev->fd);
}

struct BufferState {
    std::shared_ptr<DeviceState> dev;
    uint32_t handle = 0;
    size_t size = 0;          // asked for
    uint64_t alloc_size = 0;  // page-rounded, from BO_INFO
    uint64_t mmap_offset = 0;
    uint64_t devmem_offset = 0;
    Placement placement = Placement::Device;
    bool counted = false;  // in the process's memory stats (device placement)
    std::mutex map_mu;     // protects ptr and va
    void *ptr = nullptr;
    uint64_t va = 0;  // device VA in the file's context (BO_MAP), for direct queues
    ~BufferState();
};

struct EventState;
class DirectRing;

// A submitted job: seqno of the stream's driver queue, or (ring set) the
// job's number on a direct queue.
struct Job {
    std::shared_ptr<DirectRing> ring;
    uint64_t seqno = 0;
    std::vector<std::shared_ptr<BufferState>> keep;  // BOs alive until done
    std::vector<std::shared_ptr<EventState>> events;
};

// A stream submits through its direct queue (ring) when the driver gave it
// one, else through its driver queue (queue_id), which it always has.
struct StreamState {
    std::shared_ptr<DeviceState> dev;
    uint32_t queue_id = 0;
    std::shared_ptr<DirectRing> ring;
    Priority priority = Priority::Normal;
    std::mutex mu;
    // The batch being built.
    std::vector<drm_mtia_cmd> cmds;
    std::vector<uint32_t> bos;
    std::vector<std::shared_ptr<BufferState>> keep;
    std::vector<uint32_t> in_syncobjs;
    std::vector<std::shared_ptr<EventState>> in_events;
    uint64_t batch_bytes = 0;
    // Submitted, not yet known complete.
    std::deque<Job> inflight;
    uint64_t last_seqno = 0;
    uint64_t jobs = 0;
    std::string error;  // first device error since the last synchronize
    ~StreamState();
};

struct EventState {
    std::shared_ptr<DeviceState> dev;
    uint32_t syncobj = 0;
    std::shared_ptr<BufferState> ts;  // 8-byte TIMESTAMP target (host BO)
    std::mutex mu;
    std::shared_ptr<StreamState> stream;  // where last recorded
    std::shared_ptr<DirectRing> ring;     // the direct queue it was recorded on, if one
    uint64_t seqno = 0;
    bool recorded = false;
    bool done = false;
    uint64_t device_ns = 0;  // WAIT's estimate for the job it ended
    ~EventState();
};

// Index of a BO in the stream's pending batch, adding it (and keeping it
// alive until the job completes) if new.
uint32_t bo_index(StreamState &s, const std::shared_ptr<BufferState> &b);
// Waits for job seqno of a queue: 1 done, 0 timeout; throws Error(IO) if the
// job failed or was cancelled, or the WAIT ioctl failed. *device_ns: the
// device's estimate of the job's COMPUTE time (0 without COMPUTE).
int wait_job(int fd, uint32_t queue_id, uint64_t seqno, int64_t timeout_ns, uint64_t *device_ns = nullptr);
// The Error for a job that did not complete: status as WAIT reports it
// (-ECANCELED, -ENODEV, -EFAULT, -EIO), cqe_status the failing command's;
// why, if given, says why it was cancelled.
[[noreturn]] void throw_job_error(const std::string &job, int status, uint32_t cqe_status, const std::string &why = "");
// Stream::synchronize() on a stream's state.
void synchronize_stream(const std::shared_ptr<StreamState> &s);
// Event::wait() on an event's state.
bool wait_event(const std::shared_ptr<EventState> &e, int64_t timeout_ms);

// This process's device-memory counters, per device node (memory_stats.cc).
void note_alloc(const std::string &node, uint64_t bytes);
void note_free(const std::string &node, uint64_t bytes);
struct ProcessMemory {
    uint64_t allocated = 0, peak = 0, allocations = 0;
};
ProcessMemory process_memory(const std::string &node);
void reset_peak_memory(const std::string &node);

// MTIA_VISIBLE_DEVICES applied to the nodes (serials[i] is node i's serial):
// the positions of the visible ones, in order. env NULL: all of them.
std::vector<size_t> visible_positions(const std::vector<std::string> &serials, const char *env);

}  // namespace detail

void set_last_error(const std::string &detail);
const std::string &last_error();

// Name of the kernel driver bound to an accel char node, read from sysfs
// (/sys/dev/char/M:m/device/driver); "" if it cannot be told that way.
std::string sysfs_driver_of(const std::string &node);
// PCI address (0000:00:03.0) of the device behind an accel node; "" if none.
std::string sysfs_pci_bus_id(const std::string &node);
// The driver's attribute <leaf> (sysfs .../device/mtia/<leaf>) of an accel
// node, trailing newline dropped; "" if it cannot be read.
std::string sysfs_mtia_attr(const std::string &node, const char *leaf);

// Number of PCI functions with the mtia vendor/device id in sysfs
// ($MTIA_SYSFS_PCI_DIR or /sys/bus/pci/devices), bound to a driver or not.
int sysfs_count_mtia_pci();

// Runs f for the C API: MTIA_SUCCESS, or the status of what it threw with
// the detail in mtia_last_error().
template <typename F>
mtia_status c_guarded(F &&f)
{
    try {
        f();
        set_last_error({});
        return MTIA_SUCCESS;
    } catch (const Error &e) {
        set_last_error(e.what());
        return e.status();
    } catch (const std::bad_alloc &) {
        set_last_error("out of memory");
        return MTIA_ERROR_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        set_last_error(e.what());
        return MTIA_ERROR_INTERNAL;
    }
}

}  // namespace mtia
