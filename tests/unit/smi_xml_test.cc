// SPDX-License-Identifier: MIT
// mtia-smi -q -x: nvidia-smi's document shape, valid against the DTD in
// the repo (xmllint --dtdvalid), N/A for what was not reported, escaping.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "smi_test_devices.h"
#include "smi_xml.h"

namespace {

// xmllint's exit status validating @xml against the repo's DTD; -1 without xmllint.
int dtd_validate(const std::string &xml, std::string *errors)
{
    if (std::system("command -v xmllint >/dev/null 2>&1") != 0) return -1;
    char path[] = "/tmp/smi-xml-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return -1;
    ::close(fd);
    std::ofstream(path) << xml;
    std::string cmd = std::string("xmllint --noout --dtdvalid ") + MTIA_SMI_DTD_PATH + " " + path + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    char buf[512];
    while (p && fgets(buf, sizeof(buf), p)) *errors += buf;
    int st = p ? pclose(p) : -1;
    std::remove(path);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(SmiXml, ValidAgainstTheDtd)
{
    std::string xml =
        mtia::smi::format_xml(smi_test::two_devices(), smi_test::two_processes(), "Sun Dec  6 22:00:00 2026");
    std::string errors;
    int rc = dtd_validate(xml, &errors);
    if (rc == -1) GTEST_SKIP() << "no xmllint (libxml2-utils)";
    EXPECT_EQ(rc, 0) << errors << xml;
    // And a document the DTD must refuse, so the check can fail.
    std::string bad = xml;
    bad.replace(bad.find("<product_name>"), 14, "<productname>");
    bad.replace(bad.find("</product_name>"), 15, "</productname>");
    errors.clear();
    EXPECT_NE(dtd_validate(bad, &errors), 0);
}

TEST(SmiXml, NvidiaShapeAndValues)
{
    std::string xml = mtia::smi::format_xml(smi_test::two_devices(), smi_test::two_processes(), "ts");
    EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" ?>\n<!DOCTYPE mtia_smi_log SYSTEM \"mtia_smi_log.dtd\">\n"
                        "<mtia_smi_log>\n\t<timestamp>ts</timestamp>\n\t<driver_version>0.1.0</driver_version>\n",
                        0),
              0u)
        << xml;
    for (const char *s :
         {"<attached_gpus>2</attached_gpus>", "<gpu id=\"0000:00:04.0\">",
          "<uuid>MTIA-4d544941-e1c3-ddf8-0000-000000000000</uuid>", "<used>64 MiB</used>", "<gpu_util>0 %</gpu_util>",
          "<memory_util>97 %</memory_util>", "<gpu_temp>47 C</gpu_temp>", "<power_draw>9.20 W</power_draw>",
          "<current_power_limit>25.00 W</current_power_limit>", "<graphics_clock>800 MHz</graphics_clock>",
          "<pid>4242</pid>", "<process_name>mtia-run</process_name>", "<used_memory>64 MiB</used_memory>",
          "<clocks_throttle_reason_sw_power_cap>Not Active</clocks_throttle_reason_sw_power_cap>",
          "<pci_device_id>0A011D9B</pci_device_id>", "<current_link_width>8x</current_link_width>",
          "<ecc_errors>\n\t\t\t<volatile>\n\t\t\t\t<total_corrected>3</total_corrected>\n"
          "\t\t\t\t<total_uncorrected>0</total_uncorrected>\n\t\t\t</volatile>\n\t\t\t<aggregate>\n"
          "\t\t\t\t<total_corrected>40</total_corrected>\n\t\t\t\t<total_uncorrected>2</total_uncorrected>\n"
          "\t\t\t</aggregate>\n\t\t</ecc_errors>"}) {
        EXPECT_NE(xml.find(s), std::string::npos) << s;
    }
    // Device 0 reports nothing: N/A, like nvidia-smi.
    std::string d0 = xml.substr(xml.find("<gpu id=\"0000:00:03.0\">"));
    d0 = d0.substr(0, d0.find("</gpu>"));
    EXPECT_NE(d0.find("<gpu_temp>N/A</gpu_temp>"), std::string::npos) << d0;
    EXPECT_NE(d0.find("<power_draw>N/A</power_draw>"), std::string::npos);
    EXPECT_NE(d0.find("<uuid>N/A</uuid>"), std::string::npos);
}

TEST(SmiXml, TextIsEscaped)
{
    auto devs = smi_test::two_devices();
    devs[0].info.name = "a<b>&\"c\"";
    std::string xml = mtia::smi::format_xml(devs, {}, "ts");
    EXPECT_NE(xml.find("<product_name>a&lt;b&gt;&amp;&quot;c&quot;</product_name>"), std::string::npos);
}

}  // namespace
