// SPDX-License-Identifier: MIT
// The device's board telemetry (docs/telemetry.md): a thermal and power
// model driven by how busy the engines are, a clock governor that throttles
// on the power limit and on temperature, utilisation over a sliding window,
// an energy counter, ECC error counters and the serial number: what the
// MTIA_REG_TEL_* registers read.
//
// ECC errors are counted twice, as NVML does: volatile counts (since power-on
// or the last clear) and aggregate, lifetime ones, which the board keeps in
// its infoROM (mtia_inforom.h) so that only a clear zeroes them. The model
// only counts; loading and storing the infoROM is the device core's.
//
// The model is a pure function of the times and cumulative busy counters it
// is given (advance()), so it is unit-tested with made-up time
// (tests/unit/telemetry_test.cc). The device core feeds it from the host's
// monotonic clock every MTIA_TEL_SAMPLE_MS on a thread of its own, so it
// evolves whether or not the guest looks. Not thread-safe: the core locks.
#ifndef MTIA_TELEMETRY_H
#define MTIA_TELEMETRY_H

#include <cstdint>
#include <deque>

namespace mtia {

// Model constants. The defaults describe an MTIA v1-class board: 25 W TDP
// at full PE load and 800 MHz, a few watts idle, a first-order thermal RC
// reaching ~85 C at TDP in a 30 C inlet with a few seconds' time constant.
struct TelemetryParams {
    double ambient_c = 30.0;    // inlet air
    double r_th_c_per_w = 2.2;  // junction to ambient
    double tau_s = 3.0;         // thermal time constant (R * C)
    double idle_w = 3.0;        // static power: leakage, PHYs, memory refresh
    // Dynamic power of each engine at 100 % busy and the maximum clock;
    // it scales linearly with utilisation and clock.
    double cc_w = 1.0, dma_w = 6.0, pe_w = 15.0;
    uint32_t clk_max_mhz = 800, clk_min_mhz = 100;
    double slowdown_c = 90.0, shutdown_c = 105.0;
    // Power limit range; the power-on limit is the maximum (the TDP).
    uint32_t cap_min_mw = 6000, cap_max_mw = 25000;
    uint64_t sample_ns = 100'000'000;    // MTIA_TEL_SAMPLE_MS
    uint64_t window_ns = 1'000'000'000;  // MTIA_TEL_WINDOW_MS
};

enum class Engine { kCc = 0, kDma = 1, kPe = 2 };
constexpr unsigned kNumEngines = 3;

// Cumulative time each engine was busy, as the device counts it (never
// decreasing). Several DMA queues run at once, so busy time may grow faster
// than wall time: the model clamps each engine to 100 %.
struct EngineBusy {
    uint64_t ns[kNumEngines] = {0, 0, 0};
};

// State that migrates (the rest re-derives within a window).
struct TelemetryState {
    int32_t temp_mc;
    uint32_t power_cap_mw;
    uint64_t energy_mj;
    uint32_t ecc_corrected, ecc_uncorrected;          // volatile
    uint32_t ecc_corrected_agg, ecc_uncorrected_agg;  // aggregate (lifetime)
};

class Telemetry {
public:
    explicit Telemetry(const TelemetryParams &p = TelemetryParams{}, uint64_t now_ns = 0,
                       const EngineBusy &busy = EngineBusy{});

    // Run the model from the last call to @now_ns (earlier times are
    // ignored), with the busy time @busy reports spread evenly over the
    // interval. Long intervals are integrated in sample_ns steps.
    void advance(uint64_t now_ns, const EngineBusy &busy);

    int32_t temp_mc() const { return static_cast<int32_t>(temp_c_ * 1000.0); }
    uint32_t power_mw() const { return static_cast<uint32_t>(power_w_ * 1000.0 + 0.5); }
    uint32_t power_avg_mw() const;
    uint64_t energy_mj() const { return static_cast<uint64_t>(energy_j_ * 1000.0); }
    uint32_t clk_mhz() const { return clk_mhz_; }
    uint32_t throttle() const { return throttle_; }  // MTIA_TEL_THROTTLE_*
    uint32_t util_permille(Engine e) const;
    uint32_t window_ms() const { return static_cast<uint32_t>(p_.window_ns / 1'000'000); }

    uint32_t power_cap_mw() const { return cap_mw_; }
    // False (and no change) outside [cap_min_mw, cap_max_mw].
    bool set_power_cap_mw(uint32_t mw);

    // Counts @count errors in both the volatile and the aggregate counter of
    // the kind; each saturates at UINT32_MAX.
    void inject_ecc(bool uncorrected, uint32_t count);
    uint32_t ecc_corrected() const { return ecc_corr_; }
    uint32_t ecc_uncorrected() const { return ecc_uncorr_; }
    uint32_t ecc_corrected_agg() const { return ecc_corr_agg_; }
    uint32_t ecc_uncorrected_agg() const { return ecc_uncorr_agg_; }
    // Zeroes the volatile and/or the aggregate counters (both kinds).
    void clear_ecc(bool volatile_counts, bool aggregate_counts);
    // The aggregate counts the board's infoROM held at power-on.
    void set_ecc_aggregate(uint32_t corrected, uint32_t uncorrected);

    // ENERGY_LO / ENERGY_HI: reading the low half latches the high half.
    uint32_t read_energy_lo();
    uint32_t read_energy_hi() const { return energy_hi_latch_; }

    const TelemetryParams &params() const { return p_; }
    TelemetryState state() const;
    // False if @s holds values the device could not have had.
    static bool state_valid(const TelemetryState &s, const TelemetryParams &p);
    void set_state(const TelemetryState &s);  // s valid

private:
    struct Sample {
        uint64_t t_ns;
        double busy_s[kNumEngines];  // model's (clamped) busy time so far
        double energy_j;
    };
    void step(double dt_s, const double util[kNumEngines]);
    void govern(const double util[kNumEngines]);
    const Sample &window_base() const;

    TelemetryParams p_;
    uint64_t t_ns_;
    uint64_t dev_busy_[kNumEngines];    // last device counters seen
    double carry_s_[kNumEngines] = {};  // busy reported beyond 100 %, spent later
    double busy_s_[kNumEngines] = {};
    double temp_c_;
    double power_w_;
    double energy_j_ = 0;
    uint32_t clk_mhz_;
    uint32_t throttle_ = 0;
    uint32_t cap_mw_;
    uint32_t ecc_corr_ = 0, ecc_uncorr_ = 0;
    uint32_t ecc_corr_agg_ = 0, ecc_uncorr_agg_ = 0;
    uint32_t energy_hi_latch_ = 0;
    std::deque<Sample> samples_;  // oldest first; one at or before now - window
};

}  // namespace mtia

#endif  // MTIA_TELEMETRY_H
