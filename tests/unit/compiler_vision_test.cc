// SPDX-License-Identifier: MIT
// Lowering of the vision ops beyond 2-D Conv/pooling (3-D Conv and
// pooling, Pad of runtime data, ConvTranspose): tiny ONNX graphs built here, compiled, run on the host compute
// engine and compared with the naive references of compute_ref.h, whose
// attributes the tests derive from the ONNX attributes themselves.
#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "compute_ref.h"

namespace mtia::compiler::testing {
namespace {

CompileResult compile(const OnnxBuilder &b) { return compile_model(b.model(), ".", {}); }

std::vector<float> floats_of(const OnnxBuilder &b, const std::string &name)
{
    for (const auto &t : b.model().graph().initializer())
        if (t.name() == name) return std::vector<float>(t.float_data().begin(), t.float_data().end());
    return {};
}

cref::Dims dims(const Shape &s) { return cref::Dims(s.begin(), s.end()); }

TEST(CompilerVision, Conv3dWithPadsStridesDilationsGroupsAndBias)
{
    OnnxBuilder b;
    b.input("x", {2, 4, 5, 6, 7}).output("y");
    b.init_rand("w", {6, 2, 2, 3, 2}).init_rand("b", {6});
    auto &c = b.node("Conv", {"x", "w", "b"}, {"y"});
    attr(c, "group", int64_t{2});
    attr(c, "strides", std::vector<int64_t>{1, 2, 2});
    attr(c, "dilations", std::vector<int64_t>{2, 1, 1});
    attr(c, "pads", std::vector<int64_t>{1, 0, 1, 0, 2, 1});  // d0 h0 w0 d1 h1 w1
    CompileResult r = compile(b);
    ASSERT_EQ(r.program.ops.size(), 1u);
    EXPECT_EQ(r.program.ops[0].kind, MTIA_OP_CONV);
    // D: (5+1+0-3)/1+1 = 4, H: (6+0+2-3)/2+1 = 3, W: (7+1+1-2)/2+1 = 4.
    ASSERT_EQ(r.summary.outputs[0].shape, (Shape{2, 6, 4, 3, 4}));
    const auto x = random_floats(2 * 4 * 5 * 6 * 7, 3);
    // Reference: ONNX attributes in the spec's attribute slots.
    mtia_op o = cref::op(MTIA_OP_CONV, {}, {}, {2, 2, 0, 1, 2, 1, 1, 1, 2, 1, 2, 1, 0});
    const auto bias = floats_of(b, "b");
    const auto want = cref::conv3d(x, {2, 4, 5, 6, 7}, floats_of(b, "w"), {6, 2, 2, 3, 2}, &bias, {2, 6, 4, 3, 4}, o);
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_LE(max_abs_diff(out[0], want), 1e-4f);
}

TEST(CompilerVision, MaxPool3dCeilModeDilationsAndAveragePool3dCountIncludePad)
{
    OnnxBuilder b;
    b.input("x", {1, 3, 6, 7, 5}).output("m").output("a");
    auto &mp = b.node("MaxPool", {"x"}, {"m"});
    attr(mp, "kernel_shape", std::vector<int64_t>{2, 2, 3});
    attr(mp, "strides", std::vector<int64_t>{2, 2, 1});
    attr(mp, "dilations", std::vector<int64_t>{1, 2, 1});
    attr(mp, "ceil_mode", int64_t{1});
    auto &ap = b.node("AveragePool", {"x"}, {"a"});
    attr(ap, "kernel_shape", std::vector<int64_t>{3, 2, 2});
    attr(ap, "pads", std::vector<int64_t>{1, 0, 1, 1, 1, 0});
    attr(ap, "count_include_pad", int64_t{1});
    CompileResult r = compile(b);
    ASSERT_EQ(r.program.ops.size(), 2u);
    // Max: D ceil((6-2)/2)+1 = 3, H ceil((7-3)/2)+1 = 3, W (5-3)/1+1 = 3.
    const Shape ms{1, 3, 3, 3, 3}, as{1, 3, 6, 7, 5};
    ASSERT_EQ(r.summary.outputs[0].shape, ms);
    ASSERT_EQ(r.summary.outputs[1].shape, as);
    const auto x = random_floats(3 * 6 * 7 * 5, 5);
    // ceil_mode: the last depth window (rows 4..5) fits; the last height
    // window (rows 4, 6) fits; no extra padding is needed for max here.
    mtia_op m = cref::op(MTIA_OP_POOL, {}, {}, {MTIA_POOL_MAX, 2, 3, 2, 1, 0, 0, 0, 0, 0, 2, 1, 2, 2, 0, 1});
    mtia_op a = cref::op(MTIA_OP_POOL, {}, {}, {MTIA_POOL_AVG, 2, 2, 1, 1, 0, 1, 1, 0, 1, 1, 1, 3, 1, 1 | 1u << 16, 1});
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_LE(max_abs_diff(out[0], cref::pool3d(x, dims(Shape{1, 3, 6, 7, 5}), dims(ms), m)), 1e-6f);
    EXPECT_LE(max_abs_diff(out[1], cref::pool3d(x, dims(Shape{1, 3, 6, 7, 5}), dims(as), a)), 1e-5f);
}

TEST(CompilerVision, GlobalPoolsOver3dInputs)
{
    OnnxBuilder b;
    b.input("x", {2, 3, 4, 3, 5}).output("g").output("h");
    b.node("GlobalAveragePool", {"x"}, {"g"});
    b.node("GlobalMaxPool", {"x"}, {"h"});
    CompileResult r = compile(b);
    ASSERT_EQ(r.summary.outputs[0].shape, (Shape{2, 3, 1, 1, 1}));
    const auto x = random_floats(2 * 3 * 60, 9);
    std::vector<float> avg(6), mx(6, -INFINITY);
    for (int p = 0; p < 6; ++p) {
        double s = 0;
        for (int i = 0; i < 60; ++i) {
            s += x[p * 60 + i];
            mx[p] = std::max(mx[p], x[p * 60 + i]);
        }
        avg[p] = static_cast<float>(s / 60);
    }
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_LE(max_abs_diff(out[0], avg), 1e-5f);
    EXPECT_LE(max_abs_diff(out[1], mx), 0.0f);
}

// Pad of runtime data in every mode, with negative pads (crops) and a
// constant value; the reference takes ONNX's [begins..., ends...] pads.
TEST(CompilerVision, PadOfRuntimeDataEveryMode)
{
    struct Case {
        const char *mode;
        std::vector<int64_t> pads;
        float value;
    };
    const Case cases[] = {{"reflect", {0, 0, 2, 1, 0, 0, 1, 3}, 0.0f},
                          {"edge", {0, 1, -1, 2, 0, 0, 3, -2}, 0.0f},
                          {"constant", {1, 0, 2, -1, 0, 2, 0, 1}, -1.5f}};
    const Shape xs{2, 3, 4, 5};
    for (const auto &c : cases) {
        OnnxBuilder b;
        b.input("x", xs).output("y").init_i64("p", {8}, c.pads).init("v", {}, {c.value});
        attr(b.node("Pad", {"x", "p", "v"}, {"y"}), "mode", std::string(c.mode));
        CompileResult r = compile(b);
        ASSERT_EQ(r.program.ops.size(), 1u) << c.mode;
        EXPECT_EQ(r.program.ops[0].kind, MTIA_OP_PAD);
        Shape ys = xs;
        std::vector<uint32_t> attrs = {c.mode[0] == 'r'   ? 0u + MTIA_PAD_REFLECT
                                       : c.mode[0] == 'e' ? 0u + MTIA_PAD_EDGE
                                                          : 0u + MTIA_PAD_CONSTANT,
                                       c.mode[0] == 'c' ? cref::bits(c.value) : 0u};
        for (size_t k = 0; k < 4; ++k) {
            ys[k] += c.pads[k] + c.pads[4 + k];
            attrs.push_back(uint32_t(int32_t(c.pads[k])));
        }
        ASSERT_EQ(r.summary.outputs[0].shape, ys) << c.mode;
        const auto x = random_floats(2 * 3 * 4 * 5, 11);
        mtia_op o = cref::op(MTIA_OP_PAD, {}, {}, attrs);
        auto out = run_on_host(r.bytes, {x});
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(max_abs_diff(out[0], cref::pad(x, dims(xs), dims(ys), o)), 0.0f) << c.mode;
    }
}

// A zero pad before Conv still folds into it; one before MaxPool (which
// pads with -inf) and an opset-2 reflect pad become PAD ops.
TEST(CompilerVision, ZeroPadStillFoldsIntoConvOtherPadsArePadOps)
{
    OnnxBuilder b;
    b.input("x", {1, 2, 5, 5}).output("y").output("m");
    b.init_rand("w", {3, 2, 3, 3}).init_i64("p", {8}, {0, 0, 1, 1, 0, 0, 1, 1});
    b.node("Pad", {"x", "p"}, {"xp"});
    b.node("Conv", {"xp", "w"}, {"y"});
    b.node("Pad", {"x", "p"}, {"xq"});
    attr(b.node("MaxPool", {"xq"}, {"m"}), "kernel_shape", std::vector<int64_t>{3, 3});
    CompileResult r = compile(b);
    EXPECT_EQ(r.program.ops.size(), 3u);  // CONV, PAD, POOL
    int pads = 0;
    for (const auto &op : r.program.ops) pads += op.kind == MTIA_OP_PAD;
    EXPECT_EQ(pads, 1);
    const auto x = random_floats(50, 13);
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 2u);
    // Max over each 3x3 window of the zero-padded input.
    std::vector<float> want(2 * 25);
    for (int c = 0; c < 2; ++c)
        for (int i = 0; i < 5; ++i)
            for (int j = 0; j < 5; ++j) {
                float m = -INFINITY;
                for (int u = i - 1; u <= i + 1; ++u)
                    for (int v = j - 1; v <= j + 1; ++v)
                        m = std::max(m, u < 0 || u >= 5 || v < 0 || v >= 5 ? 0.0f : x[(c * 5 + u) * 5 + v]);
                want[(c * 5 + i) * 5 + j] = m;
            }
    EXPECT_EQ(max_abs_diff(out[1], want), 0.0f);

    OnnxBuilder b2(2);  // opset 2: pads and value are attributes
    b2.input("x", {1, 1, 3, 4}).output("y");
    auto &p = b2.node("Pad", {"x"}, {"y"});
    attr(p, "mode", std::string("reflect"));
    attr(p, "pads", std::vector<int64_t>{0, 0, 2, 3, 0, 0, 0, 1});
    CompileResult r2 = compile(b2);
    ASSERT_EQ(r2.program.ops.size(), 1u);
    const auto x2 = random_floats(12, 17);
    mtia_op o = cref::op(MTIA_OP_PAD, {}, {}, {MTIA_PAD_REFLECT, 0, 0, 0, 2, 3});
    auto out2 = run_on_host(r2.bytes, {x2});
    ASSERT_EQ(out2.size(), 1u);
    EXPECT_EQ(max_abs_diff(out2[0], cref::pad(x2, {1, 1, 3, 4}, {1, 1, 5, 8}, o)), 0.0f);
}

// ConvTranspose: explicit pads with output_padding, groups and bias (2-D),
// output_shape (1-D, as 2-D with H = 1), and 3-D with dilations.
TEST(CompilerVision, ConvTransposeEveryForm)
{
    {
        OnnxBuilder b;
        b.input("x", {2, 4, 3, 4}).output("y");
        b.init_rand("w", {4, 3, 3, 2}).init_rand("b", {6});
        auto &c = b.node("ConvTranspose", {"x", "w", "b"}, {"y"});
        attr(c, "group", int64_t{2});
        attr(c, "strides", std::vector<int64_t>{2, 3});
        attr(c, "pads", std::vector<int64_t>{1, 0, 0, 1});
        attr(c, "output_padding", std::vector<int64_t>{1, 2});
        CompileResult r = compile(b);
        ASSERT_EQ(r.program.ops.size(), 1u);
        EXPECT_EQ(r.program.ops[0].kind, MTIA_OP_CONV_TRANSPOSE);
        // H: (3-1)*2 + 3 - 1 - 0 + 1 = 7; W: (4-1)*3 + 2 - 0 - 1 + 2 = 12.
        ASSERT_EQ(r.summary.outputs[0].shape, (Shape{2, 6, 7, 12}));
        const auto x = random_floats(2 * 4 * 12, 19);
        mtia_op o = cref::op(MTIA_OP_CONV_TRANSPOSE, {}, {}, {2, 3, 1, 0, 0, 1, 1, 1, 2});
        const auto bias = floats_of(b, "b");
        auto out = run_on_host(r.bytes, {x});
        ASSERT_EQ(out.size(), 1u);
        EXPECT_LE(max_abs_diff(out[0], cref::conv_transpose(x, {2, 4, 3, 4}, floats_of(b, "w"), {4, 3, 3, 2}, &bias,
                                                            {2, 6, 7, 12}, o)),
                  1e-4f);
    }
    {
        OnnxBuilder b;
        b.input("x", {1, 2, 5}).output("y");
        b.init_rand("w", {2, 3, 3});
        auto &c = b.node("ConvTranspose", {"x", "w"}, {"y"});
        attr(c, "strides", std::vector<int64_t>{2});
        attr(c, "output_shape", std::vector<int64_t>{10});  // full 11: total padding 1, at the start
        CompileResult r = compile(b);
        ASSERT_EQ(r.summary.outputs[0].shape, (Shape{1, 3, 10}));
        const auto x = random_floats(10, 23);
        // pads: begin 1, end 0.
        mtia_op o = cref::op(MTIA_OP_CONV_TRANSPOSE, {}, {}, {1, 2, 0, 1, 0, 0, 1, 1, 1});
        auto out = run_on_host(r.bytes, {x});
        ASSERT_EQ(out.size(), 1u);
        EXPECT_LE(max_abs_diff(out[0], cref::conv_transpose(x, {1, 2, 1, 5}, floats_of(b, "w"), {2, 3, 1, 3}, nullptr,
                                                            {1, 3, 1, 10}, o)),
                  1e-4f);
    }
    {
        OnnxBuilder b;
        b.input("x", {1, 2, 3, 2, 3}).output("y");
        b.init_rand("w", {2, 2, 2, 2, 3});
        auto &c = b.node("ConvTranspose", {"x", "w"}, {"y"});
        attr(c, "dilations", std::vector<int64_t>{2, 1, 1});
        attr(c, "strides", std::vector<int64_t>{1, 2, 1});
        attr(c, "pads", std::vector<int64_t>{1, 0, 1, 0, 1, 0});
        CompileResult r = compile(b);
        // D: 2 + 2 + 1 - 1 = 4; H: 2 + 1 + 1 - 1 = 3; W: 2 + 2 + 1 - 1 = 4.
        ASSERT_EQ(r.summary.outputs[0].shape, (Shape{1, 2, 4, 3, 4}));
        const auto x = random_floats(36, 29);
        mtia_op o = cref::op(MTIA_OP_CONV_TRANSPOSE, {}, {}, {2, 1, 0, 1, 1, 0, 1, 1, 1, 1, 2, 1, 0});
        auto out = run_on_host(r.bytes, {x});
        ASSERT_EQ(out.size(), 1u);
        EXPECT_LE(max_abs_diff(out[0], cref::conv_transpose(x, {1, 2, 3, 2, 3}, floats_of(b, "w"), {2, 2, 2, 2, 3},
                                                            nullptr, {1, 2, 4, 3, 4}, o)),
                  1e-4f);
    }
}

}  // namespace
}  // namespace mtia::compiler::testing
