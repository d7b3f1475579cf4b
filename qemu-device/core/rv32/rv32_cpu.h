// SPDX-License-Identifier: MIT
// An RV32IMC (+ Zicsr, Zifencei) machine-mode-only hart: the device's control
// core. See docs/control-core.md for the contract summarised here.
//
// Threading: run(), reset(), the register/CSR accessors and invalidate_code()
// belong to one host thread (the "CPU thread"). set_mtip(), set_msip(),
// set_external_irq() and request_stop() may be called from any thread.
//
// Run model: run() executes until its instruction budget is spent, the hart
// executes WFI with no interrupt pending (kWaitForInterrupt: the CPU thread
// may sleep in wait_for_interrupt()), request_stop() was called (kStopped), or
// a trap cannot be delivered (kHaltedOnTrap, sticky until reset()).
#ifndef MTIA_RV32_CPU_H
#define MTIA_RV32_CPU_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "rv32_bus.h"
#include "rv32_csr.h"
#include "rv32_decode.h"
#include "rv32_icache.h"

namespace mtia::rv32 {

enum class StopReason {
    kBudget,            // max_instructions retired
    kWaitForInterrupt,  // WFI with nothing pending in mip & mie
    kStopped,           // request_stop()
    kHaltedOnTrap,      // trap with mtvec == 0, or a trap on a handler's first instruction
};

const char *to_string(StopReason r);

struct RunResult {
    StopReason reason = StopReason::kBudget;
    uint64_t retired = 0;  // instructions retired by this call
    // kHaltedOnTrap only: the trap that could not be taken.
    uint32_t cause = 0;
    uint32_t pc = 0;  // the trapping instruction
    uint32_t tval = 0;
};

struct CpuConfig {
    uint32_t reset_pc = 0;
    uint32_t hartid = 0;
};

class Cpu {
public:
    explicit Cpu(Bus &bus, const CpuConfig &cfg = {});
    Cpu(const Cpu &) = delete;
    Cpu &operator=(const Cpu &) = delete;

    // Architectural reset: x1..x31 = 0, pc = reset_pc, CSRs to reset values,
    // decode cache flushed. Interrupt lines are the host's and are kept.
    void reset();
    // Re-read bus.ram_regions() after the bus changed its RAM map.
    void remap();

    RunResult run(uint64_t max_instructions);

    // Interrupt lines into mip (level-triggered; thread-safe).
    void set_mtip(bool level) { set_line(kIrqMti, level); }
    void set_msip(bool level) { set_line(kIrqMsi, level); }
    void set_external_irq(bool level) { set_line(kIrqMei, level); }
    // Make the current (or next) run() return kStopped. Thread-safe.
    void request_stop();
    // CPU thread, after kWaitForInterrupt: sleep until an interrupt the hart
    // has enabled in mie is pending, request_stop() is called, or @timeout
    // passes. True unless it timed out.
    bool wait_for_interrupt(std::chrono::nanoseconds timeout);

    // The host wrote [addr, addr + len) of executable RAM behind the CPU's back.
    void invalidate_code(uint32_t addr, uint32_t len) { icache_.invalidate(addr, len); }

    uint32_t reg(unsigned i) const { return i < 32 ? x_[i] : 0; }
    void set_reg(unsigned i, uint32_t v)
    {
        if (i != 0 && i < 32) x_[i] = v;
    }
    uint32_t pc() const { return pc_; }
    void set_pc(uint32_t pc) { pc_ = pc & ~1u; }
    // Debugger-style CSR access (no side effects on the run state).
    bool read_csr(uint16_t num, uint32_t *value) const;
    bool write_csr(uint16_t num, uint32_t value);
    uint64_t instret() const { return instret_; }
    uint64_t cycle() const { return cycle_; }
    bool waiting_for_interrupt() const { return wfi_; }
    bool halted() const { return halted_; }

private:
    // Where exec_block() stopped.
    enum class BlockExit { kBudget, kSystem, kTrapOrIo };

    void set_line(uint32_t bit, bool level);
    uint32_t pending_irqs() const { return lines_.load(std::memory_order_relaxed) & mie_; }
    void take_interrupt(uint32_t pending);
    // Raise a trap at pc_. Returns false if the hart halted instead.
    bool trap(uint32_t cause, uint32_t tval);
    void count(uint64_t n);

    uint64_t exec_block(uint64_t budget);  // the interpreter loop (rv32_exec.cc)
    uint64_t exec_system();                // one system-class instruction at pc_
    bool csr_op(const Decoded &d);         // false: illegal instruction
    void set_rvc(bool on);

    struct MemRegion {
        uint32_t base, size;
        uint8_t *host;
        bool writable, executable, watched;
    };
    const MemRegion *find_ram(uint32_t addr) const
    {
        for (const MemRegion &r : ram_)
            if (addr - r.base < r.size) return &r;
        return nullptr;
    }

    Bus &bus_;
    const CpuConfig cfg_;
    std::vector<MemRegion> ram_;
    DecodeCache icache_;
    DecodeCache::Page page_;  // the page of the last fetch

    uint32_t x_[33] = {};  // x_[kZeroSink] absorbs writes to x0
    uint32_t pc_ = 0;

    // CSRs (M-mode only hart)
    uint32_t mstatus_ = 0, mie_ = 0, mtvec_ = 0, mscratch_ = 0, mepc_ = 0, mcause_ = 0, mtval_ = 0, mcountinhibit_ = 0;
    uint64_t cycle_ = 0, instret_ = 0;
    bool rvc_ = true;           // misa.C
    uint32_t ialign_mask_ = 0;  // 2 when misa.C is clear: jump targets must be 4-aligned

    bool wfi_ = false;
    bool halted_ = false;
    bool in_trap_entry_ = false;  // no instruction retired since the last trap entry
    RunResult halt_{};
    BlockExit block_exit_ = BlockExit::kBudget;
    Decoded system_insn_{};  // the system-class instruction exec_block stopped at

    std::atomic<uint32_t> lines_{0};  // MSIP/MTIP/MEIP as driven by the host
    std::atomic<bool> stop_{false};
    std::mutex wake_mu_;
    std::condition_variable wake_cv_;
};

}  // namespace mtia::rv32

#endif  // MTIA_RV32_CPU_H
