// SPDX-License-Identifier: MIT
// The ONNX forms the compiler rewrites onto existing device ops for ONNX
// conformance (passes_decompose.cc, passes_simplify.cc, lower_layout.cc):
// LayerNormalization's Mean and InvStdDev outputs, Max/Min/Mean of other
// than two inputs, Tile of any repeats, an inference Dropout's mask. Each
// runs on the compute engine against a reference computed here.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "compiler_test_util.h"

namespace mtia::compiler::testing {
namespace {

CompileResult compile(const OnnxBuilder &b) { return compile_model(b.model(), ".", {}); }

void expect_near(const std::vector<float> &got, const std::vector<double> &want, double tol = 1e-5)
{
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(got[i], want[i], tol * (1 + std::fabs(want[i]))) << "element " << i;
}

// LayerNormalization over dims 1.. of (2, 3, 4): Y, Mean (2, 1, 1) and
// InvStdDev (2, 1, 1) as ONNX defines them.
TEST(CompilerOnnxOps, LayerNormalizationMeanAndInvStdDev)
{
    const int rows = 2, n = 12;
    const float eps = 1e-2f;
    OnnxBuilder b(17);
    b.input("x", {rows, 3, 4}).output("y").output("mean").output("inv").init("scale", {3, 4},
                                                                           std::vector<float>(n, 1.0f));
    auto &ln = b.node("LayerNormalization", {"x", "scale"}, {"y", "mean", "inv"});
    attr(ln, "axis", int64_t{1});
    attr(ln, "epsilon", eps);
    const CompileResult r = compile(b);
    const auto x = random_floats(rows * n, 7);
    const auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 3u);
    std::vector<double> y, mean, inv;
    for (int i = 0; i < rows; ++i) {
        double m = 0, v = 0;
        for (int j = 0; j < n; ++j) m += x[i * n + j];
        m /= n;
        for (int j = 0; j < n; ++j) v += (x[i * n + j] - m) * (x[i * n + j] - m);
        v /= n;
        mean.push_back(m);
        inv.push_back(1 / std::sqrt(v + eps));
        for (int j = 0; j < n; ++j) y.push_back((x[i * n + j] - m) * inv.back());
    }
    expect_near(out[0], y, 1e-4);
    expect_near(out[1], mean);
    expect_near(out[2], inv);
}

TEST(CompilerOnnxOps, LayerNormalizationStashTypeOtherThanFloatIsRefused)
{
    OnnxBuilder b(17);
    b.input("x", {2, 4}).output("y").output("mean").init("scale", {4}, {1, 1, 1, 1});
    attr(b.node("LayerNormalization", {"x", "scale"}, {"y", "mean"}), "stash_type", int64_t{11});
    try {
        compile(b);
        ADD_FAILURE() << "compiled";
    } catch (const CompileError &e) {
        EXPECT_NE(std::string(e.what()).find("stash_type"), std::string::npos) << e.what();
    }
}

// Max of 3 broadcast inputs, Min of 1 (a copy), Mean of 3.
TEST(CompilerOnnxOps, VariadicMaxMinMean)
{
    OnnxBuilder b;
    b.input("a", {2, 3}).input("b", {3}).input("c", {1, 3}).output("max").output("min").output("mean");
    b.node("Max", {"a", "b", "c"}, {"max"});
    b.node("Min", {"a"}, {"min"});
    b.node("Mean", {"a", "b", "c"}, {"mean"});
    const CompileResult r = compile(b);
    const auto a = random_floats(6, 1), bv = random_floats(3, 2), c = random_floats(3, 3);
    const auto out = run_on_host(r.bytes, {a, bv, c});
    ASSERT_EQ(out.size(), 3u);
    std::vector<double> mx, mn, me;
    for (int i = 0; i < 6; ++i) {
        const int j = i % 3;
        mx.push_back(std::max({a[i], bv[j], c[j]}));
        mn.push_back(a[i]);
        me.push_back((double(a[i]) + bv[j] + c[j]) / 3);
    }
    expect_near(out[0], mx, 0);
    expect_near(out[1], mn, 0);
    expect_near(out[2], me);
}

// Tile of every dim of a rank-4 tensor (one EXPAND per tiled dim of size > 1)
// against out[i] = x[i % dims] per dim.
TEST(CompilerOnnxOps, TileAnyRepeats)
{
    const std::vector<int64_t> xs = {2, 1, 3, 2}, reps = {3, 4, 2, 2};
    OnnxBuilder b;
    b.input("x", xs).output("y").init_i64("reps", {4}, reps);
    b.node("Tile", {"x", "reps"}, {"y"});
    const CompileResult r = compile(b);
    const auto x = random_floats(12, 5);
    const auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    std::vector<int64_t> os(4);
    for (int k = 0; k < 4; ++k) os[k] = xs[k] * reps[k];
    std::vector<double> want;
    for (int64_t i0 = 0; i0 < os[0]; ++i0)
        for (int64_t i1 = 0; i1 < os[1]; ++i1)
            for (int64_t i2 = 0; i2 < os[2]; ++i2)
                for (int64_t i3 = 0; i3 < os[3]; ++i3)
                    want.push_back(x[(((i0 % xs[0]) * xs[1] + i1 % xs[1]) * xs[2] + i2 % xs[2]) * xs[3] + i3 % xs[3]]);
    expect_near(out[0], want, 0);
}

// Inference Dropout: the output is the input, the mask all true.
TEST(CompilerOnnxOps, DropoutMaskIsAllTrue)
{
    OnnxBuilder b;
    b.input("x", {3, 5}).output("y").output("mask");
    b.node("Dropout", {"x"}, {"y", "mask"});
    const CompileResult r = compile(b);
    const auto x = random_floats(15, 6);
    const auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 2u);
    expect_near(out[0], std::vector<double>(x.begin(), x.end()), 0);
    uint8_t mask[15];
    ASSERT_GE(out[1].size() * 4, sizeof mask);
    std::memcpy(mask, out[1].data(), sizeof mask);
    for (uint8_t m : mask) EXPECT_EQ(m, 1);
}

}  // namespace
}  // namespace mtia::compiler::testing
