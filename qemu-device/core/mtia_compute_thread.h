// SPDX-License-Identifier: MIT
// The device's compute thread: every COMPUTE program runs on it.
//
// The PE grid runs one program at a time, whichever queue it comes from,
// and oneDNN's OpenMP team belongs to the thread that calls into it. Queue
// workers that ran their programs themselves each grew a team of their own;
// after each parallel region an idle team's threads spin (OpenMP's active
// wait) and took the host's cores from the team at work, so a model's ops
// ran late by a scheduler tick when two queues had computed (issue 21).
// One caller, one team. Fork-safe: the thread starts at the first run().
#ifndef MTIA_COMPUTE_THREAD_H
#define MTIA_COMPUTE_THREAD_H

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace mtia {

class ComputeThread {
public:
    ComputeThread() = default;
    ~ComputeThread();  // joins the thread, if it started
    ComputeThread(const ComputeThread &) = delete;
    ComputeThread &operator=(const ComputeThread &) = delete;

    // Runs f on the compute thread and returns its result (or rethrows what
    // it threw). One call at a time: callers hold the PE grid.
    uint16_t run(const std::function<uint16_t()> &f);

private:
    void main();

    std::mutex mu_;  // protects everything below
    std::condition_variable cv_;
    const std::function<uint16_t()> *job_ = nullptr;  // posted, not yet taken
    bool done_ = false, quit_ = false;
    uint16_t result_ = 0;
    std::exception_ptr error_;
    std::thread thread_;
};

}  // namespace mtia

#endif  // MTIA_COMPUTE_THREAD_H
