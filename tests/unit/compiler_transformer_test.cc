// SPDX-License-Identifier: MIT
// The compiler's transformer support on tiny ONNX graphs: the fusions of
// PyTorch's decomposed LayerNorm and GELU (erf and tanh forms, fused onto the
// GEMM before them), the lowering of the new ops (each run on the compute
// engine against a reference computed here), and the refusals.
#include <cmath>
#include <cstring>

#include <gtest/gtest.h>

#include "compiler_test_util.h"

namespace mtia::compiler::testing {
namespace {

CompileResult compile(const OnnxBuilder &b) { return compile_model(b.model(), ".", {}); }

int count_ops(const CompileResult &r, uint16_t kind, int act = -1)
{
    int n = 0;
    for (const auto &op : r.program.ops) n += op.kind == kind && (act < 0 || op.act == act);
    return n;
}

CompileError error_of(const OnnxBuilder &b)
{
    try {
        compile(b);
    } catch (const CompileError &e) {
        return e;
    }
    ADD_FAILURE() << "compiled without error";
    return CompileError(ErrorKind::kInternal, "");
}

// Runs r on the engine and compares with want (|d| <= tol * (1 + |want|)).
void expect_runs(const CompileResult &r, const std::vector<std::vector<float>> &in, const std::vector<float> &want,
                 double tol = 1e-4)
{
    const auto out = run_on_host(r.bytes, in);
    ASSERT_EQ(out.size(), 1u);
    ASSERT_EQ(out[0].size(), want.size());
    for (size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(out[0][i], want[i], tol * (1 + std::fabs(want[i]))) << "element " << i;
}

// PyTorch's opset-13 LayerNorm over the last dim (R rows of C), with scale and bias.
OnnxBuilder decomposed_layernorm(int rows, int c, float eps)
{
    OnnxBuilder b;
    b.input("x", {rows, c}).output("y").init("two", {}, {2.0f}).init("eps", {}, {eps});
    b.init_rand("scale", {c}).init_rand("bias", {c});
    attr(b.node("ReduceMean", {"x"}, {"m"}), "axes", std::vector<int64_t>{-1});
    b.node("Sub", {"x", "m"}, {"d"});
    b.node("Pow", {"d", "two"}, {"p"});
    attr(b.node("ReduceMean", {"p"}, {"v"}), "axes", std::vector<int64_t>{-1});
    b.node("Add", {"v", "eps"}, {"ve"});
    b.node("Sqrt", {"ve"}, {"s"});
    b.node("Div", {"d", "s"}, {"n"});
    b.node("Mul", {"n", "scale"}, {"ns"});
    b.node("Add", {"ns", "bias"}, {"y"});
    return b;
}

std::vector<float> layernorm_ref(const std::vector<float> &x, int rows, int c, float eps, const std::vector<float> &s,
                                 const std::vector<float> &b)
{
    std::vector<float> y(x.size());
    for (int r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (int j = 0; j < c; ++j) mean += x[r * c + j];
        mean /= c;
        for (int j = 0; j < c; ++j) var += (x[r * c + j] - mean) * (x[r * c + j] - mean);
        var /= c;
        for (int j = 0; j < c; ++j)
            y[r * c + j] =
                float((x[r * c + j] - mean) / std::sqrt(var + eps) * (s.empty() ? 1 : s[j]) + (b.empty() ? 0 : b[j]));
    }
    return y;
}

const std::vector<float> &init_values(const OnnxBuilder &b, const std::string &name, std::vector<float> *keep)
{
    for (const auto &t : b.model().graph().initializer())
        if (t.name() == name) {
            keep->assign(t.float_data().begin(), t.float_data().end());
            if (keep->empty()) {
                keep->resize(t.raw_data().size() / 4);
                std::memcpy(keep->data(), t.raw_data().data(), t.raw_data().size());
            }
        }
    return *keep;
}

TEST(CompilerTransformer, DecomposedLayerNormFusesToOneOp)
{
    const int rows = 6, c = 32;
    OnnxBuilder b = decomposed_layernorm(rows, c, 1e-5f);
    const CompileResult r = compile(b);
    EXPECT_EQ(r.program.ops.size(), 1u);
    EXPECT_EQ(count_ops(r, MTIA_OP_LAYERNORM), 1);
    std::vector<float> s, bi;
    init_values(b, "scale", &s);
    init_values(b, "bias", &bi);
    const auto x = random_floats(rows * c, 3);
    expect_runs(r, {x}, layernorm_ref(x, rows, c, 1e-5f, s, bi));
}

TEST(CompilerTransformer, LayerNormWithAnotherReaderOfItsMeanIsNotFused)
{
    OnnxBuilder b = decomposed_layernorm(4, 8, 1e-5f);
    b.output("m");  // the mean is also a graph output: the pattern must stay
    const CompileResult r = compile(b);
    EXPECT_EQ(count_ops(r, MTIA_OP_LAYERNORM), 0);
}

TEST(CompilerTransformer, LayerNormalizationOpset17)
{
    OnnxBuilder b(17);
    b.input("x", {2, 3, 8}).output("y").init_rand("scale", {3, 8});
    auto &n = b.node("LayerNormalization", {"x", "scale"}, {"y"});
    attr(n, "axis", int64_t{1});
    attr(n, "epsilon", 1e-3f);
    const CompileResult r = compile(b);
    ASSERT_EQ(count_ops(r, MTIA_OP_LAYERNORM), 1);
    std::vector<float> s;
    init_values(b, "scale", &s);
    const auto x = random_floats(48, 4);
    expect_runs(r, {x}, layernorm_ref(x, 2, 24, 1e-3f, s, {}));
}

double gelu(double x, bool tanh_form)
{
    if (tanh_form) return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
}

// MatMul + bias + GELU as PyTorch exports it at opset 13.
OnnxBuilder linear_gelu(bool tanh_form)
{
    OnnxBuilder b;
    b.input("x", {4, 8}).output("y").init_rand("w", {8, 6}).init_rand("bias", {6});
    b.init("half", {}, {0.5f}).init("one", {}, {1.0f});
    b.node("MatMul", {"x", "w"}, {"mm"});
    b.node("Add", {"bias", "mm"}, {"h"});
    if (!tanh_form) {
        b.init("sqrt2", {}, {1.4142135f});
        b.node("Div", {"h", "sqrt2"}, {"a"});
        b.node("Erf", {"a"}, {"e"});
        b.node("Add", {"e", "one"}, {"e1"});
    } else {
        b.init("k", {}, {0.044715f}).init("c", {}, {0.7978846f});
        b.node("Mul", {"h", "h"}, {"h2"});
        b.node("Mul", {"h", "h2"}, {"h3"});
        b.node("Mul", {"k", "h3"}, {"kh3"});
        b.node("Add", {"h", "kh3"}, {"u"});
        b.node("Mul", {"c", "u"}, {"cu"});
        b.node("Tanh", {"cu"}, {"t"});
        b.node("Add", {"one", "t"}, {"e1"});
    }
    b.node("Mul", {"h", "e1"}, {"xe"});
    b.node("Mul", {"xe", "half"}, {"y"});
    return b;
}

TEST(CompilerTransformer, GeluFormsFuseOntoTheGemm)
{
    for (bool tanh_form : {false, true}) {
        SCOPED_TRACE(tanh_form ? "tanh" : "erf");
        OnnxBuilder b = linear_gelu(tanh_form);
        const CompileResult r = compile(b);
        ASSERT_EQ(r.program.ops.size(), 1u);
        EXPECT_EQ(count_ops(r, MTIA_OP_GEMM, tanh_form ? MTIA_ACT_GELU_TANH : MTIA_ACT_GELU_ERF), 1);
        std::vector<float> w, bias;
        init_values(b, "w", &w);
        init_values(b, "bias", &bias);
        const auto x = random_floats(32, 5);
        std::vector<float> want(24);
        for (int i = 0; i < 4; ++i)
            for (int j = 0; j < 6; ++j) {
                double s = bias[j];
                for (int k = 0; k < 8; ++k) s += double(x[i * 8 + k]) * w[k * 6 + j];
                want[i * 6 + j] = float(gelu(s, tanh_form));
            }
        expect_runs(r, {x}, want);
    }
}

TEST(CompilerTransformer, UnaryMathIsActAndErfStaysUnfused)
{
    const std::pair<const char *, uint8_t> ops[] = {{"Exp", MTIA_ACT_EXP},   {"Log", MTIA_ACT_LOG},
                                                    {"Sqrt", MTIA_ACT_SQRT}, {"Reciprocal", MTIA_ACT_RECIPROCAL},
                                                    {"Abs", MTIA_ACT_ABS},   {"Erf", MTIA_ACT_ERF}};
    for (const auto &[op, act] : ops) {
        SCOPED_TRACE(op);
        OnnxBuilder b;
        b.input("x", {3, 4}).output("y").init_rand("w", {4, 4});
        b.node("MatMul", {"x", "w"}, {"m"});
        b.node("Abs", {"m"}, {"a"});  // keeps Log/Sqrt in their domain
        b.node(op, {"a"}, {"y"});
        const CompileResult r = compile(b);
        // Abs fuses onto the GEMM; the op under test is its own ACT.
        EXPECT_EQ(count_ops(r, MTIA_OP_GEMM, MTIA_ACT_ABS), 1);
        EXPECT_EQ(count_ops(r, MTIA_OP_ACT, act), 1);
    }
}

TEST(CompilerTransformer, ReduceSumOverNonAdjacentAxes)
{
    OnnxBuilder b;
    b.input("x", {2, 3, 4}).output("y").init_i64("axes", {2}, {0, 2});
    attr(b.node("ReduceSum", {"x", "axes"}, {"y"}), "keepdims", int64_t{0});
    const CompileResult r = compile(b);
    ASSERT_EQ(count_ops(r, MTIA_OP_REDUCE), 1);
    const auto x = random_floats(24, 6);
    std::vector<float> want(3, 0.0f);
    for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 3; ++j)
            for (int k = 0; k < 4; ++k) want[j] += x[(i * 3 + j) * 4 + k];
    expect_runs(r, {x}, want);
}

TEST(CompilerTransformer, LogSoftmaxAndNegativeStepSlice)
{
    OnnxBuilder b;
    b.input("x", {2, 7}).output("y").init_i64("st", {1}, {-1}).init_i64("en", {1}, {-100});
    b.init_i64("ax", {1}, {1}).init_i64("step", {1}, {-2});
    b.node("Slice", {"x", "st", "en", "ax", "step"}, {"s"});  // columns 6, 4, 2, 0
    attr(b.node("LogSoftmax", {"s"}, {"y"}), "axis", int64_t{-1});
    const CompileResult r = compile(b);
    EXPECT_EQ(count_ops(r, MTIA_OP_SLICE), 1);
    EXPECT_EQ(count_ops(r, MTIA_OP_SOFTMAX), 1);
    const auto x = random_floats(14, 7);
    std::vector<float> want(8);
    for (int i = 0; i < 2; ++i) {
        double sum = 0;
        for (int j = 0; j < 4; ++j) sum += std::exp(double(x[i * 7 + 6 - 2 * j]));
        for (int j = 0; j < 4; ++j) want[i * 4 + j] = float(x[i * 7 + 6 - 2 * j] - std::log(sum));
    }
    expect_runs(r, {x}, want);
}

TEST(CompilerTransformer, ExpandAndTileOfOnes)
{
    OnnxBuilder b;
    b.input("x", {3, 1}).output("y").init_i64("shape", {3}, {2, 3, 4}).init_i64("rep", {3}, {1, 1, 1});
    b.node("Expand", {"x", "shape"}, {"e"});
    b.node("Tile", {"e", "rep"}, {"y"});
    const CompileResult r = compile(b);
    EXPECT_EQ(count_ops(r, MTIA_OP_EXPAND), 1);
    const auto x = random_floats(3, 8);
    std::vector<float> want(24);
    for (int i = 0; i < 24; ++i) want[i] = x[(i / 4) % 3];
    expect_runs(r, {x}, want, 0);
}

TEST(CompilerTransformer, MatMulBroadcastsBatchDims)
{
    OnnxBuilder b;
    b.input("q", {2, 1, 3, 4}).input("k", {1, 2, 4, 5}).output("y");
    b.node("MatMul", {"q", "k"}, {"y"});
    const CompileResult r = compile(b);
    ASSERT_EQ(count_ops(r, MTIA_OP_GEMM), 1);
    const auto q = random_floats(24, 9), k = random_floats(40, 10);
    std::vector<float> want(60);
    for (int b0 = 0; b0 < 2; ++b0)
        for (int b1 = 0; b1 < 2; ++b1)
            for (int i = 0; i < 3; ++i)
                for (int j = 0; j < 5; ++j) {
                    double s = 0;
                    for (int t = 0; t < 4; ++t) s += double(q[(b0 * 3 + i) * 4 + t]) * k[(b1 * 4 + t) * 5 + j];
                    want[((b0 * 2 + b1) * 3 + i) * 5 + j] = float(s);
                }
    expect_runs(r, {q, k}, want);
}

TEST(CompilerTransformer, GeneralPowIsBinaryPow)
{
    OnnxBuilder b;
    b.input("x", {5}).output("y").init("e", {}, {1.5f});
    b.node("Abs", {"x"}, {"a"});
    b.node("Pow", {"a", "e"}, {"y"});
    const CompileResult r = compile(b);
    ASSERT_EQ(r.program.ops.size(), 2u);
    EXPECT_EQ(r.program.ops[1].kind, MTIA_OP_BINARY);
    EXPECT_EQ(r.program.ops[1].attrs[0], uint32_t{MTIA_BINARY_POW});
    const auto x = random_floats(5, 11);
    std::vector<float> want(5);
    for (int i = 0; i < 5; ++i) want[i] = std::pow(std::fabs(x[i]), 1.5f);
    expect_runs(r, {x}, want);
}

TEST(CompilerTransformer, TrainingDropoutIsRefused)
{
    OnnxBuilder b;
    b.input("x", {2, 4}).output("y").init("ratio", {}, {0.5f});
    auto *t = b.mutable_model().mutable_graph()->add_initializer();
    t->set_name("train");
    t->set_data_type(onnx::TensorProto::BOOL);
    t->add_int32_data(1);
    b.node("Dropout", {"x", "ratio", "train"}, {"d"}, "Dropout_3");
    b.node("Relu", {"d"}, {"y"});
    const CompileError e = error_of(b);
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("Dropout_3"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("training_mode true"), std::string::npos) << e.what();
}

TEST(CompilerTransformer, InferenceDropoutIsIdentity)
{
    OnnxBuilder b;
    b.input("x", {2, 4}).output("y").init("ratio", {}, {0.5f});
    auto *t = b.mutable_model().mutable_graph()->add_initializer();
    t->set_name("train");
    t->set_data_type(onnx::TensorProto::BOOL);
    t->add_int32_data(0);
    b.node("Dropout", {"x", "ratio", "train"}, {"d"});
    b.node("Relu", {"d"}, {"y"});
    const CompileResult r = compile(b);
    EXPECT_EQ(r.program.ops.size(), 1u);
}

}  // namespace
}  // namespace mtia::compiler::testing
