// SPDX-License-Identifier: MIT
// Fault injection's armed state and counters (mtia_fault.h).
#include "mtia_fault.h"

namespace mtia {

namespace {

// Upper bounds: a latency beyond 10 s per command would only make the
// device look dead (that is fault-hang), and counts fit the QOM uint.
constexpr uint64_t kMaxLatencyUs = 10'000'000;
constexpr uint64_t kMaxCount = UINT32_MAX;

}  // namespace

bool FaultInjector::set(uint32_t kind, uint64_t value)
{
    if (kind == 0 || kind >= MTIA_CORE_FAULT_KINDS) return false;
    switch (kind) {
        case MTIA_CORE_FAULT_HANG:
        case MTIA_CORE_FAULT_FW_TRAP:
        case MTIA_CORE_FAULT_LINK_DOWN:
            if (value > 1) return false;
            break;
        case MTIA_CORE_FAULT_LATENCY_US:
            if (value > kMaxLatencyUs) return false;
            break;
        default:
            if (value > kMaxCount) return false;
            break;
    }
    armed_[kind].store(value);
    // Faults that are a state, not an event, count when they are switched on.
    if (value && (kind == MTIA_CORE_FAULT_LINK_DOWN || kind == MTIA_CORE_FAULT_HANG)) count(kind);
    return true;
}

uint64_t FaultInjector::get(uint32_t kind) const
{
    return kind && kind < MTIA_CORE_FAULT_KINDS ? armed_[kind].load() : 0;
}

uint64_t FaultInjector::injected(uint32_t kind) const
{
    return kind && kind < MTIA_CORE_FAULT_KINDS ? injected_[kind].load() : 0;
}

bool FaultInjector::countdown(uint32_t kind, bool at_zero)
{
    std::atomic<uint64_t> &a = armed_[kind];
    uint64_t v = a.load();
    while (v != 0) {
        if (a.compare_exchange_weak(v, v - 1)) {
            const bool hit = !at_zero || v == 1;
            if (hit) count(kind);
            return hit;
        }
    }
    return false;
}

uint64_t FaultInjector::take_all(uint32_t kind)
{
    const uint64_t v = armed_[kind].exchange(0);
    if (v) injected_[kind] += v;
    return v;
}

}  // namespace mtia
