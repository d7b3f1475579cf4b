// SPDX-License-Identifier: MIT
// Residual adds fused into the convolution feeding them (fuse_residual_adds,
// MTIA_OP_F_ACCUM): which adds fuse (ResNet's identity and downsample
// blocks, either layout) and which must not (the residual read again after
// the convolution, a broadcast, a graph input), each run on the compute
// engine against the same model compiled with the pass off.
#include <gtest/gtest.h>

#include "compiler_test_util.h"

namespace mtia::compiler::testing {
namespace {

int fused(const CompileResult &r)
{
    const auto it = r.summary.passes.find("residual adds fused");
    return it == r.summary.passes.end() ? 0 : it->second;
}

int accumulating_convs(const CompileResult &r)
{
    int n = 0;
    for (const auto &op : r.program.ops) n += op.kind == MTIA_OP_CONV && (op.flags & MTIA_OP_F_ACCUM);
    return n;
}

// Compiles @b with the pass on and off (same other options), checks how
// many adds fused, and that both programs compute the same outputs.
void check(const OnnxBuilder &b, int want_fused, CompileOptions opts = {})
{
    CompileResult on, off;
    ASSERT_NO_THROW(on = compile_model(b.model(), ".", opts));
    opts.fuse_residual_adds = false;
    ASSERT_NO_THROW(off = compile_model(b.model(), ".", opts));
    EXPECT_EQ(fused(on), want_fused);
    EXPECT_EQ(accumulating_convs(on), want_fused);
    EXPECT_EQ(accumulating_convs(off), 0);
    EXPECT_EQ(on.program.ops.size() + want_fused, off.program.ops.size());
    std::vector<std::vector<float>> inputs;
    for (const auto &in : b.model().graph().input()) {
        size_t n = 1;
        for (const auto &d : in.type().tensor_type().shape().dim()) n *= d.dim_value();
        inputs.push_back(random_floats(n, 7 + inputs.size()));
    }
    const auto want = run_on_host(off.bytes, inputs), got = run_on_host(on.bytes, inputs);
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < got.size(); ++k) EXPECT_LE(max_abs_diff(got[k], want[k]), 1e-4f) << "output " << k;
}

void conv(OnnxBuilder &b, const std::string &x, const std::string &w, const std::string &y, int64_t k, int64_t stride)
{
    auto &n = b.node("Conv", {x, w, w + "_b"}, {y});
    attr(n, "kernel_shape", std::vector<int64_t>{k, k});
    attr(n, "pads", std::vector<int64_t>{k / 2, k / 2, k / 2, k / 2});
    attr(n, "strides", std::vector<int64_t>{stride, stride});
}

// x -> conv -> relu -> h; conv(relu(conv(h))) + h -> relu -> conv -> y (a
// ResNet identity block between two convolutions).
OnnxBuilder identity_block()
{
    OnnxBuilder b;
    b.input("x", {2, 8, 10, 10}).output("y");
    for (const char *w : {"w1", "w2", "w3", "w4"}) b.init_rand(w, {8, 8, 3, 3}).init_rand(std::string(w) + "_b", {8});
    conv(b, "x", "w1", "c1", 3, 1);
    b.node("Relu", {"c1"}, {"h"});
    conv(b, "h", "w4", "c4", 3, 1);
    b.node("Relu", {"c4"}, {"c4r"});
    conv(b, "c4r", "w2", "c2", 3, 1);
    b.node("Add", {"c2", "h"}, {"s"});
    b.node("Relu", {"s"}, {"r"});
    conv(b, "r", "w3", "y", 3, 1);
    return b;
}

TEST(CompilerResidual, IdentityBlockFusesInEitherLayout)
{
    check(identity_block(), 1);
    CompileOptions nchw;
    nchw.channels_last = false;
    check(identity_block(), 1, nchw);
}

// The downsample block: the 1x1 stride-2 convolution of x runs after the
// main path's second convolution (torchvision's order), so it adds into it.
TEST(CompilerResidual, DownsampleBlockFuses)
{
    OnnxBuilder b;
    b.input("x", {1, 8, 12, 12}).output("y");
    b.init_rand("wa", {16, 8, 3, 3}).init_rand("wa_b", {16}).init_rand("wb", {16, 16, 3, 3}).init_rand("wb_b", {16});
    b.init_rand("wd", {16, 8, 1, 1}).init_rand("wd_b", {16}).init_rand("wo", {4, 16, 1, 1}).init_rand("wo_b", {4});
    conv(b, "x", "wa", "a", 3, 2);
    b.node("Relu", {"a"}, {"ar"});
    conv(b, "ar", "wb", "bb", 3, 1);
    conv(b, "x", "wd", "dd", 1, 2);
    b.node("Add", {"bb", "dd"}, {"s"});
    b.node("Relu", {"s"}, {"r"});
    conv(b, "r", "wo", "y", 1, 1);
    check(b, 1);
}

// Two identity blocks in a row: the second adds into the storage the first
// already added into.
TEST(CompilerResidual, ChainedBlocksShareTheStorage)
{
    OnnxBuilder b;
    b.input("x", {1, 8, 9, 9}).output("y");
    for (const char *w : {"w0", "w1", "w2", "w3", "w4", "w5"})
        b.init_rand(w, {8, 8, 3, 3}).init_rand(std::string(w) + "_b", {8});
    conv(b, "x", "w0", "h0", 3, 1);
    conv(b, "h0", "w1", "c1", 3, 1);
    b.node("Relu", {"c1"}, {"c1r"});
    conv(b, "c1r", "w2", "c2", 3, 1);
    b.node("Add", {"c2", "h0"}, {"s1"});
    b.node("Relu", {"s1"}, {"h1"});
    conv(b, "h1", "w3", "c3", 3, 1);
    b.node("Relu", {"c3"}, {"c3r"});
    conv(b, "c3r", "w4", "c4", 3, 1);
    b.node("Add", {"h1", "c4"}, {"s2"});
    b.node("Relu", {"s2"}, {"h2"});
    conv(b, "h2", "w5", "y", 3, 1);
    check(b, 2);
}

TEST(CompilerResidual, NotFusedWhereTheResidualIsStillNeeded)
{
    {  // the convolution reads the residual itself: y = conv(h) + h
        OnnxBuilder b;
        b.input("x", {1, 8, 6, 6}).output("y");
        for (const char *w : {"w1", "w2", "w3"}) b.init_rand(w, {8, 8, 3, 3}).init_rand(std::string(w) + "_b", {8});
        conv(b, "x", "w1", "h", 3, 1);
        conv(b, "h", "w2", "c", 3, 1);
        b.node("Add", {"c", "h"}, {"s"});
        conv(b, "s", "w3", "y", 3, 1);
        check(b, 0);
    }
    {  // h is read again after the convolution: its old value must survive
        OnnxBuilder b = identity_block();
        b.mutable_model().mutable_graph()->mutable_output()->Clear();
        b.output("z");
        b.node("Mul", {"y", "h"}, {"z"});
        check(b, 0);
    }
    {  // the convolution's result is read twice
        OnnxBuilder b;
        b.input("x", {1, 8, 6, 6}).output("y");
        for (const char *w : {"w1", "w2", "w3"}) b.init_rand(w, {8, 8, 3, 3}).init_rand(std::string(w) + "_b", {8});
        conv(b, "x", "w1", "h", 3, 1);
        conv(b, "h", "w3", "g", 3, 1);
        conv(b, "g", "w2", "c", 3, 1);
        b.node("Add", {"c", "h"}, {"s"});
        b.node("Mul", {"s", "c"}, {"y"});
        check(b, 0);
    }
    {  // a broadcast add (a per-channel term)
        OnnxBuilder b;
        b.input("x", {1, 8, 6, 6}).output("y");
        b.init_rand("w1", {8, 8, 3, 3}).init_rand("w1_b", {8}).init_rand("w2", {8, 8, 3, 3}).init_rand("w2_b", {8});
        b.init_rand("t", {1, 8, 1, 1});
        conv(b, "x", "w1", "h", 3, 1);
        b.node("Add", {"h", "t"}, {"s"});
        conv(b, "s", "w2", "y", 3, 1);
        check(b, 0);
    }
    {  // the residual is also a graph output: its value must survive the program
        OnnxBuilder b = identity_block();
        b.output("h");
        check(b, 0);
    }
    {  // the convolution's own result is also a graph output
        OnnxBuilder b = identity_block();
        b.output("c2");
        check(b, 0);
    }
    {  // the residual is the graph's input: its storage is the caller's
        OnnxBuilder b;
        b.input("x", {1, 8, 6, 6}).output("y");
        b.init_rand("w1", {8, 8, 3, 3}).init_rand("w1_b", {8}).init_rand("w2", {8, 8, 3, 3}).init_rand("w2_b", {8});
        conv(b, "x", "w1", "c", 3, 1);
        b.node("Add", {"c", "x"}, {"s"});
        conv(b, "s", "w2", "y", 3, 1);
        check(b, 0);
    }
}

}  // namespace
}  // namespace mtia::compiler::testing
