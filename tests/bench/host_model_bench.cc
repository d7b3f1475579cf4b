// SPDX-License-Identifier: MIT
// A compiled model's program on the host, without the VM: libmtia's reader
// (the checks and Op lowering the runtime applies), the weights and inputs
// (zeros, or .npy files) in a host arena, then mtia_compute_run on the
// calling thread plus its OpenMP team, as the device's engine worker runs
// it. What a job's device time would be with no VM, driver or queue around
// it: make bench's "stack overhead" anchor (tests/bench/run-bench.sh).
//
//   host_model_bench [--tracked] MODEL.mtia [RUNS] [INPUT.npy ...]
// prints "host_ms p50 P min M model_us U" (wall clock per run).
// --tracked runs the arena as tracked memory with no writes between runs
// (mtia_compute_run_tracked, as the device runs its device memory: reordered
// weights reused without a compare); else untracked (compared each run).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "model_loader.h"
#include "mtia_compute.h"
#include "mtia_write_track.h"
#include "npy.h"

int main(int argc, char **argv)
{
    const bool tracked = argc > 1 && std::strcmp(argv[1], "--tracked") == 0;
    if (tracked) {
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s [--tracked] MODEL.mtia [RUNS] [INPUT.npy ...]\n", argv[0]);
        return 2;
    }
    std::ifstream f(argv[1], std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    const int runs = argc > 2 ? std::max(1, std::atoi(argv[2])) : 20;
    std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    try {
        const mtia::detail::ParsedModel m = mtia::detail::parse_model(aligned.data(), bytes.size());
        std::vector<uint8_t> arena(m.arena_size, 0);
        std::memcpy(arena.data(), m.weights, m.weights_size);
        for (int k = 3; k < argc && size_t(k - 3) < m.inputs.size(); ++k) {
            const auto a = mtia::run::read_npy(argv[k]);
            const auto &io = m.inputs[size_t(k - 3)];
            if (a.data.size() != io.info.bytes) {
                std::fprintf(stderr, "%s: %zu bytes, input %d wants %zu\n", argv[k], a.data.size(), k - 3,
                             size_t(io.info.bytes));
                return 1;
            }
            std::memcpy(arena.data() + io.offset, a.data.data(), a.data.size());
        }
        mtia::WriteTracker track;  // the arena as written once, before the first run
        track.reset(arena.size());
        mtia::WriteTracker::Arena view{&track, 0};
        const mtia_compute_tracker tracker = mtia::WriteTracker::for_arena(&view);
        std::vector<double> ms;
        uint64_t model_ns = 0;
        for (int i = 0; i < runs + 3; ++i) {
            const auto t0 = std::chrono::steady_clock::now();
            const uint16_t st = mtia_compute_run_tracked(nullptr, m.program.data(), uint32_t(m.program.size()),
                                                         arena.data(), arena.size(), nullptr, nullptr, nullptr,
                                                         tracked ? &tracker : nullptr, &model_ns);
            const double d = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
            if (st != MTIA_CQE_OK) {
                std::fprintf(stderr, "run failed: status %u at op %llu\n", st, (unsigned long long)model_ns);
                return 1;
            }
            if (i >= 3) ms.push_back(d);  // after warm-up (kernels built, weights reordered)
        }
        std::sort(ms.begin(), ms.end());
        std::printf("host_ms p50 %.3f min %.3f model_us %.1f\n", ms[ms.size() / 2], ms[0], double(model_ns) / 1e3);
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s: %s\n", argv[1], e.what());
        return 1;
    }
    return 0;
}
