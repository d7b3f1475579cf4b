// SPDX-License-Identifier: MIT
// libFuzzer target compute_validate: the device's check of a COMPUTE
// program (qemu-device/core/mtia_compute.h mtia_compute_validate), the
// gate every guest-written program passes before any op runs.
//
// Input: the arena size (u64, little-endian), then struct mtia_op[] (a
// tail shorter than one op is ignored; no op at all is a valid input too).
// Properties: the verdict is OK or BAD_PROGRAM naming an op of the
// program; the ops before the bad one validate and the bad one does not
// (ops are checked one by one); every op of a valid program has a byte
// count and a timing estimate (the device's profile and timing model)
// on any grid.
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_check.h"
#include "mtia_compute.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 8) return 0;
    uint64_t arena;
    std::memcpy(&arena, data, 8);
    const size_t n = (size - 8) / sizeof(mtia_op);
    std::vector<mtia_op> ops(n);
    if (n) std::memcpy(ops.data(), data + 8, n * sizeof(mtia_op));
    const mtia_op *prog = n ? ops.data() : nullptr;

    uint32_t bad = UINT32_MAX;
    const uint16_t st = mtia_compute_validate(prog, static_cast<uint32_t>(n), arena, &bad);
    if (st == MTIA_CQE_BAD_PROGRAM) {
        FUZZ_CHECK(n ? bad < n : bad == 0, "BAD_PROGRAM names no op of the program");
        if (!n) return 0;
        uint32_t again = UINT32_MAX;
        FUZZ_CHECK(mtia_compute_validate(&ops[bad], 1, arena, &again) == MTIA_CQE_BAD_PROGRAM && again == 0,
                   "the op named bad validates alone");
        FUZZ_CHECK(!bad || mtia_compute_validate(prog, bad, arena, &again) == MTIA_CQE_OK,
                   "the ops before the bad one do not validate");
        return 0;
    }
    FUZZ_CHECK(st == MTIA_CQE_OK && n, "validation status neither OK nor BAD_PROGRAM");
    const mtia_compute_grid small{1, 1}, large{64, 64};
    for (const mtia_op &op : ops) {
        const uint64_t bytes = mtia_compute_op_bytes(&op);
        (void)bytes;
        const uint64_t ns = mtia_compute_op_ns(nullptr, &op);
        FUZZ_CHECK(ns > 0, "a valid op takes no time");
        FUZZ_CHECK(mtia_compute_op_ns(&small, &op) > 0 && mtia_compute_op_ns(&large, &op) > 0,
                   "a valid op takes no time on a 1x1 or 64x64 grid");
    }
    return 0;
}
