// SPDX-License-Identifier: MIT
// Reuse of data a kernel derives from arena contents (weights reordered to
// oneDNN's blocked layout) across runs, only while the arena bytes it came
// from are provably unchanged: the cache keeps a private copy of those bytes
// and compares it byte for byte with the arena before every reuse (the guest
// can write device memory at any time without the device seeing it). The
// derived data is always computed from the private copy, so it matches the
// bytes compared against.
#ifndef MTIA_COMPUTE_REUSE_H
#define MTIA_COMPUTE_REUSE_H

#include <functional>
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

    // The data derived from @src (@n bytes) by @derive(copy of src, out) into
    // @out_bytes: reused if src is unchanged since it was derived, else
    // derived again. nullptr if the cache is in use by another thread or over
    // the process-wide budget: the caller derives into scratch memory
    // itself. The result stays valid while @hold is held.
    const void *get(const void *src, size_t n, size_t out_bytes,
                    const std::function<void(const void *, void *)> &derive, std::unique_lock<std::mutex> *hold);

    // Bytes all caches hold (copies + derived data), and their bound.
    static size_t total_bytes();
    static constexpr size_t kBudget = size_t{768} << 20;

private:
    void release();
    std::mutex mu_;
    Exec::Buffer copy_, out_;
    size_t n_ = 0;
    bool valid_ = false;
};

}  // namespace compute
}  // namespace mtia

#endif  // MTIA_COMPUTE_REUSE_H
