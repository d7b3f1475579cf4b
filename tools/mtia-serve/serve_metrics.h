// SPDX-License-Identifier: MIT
// mtia-serve's request and batch counters, the one record both views read:
// Prometheus metrics in the text exposition format (GET /metrics: requests by
// model, version and outcome, request and queue latency histograms, batch
// sizes, the time each model's device runs took) and Triton's statistics
// extension (GET v2/models[/NAME[/versions/V]]/stats, gRPC ModelStatistics:
// per model version the inference and execution counts, success/fail/queue
// and compute_input/infer/output durations, and the same per batch size).
// Each request or batch is recorded once, under one lock, into both.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

namespace mtia_serve {

/// The phases of one device run (a batch), in seconds: inputs staged on the
/// host (compute_input), the libmtia run (compute_infer: copies to the
/// device, compute, copies back), outputs split per request (compute_output).
struct BatchTimes {
    double input = 0, infer = 0, output = 0;
};

/// Triton's StatisticDuration: how often, and nanoseconds in all.
struct StatDuration {
    uint64_t count = 0;
    uint64_t ns = 0;
    void add(double seconds);
};

/// One model version's statistics (Triton's ModelStatistics).
struct ModelStats {
    uint64_t last_inference_ms = 0;  ///< wall clock of the last request's answer, ms since the epoch
    uint64_t inference_count = 0;    ///< batch items (samples) of successful requests
    uint64_t execution_count = 0;    ///< successful device runs (a batch of N requests is one)
    StatDuration success, fail, queue, compute_input, compute_infer, compute_output;
    std::map<uint64_t, std::array<StatDuration, 3>> batches;  ///< by batch size: input, infer, output
};

class Metrics {
public:
    /// One finished inference request; status is its outcome's label
    /// ("success", "bad_request", "queue_full", ...). queue_seconds < 0: it
    /// never reached a batch. A successful one adds its samples to the
    /// inference count and its batch's phases (compute) to its statistics.
    void request(const std::string &model, const std::string &version, const std::string &status, double seconds,
                 double queue_seconds, uint32_t samples = 1, const BatchTimes &compute = {});
    /// One batch run on a device: its samples and its phases; ok: the run
    /// succeeded (only those count as executions and in the batch statistics).
    void batch(const std::string &model, const std::string &version, uint32_t samples, const BatchTimes &t,
               bool ok = true);
    /// Everything, in the text exposition format.
    std::string render();
    /// The statistics of model version (zero if it saw no request yet).
    ModelStats stats(const std::string &model, const std::string &version);
    /// The same as a Triton $model_stat JSON object.
    nlohmann::json stats_json(const std::string &model, const std::string &version);

private:
    struct Histogram {
        std::vector<double> bounds;
        std::vector<uint64_t> counts;  ///< per bound, not cumulative
        uint64_t count = 0;
        double sum = 0;
        void observe(double v);
    };
    using Key = std::pair<std::string, std::string>;  // model, version

    std::mutex mu_;  ///< Protects every map below.
    std::map<std::tuple<std::string, std::string, std::string>, uint64_t> requests_;
    std::map<Key, Histogram> request_seconds_, queue_seconds_, batch_size_;
    std::map<std::string, double> compute_seconds_;
    std::map<Key, ModelStats> stats_;
};

}  // namespace mtia_serve
