// SPDX-License-Identifier: MIT
// Dynamic batching: a model version's request queue and the batcher threads
// that drain it, one per model instance. A batcher takes the oldest request,
// then every request that arrives within max_queue_delay of it (or is already
// queued) while the batch stays within max_batch samples, and hands the batch
// to its Runner (serve_runner.h: one libmtia run of the concatenated inputs,
// split back per request). A full queue refuses at once (429), a request whose
// timeout passed while queued completes as Timeout without running, and
// close() refuses new requests while the batchers finish what is queued
// (graceful drain). After each run the batcher stamps its phases (the
// runner's host times, the rest as the device run) on every request of the
// batch and tells its observer (the metrics). Device-free, so unit-tested
// with a fake Runner.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "serve_metrics.h"
#include "serve_tensor.h"

namespace mtia_serve {

using Clock = std::chrono::steady_clock;

/// How a request ended (the frontend maps it to an HTTP status).
enum class Status {
    Ok,           ///< 200
    BadRequest,   ///< 400: inputs the model cannot take
    NotFound,     ///< 404: no such model or version
    Full,         ///< 429: queue at capacity
    Unavailable,  ///< 503: not ready or draining
    Timeout,      ///< 504: still queued when its timeout passed
    Internal,     ///< 500: the device run failed
};

/// One inference request and, once done, its result.
struct Request {
    std::vector<Tensor> inputs;  ///< in the model's input order, validated
    uint32_t samples = 1;        ///< what it adds to a batch (dim 0, or 1)
    Clock::time_point enqueued{};
    Clock::time_point deadline = Clock::time_point::max();

    // Result, written by the batcher before done is set.
    Status status = Status::Ok;
    std::string error;
    std::vector<Tensor> outputs;
    double queue_seconds = 0;    ///< enqueued -> its batch started
    uint32_t batch_samples = 0;  ///< the batch it ran in
    BatchTimes compute;          ///< its batch's phases

    std::promise<void> done;
    std::shared_future<void> finished = done.get_future().share();
};
using RequestPtr = std::shared_ptr<Request>;

/// Runs one batch: fills every request's outputs, or sets status and error.
class Runner {
public:
    /// Seconds of the last run() spent staging inputs and splitting outputs
    /// on the host; the batcher counts the rest of the run as compute_infer.
    struct HostTimes {
        double input = 0, output = 0;
    };
    virtual ~Runner() = default;
    virtual void run(const std::vector<RequestPtr> &batch) = 0;
    const HostTimes &host_times() const { return host_; }

protected:
    HostTimes host_;  ///< set by run() (a runner that does not: all compute_infer)
};

/// A model version's queue of requests waiting for a batcher.
class RequestQueue {
public:
    RequestQueue(uint32_t capacity, uint32_t max_batch, std::chrono::microseconds max_delay);
    /// Queues r (stamping r->enqueued); Full if capacity requests wait,
    /// Unavailable once closed. Ok: a batcher will complete it.
    Status push(const RequestPtr &r);
    /// Removes r if still queued (its timeout passed); false if a batcher took it.
    bool cancel(const RequestPtr &r);
    /// The next batch (at least one request; timed-out ones are completed,
    /// not returned); empty once closed and drained.
    std::vector<RequestPtr> take_batch();
    /// Refuses new requests from now on; queued ones still run.
    void close();
    /// Requests waiting.
    size_t size();

private:
    /// Moves front requests into batch while they fit; false if one did not.
    bool take_fitting_locked(std::vector<RequestPtr> &batch, uint32_t &samples);

    const uint32_t capacity_;
    const uint32_t max_batch_;
    const std::chrono::microseconds max_delay_;
    std::mutex mu_;  ///< Protects q_ and closed_.
    std::condition_variable cv_;
    std::deque<RequestPtr> q_;
    bool closed_ = false;
};

/// Completes r: sets its result fields' end state and wakes its waiter.
void complete(const RequestPtr &r, Status status, std::string error = {});

/// Called after each batch: its samples, the run's phases, whether it succeeded.
using BatchObserver = std::function<void(uint32_t samples, const BatchTimes &times, bool ok)>;

/// One model instance's thread: take_batch() -> Runner::run() until the
/// queue is closed and drained.
class Batcher {
public:
    Batcher(RequestQueue &queue, std::unique_ptr<Runner> runner, BatchObserver observer);
    ~Batcher();  ///< joins (the queue must be closed first)
    Batcher(const Batcher &) = delete;
    Batcher &operator=(const Batcher &) = delete;

private:
    void loop();
    RequestQueue &queue_;
    std::unique_ptr<Runner> runner_;
    BatchObserver observer_;
    std::thread thread_;
};

/// Input `input` of every request of batch, concatenated along dim 0 (for
/// row-major tensors: their bytes one after the other).
std::vector<uint8_t> concat_dim0(const std::vector<RequestPtr> &batch, size_t input);
/// Splits a batched output (samples of bytes_per_sample each, in batch
/// order) back into each request's outputs as a tensor named name with
/// shape [request's samples, tail...].
void split_dim0(const std::vector<RequestPtr> &batch, const uint8_t *data, size_t bytes_per_sample,
                const std::string &name, mtia::DType dtype, const std::vector<int64_t> &tail);

}  // namespace mtia_serve
