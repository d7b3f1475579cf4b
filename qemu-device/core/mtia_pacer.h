// SPDX-License-Identifier: MIT
// Throttle pacing (docs/telemetry.md, "Throttling slows the engines"): an
// engine whose clock the telemetry governor lowered from f_max to f does the
// same work in f_max / f times the time, as on silicon.
//
// The emulated engines run at host speed whatever the clock, so a command
// is paced piece by piece: after each piece of work (a COMPUTE op or chunk,
// a DMA chunk) that took t of host time at clock f, the engine stays busy
// for t * (f_max / f - 1) more. The clock is sampled when the piece ends:
// the governor changes it every MTIA_TEL_SAMPLE_MS, longer than a piece.
// The deadline is absolute over the command (the sum of every piece's paced
// time since the command started), so a wait that overslept shortens the
// next one, and stretches too short to sleep for (a small op) are carried
// into a later wait instead of costing a syscall each.
//
// The waits are the caller's (WaitUntil): the device's wait on its
// condition variable returns at once when the command is aborted (reset,
// queue disable), the VM stops or the device goes away, and the stretch
// owed so far is dropped (an aborted command ends at its next chunk or op). Because the engine's busy counters measure the
// command's whole time, they include the stretch: a throttled engine is
// 100 % busy at a lower clock, and the telemetry model's power stays
// consistent. They learn of it per piece (Busy), not at the command's end:
// the governor must see a long throttled command as busy while it runs, or
// it would raise the clock for its duration. scale() stretches the timing
// model's estimate the same way.
//
// Time, clock and waiting are injected: tests/unit/pacer_test.cc runs on
// made-up time. Not thread-safe: one job belongs to the thread running it.
#ifndef MTIA_PACER_H
#define MTIA_PACER_H

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace mtia {

// The engine clock when the work ran. mhz 0 or >= max_mhz: full speed.
struct EngineClock {
    uint32_t mhz = 0;
    uint32_t max_mhz = 0;
};

// Time the work of @host_ns at full clock takes at @c: host_ns * max / mhz.
uint64_t paced_ns(uint64_t host_ns, EngineClock c);

// Blocks until @until_ns on the steady clock (std::chrono::steady_clock,
// in ns) or until @stop() holds (checked under @l's mutex, which @cv is
// notified with when it changes). True if it stopped early.
bool wait_until_or(std::unique_lock<std::mutex> &l, std::condition_variable &cv, uint64_t until_ns,
                   const std::function<bool()> &stop);

// One command's pacing on one engine.
class PacedJob {
public:
    using Now = std::function<uint64_t()>;  // host monotonic ns
    using Clock = std::function<EngineClock()>;
    // Waits until host time @until_ns; true if interrupted (stop pacing).
    using WaitUntil = std::function<bool(uint64_t until_ns)>;
    // Told each piece's time (work and wait) when the piece is marked.
    using Busy = std::function<void(uint64_t ns)>;

    // Stretches shorter than this are carried into a later mark().
    static constexpr uint64_t kMinWaitNs = 200'000;

    PacedJob(Now now, Clock clock, WaitUntil wait, Busy busy = nullptr);

    // The work since the previous mark() (or the start, or skip()) is done:
    // stays busy until the paced deadline. @last: the command's last mark,
    // which waits however short the rest is. False if the wait was
    // interrupted (what was owed is dropped; later marks pace again).
    bool mark(bool last = false);
    // Time since the previous mark was not work (the engine was parked):
    // it is neither paced nor counted.
    void skip();

    uint64_t work_ns() const { return work_ns_; }      // host time of the marked work
    uint64_t paced_ns() const { return paced_ns_; }    // that work at the clocks it ran at
    uint64_t waited_ns() const { return waited_ns_; }  // time spent in waits
    // A timing-model estimate for f_max (@model_ns), for the clocks the
    // work ran at: model_ns * paced / work (the clock now if no work was
    // marked). Saturates.
    uint64_t scale(uint64_t model_ns) const;

private:
    Now now_;
    Clock clock_;
    WaitUntil wait_;
    Busy busy_;
    uint64_t last_;  // end of the previous mark (host ns)
    uint64_t due_;   // when the work marked so far is done at its clocks
    uint64_t work_ns_ = 0, paced_ns_ = 0, waited_ns_ = 0;
};

}  // namespace mtia

#endif  // MTIA_PACER_H
