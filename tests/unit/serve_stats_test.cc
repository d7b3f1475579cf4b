// SPDX-License-Identifier: MIT
// mtia-serve's statistics (Triton's statistics extension, serve_metrics.h)
// without a device: counts and durations after requests, failures in "fail",
// a dynamically batched run of N requests counted as one execution (the
// request queue and batcher with a fake Runner), the host phases a runner
// reports, a failed run not counted, and the $model_stat JSON's field names.
#include <gtest/gtest.h>

#include <chrono>

#include "serve_batcher.h"
#include "serve_metrics.h"

using namespace mtia_serve;
using namespace std::chrono_literals;

namespace {

RequestPtr req(uint32_t samples)
{
    auto r = std::make_shared<Request>();
    r->samples = samples;
    return r;
}

// Completes each request; reports the host times it is given.
class FakeRunner : public Runner {
public:
    explicit FakeRunner(HostTimes host = {}, bool fail = false) : report_(host), fail_(fail) {}
    void run(const std::vector<RequestPtr> &) override
    {
        host_ = report_;
        if (fail_) throw std::runtime_error("device said no");
    }

private:
    HostTimes report_;
    bool fail_;
};

uint64_t now_ms()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// Runs rs (queued before the batcher starts: one batch if they fit) through
// a batcher wired to m as the repository wires it, and records each request
// as the request path does.
void serve(Metrics &m, std::vector<RequestPtr> &rs, uint32_t max_batch, std::unique_ptr<Runner> runner)
{
    RequestQueue q(64, max_batch, 0us);
    for (auto &r : rs) ASSERT_EQ(q.push(r), Status::Ok);
    q.close();
    {
        Batcher b(q, std::move(runner),
                  [&](uint32_t samples, const BatchTimes &t, bool ok) { m.batch("m", "1", samples, t, ok); });
    }
    for (auto &r : rs) {
        r->finished.wait();
        m.request("m", "1", r->status == Status::Ok ? "success" : "error", 0.004, r->queue_seconds, r->samples,
                  r->compute);
    }
}

}  // namespace

TEST(ServeStats, CountsAndDurationsAfterRequests)
{
    Metrics m;
    EXPECT_EQ(m.stats("resnet18", "1").last_inference_ms, 0u);
    const uint64_t before = now_ms();
    for (int i = 0; i < 5; i++) m.request("resnet18", "1", "success", 0.003, 0.001, 2, {0.0001, 0.0015, 0.0002});
    m.request("resnet18", "1", "bad_request", 0.0005, -1);
    m.request("resnet18", "1", "queue_full", 0.0001, -1);
    const uint64_t after = now_ms();
    const ModelStats s = m.stats("resnet18", "1");
    EXPECT_GE(s.last_inference_ms, before);
    EXPECT_LE(s.last_inference_ms, after);
    EXPECT_EQ(s.inference_count, 10u);  // batch items, not requests
    EXPECT_EQ(s.success.count, 5u);
    EXPECT_EQ(s.success.ns, 5 * 3000000u);
    EXPECT_EQ(s.fail.count, 2u);
    EXPECT_EQ(s.fail.ns, 600000u);
    EXPECT_EQ(s.queue.count, 5u);
    EXPECT_EQ(s.queue.ns, 5 * 1000000u);
    EXPECT_EQ(s.compute_input.ns, 5 * 100000u);
    EXPECT_EQ(s.compute_infer.ns, 5 * 1500000u);
    EXPECT_EQ(s.compute_output.count, 5u);
    EXPECT_EQ(s.compute_output.ns, 5 * 200000u);
    EXPECT_EQ(s.execution_count, 0u);  // batches are recorded by the batcher
    // Another version or model is counted apart.
    EXPECT_EQ(m.stats("resnet18", "2").success.count, 0u);
    // The same record as /metrics.
    EXPECT_NE(m.render().find("mtia_serve_requests_total{model=\"resnet18\",version=\"1\",status=\"success\"} 5"),
              std::string::npos);
}

// Four requests in one dynamically batched run: one execution of batch size
// 4, four inferences, each request with its batch's compute phases.
TEST(ServeStats, BatchedRequestsAreOneExecution)
{
    Metrics m;
    std::vector<RequestPtr> rs = {req(1), req(1), req(1), req(1)};
    serve(m, rs, 4, std::make_unique<FakeRunner>());
    std::vector<RequestPtr> more = {req(2), req(1)};
    serve(m, more, 4, std::make_unique<FakeRunner>());
    const ModelStats s = m.stats("m", "1");
    EXPECT_EQ(s.execution_count, 2u);
    EXPECT_EQ(s.inference_count, 7u);
    EXPECT_EQ(s.success.count, 6u);
    EXPECT_EQ(s.compute_infer.count, 6u);
    ASSERT_EQ(s.batches.size(), 2u);
    EXPECT_EQ(s.batches.at(4)[1].count, 1u);
    EXPECT_EQ(s.batches.at(3)[1].count, 1u);
    // A runner that reports no host time: the whole run is compute_infer.
    EXPECT_EQ(s.compute_input.ns, 0u);
    EXPECT_EQ(s.compute_output.ns, 0u);
    EXPECT_EQ(s.batches.at(4)[0].ns, 0u);
    EXPECT_EQ(s.compute_infer.ns, 4 * s.batches.at(4)[1].ns + 2 * s.batches.at(3)[1].ns);
    // Every request of a batch carries the same phases.
    EXPECT_EQ(rs[0]->compute.infer, rs[3]->compute.infer);
}

// A runner's host times split the run; they never exceed it.
TEST(ServeStats, RunnerHostTimesSplitTheRun)
{
    Metrics m;
    std::vector<RequestPtr> rs = {req(1)};
    serve(m, rs, 1, std::make_unique<FakeRunner>(Runner::HostTimes{1e6, 1e6}));
    const BatchTimes &t = rs[0]->compute;
    EXPECT_GT(t.input, 0);
    EXPECT_LT(t.input, 1e6);  // clamped to the run's wall time
    EXPECT_EQ(t.output, 0);
    EXPECT_EQ(t.infer, 0);
    const ModelStats s = m.stats("m", "1");
    EXPECT_EQ(s.compute_input.ns, s.batches.at(1)[0].ns);
    EXPECT_GT(s.compute_input.ns, 0u);
}

// A failed run is no execution; its requests count in "fail".
TEST(ServeStats, FailedRunCountsInFail)
{
    Metrics m;
    std::vector<RequestPtr> rs = {req(1), req(1)};
    serve(m, rs, 2, std::make_unique<FakeRunner>(Runner::HostTimes{}, true));
    const ModelStats s = m.stats("m", "1");
    EXPECT_EQ(rs[0]->status, Status::Internal);
    EXPECT_EQ(s.execution_count, 0u);
    EXPECT_EQ(s.inference_count, 0u);
    EXPECT_EQ(s.success.count, 0u);
    EXPECT_EQ(s.fail.count, 2u);
    EXPECT_EQ(s.fail.ns, 2 * 4000000u);
    EXPECT_EQ(s.queue.count, 0u);
    EXPECT_TRUE(s.batches.empty());
    // /metrics still sees the run's batch size.
    EXPECT_NE(m.render().find("mtia_serve_batch_size_count{model=\"m\",version=\"1\"} 1"), std::string::npos);
}

TEST(ServeStats, JsonFieldNames)
{
    Metrics m;
    m.request("dlrm", "2", "success", 0.002, 0.0005, 3, {0.0001, 0.001, 0.0002});
    m.batch("dlrm", "2", 3, {0.0001, 0.001, 0.0002});
    const nlohmann::json j = m.stats_json("dlrm", "2");
    std::vector<std::string> keys;
    for (const auto &[k, v] : j.items()) keys.push_back(k);
    EXPECT_EQ(keys, (std::vector<std::string>{"batch_stats", "execution_count", "inference_count", "inference_stats",
                                              "last_inference", "name", "version"}));
    EXPECT_EQ(j["name"], "dlrm");
    EXPECT_EQ(j["version"], "2");  // a string, as in Triton
    EXPECT_TRUE(j["last_inference"].is_number_unsigned());
    EXPECT_EQ(j["inference_count"], 3);
    EXPECT_EQ(j["execution_count"], 1);
    keys.clear();
    for (const auto &[k, v] : j["inference_stats"].items()) {
        keys.push_back(k);
        EXPECT_TRUE(v.contains("count") && v.contains("ns") && v.size() == 2) << k;
    }
    EXPECT_EQ(keys, (std::vector<std::string>{"compute_infer", "compute_input", "compute_output", "fail", "queue",
                                              "success"}));
    EXPECT_EQ(j["inference_stats"]["success"]["ns"], 2000000);
    EXPECT_EQ(j["inference_stats"]["queue"]["ns"], 500000);
    ASSERT_EQ(j["batch_stats"].size(), 1u);
    const auto &b = j["batch_stats"][0];
    EXPECT_EQ(b["batch_size"], 3);
    EXPECT_EQ(b["compute_infer"]["count"], 1);
    EXPECT_EQ(b["compute_infer"]["ns"], 1000000);
    EXPECT_EQ(b["compute_output"]["ns"], 200000);
    // No request yet: zeros, an empty batch list.
    const nlohmann::json z = m.stats_json("dlrm", "1");
    EXPECT_EQ(z["last_inference"], 0);
    EXPECT_EQ(z["inference_stats"]["success"]["count"], 0);
    EXPECT_TRUE(z["batch_stats"].is_array() && z["batch_stats"].empty());
}
