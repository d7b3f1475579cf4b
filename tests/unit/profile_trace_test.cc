// SPDX-License-Identifier: MIT
// mtia::write_chrome_trace (runtime/profile.cc) on made-up runs: the Chrome
// trace-event JSON Perfetto loads, track by track.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <map>
#include <sstream>

#include "mtia/mtia.hpp"

namespace {

mtia::RunProfile run(uint64_t submit, uint64_t dev0)
{
    mtia::RunProfile r;
    r.model = "m";
    r.host_submit_ns = submit;
    r.host_done_ns = submit + 50000;
    r.device_start_ns = dev0;
    r.device_end_ns = dev0 + 30000;
    r.model_ns = 7000;
    r.throttle_ns = 12000;
    r.ops = {{"conv \"1\"", "Conv", dev0 + 1000, dev0 + 21000, 5000, 4096},
             {"", "Gemm", dev0 + 21500, dev0 + 30000, 2000, 512}};
    return r;
}

std::vector<nlohmann::json> spans(const nlohmann::json &j, int pid, const char *cat)
{
    std::vector<nlohmann::json> v;
    for (const auto &e : j["traceEvents"])
        if (e["ph"] == "X" && e["pid"] == pid && e["cat"] == cat) v.push_back(e);
    return v;
}

TEST(ChromeTrace, TracksSpansAndArgs)
{
    std::ostringstream os;
    mtia::write_chrome_trace(os, {run(1000000, 5000000), run(1100000, 9000000)});
    const auto j = nlohmann::json::parse(os.str());
    ASSERT_TRUE(j["traceEvents"].is_array());
    std::map<int, std::string> procs;
    for (const auto &e : j["traceEvents"]) {
        ASSERT_TRUE(e["pid"].is_number_integer());
        if (e["ph"] == "M" && e["name"] == "process_name") procs[e["pid"]] = e["args"]["name"];
        if (e["ph"] == "X") {
            EXPECT_TRUE(e["ts"].is_number());
            EXPECT_TRUE(e["dur"].is_number());
            EXPECT_GE(e["dur"].get<double>(), 0.0);
        }
    }
    EXPECT_EQ(procs, (std::map<int, std::string>{{1, "host (libmtia)"}, {2, "MTIA device"}, {3, "MTIA v1 model"}}));

    // Host: a span per run, from the first submit, µs.
    const auto host = spans(j, 1, "run");
    ASSERT_EQ(host.size(), 2u);
    EXPECT_EQ(host[0]["ts"].get<double>(), 0.0);
    EXPECT_EQ(host[0]["dur"].get<double>(), 50.0);
    EXPECT_EQ(host[1]["ts"].get<double>(), 100.0);
    EXPECT_EQ(host[1]["name"], "m run 1");
    // Device: the program from the host span's start, ops inside it at their
    // offsets on the device clock.
    const auto prog = spans(j, 2, "program"), ops = spans(j, 2, "op");
    ASSERT_EQ(prog.size(), 2u);
    ASSERT_EQ(ops.size(), 4u);
    EXPECT_EQ(prog[1]["ts"].get<double>(), 100.0);
    EXPECT_EQ(prog[1]["dur"].get<double>(), 30.0);
    EXPECT_EQ(prog[1]["args"]["ops_device_ns"], 28500u);
    EXPECT_EQ(prog[1]["args"]["throttle_ns"], 12000u);
    EXPECT_EQ(ops[2]["ts"].get<double>(), 101.0);
    EXPECT_EQ(ops[2]["dur"].get<double>(), 20.0);
    EXPECT_EQ(ops[2]["name"], "conv \"1\"");
    EXPECT_EQ(ops[2]["args"]["type"], "Conv");
    EXPECT_EQ(ops[2]["args"]["bytes"], 4096u);
    EXPECT_EQ(ops[2]["args"]["model_ns"], 5000u);
    EXPECT_EQ(ops[2]["args"]["device_ns"], 20000u);
    EXPECT_EQ(ops[3]["name"], "Gemm");  // no node name: the type
    EXPECT_EQ(ops[3]["ts"].get<double>(), 121.5);
    // Model: the estimate, ops end to end.
    const auto mprog = spans(j, 3, "program"), mops = spans(j, 3, "op");
    ASSERT_EQ(mops.size(), 4u);
    EXPECT_EQ(mprog[0]["dur"].get<double>(), 7.0);
    EXPECT_EQ(mops[0]["ts"].get<double>(), 0.0);
    EXPECT_EQ(mops[1]["ts"].get<double>(), 5.0);
    EXPECT_EQ(mops[1]["dur"].get<double>(), 2.0);
}

TEST(ChromeTrace, EmptyAndUnwritable)
{
    std::ostringstream os;
    mtia::write_chrome_trace(os, {});
    EXPECT_TRUE(nlohmann::json::parse(os.str())["traceEvents"].is_array());
    try {
        mtia::write_chrome_trace("/nonexistent/dir/trace.json", {run(0, 0)});
        FAIL() << "no error";
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), MTIA_ERROR_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("cannot write profile '/nonexistent/dir/trace.json'"), std::string::npos);
    }
}

}  // namespace
