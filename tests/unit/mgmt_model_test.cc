// SPDX-License-Identifier: MIT
// The management API (include/mtia/mtia_mgmt.h, .hpp) against the device
// core's telemetry model: a real Telemetry (mtia_telemetry.h) driven on
// made-up time through scenarios (idle, each engine loaded, a power limit
// that throttles for power, a hot board that throttles for temperature, ECC
// errors, a reset), its registers (mtia_telemetry_regs.h, the core's own
// mapping) shown as the driver's hwmon and sysfs files show them, from one
// table (kDriverFiles), and every telemetry call checked against the
// model's own state in the API's units (mW, mJ, millidegrees, MHz, percent
// of the model's per mille, NVML throttle bits). What the model does not
// cover (malformed files, a missing device, processes, PCI and memory) is
// mgmt_api_test.cc's, on the hand-written tree of mgmt_fake_sysfs.h, which
// this fixture starts from with every telemetry file taken out.
#include <gtest/gtest.h>

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "mgmt_fake_sysfs.h"
#include "mtia/mtia_mgmt.h"
#include "mtia/mtia_mgmt.hpp"
#include "mtia/mtia_spec.h"
#include "mtia_telemetry.h"
#include "mtia_telemetry_regs.h"

namespace {

namespace fs = std::filesystem;
using mtia::Engine;
using mtia::EngineBusy;
using mtia::Telemetry;
using mtia::TelemetryParams;

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSerial = 0x4d544941c0ffee01ull;
constexpr const char *kHwmon = "hwmon/hwmon3/";  // the fake tree's hwmon named "mtia"

// How the driver shows a register (driver/mtia_hwmon.c, driver/mtia_sysfs.c).
enum class Shown {
    kSigned,        // hwmon temperature: millidegrees, signed
    kAsIs,          // the register's number
    kMilliToMicro,  // hwmon power in µW of a mW register; a write is µW, rounded to mW
    kEnergyMicro,   // energy1_input: ENERGY_LO then ENERGY_HI, mJ -> µJ
    kPercent,       // sysfs *_busy_percent: per mille -> percent, rounded
    kThrottle,      // sysfs throttle_reasons: "none", "power", "thermal", "power,thermal"
    kSerial,        // sysfs serial: SERIAL_HI, SERIAL_LO as 16 hex digits
};

struct DriverFile {
    std::string path;  // under the PCI function's directory
    uint64_t reg;      // MTIA_REG_TEL_*
    Shown shown;
    bool writable;  // root writes it (hwmon's write goes to the register)
};

// Every telemetry file the driver makes: the one place the fixture knows
// file names, registers and units.
const DriverFile kDriverFiles[] = {
    {std::string(kHwmon) + "temp1_input", MTIA_REG_TEL_TEMP, Shown::kSigned, false},
    {std::string(kHwmon) + "temp1_max", MTIA_REG_TEL_TEMP_SLOWDOWN, Shown::kSigned, false},
    {std::string(kHwmon) + "temp1_crit", MTIA_REG_TEL_TEMP_SHUTDOWN, Shown::kSigned, false},
    {std::string(kHwmon) + "power1_input", MTIA_REG_TEL_POWER, Shown::kMilliToMicro, false},
    {std::string(kHwmon) + "power1_average", MTIA_REG_TEL_POWER_AVG, Shown::kMilliToMicro, false},
    {std::string(kHwmon) + "power1_average_interval", MTIA_REG_TEL_WINDOW_MS, Shown::kAsIs, false},
    {std::string(kHwmon) + "power1_cap", MTIA_REG_TEL_POWER_CAP, Shown::kMilliToMicro, true},
    {std::string(kHwmon) + "power1_cap_min", MTIA_REG_TEL_POWER_CAP_MIN, Shown::kMilliToMicro, false},
    {std::string(kHwmon) + "power1_cap_max", MTIA_REG_TEL_POWER_CAP_MAX, Shown::kMilliToMicro, false},
    {std::string(kHwmon) + "energy1_input", MTIA_REG_TEL_ENERGY_LO, Shown::kEnergyMicro, false},
    {"mtia/serial", MTIA_REG_TEL_SERIAL_LO, Shown::kSerial, false},
    {"mtia/pe_busy_percent", MTIA_REG_TEL_UTIL_PE, Shown::kPercent, false},
    {"mtia/dma_busy_percent", MTIA_REG_TEL_UTIL_DMA, Shown::kPercent, false},
    {"mtia/cc_busy_percent", MTIA_REG_TEL_UTIL_CC, Shown::kPercent, false},
    {"mtia/clock_mhz", MTIA_REG_TEL_CLK, Shown::kAsIs, false},
    {"mtia/clock_max_mhz", MTIA_REG_TEL_CLK_MAX, Shown::kAsIs, false},
    {"mtia/clock_min_mhz", MTIA_REG_TEL_CLK_MIN, Shown::kAsIs, false},
    {"mtia/throttle_reasons", MTIA_REG_TEL_THROTTLE, Shown::kThrottle, false},
    {"mtia/ecc_corrected", MTIA_REG_TEL_ECC_CORR, Shown::kAsIs, false},
    {"mtia/ecc_uncorrected", MTIA_REG_TEL_ECC_UNCORR, Shown::kAsIs, false},
    {"mtia/ecc_corrected_aggregate", MTIA_REG_TEL_ECC_CORR_AGG, Shown::kAsIs, false},
    {"mtia/ecc_uncorrected_aggregate", MTIA_REG_TEL_ECC_UNCORR_AGG, Shown::kAsIs, false},
};

class MgmtModel : public mgmt_test::FakeSysfs {
protected:
    void SetUp() override
    {
        FakeSysfs::SetUp();
        for (const auto &f : kDriverFiles) fs::remove(pci / f.path);  // no hand-written value stays
        power_on(TelemetryParams{});
    }

    // A new board with @p, at time 0.
    void power_on(const TelemetryParams &p)
    {
        now_ = 0;
        busy_ = EngineBusy{};
        tel_ = std::make_unique<Telemetry>(p, now_, busy_);
        present();
    }
    Telemetry &tel() { return *tel_; }

    // @ms of made-up time, each engine busy the given fraction of it, a
    // sample every MTIA_TEL_SAMPLE_MS as the core takes them; then the
    // driver's files show the result.
    void run(uint64_t ms, double cc, double dma, double pe)
    {
        const double u[mtia::kNumEngines] = {cc, dma, pe};
        const uint64_t tick = tel_->params().sample_ns;
        for (uint64_t i = 0; i < ms * kMs / tick; i++) {
            now_ += tick;
            for (unsigned e = 0; e < mtia::kNumEngines; e++) busy_.ns[e] += static_cast<uint64_t>(u[e] * tick);
            tel_->advance(now_, busy_);
        }
        present();
    }

    uint32_t reg(uint64_t off)
    {
        uint32_t v = 0;
        EXPECT_TRUE(mtia::telemetry_read(*tel_, kSerial, off, &v)) << std::hex << off;
        return v;
    }

    // The driver's show side: every file of kDriverFiles from the registers
    // now, and the driver's own reset count and reset attribute.
    void present()
    {
        for (const auto &f : kDriverFiles) put(pci / f.path, shown(f));
        put(pci / "mtia" / "reset_count", std::to_string(resets_));
        put(pci / "mtia" / "reset", "");
        put(pci / "mtia" / "ecc_clear", "");
    }
    std::string shown(const DriverFile &f)
    {
        const uint32_t v = reg(f.reg);
        switch (f.shown) {
            case Shown::kSigned:
                return std::to_string(static_cast<int32_t>(v));
            case Shown::kAsIs:
                return std::to_string(v);
            case Shown::kMilliToMicro:
                return std::to_string(uint64_t{v} * 1000);
            case Shown::kEnergyMicro:
                return std::to_string((uint64_t{reg(MTIA_REG_TEL_ENERGY_HI)} << 32 | v) * 1000);
            case Shown::kPercent:
                return std::to_string((v + 5) / 10);
            case Shown::kThrottle: {
                const bool power = v & MTIA_TEL_THROTTLE_POWER, thermal = v & MTIA_TEL_THROTTLE_THERMAL;
                if (!power && !thermal) return "none";
                return std::string(power ? "power" : "") + (power && thermal ? "," : "") + (thermal ? "thermal" : "");
            }
            case Shown::kSerial: {
                char buf[17];
                std::snprintf(buf, sizeof(buf), "%08x%08x", reg(MTIA_REG_TEL_SERIAL_HI), v);
                return buf;
            }
        }
        return "";
    }

    // The driver's store side, for what the API wrote: a writable file that
    // no longer shows its register goes to it (hwmon: µW rounded to mW);
    // "1" in reset resets the device (the board, and so the model, runs on);
    // "volatile" or "aggregate" in ecc_clear writes ECC_CLEAR.
    void take_writes()
    {
        for (const auto &f : kDriverFiles) {
            if (!f.writable) continue;
            const std::string text = read(pci / f.path);
            if (text == shown(f)) continue;
            ASSERT_EQ(f.shown, Shown::kMilliToMicro) << f.path;
            const uint64_t uw = std::stoull(text);
            ASSERT_EQ(mtia::telemetry_write(*tel_, f.reg, static_cast<uint32_t>((uw + 500) / 1000)),
                      mtia::TelemetryWrite::kOk)
                << f.path << " = " << text;
        }
        if (read(pci / "mtia" / "reset") == "1") resets_++;
        const std::string clear = read(pci / "mtia" / "ecc_clear");
        if (!clear.empty()) {
            ASSERT_TRUE(clear == "volatile" || clear == "aggregate") << clear;
            ASSERT_EQ(
                mtia::telemetry_write(*tel_, MTIA_REG_TEL_ECC_CLEAR,
                                      clear == "volatile" ? MTIA_TEL_ECC_CLEAR_VOLATILE : MTIA_TEL_ECC_CLEAR_AGGREGATE),
                mtia::TelemetryWrite::kOk);
        }
        present();
    }

    static std::string read(const fs::path &p)
    {
        std::ifstream f(p);
        std::string s;
        std::getline(f, s);
        return s;
    }

    mtia_mgmt_device *dev()
    {
        mtia_mgmt_device *d = nullptr;
        EXPECT_EQ(mtia_mgmt_device_get_by_index(0, &d), MTIA_SUCCESS) << mtia_last_error();
        return d;
    }

    // NVML's bits for the model's throttle state.
    uint64_t nvml_reasons() const
    {
        uint64_t r = MTIA_MGMT_THROTTLE_NONE;
        if (tel_->throttle() & MTIA_TEL_THROTTLE_POWER) r |= MTIA_MGMT_THROTTLE_SW_POWER_CAP;
        if (tel_->throttle() & MTIA_TEL_THROTTLE_THERMAL)
            r |= MTIA_MGMT_THROTTLE_HW_SLOWDOWN | MTIA_MGMT_THROTTLE_HW_THERMAL_SLOWDOWN;
        return r;
    }

    // Every telemetry call of the C face, and the C++ face's Telemetry,
    // against the model's state in the API's units.
    void expect_api_is_the_model()
    {
        const Telemetry &t = *tel_;
        const TelemetryParams &p = t.params();
        mtia_mgmt_device *d = dev();
        ASSERT_NE(d, nullptr);

        char buf[MTIA_MGMT_STRING_LEN];
        char want_serial[17];
        std::snprintf(want_serial, sizeof(want_serial), "%016" PRIx64, kSerial);
        ASSERT_EQ(mtia_mgmt_device_get_serial(d, buf, sizeof(buf)), MTIA_SUCCESS);
        EXPECT_STREQ(buf, want_serial);
        ASSERT_EQ(mtia_mgmt_device_get_uuid(d, buf, sizeof(buf)), MTIA_SUCCESS);
        EXPECT_EQ(buf, mtia::mgmt::uuid_from_serial(want_serial));
        mtia_mgmt_device *by = nullptr;
        EXPECT_EQ(mtia_mgmt_device_get_by_serial(want_serial, &by), MTIA_SUCCESS);
        EXPECT_EQ(by, d);

        int32_t mc = 0;
        ASSERT_EQ(mtia_mgmt_device_get_temperature(d, MTIA_MGMT_TEMP_DIE, &mc), MTIA_SUCCESS);
        EXPECT_EQ(mc, t.temp_mc());
        ASSERT_EQ(mtia_mgmt_device_get_temperature(d, MTIA_MGMT_TEMP_SLOWDOWN, &mc), MTIA_SUCCESS);
        EXPECT_EQ(mc, std::lround(p.slowdown_c * 1000));
        ASSERT_EQ(mtia_mgmt_device_get_temperature(d, MTIA_MGMT_TEMP_SHUTDOWN, &mc), MTIA_SUCCESS);
        EXPECT_EQ(mc, std::lround(p.shutdown_c * 1000));

        uint32_t mw = 0, lo = 0, hi = 0;
        ASSERT_EQ(mtia_mgmt_device_get_power_usage(d, &mw), MTIA_SUCCESS);
        EXPECT_EQ(mw, t.power_mw());
        ASSERT_EQ(mtia_mgmt_device_get_power_average(d, &mw), MTIA_SUCCESS);
        EXPECT_EQ(mw, t.power_avg_mw());
        ASSERT_EQ(mtia_mgmt_device_get_power_limit(d, &mw), MTIA_SUCCESS);
        EXPECT_EQ(mw, t.power_cap_mw());
        ASSERT_EQ(mtia_mgmt_device_get_power_limit_constraints(d, &lo, &hi), MTIA_SUCCESS);
        EXPECT_EQ(lo, p.cap_min_mw);
        EXPECT_EQ(hi, p.cap_max_mw);
        uint64_t mj = 0;
        ASSERT_EQ(mtia_mgmt_device_get_energy(d, &mj), MTIA_SUCCESS);
        EXPECT_EQ(mj, t.energy_mj());

        uint32_t mhz = 0;
        ASSERT_EQ(mtia_mgmt_device_get_clock(d, MTIA_MGMT_CLOCK_CURRENT, &mhz), MTIA_SUCCESS);
        EXPECT_EQ(mhz, t.clk_mhz());
        ASSERT_EQ(mtia_mgmt_device_get_clock(d, MTIA_MGMT_CLOCK_MAX, &mhz), MTIA_SUCCESS);
        EXPECT_EQ(mhz, p.clk_max_mhz);
        ASSERT_EQ(mtia_mgmt_device_get_clock(d, MTIA_MGMT_CLOCK_MIN, &mhz), MTIA_SUCCESS);
        EXPECT_EQ(mhz, p.clk_min_mhz);
        uint64_t reasons = ~0ull;
        ASSERT_EQ(mtia_mgmt_device_get_throttle_reasons(d, &reasons), MTIA_SUCCESS);
        EXPECT_EQ(reasons, nvml_reasons());

        // Percent of the model's per mille, to the nearest (the driver rounds).
        mtia_mgmt_utilization u{};
        u.struct_size = sizeof(u);
        ASSERT_EQ(mtia_mgmt_device_get_utilization(d, &u), MTIA_SUCCESS);
        EXPECT_NEAR(u.pe * 10.0, t.util_permille(Engine::kPe), 5.0);
        EXPECT_NEAR(u.dma * 10.0, t.util_permille(Engine::kDma), 5.0);
        EXPECT_NEAR(u.cc * 10.0, t.util_permille(Engine::kCc), 5.0);

        uint64_t corr = 0, uncorr = 0;
        ASSERT_EQ(mtia_mgmt_device_get_ecc_errors(d, &corr, &uncorr), MTIA_SUCCESS);
        EXPECT_EQ(corr, t.ecc_corrected());
        EXPECT_EQ(uncorr, t.ecc_uncorrected());
        ASSERT_EQ(mtia_mgmt_device_get_ecc_error_counts(d, MTIA_MGMT_ECC_VOLATILE, &corr, &uncorr), MTIA_SUCCESS);
        EXPECT_EQ(corr, t.ecc_corrected());
        EXPECT_EQ(uncorr, t.ecc_uncorrected());
        ASSERT_EQ(mtia_mgmt_device_get_ecc_error_counts(d, MTIA_MGMT_ECC_AGGREGATE, &corr, &uncorr), MTIA_SUCCESS);
        EXPECT_EQ(corr, t.ecc_corrected_agg());
        EXPECT_EQ(uncorr, t.ecc_uncorrected_agg());
        uint32_t resets = ~0u;
        ASSERT_EQ(mtia_mgmt_device_get_reset_count(d, &resets), MTIA_SUCCESS);
        EXPECT_EQ(resets, resets_);

        // The C++ face: the same values in its units (C, W, J).
        const auto all = mtia::mgmt::Device::all();
        ASSERT_EQ(all.size(), 1u);
        const mtia::mgmt::Telemetry tc = all[0].status().tel;
        ASSERT_TRUE(tc.temp_c && tc.power_w && tc.power_avg_w && tc.power_cap_w && tc.energy_j);
        EXPECT_DOUBLE_EQ(*tc.temp_c, t.temp_mc() / 1000.0);
        EXPECT_DOUBLE_EQ(*tc.power_w, t.power_mw() / 1000.0);
        EXPECT_DOUBLE_EQ(*tc.power_avg_w, t.power_avg_mw() / 1000.0);
        EXPECT_DOUBLE_EQ(*tc.power_cap_w, t.power_cap_mw() / 1000.0);
        EXPECT_NEAR(*tc.energy_j, t.energy_mj() / 1000.0, 1e-9);
        EXPECT_EQ(tc.clock_mhz, t.clk_mhz());
        EXPECT_EQ(tc.throttle_mask, nvml_reasons());
        ASSERT_TRUE(tc.util_pe && tc.util_dma && tc.util_cc);
        EXPECT_EQ(*tc.util_pe, u.pe);
        EXPECT_EQ(*tc.util_dma, u.dma);
        EXPECT_EQ(*tc.util_cc, u.cc);
        EXPECT_EQ(tc.ecc_corrected, t.ecc_corrected());
        EXPECT_EQ(tc.ecc_uncorrected, t.ecc_uncorrected());
        EXPECT_EQ(tc.ecc_corrected_aggregate, t.ecc_corrected_agg());
        EXPECT_EQ(tc.ecc_uncorrected_aggregate, t.ecc_uncorrected_agg());
        EXPECT_EQ(tc.serial, want_serial);
        EXPECT_EQ(tc.reset_count, resets_);
    }

    std::unique_ptr<Telemetry> tel_;
    uint64_t now_ = 0;
    EngineBusy busy_{};
    unsigned resets_ = 0;
};

TEST_F(MgmtModel, IdleBoard)
{
    run(30'000, 0, 0, 0);
    expect_api_is_the_model();
    EXPECT_EQ(tel().throttle(), 0u);
    EXPECT_EQ(tel().clk_mhz(), tel().params().clk_max_mhz);
    EXPECT_GT(tel().energy_mj(), 0u);
}

TEST_F(MgmtModel, EachEngineLoadedAlone)
{
    // One engine at a time: a utilisation or power read from the wrong
    // register, or in the wrong unit, differs from the model's.
    for (unsigned e = 0; e < mtia::kNumEngines; e++) {
        SCOPED_TRACE("engine " + std::to_string(e));
        power_on(TelemetryParams{});
        run(5'000, e == 0, e == 1, e == 2);
        EXPECT_GE(tel().util_permille(static_cast<Engine>(e)), 990u);
        expect_api_is_the_model();
    }
    // All three: the board at its TDP (25 W at 800 MHz), heating up.
    power_on(TelemetryParams{});
    run(10'000, 1, 1, 1);
    EXPECT_GT(tel().power_mw(), 24'000u);
    expect_api_is_the_model();
}

TEST_F(MgmtModel, PowerLimitThrottlesForPowerAndIsLifted)
{
    run(2'000, 0, 0, 1);
    mtia_mgmt_device *d = dev();
    const uint32_t cap_min = tel().params().cap_min_mw, cap_max = tel().params().cap_max_mw;
    ASSERT_EQ(mtia_mgmt_device_set_power_limit(d, cap_min), MTIA_SUCCESS) << mtia_last_error();
    take_writes();
    EXPECT_EQ(tel().power_cap_mw(), cap_min);  // the write reached the model in its unit
    run(5'000, 0, 0, 1);
    EXPECT_EQ(tel().throttle(), MTIA_TEL_THROTTLE_POWER);
    EXPECT_LT(tel().clk_mhz(), tel().params().clk_max_mhz);
    expect_api_is_the_model();
    // Out of range: refused by the API, nothing reaches the model.
    EXPECT_EQ(mtia_mgmt_device_set_power_limit(d, cap_min - 1), MTIA_ERROR_INVALID_ARGUMENT);
    take_writes();
    EXPECT_EQ(tel().power_cap_mw(), cap_min);
    ASSERT_EQ(mtia_mgmt_device_set_power_limit(d, cap_max), MTIA_SUCCESS) << mtia_last_error();
    take_writes();
    run(2'000, 0, 0, 1);
    EXPECT_EQ(tel().throttle(), 0u);
    expect_api_is_the_model();
    // A limit that is not a whole watt (nvidia-smi -pl 12.5).
    ASSERT_EQ(mtia_mgmt_device_set_power_limit(d, 12'345), MTIA_SUCCESS) << mtia_last_error();
    take_writes();
    EXPECT_EQ(tel().power_cap_mw(), 12'345u);
    run(5'000, 1, 1, 1);
    expect_api_is_the_model();
}

TEST_F(MgmtModel, HotBoardThrottlesForTemperature)
{
    TelemetryParams p;
    p.ambient_c = 50;  // at TDP the die would settle at 105 C
    power_on(p);
    run(60'000, 1, 1, 1);
    ASSERT_EQ(tel().throttle(), MTIA_TEL_THROTTLE_THERMAL);
    EXPECT_GT(tel().temp_mc(), std::lround(p.slowdown_c * 1000));
    expect_api_is_the_model();
    // Both at once: a low limit on the hot board.
    ASSERT_EQ(mtia::telemetry_write(tel(), MTIA_REG_TEL_POWER_CAP, 20'000), mtia::TelemetryWrite::kOk);
    run(300, 1, 1, 1);
    expect_api_is_the_model();
    run(30'000, 0, 0, 0);  // cools down
    EXPECT_EQ(tel().throttle(), 0u);
    expect_api_is_the_model();
}

TEST_F(MgmtModel, EccErrorsAreCounted)
{
    // As debugfs ecc_inject writes them.
    ASSERT_EQ(mtia::telemetry_write(tel(), MTIA_REG_TEL_ECC_INJECT, 7), mtia::TelemetryWrite::kOk);
    ASSERT_EQ(mtia::telemetry_write(tel(), MTIA_REG_TEL_ECC_INJECT, MTIA_TEL_ECC_INJECT_UNCORR | 2),
              mtia::TelemetryWrite::kOk);
    run(200, 0, 0, 0);
    EXPECT_EQ(tel().ecc_corrected(), 7u);
    EXPECT_EQ(tel().ecc_uncorrected(), 2u);
    expect_api_is_the_model();
}

TEST_F(MgmtModel, EccCountsClearAsNvmlClearsThem)
{
    mtia_mgmt_device *d = dev();
    tel().set_ecc_aggregate(40, 4);  // the infoROM's, from earlier power-ons
    ASSERT_EQ(mtia::telemetry_write(tel(), MTIA_REG_TEL_ECC_INJECT, 5), mtia::TelemetryWrite::kOk);
    ASSERT_EQ(mtia::telemetry_write(tel(), MTIA_REG_TEL_ECC_INJECT, MTIA_TEL_ECC_INJECT_UNCORR | 1),
              mtia::TelemetryWrite::kOk);
    run(200, 0, 0, 0);
    EXPECT_EQ(tel().ecc_corrected_agg(), 45u);
    expect_api_is_the_model();

    // Volatile: those go to 0, the lifetime counts stay.
    ASSERT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d, MTIA_MGMT_ECC_VOLATILE), MTIA_SUCCESS) << mtia_last_error();
    take_writes();
    EXPECT_EQ(tel().ecc_corrected(), 0u);
    EXPECT_EQ(tel().ecc_uncorrected(), 0u);
    EXPECT_EQ(tel().ecc_corrected_agg(), 45u);
    EXPECT_EQ(tel().ecc_uncorrected_agg(), 5u);
    expect_api_is_the_model();

    // Aggregate, through the C++ face.
    ASSERT_EQ(mtia::telemetry_write(tel(), MTIA_REG_TEL_ECC_INJECT, 2), mtia::TelemetryWrite::kOk);
    mtia::mgmt::Device::by_index(0).clear_ecc_errors(mtia::mgmt::EccCounter::kAggregate);
    take_writes();
    EXPECT_EQ(tel().ecc_corrected(), 2u);
    EXPECT_EQ(tel().ecc_corrected_agg(), 0u);
    EXPECT_EQ(tel().ecc_uncorrected_agg(), 0u);
    expect_api_is_the_model();

    // Not a counter type.
    EXPECT_EQ(mtia_mgmt_device_clear_ecc_error_counts(d, static_cast<mtia_mgmt_ecc_counter>(7)),
              MTIA_ERROR_INVALID_ARGUMENT);
    uint64_t v = 0;
    EXPECT_EQ(mtia_mgmt_device_get_ecc_error_counts(d, static_cast<mtia_mgmt_ecc_counter>(7), &v, &v),
              MTIA_ERROR_INVALID_ARGUMENT);
}

TEST_F(MgmtModel, AResetIsCountedAndTheBoardRunsOn)
{
    mtia_mgmt_device *d = dev();
    ASSERT_EQ(mtia_mgmt_device_set_power_limit(d, 10'000), MTIA_SUCCESS) << mtia_last_error();
    take_writes();
    run(3'000, 0, 1, 1);
    const uint64_t energy = tel().energy_mj();
    ASSERT_EQ(mtia_mgmt_device_reset(d), MTIA_SUCCESS) << mtia_last_error();
    take_writes();
    EXPECT_EQ(resets_, 1u);
    run(1'000, 0, 0, 0);
    EXPECT_GT(tel().energy_mj(), energy);
    EXPECT_EQ(tel().power_cap_mw(), 10'000u);  // the limit is the board's
    expect_api_is_the_model();
}

}  // namespace
