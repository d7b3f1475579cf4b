// SPDX-License-Identifier: MIT
// Graph passes and lowering, on tiny ONNX graphs built here: each test
// checks the program's structure and runs it on the compute engine against
// a reference computed in the test.
#include <cmath>

#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "onnx_loader.h"

namespace mtia::compiler::testing {
namespace {

CompileResult compile(const OnnxBuilder &b, const CompileOptions &opts = {})
{
    return compile_model(b.model(), ".", opts);
}

int count_ops(const CompileResult &r, uint16_t kind, int act = -1)
{
    int n = 0;
    for (const auto &op : r.program.ops) n += op.kind == kind && (act < 0 || op.act == act);
    return n;
}

// Naive NCHW convolution with bias, for references.
std::vector<float> conv_ref(const std::vector<float> &x, int n, int c, int h, int w, const std::vector<float> &wt,
                            int m, int kh, int kw, const std::vector<float> &bias, int pad, int stride, int *oh_out,
                            int *ow_out)
{
    const int oh = (h + 2 * pad - kh) / stride + 1, ow = (w + 2 * pad - kw) / stride + 1;
    std::vector<float> y(static_cast<size_t>(n) * m * oh * ow);
    for (int b = 0; b < n; ++b)
        for (int o = 0; o < m; ++o)
            for (int i = 0; i < oh; ++i)
                for (int j = 0; j < ow; ++j) {
                    double s = bias.empty() ? 0 : bias[o];
                    for (int ci = 0; ci < c; ++ci)
                        for (int u = 0; u < kh; ++u)
                            for (int v = 0; v < kw; ++v) {
                                int yy = i * stride - pad + u, xx = j * stride - pad + v;
                                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                                s += x[((b * c + ci) * h + yy) * w + xx] * wt[((o * c + ci) * kh + u) * kw + v];
                            }
                    y[((b * m + o) * oh + i) * ow + j] = static_cast<float>(s);
                }
    *oh_out = oh;
    *ow_out = ow;
    return y;
}

TEST(CompilerPasses, BatchNormFoldsIntoConvAndIsNumericallyRight)
{
    OnnxBuilder b;
    b.input("x", {2, 3, 6, 6}).output("y");
    b.init_rand("w", {4, 3, 3, 3}).init_rand("b", {4});
    b.init("scale", {4}, {1.5f, 0.5f, -1.0f, 2.0f}).init("beta", {4}, {0.1f, -0.2f, 0.3f, 0.0f});
    b.init("mean", {4}, {0.05f, -0.1f, 0.2f, 0.0f}).init("var", {4}, {0.9f, 1.2f, 0.5f, 2.0f});
    auto &conv = b.node("Conv", {"x", "w", "b"}, {"c"});
    attr(conv, "pads", std::vector<int64_t>{1, 1, 1, 1});
    attr(b.node("BatchNormalization", {"c", "scale", "beta", "mean", "var"}, {"y"}), "epsilon", 1e-3f);
    CompileResult r = compile(b);
    EXPECT_EQ(r.program.ops.size(), 1u);
    EXPECT_EQ(count_ops(r, MTIA_OP_CONV), 1);
    EXPECT_EQ(r.summary.passes.at("batchnorms folded"), 1);

    auto x = random_floats(2 * 3 * 36, 7);
    const auto &m = b.model().graph();
    auto floats = [&](const std::string &name) {
        for (const auto &t : m.initializer())
            if (t.name() == name) return std::vector<float>(t.float_data().begin(), t.float_data().end());
        return std::vector<float>{};
    };
    int oh, ow;
    auto y = conv_ref(x, 2, 3, 6, 6, floats("w"), 4, 3, 3, floats("b"), 1, 1, &oh, &ow);
    auto sc = floats("scale"), be = floats("beta"), mu = floats("mean"), va = floats("var");
    for (size_t k = 0; k < y.size(); ++k) {
        int ch = static_cast<int>(k / (oh * ow)) % 4;
        y[k] = (y[k] - mu[ch]) / std::sqrt(va[ch] + 1e-3f) * sc[ch] + be[ch];
    }
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_LE(max_abs_diff(out[0], y), 1e-4f);
}

TEST(CompilerPasses, StandaloneBatchNormBecomesMulAdd)
{
    OnnxBuilder b;
    b.input("x", {1, 2, 3, 3}).output("y");
    b.init("scale", {2}, {2.0f, 0.5f}).init("beta", {2}, {1.0f, -1.0f});
    b.init("mean", {2}, {0.5f, 0.0f}).init("var", {2}, {4.0f, 1.0f});
    b.node("Relu", {"x"}, {"r"});
    attr(b.node("BatchNormalization", {"r", "scale", "beta", "mean", "var"}, {"y"}), "epsilon", 0.0f);
    CompileResult r = compile(b);
    EXPECT_EQ(count_ops(r, MTIA_OP_BINARY), 2);
    auto x = random_floats(18, 3);
    std::vector<float> want(18);
    for (int k = 0; k < 18; ++k) {
        int c = k / 9;
        float v = std::max(x[k], 0.0f);
        want[k] = c == 0 ? (v - 0.5f) / 2.0f * 2.0f + 1.0f : v * 0.5f - 1.0f;
    }
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_LE(max_abs_diff(out[0], want), 1e-5f);
}

// Opset 6 (before NumPy broadcasting): Add needs broadcast=1 to add a
// trailing-dims k. ONNX's version converter upgrades the model (it drops
// the attribute), and the answer is the same.
TEST(CompilerPasses, Opset6ModelIsUpgradedByTheVersionConverter)
{
    OnnxBuilder b(6);
    b.input("x", {2, 3, 4}).output("y").init("k", {4}, {1.0f, 10.0f, 100.0f, 1000.0f});
    attr(b.node("Add", {"x", "k"}, {"y"}), "broadcast", int64_t{1});
    CompileResult r = compile(b);
    EXPECT_EQ(r.summary.opset, kUpgradeOpset);
    EXPECT_EQ(count_ops(r, MTIA_OP_BINARY), 1);
    auto x = random_floats(24, 5);
    const float k[4] = {1.0f, 10.0f, 100.0f, 1000.0f};
    std::vector<float> want(24);
    for (int i = 0; i < 24; ++i) want[i] = x[i] + k[i % 4];
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_LE(max_abs_diff(out[0], want), 1e-5f);
}

TEST(CompilerPasses, ActivationFusesOnlyIntoASingleConsumerProducer)
{
    {
        OnnxBuilder b;  // Gemm -> Relu: fused
        b.input("x", {2, 4}).output("y").init_rand("w", {4, 3});
        b.node("Gemm", {"x", "w"}, {"g"});
        b.node("Relu", {"g"}, {"y"});
        CompileResult r = compile(b);
        EXPECT_EQ(r.program.ops.size(), 1u);
        EXPECT_EQ(count_ops(r, MTIA_OP_GEMM, MTIA_ACT_RELU), 1);
    }
    {
        OnnxBuilder b;  // Gemm read by Relu and by Add: not fused
        b.input("x", {2, 4}).output("y").init_rand("w", {4, 3});
        b.node("Gemm", {"x", "w"}, {"g"});
        b.node("Sigmoid", {"g"}, {"s"});
        b.node("Add", {"g", "s"}, {"y"});
        CompileResult r = compile(b);
        EXPECT_EQ(count_ops(r, MTIA_OP_ACT, MTIA_ACT_SIGMOID), 1);
        EXPECT_EQ(count_ops(r, MTIA_OP_GEMM, MTIA_ACT_NONE), 1);
        auto x = random_floats(8, 1);
        auto out = run_on_host(r.bytes, {x});
        ASSERT_EQ(out.size(), 1u);
        const auto &w = b.model().graph().initializer(0).float_data();
        std::vector<float> want(6);
        for (int i = 0; i < 2; ++i)
            for (int j = 0; j < 3; ++j) {
                float g = 0;
                for (int k = 0; k < 4; ++k) g += x[i * 4 + k] * w[k * 3 + j];
                want[i * 3 + j] = g + 1.0f / (1.0f + std::exp(-g));
            }
        EXPECT_LE(max_abs_diff(out[0], want), 1e-5f);
    }
    {
        OnnxBuilder b;  // the pre-activation value is a graph output: not fused
        b.input("x", {2, 4}).output("g").output("y").init_rand("w", {4, 3});
        b.node("MatMul", {"x", "w"}, {"g"});
        b.node("Tanh", {"g"}, {"y"});
        CompileResult r = compile(b);
        EXPECT_EQ(count_ops(r, MTIA_OP_ACT, MTIA_ACT_TANH), 1);
    }
    {
        OnnxBuilder b;  // Add -> Clip(0, 6): fused as CLIP into the Binary
        b.input("x", {1, 8}).input("z", {1, 8}).output("y");
        b.init("lo", {}, {0.0f}).init("hi", {}, {6.0f});
        b.node("Add", {"x", "z"}, {"s"});
        b.node("Clip", {"s", "lo", "hi"}, {"y"});
        CompileResult r = compile(b);
        ASSERT_EQ(r.program.ops.size(), 1u);
        EXPECT_EQ(r.program.ops[0].act, MTIA_ACT_CLIP);
        EXPECT_EQ(r.program.ops[0].act_max, 6.0f);
        std::vector<float> x = {-3, -1, 0, 1, 2, 3, 4, 5}, z = {0, 0, 0, 0, 2, 3, 4, 5};
        auto out = run_on_host(r.bytes, {x, z});
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(out[0], (std::vector<float>{0, 0, 0, 1, 4, 6, 6, 6}));
    }
}

TEST(CompilerPasses, ShapeChainsFoldToConstantsAndReshapeIsAView)
{
    // y = relu(reshape(x, [shape(x)[0], -1])): the exporter's dynamic-reshape pattern.
    OnnxBuilder b;
    b.input("x", {2, 3, 4}).output("y");
    b.init_i64("zero", {}, {0}).init_i64("minus1", {1}, {-1}).init_i64("ax0", {1}, {0});
    b.node("Shape", {"x"}, {"s"});
    attr(b.node("Gather", {"s", "zero"}, {"n"}), "axis", int64_t{0});
    b.node("Unsqueeze", {"n", "ax0"}, {"n1"});
    attr(b.node("Concat", {"n1", "minus1"}, {"shape"}), "axis", int64_t{0});
    b.node("Reshape", {"x", "shape"}, {"flat"});
    b.node("Relu", {"flat"}, {"y"});
    CompileResult r = compile(b);
    EXPECT_GE(r.summary.passes.at("constants folded"), 4);
    ASSERT_EQ(r.program.ops.size(), 1u);
    EXPECT_EQ(r.program.ops[0].kind, MTIA_OP_ACT);
    EXPECT_EQ(r.summary.outputs[0].shape, (Shape{2, 12}));
    // The Relu reads the input's storage through a view: same offset.
    const auto &op = r.program.ops[0];
    EXPECT_EQ(r.program.tensors[op.in[0]].offset, r.program.tensors[r.program.inputs[0]].offset);
    EXPECT_EQ(r.program.tensors[op.in[0]].shape, (Shape{2, 12}));
}

TEST(CompilerPasses, FlattenSqueezeUnsqueezeIdentityAreViews)
{
    OnnxBuilder b;
    b.input("x", {1, 4, 1, 2}).output("y").init_i64("axes", {1}, {2}).init_i64("ax1", {1}, {1});
    b.node("Relu", {"x"}, {"r"});
    b.node("Squeeze", {"r", "axes"}, {"s"});   // 1x4x2
    b.node("Unsqueeze", {"s", "ax1"}, {"u"});  // 1x1x4x2
    b.node("Identity", {"u"}, {"i"});
    attr(b.node("Flatten", {"i"}, {"f"}), "axis", int64_t{1});  // 1x8
    b.node("Dropout", {"f"}, {"d"});
    b.node("Sigmoid", {"d"}, {"y"});
    CompileResult r = compile(b);
    EXPECT_EQ(r.program.ops.size(), 2u);  // Relu and Sigmoid only
    auto x = random_floats(8, 5);
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    for (int k = 0; k < 8; ++k) EXPECT_NEAR(out[0][k], 1.0f / (1.0f + std::exp(-std::max(x[k], 0.0f))), 1e-6f);
}

TEST(CompilerPasses, ConcatLowersToOneCopyPerInput)
{
    OnnxBuilder b;
    b.input("a", {2, 1, 3}).input("b", {2, 2, 3}).output("y").init("c", {2, 1, 3}, {1, 2, 3, 4, 5, 6});
    attr(b.node("Concat", {"a", "b", "c"}, {"y"}), "axis", int64_t{1});
    CompileResult r = compile(b);
    EXPECT_EQ(count_ops(r, MTIA_OP_COPY_INTO), 3);
    auto a = random_floats(6, 1), bb = random_floats(12, 2);
    auto out = run_on_host(r.bytes, {a, bb});
    ASSERT_EQ(out.size(), 1u);
    std::vector<float> want;
    std::vector<float> c = {1, 2, 3, 4, 5, 6};
    for (int n = 0; n < 2; ++n) {
        want.insert(want.end(), a.begin() + n * 3, a.begin() + n * 3 + 3);
        want.insert(want.end(), bb.begin() + n * 6, bb.begin() + n * 6 + 6);
        want.insert(want.end(), c.begin() + n * 3, c.begin() + n * 3 + 3);
    }
    EXPECT_EQ(out[0], want);
}

TEST(CompilerPasses, ConcatInPlaceWhenTheRegionIsContiguous)
{
    // Batch 1, channel concat of two convs (16 floats a channel: aligned):
    // the convs write into the concatenation, no copy. A value also
    // concatenated elsewhere (c) keeps its copies.
    OnnxBuilder b;
    b.input("x", {1, 2, 4, 4}).output("y").output("z").init_rand("w1", {3, 2, 1, 1}).init_rand("w2", {2, 2, 1, 1});
    b.node("Conv", {"x", "w1"}, {"a"});
    b.node("Conv", {"x", "w2"}, {"c"});
    b.node("Relu", {"a"}, {"ar"});
    attr(b.node("Concat", {"ar", "c"}, {"y"}), "axis", int64_t{1});
    attr(b.node("Concat", {"c", "x"}, {"z"}), "axis", int64_t{1});
    CompileResult r = compile(b);
    EXPECT_EQ(r.summary.passes.at("concat copies removed"), 1);
    EXPECT_EQ(count_ops(r, MTIA_OP_COPY_INTO), 3);  // c twice, x once
    auto x = random_floats(32, 6);
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 2u);
    const auto &g = b.model().graph();
    std::vector<float> w1(g.initializer(0).float_data().begin(), g.initializer(0).float_data().end());
    std::vector<float> w2(g.initializer(1).float_data().begin(), g.initializer(1).float_data().end());
    int oh, ow;
    auto a = conv_ref(x, 1, 2, 4, 4, w1, 3, 1, 1, {}, 0, 1, &oh, &ow);
    auto c = conv_ref(x, 1, 2, 4, 4, w2, 2, 1, 1, {}, 0, 1, &oh, &ow);
    for (auto &v : a) v = std::max(v, 0.0f);
    std::vector<float> y = a, z = c;
    y.insert(y.end(), c.begin(), c.end());
    z.insert(z.end(), x.begin(), x.end());
    EXPECT_LE(max_abs_diff(out[0], y), 1e-5f);
    EXPECT_LE(max_abs_diff(out[1], z), 1e-5f);
}

TEST(CompilerPasses, SplitAndSliceLowerToSliceOpsOrAlignedViews)
{
    {
        // Batch 2, split on dim 1: strided, so SLICE ops.
        OnnxBuilder b;
        b.input("x", {2, 6, 4}).output("p").output("q").init_i64("sizes", {2}, {2, 4});
        auto &s = b.node("Split", {"x", "sizes"}, {"s0", "s1"});
        attr(s, "axis", int64_t{1});
        b.node("Relu", {"s0"}, {"p"});
        b.node("Sigmoid", {"s1"}, {"q"});
        CompileResult r = compile(b);
        EXPECT_EQ(count_ops(r, MTIA_OP_SLICE), 2);
        auto x = random_floats(48, 9);
        auto out = run_on_host(r.bytes, {x});
        ASSERT_EQ(out.size(), 2u);
        for (int n = 0; n < 2; ++n)
            for (int c = 0; c < 6; ++c)
                for (int w = 0; w < 4; ++w) {
                    float v = x[(n * 6 + c) * 4 + w];
                    if (c < 2)
                        EXPECT_EQ(out[0][(n * 2 + c) * 4 + w], std::max(v, 0.0f));
                    else
                        EXPECT_NEAR(out[1][(n * 4 + c - 2) * 4 + w], 1.0f / (1.0f + std::exp(-v)), 1e-6f);
                }
    }
    {
        // Batch 1, channel halves of 16 floats (64 bytes): views, no op.
        OnnxBuilder b;
        b.input("x", {1, 4, 16}).output("y");
        b.init_i64("st", {1}, {2}).init_i64("en", {1}, {4}).init_i64("ax", {1}, {1});
        b.node("Relu", {"x"}, {"r"});
        b.node("Slice", {"r", "st", "en", "ax"}, {"s"});
        b.node("Tanh", {"s"}, {"y"});
        CompileResult r = compile(b);
        EXPECT_EQ(count_ops(r, MTIA_OP_SLICE), 0);
        EXPECT_EQ(r.program.ops.size(), 2u);
        auto x = random_floats(64, 4);
        auto out = run_on_host(r.bytes, {x});
        ASSERT_EQ(out.size(), 1u);
        for (int k = 0; k < 32; ++k) EXPECT_NEAR(out[0][k], std::tanh(std::max(x[32 + k], 0.0f)), 1e-6f);
    }
}

TEST(CompilerPasses, MaxPoolCeilModeAndSoftmaxOpset11)
{
    OnnxBuilder b(11);
    b.input("x", {1, 1, 5, 5}).output("y");
    auto &p = b.node("MaxPool", {"x"}, {"p"});
    attr(p, "kernel_shape", std::vector<int64_t>{2, 2});
    attr(p, "strides", std::vector<int64_t>{2, 2});
    attr(p, "ceil_mode", int64_t{1});
    attr(b.node("Softmax", {"p"}, {"y"}), "axis", int64_t{1});  // opset 11: over 1x9 flattened
    CompileResult r = compile(b);
    EXPECT_EQ(r.summary.outputs[0].shape, (Shape{1, 1, 3, 3}));
    std::vector<float> x(25);
    for (int k = 0; k < 25; ++k) x[k] = static_cast<float>((k * 7) % 11) * 0.3f;
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    std::vector<float> pooled(9);
    for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
            float m = -INFINITY;
            for (int u = 2 * i; u < std::min(2 * i + 2, 5); ++u)
                for (int v = 2 * j; v < std::min(2 * j + 2, 5); ++v) m = std::max(m, x[u * 5 + v]);
            pooled[i * 3 + j] = m;
        }
    float sum = 0;
    for (float v : pooled) sum += std::exp(v);
    for (auto &v : pooled) v = std::exp(v) / sum;
    EXPECT_LE(max_abs_diff(out[0], pooled), 1e-6f);
}

TEST(CompilerPasses, DecomposedActivations)
{
    OnnxBuilder b(14);
    b.input("x", {1, 16}).output("hs").output("lr").output("hsig").output("neg");
    b.node("HardSwish", {"x"}, {"hs"});
    attr(b.node("LeakyRelu", {"x"}, {"lr"}), "alpha", 0.1f);
    b.node("HardSigmoid", {"x"}, {"hsig"});
    b.node("Neg", {"x"}, {"neg"});
    CompileResult r = compile(b);
    std::vector<float> x(16);
    for (int k = 0; k < 16; ++k) x[k] = -4.0f + 0.55f * k;
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 4u);
    for (int k = 0; k < 16; ++k) {
        const float v = x[k], hsig = std::min(std::max(0.2f * v + 0.5f, 0.0f), 1.0f);
        EXPECT_NEAR(out[0][k], v * std::min(std::max(v / 6.0f + 0.5f, 0.0f), 1.0f), 1e-6f) << v;
        EXPECT_NEAR(out[1][k], v > 0 ? v : 0.1f * v, 1e-6f) << v;
        EXPECT_NEAR(out[2][k], hsig, 1e-6f) << v;
        EXPECT_EQ(out[3][k], -v);
    }
}

TEST(CompilerPasses, PadFoldsIntoConvAndMatMulBiasIntoGemm)
{
    OnnxBuilder b;
    b.input("x", {1, 2, 4, 4}).output("y").init_rand("w", {3, 2, 3, 3}).init_rand("fc", {6, 5}).init_rand("bias", {5});
    b.init_i64("pads", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
    b.node("Pad", {"x", "pads"}, {"p"});
    b.node("Conv", {"p", "w"}, {"c"});  // 1x3x4x4
    b.init_i64("shape", {3}, {1, 8, 6});
    b.node("Reshape", {"c", "shape"}, {"r"});
    b.node("MatMul", {"r", "fc"}, {"m"});  // 1x8x5
    b.node("Add", {"m", "bias"}, {"y"});
    CompileResult r = compile(b);
    EXPECT_EQ(r.summary.passes.at("pads folded"), 1);
    EXPECT_EQ(r.summary.passes.at("matmul biases fused"), 1);
    ASSERT_EQ(r.program.ops.size(), 2u);
    EXPECT_EQ(r.program.ops[1].kind, MTIA_OP_GEMM);
    EXPECT_EQ(r.program.ops[1].in.size(), 3u);
    auto x = random_floats(32, 8);
    const auto &g = b.model().graph();
    auto init = [&](int k) {
        return std::vector<float>(g.initializer(k).float_data().begin(), g.initializer(k).float_data().end());
    };
    int oh, ow;
    auto c = conv_ref(x, 1, 2, 4, 4, init(0), 3, 3, 3, {}, 1, 1, &oh, &ow);
    auto fc = init(1), bias = init(2);
    std::vector<float> want(40);
    for (int i = 0; i < 8; ++i)
        for (int j = 0; j < 5; ++j) {
            float s = bias[j];
            for (int k = 0; k < 6; ++k) s += c[i * 6 + k] * fc[k * 5 + j];
            want[i * 5 + j] = s;
        }
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_LE(max_abs_diff(out[0], want), 1e-5f);
}

TEST(CompilerPasses, GraphOutputThatIsAnInputOrConstantIsCopied)
{
    OnnxBuilder b;
    b.input("x", {1, 4}).output("x").output("k").output("v").init("k", {2}, {3.0f, 4.0f});
    b.init_i64("shape", {1}, {4});
    b.node("Reshape", {"x", "shape"}, {"v"});
    CompileResult r = compile(b);
    EXPECT_EQ(count_ops(r, MTIA_OP_ACT), 3);
    std::vector<float> x = {1, 2, 3, 4};
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 3u);
    EXPECT_EQ(out[0], x);
    EXPECT_EQ(out[1], (std::vector<float>{3, 4}));
    EXPECT_EQ(out[2], x);
}

TEST(CompilerPasses, OutputsOverlappingOtherOutputsAreCopied)
{
    // y and its first half (a contiguous, aligned slice: a view) are both outputs.
    OnnxBuilder b;
    b.input("x", {1, 4, 16}).output("y").output("h").init_i64("st", {1}, {0}).init_i64("en", {1}, {2});
    b.init_i64("ax", {1}, {1});
    b.node("Relu", {"x"}, {"y"});
    b.node("Slice", {"y", "st", "en", "ax"}, {"h"});
    CompileResult r = compile(b);
    EXPECT_EQ(count_ops(r, MTIA_OP_ACT), 2);  // the Relu and the copy of h
    auto x = random_floats(64, 2);
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 2u);
    for (int k = 0; k < 32; ++k) EXPECT_EQ(out[1][k], std::max(x[k], 0.0f));
}

}  // namespace
}  // namespace mtia::compiler::testing
