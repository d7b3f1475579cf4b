// SPDX-License-Identifier: MIT
// ONNX's integer ops compiled and run on the host's compute engine against
// exact references: MatMulInteger and ConvInteger (uint8 and int8, scalar
// and per-row/column/channel zero points, constant and runtime operands
// and zero points), DynamicQuantizeLinear (NumPy's float32 arithmetic,
// round half to even), and a model laid out as onnxruntime's dynamic
// quantization writes it; then what the device cannot take is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "compiler_test_util.h"
#include "errors.h"
#include "mtia/mtia_spec.h"

using namespace mtia::compiler;
using namespace mtia::compiler::testing;
using onnx::TensorProto;

namespace {

// Random 8-bit integers of @dt.
std::vector<int32_t> rand8(size_t n, int32_t dt, std::mt19937 &rng)
{
    std::uniform_int_distribution<int> u(dt == TensorProto::UINT8 ? 0 : -128, dt == TensorProto::UINT8 ? 255 : 127);
    std::vector<int32_t> v(n);
    for (auto &x : v) x = u(rng);
    return v;
}

// An 8-bit input for run_on_host: its bytes in floats' storage (n % 4 == 0).
std::vector<float> bytes_input(const std::vector<int32_t> &v)
{
    EXPECT_EQ(v.size() % 4, 0u);
    std::vector<float> f(v.size() / 4);
    for (size_t i = 0; i < v.size(); ++i) reinterpret_cast<uint8_t *>(f.data())[i] = static_cast<uint8_t>(v[i]);
    return f;
}

std::vector<int32_t> as_i32(const std::vector<float> &f, size_t n)
{
    std::vector<int32_t> v(n);
    std::memcpy(v.data(), f.data(), n * 4);
    return v;
}

std::vector<uint8_t> as_u8(const std::vector<float> &f, size_t n)
{
    std::vector<uint8_t> v(n);
    std::memcpy(v.data(), f.data(), n);
    return v;
}

// MatMulInteger reference: A (M, K) per batch, B (K, N); zero points per
// row (za size M) or column (zb size N), or one value (size 1).
std::vector<int32_t> matmul_ref(const std::vector<int32_t> &a, const std::vector<int32_t> &b, int64_t batch, int64_t m,
                                int64_t k, int64_t n, const std::vector<int32_t> &za, const std::vector<int32_t> &zb)
{
    std::vector<int32_t> y(static_cast<size_t>(batch * m * n));
    for (int64_t t = 0; t < batch; ++t)
        for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
                int64_t s = 0;
                for (int64_t kk = 0; kk < k; ++kk)
                    s += int64_t(a[(t * m + i) * k + kk] - za[za.size() == 1 ? 0 : i]) *
                         (b[kk * n + j] - zb[zb.size() == 1 ? 0 : j]);
                y[(t * m + i) * n + j] = static_cast<int32_t>(s);
            }
    return y;
}

void expect_ints(const std::vector<int32_t> &got, const std::vector<int32_t> &want, const std::string &what)
{
    ASSERT_EQ(got.size(), want.size()) << what;
    size_t bad = 0;
    for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != want[i] && bad++ < 3) ADD_FAILURE() << what << " [" << i << "] " << got[i] << " != " << want[i];
    EXPECT_EQ(bad, 0u) << what;
}

struct MmCase {
    int32_t dt;
    bool b_const, zp_const, per_axis;
};

TEST(CompilerInteger, MatMulIntegerExact)
{
    std::mt19937 rng(5);
    const int64_t batch = 3, m = 4, k = 37, n = 8;
    for (const MmCase c : {MmCase{TensorProto::UINT8, true, true, false}, MmCase{TensorProto::INT8, true, true, true},
                           MmCase{TensorProto::UINT8, false, false, true}, MmCase{TensorProto::INT8, false, true, true},
                           MmCase{TensorProto::UINT8, true, false, true}}) {
        const std::string what = "dtype " + std::to_string(c.dt) + (c.b_const ? " const B" : " runtime B") +
                                 (c.zp_const ? " const zps" : " runtime zps") + (c.per_axis ? " per axis" : "");
        const auto a = rand8(batch * m * k, c.dt, rng), bv = rand8(k * n, c.dt, rng);
        const auto za = rand8(c.per_axis ? m : 1, c.dt, rng), zb = rand8(c.per_axis ? n : 1, c.dt, rng);
        const std::vector<int64_t> zas = c.per_axis ? std::vector<int64_t>{m} : std::vector<int64_t>{};
        const std::vector<int64_t> zbs = c.per_axis ? std::vector<int64_t>{n} : std::vector<int64_t>{};
        OnnxBuilder b;
        b.input("a", {batch, m, k}, c.dt);
        std::vector<std::vector<float>> ins = {bytes_input(a)};
        if (c.b_const) {
            b.init_int("b", {k, n}, bv, c.dt);
        } else {
            b.input("b", {k, n}, c.dt);
            ins.push_back(bytes_input(bv));
        }
        if (c.zp_const) {
            b.init_int("za", zas, za, c.dt).init_int("zb", zbs, zb, c.dt);
        } else {  // runtime zero points of 4 bytes each (run_on_host's inputs are whole floats)
            ASSERT_TRUE(c.per_axis && m == 4);
            b.input("za", zas, c.dt).input("zb", zbs, c.dt);
            ins.push_back(bytes_input(za));
            ins.push_back(bytes_input(zb));
        }
        b.output("y");
        b.node("MatMulInteger", {"a", "b", "za", "zb"}, {"y"});
        const CompileResult r = compile_model(b.model(), "", {});
        for (const auto &op : r.program.ops) {
            if (op.kind == MTIA_OP_GEMM) {
                EXPECT_EQ(r.program.tensors[op.out].dtype, MTIA_DTYPE_I32) << what;
            }
        }
        const auto out = run_on_host(r.bytes, ins);
        ASSERT_EQ(out.size(), 1u) << what;
        expect_ints(as_i32(out[0], batch * m * n), matmul_ref(a, bv, batch, m, k, n, za, zb), what);
    }
}

// The zero point of a raw graph input that is a constant scalar is the
// input's own: the CAST to int32 subtracts it, no SUB op.
TEST(CompilerInteger, ConstantScalarZeroPointRidesOnTheInput)
{
    OnnxBuilder b;
    b.input("a", {4, 8}, TensorProto::UINT8).output("y");
    std::mt19937 rng(6);
    b.init_int("b", {8, 4}, rand8(32, TensorProto::UINT8, rng), TensorProto::UINT8);
    b.init_int("za", {}, {131}, TensorProto::UINT8).init_int("zb", {}, {7}, TensorProto::UINT8);
    b.node("MatMulInteger", {"a", "b", "za", "zb"}, {"y"});
    const CompileResult r = compile_program(b.model(), "", {});
    ASSERT_EQ(r.program.ops.size(), 2u);
    EXPECT_EQ(r.program.ops[0].kind, MTIA_OP_CAST);
    EXPECT_EQ(r.program.ops[1].kind, MTIA_OP_GEMM);
    const DevTensor &in = r.program.tensors[r.program.inputs[0]];
    EXPECT_EQ(in.scale, 1.0f);
    EXPECT_EQ(in.zero_point, 131);
}

struct ConvCase {
    int32_t dt;
    std::vector<int64_t> x, w, pads, strides, dil;
    int64_t group;
    bool w_const, per_channel;
    std::string auto_pad;
};

std::vector<int32_t> conv_ref(const std::vector<int32_t> &x, const std::vector<int32_t> &w, const ConvCase &c,
                              const std::vector<int64_t> &ys, int32_t zx, const std::vector<int32_t> &zw,
                              const std::vector<int64_t> &pb)
{
    const int64_t C = c.x[1], H = c.x[2], W = c.x[3], M = c.w[0], cg = c.w[1], kh = c.w[2], kw = c.w[3];
    std::vector<int32_t> y;
    for (int64_t nn = 0; nn < ys[0]; ++nn)
        for (int64_t mm = 0; mm < M; ++mm)
            for (int64_t oh = 0; oh < ys[2]; ++oh)
                for (int64_t ow = 0; ow < ys[3]; ++ow) {
                    int64_t s = 0;
                    const int64_t g = mm / (M / c.group);
                    for (int64_t ci = 0; ci < cg; ++ci)
                        for (int64_t i = 0; i < kh; ++i)
                            for (int64_t j = 0; j < kw; ++j) {
                                const int64_t ih = oh * c.strides[0] + i * c.dil[0] - pb[0];
                                const int64_t iw = ow * c.strides[1] + j * c.dil[1] - pb[1];
                                // Padding is x_zero_point: zero once subtracted.
                                const int64_t xv = ih < 0 || iw < 0 || ih >= H || iw >= W
                                                       ? 0
                                                       : x[((nn * C + g * cg + ci) * H + ih) * W + iw] - zx;
                                s += xv * (w[((mm * cg + ci) * kh + i) * kw + j] - zw[zw.size() == 1 ? 0 : mm]);
                            }
                    y.push_back(static_cast<int32_t>(s));
                }
    return y;
}

TEST(CompilerInteger, ConvIntegerExact)
{
    std::mt19937 rng(7);
    const std::vector<ConvCase> cases = {
        {TensorProto::UINT8, {1, 4, 8, 8}, {6, 4, 3, 3}, {1, 1, 1, 1}, {1, 1}, {1, 1}, 1, true, true, ""},
        {TensorProto::INT8, {2, 4, 9, 7}, {4, 2, 3, 2}, {2, 0, 1, 1}, {2, 1}, {1, 2}, 2, true, false, ""},
        {TensorProto::UINT8, {1, 6, 8, 7}, {12, 1, 3, 3}, {0, 0, 0, 0}, {2, 2}, {1, 1}, 6, false, false, "SAME_UPPER"},
        {TensorProto::INT8, {1, 2, 6, 6}, {4, 2, 2, 2}, {1, 1, 0, 0}, {1, 1}, {2, 2}, 1, false, true, ""},
    };
    for (size_t t = 0; t < cases.size(); ++t) {
        const ConvCase &c = cases[t];
        const std::string what = "conv case " + std::to_string(t);
        auto count = [](const std::vector<int64_t> &s) {
            int64_t p = 1;
            for (auto v : s) p *= v;
            return static_cast<size_t>(p);
        };
        const auto x = rand8(count(c.x), c.dt, rng), w = rand8(count(c.w), c.dt, rng);
        const int32_t zx = rand8(1, c.dt, rng)[0];
        const auto zw = rand8(c.per_channel ? c.w[0] : 1, c.dt, rng);
        OnnxBuilder b;
        b.input("x", c.x, c.dt).output("y");
        std::vector<std::vector<float>> ins = {bytes_input(x)};
        if (c.w_const) {
            b.init_int("w", c.w, w, c.dt);
            b.init_int("zw", c.per_channel ? std::vector<int64_t>{c.w[0]} : std::vector<int64_t>{}, zw, c.dt);
        } else {
            b.input("w", c.w, c.dt);
            ins.push_back(bytes_input(w));
            b.input("zw", {c.w[0]}, c.dt);  // runtime, one per channel (or all equal)
            ins.push_back(bytes_input(c.per_channel ? zw : std::vector<int32_t>(c.w[0], zw[0])));
        }
        b.init_int("zx", {}, {zx}, c.dt);
        auto &nd = b.node("ConvInteger", {"x", "w", "zx", "zw"}, {"y"});
        attr(nd, "strides", c.strides);
        attr(nd, "dilations", c.dil);
        attr(nd, "group", c.group);
        if (c.auto_pad.empty())
            attr(nd, "pads", c.pads);
        else
            attr(nd, "auto_pad", c.auto_pad);
        // Output size and begin pads as ONNX computes them.
        std::vector<int64_t> ys = {c.x[0], c.w[0]}, pb(2);
        for (int d = 0; d < 2; ++d) {
            const int64_t in = c.x[2 + d], ext = (c.w[2 + d] - 1) * c.dil[d] + 1;
            if (c.auto_pad == "SAME_UPPER") {
                const int64_t o = (in + c.strides[d] - 1) / c.strides[d];
                pb[d] = std::max<int64_t>((o - 1) * c.strides[d] + ext - in, 0) / 2;
                ys.push_back(o);
            } else {
                pb[d] = c.pads[d];
                ys.push_back((in + c.pads[d] + c.pads[2 + d] - ext) / c.strides[d] + 1);
            }
        }
        const CompileResult r = compile_model(b.model(), "", {});
        const auto out = run_on_host(r.bytes, ins);
        ASSERT_EQ(out.size(), 1u) << what;
        expect_ints(as_i32(out[0], count(ys)), conv_ref(x, w, c, ys, zx, zw, pb), what);
    }
}

// DynamicQuantizeLinear as ONNX's reference computes it in NumPy float32.
struct Dql {
    std::vector<uint8_t> y;
    float scale;
    uint8_t zp;
};
Dql dql_ref(const std::vector<float> &x)
{
    float mn = 0, mx = 0;
    for (float v : x) mn = std::min(mn, v), mx = std::max(mx, v);
    Dql r;
    r.scale = (mx - mn) / 255.0f;
    const float z = std::nearbyint((0.0f - mn) / r.scale);
    r.zp = static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, z)));
    for (float v : x) {
        const float q = std::nearbyint(v / r.scale) + r.zp;
        r.y.push_back(static_cast<uint8_t>(std::min(255.0f, std::max(0.0f, q))));
    }
    return r;
}

TEST(CompilerInteger, DynamicQuantizeLinearMatchesNumpy)
{
    std::mt19937 rng(8);
    for (int t = 0; t < 6; ++t) {
        // Mixed signs, all positive, all negative; ties (x / scale = k + 0.5).
        const float lo = t % 3 == 1 ? 0.5f : -3.0f, hi = t % 3 == 2 ? -0.25f : 5.0f;
        std::uniform_real_distribution<float> u(lo, hi);
        std::vector<float> x(24);
        for (auto &v : x) v = u(rng);
        if (t == 3) {  // exact halves: max 255, min 0 gives scale 1
            for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i) + 0.5f;
            x[0] = 0, x[1] = 255;
        }
        OnnxBuilder b(11);
        // The scalar scale and zero point as (1) outputs (a rank-0 graph
        // output is refused: ScalarGraphOutputIsRefused).
        b.input("x", {2, 3, 4}).output("y").output("s1").output("z1");
        b.init_i64("one", {1}, {1});
        b.node("DynamicQuantizeLinear", {"x"}, {"y", "s", "z"});
        b.node("Reshape", {"s", "one"}, {"s1"});
        b.node("Reshape", {"z", "one"}, {"z1"});
        const CompileResult r = compile_model(b.model(), "", {});
        const auto out = run_on_host(r.bytes, {x});
        ASSERT_EQ(out.size(), 3u);
        const Dql want = dql_ref(x);
        EXPECT_EQ(out[1][0], want.scale) << "case " << t;
        EXPECT_EQ(as_u8(out[2], 1)[0], want.zp) << "case " << t;
        const auto y = as_u8(out[0], x.size());
        for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(int(y[i]), int(want.y[i])) << "case " << t << " x " << x[i];
    }
}

// A rank-0 graph output cannot keep its rank on the device (tensors have
// 1..6 dims): refused naming it, never returned as shape (1).
TEST(CompilerInteger, ScalarGraphOutputIsRefused)
{
    OnnxBuilder b(11);
    b.input("x", {2, 3, 4}).output("y").output("s").output("z");
    b.node("DynamicQuantizeLinear", {"x"}, {"y", "s", "z"});
    try {
        compile_model(b.model(), "", {});
        FAIL() << "compiled";
    } catch (const CompileError &e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
        EXPECT_NE(std::string(e.what()).find("graph output 's' is a scalar (rank 0)"), std::string::npos) << e.what();
    }
}

// onnxruntime's dynamic quantization: DynamicQuantizeLinear ->
// MatMulInteger (int8 weights, zero point 0) -> Cast -> Mul(a_scale *
// b_scale) -> Add(bias), against the same float32 arithmetic on the host.
TEST(CompilerInteger, OrtDynamicQuantizationModel)
{
    std::mt19937 rng(9);
    const int64_t m = 4, k = 32, n = 12;
    std::vector<float> x(m * k), bias(n);
    std::uniform_real_distribution<float> u(-2.0f, 3.0f);
    for (auto &v : x) v = u(rng);
    for (auto &v : bias) v = u(rng);
    const auto wq = rand8(k * n, TensorProto::INT8, rng);
    const float ws = 0.0123f;
    OnnxBuilder b(13);
    b.input("x", {m, k}).output("y");
    b.init_int("wq", {k, n}, wq, TensorProto::INT8).init_int("wzp", {}, {0}, TensorProto::INT8);
    b.init("ws", {}, {ws}).init("bias", {n}, bias);
    b.node("DynamicQuantizeLinear", {"x"}, {"xq", "xs", "xzp"});
    b.node("MatMulInteger", {"xq", "wq", "xzp", "wzp"}, {"acc"});
    attr(b.node("Cast", {"acc"}, {"accf"}), "to", int64_t{TensorProto::FLOAT});
    b.node("Mul", {"xs", "ws"}, {"scale"});
    b.node("Mul", {"accf", "scale"}, {"mm"});
    b.node("Add", {"mm", "bias"}, {"y"});
    const CompileResult r = compile_model(b.model(), "", {});
    const auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    const Dql q = dql_ref(x);
    const float scale = q.scale * ws;
    std::vector<float> want(m * n);
    for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
            int64_t s = 0;
            for (int64_t kk = 0; kk < k; ++kk) s += int64_t(q.y[i * k + kk] - q.zp) * wq[kk * n + j];
            want[i * n + j] = static_cast<float>(s) * scale + bias[j];
        }
    EXPECT_LE(max_abs_diff(out[0], want), 1e-5f);
}

TEST(CompilerInteger, WhatTheDeviceCannotTakeIsRefused)
{
    auto error = [](const OnnxBuilder &b) -> std::pair<int, std::string> {
        try {
            compile_program(b.model(), "", {});
        } catch (const CompileError &e) {
            return {e.exit_code(), e.what()};
        }
        return {0, ""};
    };
    {  // a zero point per element of A
        OnnxBuilder b;
        b.input("a", {4, 8}, TensorProto::UINT8).input("b", {8, 4}, TensorProto::UINT8).output("y");
        b.init_int("za", {4, 8}, std::vector<int32_t>(32, 1), TensorProto::UINT8);
        b.node("MatMulInteger", {"a", "b", "za"}, {"y"}, "mmi");
        const auto e = error(b);
        EXPECT_EQ(e.first, static_cast<int>(ErrorKind::kUnsupported)) << e.second;
        EXPECT_NE(e.second.find("mmi"), std::string::npos) << e.second;
        EXPECT_NE(e.second.find("zero point"), std::string::npos) << e.second;
    }
    {  // ConvInteger's x_zero_point is one value
        OnnxBuilder b;
        b.input("x", {1, 2, 4, 4}, TensorProto::UINT8).input("w", {3, 2, 2, 2}, TensorProto::UINT8).output("y");
        b.init_int("zx", {2}, {1, 2}, TensorProto::UINT8);
        b.node("ConvInteger", {"x", "w", "zx"}, {"y"}, "convi");
        const auto e = error(b);
        EXPECT_EQ(e.first, static_cast<int>(ErrorKind::kUnsupported)) << e.second;
        EXPECT_NE(e.second.find("convi"), std::string::npos) << e.second;
    }
}

}  // namespace
