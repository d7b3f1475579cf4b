// SPDX-License-Identifier: MIT
// The memory planner: on random live ranges and on compiled random graphs,
// no two storages live at the same time share a byte, reuse happens, and
// graph inputs survive until their last reader.
#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "memory_plan.h"
#include "mtia/mtia_model.h"

namespace mtia::compiler::testing {
namespace {

TEST(MemoryPlan, RandomRangesNeverOverlapAndStayWithinBounds)
{
    for (uint32_t seed = 0; seed < 40; ++seed) {
        std::mt19937 rng(seed);
        const int n = 1 + static_cast<int>(rng() % 150), steps = 1 + static_cast<int>(rng() % 60);
        std::vector<LiveRange> r(n);
        for (auto &x : r) {
            x.size = 1 + rng() % 5000;
            x.first = static_cast<int>(rng() % steps);
            x.last = x.first + static_cast<int>(rng() % 10);
        }
        uint64_t peak = 0;
        auto off = plan_offsets(r, 64, &peak);
        ASSERT_TRUE(plan_is_valid(r, off)) << "seed " << seed;
        uint64_t sum = 0, lower = 0;
        for (int k = 0; k < n; ++k) {
            EXPECT_EQ(off[k] % 64, 0u);
            EXPECT_LE(off[k] + r[k].size, peak);
            sum += (r[k].size + 63) / 64 * 64;
        }
        for (int t = 0; t < steps + 10; ++t) {
            uint64_t live = 0;
            for (const auto &x : r)
                if (x.first <= t && t <= x.last) live += x.size;
            lower = std::max(lower, live);
        }
        EXPECT_GE(peak, lower);
        EXPECT_LE(peak, sum);
    }
}

TEST(MemoryPlan, AChainReusesTwoBuffers)
{
    std::vector<LiveRange> r;
    for (int k = 0; k < 100; ++k) r.push_back({1000, k, k + 1});
    uint64_t peak = 0;
    auto off = plan_offsets(r, 64, &peak);
    EXPECT_TRUE(plan_is_valid(r, off));
    EXPECT_EQ(peak, 2u * 1024u);
}

// Random DAG of elementwise ops over one shape; returns the model and a
// function computing its outputs.
struct RandomGraph {
    OnnxBuilder b;
    std::vector<std::function<std::vector<float>(const std::vector<std::vector<float>> &)>> values;
    std::vector<int> outputs;
};

RandomGraph random_graph(uint32_t seed)
{
    std::mt19937 rng(seed);
    RandomGraph g;
    const int64_t n = 16 << (rng() % 4);  // 16..128 floats: 64..512 bytes
    const int inputs = 1 + static_cast<int>(rng() % 3);
    std::vector<std::string> names;
    std::vector<std::function<std::vector<float>(const std::vector<std::vector<float>> &)>> val;
    for (int k = 0; k < inputs; ++k) {
        names.push_back("in" + std::to_string(k));
        g.b.input(names.back(), {1, n});
        val.push_back([k](const std::vector<std::vector<float>> &in) { return in[k]; });
    }
    const int nodes = 3 + static_cast<int>(rng() % 25);
    std::vector<int> uses(names.size(), 0);
    for (int k = 0; k < nodes; ++k) {
        const std::string out = "v" + std::to_string(k);
        const int a = static_cast<int>(rng() % names.size()), b = static_cast<int>(rng() % names.size());
        auto fa = val[a], fb = val[b];
        switch (rng() % 4) {
            case 0:
                g.b.node("Add", {names[a], names[b]}, {out});
                val.push_back([fa, fb](const auto &in) {
                    auto x = fa(in), y = fb(in);
                    for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
                    return x;
                });
                ++uses[b];
                break;
            case 1:
                g.b.node("Mul", {names[a], names[b]}, {out});
                val.push_back([fa, fb](const auto &in) {
                    auto x = fa(in), y = fb(in);
                    for (size_t i = 0; i < x.size(); ++i) x[i] *= y[i];
                    return x;
                });
                ++uses[b];
                break;
            case 2:
                g.b.node("Relu", {names[a]}, {out});
                val.push_back([fa](const auto &in) {
                    auto x = fa(in);
                    for (auto &v : x) v = std::max(v, 0.0f);
                    return x;
                });
                break;
            default:
                g.b.node("Tanh", {names[a]}, {out});
                val.push_back([fa](const auto &in) {
                    auto x = fa(in);
                    for (auto &v : x) v = std::tanh(v);
                    return x;
                });
                break;
        }
        ++uses[a];
        names.push_back(out);
        uses.push_back(0);
    }
    // Outputs: the last value and every unread one.
    for (size_t k = inputs; k < names.size(); ++k)
        if (uses[k] == 0 || k + 1 == names.size()) {
            g.b.output(names[k]);
            g.outputs.push_back(static_cast<int>(k));
        }
    g.values = val;
    return g;
}

// Lifetimes recomputed from the program, independently of the planner.
void expect_no_live_overlap(const DevGraph &d)
{
    const int n_ops = static_cast<int>(d.ops.size());
    std::map<int, std::pair<int, int>> life;  // root -> [first, last]
    auto touch = [&](int t, int step) {
        int r = d.root(t);
        if (d.tensors[r].kind == TensorKind::Weight) return;
        auto it = life.find(r);
        if (it == life.end())
            life[r] = {step, step};
        else
            it->second = {std::min(it->second.first, step), std::max(it->second.second, step)};
    };
    for (int t : d.inputs) touch(t, 0);
    for (int k = 0; k < n_ops; ++k) {
        for (int t : d.ops[k].in) touch(t, k + 1);
        touch(d.ops[k].out, k + 1);
    }
    for (int t : d.outputs) touch(t, n_ops + 1);
    uint64_t weights_end = 0;
    for (const auto &t : d.tensors)
        if (t.kind == TensorKind::Weight) weights_end = std::max(weights_end, t.offset + t.bytes());
    for (const auto &[a, la] : life) {
        EXPECT_GE(d.tensors[a].offset, weights_end) << d.tensors[a].name << " is inside the weights";
        EXPECT_EQ(d.tensors[a].offset % MTIA_MODEL_TENSOR_ALIGN, 0u);
        for (const auto &[b, lb] : life) {
            if (a >= b || la.second < lb.first || lb.second < la.first) continue;
            const auto &x = d.tensors[a], &y = d.tensors[b];
            EXPECT_TRUE(x.offset + x.bytes() <= y.offset || y.offset + y.bytes() <= x.offset)
                << x.name << " and " << y.name << " are live together and overlap";
        }
    }
}

TEST(MemoryPlan, RandomGraphsPlanSafelyAndComputeRight)
{
    int reused = 0;
    for (uint32_t seed = 0; seed < 30; ++seed) {
        RandomGraph g = random_graph(seed);
        CompileResult r = compile_model(g.b.model(), ".", {});
        expect_no_live_overlap(r.program);
        if (r.summary.activations_peak < r.summary.activations_total) ++reused;
        std::vector<std::vector<float>> in;
        for (int k = 0; k < static_cast<int>(r.program.inputs.size()); ++k)
            in.push_back(random_floats(r.program.tensors[r.program.inputs[k]].bytes() / 4, seed * 10 + k));
        auto out = run_on_host(r.bytes, in);
        ASSERT_EQ(out.size(), g.outputs.size()) << "seed " << seed;
        for (size_t k = 0; k < out.size(); ++k)
            EXPECT_LE(max_abs_diff(out[k], g.values[g.outputs[k]](in)), 1e-5f) << "seed " << seed << " output " << k;
    }
    EXPECT_GT(reused, 20) << "the planner should reuse memory in most random graphs";
}

TEST(MemoryPlan, CompiledModelsFromTheScriptPlanSafely)
{
    const std::string dir = models_dir();
    if (dir.empty()) GTEST_SKIP() << "test models not generated (tests/models/make_models.py --out build/models)";
    for (const char *name : {"resnet18", "squeezenet1_0", "densenet121", "shufflesplit", "twoinout"}) {
        CompileResult r = compile_file(dir + "/" + name + ".onnx", {});
        SCOPED_TRACE(name);
        expect_no_live_overlap(r.program);
    }
}

}  // namespace
}  // namespace mtia::compiler::testing
