// SPDX-License-Identifier: MIT
// Write tracking of device memory (docs/compute.md, "Reused weights").
//
// Every writer of device memory reports its writes here: guest stores
// through BAR2 (trapped by the QEMU glue, mtia_core_devmem_write), the queue
// engine's COPY/FILL/TIMESTAMP, COMPUTE outputs and profiles, the control
// core's stores. A reader that keeps data derived from device memory (the
// compute engine's reordered weights) then reuses it while no page of its
// source was written since it read it, without comparing bytes.
//
// One 64-bit generation per tracker, bumped per write event; per 4 KiB page
// the generation of its last write (a monotonic maximum). Writers mark
// after they stored (store, then wrote()): a reader that read now() = g
// before reading its bytes, and later finds every page of them <= g, read
// bytes no write has changed since -- a write whose bump came after g
// leaves a page > g.
#ifndef MTIA_WRITE_TRACK_H
#define MTIA_WRITE_TRACK_H

#include <atomic>
#include <cstdint>

#include "mtia_compute.h"

namespace mtia {

class WriteTracker {
public:
    static constexpr unsigned kPageShift = 12;

    WriteTracker();
    ~WriteTracker();
    WriteTracker(const WriteTracker &) = delete;
    WriteTracker &operator=(const WriteTracker &) = delete;

    // Tracks @bytes of memory whose contents are unknown (every page
    // counts as written now). Only while no writer or reader runs.
    void reset(uint64_t bytes);
    uint64_t size() const { return bytes_; }

    // [off, off + len) was written (clipped to the tracked size).
    void wrote(uint64_t off, uint64_t len);
    // Everything was written (contents replaced behind the writers' backs:
    // an incoming migration).
    void wrote_all();
    // The current generation.
    uint64_t now() const { return gen_.load(std::memory_order_acquire); }
    // The generation of the last write to any byte of [off, off + len);
    // beyond the tracked size counts as written now.
    uint64_t last_write(uint64_t off, uint64_t len) const;
    // Unique per tracker in this process (never reused, never 0).
    uint64_t id() const { return id_; }

    // The compute engine's view of @arena_off.. (mtia_compute_run_tracked):
    // arena offsets are relative to that device-memory offset.
    struct Arena {
        WriteTracker *t;
        uint64_t base;
    };
    static mtia_compute_tracker for_arena(Arena *a);

private:
    const uint64_t id_;
    uint64_t bytes_ = 0;
    uint64_t pages_n_ = 0;
    uint64_t *pages_ = nullptr;  // calloc'ed (untouched pages cost nothing)
    std::atomic<uint64_t> gen_{0};
    std::atomic<uint64_t> floor_{0};  // wrote_all()
};

}  // namespace mtia

#endif  // MTIA_WRITE_TRACK_H
