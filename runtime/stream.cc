// SPDX-License-Identifier: MIT
// Streams (one driver queue each) and events (a syncobj plus a TIMESTAMP).
//
// Batching: copy/fill append a struct drm_mtia_cmd to the stream's batch;
// the batch becomes one job at flush(), record(), wait(event),
// synchronize(), nop(), or when it reaches kBatchBytes of data, the UAPI's
// command limit or its BO limit. Each job keeps the Buffers it names alive
// until the runtime has seen it complete.
//
// Two ways to submit a job (docs/runtime.md "Direct queues"): a stream
// given a direct queue by the driver (device MMU, one free, not turned off
// with MTIA_DIRECT_QUEUES=0) writes the job's commands, BO indices turned
// into device VAs, to its ring and rings the doorbell, with no system call;
// any other stream SUBMITs it to its driver queue. Ordering between the
// two: an event recorded on a direct queue becomes a syncobj fence
// (DIRECT_SIGNAL) only when a driver queue waits for it, and a direct queue
// waits for another stream's event on the host before its next job. A
// device reset is the ring's to absorb (it replays the jobs not done on a
// new queue, direct_ring.h); a stream whose direct queue is lost for good
// (an MMU fault of the process, no queue to be had) fails the jobs it had
// there and takes a new one, or its driver queue.
#include <xf86drm.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include "direct_ring.h"
#include "mtia/mtia_cmd_rules.h"
#include "mtia/mtia_spec.h"
#include "runtime_internal.h"

namespace mtia {

namespace {

// A batch is submitted once it moves this much data, so long runs of big
// copies start on the device while later ones are being queued.
constexpr uint64_t kBatchBytes = 8ull << 20;
constexpr int64_t kWaitChunkNs = 10'000'000'000;  // 10 s per WAIT ioctl

template <typename T>
const std::shared_ptr<T> &live(const std::shared_ptr<T> &s, const char *what)
{
    if (!s) throw Error(MTIA_ERROR_INVALID_HANDLE, std::string(what) + " has been destroyed (or was never created)");
    return s;
}

void check_range(const std::shared_ptr<detail::StreamState> &s, const Buffer &b, size_t off, size_t len, const char *op,
                 const char *which)
{
    auto &bs = b.state();
    if (!bs) throw Error(MTIA_ERROR_INVALID_HANDLE, std::string(op) + ": " + which + " buffer has been freed");
    if (bs->dev != s->dev) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(op) + ": " + which + " buffer belongs to another device");
    }
    if (off > bs->size || len > bs->size - off) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(op) + ": " + which + " range [" + std::to_string(off) +
                                                     ", +" + std::to_string(len) + ") is outside the buffer of " +
                                                     std::to_string(bs->size) + " bytes");
    }
}

void clear_batch(detail::StreamState &s)
{
    s.cmds.clear();
    s.bos.clear();
    s.keep.clear();
    s.in_syncobjs.clear();
    s.in_events.clear();
    s.batch_bytes = 0;
}

void note_error(detail::StreamState &s, const std::string &e)
{
    if (s.error.empty()) s.error = e;
}

// 1 once job j is done, 0 at the timeout; throws if it failed.
int wait_for(int fd, const detail::StreamState &s, const detail::Job &j, int64_t timeout_ns)
{
    return j.ring ? j.ring->wait(fd, j.seqno, timeout_ns) : detail::wait_job(fd, s.queue_id, j.seqno, timeout_ns);
}

// Drops completed jobs from the head of inflight without blocking. The
// newest job is left alone: it was usually submitted a moment ago, and
// polling it would be one more system call per submit for nothing.
void retire_done(detail::StreamState &s, int fd)
{
    while (s.inflight.size() > 1) {
        try {
            if (!wait_for(fd, s, s.inflight.front(), 0)) return;
        } catch (const Error &e) {
            note_error(s, e.what());
        }
        s.inflight.pop_front();
    }
}

void push_inflight(detail::StreamState &s, int fd, std::shared_ptr<detail::DirectRing> ring, uint64_t seqno)
{
    detail::Job j;
    j.ring = std::move(ring);
    j.seqno = seqno;
    j.keep = std::move(s.keep);
    j.events = std::move(s.in_events);
    s.inflight.push_back(std::move(j));
    s.last_seqno = seqno;
    s.jobs++;
    clear_batch(s);
    retire_done(s, fd);
}

// The batch's commands as the device takes them from a direct queue.
std::vector<mtia_cmd> device_cmds(detail::StreamState &s, int fd)
{
    std::vector<mtia_cmd> out(s.cmds.size());
    for (size_t i = 0; i < s.cmds.size(); i++) {
        const drm_mtia_cmd &c = s.cmds[i];
        mtia_cmd &d = out[i];
        const uint32_t uses = mtia_cmd_uses(c.opcode);
        d.opcode = c.opcode;
        d.flags = c.flags;
        d.len = c.len;
        d.value = c.value;
        if (uses & MTIA_CMD_USES_SRC) d.src = {detail::buffer_va(fd, *s.keep[c.src_bo]), c.src_offset};
        if (uses & MTIA_CMD_USES_DST) d.dst = {detail::buffer_va(fd, *s.keep[c.dst_bo]), c.dst_offset};
    }
    return out;
}

// A lost direct queue is replaced, by another or by the driver queue, once
// its jobs are seen failed (they hold it).
void renew_ring(detail::StreamState &s, int fd)
{
    if (!s.ring || !s.ring->lost()) return;
    for (; !s.inflight.empty(); s.inflight.pop_front()) {
        try {
            wait_for(fd, s, s.inflight.front(), -1);
        } catch (const Error &e) {
            note_error(s, e.what());
        }
    }
    s.ring.reset();
    s.ring = detail::DirectRing::open(s.dev, fd, static_cast<uint32_t>(s.priority));
}

// Submits the batch (a NOP if it has no command but must exist).
void submit(detail::StreamState &s, int fd, uint32_t out_syncobj = 0)
{
    if (s.cmds.empty() && s.in_syncobjs.empty() && !out_syncobj) return;
    if (s.cmds.empty()) {
        drm_mtia_cmd nop{};
        nop.opcode = MTIA_CMD_NOP;
        s.cmds.push_back(nop);
    }
    renew_ring(s, fd);
    if (s.ring) {  // in_syncobjs is empty: Stream::wait waited on the host
        const size_t n = s.cmds.size();
        try {
            const uint64_t job = s.ring->push_job(fd, device_cmds(s, fd));
            push_inflight(s, fd, s.ring, job);
        } catch (const Error &e) {
            clear_batch(s);
            throw Error(e.status(), std::to_string(n) + " command(s) for direct queue: " + e.what());
        }
        return;
    }
    drm_mtia_submit sub{};
    sub.cmds = reinterpret_cast<uintptr_t>(s.cmds.data());
    sub.cmd_count = static_cast<uint32_t>(s.cmds.size());
    sub.bo_handles = reinterpret_cast<uintptr_t>(s.bos.data());
    sub.bo_count = static_cast<uint32_t>(s.bos.size());
    sub.in_syncobjs = reinterpret_cast<uintptr_t>(s.in_syncobjs.data());
    sub.in_syncobj_count = static_cast<uint32_t>(s.in_syncobjs.size());
    sub.out_syncobj = out_syncobj;
    sub.queue_id = s.queue_id;
    if (drmIoctl(fd, DRM_IOCTL_MTIA_SUBMIT, &sub) != 0) {
        int err = errno;
        size_t n = s.cmds.size();
        clear_batch(s);
        throw Error(err == ENOMEM ? MTIA_ERROR_OUT_OF_MEMORY : MTIA_ERROR_IO,
                    "SUBMIT of " + std::to_string(n) + " command(s) on queue " + std::to_string(s.queue_id) + ": " +
                        std::strerror(err));
    }
    push_inflight(s, fd, nullptr, sub.seqno);
}

// Makes room for one more command naming nbos new BOs.
void make_room(detail::StreamState &s, int fd, size_t nbos)
{
    if (s.cmds.size() + 1 > MTIA_MAX_CMDS_PER_JOB || s.bos.size() + nbos > MTIA_MAX_BOS_PER_JOB) submit(s, fd);
}

void add_data_cmd(detail::StreamState &s, int fd, const drm_mtia_cmd &c)
{
    s.cmds.push_back(c);
    s.batch_bytes += c.len;
    if (s.batch_bytes >= kBatchBytes) submit(s, fd);
}

}  // namespace

namespace detail {

uint32_t bo_index(StreamState &s, const std::shared_ptr<BufferState> &b)
{
    for (size_t i = 0; i < s.bos.size(); i++) {
        if (s.bos[i] == b->handle) return static_cast<uint32_t>(i);
    }
    s.bos.push_back(b->handle);
    s.keep.push_back(b);
    return static_cast<uint32_t>(s.bos.size() - 1);
}

int wait_job(int fd, uint32_t queue_id, uint64_t seqno, int64_t timeout_ns, uint64_t *device_ns)
{
    drm_mtia_wait w{};
    w.queue_id = queue_id;
    w.seqno = seqno;
    w.timeout_ns = static_cast<uint64_t>(timeout_ns);
    if (drmIoctl(fd, DRM_IOCTL_MTIA_WAIT, &w) != 0) {
        int err = errno;
        if (err == ETIME || err == ETIMEDOUT || err == EBUSY) return 0;
        throw Error(MTIA_ERROR_IO, "WAIT for job " + std::to_string(seqno) + " of queue " + std::to_string(queue_id) +
                                       ": " + std::strerror(err));
    }
    if (device_ns) *device_ns = w.device_ns;
    if (w.status == 0) return 1;
    throw_job_error("job " + std::to_string(seqno) + " of queue " + std::to_string(queue_id), w.status, w.cqe_status);
}

void throw_job_error(const std::string &job, int status, uint32_t cqe_status, const std::string &why)
{
    if (status == -ECANCELED || !why.empty()) {
        throw Error(MTIA_ERROR_IO,
                    job + " was cancelled (" + (why.empty() ? "device reset or job timeout" : why) + ")");
    }
    if (status == -ENODEV) {
        throw Error(MTIA_ERROR_NO_DEVICE, job + " was lost: the device was removed or given up before it finished");
    }
    if (cqe_status == MTIA_CQE_BAD_INDEX) {
        throw Error(MTIA_ERROR_INDEX_OUT_OF_RANGE,
                    job + " failed on the device: an id or index outside its table (MTIA_CQE_BAD_INDEX)");
    }
    throw Error(MTIA_ERROR_IO, job + " failed on the device: status " + std::to_string(status) + " (" +
                                   std::strerror(-status) + "), CQE status " + std::to_string(cqe_status) +
                                   " (MTIA_CQE_" + mtia_cqe_status_name(cqe_status) + ")");
}

StreamState::~StreamState()
{
    if_open(dev, [&](int fd) {
        try {
            submit(*this, fd);
        } catch (...) {
        }
        drm_mtia_queue_destroy d{};
        d.queue_id = queue_id;
        drmIoctl(fd, DRM_IOCTL_MTIA_QUEUE_DESTROY, &d);
    });
}

EventState::~EventState()
{
    if (syncobj) {
        if_open(dev, [&](int fd) { drmSyncobjDestroy(fd, syncobj); });
    }
}

}  // namespace detail

// ---- Stream -----------------------------------------------------------------

Stream::Stream(const Device &device, Priority priority)
{
    if (priority != Priority::Low && priority != Priority::Normal && priority != Priority::High) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "bad stream priority");
    }
    detail::DeviceUse use(device.state(), "stream create");
    drm_mtia_queue_create c{};
    c.priority = static_cast<uint32_t>(priority);
    if (drmIoctl(use.fd(), DRM_IOCTL_MTIA_QUEUE_CREATE, &c) != 0) {
        int err = errno;
        throw Error(err == ENOMEM || err == ENOSPC ? MTIA_ERROR_OUT_OF_MEMORY : MTIA_ERROR_IO,
                    std::string("QUEUE_CREATE: ") + std::strerror(err));
    }
    auto s = std::make_shared<detail::StreamState>();
    s->dev = device.state();
    s->queue_id = c.queue_id;
    s->priority = priority;
    if (detail::direct_queues_enabled()) s->ring = detail::DirectRing::open(s->dev, use.fd(), c.priority);
    {
        auto &d = *device.state();
        std::lock_guard<std::mutex> l(d.streams_mu);
        auto &v = d.streams;
        v.erase(std::remove_if(v.begin(), v.end(), [](const auto &w) { return w.expired(); }), v.end());
        v.push_back(s);
    }
    state_ = std::move(s);
}

uint32_t Stream::queue_id() const { return live(state_, "stream")->queue_id; }
Priority Stream::priority() const { return live(state_, "stream")->priority; }

uint64_t Stream::jobs_submitted() const
{
    auto &s = live(state_, "stream");
    std::lock_guard<std::mutex> l(s->mu);
    return s->jobs;
}

void Stream::copy(Buffer &dst, size_t dst_offset, const Buffer &src, size_t src_offset, size_t len)
{
    auto &s = live(state_, "stream");
    check_range(s, dst, dst_offset, len, "copy", "destination");
    check_range(s, src, src_offset, len, "copy", "source");
    if (len == 0) return;
    detail::DeviceUse use(s->dev, "copy");
    std::lock_guard<std::mutex> l(s->mu);
    make_room(*s, use.fd(), 2);
    drm_mtia_cmd c{};
    c.opcode = MTIA_CMD_COPY;
    c.len = len;
    c.src_bo = detail::bo_index(*s, src.state());
    c.dst_bo = detail::bo_index(*s, dst.state());
    c.src_offset = src_offset;
    c.dst_offset = dst_offset;
    add_data_cmd(*s, use.fd(), c);
}

static void do_fill(const std::shared_ptr<detail::StreamState> &s, Buffer &dst, size_t offset, size_t len,
                    uint64_t value, bool wide)
{
    check_range(s, dst, offset, len, wide ? "fill64" : "fill", "destination");
    if (wide && len % 8) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "fill64: length " + std::to_string(len) + " is not a multiple of 8");
    }
    if (len == 0) return;
    detail::DeviceUse use(s->dev, "fill");
    std::lock_guard<std::mutex> l(s->mu);
    make_room(*s, use.fd(), 1);
    drm_mtia_cmd c{};
    c.opcode = MTIA_CMD_FILL;
    c.flags = wide ? MTIA_CMD_F_FILL64 : 0;
    c.len = len;
    c.value = value;
    c.dst_bo = detail::bo_index(*s, dst.state());
    c.dst_offset = offset;
    add_data_cmd(*s, use.fd(), c);
}

void Stream::fill(Buffer &dst, size_t offset, size_t len, uint8_t value)
{
    do_fill(live(state_, "stream"), dst, offset, len, value, false);
}

void Stream::fill64(Buffer &dst, size_t offset, size_t len, uint64_t pattern)
{
    do_fill(live(state_, "stream"), dst, offset, len, pattern, true);
}

void Stream::nop()
{
    auto &s = live(state_, "stream");
    detail::DeviceUse use(s->dev, "nop");
    std::lock_guard<std::mutex> l(s->mu);
    submit(*s, use.fd());
    drm_mtia_cmd c{};
    c.opcode = MTIA_CMD_NOP;
    s->cmds.push_back(c);
    submit(*s, use.fd());
}

void Stream::flush()
{
    auto &s = live(state_, "stream");
    detail::DeviceUse use(s->dev, "flush");
    std::lock_guard<std::mutex> l(s->mu);
    submit(*s, use.fd());
}

void Stream::record(Event &event)
{
    auto &s = live(state_, "stream");
    auto &e = live(event.state(), "event");
    if (e->dev != s->dev) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "record: event belongs to another device");
    detail::DeviceUse use(s->dev, "record");
    std::lock_guard<std::mutex> l(s->mu);
    std::lock_guard<std::mutex> le(e->mu);
    make_room(*s, use.fd(), 1);
    drm_mtia_cmd c{};
    c.opcode = MTIA_CMD_TIMESTAMP;
    c.len = 8;
    c.dst_bo = detail::bo_index(*s, e->ts);
    c.dst_offset = 0;
    s->cmds.push_back(c);
    submit(*s, use.fd(), e->syncobj);
    e->stream = s;
    e->ring = s->inflight.empty() ? nullptr : s->inflight.back().ring;
    e->seqno = s->last_seqno;
    e->recorded = true;
    e->done = false;
}

void Stream::wait(const Event &event)
{
    auto &s = live(state_, "stream");
    auto &e = live(event.state(), "event");
    if (e->dev != s->dev) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "wait: event belongs to another device");
    bool direct;
    {
        std::lock_guard<std::mutex> l(s->mu);
        direct = s->ring != nullptr;
    }
    if (direct) {
        // The device cannot hold a direct queue back: its next job is
        // pushed once the event is done (waited for here, no lock held).
        {
            std::lock_guard<std::mutex> le(e->mu);
            if (!e->recorded || e->done || e->stream == s) return;
        }
        try {
            detail::wait_event(e, -1);
        } catch (const Error &) {  // the event's job failed: its own stream reports that
        }
        return;
    }
    detail::DeviceUse use(s->dev, "stream wait");
    std::lock_guard<std::mutex> l(s->mu);
    std::lock_guard<std::mutex> le(e->mu);
    if (!e->recorded || e->done || e->stream == s) return;  // nothing to wait for / in order anyway
    // The queued work does not wait; a NOP job carrying the event's fence
    // (as it is now) holds back everything submitted after it. An event of a
    // direct queue gets that fence from DIRECT_SIGNAL; a driver without it
    // is waited for on the host.
    submit(*s, use.fd());
    if (e->ring) {
        try {
            if (e->ring->wait(use.fd(), e->seqno, 0)) return;
            if (e->ring->signal(use.fd(), e->seqno, e->syncobj) != 0) {
                while (!e->ring->wait(use.fd(), e->seqno, kWaitChunkNs)) {
                }
                return;
            }
        } catch (const Error &) {  // the event's job failed: its own stream reports that
            return;
        }
    }
    s->in_syncobjs.push_back(e->syncobj);
    s->in_events.push_back(e);
    submit(*s, use.fd());
}

void Stream::synchronize() { detail::synchronize_stream(live(state_, "stream")); }

bool Stream::query()
{
    auto &s = live(state_, "stream");
    detail::DeviceUse use(s->dev, "stream query");
    std::lock_guard<std::mutex> l(s->mu);
    try {
        submit(*s, use.fd());
    } catch (const Error &e) {
        note_error(*s, e.what());
    }
    bool done = true;
    while (!s->inflight.empty()) {
        try {
            if (!wait_for(use.fd(), *s, s->inflight.front(), 0)) {
                done = false;
                break;
            }
        } catch (const Error &e) {
            note_error(*s, e.what());
        }
        s->inflight.pop_front();
    }
    if (done && !s->error.empty()) {
        std::string e = std::move(s->error);
        s->error.clear();
        throw Error(MTIA_ERROR_IO, e);
    }
    return done;
}

void detail::synchronize_stream(const std::shared_ptr<StreamState> &s)
{
    detail::DeviceUse use(s->dev, "synchronize");
    std::lock_guard<std::mutex> l(s->mu);
    try {
        submit(*s, use.fd());
    } catch (const Error &e) {
        note_error(*s, e.what());
    }
    while (!s->inflight.empty()) {
        try {
            while (!wait_for(use.fd(), *s, s->inflight.front(), kWaitChunkNs)) {
            }
        } catch (const Error &e) {
            note_error(*s, e.what());
        }
        s->inflight.pop_front();
    }
    if (!s->error.empty()) {
        std::string e = std::move(s->error);
        s->error.clear();
        throw Error(MTIA_ERROR_IO, e);
    }
}

// ---- Event ------------------------------------------------------------------

Event::Event(const Device &device) : Event(device.state()) {}

Event::Event(const std::shared_ptr<detail::DeviceState> &device)
{
    auto e = std::make_shared<detail::EventState>();
    Buffer ts(device, 8, Placement::Host);
    void *p = ts.map();
    std::memset(p, 0, 8);
    e->ts = ts.state();
    e->dev = device;
    detail::DeviceUse use(device, "event create");
    if (drmSyncobjCreate(use.fd(), 0, &e->syncobj) != 0) {
        throw Error(MTIA_ERROR_IO, std::string("syncobj create: ") + std::strerror(errno));
    }
    state_ = std::move(e);
}

bool Event::recorded() const
{
    auto &e = live(state_, "event");
    std::lock_guard<std::mutex> l(e->mu);
    return e->recorded;
}

bool Event::query() { return wait(0); }

bool Event::wait(int64_t timeout_ms) { return detail::wait_event(live(state_, "event"), timeout_ms); }

bool detail::wait_event(const std::shared_ptr<EventState> &e, int64_t timeout_ms)
{
    detail::DeviceUse use(e->dev, "event wait");
    std::lock_guard<std::mutex> l(e->mu);
    if (!e->recorded || e->done) return true;
    const uint32_t q = e->stream->queue_id;
    auto wait = [&](int64_t ns) {
        return e->ring ? e->ring->wait(use.fd(), e->seqno, ns, &e->device_ns)
                       : detail::wait_job(use.fd(), q, e->seqno, ns, &e->device_ns);
    };
    if (timeout_ms >= 0) {
        const int64_t ns = timeout_ms > std::numeric_limits<int64_t>::max() / 1000000
                               ? std::numeric_limits<int64_t>::max()
                               : timeout_ms * 1000000;
        if (!wait(ns)) return false;
    } else {
        while (!wait(kWaitChunkNs)) {
        }
    }
    e->done = true;
    return true;
}

uint64_t Event::device_estimate_ns()
{
    auto &e = live(state_, "event");
    if (!recorded()) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "event was never recorded");
    wait(-1);
    std::lock_guard<std::mutex> l(e->mu);
    return e->device_ns;
}

uint64_t Event::timestamp_ns()
{
    auto &e = live(state_, "event");
    if (!recorded()) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "event was never recorded");
    wait(-1);
    return *static_cast<volatile uint64_t *>(e->ts->ptr);
}

double Event::elapsed_ms(Event &start, Event &end)
{
    if (!start.recorded() || !end.recorded()) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "elapsed_ms: both events must be recorded");
    }
    const uint64_t a = start.timestamp_ns(), b = end.timestamp_ns();
    return (static_cast<double>(b) - static_cast<double>(a)) / 1e6;
}

}  // namespace mtia
