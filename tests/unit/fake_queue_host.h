// SPDX-License-Identifier: MIT
// A QueueHost for tests of the queue engine alone (no core, no firmware):
// guest RAM at bus address 0, no interrupts, the steady clock as the device
// clock and an engine clock the test sets (full speed by default).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstring>
#include <vector>

#include "mtia_queues.h"

class FakeQueueHost final : public mtia::QueueHost {
public:
    explicit FakeQueueHost(uint64_t ram_bytes) : ram(ram_bytes) {}

    int dma_read(uint64_t a, void *b, uint64_t n) override
    {
        if (a > ram.size() || n > ram.size() - a) return -1;
        std::memcpy(b, ram.data() + a, n);
        return 0;
    }
    int dma_write(uint64_t a, const void *b, uint64_t n) override
    {
        if (a > ram.size() || n > ram.size() - a) return -1;
        std::memcpy(ram.data() + a, b, n);
        return 0;
    }
    void raise_irq(unsigned) override {}
    void meip_changed() override {}
    void queue_error(unsigned) override {}
    uint64_t device_ns() override
    {
        return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    mtia::EngineClock engine_clock() override { return clock; }

    std::vector<uint8_t> ram;
    mtia::EngineClock clock{};  // what the governor would have set
};

// Queue 0 of @e enabled with 16-entry rings at @sq and @cq in the host's RAM.
inline void enable_queue0(mtia::QueueEngine &e, uint64_t sq, uint64_t cq)
{
    e.host_write(MTIA_REG_Q(0, MTIA_Q_SQ_BASE_LO), sq);
    e.host_write(MTIA_REG_Q(0, MTIA_Q_CQ_BASE_LO), cq);
    e.host_write(MTIA_REG_Q(0, MTIA_Q_SIZE), 4 | 4 << 8);
    e.host_write(MTIA_REG_Q(0, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE);
}
