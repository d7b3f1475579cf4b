// SPDX-License-Identifier: MIT
// Simulated instructions per second of the control-core ISS
// (items_per_second = retired RV32 instructions). Run:
//   build/bin/rv32_bench
#include <benchmark/benchmark.h>

#include "test_machine.h"

namespace {

using mtia::rv32::RunResult;
using mtia::rv32::StopReason;
using mtia::rv32::test::TestMachine;

// (a) A tight integer loop that never exits.
void BM_IntegerLoop(benchmark::State &state)
{
    TestMachine m;
    m.load("bench_loop");
    uint64_t total = 0;
    for (auto _ : state) {
        RunResult r = m.run(10'000'000);
        if (r.reason != StopReason::kBudget) state.SkipWithError("loop stopped");
        total += r.retired;
    }
    state.SetItemsProcessed(static_cast<int64_t>(total));
}
BENCHMARK(BM_IntegerLoop)->Unit(benchmark::kMillisecond);

// (b) The compiled C workload (CRC-32 + shell sort, gcc -O2), start to exit.
void BM_CompiledC(benchmark::State &state)
{
    TestMachine m;
    m.load("c_workload");
    uint64_t total = 0;
    for (auto _ : state) {
        m.cpu().reset();  // the decode cache is rebuilt each run: included in the cost
        RunResult r = m.run();
        if (r.reason != StopReason::kStopped || m.exit_code() != 0u) state.SkipWithError("workload failed");
        total += r.retired;
    }
    state.SetItemsProcessed(static_cast<int64_t>(total));
}
BENCHMARK(BM_CompiledC)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
