// SPDX-License-Identifier: MIT
// mtia-run modes: the copy benchmark and running (or benchmarking) a model.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"

namespace mtia::run {

// Which device: a node path if set, else an index (default 0).
struct DeviceChoice {
    std::string node;
    int index = 0;
    mtia::Device open() const { return node.empty() ? mtia::Device::open(index) : mtia::Device::open_node(node); }
};

struct CopyBenchOptions {
    DeviceChoice device;
    size_t size = 64u << 20;  // bytes per copy
    int iters = 8;            // copies per direction
    int nop_iters = 1000;     // NOP jobs for the latency
    bool json = false;
};

// Prints host->device, device->host, device->device bandwidth and the NOP
// job round trip; returns the process exit code.
int bench_copy(const CopyBenchOptions &o);

struct ModelRunOptions {
    DeviceChoice device;
    std::string model;                 // .mtia path
    std::vector<std::string> inputs;   // .npy, one per model input, in order
    std::vector<std::string> outputs;  // .npy to write, one per model output
    int bench = 0;                     // > 0: benchmark with this many inferences
    int batch_requests = 1;            // requests per run_batch() in the benchmark
    int warmup = 3;                    // untimed runs first (kernels built, scratch grown)
    bool json = false;
    bool convert = false;  // --convert: float inputs converted to the model's float type
    std::string profile;   // --profile: Chrome trace JSON of the runs to write
};

// --bench N --profile: the trace holds the first this many timed runs.
constexpr int kMaxProfiledRuns = 100;

// Runs a model once (inputs from .npy files, outputs to .npy files), or
// benchmarks it; returns the process exit code.
int run_model(const ModelRunOptions &o);

// The p-th percentile (0..100) of sorted samples, nearest rank.
inline double percentile(const std::vector<double> &sorted, double p)
{
    if (sorted.empty()) return 0;
    const size_t i = std::min(sorted.size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[i];
}

}  // namespace mtia::run
