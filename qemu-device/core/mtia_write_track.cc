// SPDX-License-Identifier: MIT
// WriteTracker (see mtia_write_track.h).
#include "mtia_write_track.h"

#include <cstdlib>
#include <new>

namespace mtia {

namespace {
std::atomic<uint64_t> g_next_id{1};
}

WriteTracker::WriteTracker() : id_(g_next_id.fetch_add(1)) {}

WriteTracker::~WriteTracker() { std::free(pages_); }

void WriteTracker::reset(uint64_t bytes)
{
    std::free(pages_);
    pages_ = nullptr;
    bytes_ = 0;
    pages_n_ = 0;
    if (bytes) {
        const uint64_t n = (bytes + (uint64_t{1} << kPageShift) - 1) >> kPageShift;
        pages_ = static_cast<uint64_t *>(std::calloc(n, sizeof(uint64_t)));
        if (!pages_) throw std::bad_alloc();
        pages_n_ = n;
        bytes_ = bytes;
    }
    wrote_all();
}

void WriteTracker::wrote_all() { floor_.store(gen_.fetch_add(1, std::memory_order_acq_rel) + 1); }

void WriteTracker::wrote(uint64_t off, uint64_t len)
{
    if (!len || off >= bytes_) return;
    if (len > bytes_ - off) len = bytes_ - off;
    const uint64_t g = gen_.fetch_add(1, std::memory_order_acq_rel) + 1;
    const uint64_t last = (off + len - 1) >> kPageShift;
    for (uint64_t p = off >> kPageShift; p <= last; p++) {
        // Monotonic maximum: a concurrent writer's later generation stays.
        uint64_t cur = __atomic_load_n(&pages_[p], __ATOMIC_RELAXED);
        while (cur < g && !__atomic_compare_exchange_n(&pages_[p], &cur, g, true, __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
        }
    }
}

uint64_t WriteTracker::last_write(uint64_t off, uint64_t len) const
{
    if (off > bytes_ || len > bytes_ - off) return now() + 1;  // untracked: "just written"
    uint64_t m = floor_.load(std::memory_order_acquire);
    if (!len) return m;
    const uint64_t last = (off + len - 1) >> kPageShift;
    for (uint64_t p = off >> kPageShift; p <= last; p++) {
        const uint64_t g = __atomic_load_n(&pages_[p], __ATOMIC_ACQUIRE);
        if (g > m) m = g;
    }
    return m;
}

mtia_compute_tracker WriteTracker::for_arena(Arena *a)
{
    mtia_compute_tracker t{};
    t.id = a->t->id();
    t.opaque = a;
    t.now = [](void *o) { return static_cast<Arena *>(o)->t->now(); };
    t.last_write = [](void *o, uint64_t off, uint64_t len) {
        auto *x = static_cast<Arena *>(o);
        return x->t->last_write(x->base + off, len);
    };
    t.wrote = [](void *o, uint64_t off, uint64_t len) {
        auto *x = static_cast<Arena *>(o);
        x->t->wrote(x->base + off, len);
    };
    return t;
}

}  // namespace mtia
