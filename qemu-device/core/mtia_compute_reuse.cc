// SPDX-License-Identifier: MIT
// DerivedCache (see mtia_compute_reuse.h).
#include "mtia_compute_reuse.h"

#include <atomic>
#include <cstring>

namespace mtia {
namespace compute {

namespace {

std::atomic<size_t> g_total{0};

Exec::Buffer alloc(size_t n)
{
    Exec::Buffer b;
    b.size = (n + 4095) & ~size_t{4095};
    b.p.reset(static_cast<uint8_t *>(std::aligned_alloc(64, b.size)));
    if (!b.p) throw std::bad_alloc();
    return b;
}

}  // namespace

size_t DerivedCache::total_bytes() { return g_total.load(); }

DerivedCache::~DerivedCache() { release(); }

void DerivedCache::release()
{
    g_total -= copy_.size + out_.size;
    copy_ = Exec::Buffer();
    out_ = Exec::Buffer();
    valid_ = false;
}

const void *DerivedCache::get(const void *src, size_t n, size_t out_bytes,
                              const std::function<void(const void *, void *)> &derive,
                              std::unique_lock<std::mutex> *hold)
{
    std::unique_lock<std::mutex> l(mu_, std::try_to_lock);
    if (!l.owns_lock()) return nullptr;  // another device runs this kernel now
    if (valid_ && n == n_ && out_.size >= out_bytes && std::memcmp(copy_.p.get(), src, n) == 0) {
        *hold = std::move(l);
        return out_.p.get();
    }
    if (copy_.size < n || out_.size < out_bytes) {
        release();
        const size_t need = ((n + 4095) & ~size_t{4095}) + ((out_bytes + 4095) & ~size_t{4095});
        if (g_total.fetch_add(need) + need > kBudget) {
            g_total -= need;
            return nullptr;
        }
        copy_ = alloc(n);
        out_ = alloc(out_bytes);
    }
    valid_ = false;
    std::memcpy(copy_.p.get(), src, n);
    derive(copy_.p.get(), out_.p.get());
    n_ = n;
    valid_ = true;
    *hold = std::move(l);
    return out_.p.get();
}

}  // namespace compute
}  // namespace mtia
