// SPDX-License-Identifier: MIT
// Counters and histograms (serve_metrics.h).
#include "serve_metrics.h"

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

void Metrics::request(const std::string &model, const std::string &version, const std::string &status, double seconds,
                      double queue_seconds)
{
    std::lock_guard<std::mutex> lock(mu_);
    requests_[{model, version, status}]++;
    auto &h = request_seconds_[{model, version}];
    h.bounds = kSecondsBounds;
    h.observe(seconds);
    if (queue_seconds >= 0) {
        auto &q = queue_seconds_[{model, version}];
        q.bounds = kSecondsBounds;
        q.observe(queue_seconds);
    }
}

void Metrics::batch(const std::string &model, const std::string &version, uint32_t samples, double seconds)
{
    std::lock_guard<std::mutex> lock(mu_);
    auto &h = batch_size_[{model, version}];
    h.bounds = kBatchBounds;
    h.observe(samples);
    compute_seconds_[model] += seconds;
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
