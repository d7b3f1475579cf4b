// SPDX-License-Identifier: MIT
// mtia-serve's device-free parts: JSON tensor data, config.json parsing, the
// request queue's batching (max batch, delay window, capacity, timeouts,
// close/drain) and dim-0 concat/split, with a fake Runner.
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>

#include "serve_batcher.h"
#include "serve_config.h"
#include "serve_metrics.h"
#include "serve_tensor.h"

using namespace mtia_serve;
using namespace std::chrono_literals;

namespace {

RequestPtr req(uint32_t samples, std::vector<uint8_t> data = {})
{
    auto r = std::make_shared<Request>();
    r->samples = samples;
    Tensor t;
    t.name = "x";
    t.dtype = mtia::DType::U8;
    t.shape = {static_cast<int64_t>(samples), 2};
    t.data = std::move(data);
    r->inputs.push_back(std::move(t));
    return r;
}

// Records batch sizes; echoes input 0 (doubled) as the output, via concat/split.
class EchoRunner : public Runner {
public:
    explicit EchoRunner(std::vector<uint32_t> &sizes) : sizes_(sizes) {}
    void run(const std::vector<RequestPtr> &batch) override
    {
        uint32_t n = 0;
        for (const auto &r : batch) n += r->samples;
        sizes_.push_back(n);
        std::vector<uint8_t> all = concat_dim0(batch, 0);
        for (auto &b : all) b = static_cast<uint8_t>(b * 2);
        split_dim0(batch, all.data(), 2, "y", mtia::DType::U8, {2});
    }
    std::vector<uint32_t> &sizes_;
};

}  // namespace

TEST(ServeTensor, JsonDataNestedAndFlat)
{
    Tensor t;
    t.dtype = mtia::DType::F32;
    t.shape = {2, 2};
    tensor_data_from_json(nlohmann::json::parse("[[1, 2.5], [3, -4]]"), t);
    ASSERT_EQ(t.data.size(), 16u);
    float f[4];
    std::memcpy(f, t.data.data(), 16);
    EXPECT_EQ(f[1], 2.5f);
    EXPECT_EQ(f[3], -4.0f);
    EXPECT_EQ(tensor_data_to_json(t), nlohmann::json::parse("[1.0, 2.5, 3.0, -4.0]"));
    t.dtype = mtia::DType::I64;
    tensor_data_from_json(nlohmann::json::parse("[1, 2, 3, -9000000000]"), t);
    EXPECT_EQ(tensor_data_to_json(t), nlohmann::json::parse("[1, 2, 3, -9000000000]"));
}

TEST(ServeTensor, JsonDataErrors)
{
    Tensor t;
    t.dtype = mtia::DType::I32;
    t.shape = {3};
    EXPECT_THROW(tensor_data_from_json(nlohmann::json::parse("[1, 2]"), t), std::invalid_argument);
    EXPECT_THROW(tensor_data_from_json(nlohmann::json::parse("[1, 2, 1.5]"), t), std::invalid_argument);
    EXPECT_THROW(tensor_data_from_json(nlohmann::json::parse("[1, 2, 3000000000]"), t), std::invalid_argument);
    EXPECT_THROW(tensor_data_from_json(nlohmann::json::parse("{\"a\": 1}"), t), std::invalid_argument);
    t.dtype = mtia::DType::Bool;
    EXPECT_THROW(tensor_data_from_json(nlohmann::json::parse("[1, 0, 1]"), t), std::invalid_argument);
    mtia::DType d;
    EXPECT_TRUE(parse_datatype("INT64", &d));
    EXPECT_EQ(d, mtia::DType::I64);
    EXPECT_FALSE(parse_datatype("FP64", &d));
    EXPECT_EQ(element_count({2, -1}), -1);
}

TEST(ServeConfig, DefaultsAndKeys)
{
    ModelConfig c = parse_model_config("{}");
    EXPECT_EQ(c.max_batch, 0u);
    EXPECT_TRUE(c.devices.empty());
    EXPECT_FALSE(c.all_versions);
    c = parse_model_config(R"({"max_batch": 8, "max_queue_delay_us": 500, "queue_capacity": 4,
        "instances_per_device": 2, "devices": [0, 1], "versions": [1, 3], "dynamic_batching": false})");
    EXPECT_EQ(c.max_batch, 8u);
    EXPECT_EQ(c.max_queue_delay_us, 500u);
    EXPECT_EQ(c.queue_capacity, 4u);
    EXPECT_EQ(c.instances_per_device, 2u);
    EXPECT_EQ(c.devices, (std::vector<int>{0, 1}));
    EXPECT_EQ(c.versions, (std::vector<int64_t>{1, 3}));
    EXPECT_FALSE(c.dynamic_batching);
    EXPECT_TRUE(parse_model_config(R"({"versions": "all"})").all_versions);
}

TEST(ServeConfig, ErrorsNameTheKey)
{
    auto msg = [](const char *text) {
        try {
            parse_model_config(text);
        } catch (const std::invalid_argument &e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    EXPECT_NE(msg(R"({"max_bach": 8})").find("unknown key 'max_bach'"), std::string::npos);
    EXPECT_NE(msg(R"({"queue_capacity": 0})").find("'queue_capacity'"), std::string::npos);
    EXPECT_NE(msg(R"({"max_batch": -1})").find("'max_batch'"), std::string::npos);
    EXPECT_NE(msg(R"({"devices": []})").find("'devices'"), std::string::npos);
    EXPECT_NE(msg(R"({"versions": "some"})").find("'versions'"), std::string::npos);
    EXPECT_NE(msg("{").find("not JSON"), std::string::npos);
    EXPECT_NE(msg("[]").find("not a JSON object"), std::string::npos);
}

TEST(ServeBatcher, ConcatSplitRoundTrip)
{
    std::vector<RequestPtr> b = {req(1, {1, 2}), req(2, {3, 4, 5, 6})};
    EXPECT_EQ(concat_dim0(b, 0), (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
    const uint8_t out[] = {10, 20, 30, 40, 50, 60};
    split_dim0(b, out, 2, "y", mtia::DType::U8, {2});
    EXPECT_EQ(b[0]->outputs[0].data, (std::vector<uint8_t>{10, 20}));
    EXPECT_EQ(b[0]->outputs[0].shape, (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(b[1]->outputs[0].data, (std::vector<uint8_t>{30, 40, 50, 60}));
    EXPECT_EQ(b[1]->outputs[0].shape, (std::vector<int64_t>{2, 2}));
}

// Everything queued before the batcher starts coalesces up to max_batch
// samples, in order, and each request gets its own slice back.
TEST(ServeBatcher, CoalescesUpToMaxBatch)
{
    RequestQueue q(16, 4, 0us);
    std::vector<RequestPtr> rs;
    for (uint8_t i = 0; i < 5; i++) {
        rs.push_back(req(i == 1 ? 2 : 1, std::vector<uint8_t>(i == 1 ? 4 : 2, i)));
        ASSERT_EQ(q.push(rs.back()), Status::Ok);
    }
    std::vector<uint32_t> sizes;
    {
        Batcher b(q, std::make_unique<EchoRunner>(sizes), nullptr);
        for (auto &r : rs) r->finished.wait();
        q.close();
    }
    // 1+2+1 = 4 fills the first batch; the next two make the second.
    EXPECT_EQ(sizes, (std::vector<uint32_t>{4, 2}));
    for (uint8_t i = 0; i < 5; i++) {
        EXPECT_EQ(rs[i]->status, Status::Ok);
        EXPECT_EQ(rs[i]->outputs[0].data, std::vector<uint8_t>(i == 1 ? 4 : 2, static_cast<uint8_t>(2 * i)));
    }
    EXPECT_EQ(rs[0]->batch_samples, 4u);
    EXPECT_EQ(rs[4]->batch_samples, 2u);
}

// A request queued within the delay window of the first joins its batch.
TEST(ServeBatcher, DelayWindowCollects)
{
    RequestQueue q(16, 8, 10s);  // the window never ends first: the batch fills
    std::vector<RequestPtr> rs;
    for (int i = 0; i < 8; i++) rs.push_back(req(1, {1, 1}));
    std::vector<uint32_t> sizes;
    Batcher b(q, std::make_unique<EchoRunner>(sizes), nullptr);
    for (auto &r : rs) ASSERT_EQ(q.push(r), Status::Ok);
    for (auto &r : rs) r->finished.wait();
    q.close();
    EXPECT_EQ(sizes, (std::vector<uint32_t>{8}));
}

TEST(ServeBatcher, FullQueueRefusesAtOnce)
{
    RequestQueue q(2, 4, 0us);
    EXPECT_EQ(q.push(req(1)), Status::Ok);
    EXPECT_EQ(q.push(req(1)), Status::Ok);
    EXPECT_EQ(q.push(req(1)), Status::Full);
    EXPECT_EQ(q.size(), 2u);
    q.close();
    EXPECT_EQ(q.push(req(1)), Status::Unavailable);
}

TEST(ServeBatcher, TimedOutRequestNeverRuns)
{
    RequestQueue q(4, 4, 0us);
    auto late = req(1, {1, 2});
    late->deadline = Clock::now() - 1ms;
    auto ok = req(1, {3, 4});
    ASSERT_EQ(q.push(late), Status::Ok);
    ASSERT_EQ(q.push(ok), Status::Ok);
    std::vector<uint32_t> sizes;
    {
        Batcher b(q, std::make_unique<EchoRunner>(sizes), nullptr);
        ok->finished.wait();
        late->finished.wait();
        q.close();
    }
    EXPECT_EQ(late->status, Status::Timeout);
    EXPECT_TRUE(late->outputs.empty());
    EXPECT_EQ(ok->status, Status::Ok);
    EXPECT_EQ(sizes, (std::vector<uint32_t>{1}));
    // A queued request can be cancelled (the frontend's timeout) until taken.
    RequestQueue q2(4, 4, 0us);
    auto r = req(1);
    ASSERT_EQ(q2.push(r), Status::Ok);
    EXPECT_TRUE(q2.cancel(r));
    EXPECT_FALSE(q2.cancel(r));
}

// A request whose timeout passes while its batch waits for company is
// dropped (Timeout) instead of run, and the batcher goes on serving.
TEST(ServeBatcher, TimeoutWhileBatchFormsDropsTheRequest)
{
    RequestQueue q(4, 8, 1s);  // the window outlasts the 50 ms timeout
    auto r = req(1, {1, 2});
    r->deadline = Clock::now() + 50ms;
    std::vector<uint32_t> sizes;
    Batcher b(q, std::make_unique<EchoRunner>(sizes), nullptr);
    ASSERT_EQ(q.push(r), Status::Ok);
    r->finished.wait();
    EXPECT_EQ(r->status, Status::Timeout);
    auto next = req(1, {3, 4});
    ASSERT_EQ(q.push(next), Status::Ok);
    q.close();  // ends the window at once
    next->finished.wait();
    EXPECT_EQ(next->status, Status::Ok);
    EXPECT_EQ(sizes, (std::vector<uint32_t>{1}));
}

// close() refuses new requests, but every queued one still runs.
TEST(ServeBatcher, CloseDrainsQueued)
{
    RequestQueue q(64, 2, 0us);
    std::vector<RequestPtr> rs;
    for (int i = 0; i < 9; i++) {
        rs.push_back(req(1, {1, 1}));
        ASSERT_EQ(q.push(rs.back()), Status::Ok);
    }
    q.close();
    std::vector<uint32_t> sizes;
    std::atomic<uint32_t> observed{0};
    {
        Batcher b(q, std::make_unique<EchoRunner>(sizes), [&](uint32_t n, const BatchTimes &, bool) { observed += n; });
    }  // joins: returns only once the queue is drained
    for (auto &r : rs) EXPECT_EQ(r->status, Status::Ok);
    EXPECT_EQ(observed.load(), 9u);
    EXPECT_EQ(sizes, (std::vector<uint32_t>{2, 2, 2, 2, 1}));
}

TEST(ServeBatcher, RunnerFailureFailsTheBatch)
{
    struct Failing : Runner {
        void run(const std::vector<RequestPtr> &) override { throw std::runtime_error("device said no"); }
    };
    RequestQueue q(4, 4, 0us);
    auto r = req(1);
    ASSERT_EQ(q.push(r), Status::Ok);
    q.close();
    {
        Batcher b(q, std::make_unique<Failing>(), nullptr);
    }
    EXPECT_EQ(r->status, Status::Internal);
    EXPECT_EQ(r->error, "device said no");
}

TEST(ServeMetrics, ExpositionFormat)
{
    Metrics m;
    m.request("resnet18", "1", "success", 0.003, 0.001);
    m.request("resnet18", "1", "queue_full", 0.0001, -1);
    m.batch("resnet18", "1", 3, {0, 0.002, 0});
    const std::string s = m.render();
    EXPECT_NE(s.find("mtia_serve_requests_total{model=\"resnet18\",version=\"1\",status=\"success\"} 1"),
              std::string::npos);
    EXPECT_NE(s.find("mtia_serve_request_duration_seconds_bucket{model=\"resnet18\",version=\"1\",le=\"0.005\"} 2"),
              std::string::npos);
    EXPECT_NE(s.find("mtia_serve_queue_duration_seconds_count{model=\"resnet18\",version=\"1\"} 1"), std::string::npos);
    EXPECT_NE(s.find("mtia_serve_batch_size_bucket{model=\"resnet18\",version=\"1\",le=\"4\"} 1"), std::string::npos);
    EXPECT_NE(s.find("mtia_serve_device_compute_seconds_total{model=\"resnet18\"} 0.002"), std::string::npos);
}
