// SPDX-License-Identifier: MIT
// QDQ models (QuantizeLinear/DequantizeLinear around Conv/Gemm, laid out as
// onnxruntime's quantizer writes them) compile to the device's int8 path:
// quantized tensors between ops, per-channel int8 CONV/GEMM, no CASTs left
// but at the model's edges; and the errors for what the device cannot take.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "compiler_test_util.h"
#include "errors.h"
#include "mtia/mtia_spec.h"

using namespace mtia::compiler;
using namespace mtia::compiler::testing;
using onnx::TensorProto;

namespace {

// Per-channel symmetric int8 weights as a quantizer writes them: each
// channel's largest magnitude is 127.
std::vector<int32_t> int8_weights(size_t channels, size_t per, uint32_t seed)
{
    std::vector<float> r = random_floats(channels * per, seed);
    std::vector<int32_t> q(r.size());
    for (size_t c = 0; c < channels; ++c) {
        float amax = 0;
        for (size_t j = 0; j < per; ++j) amax = std::max(amax, std::fabs(r[c * per + j]));
        for (size_t j = 0; j < per; ++j)
            q[c * per + j] = static_cast<int32_t>(std::lround(r[c * per + j] / amax * 127));
    }
    return q;
}

// x -> Q/DQ -> Conv(DQ(w int8, per channel), DQ(b int32)) -> Relu -> Q/DQ ->
// MaxPool -> Q/DQ -> Flatten -> Gemm(DQ(w int8, per channel), bias) -> y.
OnnxBuilder qdq_net()
{
    OnnxBuilder b;
    b.input("x", {1, 4, 8, 8}).output("y");
    const float xs = 0.05f, ys = 0.1f;
    b.init("xs", {}, {xs}).init_int("xzp", {}, {128}, TensorProto::UINT8);
    b.init("ys", {}, {ys}).init_int("yzp", {}, {0}, TensorProto::UINT8);
    std::vector<float> ws(6), gs(10);
    for (size_t c = 0; c < 6; ++c) ws[c] = 0.002f * static_cast<float>(c + 1);
    for (size_t c = 0; c < 10; ++c) gs[c] = 0.001f * static_cast<float>(c + 2);
    std::vector<float> bs(6);
    for (size_t c = 0; c < 6; ++c) bs[c] = xs * ws[c];
    b.init_int("wq", {6, 4, 3, 3}, int8_weights(6, 36, 1), TensorProto::INT8)
        .init("ws", {6}, ws)
        .init_int("wzp", {6}, std::vector<int32_t>(6, 0), TensorProto::INT8)
        .init_int("bq", {6}, {100, -200, 300, 0, 50, -50}, TensorProto::INT32)
        .init("bs", {6}, bs);
    b.init_int("gq", {10, 96}, int8_weights(10, 96, 2), TensorProto::INT8)
        .init("gs", {10}, gs)
        .init_int("gzp", {10}, std::vector<int32_t>(10, 0), TensorProto::INT8)
        .init_rand("gb", {10});
    b.node("QuantizeLinear", {"x", "xs", "xzp"}, {"xq"});
    b.node("DequantizeLinear", {"xq", "xs", "xzp"}, {"xd"});
    attr(b.node("DequantizeLinear", {"wq", "ws", "wzp"}, {"wd"}), "axis", int64_t{0});
    attr(b.node("DequantizeLinear", {"bq", "bs"}, {"bd"}), "axis", int64_t{0});
    attr(b.node("Conv", {"xd", "wd", "bd"}, {"c"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
    b.node("Relu", {"c"}, {"r"});
    b.node("QuantizeLinear", {"r", "ys", "yzp"}, {"rq"});
    b.node("DequantizeLinear", {"rq", "ys", "yzp"}, {"rd"});
    auto &mp = b.node("MaxPool", {"rd"}, {"p"});
    attr(mp, "kernel_shape", std::vector<int64_t>{2, 2});
    attr(mp, "strides", std::vector<int64_t>{2, 2});
    b.node("QuantizeLinear", {"p", "ys", "yzp"}, {"pq"});
    b.node("DequantizeLinear", {"pq", "ys", "yzp"}, {"pd"});
    b.node("Flatten", {"pd"}, {"f"});
    attr(b.node("DequantizeLinear", {"gq", "gs", "gzp"}, {"gd"}), "axis", int64_t{0});
    attr(b.node("Gemm", {"f", "gd", "gb"}, {"y"}), "transB", int64_t{1});
    return b;
}

std::map<std::string, int> op_kinds(const DevGraph &d)
{
    std::map<std::string, int> k;
    for (const auto &op : d.ops) k[op_kind_name(op.kind)]++;
    return k;
}

}  // namespace

TEST(CompilerQuant, QdqNetRunsOnTheInt8Path)
{
    const CompileResult r = compile_program(qdq_net().model(), "", {});
    const DevGraph &d = r.program;
    // The input's quantization, int8 Conv (Relu fused) writing uint8, MaxPool
    // on uint8, int8 Gemm reading the pooled uint8 and writing float32.
    EXPECT_EQ(op_kinds(d), (std::map<std::string, int>{{"Cast", 1}, {"Conv", 1}, {"Pool", 1}, {"Gemm", 1}}));
    EXPECT_EQ(r.summary.passes.at("int8 ops"), 2);
    EXPECT_EQ(r.summary.passes.at("quantize/dequantize casts fused"), 5);
    for (const auto &op : d.ops) {
        const DevTensor &x = d.tensors[op.in[0]], &o = d.tensors[op.out];
        if (op.kind == MTIA_OP_CAST) {
            EXPECT_EQ(o.dtype, MTIA_DTYPE_U8);
            EXPECT_EQ(o.scale, 0.05f);
            EXPECT_EQ(o.zero_point, 128);
        } else if (op.kind == MTIA_OP_CONV || op.kind == MTIA_OP_GEMM) {
            EXPECT_EQ(x.dtype, MTIA_DTYPE_U8) << op.name;
            EXPECT_EQ(d.tensors[op.in[1]].dtype, MTIA_DTYPE_I8) << op.name;
            EXPECT_EQ(d.tensors[op.in[1]].scale, 0.0f) << op.name;
            const Shape sb = d.tensors[op.in[2]].shape;
            EXPECT_EQ(sb, (Shape{2, op.kind == MTIA_OP_CONV ? 6 : 10})) << op.name;
            EXPECT_EQ(o.dtype, op.kind == MTIA_OP_CONV ? MTIA_DTYPE_U8 : MTIA_DTYPE_F32) << op.name;
        } else {
            EXPECT_EQ(x.dtype, MTIA_DTYPE_U8);
            EXPECT_EQ(o.dtype, MTIA_DTYPE_U8);
            EXPECT_EQ(o.scale, 0.1f);
        }
    }
    // The weights come back as the model's int8 values, their scales the
    // model's (to float rounding), the bias dequantized.
    for (const auto &op : d.ops) {
        if (op.kind != MTIA_OP_CONV) continue;
        const auto want = int8_weights(6, 36, 1);
        const ConstTensor &w = *d.tensors[op.in[1]].data, &sb = *d.tensors[op.in[2]].data;
        ASSERT_EQ(w.i.size(), want.size());
        for (size_t k = 0; k < want.size(); ++k) ASSERT_EQ(w.i[k], want[k]) << k;
        for (size_t c = 0; c < 6; ++c) EXPECT_NEAR(sb.f[c], 0.002f * static_cast<float>(c + 1), 1e-9) << c;
        EXPECT_NEAR(sb.f[6 + 1], -200 * 0.05f * 0.004f, 1e-7);
    }
}

TEST(CompilerQuant, WhatTheDeviceCannotTakeIsRefused)
{
    auto compile_error = [](const OnnxBuilder &b) -> std::string {
        try {
            compile_program(b.model(), "", {});
        } catch (const CompileError &e) {
            return e.what();
        }
        return "";
    };
    {  // an integer Cast to int8 is not a quantization
        OnnxBuilder b;
        b.input("x", {4}).output("y");
        attr(b.node("Cast", {"x"}, {"c"}), "to", int64_t{TensorProto::INT8});
        attr(b.node("Cast", {"c"}, {"y"}), "to", int64_t{TensorProto::FLOAT});
        EXPECT_NE(compile_error(b).find("QuantizeLinear makes them"), std::string::npos) << compile_error(b);
    }
    {  // per-axis quantization of an activation
        OnnxBuilder b;
        b.input("x", {1, 2}).output("y").init("s", {2}, {0.1f, 0.2f});
        b.init_int("z", {2}, {0, 0}, TensorProto::INT8);
        b.node("QuantizeLinear", {"x", "s", "z"}, {"q"});
        b.node("DequantizeLinear", {"q", "s", "z"}, {"y"});
        EXPECT_NE(compile_error(b).find("per-axis quantization of an activation"), std::string::npos)
            << compile_error(b);
    }
    {  // read back with other parameters
        OnnxBuilder b;
        b.input("x", {4}).output("y").init("s", {}, {0.1f}).init("s2", {}, {0.2f});
        b.node("QuantizeLinear", {"x", "s"}, {"q"});
        b.node("DequantizeLinear", {"q", "s2"}, {"y"});
        EXPECT_NE(compile_error(b).find("other parameters"), std::string::npos) << compile_error(b);
    }
    {  // a scale of 0
        OnnxBuilder b;
        b.input("x", {4}).output("y").init("s", {}, {0.0f});
        b.node("QuantizeLinear", {"x", "s"}, {"q"});
        b.node("DequantizeLinear", {"q", "s"}, {"y"});
        EXPECT_NE(compile_error(b).find("not finite and > 0"), std::string::npos) << compile_error(b);
    }
}

TEST(CompilerQuant, QLinearConvAndMatMulRunOnTheInt8Path)
{
    OnnxBuilder b;
    b.input("x", {1, 4, 6, 6}).output("y");
    b.init("xs", {}, {0.05f}).init_int("xzp", {}, {128}, TensorProto::UINT8);
    b.init("ys", {}, {0.1f}).init_int("yzp", {}, {10}, TensorProto::UINT8);
    b.init_int("wq", {5, 4, 3, 3}, int8_weights(5, 36, 3), TensorProto::INT8).init("ws", {5}, {1, 2, 3, 4, 5});
    b.init_int("wzp", {5}, std::vector<int32_t>(5, 0), TensorProto::INT8);
    b.init_int("bq", {5}, {1, 2, 3, 4, 5}, TensorProto::INT32);
    b.init_int("mq", {5, 7}, int8_weights(5, 7, 4), TensorProto::INT8).init("ms", {}, {0.02f});
    b.init_int("mzp", {}, {0}, TensorProto::INT8);
    b.init_i64("shape", {2}, {5, 36});
    b.init("zs", {}, {0.3f}).init_int("zzp", {}, {0}, TensorProto::UINT8);
    b.node("QuantizeLinear", {"x", "xs", "xzp"}, {"xq"});
    attr(b.node("QLinearConv", {"xq", "xs", "xzp", "wq", "ws", "wzp", "ys", "yzp", "bq"}, {"cq"}), "pads",
         std::vector<int64_t>{1, 1, 1, 1});
    b.node("Reshape", {"cq", "shape"}, {"rq"});
    b.node("DequantizeLinear", {"rq", "ys", "yzp"}, {"rd"});  // (5, 36) -> a (36, 16) MatMul needs a transpose
    attr(b.node("Transpose", {"rd"}, {"t"}), "perm", std::vector<int64_t>{1, 0});
    b.node("QuantizeLinear", {"t", "ys", "yzp"}, {"tq"});
    b.node("QLinearMatMul", {"tq", "ys", "yzp", "mq", "ms", "mzp", "zs", "zzp"}, {"mm"});
    b.node("DequantizeLinear", {"mm", "zs", "zzp"}, {"y"});
    const CompileResult r = compile_program(b.model(), "", {});
    EXPECT_EQ(r.summary.passes.at("int8 ops"), 2);
    int int8 = 0;
    for (const auto &op : r.program.ops) {
        if (op.kind != MTIA_OP_CONV && op.kind != MTIA_OP_GEMM) continue;
        ++int8;
        EXPECT_EQ(r.program.tensors[op.in[0]].dtype, MTIA_DTYPE_U8) << op.name;
        EXPECT_EQ(r.program.tensors[op.out].dtype, MTIA_DTYPE_U8) << op.name;
        if (op.kind == MTIA_OP_CONV) {  // the int32 bias times x_scale * w_scale
            EXPECT_NEAR(r.program.tensors[op.in[2]].data->f[5 + 2], 3 * 0.05f * 3, 1e-6);
        }
    }
    EXPECT_EQ(int8, 2);
}
