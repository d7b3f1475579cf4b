// SPDX-License-Identifier: MIT
// The telemetry block's registers (MTIA_REG_TEL_*, docs/telemetry.md) over
// a Telemetry model: the one mapping between the model's state and what
// BAR0 shows, used by the device core and by the management API's tests,
// which drive a model on made-up time and present these registers to
// libmtia as the driver's files (tests/unit/mgmt_model_test.cc).
#ifndef MTIA_TELEMETRY_REGS_H
#define MTIA_TELEMETRY_REGS_H

#include <cstdint>

#include "mtia_telemetry.h"

namespace mtia {

// Register @off (MTIA_REG_TEL_*) of the board @t with serial @serial into
// *val; false if @off is not one of the block's. Reading ENERGY_LO latches
// ENERGY_HI, so this is not const.
bool telemetry_read(Telemetry &t, uint64_t serial, uint64_t off, uint32_t *val);

enum class TelemetryWrite {
    kOk,
    kOutOfRange,   // POWER_CAP outside [CAP_MIN, CAP_MAX], ECC_CLEAR with an
                   // unknown bit: nothing changes
    kNotWritable,  // a read-only register or not one of the block's
};
// A 32-bit write of @val to @off: POWER_CAP, ECC_CLEAR and the test-only
// ECC_INJECT.
TelemetryWrite telemetry_write(Telemetry &t, uint64_t off, uint32_t val);

}  // namespace mtia

#endif  // MTIA_TELEMETRY_REGS_H
