// SPDX-License-Identifier: MIT
// Fault injection (docs/fault-injection.md): what the host armed (QOM
// properties fault-* in the QEMU glue, mtia_core_fault_set()) and how often
// each fault was injected. The device's parts ask it at the points where a
// fault takes effect: the queue engine per command (DMA error, hang,
// latency) and per operand translation, the interrupt path (lost MSI-X
// messages), the BAR0 and DMA paths (link down), the control core (fatal
// trap) and the telemetry thread (ECC events). Lock-free: any thread.
// Internal to the device core.
#ifndef MTIA_FAULT_H
#define MTIA_FAULT_H

#include <atomic>
#include <cstdint>

#include "mtia_core.h"

namespace mtia {

class FaultInjector {
public:
    // Arms @kind (enum mtia_core_fault) with @value; false if the kind is
    // unknown or the value out of range (mtia_core.h says what each takes).
    bool set(uint32_t kind, uint64_t value);
    // The armed value (a countdown reads what is left of it).
    uint64_t get(uint32_t kind) const;
    // How often @kind was injected since the core was made.
    uint64_t injected(uint32_t kind) const;
    void count(uint32_t kind) { injected_[index(kind)]++; }

    // Countdowns: true when this event is the one to fail (it is counted).
    bool take_dma_error() { return countdown(MTIA_CORE_FAULT_DMA_ERROR, true); }
    bool take_translation() { return countdown(MTIA_CORE_FAULT_TRANSLATION, true); }
    // Lost interrupts: every message while N > 0 is dropped.
    bool take_lost_irq() { return countdown(MTIA_CORE_FAULT_LOST_IRQ, false); }
    bool take_fw_trap() { return take_all(MTIA_CORE_FAULT_FW_TRAP) != 0; }
    // ECC events armed since the last call (delivered by telemetry).
    uint64_t take_ecc(bool uncorrected)
    {
        return take_all(uncorrected ? MTIA_CORE_FAULT_ECC_UE : MTIA_CORE_FAULT_ECC_CE);
    }

    bool hang() const { return armed_[index(MTIA_CORE_FAULT_HANG)].load() != 0; }
    bool link_down() const { return armed_[index(MTIA_CORE_FAULT_LINK_DOWN)].load() != 0; }
    uint64_t latency_us() const { return armed_[index(MTIA_CORE_FAULT_LATENCY_US)].load(); }
    // A device reset ends a hang (docs/fault-injection.md).
    void clear_hang() { armed_[index(MTIA_CORE_FAULT_HANG)].store(0); }

private:
    static unsigned index(uint32_t kind) { return kind < MTIA_CORE_FAULT_KINDS ? kind : 0; }
    // @at_zero: the event that takes the count to zero is the faulty one (a
    // "the Nth from now" countdown); otherwise every event while non-zero.
    bool countdown(uint32_t kind, bool at_zero);
    uint64_t take_all(uint32_t kind);

    std::atomic<uint64_t> armed_[MTIA_CORE_FAULT_KINDS] = {};
    std::atomic<uint64_t> injected_[MTIA_CORE_FAULT_KINDS] = {};
};

}  // namespace mtia

#endif  // MTIA_FAULT_H
