// SPDX-License-Identifier: MIT
// mtia-serve's Prometheus metrics, rendered in the text exposition format
// (GET /metrics): requests by model, version and outcome, request and queue
// latency histograms, batch sizes, and the time each model's device runs took.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

namespace mtia_serve {

class Metrics {
public:
    /// One finished inference request; status is its outcome's label
    /// ("success", "bad_request", "queue_full", ...). queue_seconds < 0: it
    /// never reached a batch.
    void request(const std::string &model, const std::string &version, const std::string &status, double seconds,
                 double queue_seconds);
    /// One batch run on a device: its samples and how long the run took.
    void batch(const std::string &model, const std::string &version, uint32_t samples, double seconds);
    /// Everything, in the text exposition format.
    std::string render();

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
};

}  // namespace mtia_serve
