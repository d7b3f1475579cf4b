// SPDX-License-Identifier: MIT
// Lowering of ONNX Resize (opsets 10, 11, 13) and Upsample (7, 9) to
// RESIZE: tiny graphs built here, compiled, checked for the device op's
// attributes (derived by hand from the ONNX attributes) and run on the host
// compute engine against the naive reference (compute_ref_resize.h) of an
// op with those attributes; identity resizes as views; the refusals.
#include <gtest/gtest.h>

#include "compiler_test_util.h"
#include "compute_ref_resize.h"
#include "errors.h"

namespace mtia::compiler::testing {
namespace {

CompileResult compile(const OnnxBuilder &b) { return compile_model(b.model(), ".", {}); }

CompileError error_of(const OnnxBuilder &b)
{
    try {
        compile(b);
    } catch (const CompileError &e) {
        return e;
    }
    ADD_FAILURE() << "compiled";
    return CompileError(ErrorKind::kInternal, "");
}

cref::Dims dims(const Shape &s) { return cref::Dims(s.begin(), s.end()); }

// Compiles @b (input x of shape @xs, output y), expects one RESIZE with
// attributes @attrs and output @ys, runs it and compares with the reference.
void check(const OnnxBuilder &b, const Shape &xs, const Shape &ys, const std::vector<uint32_t> &attrs)
{
    CompileResult r = compile(b);
    ASSERT_EQ(r.program.ops.size(), 1u);
    EXPECT_EQ(r.program.ops[0].kind, MTIA_OP_RESIZE);
    EXPECT_EQ(r.program.ops[0].attrs, attrs);
    ASSERT_EQ(r.summary.outputs[0].shape, ys);
    const auto x = random_floats(static_cast<size_t>(cref::count(dims(xs))), 11);
    const mtia_op o = cref::op(MTIA_OP_RESIZE, {cref::tensor(0, dims(xs))}, cref::tensor(0, dims(ys)), attrs);
    const auto want = cref::resize(x, o);
    auto out = run_on_host(r.bytes, {x});
    ASSERT_EQ(out.size(), 1u);
    EXPECT_LE(max_abs_diff(out[0], want), 1e-6f);
}

TEST(CompilerResize, Opset13ScalesNearestAsPyTorchExportsIt)
{
    OnnxBuilder b;
    b.input("x", {1, 3, 5, 4}).output("y").init("s", {4}, {1, 1, 2, 2});
    auto &n = b.node("Resize", {"x", "", "s"}, {"y"});
    attr(n, "mode", std::string("nearest"));
    attr(n, "coordinate_transformation_mode", std::string("asymmetric"));
    attr(n, "nearest_mode", std::string("floor"));
    check(b, {1, 3, 5, 4}, {1, 3, 10, 8},
          {MTIA_RESIZE_NEAREST, MTIA_RESIZE_ASYMMETRIC, MTIA_RESIZE_FLOOR, 0, 0, 2, cref::bits(2), cref::bits(2)});
}

TEST(CompilerResize, Opset13SizesLinearPyTorchHalfPixel)
{
    OnnxBuilder b;
    b.input("x", {2, 3, 7, 6}).output("y").init_i64("sz", {4}, {2, 3, 5, 13});
    auto &n = b.node("Resize", {"x", "", "", "sz"}, {"y"});
    attr(n, "mode", std::string("linear"));
    attr(n, "coordinate_transformation_mode", std::string("pytorch_half_pixel"));
    check(b, {2, 3, 7, 6}, {2, 3, 5, 13}, {MTIA_RESIZE_LINEAR, MTIA_RESIZE_PYTORCH_HALF_PIXEL, 0, 0, 0, 2, 0, 0});
}

TEST(CompilerResize, CubicAlignCornersExcludeOutsideAndCoefficient)
{
    OnnxBuilder b;
    b.input("x", {1, 2, 6, 5}).output("y").init("s", {4}, {1, 1, 0.6f, 1.5f});
    auto &n = b.node("Resize", {"x", "", "s"}, {"y"});
    attr(n, "mode", std::string("cubic"));
    attr(n, "coordinate_transformation_mode", std::string("align_corners"));
    attr(n, "cubic_coeff_a", -0.5f);
    attr(n, "exclude_outside", int64_t{1});
    check(
        b, {1, 2, 6, 5}, {1, 2, 3, 7},
        {MTIA_RESIZE_CUBIC, MTIA_RESIZE_ALIGN_CORNERS, 0, cref::bits(-0.5f), 1, 2, cref::bits(0.6f), cref::bits(1.5f)});
}

// Default attributes: half_pixel, round_prefer_floor, opset 11's roi and
// an empty scales beside the sizes.
TEST(CompilerResize, Opset11DefaultsWithEmptyScales)
{
    OnnxBuilder b(11);
    b.input("x", {1, 1, 9, 9}).output("y").init("roi", {0}, {}).init("s", {0}, {}).init_i64("sz", {4}, {1, 1, 4, 6});
    b.node("Resize", {"x", "roi", "s", "sz"}, {"y"});
    check(b, {1, 1, 9, 9}, {1, 1, 4, 6},
          {MTIA_RESIZE_NEAREST, MTIA_RESIZE_HALF_PIXEL, MTIA_RESIZE_ROUND_PREFER_FLOOR, 0, 0, 2, 0, 0});
}

TEST(CompilerResize, Opset11TfHalfPixelForNn)
{
    OnnxBuilder b(11);
    b.input("x", {1, 1, 4, 4}).output("y").init("roi", {0}, {}).init("s", {0}, {}).init_i64("sz", {4}, {1, 1, 3, 2});
    attr(b.node("Resize", {"x", "roi", "s", "sz"}, {"y"}), "coordinate_transformation_mode",
         std::string("tf_half_pixel_for_nn"));
    check(b, {1, 1, 4, 4}, {1, 1, 3, 2},
          {MTIA_RESIZE_NEAREST, MTIA_RESIZE_TF_HALF_PIXEL_FOR_NN, MTIA_RESIZE_ROUND_PREFER_FLOOR, 0, 0, 2, 0, 0});
}

// Trilinear over D, H, W of a 5-D tensor; 1-D linear of a 3-D one; a
// resize of W alone is a 1-dim RESIZE; of C of a 4-D tensor a 3-dim one.
TEST(CompilerResize, OneTwoAndThreeResizedDims)
{
    {
        OnnxBuilder b;
        b.input("x", {1, 2, 3, 4, 5}).output("y").init("s", {5}, {1, 1, 2, 1.5f, 0.5f});
        attr(b.node("Resize", {"x", "", "s"}, {"y"}), "mode", std::string("linear"));
        check(b, {1, 2, 3, 4, 5}, {1, 2, 6, 6, 2},
              {MTIA_RESIZE_LINEAR, MTIA_RESIZE_HALF_PIXEL, 0, 0, 0, 3, cref::bits(2), cref::bits(1.5f),
               cref::bits(0.5f)});
    }
    {
        OnnxBuilder b;
        b.input("x", {2, 3, 10}).output("y").init("s", {3}, {1, 1, 2.5f});
        attr(b.node("Resize", {"x", "", "s"}, {"y"}), "mode", std::string("linear"));
        check(b, {2, 3, 10}, {2, 3, 25}, {MTIA_RESIZE_LINEAR, MTIA_RESIZE_HALF_PIXEL, 0, 0, 0, 1, cref::bits(2.5f)});
    }
    {
        OnnxBuilder b;
        b.input("x", {2, 3, 4, 10}).output("y").init_i64("sz", {4}, {2, 3, 4, 3});
        b.node("Resize", {"x", "", "", "sz"}, {"y"});
        check(b, {2, 3, 4, 10}, {2, 3, 4, 3},
              {MTIA_RESIZE_NEAREST, MTIA_RESIZE_HALF_PIXEL, MTIA_RESIZE_ROUND_PREFER_FLOOR, 0, 0, 1, 0});
    }
    {
        OnnxBuilder b;
        b.input("x", {2, 3, 4, 5}).output("y").init("s", {4}, {1, 2, 1, 1});
        b.node("Resize", {"x", "", "s"}, {"y"});
        check(b, {2, 3, 4, 5}, {2, 6, 4, 5},
              {MTIA_RESIZE_NEAREST, MTIA_RESIZE_HALF_PIXEL, MTIA_RESIZE_ROUND_PREFER_FLOOR, 0, 0, 3, cref::bits(2),
               cref::bits(1), cref::bits(1)});
    }
}

// Resize-10 and Upsample are asymmetric; nearest rounds down.
TEST(CompilerResize, Opset10ResizeAndUpsample7And9)
{
    {
        OnnxBuilder b(10);
        b.input("x", {1, 2, 4, 6}).output("y").init("s", {4}, {1, 1, 1.5f, 0.5f});
        attr(b.node("Resize", {"x", "s"}, {"y"}), "mode", std::string("linear"));
        check(b, {1, 2, 4, 6}, {1, 2, 6, 3},
              {MTIA_RESIZE_LINEAR, MTIA_RESIZE_ASYMMETRIC, 0, 0, 0, 2, cref::bits(1.5f), cref::bits(0.5f)});
    }
    {
        OnnxBuilder b(9);
        b.input("x", {1, 1, 2, 2}).output("y").init("s", {4}, {1, 1, 2, 3});
        b.node("Upsample", {"x", "s"}, {"y"});
        check(b, {1, 1, 2, 2}, {1, 1, 4, 6},
              {MTIA_RESIZE_NEAREST, MTIA_RESIZE_ASYMMETRIC, MTIA_RESIZE_FLOOR, 0, 0, 2, cref::bits(2), cref::bits(3)});
        // ONNX's test_upsample_nearest.
        CompileResult r = compile(b);
        auto out = run_on_host(r.bytes, {{1, 2, 3, 4}});
        ASSERT_EQ(out.size(), 1u);
        EXPECT_EQ(out[0], (std::vector<float>{1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4}));
    }
    {
        OnnxBuilder b(7);
        b.input("x", {1, 3, 3, 4}).output("y");
        auto &n = b.node("Upsample", {"x"}, {"y"});
        attr(n, "mode", std::string("linear"));
        auto *s = n.add_attribute();
        s->set_name("scales");
        s->set_type(onnx::AttributeProto::FLOATS);
        for (float v : {1.0f, 1.0f, 2.0f, 2.0f}) s->add_floats(v);
        check(b, {1, 3, 3, 4}, {1, 3, 6, 8},
              {MTIA_RESIZE_LINEAR, MTIA_RESIZE_ASYMMETRIC, 0, 0, 0, 2, cref::bits(2), cref::bits(2)});
    }
}

// Scales of 1 (or sizes equal to the input's) change nothing: a view.
TEST(CompilerResize, IdentityIsAView)
{
    OnnxBuilder b;
    b.input("x", {1, 3, 5, 4}).output("y").init("s", {4}, {1, 1, 1, 1});
    attr(b.node("Resize", {"x", "", "s"}, {"r"}), "mode", std::string("cubic"));
    b.node("Relu", {"r"}, {"y"});
    CompileResult r = compile(b);
    ASSERT_EQ(r.program.ops.size(), 1u);
    EXPECT_EQ(r.program.ops[0].kind, MTIA_OP_ACT);
}

TEST(CompilerResize, Refusals)
{
    struct Case {
        const char *what;
        int opset;
        std::vector<float> scales;
        std::vector<std::pair<std::string, std::string>> attrs;
        ErrorKind kind;
        const char *message;
    };
    const Case cases[] = {
        {"tf_crop_and_resize",
         13,
         {1, 1, 2, 2},
         {{"coordinate_transformation_mode", "tf_crop_and_resize"}},
         ErrorKind::kUnsupported,
         "tf_crop_and_resize"},
        {"N and H resized", 13, {2, 1, 2, 1}, {}, ErrorKind::kUnsupported, "at most the 3 trailing dims"},
        {"exclude_outside with nearest",
         13,
         {1, 1, 2, 2},
         {{"exclude_outside", ""}},
         ErrorKind::kUnsupported,
         "exclude_outside"},
        {"unknown mode", 13, {1, 1, 2, 2}, {{"mode", "area"}}, ErrorKind::kBadInput, "unknown mode"},
        {"unknown coordinate mode",
         13,
         {1, 1, 2, 2},
         {{"coordinate_transformation_mode", "corner"}},
         ErrorKind::kBadInput,
         "unknown coordinate_transformation_mode"},
        {"unknown nearest mode",
         13,
         {1, 1, 2, 2},
         {{"nearest_mode", "up"}},
         ErrorKind::kBadInput,
         "unknown nearest_mode"},
        {"nearest downsampling at opset 10", 10, {1, 1, 0.5f, 1}, {}, ErrorKind::kUnsupported, "before opset 11"},
        {"Upsample below 1", 9, {1, 1, 0.5f, 2}, {}, ErrorKind::kBadInput, ">= 1"},
    };
    for (const Case &c : cases) {
        OnnxBuilder b(c.opset);
        b.input("x", {2, 3, 4, 6}).output("y").init("s", {4}, c.scales);
        const bool up = std::string(c.what).rfind("Upsample", 0) == 0;
        auto &n =
            up ? b.node("Upsample", {"x", "s"}, {"y"})
               : b.node("Resize",
                        c.opset < 11 ? std::vector<std::string>{"x", "s"} : std::vector<std::string>{"x", "", "s"},
                        {"y"});
        for (const auto &[k, v] : c.attrs) {
            if (k == "exclude_outside")
                attr(n, k, int64_t{1});
            else
                attr(n, k, v);
        }
        CompileError e = error_of(b);
        EXPECT_EQ(e.kind(), c.kind) << c.what << ": " << e.what();
        EXPECT_NE(std::string(e.what()).find(c.message), std::string::npos) << c.what << ": " << e.what();
        EXPECT_NE(std::string(e.what()).find("(op "), std::string::npos) << c.what << ": names the node";
    }
}

// Scales and sizes must be constants, one of them, finite and positive;
// the data float32.
TEST(CompilerResize, BadParameters)
{
    {
        OnnxBuilder b;
        b.input("x", {1, 1, 4, 4}).input("s", {4}).output("y");
        b.node("Resize", {"x", "", "s"}, {"y"});
        CompileError e = error_of(b);
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported) << e.what();
    }
    {
        OnnxBuilder b;
        b.input("x", {1, 1, 4, 4}).output("y").init("s", {4}, {1, 1, 2, 2}).init_i64("sz", {4}, {1, 1, 8, 8});
        b.node("Resize", {"x", "", "s", "sz"}, {"y"});
        EXPECT_EQ(error_of(b).kind(), ErrorKind::kBadInput);
    }
    for (float bad : {-2.0f, 0.0f, NAN, INFINITY}) {
        OnnxBuilder b;
        b.input("x", {1, 1, 4, 4}).output("y").init("s", {4}, {1, 1, bad, 2});
        b.node("Resize", {"x", "", "s"}, {"y"});
        CompileError e = error_of(b);
        EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << bad << ": " << e.what();
        EXPECT_NE(std::string(e.what()).find("is not > 0"), std::string::npos) << e.what();
    }
    {
        OnnxBuilder b;
        b.input("x", {1, 1, 4, 4}).output("y").init("s", {4}, {1, 1, 1e30f, 2});
        b.node("Resize", {"x", "", "s"}, {"y"});
        CompileError e = error_of(b);
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported) << e.what();
        EXPECT_NE(std::string(e.what()).find("over 2^28"), std::string::npos) << e.what();
    }
    for (int64_t bad : {-3, 0}) {
        OnnxBuilder b;
        b.input("x", {1, 1, 4, 4}).output("y").init_i64("sz", {4}, {1, 1, bad, 4});
        b.node("Resize", {"x", "", "", "sz"}, {"y"});
        EXPECT_EQ(error_of(b).kind(), bad < 0 ? ErrorKind::kBadInput : ErrorKind::kUnsupported) << bad;
    }
    {
        OnnxBuilder b;
        b.input("x", {1, 1, 4, 4}).output("y").init("s", {3}, {1, 2, 2});  // rank 4
        b.node("Resize", {"x", "", "s"}, {"y"});
        EXPECT_EQ(error_of(b).kind(), ErrorKind::kBadInput);
    }
    {
        OnnxBuilder b;
        b.input("x", {1, 1, 4, 4}, onnx::TensorProto::INT32).output("y").init("s", {4}, {1, 1, 2, 2});
        b.node("Resize", {"x", "", "s"}, {"y"});
        EXPECT_EQ(error_of(b).kind(), ErrorKind::kUnsupported);
    }
}

}  // namespace
}  // namespace mtia::compiler::testing
