// SPDX-License-Identifier: MIT
// Zicsr and the machine-mode CSRs of an M-only RV32IMC hart. Unimplemented
// CSR numbers are illegal; the optional counters/events are read-only zero.
#include "rv32_cpu.h"

namespace mtia::rv32 {

bool Cpu::read_csr(uint16_t num, uint32_t *value) const
{
    uint32_t v = 0;
    switch (num) {
        case csr::kMstatus:
            v = mstatus_;
            break;
        case csr::kMisa:
            v = rvc_ ? kMisaValue : kMisaValue & ~kMisaC;
            break;
        case csr::kMie:
            v = mie_;
            break;
        case csr::kMtvec:
            v = mtvec_;
            break;
        case csr::kMstatush:
            v = 0;
            break;
        case csr::kMcountinhibit:
            v = mcountinhibit_;
            break;
        case csr::kMscratch:
            v = mscratch_;
            break;
        case csr::kMepc:
            v = mepc_ & (rvc_ ? ~1u : ~3u);
            break;
        case csr::kMcause:
            v = mcause_;
            break;
        case csr::kMtval:
            v = mtval_;
            break;
        case csr::kMip:
            v = lines_.load(std::memory_order_relaxed) & kIrqAll;
            break;
        case csr::kMcycle:
        case csr::kCycle:
            v = static_cast<uint32_t>(cycle_);
            break;
        case csr::kMcycleh:
        case csr::kCycleh:
            v = static_cast<uint32_t>(cycle_ >> 32);
            break;
        case csr::kMinstret:
        case csr::kInstret:
            v = static_cast<uint32_t>(instret_);
            break;
        case csr::kMinstreth:
        case csr::kInstreth:
            v = static_cast<uint32_t>(instret_ >> 32);
            break;
        case csr::kTime:
            v = static_cast<uint32_t>(bus_.mtime());
            break;
        case csr::kTimeh:
            v = static_cast<uint32_t>(bus_.mtime() >> 32);
            break;
        case csr::kMvendorid:
            v = kMvendorid;
            break;
        case csr::kMarchid:
            v = kMarchid;
            break;
        case csr::kMimpid:
            v = kMimpid;
            break;
        case csr::kMhartid:
            v = cfg_.hartid;
            break;
        case csr::kMconfigptr:
            v = 0;
            break;
        default:
            if ((num >= csr::kMhpmevent3 && num <= csr::kMhpmevent31) ||
                (num >= csr::kMhpmcounter3 && num <= csr::kMhpmcounter31) ||
                (num >= csr::kMhpmcounter3h && num <= csr::kMhpmcounter31h) ||
                (num >= csr::kHpmcounter3 && num <= csr::kHpmcounter31) ||
                (num >= csr::kHpmcounter3h && num <= csr::kHpmcounter31h)) {
                v = 0;
                break;
            }
            return false;
    }
    *value = v;
    return true;
}

bool Cpu::write_csr(uint16_t num, uint32_t v)
{
    uint32_t ignored;
    if ((num >> 10) == 3 || !read_csr(num, &ignored)) return false;  // read-only or absent
    switch (num) {
        case csr::kMstatus:
            mstatus_ = (v & (kMstatusMie | kMstatusMpie)) | kMstatusMpp;
            break;
        case csr::kMisa:
            // Clearing C is ignored when the next instruction is not 4-aligned.
            if ((v & kMisaC) || !(pc_ & 2)) set_rvc(v & kMisaC);
            break;
        case csr::kMie:
            mie_ = v & kIrqAll;
            break;
        case csr::kMtvec:
            // Modes 2 and 3 are reserved: keep the previous mode.
            mtvec_ = (v & ~3u) | ((v & 3) <= 1 ? (v & 3) : (mtvec_ & 3));
            break;
        case csr::kMcountinhibit:
            mcountinhibit_ = v & 5;
            break;  // CY and IR
        case csr::kMscratch:
            mscratch_ = v;
            break;
        case csr::kMepc:
            mepc_ = v & ~1u;
            break;
        case csr::kMcause:
            mcause_ = v;
            break;
        case csr::kMtval:
            mtval_ = v;
            break;
        case csr::kMcycle:
            cycle_ = (cycle_ & ~uint64_t{0xffffffff}) | v;
            break;
        case csr::kMcycleh:
            cycle_ = (cycle_ & 0xffffffff) | uint64_t{v} << 32;
            break;
        case csr::kMinstret:
            instret_ = (instret_ & ~uint64_t{0xffffffff}) | v;
            break;
        case csr::kMinstreth:
            instret_ = (instret_ & 0xffffffff) | uint64_t{v} << 32;
            break;
        default:
            break;  // mip (lines are host-driven), mstatush, hpm*: read-only zero/WARL
    }
    return true;
}

bool Cpu::csr_op(const Decoded &d)
{
    const uint16_t num = static_cast<uint16_t>(d.imm);
    const bool imm_form = d.op >= Op::kCsrrwi;
    const uint32_t src = imm_form ? d.rs1 : x_[d.rs1];
    // CSRRS/CSRRC with x0 or uimm 0 only read: legal on read-only CSRs.
    const bool swap = d.op == Op::kCsrrw || d.op == Op::kCsrrwi;
    const bool writes = swap || d.rs1 != 0;
    uint32_t old;
    if (!read_csr(num, &old)) return false;
    if (writes && (num >> 10) == 3) return false;
    // The instruction retires before its write lands, so a write to
    // mcycle/minstret is exactly what the next instruction reads.
    count(1);
    if (writes) {
        uint32_t val = swap ? src : (d.op == Op::kCsrrs || d.op == Op::kCsrrsi) ? old | src : old & ~src;
        write_csr(num, val);
    }
    x_[d.rd] = old;
    pc_ += 4;
    return true;
}

void Cpu::set_rvc(bool on)
{
    if (on == rvc_ && ialign_mask_ == (on ? 0u : 2u)) return;
    rvc_ = on;
    ialign_mask_ = on ? 0 : 2;
    // Cached decodes depend on C (16-bit patterns are illegal without it).
    icache_.flush();
    page_ = DecodeCache::Page{};
}

}  // namespace mtia::rv32
