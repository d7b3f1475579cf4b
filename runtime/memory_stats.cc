// SPDX-License-Identifier: MIT
// Device memory as this process sees it (Device::memory_info): free/total
// from the driver's sysfs (mem_total, mem_used: all processes), and this
// process's allocated/peak bytes counted here as device Buffers come and go,
// per device node so every open of one device shares the counters.
#include <cstdlib>
#include <map>
#include <mutex>

#include "runtime_internal.h"

namespace mtia {

namespace {

struct Counters {
    std::mutex mu;
    std::map<std::string, detail::ProcessMemory> per_node;
};

Counters &counters()
{
    static Counters *c = new Counters;  // never destroyed: buffers may outlive static destruction
    return *c;
}

// A decimal sysfs value; 0 if missing or garbled.
uint64_t attr_u64(const std::string &node, const char *leaf)
{
    std::string v = sysfs_mtia_attr(node, leaf);
    char *end = nullptr;
    unsigned long long n = std::strtoull(v.c_str(), &end, 10);
    return v.empty() || (end && *end) ? 0 : n;
}

}  // namespace

namespace detail {

void note_alloc(const std::string &node, uint64_t bytes)
{
    auto &c = counters();
    std::lock_guard<std::mutex> l(c.mu);
    auto &m = c.per_node[node];
    m.allocated += bytes;
    m.allocations++;
    if (m.allocated > m.peak) m.peak = m.allocated;
}

void note_free(const std::string &node, uint64_t bytes)
{
    auto &c = counters();
    std::lock_guard<std::mutex> l(c.mu);
    auto &m = c.per_node[node];
    m.allocated -= std::min(m.allocated, bytes);
    if (m.allocations) m.allocations--;
}

ProcessMemory process_memory(const std::string &node)
{
    auto &c = counters();
    std::lock_guard<std::mutex> l(c.mu);
    auto it = c.per_node.find(node);
    return it == c.per_node.end() ? ProcessMemory{} : it->second;
}

void reset_peak_memory(const std::string &node)
{
    auto &c = counters();
    std::lock_guard<std::mutex> l(c.mu);
    auto &m = c.per_node[node];
    m.peak = m.allocated;
}

}  // namespace detail

MemoryInfo Device::memory_info() const
{
    detail::DeviceUse use(state_, "memory info");
    MemoryInfo m;
    m.total_bytes = attr_u64(state_->node, "mem_total");
    if (!m.total_bytes) m.total_bytes = info_.devmem_bytes;
    const uint64_t used = attr_u64(state_->node, "mem_used");
    m.free_bytes = m.total_bytes - std::min(used, m.total_bytes);
    const auto p = detail::process_memory(state_->node);
    m.allocated_bytes = p.allocated;
    m.peak_bytes = p.peak;
    m.allocations = p.allocations;
    return m;
}

void Device::reset_peak_memory()
{
    detail::DeviceUse use(state_, "reset peak memory");
    detail::reset_peak_memory(state_->node);
}

}  // namespace mtia
