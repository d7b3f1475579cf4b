// SPDX-License-Identifier: MIT
// The run loop, traps, interrupts and system-class instructions. The hot
// interpreter loop is in rv32_exec.cc, CSR semantics in rv32_csr.cc.
#include "rv32_cpu.h"

#include <algorithm>
#include <stdexcept>

namespace mtia::rv32 {
namespace {

// Instructions per exec_block() call: bounds how late run() notices
// request_stop() and interrupt lines raised by other threads.
constexpr uint64_t kBlockBudget = 4096;

}  // namespace

const char *to_string(StopReason r)
{
    switch (r) {
        case StopReason::kBudget:
            return "budget";
        case StopReason::kWaitForInterrupt:
            return "wait-for-interrupt";
        case StopReason::kStopped:
            return "stopped";
        case StopReason::kHaltedOnTrap:
            return "halted-on-trap";
    }
    return "?";
}

Cpu::Cpu(Bus &bus, const CpuConfig &cfg) : bus_(bus), cfg_(cfg)
{
    remap();
    reset();
}

void Cpu::remap()
{
    std::vector<RamRegion> regions = bus_.ram_regions();
    ram_.clear();
    for (const RamRegion &r : regions) {
        // Aligned accesses then never straddle a region's end.
        if (r.base % 4 || r.size % 4 || uint64_t{r.base} + r.size > (uint64_t{1} << 32) || !r.host)
            throw std::invalid_argument("rv32: RAM region must be 4-byte aligned and backed");
        ram_.push_back(MemRegion{r.base, r.size, r.host, r.writable, r.executable, r.watched});
    }
    icache_.reset(regions);
    page_ = DecodeCache::Page{};
}

void Cpu::reset()
{
    std::fill(std::begin(x_), std::end(x_), 0u);
    pc_ = cfg_.reset_pc;
    mstatus_ = kMstatusMpp;
    mie_ = mtvec_ = mscratch_ = mepc_ = mcause_ = mtval_ = mcountinhibit_ = 0;
    cycle_ = instret_ = 0;
    set_rvc(true);
    icache_.flush();
    page_ = DecodeCache::Page{};
    wfi_ = halted_ = in_trap_entry_ = false;
    halt_ = RunResult{};
}

void Cpu::set_line(uint32_t bit, bool level)
{
    uint32_t old = level ? lines_.fetch_or(bit) : lines_.fetch_and(~bit);
    if (level && !(old & bit)) {
        // Taking the mutex orders this against a waiter's predicate check.
        {
            std::lock_guard<std::mutex> lock(wake_mu_);
        }
        wake_cv_.notify_all();
    }
}

void Cpu::request_stop()
{
    stop_.store(true);
    {
        std::lock_guard<std::mutex> lock(wake_mu_);
    }
    wake_cv_.notify_all();
}

bool Cpu::wait_for_interrupt(std::chrono::nanoseconds timeout)
{
    std::unique_lock<std::mutex> lock(wake_mu_);
    return wake_cv_.wait_for(lock, timeout, [this] { return (lines_.load() & mie_) != 0 || stop_.load(); });
}

void Cpu::count(uint64_t n)
{
    // mcycle counts retired instructions: the model has a CPI of 1.
    if (!(mcountinhibit_ & 1)) cycle_ += n;
    if (!(mcountinhibit_ & 4)) instret_ += n;
}

bool Cpu::trap(uint32_t cause, uint32_t tval)
{
    // mtvec == 0: firmware never installed a handler. A trap before the
    // handler retired anything: the handler itself is broken. Either way
    // delivering it would loop invisibly, so stop and tell the host.
    if (mtvec_ == 0 || in_trap_entry_) {
        halted_ = true;
        halt_ = RunResult{StopReason::kHaltedOnTrap, 0, cause, pc_, tval};
        return false;
    }
    mepc_ = pc_;
    mcause_ = cause;
    mtval_ = tval;
    mstatus_ = (mstatus_ & kMstatusMie ? kMstatusMpie : 0) | kMstatusMpp;  // MIE = 0
    const uint32_t base = mtvec_ & ~3u;
    const bool vectored = (mtvec_ & 3) == 1 && (cause & kInterruptBit);
    pc_ = vectored ? base + 4 * (cause & ~kInterruptBit) : base;
    in_trap_entry_ = true;
    wfi_ = false;
    return true;
}

void Cpu::take_interrupt(uint32_t pending)
{
    // Priority: external > software > timer.
    uint32_t c = pending & kIrqMei   ? cause::kMachineExtIrq
                 : pending & kIrqMsi ? cause::kMachineSoftIrq
                                     : cause::kMachineTimerIrq;
    trap(c, 0);
}

uint64_t Cpu::exec_system()
{
    const Decoded d = system_insn_;
    switch (d.op) {
        case Op::kFenceI:
            icache_.flush();
            page_ = DecodeCache::Page{};
            break;
        case Op::kEcall:
            trap(cause::kEcallM, 0);
            return 0;
        case Op::kEbreak:
            trap(cause::kBreakpoint, pc_);
            return 0;
        case Op::kIllegal:
            trap(cause::kIllegalInsn, static_cast<uint32_t>(d.imm));
            return 0;
        case Op::kMret: {
            uint32_t mepc = 0;
            read_csr(csr::kMepc, &mepc);  // masked per misa.C
            mstatus_ = (mstatus_ & kMstatusMpie ? kMstatusMie : 0) | kMstatusMpie | kMstatusMpp;
            pc_ = mepc;
            count(1);
            in_trap_entry_ = false;
            return 1;
        }
        case Op::kWfi:
            wfi_ = true;
            break;
        default: {  // Zicsr
            if (!csr_op(d)) {
                // Rebuild the instruction word for mtval (CSR ops are always 32-bit).
                static constexpr uint32_t kFunct3[] = {1, 2, 3, 5, 6, 7};
                uint32_t f3 = kFunct3[static_cast<int>(d.op) - static_cast<int>(Op::kCsrrw)];
                uint32_t rd = d.rd == kZeroSink ? 0 : d.rd;
                uint32_t bits = static_cast<uint32_t>(d.imm) << 20 | uint32_t{d.rs1} << 15 | f3 << 12 | rd << 7 | 0x73;
                trap(cause::kIllegalInsn, bits);
                return 0;
            }
            in_trap_entry_ = false;
            return 1;  // csr_op advanced pc and counted the instruction
        }
    }
    pc_ += d.len;
    count(1);
    in_trap_entry_ = false;
    return 1;
}

RunResult Cpu::run(uint64_t max_instructions)
{
    RunResult res;
    if (halted_) {
        res = halt_;
        return res;
    }
    uint64_t done = 0;
    for (;;) {
        if (stop_.exchange(false, std::memory_order_relaxed)) {
            res.reason = StopReason::kStopped;
            break;
        }
        if (uint32_t pending = pending_irqs()) {
            // Any enabled pending interrupt ends WFI, even with mstatus.MIE = 0.
            wfi_ = false;
            if (mstatus_ & kMstatusMie) {
                take_interrupt(pending);
                if (halted_) break;
            }
        }
        if (wfi_) {
            res.reason = StopReason::kWaitForInterrupt;
            break;
        }
        if (done >= max_instructions) {
            res.reason = StopReason::kBudget;
            break;
        }
        uint64_t n = exec_block(std::min(max_instructions - done, kBlockBudget));
        count(n);
        done += n;
        if (halted_) break;
        if (block_exit_ == BlockExit::kSystem && done < max_instructions) {
            done += exec_system();
            if (halted_) break;
        }
    }
    if (halted_) res = halt_;
    res.retired = done;
    return res;
}

}  // namespace mtia::rv32
