// SPDX-License-Identifier: MIT
// Tests wait for states, never for sleeps: wait_until() polls a condition up
// to a deadline generous enough for a slow, loaded host. Watchdog aborts the
// test binary if a test hangs (a device thread that will not stop), so a
// deadlock fails the run instead of stalling CI.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <functional>
#include <thread>

// Polls @pred every 100 us until it holds (true) or @limit passes (false).
inline bool wait_until(const std::function<bool()> &pred, std::chrono::milliseconds limit)
{
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() >= until) return pred();
        std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return true;
}

class Watchdog {
public:
    explicit Watchdog(std::chrono::seconds limit)
        : t_([this, limit] {
              std::unique_lock<std::mutex> l(mu_);
              if (!cv_.wait_for(l, limit, [this] { return done_; })) {
                  std::fprintf(stderr, "watchdog: test hung for %llds, aborting\n",
                               static_cast<long long>(limit.count()));
                  std::abort();
              }
          })
    {
    }
    ~Watchdog()
    {
        {
            std::lock_guard<std::mutex> l(mu_);
            done_ = true;
        }
        cv_.notify_all();
        t_.join();
    }

private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread t_;
};
