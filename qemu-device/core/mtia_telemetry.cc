// SPDX-License-Identifier: MIT
// Board telemetry model (mtia_telemetry.h, docs/telemetry.md).
//
// Power: P = idle + sum over engines of (dynamic power at full load) x
// utilisation x clock / max clock. Temperature: a first-order RC,
// dT/dt = (ambient + P * R - T) / tau, integrated exactly for each step with
// P held constant. Clock governor, evaluated every step: the highest clock
// at which P stays within the power limit, and above the slowdown
// temperature a clock falling linearly to the minimum at the shutdown
// temperature; the lower of the two, never below the minimum clock. The
// minimum power limit is above idle + full dynamic power at the minimum
// clock, so the limit is always met.
#include "mtia_telemetry.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "mtia/mtia_spec.h"

namespace mtia {

namespace {

constexpr size_t kMaxSamples = 4096;  // bounds memory if advance() runs very often

}  // namespace

Telemetry::Telemetry(const TelemetryParams &p, uint64_t now_ns, const EngineBusy &busy)
    : p_(p), t_ns_(now_ns), clk_mhz_(p.clk_max_mhz), cap_mw_(p.cap_max_mw)
{
    for (unsigned e = 0; e < kNumEngines; e++) dev_busy_[e] = busy.ns[e];
    // A board that has been idle since power-on sits at its idle steady state.
    power_w_ = p_.idle_w;
    temp_c_ = p_.ambient_c + p_.idle_w * p_.r_th_c_per_w;
    samples_.push_back(Sample{t_ns_, {0, 0, 0}, 0});
}

void Telemetry::govern(const double util[kNumEngines])
{
    const double w[kNumEngines] = {p_.cc_w, p_.dma_w, p_.pe_w};
    double dyn = 0;
    for (unsigned e = 0; e < kNumEngines; e++) dyn += w[e] * util[e];
    const double fmax = p_.clk_max_mhz;
    double f = fmax;
    throttle_ = 0;
    double headroom = cap_mw_ / 1000.0 - p_.idle_w;
    if (dyn > 0 && headroom < dyn) {
        f = std::min(f, fmax * std::max(headroom, 0.0) / dyn);
        throttle_ |= MTIA_TEL_THROTTLE_POWER;
    }
    if (temp_c_ > p_.slowdown_c) {
        double frac = (p_.shutdown_c - temp_c_) / (p_.shutdown_c - p_.slowdown_c);
        f = std::min(f, fmax * std::max(frac, 0.0));
        throttle_ |= MTIA_TEL_THROTTLE_THERMAL;
    }
    f = std::max(f, static_cast<double>(p_.clk_min_mhz));
    clk_mhz_ = static_cast<uint32_t>(std::floor(f));
}

void Telemetry::step(double dt_s, const double util[kNumEngines])
{
    govern(util);
    const double w[kNumEngines] = {p_.cc_w, p_.dma_w, p_.pe_w};
    double scale = static_cast<double>(clk_mhz_) / p_.clk_max_mhz;
    double power = p_.idle_w;
    for (unsigned e = 0; e < kNumEngines; e++) power += w[e] * util[e] * scale;
    double steady = p_.ambient_c + power * p_.r_th_c_per_w;
    temp_c_ = steady + (temp_c_ - steady) * std::exp(-dt_s / p_.tau_s);
    energy_j_ += power * dt_s;
    power_w_ = power;
}

void Telemetry::advance(uint64_t now_ns, const EngineBusy &busy)
{
    if (now_ns <= t_ns_) return;  // the busy time is counted at the next call
    const uint64_t dt_ns = now_ns - t_ns_;
    const double dt_s = dt_ns / 1e9;
    const double window_s = p_.window_ns / 1e9;
    double util[kNumEngines];
    for (unsigned e = 0; e < kNumEngines; e++) {
        // Engines report busy time when a command ends: a long command
        // arrives in one piece. What exceeds the interval is carried into
        // the next ones (at most a window's worth: parallel queues can
        // report more busy time than there is wall time).
        uint64_t delta = busy.ns[e] >= dev_busy_[e] ? busy.ns[e] - dev_busy_[e] : 0;
        dev_busy_[e] = busy.ns[e];
        double reported = delta / 1e9 + carry_s_[e];
        double spent = std::min(reported, dt_s);
        carry_s_[e] = std::min(reported - spent, window_s);
        busy_s_[e] += spent;
        util[e] = spent / dt_s;
    }
    const uint64_t n = (dt_ns + p_.sample_ns - 1) / p_.sample_ns;
    for (uint64_t i = 0; i < n; i++) step(dt_s / static_cast<double>(n), util);
    t_ns_ = now_ns;

    Sample s{t_ns_, {busy_s_[0], busy_s_[1], busy_s_[2]}, energy_j_};
    samples_.push_back(s);
    // Keep exactly one sample at or before the window's start.
    const uint64_t start = t_ns_ > p_.window_ns ? t_ns_ - p_.window_ns : 0;
    while (samples_.size() > 2 && (samples_[1].t_ns <= start || samples_.size() > kMaxSamples)) samples_.pop_front();
}

const Telemetry::Sample &Telemetry::window_base() const { return samples_.front(); }

uint32_t Telemetry::util_permille(Engine e) const
{
    const Sample &b = window_base();
    if (t_ns_ <= b.t_ns) return 0;
    unsigned i = static_cast<unsigned>(e);
    double frac = (busy_s_[i] - b.busy_s[i]) / ((t_ns_ - b.t_ns) / 1e9);
    return static_cast<uint32_t>(std::lround(std::clamp(frac, 0.0, 1.0) * 1000.0));
}

uint32_t Telemetry::power_avg_mw() const
{
    const Sample &b = window_base();
    if (t_ns_ <= b.t_ns) return power_mw();
    double watts = (energy_j_ - b.energy_j) / ((t_ns_ - b.t_ns) / 1e9);
    return static_cast<uint32_t>(watts * 1000.0 + 0.5);
}

bool Telemetry::set_power_cap_mw(uint32_t mw)
{
    if (mw < p_.cap_min_mw || mw > p_.cap_max_mw) return false;
    cap_mw_ = mw;
    return true;
}

void Telemetry::inject_ecc(bool uncorrected, uint32_t count)
{
    // Saturate rather than wrap: a counter that went back to 0 would hide errors.
    for (uint32_t *c : {uncorrected ? &ecc_uncorr_ : &ecc_corr_, uncorrected ? &ecc_uncorr_agg_ : &ecc_corr_agg_})
        *c = count > std::numeric_limits<uint32_t>::max() - *c ? std::numeric_limits<uint32_t>::max() : *c + count;
}

void Telemetry::clear_ecc(bool volatile_counts, bool aggregate_counts)
{
    if (volatile_counts) ecc_corr_ = ecc_uncorr_ = 0;
    if (aggregate_counts) ecc_corr_agg_ = ecc_uncorr_agg_ = 0;
}

void Telemetry::set_ecc_aggregate(uint32_t corrected, uint32_t uncorrected)
{
    ecc_corr_agg_ = corrected;
    ecc_uncorr_agg_ = uncorrected;
}

uint32_t Telemetry::read_energy_lo()
{
    uint64_t e = energy_mj();
    energy_hi_latch_ = static_cast<uint32_t>(e >> 32);
    return static_cast<uint32_t>(e);
}

TelemetryState Telemetry::state() const
{
    return TelemetryState{temp_mc(), cap_mw_, energy_mj(), ecc_corr_, ecc_uncorr_, ecc_corr_agg_, ecc_uncorr_agg_};
}

bool Telemetry::state_valid(const TelemetryState &s, const TelemetryParams &p)
{
    // A die between -40 C and 150 C; a limit the register would accept.
    return s.temp_mc >= -40000 && s.temp_mc <= 150000 && s.power_cap_mw >= p.cap_min_mw &&
           s.power_cap_mw <= p.cap_max_mw;
}

void Telemetry::set_state(const TelemetryState &s)
{
    temp_c_ = s.temp_mc / 1000.0;
    cap_mw_ = s.power_cap_mw;
    energy_j_ = s.energy_mj / 1000.0;
    ecc_corr_ = s.ecc_corrected;
    ecc_uncorr_ = s.ecc_uncorrected;
    ecc_corr_agg_ = s.ecc_corrected_agg;
    ecc_uncorr_agg_ = s.ecc_uncorrected_agg;
    for (double &c : carry_s_) c = 0;
    // Averages restart from here: the source's samples did not migrate.
    samples_.clear();
    samples_.push_back(Sample{t_ns_, {busy_s_[0], busy_s_[1], busy_s_[2]}, energy_j_});
}

}  // namespace mtia
