// SPDX-License-Identifier: MIT
// libFuzzer target driver_cmd: the driver's check of SUBMIT commands
// (driver/mtia_cmd.c mtia_cmd_check_uapi, kernel C built for user space
// with tests/unit/kernel_shim.h, as the unit tests build it).
//
// Input: the job's BO count (one byte), then struct drm_mtia_cmd[] as user
// space passes them (a tail shorter than one command is ignored).
// Properties: the verdict is 0 or -EINVAL; an accepted command has its pad
// and reserved fields zero, a known opcode, its used operands naming BOs
// of the job, and its unused fields (len, value, operands) zero, as the
// UAPI promises (include/uapi/drm/mtia_accel.h, docs/queues.md).
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "fuzz_check.h"
#include "kernel_shim.h"
extern "C" {
#include "mtia_cmd.h"
}

namespace {

void check_accepted(const drm_mtia_cmd &c, uint32_t bos)
{
    FUZZ_CHECK(!c.pad0 && !c.pad1 && !c.reserved[0] && !c.reserved[1], "accepted with pad/reserved set");
    FUZZ_CHECK(mtia_cmd_rule(c.opcode) != nullptr, "accepted an unknown opcode");
    const uint32_t uses = mtia_cmd_uses(c.opcode);
    FUZZ_CHECK((uses & MTIA_CMD_USES_LEN) || !c.len, "accepted len on an opcode without one");
    FUZZ_CHECK((uses & MTIA_CMD_USES_VALUE) || !c.value, "accepted value on an opcode without one");
    if (uses & MTIA_CMD_USES_SRC)
        FUZZ_CHECK(c.src_bo < bos, "accepted a src BO index outside the job");
    else
        FUZZ_CHECK(!c.src_bo && !c.src_offset, "accepted a src on an opcode without one");
    if (uses & MTIA_CMD_USES_DST)
        FUZZ_CHECK(c.dst_bo < bos, "accepted a dst BO index outside the job");
    else
        FUZZ_CHECK(!c.dst_bo && !c.dst_offset, "accepted a dst on an opcode without one");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    const uint32_t bos = data[0];
    for (size_t at = 1; at + sizeof(drm_mtia_cmd) <= size; at += sizeof(drm_mtia_cmd)) {
        drm_mtia_cmd c;
        std::memcpy(&c, data + at, sizeof(c));
        const int r = mtia_cmd_check_uapi(&c, bos);
        FUZZ_CHECK(r == 0 || r == -EINVAL, "verdict neither 0 nor -EINVAL");
        if (r == 0) check_accepted(c, bos);
    }
    return 0;
}
