// SPDX-License-Identifier: MIT
// Counters, histograms and statistics (serve_metrics.h).
#include "serve_metrics.h"

#include <chrono>
#include <cmath>
#include <sstream>

namespace mtia_serve {

namespace {

const std::vector<double> kSecondsBounds = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                            0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const std::vector<double> kBatchBounds = {1, 2, 4, 8, 16, 32, 64, 128};

// A label value escaped as the exposition format wants (\, " and newline).
std::string esc(const std::string &s)
{
    std::string o;
    for (char c : s) {
        if (c == '\\' || c == '"') o += '\\';
        if (c == '\n') {
            o += "\\n";
            continue;
        }
        o += c;
    }
    return o;
}

std::string labels(const std::string &model, const std::string &version)
{
    return "model=\"" + esc(model) + "\",version=\"" + esc(version) + "\"";
}

}  // namespace

void Metrics::Histogram::observe(double v)
{
    if (counts.empty()) counts.assign(bounds.size(), 0);
    for (size_t i = 0; i < bounds.size(); i++)
        if (v <= bounds[i]) {
            counts[i]++;
            break;
        }
    count++;
    sum += v;
}

void StatDuration::add(double seconds)
{
    count++;
    ns += seconds > 0 ? static_cast<uint64_t>(std::llround(seconds * 1e9)) : 0;
}

void Metrics::request(const std::string &model, const std::string &version, const std::string &status, double seconds,
                      double queue_seconds, uint32_t samples, const BatchTimes &compute)
{
    const auto now =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    std::lock_guard<std::mutex> lock(mu_);
    requests_[{model, version, status}]++;
    auto &st = stats_[{model, version}];
    st.last_inference_ms = static_cast<uint64_t>(now.count());
    if (status == "success") {
        st.inference_count += samples;
        st.success.add(seconds);
        st.queue.add(queue_seconds < 0 ? 0 : queue_seconds);
        st.compute_input.add(compute.input);
        st.compute_infer.add(compute.infer);
        st.compute_output.add(compute.output);
    } else {
        st.fail.add(seconds);
    }
    auto &h = request_seconds_[{model, version}];
    h.bounds = kSecondsBounds;
    h.observe(seconds);
    if (queue_seconds >= 0) {
        auto &q = queue_seconds_[{model, version}];
        q.bounds = kSecondsBounds;
        q.observe(queue_seconds);
    }
}

void Metrics::batch(const std::string &model, const std::string &version, uint32_t samples, const BatchTimes &t,
                    bool ok)
{
    std::lock_guard<std::mutex> lock(mu_);
    auto &h = batch_size_[{model, version}];
    h.bounds = kBatchBounds;
    h.observe(samples);
    compute_seconds_[model] += t.input + t.infer + t.output;
    if (!ok) return;
    auto &st = stats_[{model, version}];
    st.execution_count++;
    auto &b = st.batches[samples];
    b[0].add(t.input);
    b[1].add(t.infer);
    b[2].add(t.output);
}

ModelStats Metrics::stats(const std::string &model, const std::string &version)
{
    std::lock_guard<std::mutex> lock(mu_);
    auto it = stats_.find({model, version});
    return it == stats_.end() ? ModelStats{} : it->second;
}

nlohmann::json Metrics::stats_json(const std::string &model, const std::string &version)
{
    const ModelStats st = stats(model, version);
    auto d = [](const StatDuration &x) { return nlohmann::json{{"count", x.count}, {"ns", x.ns}}; };
    nlohmann::json batches = nlohmann::json::array();
    for (const auto &[size, b] : st.batches)
        batches.push_back({{"batch_size", size},
                           {"compute_input", d(b[0])},
                           {"compute_infer", d(b[1])},
                           {"compute_output", d(b[2])}});
    return {{"name", model},
            {"version", version},
            {"last_inference", st.last_inference_ms},
            {"inference_count", st.inference_count},
            {"execution_count", st.execution_count},
            {"inference_stats",
             {{"success", d(st.success)},
              {"fail", d(st.fail)},
              {"queue", d(st.queue)},
              {"compute_input", d(st.compute_input)},
              {"compute_infer", d(st.compute_infer)},
              {"compute_output", d(st.compute_output)}}},
            {"batch_stats", batches}};
}

std::string Metrics::render()
{
    std::lock_guard<std::mutex> lock(mu_);
    std::ostringstream o;
    o.precision(9);
    o << "# HELP mtia_serve_requests_total Inference requests by model, version and outcome.\n"
         "# TYPE mtia_serve_requests_total counter\n";
    for (const auto &[k, n] : requests_)
        o << "mtia_serve_requests_total{" << labels(std::get<0>(k), std::get<1>(k)) << ",status=\""
          << esc(std::get<2>(k)) << "\"} " << n << "\n";
    auto histograms = [&](const char *name, const char *help, const std::map<Key, Histogram> &m) {
        o << "# HELP " << name << " " << help << "\n# TYPE " << name << " histogram\n";
        for (const auto &[k, h] : m) {
            const std::string l = labels(k.first, k.second);
            uint64_t cum = 0;
            for (size_t i = 0; i < h.bounds.size(); i++) {
                cum += h.counts[i];
                o << name << "_bucket{" << l << ",le=\"" << h.bounds[i] << "\"} " << cum << "\n";
            }
            o << name << "_bucket{" << l << ",le=\"+Inf\"} " << h.count << "\n";
            o << name << "_sum{" << l << "} " << h.sum << "\n";
            o << name << "_count{" << l << "} " << h.count << "\n";
        }
    };
    histograms("mtia_serve_request_duration_seconds", "Time from a request's arrival to its answer.", request_seconds_);
    histograms("mtia_serve_queue_duration_seconds", "Time a request waited in its model's queue.", queue_seconds_);
    histograms("mtia_serve_batch_size", "Samples per device run (coalesced requests).", batch_size_);
    o << "# HELP mtia_serve_device_compute_seconds_total Wall time of the model's device runs (inputs in, compute, "
         "outputs out).\n# TYPE mtia_serve_device_compute_seconds_total counter\n";
    for (const auto &[m, s] : compute_seconds_)
        o << "mtia_serve_device_compute_seconds_total{model=\"" << esc(m) << "\"} " << s << "\n";
    return o.str();
}

}  // namespace mtia_serve
