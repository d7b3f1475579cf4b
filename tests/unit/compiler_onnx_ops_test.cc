// SPDX-License-Identifier: MIT
// The ONNX forms the compiler rewrites onto existing device ops for ONNX
// conformance (passes_decompose.cc, passes_simplify.cc, lower_layout.cc):
// LayerNormalization's Mean and InvStdDev outputs, Max/Min/Mean of other
// than two inputs, Tile of any repeats, an inference Dropout's mask,
// integer arithmetic (BINARY on int32/int64, Pow of mixed types), and the
// compositions of passes_decompose_onnx.cc. Each runs on the compute engine
// against a reference computed here.
#include <cmath>
#include <cstdint>
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
    b.input("x", {rows, 3, 4})
        .output("y")
        .output("mean")
        .output("inv")
        .init("scale", {3, 4}, std::vector<float>(n, 1.0f));
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

// ReduceL1 over axis 1 kept, ReduceL2 over axis 2 dropped, ReduceLogSumExp
// over every axis, of a (2, 3, 4) input.
TEST(CompilerOnnxOps, ReduceFamily)
{
    OnnxBuilder b;
    b.input("x", {2, 3, 4}).output("l1").output("l2").output("lse");
    attr(b.node("ReduceL1", {"x"}, {"l1"}), "axes", std::vector<int64_t>{1});
    auto &l2n = b.node("ReduceL2", {"x"}, {"l2"});
    attr(l2n, "axes", std::vector<int64_t>{-1});
    attr(l2n, "keepdims", int64_t{0});
    b.node("ReduceLogSumExp", {"x"}, {"lse"});
    const CompileResult r = compile(b);
    const auto x = random_floats(24, 8);
    const auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 3u);
    std::vector<double> l1(8, 0), l2(6, 0);
    double se = 0;
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k) {
                const double v = x[(i * 3 + j) * 4 + k];
                l1[i * 4 + k] += std::fabs(v);
                l2[i * 3 + j] += v * v;
                se += std::exp(v);
            }
    for (auto &v : l2) v = std::sqrt(v);
    expect_near(out[0], l1);
    expect_near(out[1], l2);
    expect_near(out[2], {std::log(se)});
}

TEST(CompilerOnnxOps, SoftsignAndPRelu)
{
    OnnxBuilder b(16);
    b.input("x", {2, 3, 2}).output("ss").output("pr").init("slope", {3, 1}, {0.25f, -0.5f, 2.0f});
    b.node("Softsign", {"x"}, {"ss"});
    b.node("PRelu", {"x", "slope"}, {"pr"});
    const CompileResult r = compile(b);
    const auto x = random_floats(12, 9);
    const auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 2u);
    const double slope[3] = {0.25, -0.5, 2.0};
    std::vector<double> ss, pr;
    for (int i = 0; i < 12; ++i) {
        ss.push_back(x[i] / (1 + std::fabs(x[i])));
        pr.push_back(x[i] < 0 ? slope[(i / 2) % 3] * x[i] : x[i]);
    }
    expect_near(out[0], ss);
    expect_near(out[1], pr, 0);
}

// DepthToSpace (DCR and CRD) and SpaceToDepth against their definitions.
TEST(CompilerOnnxOps, DepthToSpaceAndSpaceToDepth)
{
    const int64_t N = 2, C = 8, H = 2, W = 3, bs = 2, c = C / (bs * bs);
    OnnxBuilder b(13);
    b.input("x", {N, C, H, W}).output("dcr").output("crd").output("s2d");
    attr(b.node("DepthToSpace", {"x"}, {"dcr"}), "blocksize", bs);
    auto &crd = b.node("DepthToSpace", {"x"}, {"crd"});
    attr(crd, "blocksize", bs);
    attr(crd, "mode", std::string("CRD"));
    attr(b.node("SpaceToDepth", {"dcr"}, {"s2d"}), "blocksize", bs);
    const CompileResult r = compile(b);
    const auto x = random_floats(N * C * H * W, 10);
    const auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 3u);
    std::vector<double> dcr, crdv;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t ch = 0; ch < c; ++ch)
            for (int64_t h = 0; h < H * bs; ++h)
                for (int64_t w = 0; w < W * bs; ++w) {
                    const int64_t bh = h % bs, bw = w % bs, ih = h / bs, iw = w / bs;
                    dcr.push_back(x[((n * C + (bh * bs + bw) * c + ch) * H + ih) * W + iw]);
                    crdv.push_back(x[((n * C + ch * bs * bs + bh * bs + bw) * H + ih) * W + iw]);
                }
    expect_near(out[0], dcr, 0);
    expect_near(out[1], crdv, 0);
    expect_near(out[2], std::vector<double>(x.begin(), x.end()), 0);  // SpaceToDepth undoes DCR
}

TEST(CompilerOnnxOps, InstanceNormalization)
{
    OnnxBuilder b;
    b.input("x", {2, 3, 5}).output("y").init("s", {3}, {1.0f, 0.5f, -2.0f}).init("bias", {3}, {0.0f, 1.0f, 0.25f});
    attr(b.node("InstanceNormalization", {"x", "s", "bias"}, {"y"}), "epsilon", 1e-3f);
    const CompileResult r = compile(b);
    const auto x = random_floats(30, 11);
    const auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    const double sc[3] = {1.0, 0.5, -2.0}, bi[3] = {0.0, 1.0, 0.25};
    std::vector<double> y;
    for (int nc = 0; nc < 6; ++nc) {
        double m = 0, v = 0;
        for (int k = 0; k < 5; ++k) m += x[nc * 5 + k] / 5.0;
        for (int k = 0; k < 5; ++k) v += (x[nc * 5 + k] - m) * (x[nc * 5 + k] - m) / 5.0;
        for (int k = 0; k < 5; ++k) y.push_back((x[nc * 5 + k] - m) / std::sqrt(v + 1e-3) * sc[nc % 3] + bi[nc % 3]);
    }
    expect_near(out[0], y, 1e-4);
}

// Bytes of v in floats' storage (run_on_host's integer inputs and outputs).
template <class T>
std::vector<float> as_floats(const std::vector<T> &v)
{
    std::vector<float> f((v.size() * sizeof(T) + 3) / 4);
    std::memcpy(f.data(), v.data(), v.size() * sizeof(T));
    return f;
}
template <class T>
std::vector<T> from_floats(const std::vector<float> &f, size_t n)
{
    std::vector<T> v(n);
    EXPECT_GE(f.size() * 4, n * sizeof(T));
    std::memcpy(v.data(), f.data(), std::min(n * sizeof(T), f.size() * 4));
    return v;
}

// int64 Add (wrapping), int64 Mul by a constant, int32 Max broadcast, int32
// Pow: BINARY on integers.
TEST(CompilerOnnxOps, IntegerArithmetic)
{
    OnnxBuilder b;
    b.input("a", {4}, onnx::TensorProto::INT64).input("b", {4}, onnx::TensorProto::INT64);
    b.input("c", {2, 3}, onnx::TensorProto::INT32).input("d", {3}, onnx::TensorProto::INT32);
    b.output("sum").output("max").output("pow").output("scaled").init_i64("k", {1}, {3});
    b.node("Add", {"a", "b"}, {"sum"});
    b.node("Mul", {"a", "k"}, {"scaled"});  // an int64 constant: an I64 weight
    b.node("Max", {"c", "d"}, {"max"});
    b.node("Pow", {"c", "d"}, {"pow"});
    const CompileResult r = compile(b);
    const std::vector<int64_t> a = {INT64_MAX, -5, 7, 0}, bv = {1, -6, 8, 0};
    const std::vector<int32_t> c = {1, -2, 3, 4, 5, -6}, d = {3, 2, 0};
    const auto out = run_on_host(r.bytes, {as_floats(a), as_floats(bv), as_floats(c), as_floats(d)});
    ASSERT_EQ(out.size(), 4u);
    EXPECT_EQ(from_floats<int64_t>(out[0], 4), (std::vector<int64_t>{INT64_MIN, -11, 15, 0}));
    EXPECT_EQ(from_floats<int64_t>(out[3], 4), (std::vector<int64_t>{INT64_MAX - 2, -15, 21, 0}));
    EXPECT_EQ(from_floats<int32_t>(out[1], 6), (std::vector<int32_t>{3, 2, 3, 4, 5, 0}));
    EXPECT_EQ(from_floats<int32_t>(out[2], 6), (std::vector<int32_t>{1, 4, 1, 64, 25, 1}));
}

// Pow of a float base and an int exponent is a float power (the exponent
// cast); of an int base and a float exponent, a float power cast back.
TEST(CompilerOnnxOps, PowOfMixedTypes)
{
    OnnxBuilder b;
    b.input("x", {3}).input("e", {3}, onnx::TensorProto::INT64).input("n", {3}, onnx::TensorProto::INT32);
    b.output("xe").output("nx");
    b.node("Pow", {"x", "e"}, {"xe"});
    b.node("Pow", {"n", "x"}, {"nx"});
    const CompileResult r = compile(b);
    const std::vector<float> x = {1.5f, 2.0f, 0.5f};
    const auto out =
        run_on_host(r.bytes, {x, as_floats(std::vector<int64_t>{2, 3, -1}), as_floats(std::vector<int32_t>{4, 3, 9})});
    ASSERT_EQ(out.size(), 2u);
    expect_near(out[0], {2.25, 8.0, 2.0});
    EXPECT_EQ(from_floats<int32_t>(out[1], 3), (std::vector<int32_t>{8, 9, 3}));  // 4^1.5, 3^2, 9^0.5
}

// Integer arithmetic mixing widths is a model ONNX does not allow: refused.
TEST(CompilerOnnxOps, IntegerWidthsMustAgree)
{
    OnnxBuilder b;
    b.input("a", {4}, onnx::TensorProto::INT64).input("b", {4}, onnx::TensorProto::INT32).output("y");
    b.node("Add", {"a", "b"}, {"y"});
    try {
        compile(b);
        ADD_FAILURE() << "compiled";
    } catch (const CompileError &e) {
        EXPECT_NE(std::string(e.what()).find("int64"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace mtia::compiler::testing
