// SPDX-License-Identifier: MIT
// mtia-smi dmon and pmon: nvidia-smi's column layout, metric groups, and
// per-process busy percent from the engine times of two samples.
#include <gtest/gtest.h>

#include <sstream>

#include "smi_mon.h"
#include "smi_test_devices.h"

namespace {

std::vector<std::string> words(const std::string &line)
{
    std::istringstream in(line);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
}

TEST(SmiMon, DmonDefaultLayout)
{
    auto devs = smi_test::two_devices();
    std::string g = mtia::smi::dmon_groups("");
    EXPECT_EQ(g, "puc");
    EXPECT_EQ(mtia::smi::dmon_header(g),
              "# gpu   pwr gtemp mtemp    sm   mem   enc   dec  mclk  pclk\n"
              "# Idx     W     C     C     %     %     %     %   MHz   MHz\n");
    EXPECT_EQ(mtia::smi::dmon_row(devs[1], g), "    1     9    47     -     0    97     -     -   800   800\n");
    EXPECT_EQ(mtia::smi::dmon_row(devs[0], g), "    0     -     -     -     -     -     -     -     -     -\n");
}

TEST(SmiMon, DmonGroupsInNvidiaOrder)
{
    auto devs = smi_test::two_devices();
    std::string g = mtia::smi::dmon_groups("emu");
    EXPECT_EQ(g, "ume");
    auto head = words(mtia::smi::dmon_header(g).substr(0, mtia::smi::dmon_header(g).find('\n')));
    EXPECT_EQ(head,
              (std::vector<std::string>{"#", "gpu", "sm", "mem", "enc", "dec", "fb", "bar1", "sbecc", "dbecc", "pci"}));
    EXPECT_EQ(words(mtia::smi::dmon_row(devs[1], g)),
              (std::vector<std::string>{"1", "0", "97", "-", "-", "64", "-", "3", "0", "-"}));
    EXPECT_THROW(mtia::smi::dmon_groups("pz"), std::invalid_argument);
}

TEST(SmiMon, PmonLayoutAndBusyPercent)
{
    auto devs = smi_test::two_devices();
    auto before = smi_test::two_processes();
    auto now = before;
    for (auto &p : now) {
        if (p.pid == 4242) {
            p.dma_ns = *p.dma_ns + 250000000;  // 0.25 s of data engine in 0.5 s
            p.compute_ns = 500000000;          // newly reported: no earlier time to subtract
        }
    }
    EXPECT_EQ(mtia::smi::pmon_header(),
              "# gpu        pid  type    sm   mem   enc   dec   command\n"
              "# Idx          #   C/G     %     %     %     %   name\n");
    // First sample: no busy times yet.
    EXPECT_EQ(mtia::smi::pmon_rows(devs, before, {}, 0.5),
              "    0         77     C     -     -     -     -   python3\n"
              "    1       4242     C     -     -     -     -   mtia-run\n");
    EXPECT_EQ(mtia::smi::pmon_rows(devs, now, before, 0.5),
              "    0         77     C     -     -     -     -   python3\n"
              "    1       4242     C     -    50     -     -   mtia-run\n");
    // A device without processes gets a line of dashes.
    EXPECT_EQ(mtia::smi::pmon_rows({devs[1]}, {}, {}, 1), "    1          -     -     -     -     -     -   -\n");
}

}  // namespace
