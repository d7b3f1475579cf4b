// SPDX-License-Identifier: MIT
// The command corpus: valid and invalid commands (every opcode, every rule
// of include/mtia/mtia_cmd_rules.h, boundary values, unknown opcodes,
// reserved bits, ignored fields) with the one verdict every layer must
// reach. Fed to
//   - the device core's engine (device_queue_test.cc, CommandCorpus),
//   - the real firmware on the RV32 simulator (firmware_sim_test.cc),
//   - the driver's SUBMIT check compiled for user space
//     (driver_cmd_test.cc) and the driver in a VM (tests/vm/submit_test.cc).
// The expected verdicts are written out here, not computed from the table:
// the table is what is under test.
#ifndef MTIA_TESTS_CMD_CORPUS_H
#define MTIA_TESTS_CMD_CORPUS_H

#include <cstdint>
#include <vector>

#include "mtia/mtia_spec.h"

namespace corpus {

// Device memory the operands name; every harness backs kDevmemBytes. A
// valid command runs there: COPY/COMPUTE read at kSrc (a COMPUTE program of
// up to MTIA_MAX_PROGRAM_OPS ops: 16 MiB), the rest write at kDst (a
// COMPUTE arena of kArena bytes).
constexpr uint64_t kSrc = 1ull << 20;
constexpr uint64_t kDst = 24ull << 20;
constexpr uint64_t kArena = 4096;
constexpr uint64_t kDevmemBytes = 32ull << 20;
constexpr uint64_t kMaxCopy = 4096;  // largest COPY/FILL len below

// How the driver's SUBMIT check (struct drm_mtia_cmd: BO indices, no
// addresses) must treat an entry.
enum class Uapi {
    kSame,       // -EINVAL exactly when status != OK
    kUnusedSet,  // sets a field its opcode does not use: the device ignores
                 // it, the UAPI refuses it (-EINVAL), keeping it free
    kNoAddress,  // about operand addresses, which the UAPI cannot express
};

struct Case {
    const char *name;
    mtia_cmd cmd;
    uint16_t status;  // MTIA_CQE_* the device completes it with; OK: it runs
    Uapi uapi;
};

// One op the compute engine accepts: out (1 float at arena offset 4) =
// in (1 float at offset 0), no activation. Programs are this op repeated.
inline mtia_op copy_op()
{
    mtia_op op{};
    op.opcode = MTIA_OP_ACT;
    op.n_in = 1;
    op.act = MTIA_ACT_NONE;
    op.in[0].offset = 0;
    op.in[0].dtype = MTIA_DTYPE_F32;
    op.in[0].ndim = 1;
    op.in[0].dims[0] = 1;
    op.out = op.in[0];
    op.out.offset = 4;
    return op;
}

inline mtia_operand dev(uint64_t off) { return mtia_operand{MTIA_ADDR_DEVMEM | off, 0}; }

inline mtia_cmd make(uint8_t op, uint64_t len = 0, uint8_t flags = 0)
{
    mtia_cmd c{};
    c.opcode = op;
    c.flags = flags;
    c.len = len;
    return c;
}
inline mtia_cmd nop() { return make(MTIA_CMD_NOP); }
inline mtia_cmd fence() { return make(MTIA_CMD_FENCE); }
inline mtia_cmd copy(uint64_t len)
{
    mtia_cmd c = make(MTIA_CMD_COPY, len);
    c.src = dev(kSrc);
    c.dst = dev(kDst);
    return c;
}
inline mtia_cmd fill(uint64_t len, uint8_t flags = 0)
{
    mtia_cmd c = make(MTIA_CMD_FILL, len, flags);
    c.value = 0x0123456789abcdefull;
    c.dst = dev(kDst);
    return c;
}
inline mtia_cmd timestamp(uint64_t len)
{
    mtia_cmd c = make(MTIA_CMD_TIMESTAMP, len);
    c.dst = dev(kDst);
    return c;
}
inline mtia_cmd compute(uint64_t ops)
{
    mtia_cmd c = make(MTIA_CMD_COMPUTE, ops * MTIA_OP_BYTES);
    c.value = kArena;
    c.src = dev(kSrc);
    c.dst = dev(kDst);
    return c;
}
// COMPUTE with MTIA_CMD_F_PROFILE: the arena of value bytes ends in the
// profile (MTIA_PROFILE_BYTES(ops)), the program's copy_op()s use [0, 8).
inline mtia_cmd compute_profile(uint64_t ops, uint64_t value = kArena)
{
    mtia_cmd c = compute(ops);
    c.flags = MTIA_CMD_F_PROFILE;
    c.value = value;
    return c;
}
template <typename F>
mtia_cmd with(mtia_cmd c, F f)
{
    f(c);
    return c;
}

inline std::vector<Case> cases()
{
    constexpr uint16_t OK = MTIA_CQE_OK, OPC = MTIA_CQE_BAD_OPCODE, FLD = MTIA_CQE_BAD_FIELD,
                       ADR = MTIA_CQE_BAD_ADDRESS;
    constexpr uint64_t both = MTIA_ADDR_TAG_MASK, maxops = MTIA_MAX_PROGRAM_OPS;
    constexpr Uapi same = Uapi::kSame, unused = Uapi::kUnusedSet, addr = Uapi::kNoAddress;
    const auto flags = [](uint8_t f) { return [f](mtia_cmd &c) { c.flags = f; }; };
    const auto reserved = [](uint64_t r) { return [r](mtia_cmd &c) { c.reserved = r; }; };
    return {
        // valid: every opcode
        {"nop", nop(), OK, same},
        {"fence", fence(), OK, same},
        {"copy 1 byte", copy(1), OK, same},
        {"copy 4 KiB", copy(kMaxCopy), OK, same},
        {"fill 1 byte", fill(1), OK, same},
        {"fill64 8 bytes", fill(8, MTIA_CMD_F_FILL64), OK, same},
        {"fill64 4 KiB", fill(kMaxCopy, MTIA_CMD_F_FILL64), OK, same},
        {"fill odd len", fill(13), OK, same},
        {"timestamp len 8", timestamp(8), OK, same},
        {"compute 1 op", compute(1), OK, same},
        {"compute 2 ops", compute(2), OK, same},
        {"compute max ops", compute(maxops), OK, same},
        {"compute profile 1 op", compute_profile(1), OK, same},
        {"compute profile 2 ops", compute_profile(2), OK, same},
        {"compute profile, 8 bytes left for tensors", compute_profile(1, MTIA_PROFILE_BYTES(1) + 8), OK, same},
        {"ctx is not a rule", with(copy(16), [](mtia_cmd &c) { c.ctx = 0xdeadbeef; }), OK, same},
        // unknown opcodes
        {"opcode 6", make(6), OPC, same},
        {"opcode 6 with len", make(6, 8), OPC, same},
        {"opcode 0x7f", make(0x7f), OPC, same},
        {"opcode 0xff", make(0xff), OPC, same},
        {"opcode 0x80 with reserved", with(make(0x80), reserved(1)), OPC, same},
        // reserved
        {"nop reserved bit 0", with(nop(), reserved(1)), FLD, same},
        {"fence reserved bit 63", with(fence(), reserved(1ull << 63)), FLD, same},
        {"copy reserved", with(copy(16), reserved(1ull << 32)), FLD, same},
        {"fill reserved", with(fill(16), reserved(2)), FLD, same},
        {"timestamp reserved", with(timestamp(8), reserved(~0ull)), FLD, same},
        {"compute reserved", with(compute(1), reserved(1)), FLD, same},
        // flags
        {"nop flag 1", with(nop(), flags(1)), FLD, same},
        {"fence flag 0x80", with(fence(), flags(0x80)), FLD, same},
        {"copy FILL64", with(copy(64), flags(MTIA_CMD_F_FILL64)), FLD, same},
        {"fill flag 2", fill(64, 2), FLD, same},
        {"fill FILL64|0x80", fill(64, MTIA_CMD_F_FILL64 | 0x80), FLD, same},
        {"timestamp FILL64", with(timestamp(8), flags(MTIA_CMD_F_FILL64)), FLD, same},
        {"compute flag 1", with(compute(1), flags(1)), FLD, same},
        {"compute flag 4", with(compute(1), flags(4)), FLD, same},
        {"compute PROFILE|FILL64", with(compute_profile(1), flags(MTIA_CMD_F_PROFILE | MTIA_CMD_F_FILL64)), FLD, same},
        {"compute PROFILE|0x80", with(compute_profile(1), flags(MTIA_CMD_F_PROFILE | 0x80)), FLD, same},
        {"copy PROFILE", with(copy(64), flags(MTIA_CMD_F_PROFILE)), FLD, same},
        {"fill PROFILE", fill(64, MTIA_CMD_F_PROFILE), FLD, same},
        // len
        {"copy len 0", copy(0), FLD, same},
        {"fill len 0", fill(0), FLD, same},
        {"fill64 len 0", fill(0, MTIA_CMD_F_FILL64), FLD, same},
        {"fill64 len 12", fill(12, MTIA_CMD_F_FILL64), FLD, same},
        {"fill64 len 4", fill(4, MTIA_CMD_F_FILL64), FLD, same},
        {"fill64 len 2^32+4", fill((1ull << 32) + 4, MTIA_CMD_F_FILL64), FLD, same},
        {"timestamp len 0", timestamp(0), FLD, same},
        {"timestamp len 4", timestamp(4), FLD, same},
        {"timestamp len 7", timestamp(7), FLD, same},
        {"timestamp len 9", timestamp(9), FLD, same},
        {"timestamp len 16", timestamp(16), FLD, same},
        {"timestamp len 2^32+8", timestamp((1ull << 32) + 8), FLD, same},
        {"compute len 0", compute(0), FLD, same},
        {"compute len 255", with(compute(1), [](mtia_cmd &c) { c.len = 255; }), FLD, same},
        {"compute len 257", with(compute(1), [](mtia_cmd &c) { c.len = 257; }), FLD, same},
        {"compute len 300", with(compute(1), [](mtia_cmd &c) { c.len = 300; }), FLD, same},
        {"compute max ops + 1", compute(maxops + 1), FLD, same},
        {"compute len 2^32+256", with(compute(1), [](mtia_cmd &c) { c.len += 1ull << 32; }), FLD, same},
        {"compute len 2^63+256", with(compute(1), [](mtia_cmd &c) { c.len += 1ull << 63; }), FLD, same},
        // value
        {"compute empty arena", with(compute(1), [](mtia_cmd &c) { c.value = 0; }), FLD, same},
        {"compute profile empty arena", compute_profile(1, 0), FLD, same},
        {"compute profile arena = profile", compute_profile(1, MTIA_PROFILE_BYTES(1)), FLD, same},
        {"compute profile arena < profile", compute_profile(2, MTIA_PROFILE_BYTES(1) + 8), FLD, same},
        {"compute profile arena = profile, max ops", compute_profile(maxops, MTIA_PROFILE_BYTES(maxops)), FLD, same},
        {"compute profile max ops in a small arena", compute_profile(maxops), FLD, same},
        // operand address tags
        {"copy src both tags", with(copy(16), [](mtia_cmd &c) { c.src.addr = both | kSrc; }), FLD, addr},
        {"copy dst both tags", with(copy(16), [](mtia_cmd &c) { c.dst.addr = both; }), FLD, addr},
        {"fill dst both tags", with(fill(16), [](mtia_cmd &c) { c.dst.addr = both | kDst; }), FLD, addr},
        {"timestamp dst both tags", with(timestamp(8), [](mtia_cmd &c) { c.dst.addr = both; }), FLD, addr},
        {"compute src both tags", with(compute(1), [](mtia_cmd &c) { c.src.addr = both; }), FLD, addr},
        {"compute dst both tags", with(compute(1), [](mtia_cmd &c) { c.dst.addr = both | kDst; }), FLD, addr},
        // (An arena at a flat host address is no rule: with the device MMU an
        // untagged dst is a VA. The engine's translate refuses it when it is
        // not device memory: QueueTest.ComputeBadFieldsAndAddresses.)
        {"compute arena in an SG buffer", with(compute(1), [](mtia_cmd &c) { c.dst.addr = MTIA_ADDR_SGT | kDst; }), ADR,
         addr},
        // order: the first failing rule decides
        {"bad opcode before reserved", with(make(9, 0, 0x80), reserved(1)), OPC, same},
        {"reserved before flags", with(with(copy(0), flags(2)), reserved(1)), FLD, same},
        {"len before arena", with(compute(0), [](mtia_cmd &c) { c.dst.addr = kDst; }), FLD, addr},
        // fields an opcode does not use are ignored by the device
        {"nop len and value",
         with(nop(),
              [](mtia_cmd &c) {
                  c.len = 99;
                  c.value = 1;
              }),
         OK, unused},
        {"fence len", with(fence(), [](mtia_cmd &c) { c.len = 3; }), OK, unused},
        {"copy value", with(copy(16), [](mtia_cmd &c) { c.value = 7; }), OK, unused},
        {"timestamp value", with(timestamp(8), [](mtia_cmd &c) { c.value = 7; }), OK, unused},
        {"nop operands both tags", with(nop(), [](mtia_cmd &c) { c.src.addr = c.dst.addr = both; }), OK, addr},
        {"fill src both tags", with(fill(16), [](mtia_cmd &c) { c.src.addr = both; }), OK, addr},
        {"timestamp src both tags", with(timestamp(8), [](mtia_cmd &c) { c.src.addr = both; }), OK, addr},
    };
}

}  // namespace corpus

#endif  // MTIA_TESTS_CMD_CORPUS_H
