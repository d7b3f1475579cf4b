// SPDX-License-Identifier: MIT
// mtia-exporter's exposition (tools/mtia-exporter/metrics_text.h) from
// made-up device statuses: every family's HELP and TYPE once, one series per
// device (and engine, error type, process) with the join labels, values in
// base units, no series for a value the driver does not report, label
// values escaped; and Prometheus' own checker (promtool check metrics, from
// Debian's prometheus package) accepts it.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <sstream>

#include "metrics_text.h"

namespace {

using mtia::exporter::DeviceSample;

DeviceSample sample(int index, const std::string &bus)
{
    DeviceSample d;
    mtia::mgmt::Status &s = d.status;
    s.info.index = index;
    s.info.name = "MTIA v1 (emulated)";
    s.info.driver_version = "0.1.0";
    s.uuid = "MTIA-0123456789abcdef-" + std::to_string(index);
    s.pci.bus_id = bus;
    s.pci.link_gen = 4;
    s.pci.link_width = 16;
    s.tel.serial = "0123456789abcdef";
    s.tel.fw_status = "ready";
    s.tel.fw_version = "0.1.0";
    s.tel.temp_c = 41.5;
    s.tel.power_w = 7.25;
    s.tel.power_avg_w = 6.5;
    s.tel.power_cap_w = 25;
    s.tel.power_cap_min_w = 6;
    s.tel.power_cap_max_w = 25;
    s.tel.energy_j = 1234.5;
    s.tel.clock_mhz = 800;
    s.tel.clock_max_mhz = 800;
    s.tel.throttle_mask = 0;
    s.tel.util_pe = 37;
    s.tel.util_dma = 5;
    s.tel.util_cc = 1;
    s.tel.mem_used = 64ull << 20;
    s.tel.mem_total = 1ull << 30;
    s.tel.ecc_corrected = 2;
    s.tel.ecc_uncorrected = 0;
    s.tel.ecc_corrected_aggregate = 41;
    s.tel.ecc_uncorrected_aggregate = 3;
    s.tel.reset_count = 1;
    mtia::mgmt::Process p;
    p.pid = 4242;
    p.name = "mtia-run";
    p.device_mem = 32ull << 20;
    p.compute_ns = 1500000000;
    p.dma_ns = 250000000;
    d.processes.push_back(p);
    return d;
}

// The lines of @text that start with @prefix.
std::vector<std::string> lines_with(const std::string &text, const std::string &prefix)
{
    std::vector<std::string> r;
    std::istringstream in(text);
    for (std::string l; std::getline(in, l);)
        if (l.rfind(prefix, 0) == 0) r.push_back(l);
    return r;
}

TEST(Exporter, OneSeriesPerDeviceInBaseUnits)
{
    const std::string t = mtia::exporter::render({sample(0, "0000:00:03.0"), sample(1, "0000:01:00.0")}, false, 0);
    EXPECT_EQ(lines_with(t, "# TYPE mtia_temperature_celsius gauge").size(), 1u);
    EXPECT_EQ(lines_with(t, "# HELP mtia_temperature_celsius ").size(), 1u);
    const auto temps = lines_with(t, "mtia_temperature_celsius{");
    ASSERT_EQ(temps.size(), 2u);
    EXPECT_EQ(temps[0],
              "mtia_temperature_celsius{device=\"0\",uuid=\"MTIA-0123456789abcdef-0\",pci_bus_id=\"0000:00:"
              "03.0\",model=\"MTIA v1 (emulated)\"} 41.5");
    EXPECT_NE(t.find("mtia_clock_hertz{device=\"1\""), std::string::npos);
    EXPECT_NE(t.find("} 800000000\n"), std::string::npos);  // 800 MHz in hertz
    EXPECT_NE(t.find("engine=\"pe\"} 0.37"), std::string::npos);
    EXPECT_NE(t.find("mtia_memory_total_bytes{device=\"0\""), std::string::npos);
    EXPECT_NE(t.find("} 1073741824\n"), std::string::npos);
    EXPECT_NE(t.find("type=\"corrected\"} 2\n"), std::string::npos);
    EXPECT_EQ(lines_with(t, "# TYPE mtia_ecc_errors_aggregate_total counter").size(), 1u);
    const auto agg = lines_with(t, "mtia_ecc_errors_aggregate_total{");
    ASSERT_FALSE(agg.empty());
    EXPECT_NE(agg[0].find("type=\"corrected\"} 41"), std::string::npos) << agg[0];
    EXPECT_EQ(lines_with(t, "# TYPE mtia_energy_joules_total counter").size(), 1u);
    EXPECT_EQ(lines_with(t, "mtia_exporter_devices 2").size(), 1u);
    EXPECT_EQ(lines_with(t, "mtia_exporter_scrape_errors 0").size(), 1u);
    EXPECT_EQ(t.find("mtia_process_"), std::string::npos) << "processes only when asked";
}

TEST(Exporter, UnreportedValuesHaveNoSeries)
{
    DeviceSample d = sample(0, "0000:00:03.0");
    d.status.tel.temp_c.reset();
    d.status.tel.util_dma.reset();
    const std::string t = mtia::exporter::render({d}, false, 1);
    EXPECT_TRUE(lines_with(t, "mtia_temperature_celsius{").empty());
    EXPECT_EQ(lines_with(t, "# TYPE mtia_temperature_celsius gauge").size(), 1u);  // the family stays
    EXPECT_EQ(t.find("engine=\"dma\""), std::string::npos);
    EXPECT_NE(t.find("engine=\"pe\""), std::string::npos);
    EXPECT_EQ(lines_with(t, "mtia_exporter_scrape_errors 1").size(), 1u);
}

TEST(Exporter, ProcessesAndEscapedLabels)
{
    DeviceSample d = sample(0, "0000:00:03.0");
    d.processes[0].name = "a \"quoted\"\\name\nx";
    const std::string t = mtia::exporter::render({d}, true, 0);
    const auto mem = lines_with(t, "mtia_process_memory_bytes{");
    ASSERT_EQ(mem.size(), 1u);
    EXPECT_NE(mem[0].find("pid=\"4242\",process_name=\"a \\\"quoted\\\"\\\\name\\nx\"} 33554432"), std::string::npos)
        << mem[0];
    EXPECT_EQ(lines_with(t, "mtia_process_engine_seconds_total{").size(), 2u);
    EXPECT_NE(t.find("engine=\"compute\"} 1.5\n"), std::string::npos);
}

// Prometheus' checker on a full exposition, processes included.
TEST(Exporter, PromtoolAcceptsIt)
{
    const std::string t = mtia::exporter::render({sample(0, "0000:00:03.0"), sample(1, "0000:01:00.0")}, true, 0);
    char path[] = "/tmp/mtia-exporter-test-XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(write(fd, t.data(), t.size()), ssize_t(t.size()));
    close(fd);
    const std::string cmd = std::string("promtool check metrics < ") + path + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[256];
    while (fgets(buf, sizeof buf, p)) out += buf;
    const int rc = pclose(p);
    unlink(path);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out, "") << "promtool's remarks";
}

}  // namespace
