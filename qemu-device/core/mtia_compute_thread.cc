// SPDX-License-Identifier: MIT
// The device's compute thread (mtia_compute_thread.h).
#include "mtia_compute_thread.h"

#include <pthread.h>

#include <utility>

namespace mtia {

ComputeThread::~ComputeThread()
{
    {
        std::lock_guard<std::mutex> l(mu_);
        quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

uint16_t ComputeThread::run(const std::function<uint16_t()> &f)
{
    std::unique_lock<std::mutex> l(mu_);
    if (!thread_.joinable()) thread_ = std::thread(&ComputeThread::main, this);
    job_ = &f;
    done_ = false;
    cv_.notify_all();
    cv_.wait(l, [this] { return done_; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    return result_;
}

void ComputeThread::main()
{
    pthread_setname_np(pthread_self(), "mtia-compute");  // for top -H, perf, gdb
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
        cv_.wait(l, [this] { return job_ || quit_; });
        if (!job_) return;
        const std::function<uint16_t()> *f = std::exchange(job_, nullptr);
        l.unlock();
        uint16_t r = 0;
        std::exception_ptr e;
        try {
            r = (*f)();
        } catch (...) {
            e = std::current_exception();
        }
        l.lock();
        result_ = r;
        error_ = e;
        done_ = true;
        cv_.notify_all();
    }
}

}  // namespace mtia
