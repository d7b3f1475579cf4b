// SPDX-License-Identifier: MIT
// Instruction decoding (see rv32_decode.h). Reserved and unsupported encodings
// (F/D compressed forms, RV64-only forms, shamt[5] = 1 on RV32, ...) decode to
// kIllegal so the executor raises an illegal-instruction trap.
#include "rv32_decode.h"

namespace mtia::rv32 {
namespace {

// bits [hi:lo] of @v
constexpr uint32_t bits(uint32_t v, unsigned hi, unsigned lo) { return (v >> lo) & ((1u << (hi - lo + 1)) - 1); }
constexpr uint32_t bit(uint32_t v, unsigned n) { return (v >> n) & 1; }
// sign-extend the low @width bits of @v
constexpr int32_t sext(uint32_t v, unsigned width) { return static_cast<int32_t>(v << (32 - width)) >> (32 - width); }

Decoded make(Op op, unsigned rd, unsigned rs1, unsigned rs2, int32_t imm, uint8_t len)
{
    Decoded d{
        op, static_cast<uint8_t>(rd == 0 ? kZeroSink : rd), static_cast<uint8_t>(rs1), static_cast<uint8_t>(rs2), imm,
        len};
    return d;
}

Decoded illegal(uint32_t insn, uint8_t len)
{
    return Decoded{Op::kIllegal, kZeroSink, 0, 0, static_cast<int32_t>(insn), len};
}

int32_t imm_i(uint32_t i) { return sext(bits(i, 31, 20), 12); }
int32_t imm_s(uint32_t i) { return sext(bits(i, 31, 25) << 5 | bits(i, 11, 7), 12); }
int32_t imm_b(uint32_t i)
{
    return sext(bit(i, 31) << 12 | bit(i, 7) << 11 | bits(i, 30, 25) << 5 | bits(i, 11, 8) << 1, 13);
}
int32_t imm_j(uint32_t i)
{
    return sext(bit(i, 31) << 20 | bits(i, 19, 12) << 12 | bit(i, 20) << 11 | bits(i, 30, 21) << 1, 21);
}

Decoded decode32(uint32_t i)
{
    const unsigned rd = bits(i, 11, 7), rs1 = bits(i, 19, 15), rs2 = bits(i, 24, 20);
    const unsigned f3 = bits(i, 14, 12), f7 = bits(i, 31, 25);
    auto d = [&](Op op, int32_t imm) { return make(op, rd, rs1, rs2, imm, 4); };

    switch (bits(i, 6, 0)) {
        case 0x37:
            return d(Op::kLui, static_cast<int32_t>(i & 0xfffff000u));
        case 0x17:
            return d(Op::kAuipc, static_cast<int32_t>(i & 0xfffff000u));
        case 0x6f:
            return d(Op::kJal, imm_j(i));
        case 0x67:
            if (f3 == 0) return d(Op::kJalr, imm_i(i));
            break;
        case 0x63: {
            static constexpr Op kBr[8] = {Op::kBeq, Op::kBne, Op::kIllegal, Op::kIllegal,
                                          Op::kBlt, Op::kBge, Op::kBltu,    Op::kBgeu};
            if (kBr[f3] != Op::kIllegal) return d(kBr[f3], imm_b(i));
            break;
        }
        case 0x03: {
            static constexpr Op kLd[8] = {Op::kLb,  Op::kLh,  Op::kLw,      Op::kIllegal,
                                          Op::kLbu, Op::kLhu, Op::kIllegal, Op::kIllegal};
            if (kLd[f3] != Op::kIllegal) return d(kLd[f3], imm_i(i));
            break;
        }
        case 0x23:
            if (f3 <= 2) return d(f3 == 0 ? Op::kSb : f3 == 1 ? Op::kSh : Op::kSw, imm_s(i));
            break;
        case 0x13:
            switch (f3) {
                case 0:
                    return d(Op::kAddi, imm_i(i));
                case 2:
                    return d(Op::kSlti, imm_i(i));
                case 3:
                    return d(Op::kSltiu, imm_i(i));
                case 4:
                    return d(Op::kXori, imm_i(i));
                case 6:
                    return d(Op::kOri, imm_i(i));
                case 7:
                    return d(Op::kAndi, imm_i(i));
                case 1:
                    if (f7 == 0) return d(Op::kSlli, static_cast<int32_t>(rs2));
                    break;
                case 5:
                    if (f7 == 0) return d(Op::kSrli, static_cast<int32_t>(rs2));
                    if (f7 == 0x20) return d(Op::kSrai, static_cast<int32_t>(rs2));
                    break;
            }
            break;
        case 0x33: {
            static constexpr Op kBase[8] = {Op::kAdd, Op::kSll, Op::kSlt, Op::kSltu,
                                            Op::kXor, Op::kSrl, Op::kOr,  Op::kAnd};
            static constexpr Op kMext[8] = {Op::kMul, Op::kMulh, Op::kMulhsu, Op::kMulhu,
                                            Op::kDiv, Op::kDivu, Op::kRem,    Op::kRemu};
            if (f7 == 0x00) return d(kBase[f3], 0);
            if (f7 == 0x01) return d(kMext[f3], 0);
            if (f7 == 0x20 && f3 == 0) return d(Op::kSub, 0);
            if (f7 == 0x20 && f3 == 5) return d(Op::kSra, 0);
            break;
        }
        case 0x0f:
            // FENCE's fm/pred/succ fields are ignored, as the spec asks of
            // implementations that treat all fences conservatively.
            if (f3 == 0) return d(Op::kFence, 0);
            if (f3 == 1) return d(Op::kFenceI, 0);
            break;
        case 0x73:
            switch (f3) {
                case 0:
                    switch (i) {
                        case 0x00000073:
                            return d(Op::kEcall, 0);
                        case 0x00100073:
                            return d(Op::kEbreak, 0);
                        case 0x30200073:
                            return d(Op::kMret, 0);
                        case 0x10500073:
                            return d(Op::kWfi, 0);
                    }
                    break;
                case 1:
                    return d(Op::kCsrrw, static_cast<int32_t>(bits(i, 31, 20)));
                case 2:
                    return d(Op::kCsrrs, static_cast<int32_t>(bits(i, 31, 20)));
                case 3:
                    return d(Op::kCsrrc, static_cast<int32_t>(bits(i, 31, 20)));
                case 5:
                    return d(Op::kCsrrwi, static_cast<int32_t>(bits(i, 31, 20)));
                case 6:
                    return d(Op::kCsrrsi, static_cast<int32_t>(bits(i, 31, 20)));
                case 7:
                    return d(Op::kCsrrci, static_cast<int32_t>(bits(i, 31, 20)));
            }
            break;
    }
    return illegal(i, 4);
}

// Compressed register fields rd'/rs1'/rs2' name x8..x15.
unsigned creg(uint32_t v) { return 8 + v; }

Decoded decode16(uint32_t i)
{
    auto c = [](Op op, unsigned rd, unsigned rs1, unsigned rs2, int32_t imm) { return make(op, rd, rs1, rs2, imm, 2); };
    const unsigned f3 = bits(i, 15, 13);
    const unsigned r = bits(i, 11, 7);         // rd/rs1 (full)
    const unsigned r2 = bits(i, 6, 2);         // rs2 (full)
    const unsigned rp = creg(bits(i, 9, 7));   // rd'/rs1'
    const unsigned r2p = creg(bits(i, 4, 2));  // rd'/rs2'
    const int32_t imm6 = sext(bit(i, 12) << 5 | bits(i, 6, 2), 6);

    switch (bits(i, 1, 0)) {
        case 0:
            switch (f3) {
                case 0: {  // C.ADDI4SPN; nzuimm == 0 is reserved (covers the all-zero word)
                    uint32_t u = bits(i, 12, 11) << 4 | bits(i, 10, 7) << 6 | bit(i, 6) << 2 | bit(i, 5) << 3;
                    if (u == 0) break;
                    return c(Op::kAddi, r2p, 2, 0, static_cast<int32_t>(u));
                }
                case 2:    // C.LW
                case 6: {  // C.SW
                    int32_t u = static_cast<int32_t>(bits(i, 12, 10) << 3 | bit(i, 6) << 2 | bit(i, 5) << 6);
                    return f3 == 2 ? c(Op::kLw, r2p, rp, 0, u) : c(Op::kSw, 0, rp, r2p, u);
                }
            }
            break;  // C.FLD/C.FLW/C.FSD/C.FSW (no F/D) and the reserved slot
        case 1:
            switch (f3) {
                case 0:
                    return c(Op::kAddi, r, r, 0, imm6);  // C.ADDI / C.NOP / hints
                case 1:                                  // C.JAL (RV32 only)
                case 5: {                                // C.J
                    int32_t off = sext(bit(i, 12) << 11 | bit(i, 11) << 4 | bits(i, 10, 9) << 8 | bit(i, 8) << 10 |
                                           bit(i, 7) << 6 | bit(i, 6) << 7 | bits(i, 5, 3) << 1 | bit(i, 2) << 5,
                                       12);
                    return c(Op::kJal, f3 == 1 ? 1 : 0, 0, 0, off);
                }
                case 2:
                    return c(Op::kAddi, r, 0, 0, imm6);  // C.LI
                case 3:
                    if (r == 2) {  // C.ADDI16SP; nzimm == 0 is reserved
                        int32_t v = sext(
                            bit(i, 12) << 9 | bit(i, 6) << 4 | bit(i, 5) << 6 | bits(i, 4, 3) << 7 | bit(i, 2) << 5,
                            10);
                        if (v == 0) break;
                        return c(Op::kAddi, 2, 2, 0, v);
                    }
                    if (imm6 == 0) break;  // C.LUI nzimm == 0 is reserved
                    return c(Op::kLui, r, 0, 0, imm6 * 4096);
                case 4:
                    switch (bits(i, 11, 10)) {
                        case 0:  // C.SRLI; shamt[5] = 1 is reserved on RV32
                        case 1:  // C.SRAI
                            if (bit(i, 12)) break;
                            return c(bits(i, 11, 10) == 0 ? Op::kSrli : Op::kSrai, rp, rp, 0, static_cast<int32_t>(r2));
                        case 2:
                            return c(Op::kAndi, rp, rp, 0, imm6);
                        case 3: {
                            if (bit(i, 12)) break;  // C.SUBW/C.ADDW: RV64 only
                            static constexpr Op kAlu[4] = {Op::kSub, Op::kXor, Op::kOr, Op::kAnd};
                            return c(kAlu[bits(i, 6, 5)], rp, rp, r2p, 0);
                        }
                    }
                    break;
                case 6:    // C.BEQZ
                case 7: {  // C.BNEZ
                    int32_t off = sext(bit(i, 12) << 8 | bits(i, 11, 10) << 3 | bits(i, 6, 5) << 6 |
                                           bits(i, 4, 3) << 1 | bit(i, 2) << 5,
                                       9);
                    return c(f3 == 6 ? Op::kBeq : Op::kBne, 0, rp, 0, off);
                }
            }
            break;
        case 2:
            switch (f3) {
                case 0:  // C.SLLI; shamt[5] = 1 is reserved on RV32
                    if (bit(i, 12)) break;
                    return c(Op::kSlli, r, r, 0, static_cast<int32_t>(r2));
                case 2: {  // C.LWSP; rd == 0 is reserved
                    if (r == 0) break;
                    int32_t u = static_cast<int32_t>(bit(i, 12) << 5 | bits(i, 6, 4) << 2 | bits(i, 3, 2) << 6);
                    return c(Op::kLw, r, 2, 0, u);
                }
                case 4:
                    if (!bit(i, 12)) {
                        if (r2 == 0) {  // C.JR; rs1 == 0 is reserved
                            if (r == 0) break;
                            return c(Op::kJalr, 0, r, 0, 0);
                        }
                        return c(Op::kAdd, r, 0, r2, 0);  // C.MV
                    }
                    if (r2 == 0) {
                        if (r == 0) return c(Op::kEbreak, 0, 0, 0, 0);  // C.EBREAK
                        return c(Op::kJalr, 1, r, 0, 0);                // C.JALR
                    }
                    return c(Op::kAdd, r, r, r2, 0);  // C.ADD
                case 6: {                             // C.SWSP
                    int32_t u = static_cast<int32_t>(bits(i, 12, 9) << 2 | bits(i, 8, 7) << 6);
                    return c(Op::kSw, 0, 2, r2, u);
                }
            }
            break;  // C.FLDSP/C.FLWSP/C.FSDSP/C.FSWSP
    }
    return illegal(i & 0xffff, 2);
}

}  // namespace

Decoded decode(uint32_t bits_, bool rvc)
{
    if (is_32bit(static_cast<uint16_t>(bits_))) {
        // bits[4:2] == 111 starts a 48-bit or longer encoding: none exist here.
        if ((bits_ & 0x1c) == 0x1c) return illegal(bits_, 4);
        return decode32(bits_);
    }
    // Without C, fetch is 32-bit aligned and a 16-bit pattern is just an
    // illegal 32-bit word.
    return rvc ? decode16(bits_ & 0xffff) : illegal(bits_, 4);
}

}  // namespace mtia::rv32
