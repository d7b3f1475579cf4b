// SPDX-License-Identifier: MIT
// The telemetry block's registers over the model (mtia_telemetry_regs.h).
#include "mtia_telemetry_regs.h"

#include "mtia/mtia_spec.h"

namespace mtia {

bool telemetry_read(Telemetry &t, uint64_t serial, uint64_t off, uint32_t *val)
{
    const TelemetryParams &p = t.params();
    switch (off) {
        case MTIA_REG_TEL_VERSION:
            *val = MTIA_TEL_VERSION;
            return true;
        case MTIA_REG_TEL_TEMP:
            *val = static_cast<uint32_t>(t.temp_mc());
            return true;
        case MTIA_REG_TEL_TEMP_SLOWDOWN:
            *val = static_cast<uint32_t>(p.slowdown_c * 1000);
            return true;
        case MTIA_REG_TEL_TEMP_SHUTDOWN:
            *val = static_cast<uint32_t>(p.shutdown_c * 1000);
            return true;
        case MTIA_REG_TEL_POWER:
            *val = t.power_mw();
            return true;
        case MTIA_REG_TEL_POWER_AVG:
            *val = t.power_avg_mw();
            return true;
        case MTIA_REG_TEL_POWER_CAP:
            *val = t.power_cap_mw();
            return true;
        case MTIA_REG_TEL_POWER_CAP_MIN:
            *val = p.cap_min_mw;
            return true;
        case MTIA_REG_TEL_POWER_CAP_MAX:
            *val = p.cap_max_mw;
            return true;
        case MTIA_REG_TEL_ENERGY_LO:
            *val = t.read_energy_lo();
            return true;
        case MTIA_REG_TEL_ENERGY_HI:
            *val = t.read_energy_hi();
            return true;
        case MTIA_REG_TEL_CLK:
            *val = t.clk_mhz();
            return true;
        case MTIA_REG_TEL_CLK_MAX:
            *val = p.clk_max_mhz;
            return true;
        case MTIA_REG_TEL_CLK_MIN:
            *val = p.clk_min_mhz;
            return true;
        case MTIA_REG_TEL_THROTTLE:
            *val = t.throttle();
            return true;
        case MTIA_REG_TEL_UTIL_CC:
            *val = t.util_permille(Engine::kCc);
            return true;
        case MTIA_REG_TEL_UTIL_DMA:
            *val = t.util_permille(Engine::kDma);
            return true;
        case MTIA_REG_TEL_UTIL_PE:
            *val = t.util_permille(Engine::kPe);
            return true;
        case MTIA_REG_TEL_WINDOW_MS:
            *val = t.window_ms();
            return true;
        case MTIA_REG_TEL_ECC_CORR:
            *val = t.ecc_corrected();
            return true;
        case MTIA_REG_TEL_ECC_UNCORR:
            *val = t.ecc_uncorrected();
            return true;
        case MTIA_REG_TEL_ECC_INJECT:  // write-only: reads 0
            *val = 0;
            return true;
        case MTIA_REG_TEL_SERIAL_LO:
            *val = static_cast<uint32_t>(serial);
            return true;
        case MTIA_REG_TEL_SERIAL_HI:
            *val = static_cast<uint32_t>(serial >> 32);
            return true;
        case MTIA_REG_TEL_ECC_CORR_AGG:
            *val = t.ecc_corrected_agg();
            return true;
        case MTIA_REG_TEL_ECC_UNCORR_AGG:
            *val = t.ecc_uncorrected_agg();
            return true;
        case MTIA_REG_TEL_ECC_CLEAR:  // write-only: reads 0
            *val = 0;
            return true;
        default:
            return false;
    }
}

TelemetryWrite telemetry_write(Telemetry &t, uint64_t off, uint32_t val)
{
    switch (off) {
        case MTIA_REG_TEL_POWER_CAP:
            return t.set_power_cap_mw(val) ? TelemetryWrite::kOk : TelemetryWrite::kOutOfRange;
        case MTIA_REG_TEL_ECC_INJECT:
            t.inject_ecc(val & MTIA_TEL_ECC_INJECT_UNCORR, val & MTIA_TEL_ECC_INJECT_COUNT);
            return TelemetryWrite::kOk;
        case MTIA_REG_TEL_ECC_CLEAR:
            if (val & ~MTIA_TEL_ECC_CLEAR_ALL) return TelemetryWrite::kOutOfRange;
            t.clear_ecc(val & MTIA_TEL_ECC_CLEAR_VOLATILE, val & MTIA_TEL_ECC_CLEAR_AGGREGATE);
            return TelemetryWrite::kOk;
        default:
            return TelemetryWrite::kNotWritable;
    }
}

}  // namespace mtia
