// SPDX-License-Identifier: MIT
// RV32IMC + Zicsr + Zifencei decoder. Every instruction, 16- or 32-bit, is
// decoded once into a compact Decoded record that the interpreter dispatches
// on; compressed forms expand to their base-ISA equivalents, so the executor
// only knows the base ISA (plus the instruction length).
#ifndef MTIA_RV32_DECODE_H
#define MTIA_RV32_DECODE_H

#include <cstdint>

namespace mtia::rv32 {

// One row per instruction group:
// clang-format off
enum class Op : uint8_t {
    kUndecoded = 0,  // zero-filled decode-cache entries: decode on first use
    // Handled inline by the interpreter loop.
    kLui, kAuipc, kJal, kJalr,
    kBeq, kBne, kBlt, kBge, kBltu, kBgeu,
    kLb, kLh, kLw, kLbu, kLhu, kSb, kSh, kSw,
    kAddi, kSlti, kSltiu, kXori, kOri, kAndi, kSlli, kSrli, kSrai,
    kAdd, kSub, kSll, kSlt, kSltu, kXor, kSrl, kSra, kOr, kAnd,
    kMul, kMulh, kMulhsu, kMulhu, kDiv, kDivu, kRem, kRemu,
    kFence,
    // System class: the loop stops before these and Cpu::exec_system runs them
    // with the architectural state (pc, counters) committed.
    kFirstSystem,
    kFenceI = kFirstSystem, kEcall, kEbreak, kMret, kWfi,
    kCsrrw, kCsrrs, kCsrrc, kCsrrwi, kCsrrsi, kCsrrci,
    kIllegal,  // imm holds the instruction bits (for mtval)
};
// clang-format on

// Register index that absorbs writes to x0, so handlers never test rd == 0.
constexpr uint8_t kZeroSink = 32;

struct Decoded {
    Op op;
    uint8_t rd;   // kZeroSink instead of 0
    uint8_t rs1;  // CSR immediate forms: the 5-bit uimm
    uint8_t rs2;
    int32_t imm;  // sign-extended immediate; CSR number for CSR ops; shamt
    uint8_t len;  // 2 or 4
};

// Decode @bits (the low 16 bits only, for a compressed instruction).
// @rvc: misa.C is set; otherwise 16-bit encodings are illegal.
Decoded decode(uint32_t bits, bool rvc);

// True if @first_halfword starts a 32-bit instruction.
inline bool is_32bit(uint16_t first_halfword) { return (first_halfword & 3) == 3; }

}  // namespace mtia::rv32

#endif  // MTIA_RV32_DECODE_H
