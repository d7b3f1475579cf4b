// SPDX-License-Identifier: MIT
// Throttle pacing (mtia_pacer.h, docs/telemetry.md).
#include "mtia_pacer.h"

#include <algorithm>
#include <chrono>
#include <limits>
#include <utility>

namespace mtia {

namespace {

uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
    const unsigned __int128 r = static_cast<unsigned __int128>(a) * b / c;
    return r > std::numeric_limits<uint64_t>::max() ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(r);
}

}  // namespace

uint64_t paced_ns(uint64_t host_ns, EngineClock c)
{
    if (c.mhz == 0 || c.mhz >= c.max_mhz) return host_ns;
    return mul_div(host_ns, c.max_mhz, c.mhz);
}

bool wait_until_or(std::unique_lock<std::mutex> &l, std::condition_variable &cv, uint64_t until_ns,
                   const std::function<bool()> &stop)
{
    const std::chrono::steady_clock::time_point t{std::chrono::nanoseconds(until_ns)};
    return cv.wait_until(l, t, stop);
}

PacedJob::PacedJob(Now now, Clock clock, WaitUntil wait, Busy busy)
    : now_(std::move(now)),
      clock_(std::move(clock)),
      wait_(std::move(wait)),
      busy_(std::move(busy)),
      last_(now_()),
      due_(last_)
{
}

bool PacedJob::mark(bool last)
{
    const uint64_t now = now_();
    const uint64_t t = now > last_ ? now - last_ : 0;
    const uint64_t p = mtia::paced_ns(t, clock_());
    work_ns_ += t;
    paced_ns_ += p;
    due_ += p;
    last_ = now;
    if (due_ <= now || (!last && due_ - now < kMinWaitNs)) {
        if (busy_) busy_(t);
        return true;
    }
    const bool cut = wait_(due_);
    const uint64_t after = std::max(now_(), now);
    waited_ns_ += after - now;
    last_ = after;
    if (cut) due_ = after;
    if (busy_) busy_(t + (after - now));
    return !cut;
}

void PacedJob::skip()
{
    const uint64_t now = now_();
    if (now > last_) due_ += now - last_;  // what was owed stays owed
    last_ = std::max(last_, now);
}

uint64_t PacedJob::scale(uint64_t model_ns) const
{
    if (work_ns_ == 0) return mtia::paced_ns(model_ns, clock_());
    return mul_div(model_ns, paced_ns_, work_ns_);
}

}  // namespace mtia
