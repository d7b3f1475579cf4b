// SPDX-License-Identifier: MIT
// The interpreter loop: executes predecoded instructions from the decode
// cache with pc, the register file and the page of the last fetch in locals.
// It returns to Cpu::run() before any system-class instruction (CSR access,
// ECALL, MRET, WFI, ...), after a trap, and after an MMIO access (a device
// may have changed an interrupt line), so those see committed state.
#include <cstring>

#include "rv32_cpu.h"

namespace mtia::rv32 {
namespace {

// Guest memory is little-endian.
template <typename T>
T load_le(const uint8_t *p)
{
    T v;
    std::memcpy(&v, p, sizeof(v));
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if constexpr (sizeof(T) == 2) v = static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(v)));
    if constexpr (sizeof(T) == 4) v = static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(v)));
#endif
    return v;
}

template <typename T>
void store_le(uint8_t *p, T v)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    if constexpr (sizeof(T) == 2) v = static_cast<T>(__builtin_bswap16(static_cast<uint16_t>(v)));
    if constexpr (sizeof(T) == 4) v = static_cast<T>(__builtin_bswap32(static_cast<uint32_t>(v)));
#endif
    std::memcpy(p, &v, sizeof(v));
}

}  // namespace

uint64_t Cpu::exec_block(uint64_t budget)
{
    uint32_t *const x = x_;
    uint32_t pc = pc_;
    const uint32_t ialign = ialign_mask_;
    DecodeCache::Page page = page_;
    uint64_t n = 0;
    const Decoded *d;

// Raise a synchronous exception at the current instruction and leave.
#define TRAP(c, v)                          \
    do {                                    \
        pc_ = pc;                           \
        page_ = page;                       \
        if (n) in_trap_entry_ = false;      \
        block_exit_ = BlockExit::kTrapOrIo; \
        trap((c), (v));                     \
        return n;                           \
    } while (0)

#define JUMP_TO(target)                                    \
    do {                                                   \
        const uint32_t t_ = (target);                      \
        if (t_ & ialign) TRAP(cause::kInsnMisaligned, t_); \
        pc = t_;                                           \
        ++n;                                               \
        goto next;                                         \
    } while (0)

#define BRANCH(cond)                \
    if (cond) JUMP_TO(pc + d->imm); \
    break

#define LOAD(T)                                                                    \
    {                                                                              \
        const uint32_t a = x[d->rs1] + d->imm;                                     \
        if (a & (sizeof(T) - 1)) TRAP(cause::kLoadMisaligned, a);                  \
        if (const MemRegion *r = find_ram(a)) {                                    \
            x[d->rd] = static_cast<uint32_t>(load_le<T>(r->host + (a - r->base))); \
            break;                                                                 \
        }                                                                          \
        uint32_t v;                                                                \
        if (!bus_.mmio_read(a, sizeof(T), &v)) TRAP(cause::kLoadAccessFault, a);   \
        x[d->rd] = static_cast<uint32_t>(static_cast<T>(v));                       \
        goto io_done;                                                              \
    }

#define STORE(T)                                                                  \
    {                                                                             \
        const uint32_t a = x[d->rs1] + d->imm;                                    \
        if (a & (sizeof(T) - 1)) TRAP(cause::kStoreMisaligned, a);                \
        const T v = static_cast<T>(x[d->rs2]);                                    \
        if (const MemRegion *r = find_ram(a)) {                                   \
            if (!r->writable) TRAP(cause::kStoreAccessFault, a);                  \
            store_le<T>(r->host + (a - r->base), v);                              \
            if (r->executable) icache_.invalidate(a, sizeof(T));                  \
            if (r->watched) bus_.ram_stored(a, sizeof(T));                        \
            break;                                                                \
        }                                                                         \
        if (!bus_.mmio_write(a, sizeof(T), v)) TRAP(cause::kStoreAccessFault, a); \
        goto io_done;                                                             \
    }

    while (n < budget) {
        if ((pc >> DecodeCache::kPageShift) != page.number) {
            page = icache_.lookup(pc);
            if (!page.slots) TRAP(cause::kInsnAccessFault, pc);
        }
        d = &page.slots[(pc % DecodeCache::kPageBytes) / 2];
    dispatch:
        switch (d->op) {
            case Op::kUndecoded: {
                const RamRegion &r = *page.region;
                const uint32_t off = pc - r.base;
                const uint16_t lo = load_le<uint16_t>(r.host + off);
                uint32_t bits = lo;
                if (is_32bit(lo) || !rvc_) {
                    if (r.size - off < 4) TRAP(cause::kInsnAccessFault, pc + 2);
                    bits |= uint32_t{load_le<uint16_t>(r.host + off + 2)} << 16;
                }
                page.slots[(pc % DecodeCache::kPageBytes) / 2] = decode(bits, rvc_);
                goto dispatch;
            }
            case Op::kLui:
                x[d->rd] = static_cast<uint32_t>(d->imm);
                break;
            case Op::kAuipc:
                x[d->rd] = pc + d->imm;
                break;
            case Op::kJal: {
                const uint32_t link = pc + d->len;
                const uint32_t t = pc + d->imm;
                if (t & ialign) TRAP(cause::kInsnMisaligned, t);
                x[d->rd] = link;
                pc = t;
                ++n;
                goto next;
            }
            case Op::kJalr: {
                // Target before link: rd may equal rs1.
                const uint32_t link = pc + d->len;
                const uint32_t t = (x[d->rs1] + d->imm) & ~1u;
                if (t & ialign) TRAP(cause::kInsnMisaligned, t);
                x[d->rd] = link;
                pc = t;
                ++n;
                goto next;
            }
            case Op::kBeq:
                BRANCH(x[d->rs1] == x[d->rs2]);
            case Op::kBne:
                BRANCH(x[d->rs1] != x[d->rs2]);
            case Op::kBlt:
                BRANCH(static_cast<int32_t>(x[d->rs1]) < static_cast<int32_t>(x[d->rs2]));
            case Op::kBge:
                BRANCH(static_cast<int32_t>(x[d->rs1]) >= static_cast<int32_t>(x[d->rs2]));
            case Op::kBltu:
                BRANCH(x[d->rs1] < x[d->rs2]);
            case Op::kBgeu:
                BRANCH(x[d->rs1] >= x[d->rs2]);
            case Op::kLb:
                LOAD(int8_t)
            case Op::kLh:
                LOAD(int16_t)
            case Op::kLw:
                LOAD(uint32_t)
            case Op::kLbu:
                LOAD(uint8_t)
            case Op::kLhu:
                LOAD(uint16_t)
            case Op::kSb:
                STORE(uint8_t)
            case Op::kSh:
                STORE(uint16_t)
            case Op::kSw:
                STORE(uint32_t)
            case Op::kAddi:
                x[d->rd] = x[d->rs1] + d->imm;
                break;
            case Op::kSlti:
                x[d->rd] = static_cast<int32_t>(x[d->rs1]) < d->imm;
                break;
            case Op::kSltiu:
                x[d->rd] = x[d->rs1] < static_cast<uint32_t>(d->imm);
                break;
            case Op::kXori:
                x[d->rd] = x[d->rs1] ^ d->imm;
                break;
            case Op::kOri:
                x[d->rd] = x[d->rs1] | d->imm;
                break;
            case Op::kAndi:
                x[d->rd] = x[d->rs1] & d->imm;
                break;
            case Op::kSlli:
                x[d->rd] = x[d->rs1] << d->imm;
                break;
            case Op::kSrli:
                x[d->rd] = x[d->rs1] >> d->imm;
                break;
            case Op::kSrai:
                x[d->rd] = static_cast<uint32_t>(static_cast<int32_t>(x[d->rs1]) >> d->imm);
                break;
            case Op::kAdd:
                x[d->rd] = x[d->rs1] + x[d->rs2];
                break;
            case Op::kSub:
                x[d->rd] = x[d->rs1] - x[d->rs2];
                break;
            case Op::kSll:
                x[d->rd] = x[d->rs1] << (x[d->rs2] & 31);
                break;
            case Op::kSlt:
                x[d->rd] = static_cast<int32_t>(x[d->rs1]) < static_cast<int32_t>(x[d->rs2]);
                break;
            case Op::kSltu:
                x[d->rd] = x[d->rs1] < x[d->rs2];
                break;
            case Op::kXor:
                x[d->rd] = x[d->rs1] ^ x[d->rs2];
                break;
            case Op::kSrl:
                x[d->rd] = x[d->rs1] >> (x[d->rs2] & 31);
                break;
            case Op::kSra:
                x[d->rd] = static_cast<uint32_t>(static_cast<int32_t>(x[d->rs1]) >> (x[d->rs2] & 31));
                break;
            case Op::kOr:
                x[d->rd] = x[d->rs1] | x[d->rs2];
                break;
            case Op::kAnd:
                x[d->rd] = x[d->rs1] & x[d->rs2];
                break;
            case Op::kMul:
                x[d->rd] = x[d->rs1] * x[d->rs2];
                break;
            case Op::kMulh:
                x[d->rd] = static_cast<uint32_t>(
                    (int64_t{static_cast<int32_t>(x[d->rs1])} * static_cast<int32_t>(x[d->rs2])) >> 32);
                break;
            case Op::kMulhsu:
                x[d->rd] = static_cast<uint32_t>((int64_t{static_cast<int32_t>(x[d->rs1])} * int64_t{x[d->rs2]}) >> 32);
                break;
            case Op::kMulhu:
                x[d->rd] = static_cast<uint32_t>((uint64_t{x[d->rs1]} * x[d->rs2]) >> 32);
                break;
            // Division never traps on RISC-V: x/0 and INT_MIN/-1 have defined results.
            case Op::kDiv: {
                const int32_t a = static_cast<int32_t>(x[d->rs1]), b = static_cast<int32_t>(x[d->rs2]);
                x[d->rd] = b == 0                        ? ~0u
                           : (a == INT32_MIN && b == -1) ? static_cast<uint32_t>(a)
                                                         : static_cast<uint32_t>(a / b);
                break;
            }
            case Op::kDivu:
                x[d->rd] = x[d->rs2] == 0 ? ~0u : x[d->rs1] / x[d->rs2];
                break;
            case Op::kRem: {
                const int32_t a = static_cast<int32_t>(x[d->rs1]), b = static_cast<int32_t>(x[d->rs2]);
                x[d->rd] = b == 0                        ? static_cast<uint32_t>(a)
                           : (a == INT32_MIN && b == -1) ? 0u
                                                         : static_cast<uint32_t>(a % b);
                break;
            }
            case Op::kRemu:
                x[d->rd] = x[d->rs2] == 0 ? x[d->rs1] : x[d->rs1] % x[d->rs2];
                break;
            case Op::kFence:
                break;  // one hart, in-order, no caches: nothing to order
            default:
                // System class: let run() execute it with committed state.
                system_insn_ = *d;
                pc_ = pc;
                page_ = page;
                if (n) in_trap_entry_ = false;
                block_exit_ = BlockExit::kSystem;
                return n;
        }
        pc += d->len;
        ++n;
    next:;
    }
    pc_ = pc;
    page_ = page;
    if (n) in_trap_entry_ = false;
    block_exit_ = BlockExit::kBudget;
    return n;

io_done:
    pc_ = pc + d->len;
    page_ = page;
    in_trap_entry_ = false;
    block_exit_ = BlockExit::kTrapOrIo;
    return n + 1;

#undef TRAP
#undef JUMP_TO
#undef BRANCH
#undef LOAD
#undef STORE
}

}  // namespace mtia::rv32
