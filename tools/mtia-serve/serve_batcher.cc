// SPDX-License-Identifier: MIT
// Request queue, batcher threads, dim-0 concat/split (serve_batcher.h).
#include "serve_batcher.h"

#include <algorithm>
#include <cstring>
#include <exception>

namespace mtia_serve {

void complete(const RequestPtr &r, Status status, std::string error)
{
    r->status = status;
    r->error = std::move(error);
    r->done.set_value();
}

RequestQueue::RequestQueue(uint32_t capacity, uint32_t max_batch, std::chrono::microseconds max_delay)
    : capacity_(capacity), max_batch_(max_batch == 0 ? 1 : max_batch), max_delay_(max_delay)
{
}

Status RequestQueue::push(const RequestPtr &r)
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (closed_) return Status::Unavailable;
        if (q_.size() >= capacity_) return Status::Full;
        r->enqueued = Clock::now();
        q_.push_back(r);
    }
    cv_.notify_all();
    return Status::Ok;
}

bool RequestQueue::cancel(const RequestPtr &r)
{
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = q_.begin(); it != q_.end(); ++it)
        if (*it == r) {
            q_.erase(it);
            return true;
        }
    return false;
}

bool RequestQueue::take_fitting_locked(std::vector<RequestPtr> &batch, uint32_t &samples)
{
    const auto now = Clock::now();
    while (!q_.empty()) {
        RequestPtr r = q_.front();
        if (r->deadline <= now) {  // timed out while queued: never runs
            q_.pop_front();
            complete(r, Status::Timeout, "request timed out in the queue");
            continue;
        }
        if (!batch.empty() && samples + r->samples > max_batch_) return false;
        q_.pop_front();
        samples += r->samples;
        batch.push_back(std::move(r));
    }
    return true;
}

std::vector<RequestPtr> RequestQueue::take_batch()
{
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
        std::vector<RequestPtr> batch;
        uint32_t samples = 0;
        cv_.wait(lock, [&] { return !q_.empty() || closed_; });
        if (closed_ && q_.empty()) return batch;  // drained
        if (take_fitting_locked(batch, samples) && samples < max_batch_ && !batch.empty()) {
            // Wait for more within the first request's delay window, unless full.
            const auto window_end = batch.front()->enqueued + max_delay_;
            while (samples < max_batch_ && !closed_) {
                if (!cv_.wait_until(lock, window_end, [&] { return !q_.empty() || closed_; })) break;
                if (!take_fitting_locked(batch, samples)) break;
            }
        }
        // A request whose timeout passed while its batch formed never runs.
        const auto now = Clock::now();
        auto expired = [&](const RequestPtr &r) {
            if (r->deadline > now) return false;
            complete(r, Status::Timeout, "request timed out in the queue");
            return true;
        };
        batch.erase(std::remove_if(batch.begin(), batch.end(), expired), batch.end());
        if (!batch.empty()) return batch;
    }
}

void RequestQueue::close()
{
    {
        std::lock_guard<std::mutex> lock(mu_);
        closed_ = true;
    }
    cv_.notify_all();
}

size_t RequestQueue::size()
{
    std::lock_guard<std::mutex> lock(mu_);
    return q_.size();
}

Batcher::Batcher(RequestQueue &queue, std::unique_ptr<Runner> runner, BatchObserver observer)
    : queue_(queue), runner_(std::move(runner)), observer_(std::move(observer)), thread_([this] { loop(); })
{
}

Batcher::~Batcher()
{
    if (thread_.joinable()) thread_.join();
}

void Batcher::loop()
{
    for (;;) {
        std::vector<RequestPtr> batch = queue_.take_batch();
        if (batch.empty()) return;
        uint32_t samples = 0;
        for (const auto &r : batch) samples += r->samples;
        const auto start = Clock::now();
        for (const auto &r : batch) {
            r->queue_seconds = std::chrono::duration<double>(start - r->enqueued).count();
            r->batch_samples = samples;
            r->status = Status::Ok;
        }
        bool ok = true;
        try {
            runner_->run(batch);
        } catch (const std::exception &e) {
            ok = false;
            for (const auto &r : batch) {
                r->status = Status::Internal;
                r->error = e.what();
            }
        }
        const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
        const Runner::HostTimes &host = runner_->host_times();
        BatchTimes t;
        t.input = std::min(host.input, seconds);
        t.output = std::min(host.output, seconds - t.input);
        t.infer = seconds - t.input - t.output;
        for (const auto &r : batch) r->compute = t;
        if (observer_) observer_(samples, t, ok);
        for (const auto &r : batch) r->done.set_value();
    }
}

std::vector<uint8_t> concat_dim0(const std::vector<RequestPtr> &batch, size_t input)
{
    size_t total = 0;
    for (const auto &r : batch) total += r->inputs[input].data.size();
    std::vector<uint8_t> out(total);
    size_t at = 0;
    for (const auto &r : batch) {
        const auto &d = r->inputs[input].data;
        if (!d.empty()) std::memcpy(out.data() + at, d.data(), d.size());
        at += d.size();
    }
    return out;
}

void split_dim0(const std::vector<RequestPtr> &batch, const uint8_t *data, size_t bytes_per_sample,
                const std::string &name, mtia::DType dtype, const std::vector<int64_t> &tail)
{
    size_t at = 0;
    for (const auto &r : batch) {
        Tensor t;
        t.name = name;
        t.dtype = dtype;
        t.shape.push_back(r->samples);
        t.shape.insert(t.shape.end(), tail.begin(), tail.end());
        const size_t n = r->samples * bytes_per_sample;
        t.data.assign(data + at, data + at + n);
        at += n;
        r->outputs.push_back(std::move(t));
    }
}

}  // namespace mtia_serve
