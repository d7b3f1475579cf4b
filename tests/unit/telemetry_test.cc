// SPDX-License-Identifier: MIT
// Board telemetry (docs/telemetry.md): the model with made-up time, then
// its registers in the device core, then the core feeding it real engine
// activity on the host's clock.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "mtia/mtia_spec.h"
#include "mtia_core.h"
#include "mtia_telemetry.h"
#include "test_watchdog.h"

namespace {

using mtia::Engine;
using mtia::EngineBusy;
using mtia::Telemetry;
using mtia::TelemetryParams;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kTick = MTIA_TEL_SAMPLE_MS * kMs;

// Drives a model as the device does: a sample every kTick, with each
// engine busy the given fraction of the time.
struct Drive {
    Telemetry &t;
    uint64_t now = 0;
    EngineBusy busy{};
    // Run @ms milliseconds at utilisations @u (cc, dma, pe); calls @each
    // after every sample.
    template <typename F>
    void run(uint64_t ms, double cc, double dma, double pe, F each)
    {
        const double u[3] = {cc, dma, pe};
        for (uint64_t i = 0; i < ms * kMs / kTick; i++) {
            now += kTick;
            for (unsigned e = 0; e < 3; e++) busy.ns[e] += static_cast<uint64_t>(u[e] * kTick);
            t.advance(now, busy);
            each();
        }
    }
    void run(uint64_t ms, double cc, double dma, double pe)
    {
        run(ms, cc, dma, pe, [] {});
    }
};

double temp_c(const Telemetry &t) { return t.temp_mc() / 1000.0; }

TEST(TelemetryModel, IdleBoardSitsAtItsIdleSteadyState)
{
    TelemetryParams p;
    Telemetry t(p);
    Drive d{t};
    const double idle_c = p.ambient_c + p.idle_w * p.r_th_c_per_w;
    EXPECT_NEAR(temp_c(t), idle_c, 0.01);
    d.run(10'000, 0, 0, 0);
    EXPECT_NEAR(temp_c(t), idle_c, 0.01);
    EXPECT_EQ(t.power_mw(), 3000u);
    EXPECT_EQ(t.power_avg_mw(), 3000u);
    EXPECT_EQ(t.clk_mhz(), p.clk_max_mhz);
    EXPECT_EQ(t.throttle(), 0u);
    for (Engine e : {Engine::kCc, Engine::kDma, Engine::kPe}) EXPECT_EQ(t.util_permille(e), 0u);
    // 10 s at 3 W.
    EXPECT_NEAR(static_cast<double>(t.energy_mj()), 30'000.0, 1.0);
}

TEST(TelemetryModel, TemperatureRisesUnderLoadWithItsTimeConstantAndDecays)
{
    TelemetryParams p;
    Telemetry t(p);
    Drive d{t};
    const double idle_c = temp_c(t);
    const double full_c = p.ambient_c + 25.0 * p.r_th_c_per_w;  // TDP at full load

    double last = idle_c;
    d.run(static_cast<uint64_t>(p.tau_s * 1000), 1, 1, 1, [&] {
        EXPECT_GT(temp_c(t), last);  // strictly rising
        last = temp_c(t);
    });
    // One time constant: 1 - 1/e of the step.
    EXPECT_NEAR(temp_c(t) - idle_c, (full_c - idle_c) * (1 - std::exp(-1.0)), 0.1);
    EXPECT_EQ(t.power_mw(), 25000u);  // the TDP, all engines busy at 800 MHz
    EXPECT_EQ(t.throttle(), 0u);
    d.run(15'000, 1, 1, 1);
    EXPECT_NEAR(temp_c(t), full_c, 0.5);
    EXPECT_EQ(t.util_permille(Engine::kPe), 1000u);

    last = temp_c(t);
    d.run(20'000, 0, 0, 0, [&] {
        EXPECT_LT(temp_c(t), last);  // strictly falling
        last = temp_c(t);
    });
    EXPECT_NEAR(temp_c(t), idle_c, 0.1);
    EXPECT_EQ(t.power_mw(), 3000u);
}

TEST(TelemetryModel, DmaLoadAloneWarmsTheBoardLess)
{
    TelemetryParams p;
    Telemetry t(p);
    Drive d{t};
    d.run(20'000, 0.2, 1, 0);
    // 3 W idle + 0.2 W control core + 6 W data engine.
    EXPECT_EQ(t.power_mw(), 9200u);
    EXPECT_NEAR(temp_c(t), p.ambient_c + 9.2 * p.r_th_c_per_w, 0.2);
    EXPECT_EQ(t.util_permille(Engine::kDma), 1000u);
    EXPECT_EQ(t.util_permille(Engine::kCc), 200u);
    EXPECT_EQ(t.util_permille(Engine::kPe), 0u);
}

TEST(TelemetryModel, PowerStaysBetweenIdleAndTheLimit)
{
    TelemetryParams p;
    Telemetry t(p);
    Drive d{t};
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    std::uniform_int_distribution<uint32_t> cap(p.cap_min_mw, p.cap_max_mw);
    for (int i = 0; i < 300; i++) {
        ASSERT_TRUE(t.set_power_cap_mw(cap(rng)));
        d.run(500, u(rng), u(rng), u(rng), [&] {
            EXPECT_GE(t.power_mw(), 3000u);
            EXPECT_LE(t.power_mw(), t.power_cap_mw());
            EXPECT_GE(t.clk_mhz(), p.clk_min_mhz);
            EXPECT_LE(t.clk_mhz(), p.clk_max_mhz);
        });
    }
}

TEST(TelemetryModel, PowerLimitThrottlesTheClock)
{
    TelemetryParams p;
    Telemetry t(p);
    Drive d{t};
    ASSERT_TRUE(t.set_power_cap_mw(10'000));
    d.run(2000, 1, 1, 1);
    EXPECT_EQ(t.throttle(), MTIA_TEL_THROTTLE_POWER);
    EXPECT_LE(t.power_mw(), 10'000u);
    EXPECT_GE(t.power_mw(), 9'900u);  // throttled just enough
    // (10 - 3) W of the 22 W dynamic power: 7/22 of 800 MHz.
    EXPECT_EQ(t.clk_mhz(), 254u);
    ASSERT_TRUE(t.set_power_cap_mw(p.cap_max_mw));
    d.run(200, 1, 1, 1);
    EXPECT_EQ(t.throttle(), 0u);
    EXPECT_EQ(t.clk_mhz(), 800u);
    // A light load under a low limit is not throttled.
    ASSERT_TRUE(t.set_power_cap_mw(p.cap_min_mw));
    d.run(200, 0, 0.3, 0);
    EXPECT_EQ(t.throttle(), 0u);
    EXPECT_EQ(t.clk_mhz(), 800u);
}

TEST(TelemetryModel, HotInletThrottlesOnTemperature)
{
    TelemetryParams p;
    p.ambient_c = 50;  // at TDP the die would settle at 105 C
    Telemetry t(p);
    Drive d{t};
    double peak = 0;
    bool throttled = false;
    d.run(60'000, 1, 1, 1, [&] {
        peak = std::max(peak, temp_c(t));
        if (t.throttle() & MTIA_TEL_THROTTLE_THERMAL) {
            throttled = true;
            EXPECT_LT(t.clk_mhz(), p.clk_max_mhz);
        }
    });
    EXPECT_TRUE(throttled);
    EXPECT_GT(peak, p.slowdown_c);
    EXPECT_LT(peak, p.shutdown_c);
    EXPECT_EQ(t.throttle(), MTIA_TEL_THROTTLE_THERMAL);
    EXPECT_LT(t.power_mw(), 25'000u);
    // Load removed: it cools and the clock comes back.
    d.run(20'000, 0, 0, 0);
    EXPECT_EQ(t.throttle(), 0u);
    EXPECT_EQ(t.clk_mhz(), p.clk_max_mhz);
    EXPECT_LT(temp_c(t), p.slowdown_c);
}

TEST(TelemetryModel, UtilisationIsOverTheLastWindow)
{
    Telemetry t;
    Drive d{t};
    d.run(3000, 0, 0.5, 0);
    EXPECT_EQ(t.util_permille(Engine::kDma), 500u);
    d.run(500, 0, 0, 0);  // half the window idle
    EXPECT_NEAR(t.util_permille(Engine::kDma), 250u, 60u);
    d.run(1100, 0, 0, 0);
    EXPECT_EQ(t.util_permille(Engine::kDma), 0u);
    EXPECT_EQ(t.window_ms(), static_cast<uint32_t>(MTIA_TEL_WINDOW_MS));
}

TEST(TelemetryModel, BusyTimeBeyondWallTimeIsClampedAndCarried)
{
    Telemetry t;
    Drive d{t};
    // Eight queues busy at once report 8x the wall time: 100 %, not 800 %.
    d.run(2000, 0, 8, 0);
    EXPECT_EQ(t.util_permille(Engine::kDma), 1000u);
    EXPECT_EQ(t.power_mw(), 9000u);
    // A 500 ms command reported in one piece when it ends counts over the
    // following samples, not as 500 % of one.
    Telemetry t2;
    Drive d2{t2};
    d2.run(2000, 0, 0, 0);
    d2.busy.ns[1] += 500 * kMs;
    d2.run(1000, 0, 0, 0);
    EXPECT_NEAR(t2.util_permille(Engine::kDma), 500u, 1u);
    d2.run(1100, 0, 0, 0);
    EXPECT_EQ(t2.util_permille(Engine::kDma), 0u);
}

TEST(TelemetryModel, GapsAreIntegratedAndTimeNeverRunsBackwards)
{
    TelemetryParams p;
    Telemetry a(p), b(p);
    Drive da{a};
    da.run(10'000, 0, 0, 1);
    // The same 10 s in one call: same temperature and energy.
    EngineBusy busy;
    busy.ns[2] = 10'000 * kMs;
    b.advance(10'000 * kMs, busy);
    EXPECT_NEAR(temp_c(a), temp_c(b), 0.01);
    EXPECT_NEAR(static_cast<double>(a.energy_mj()), static_cast<double>(b.energy_mj()), 2.0);
    // An earlier time or a counter going back changes nothing.
    int32_t temp = b.temp_mc();
    uint64_t energy = b.energy_mj();
    b.advance(5'000 * kMs, EngineBusy{});
    EXPECT_EQ(b.temp_mc(), temp);
    EXPECT_EQ(b.energy_mj(), energy);
    b.advance(10'100 * kMs, EngineBusy{});
    EXPECT_LT(b.power_mw(), 3100u);  // the counter going back is no work
}

TEST(TelemetryModel, PowerLimitRange)
{
    TelemetryParams p;
    Telemetry t(p);
    EXPECT_EQ(t.power_cap_mw(), p.cap_max_mw);
    EXPECT_FALSE(t.set_power_cap_mw(p.cap_min_mw - 1));
    EXPECT_FALSE(t.set_power_cap_mw(p.cap_max_mw + 1));
    EXPECT_FALSE(t.set_power_cap_mw(0));
    EXPECT_EQ(t.power_cap_mw(), p.cap_max_mw);
    EXPECT_TRUE(t.set_power_cap_mw(p.cap_min_mw));
    EXPECT_EQ(t.power_cap_mw(), p.cap_min_mw);
    // The minimum limit is above what the minimum clock can draw.
    EXPECT_GE(p.cap_min_mw / 1000.0, p.idle_w + (p.cc_w + p.dma_w + p.pe_w) * p.clk_min_mhz / p.clk_max_mhz);
}

TEST(TelemetryModel, EccCountersSaturate)
{
    Telemetry t;
    t.inject_ecc(false, 3);
    t.inject_ecc(true, 1);
    t.inject_ecc(false, 2);
    EXPECT_EQ(t.ecc_corrected(), 5u);
    EXPECT_EQ(t.ecc_uncorrected(), 1u);
    mtia::TelemetryState s = t.state();
    s.ecc_uncorrected = 0xfffffff0u;
    t.set_state(s);
    t.inject_ecc(true, 0xffff);
    EXPECT_EQ(t.ecc_uncorrected(), 0xffffffffu);
}

TEST(TelemetryModel, EccCountsAreVolatileAndAggregate)
{
    Telemetry t;
    t.set_ecc_aggregate(100, 10);  // what the infoROM held at power-on
    t.inject_ecc(false, 3);
    t.inject_ecc(true, 2);
    EXPECT_EQ(t.ecc_corrected(), 3u);
    EXPECT_EQ(t.ecc_uncorrected(), 2u);
    EXPECT_EQ(t.ecc_corrected_agg(), 103u);
    EXPECT_EQ(t.ecc_uncorrected_agg(), 12u);
    // Clearing the volatile counts keeps the lifetime ones...
    t.clear_ecc(true, false);
    EXPECT_EQ(t.ecc_corrected(), 0u);
    EXPECT_EQ(t.ecc_uncorrected(), 0u);
    EXPECT_EQ(t.ecc_corrected_agg(), 103u);
    EXPECT_EQ(t.ecc_uncorrected_agg(), 12u);
    t.inject_ecc(false, 1);
    EXPECT_EQ(t.ecc_corrected(), 1u);
    EXPECT_EQ(t.ecc_corrected_agg(), 104u);
    // ... and the other way round.
    t.clear_ecc(false, true);
    EXPECT_EQ(t.ecc_corrected(), 1u);
    EXPECT_EQ(t.ecc_corrected_agg(), 0u);
    EXPECT_EQ(t.ecc_uncorrected_agg(), 0u);
    // The aggregate saturates too.
    t.set_ecc_aggregate(0xfffffffeu, 0);
    t.inject_ecc(false, 5);
    EXPECT_EQ(t.ecc_corrected_agg(), 0xffffffffu);
    EXPECT_EQ(t.ecc_corrected(), 6u);
    // And migrates with the rest.
    Telemetry u;
    u.set_state(t.state());
    EXPECT_EQ(u.ecc_corrected_agg(), 0xffffffffu);
    EXPECT_EQ(u.ecc_corrected(), 6u);
}

TEST(TelemetryModel, EnergyHighHalfIsLatchedByTheLowRead)
{
    Telemetry t;
    mtia::TelemetryState s = t.state();
    s.energy_mj = (5ull << 32) | 0xfffffff0u;
    t.set_state(s);
    EXPECT_EQ(t.read_energy_lo(), 0xfffffff0u);
    Drive d{t};
    d.run(1000, 1, 1, 1);               // > 16 mJ more: the low half wraps
    EXPECT_EQ(t.read_energy_hi(), 5u);  // still the latched value
    uint32_t lo = t.read_energy_lo();
    EXPECT_EQ(t.read_energy_hi(), 6u);
    EXPECT_EQ((6ull << 32 | lo) - ((5ull << 32) | 0xfffffff0u), t.energy_mj() - s.energy_mj);
}

TEST(TelemetryModel, StateValidation)
{
    TelemetryParams p;
    Telemetry t(p);
    EXPECT_TRUE(Telemetry::state_valid(t.state(), p));
    mtia::TelemetryState s = t.state();
    s.power_cap_mw = 0;
    EXPECT_FALSE(Telemetry::state_valid(s, p));
    s = t.state();
    s.temp_mc = 400000;
    EXPECT_FALSE(Telemetry::state_valid(s, p));
}

// ---- the registers -------------------------------------------------------

struct Errors {
    std::vector<std::string> msgs;
};

const mtia_core_host_ops kErrOps = {
    nullptr,
    [](void *o, const char *m) { static_cast<Errors *>(o)->msgs.emplace_back(m); },
    nullptr,
    nullptr,
};

class TelemetryRegs : public ::testing::Test {
protected:
    void SetUp() override
    {
        mtia_core_config_default(&cfg);
        cfg.serial = 0x4d54494112345678ull;
        core = mtia_core_new(&cfg, &kErrOps, &err);
        ASSERT_NE(core, nullptr);
    }
    void TearDown() override { mtia_core_free(core); }
    uint32_t rd(uint64_t off) { return static_cast<uint32_t>(mtia_core_mmio_read(core, off, 4)); }
    void wr(uint64_t off, uint32_t v) { mtia_core_mmio_write(core, off, v, 4); }
    uint32_t take_err()
    {
        uint32_t e = rd(MTIA_REG_ERR_STATUS);
        wr(MTIA_REG_ERR_STATUS, e);
        return e;
    }

    mtia_core_config cfg{};
    Errors err;
    mtia_core *core = nullptr;
};

TEST_F(TelemetryRegs, ReadOnlyValuesAtPowerOn)
{
    TelemetryParams p;
    EXPECT_EQ(rd(MTIA_REG_TEL_VERSION), static_cast<uint32_t>(MTIA_TEL_VERSION));
    EXPECT_NEAR(static_cast<int32_t>(rd(MTIA_REG_TEL_TEMP)), 36600, 50);
    EXPECT_EQ(rd(MTIA_REG_TEL_TEMP_SLOWDOWN), 90000u);
    EXPECT_EQ(rd(MTIA_REG_TEL_TEMP_SHUTDOWN), 105000u);
    EXPECT_EQ(rd(MTIA_REG_TEL_POWER_CAP), p.cap_max_mw);
    EXPECT_EQ(rd(MTIA_REG_TEL_POWER_CAP_MIN), p.cap_min_mw);
    EXPECT_EQ(rd(MTIA_REG_TEL_POWER_CAP_MAX), 25000u);
    EXPECT_GE(rd(MTIA_REG_TEL_POWER), 3000u);
    EXPECT_EQ(rd(MTIA_REG_TEL_CLK_MAX), 800u);
    EXPECT_EQ(rd(MTIA_REG_TEL_CLK_MIN), p.clk_min_mhz);
    EXPECT_EQ(rd(MTIA_REG_TEL_CLK), 800u);
    EXPECT_EQ(rd(MTIA_REG_TEL_THROTTLE), 0u);
    EXPECT_EQ(rd(MTIA_REG_TEL_WINDOW_MS), static_cast<uint32_t>(MTIA_TEL_WINDOW_MS));
    EXPECT_EQ(rd(MTIA_REG_TEL_SERIAL_LO), 0x12345678u);
    EXPECT_EQ(rd(MTIA_REG_TEL_SERIAL_HI), 0x4d544941u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR), 0u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_UNCORR), 0u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR_AGG), 0u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_UNCORR_AGG), 0u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CLEAR), 0u);  // write-only
    // The ECC registers above are interface 1.6's.
    EXPECT_GE(mtia_if_version_minor(rd(MTIA_REG_IF_VERSION)), 6u);
    EXPECT_EQ(take_err(), 0u);
    EXPECT_TRUE(err.msgs.empty());
}

TEST_F(TelemetryRegs, WritesToReadOnlyRegistersAreRefused)
{
    for (uint64_t off = MTIA_REG_TEL_VERSION; off <= MTIA_REG_TEL_ECC_UNCORR_AGG; off += 4) {
        if (off == MTIA_REG_TEL_POWER_CAP || off == MTIA_REG_TEL_ECC_INJECT) continue;
        if (off == MTIA_REG_TEL_ENERGY_HI) rd(MTIA_REG_TEL_ENERGY_LO);  // same latch
        uint32_t before = rd(off);
        wr(off, before + 12345);
        EXPECT_EQ(take_err(), MTIA_ERR_BAD_WRITE) << std::hex << off;
        EXPECT_EQ(rd(MTIA_REG_ERR_ADDR), off);
        if (off != MTIA_REG_TEL_TEMP && off != MTIA_REG_TEL_POWER && off != MTIA_REG_TEL_POWER_AVG &&
            off != MTIA_REG_TEL_ENERGY_LO && off != MTIA_REG_TEL_ENERGY_HI && off != MTIA_REG_TEL_UTIL_CC) {
            EXPECT_EQ(rd(off), before) << std::hex << off;  // not live values
        }
    }
    // The rest of the block is unmapped; sub-word accesses are bad sizes.
    rd(MTIA_REG_TEL_ECC_CLEAR + 4);
    EXPECT_EQ(take_err(), MTIA_ERR_BAD_OFFSET);
    wr(MTIA_REG_TEL_END - 4, 1);
    EXPECT_EQ(take_err(), MTIA_ERR_BAD_OFFSET);
    mtia_core_mmio_read(core, MTIA_REG_TEL_TEMP, 2);
    EXPECT_EQ(take_err(), MTIA_ERR_BAD_SIZE);
}

TEST_F(TelemetryRegs, PowerLimitIsReadWriteWithinItsRangeAndSurvivesReset)
{
    wr(MTIA_REG_TEL_POWER_CAP, 12000);
    EXPECT_EQ(rd(MTIA_REG_TEL_POWER_CAP), 12000u);
    EXPECT_EQ(take_err(), 0u);
    wr(MTIA_REG_TEL_POWER_CAP, rd(MTIA_REG_TEL_POWER_CAP_MIN) - 1);
    EXPECT_EQ(take_err(), MTIA_ERR_BAD_WRITE);
    wr(MTIA_REG_TEL_POWER_CAP, rd(MTIA_REG_TEL_POWER_CAP_MAX) + 1);
    EXPECT_EQ(take_err(), MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(rd(MTIA_REG_TEL_POWER_CAP), 12000u);
    ASSERT_EQ(err.msgs.size(), 2u);
    EXPECT_NE(err.msgs[0].find("power limit"), std::string::npos) << err.msgs[0];
    // Board management state: a device reset leaves it.
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    mtia_core_reset(core);
    EXPECT_EQ(rd(MTIA_REG_TEL_POWER_CAP), 12000u);
}

TEST_F(TelemetryRegs, InjectedEccErrorsAreCounted)
{
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_INJECT), 0u);
    wr(MTIA_REG_TEL_ECC_INJECT, 3);
    wr(MTIA_REG_TEL_ECC_INJECT, MTIA_TEL_ECC_INJECT_UNCORR | 2);
    wr(MTIA_REG_TEL_ECC_INJECT, 0x70000 | 1);  // bits 30:16 ignored
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR), 4u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_UNCORR), 2u);
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR), 4u);
    EXPECT_EQ(take_err(), 0u);
}

TEST_F(TelemetryRegs, EccClearZeroesTheChosenCountsAndResetKeepsBoth)
{
    wr(MTIA_REG_TEL_ECC_INJECT, 3);
    wr(MTIA_REG_TEL_ECC_INJECT, MTIA_TEL_ECC_INJECT_UNCORR | 2);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR_AGG), 3u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_UNCORR_AGG), 2u);
    // A device reset clears neither.
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    mtia_core_reset(core);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR), 3u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR_AGG), 3u);
    // Volatile only.
    wr(MTIA_REG_TEL_ECC_CLEAR, MTIA_TEL_ECC_CLEAR_VOLATILE);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR), 0u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_UNCORR), 0u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR_AGG), 3u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_UNCORR_AGG), 2u);
    EXPECT_EQ(take_err(), 0u);
    // An unknown bit: refused, nothing cleared.
    wr(MTIA_REG_TEL_ECC_CLEAR, MTIA_TEL_ECC_CLEAR_AGGREGATE | 4);
    EXPECT_EQ(take_err(), MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR_AGG), 3u);
    ASSERT_FALSE(err.msgs.empty());
    EXPECT_NE(err.msgs.back().find("ECC_CLEAR"), std::string::npos) << err.msgs.back();
    // Aggregate.
    wr(MTIA_REG_TEL_ECC_INJECT, 1);
    wr(MTIA_REG_TEL_ECC_CLEAR, MTIA_TEL_ECC_CLEAR_AGGREGATE);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR), 1u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_CORR_AGG), 0u);
    EXPECT_EQ(rd(MTIA_REG_TEL_ECC_UNCORR_AGG), 0u);
    EXPECT_EQ(take_err(), 0u);
}

TEST_F(TelemetryRegs, FirmwareCanReadButNotWriteTelemetry)
{
    uint32_t v = 0;
    EXPECT_EQ(mtia_core_fw_read(core, MTIA_REG_TEL_CLK_MAX, 4, &v), 0);
    EXPECT_EQ(v, 800u);
    EXPECT_EQ(mtia_core_fw_write(core, MTIA_REG_TEL_POWER_CAP, 4, 10000), -1);
    EXPECT_EQ(rd(MTIA_REG_TEL_POWER_CAP), 25000u);
}

TEST_F(TelemetryRegs, SnapshotCarriesTelemetry)
{
    wr(MTIA_REG_TEL_POWER_CAP, 15000);
    wr(MTIA_REG_TEL_ECC_INJECT, 7);
    auto snap = std::make_unique<mtia_core_snapshot>();
    ASSERT_EQ(mtia_core_save(core, snap.get()), 0);
    EXPECT_EQ(snap->tel_power_cap_mw, 15000u);
    EXPECT_EQ(snap->tel_ecc_corrected, 7u);
    EXPECT_EQ(snap->tel_ecc_agg_present, 1u);
    EXPECT_EQ(snap->tel_ecc_corrected_agg, 7u);
    snap->tel_ecc_corrected_agg = 70;  // as if the board had counted before
    snap->tel_energy_mj = 123456789;

    mtia_core *other = mtia_core_new(&cfg, nullptr, nullptr);
    ASSERT_NE(other, nullptr);
    ASSERT_EQ(mtia_core_load(other, snap.get()), 0);
    EXPECT_EQ(mtia_core_mmio_read(other, MTIA_REG_TEL_POWER_CAP, 4), 15000u);
    EXPECT_EQ(mtia_core_mmio_read(other, MTIA_REG_TEL_ECC_CORR, 4), 7u);
    EXPECT_EQ(mtia_core_mmio_read(other, MTIA_REG_TEL_ECC_CORR_AGG, 4), 70u);
    uint64_t lo = mtia_core_mmio_read(other, MTIA_REG_TEL_ENERGY_LO, 4);
    uint64_t e = mtia_core_mmio_read(other, MTIA_REG_TEL_ENERGY_HI, 4) << 32 | lo;
    EXPECT_GE(e, 123456789u);
    EXPECT_LT(e, 123456789u + 60'000u);  // plus what it drew since (< 1 min)

    // An older stream (no telemetry: zeros) leaves the destination's as is.
    snap->tel_power_cap_mw = 0;
    snap->tel_ecc_corrected = 0;
    mtia_core_mmio_write(other, MTIA_REG_TEL_POWER_CAP, 9000, 4);
    ASSERT_EQ(mtia_core_load(other, snap.get()), 0);
    EXPECT_EQ(mtia_core_mmio_read(other, MTIA_REG_TEL_POWER_CAP, 4), 9000u);
    EXPECT_EQ(mtia_core_mmio_read(other, MTIA_REG_TEL_ECC_CORR, 4), 7u);
    // A version 5 stream (telemetry, no aggregate) keeps the destination's.
    snap->tel_power_cap_mw = 15000;
    snap->tel_ecc_agg_present = 0;
    snap->tel_ecc_corrected_agg = 0;
    ASSERT_EQ(mtia_core_load(other, snap.get()), 0);
    EXPECT_EQ(mtia_core_mmio_read(other, MTIA_REG_TEL_ECC_CORR_AGG, 4), 70u);
    // Impossible values are refused.
    snap->tel_power_cap_mw = 100;
    EXPECT_EQ(mtia_core_load(other, snap.get()), -1);
    mtia_core_free(other);
}

// ---- the core feeds the model --------------------------------------------

// Host memory for the rings: a flat vector at kRam.
constexpr uint64_t kRam = 0x100000;
struct Ram {
    std::vector<uint8_t> mem = std::vector<uint8_t>(1 << 20);
};
const mtia_core_host_ops kRamOps = {
    nullptr,
    nullptr,
    [](void *o, uint64_t a, void *buf, uint64_t len) -> int {
        auto &m = static_cast<Ram *>(o)->mem;
        if (a < kRam || a - kRam + len > m.size()) return -1;
        std::memcpy(buf, &m[a - kRam], len);
        return 0;
    },
    [](void *o, uint64_t a, const void *buf, uint64_t len) -> int {
        auto &m = static_cast<Ram *>(o)->mem;
        if (a < kRam || a - kRam + len > m.size()) return -1;
        std::memcpy(&m[a - kRam], buf, len);
        return 0;
    },
};

TEST(TelemetryWiring, DataEngineWorkShowsAsUtilisationAndPower)
{
    using namespace std::chrono_literals;
    Watchdog dog{60s};
    Ram ram;
    mtia_core_config cfg;
    mtia_core_config_default(&cfg);
    cfg.devmem_bytes = 64ull << 20;
    std::vector<uint8_t> devmem(cfg.devmem_bytes);
    mtia_core *core = mtia_core_new(&cfg, &kRamOps, &ram);
    ASSERT_NE(core, nullptr);
    mtia_core_attach_devmem(core, devmem.data(), devmem.size());
    auto rd = [&](uint64_t off) { return static_cast<uint32_t>(mtia_core_mmio_read(core, off, 4)); };
    auto wr = [&](uint64_t off, uint32_t v) { mtia_core_mmio_write(core, off, v, 4); };
    const uint64_t sq = kRam, cq = kRam + 0x1000;
    wr(MTIA_REG_Q(0, MTIA_Q_SQ_BASE_LO), static_cast<uint32_t>(sq));
    wr(MTIA_REG_Q(0, MTIA_Q_CQ_BASE_LO), static_cast<uint32_t>(cq));
    wr(MTIA_REG_Q(0, MTIA_Q_SIZE), 4 | 4 << 8);  // 16 entries each
    wr(MTIA_REG_Q(0, MTIA_Q_CTRL), MTIA_Q_CTRL_ENABLE);
    ASSERT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);
    const uint32_t idle_mw = rd(MTIA_REG_TEL_POWER);

    // Keep the data engine filling device memory for 1.5 s, one command
    // at a time (the test plays the firmware through the core's hook).
    uint32_t tail = 0, head = 0, phase = 1;
    auto until = std::chrono::steady_clock::now() + 1500ms;
    while (std::chrono::steady_clock::now() < until) {
        mtia_cmd c{};
        c.opcode = MTIA_CMD_FILL;
        c.len = 32ull << 20;
        c.dst = mtia_operand{MTIA_ADDR_DEVMEM, 0};
        std::memcpy(&ram.mem[tail * 64], &c, 64);
        tail = (tail + 1) % 16;
        wr(MTIA_REG_DB(0, MTIA_DB_SQ_TAIL), tail);
        ASSERT_EQ(mtia_core_fw_write(core, MTIA_CC_REG_Q_FETCH, 4, 0), 0);
        ASSERT_EQ(mtia_core_fw_write(core, MTIA_CC_REG_Q_DISPATCH, 4, 0), 0);
        mtia_cqe e{};
        do {
            std::this_thread::sleep_for(100us);
            std::memcpy(&e, &ram.mem[0x1000 + head * 16], 16);
        } while ((e.status & 1) != phase);
        ASSERT_EQ(e.status >> 1, MTIA_CQE_OK);
        head = (head + 1) % 16;
        if (!head) phase ^= 1;
        wr(MTIA_REG_DB(0, MTIA_DB_CQ_HEAD), head);
    }
    // At least one more sample, on the device's 100 ms sampling clock.
    std::this_thread::sleep_for(250ms);
    // Loose bounds: a loaded host stretches the gaps between commands.
    const uint32_t util = rd(MTIA_REG_TEL_UTIL_DMA);
    EXPECT_GT(util, 100u);
    EXPECT_EQ(rd(MTIA_REG_TEL_UTIL_PE), 0u);
    // At least the data engine's share of the power, for that utilisation.
    EXPECT_GT(rd(MTIA_REG_TEL_POWER_AVG), idle_mw + util * 6 / 2);
    EXPECT_GT(static_cast<int32_t>(rd(MTIA_REG_TEL_TEMP)), 36600 + 100);
    // Idle again: utilisation falls to 0 (a window after the last command,
    // once the sampler has run).
    EXPECT_TRUE(wait_until([&] { return rd(MTIA_REG_TEL_UTIL_DMA) == 0; }, 30s));
    EXPECT_LT(rd(MTIA_REG_TEL_POWER), idle_mw + 300);
    mtia_core_free(core);
}

}  // namespace
