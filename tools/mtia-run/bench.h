// SPDX-License-Identifier: MIT
// mtia-run benchmarks.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mtia_run {

struct CopyBenchOptions {
    int device = 0;
    size_t size = 64u << 20;  // bytes per copy
    int iters = 8;            // copies per direction
    int nop_iters = 1000;     // NOP jobs for the latency
    bool json = false;
};

// Prints host->device, device->host, device->device bandwidth and the NOP
// job round trip; returns the process exit code.
int bench_copy(const CopyBenchOptions &o);

}  // namespace mtia_run
