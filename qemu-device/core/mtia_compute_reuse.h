// SPDX-License-Identifier: MIT
// Reuse of data a kernel derives from arena contents (weights reordered to
// oneDNN's blocked layout) across runs, only while the arena bytes it came
// from are provably unchanged (docs/compute.md, "Reused weights"):
//  - in tracked memory (a run with a mtia_compute_tracker: device memory,
//    where every writer reports its writes), while no page of the bytes was
//    written since the generation read before deriving -- derived straight
//    from the arena, no copy, no compare;
//  - otherwise (host callers), the cache keeps a private copy of the bytes
//    and compares it with the arena before every reuse; the derived data is
//    computed from the copy, so it matches the bytes compared against.
// Data derived under one tracker is reused only under the same one (the
// cache is process-wide and shared by devices). Bytes outside the run's
// arena (scratch: a widened F16 op's weights) are untracked.
#ifndef MTIA_COMPUTE_REUSE_H
#define MTIA_COMPUTE_REUSE_H

#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

class DerivedCache {
public:
    DerivedCache() = default;
    ~DerivedCache();
    DerivedCache(const DerivedCache &) = delete;
    DerivedCache &operator=(const DerivedCache &) = delete;

    // The data derived from @src (@n bytes of the arena of @ex's run) by
    // @derive(src or a copy of it, out) into @out_bytes: reused if src is
    // unchanged since it was derived, else derived again. nullptr if the
    // cache is in use by another thread or over the process-wide budget:
    // the caller derives into scratch memory itself. The result stays valid
    // while @hold is held.
    const void *get(const void *src, size_t n, size_t out_bytes, const Exec &ex,
                    const std::function<void(const void *, void *)> &derive, std::unique_lock<std::mutex> *hold);

    // Bytes all caches hold (copies + derived data), and their bound.
    static size_t total_bytes();
    static constexpr size_t kBudget = size_t{768} << 20;

    // Process-wide counts, for tests and benchmarks: derivations done, and
    // bytes compared with a private copy.
    struct Counters {
        uint64_t derived, compared_bytes;
    };
    static Counters counters();

private:
    bool reusable(const void *src, size_t n, size_t out_bytes, const Exec &ex) const;
    bool reserve(size_t copy_bytes, size_t out_bytes);
    void release();
    std::mutex mu_;
    Exec::Buffer copy_, out_;
    size_t n_ = 0;
    bool valid_ = false;
    uint64_t tracker_id_ = 0;  // 0: validated by the copy
    uint64_t gen_ = 0;         // tracker_id_'s generation before deriving
};

// A kernel's caches, one per source tensor (a kernel serves every op of its
// shape: each weight tensor it sees, by arena address), at most kMax.
class DerivedCaches {
public:
    // The cache for @src, or nullptr when kMax are in use (the caller
    // derives into scratch).
    DerivedCache *for_source(const void *src);
    static constexpr size_t kMax = 64;

private:
    std::mutex mu_;  // Protects map_.
    std::map<const void *, std::unique_ptr<DerivedCache>> map_;
};

}  // namespace compute
}  // namespace mtia

#endif  // MTIA_COMPUTE_REUSE_H
