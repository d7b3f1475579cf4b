// SPDX-License-Identifier: MIT
// mtia-smi --query fields: list parsing, --format, CSV and JSON output.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "smi_fields.h"
#include "smi_test_devices.h"

namespace {

using mtia::smi::parse_field_list;
using mtia::smi::parse_format;
using smi_test::two_devices;

std::string names(const std::vector<const mtia::smi::Field *> &fs)
{
    std::string s;
    for (auto *f : fs) s += (s.empty() ? "" : "|") + f->name;
    return s;
}

TEST(SmiFields, FieldNamesAreUniqueAndDescribed)
{
    std::set<std::string> seen;
    for (const auto &f : mtia::smi::all_fields()) {
        EXPECT_TRUE(seen.insert(f.name).second) << f.name;
        EXPECT_FALSE(f.help.empty()) << f.name;
        EXPECT_EQ(f.name.find_first_of(", "), std::string::npos) << f.name;
    }
    std::string list = mtia::smi::format_field_list();
    for (const auto &f : mtia::smi::all_fields()) EXPECT_NE(list.find(f.name + " "), std::string::npos);
    // Columns: name padded to the longest, then the unit, then the description.
    size_t at = list.find("\npower.draw ");
    ASSERT_NE(at, std::string::npos) << list;
    std::string line = list.substr(at + 1, list.find('\n', at + 1) - at - 1);
    EXPECT_NE(line.find("  W      board power now"), std::string::npos) << line;
}

TEST(SmiFields, ParsesListsWithSpacesAndEmptyItems)
{
    EXPECT_EQ(names(parse_field_list("index,name")), "index|name");
    EXPECT_EQ(names(parse_field_list(" index , power.draw ,, memory.used,")), "index|power.draw|memory.used");
    EXPECT_EQ(names(parse_field_list("index,index")), "index|index");
}

TEST(SmiFields, UnknownFieldIsNamed)
{
    try {
        parse_field_list("index,temperature.bogus,name");
        FAIL() << "accepted an unknown field";
    } catch (const mtia::smi::UnknownField &e) {
        EXPECT_EQ(e.name(), "temperature.bogus");
        EXPECT_STREQ(e.what(), "Field \"temperature.bogus\" is not a valid field to query.");  // nvidia-smi's words
    }
    EXPECT_THROW(parse_field_list(""), std::invalid_argument);
    EXPECT_THROW(parse_field_list(" , "), std::invalid_argument);
    EXPECT_THROW(parse_field_list("Index"), mtia::smi::UnknownField);  // names are exact
}

TEST(SmiFields, FormatSpec)
{
    auto f = parse_format("csv");
    EXPECT_FALSE(f.json);
    EXPECT_TRUE(f.header);
    EXPECT_TRUE(f.units);
    f = parse_format("csv,noheader,nounits");
    EXPECT_FALSE(f.header);
    EXPECT_FALSE(f.units);
    f = parse_format("csv, nounits");
    EXPECT_TRUE(f.header);
    EXPECT_FALSE(f.units);
    EXPECT_TRUE(parse_format("json").json);
    EXPECT_THROW(parse_format("xml"), std::invalid_argument);
    EXPECT_THROW(parse_format("csv,noheaders"), std::invalid_argument);
    EXPECT_THROW(parse_format("json,noheader"), std::invalid_argument);
    EXPECT_THROW(parse_format(""), std::invalid_argument);
}

TEST(SmiFields, CsvWithHeaderAndUnits)
{
    auto fields = parse_field_list(
        "index,pci.bus_id,temperature.die,power.draw,power.limit,memory.used,memory.total,"
        "utilization.dma,clocks.current,ecc.errors.corrected,firmware.version");
    std::string csv = mtia::smi::format_query_csv(two_devices(), fields, parse_format("csv"), "ts");
    EXPECT_EQ(csv,
              "index, pci.bus_id, temperature.die [C], power.draw [W], power.limit [W], "
              "memory.used [MiB], memory.total [MiB], utilization.dma [%], clocks.current [MHz], "
              "ecc.errors.corrected, firmware.version\n"
              "0, 0000:00:03.0, [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A], [N/A]\n"
              "1, 0000:00:04.0, 47.2 C, 9.20 W, 25.00 W, 64 MiB, 2047 MiB, 97 %, 800 MHz, 3, 1.2.3\n");
}

TEST(SmiFields, CsvNoHeaderNoUnits)
{
    auto fields = parse_field_list("index,power.draw.average,utilization.dma,memory.free,timestamp");
    std::string csv =
        mtia::smi::format_query_csv(two_devices(), fields, parse_format("csv,noheader,nounits"), "2026/11/26 10:00:00");
    EXPECT_EQ(csv,
              "0, [N/A], [N/A], [N/A], 2026/11/26 10:00:00\n"
              "1, 8.99, 97, 1983, 2026/11/26 10:00:00\n");
    std::string nounits = mtia::smi::format_query_csv(two_devices(), fields, parse_format("csv,nounits"), "t");
    EXPECT_EQ(nounits.substr(0, nounits.find('\n')),
              "index, power.draw.average, utilization.dma, memory.free, timestamp");
}

TEST(SmiFields, CsvQuotesTextThatNeedsIt)
{
    auto devs = two_devices();
    devs[1].tel.throttle = "power,thermal";
    devs[1].info.name = "say \"hi\"";
    auto fields = parse_field_list("throttle_reasons,name");
    std::string csv = mtia::smi::format_query_csv({devs[1]}, fields, parse_format("csv,noheader"), "");
    EXPECT_EQ(csv, "\"power,thermal\", \"say \"\"hi\"\"\"\n");
}

TEST(SmiFields, JsonHasNumbersAndNulls)
{
    auto fields = parse_field_list(
        "index,name,temperature.die,power.draw,energy.consumption,utilization.pe,memory.reserved,"
        "pcie.link.gen.max,serial");
    auto j = nlohmann::json::parse(mtia::smi::format_query_json(two_devices(), fields, "ts"));
    ASSERT_TRUE(j.is_array());
    ASSERT_EQ(j.size(), 2u);
    const auto &d = j[1];
    EXPECT_EQ(d["index"], 1);
    EXPECT_EQ(d["name"], "MTIA v1 (emulated)");
    EXPECT_DOUBLE_EQ(d["temperature.die"].get<double>(), 47.2);  // as CSV shows it
    EXPECT_DOUBLE_EQ(d["power.draw"].get<double>(), 9.2);
    EXPECT_DOUBLE_EQ(d["energy.consumption"].get<double>(), 1234.568);
    EXPECT_EQ(d["utilization.pe"], 0);
    EXPECT_EQ(d["memory.reserved"], 1);
    EXPECT_EQ(d["pcie.link.gen.max"], 4);
    EXPECT_EQ(d["serial"], "4d544941e1c3ddf8");
    EXPECT_TRUE(j[0]["temperature.die"].is_null());
    EXPECT_TRUE(j[0]["serial"].is_null());
    // Keys in the order asked.
    std::vector<std::string> keys;
    auto ordered = nlohmann::ordered_json::parse(mtia::smi::format_query_json(two_devices(), fields, "ts"));
    for (auto it = ordered[0].begin(); it != ordered[0].end(); ++it) keys.push_back(it.key());
    EXPECT_EQ(keys.front(), "index");
    EXPECT_EQ(keys.back(), "serial");
    EXPECT_EQ(mtia::smi::format_query_json({}, fields, "ts"), "[]\n");
}

TEST(SmiFields, CsvAndJsonAgree)
{
    std::string all;
    for (const auto &f : mtia::smi::all_fields()) all += f.name + ",";
    auto fields = parse_field_list(all);
    auto devs = two_devices();
    std::string csv = mtia::smi::format_query_csv(devs, fields, parse_format("csv,noheader,nounits"), "ts");
    auto j = nlohmann::json::parse(mtia::smi::format_query_json(devs, fields, "ts"));
    std::string line = csv.substr(csv.find('\n') + 1);
    line.pop_back();
    size_t i = 0, start = 0;
    for (const auto *f : fields) {
        size_t end = line.find(", ", start);
        std::string cell = line.substr(start, end == std::string::npos ? end : end - start);
        const auto &v = j[1][f->name];
        if (v.is_null()) {
            EXPECT_EQ(cell, "[N/A]") << f->name;
        } else if (v.is_string()) {
            EXPECT_EQ(cell, v.get<std::string>()) << f->name;
        } else {
            EXPECT_DOUBLE_EQ(std::stod(cell), v.get<double>()) << f->name;
        }
        start = end + 2;
        i++;
    }
    EXPECT_EQ(i, mtia::smi::all_fields().size());
}

// nvidia-smi's names give nvidia-smi's text: the device has one clock, PE
// grid utilisation is utilization.gpu, the throttle mask is NVML's.
TEST(SmiFields, NvidiaNamesAndFormats)
{
    auto devs = two_devices();
    devs[1].tel.throttle_mask = 0x4;
    auto fields = parse_field_list(
        "count,uuid,pci.domain,pci.bus,pci.device,pci.device_id,vbios_version,temperature.gpu,utilization.gpu,"
        "utilization.memory,memory.used,power.draw,enforced.power.limit,power.min_limit,clocks.current.sm,"
        "clocks.max.memory,clocks_throttle_reasons.active,clocks_throttle_reasons.sw_power_cap,"
        "clocks_throttle_reasons.hw_thermal_slowdown,ecc.errors.corrected.volatile.total,"
        "ecc.errors.uncorrected.aggregate.total,pstate");
    std::string csv = mtia::smi::format_query_csv({devs[1]}, fields, parse_format("csv"), "");
    EXPECT_EQ(csv,
              "count, uuid, pci.domain, pci.bus, pci.device, pci.device_id, vbios_version, temperature.gpu, "
              "utilization.gpu [%], utilization.memory [%], memory.used [MiB], power.draw [W], "
              "enforced.power.limit [W], power.min_limit [W], clocks.current.sm [MHz], clocks.max.memory [MHz], "
              "clocks_throttle_reasons.active, clocks_throttle_reasons.sw_power_cap, "
              "clocks_throttle_reasons.hw_thermal_slowdown, ecc.errors.corrected.volatile.total, "
              "ecc.errors.uncorrected.aggregate.total, pstate\n"
              "2, MTIA-4d544941-e1c3-ddf8-0000-000000000000, 0x0000, 0x00, 0x04, 0x0A011D9B, 1.2.3, 47, 0 %, 97 %, "
              "64 MiB, 9.20 W, 25.00 W, 6.00 W, 800 MHz, 800 MHz, 0x0000000000000004, Active, Not Active, 3, 2, "
              "P0\n");
    // Not reported: [N/A], as nvidia-smi prints it.
    std::string na = mtia::smi::format_query_csv({devs[0]}, parse_field_list("temperature.gpu,pstate,uuid"),
                                                 parse_format("csv,noheader"), "");
    EXPECT_EQ(na, "[N/A], [N/A], [N/A]\n");
}

TEST(SmiFields, ComputeAppsCsv)
{
    auto devs = two_devices();
    auto procs = smi_test::two_processes();
    auto fields = mtia::smi::parse_app_field_list("pid,process_name,used_memory,gpu_uuid,gpu_bus_id");
    std::string csv = mtia::smi::format_apps_csv(devs, procs, fields, parse_format("csv"), "");
    EXPECT_EQ(csv,
              "pid, process_name, used_gpu_memory [MiB], gpu_uuid, gpu_bus_id\n"
              "77, python3, 0 MiB, [N/A], 0000:00:03.0\n"
              "4242, mtia-run, 64 MiB, MTIA-4d544941-e1c3-ddf8-0000-000000000000, 0000:00:04.0\n");
    // -i 0: only that device's processes.
    std::string one = mtia::smi::format_apps_csv({devs[0]}, procs, fields, parse_format("csv,noheader,nounits"), "");
    EXPECT_EQ(one, "77, python3, 0, [N/A], 0000:00:03.0\n");
    EXPECT_THROW(mtia::smi::parse_app_field_list("pid,gpu_temp"), mtia::smi::UnknownField);
}

TEST(SmiFields, HelpQueryGpuListsEveryField)
{
    std::string help = mtia::smi::format_help_query_gpu();
    EXPECT_EQ(help.rfind("List of valid properties to query for the switch \"--query-gpu=\":", 0), 0u);
    for (const auto &f : mtia::smi::all_fields()) EXPECT_NE(help.find("\"" + f.name + "\"\n"), std::string::npos);
    for (const auto &f : mtia::smi::all_app_fields()) {
        EXPECT_NE(help.find("\"" + f.name + "\"\n"), std::string::npos);
    }
}

}  // namespace
