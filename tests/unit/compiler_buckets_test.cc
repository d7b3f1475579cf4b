// SPDX-License-Identifier: MIT
// Batch buckets (tools/mtia-compile/buckets.h): the options and their
// errors, the bucketed file (a program per batch, one weights image, the
// batch axes found by shape inference) and libmtia's loader refusing
// bucketed files whose programs disagree or whose program table is corrupt.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "buckets.h"
#include "compiler_test_util.h"
#include "model_loader.h"
#include "model_writer.h"
#include "mtia/compiler.hpp"

namespace mtia::compiler::testing {
namespace {

// x: N x 8 (N symbolic, or fixed to `batch`) -> MatMul -> Relu -> MatMul -> y.
OnnxBuilder mlp(int64_t batch = -1)
{
    OnnxBuilder b;
    b.input("x", {batch, 8}).output("y").init_rand("w1", {8, 16}).init_rand("w2", {16, 4});
    b.node("MatMul", {"x", "w1"}, {"h"}, "fc1");
    b.node("Relu", {"h"}, {"r"}, "relu");
    b.node("MatMul", {"r", "w2"}, {"y"}, "fc2");
    return b;
}

CompileResult compile(const OnnxBuilder &b, std::vector<uint32_t> buckets, std::map<std::string, Shape> shapes = {})
{
    CompileOptions o;
    o.batch_buckets = std::move(buckets);
    o.input_shapes = std::move(shapes);
    return compile_model(b.model(), "", o);
}

CompileError error_of(const OnnxBuilder &b, std::vector<uint32_t> buckets, std::map<std::string, Shape> shapes = {})
{
    try {
        compile(b, std::move(buckets), std::move(shapes));
    } catch (const CompileError &e) {
        return e;
    }
    ADD_FAILURE() << "compiled without error";
    return CompileError(ErrorKind::kInternal, "");
}

mtia::detail::ParsedModel parse(const std::string &bytes, std::vector<uint64_t> *keep)
{
    keep->assign(bytes.size() / 8 + 1, 0);
    std::memcpy(keep->data(), bytes.data(), bytes.size());
    return mtia::detail::parse_model(keep->data(), bytes.size());
}

std::string parse_error(const std::string &bytes)
{
    std::vector<uint64_t> keep;
    try {
        parse(bytes, &keep);
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), MTIA_ERROR_INVALID_MODEL);
        return e.what();
    }
    ADD_FAILURE() << "the loader took it";
    return "";
}

TEST(CompilerBuckets, OneFileAProgramPerBatch)
{
    const CompileResult r = compile(mlp(), {1, 4, 16});
    std::vector<uint64_t> keep;
    const auto p = parse(r.bytes, &keep);
    ASSERT_EQ(p.buckets.size(), 3u);
    const uint32_t want[] = {1, 4, 16};
    for (size_t k = 0; k < 3; k++) {
        SCOPED_TRACE(k);
        EXPECT_EQ(p.buckets[k].batch, want[k]);
        EXPECT_EQ(p.buckets[k].inputs[0].info.shape, (std::vector<uint32_t>{want[k], 8}));
        EXPECT_EQ(p.buckets[k].inputs[0].info.batch_axis, 0);
        EXPECT_EQ(p.buckets[k].outputs[0].info.shape, (std::vector<uint32_t>{want[k], 4}));
        EXPECT_EQ(p.buckets[k].outputs[0].info.batch_axis, 0);
        EXPECT_EQ(p.buckets[k].program.size(), p.program.size());
    }
    EXPECT_LT(p.buckets[0].arena_size, p.buckets[2].arena_size);
    // The top level is the largest bucket; one weights image for all.
    EXPECT_EQ(p.inputs[0].info.shape, (std::vector<uint32_t>{16, 8}));
    EXPECT_EQ(p.arena_size, p.buckets[2].arena_size);
    EXPECT_EQ(p.weights_size, (8u * 16 + 16 * 4) * 4);
    const std::string one = compile(mlp(16), {}).bytes;  // the same at a fixed batch of 16, unbucketed
    EXPECT_LT(r.bytes.size(), one.size() + 4096) << "the weights are stored once";
    ASSERT_EQ(r.summary.buckets.size(), 3u);
    EXPECT_EQ(r.summary.buckets[1].batch, 4u);
    EXPECT_EQ(r.summary.buckets[1].arena_size, p.buckets[1].arena_size);
    EXPECT_NE(r.summary.to_text().find("batch buckets    3: 1 (arena"), std::string::npos) << r.summary.to_text();
    EXPECT_EQ(r.summary.to_json()["batch_buckets"][2]["batch"], 16);
}

TEST(CompilerBuckets, TopLevelRunsTheLargestBucket)
{
    const CompileResult r = compile(mlp(), {2, 5});
    const auto x = random_floats(5 * 8, 3);
    const auto got = run_on_host(r.bytes, {x});
    const auto want = run_on_host(compile(mlp(5), {}).bytes, {x});
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0], want[0]);
}

TEST(CompilerBuckets, OneBucketAndFixedExports)
{
    // A single bucket: the output's batch axis comes from a probe compile.
    std::vector<uint64_t> keep;
    const auto p = parse(compile(mlp(), {8}).bytes, &keep);
    ASSERT_EQ(p.buckets.size(), 1u);
    EXPECT_EQ(p.outputs[0].info.batch_axis, 0);
    // A fixed dim 0 (no symbolic one): every input is batched, also with
    // --input-shape (its dim 0 replaced by each bucket).
    const auto q = parse(compile(mlp(2), {1, 3}, {{"x", {2, 8}}}).bytes, &keep);
    ASSERT_EQ(q.buckets.size(), 2u);
    EXPECT_EQ(q.buckets[1].inputs[0].info.shape, (std::vector<uint32_t>{3, 8}));
}

TEST(CompilerBuckets, BadBucketListsAreUsageErrors)
{
    const struct {
        std::vector<uint32_t> buckets;
        const char *msg;
    } cases[] = {{{4, 1}, "--batch-buckets 4,1: not in ascending order"},
                 {{1, 4, 4}, "--batch-buckets 1,4,4: bucket 4 is listed twice"},
                 {{0, 4}, "--batch-buckets 0,4: a bucket of 0"},
                 {std::vector<uint32_t>(17, 1), "at most 16 buckets"}};
    for (const auto &c : cases) {
        const CompileError e = error_of(mlp(), c.buckets);
        EXPECT_EQ(e.kind(), ErrorKind::kUsage) << e.what();
        EXPECT_NE(std::string(e.what()).find(c.msg), std::string::npos) << e.what();
    }
    for (const char *text : {"", "1,,4", "1;4", "-1", "a"}) {
        try {
            parse_buckets(text);
            ADD_FAILURE() << "parsed '" << text << "'";
        } catch (const CompileError &e) {
            EXPECT_EQ(e.kind(), ErrorKind::kUsage);
            EXPECT_NE(std::string(e.what()).find("want sizes like 1,8,32"), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(parse_buckets("1,8,32,128"), (std::vector<uint32_t>{1, 8, 32, 128}));
    // Through the library: an empty list there is "no buckets", as without the option.
    mtia::CompileOptions o;
    o.batch_buckets = {2, 1};
    try {
        mtia::compile_onnx(mlp().bytes(), o);
        ADD_FAILURE() << "compiled";
    } catch (const mtia::CompileError &e) {
        EXPECT_EQ(e.kind(), mtia::CompileError::Kind::Usage);
    }
}

TEST(CompilerBuckets, GraphsBucketsCannotServeAreClearErrors)
{
    // A constant that depends on the batch: x + ConstantOfShape(Shape(x)).
    OnnxBuilder c;
    c.input("x", {-1, 4}).output("y");
    c.node("Shape", {"x"}, {"s"}, "shape");
    c.node("ConstantOfShape", {"s"}, {"k"}, "zeros");
    c.node("Add", {"x", "k"}, {"y"}, "add");
    CompileError e = error_of(c, {1, 4});
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("batch buckets 1 and 4 lower to different weights"), std::string::npos)
        << e.what();

    // An output without the batch (a sum over it).
    OnnxBuilder s;
    s.input("x", {-1, 4}).output("y");
    attr(s.node("ReduceSum", {"x"}, {"y"}, "sum"), "keepdims", int64_t{0});
    s.init_i64("axes", {1}, {0});
    s.mutable_model().mutable_graph()->mutable_node(0)->add_input("axes");
    e = error_of(s, {1, 4});
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("output 'y' has shape 4 at batch 1 and 4: an output that does not carry "
                                         "the batch"),
              std::string::npos)
        << e.what();

    // No input with a batch dim (scalars only).
    OnnxBuilder z;
    z.input("x", {}).output("y");
    z.node("Relu", {"x"}, {"y"}, "relu");
    e = error_of(z, {1, 4});
    EXPECT_NE(std::string(e.what()).find("no model input has a batch dim (dim 0)"), std::string::npos) << e.what();

    // A dynamic dim besides the batch, without --input-shape: names the input.
    OnnxBuilder d;
    d.input("x", {-1, -1}).output("y");
    d.node("Relu", {"x"}, {"y"}, "relu");
    e = error_of(d, {1, 4});
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("batch bucket 1: graph input 'x' dim 1 is dynamic"), std::string::npos)
        << e.what();
    // ... which --input-shape fixes (its dim 0 follows the buckets).
    std::vector<uint64_t> keep;
    EXPECT_EQ(parse(compile(d, {1, 4}, {{"x", {9, 5}}}).bytes, &keep).buckets[1].inputs[0].info.shape,
              (std::vector<uint32_t>{4, 5}));
}

// Bucketed files written from placed programs the test tampers with.
struct Programs {
    CompileResult a, b;  // batches 2 and 4
    Programs()
    {
        for (auto [batch, r] : {std::pair<int64_t, CompileResult *>{2, &a}, {4, &b}}) {
            onnx::ModelProto m = mlp(batch).model();
            *r = compile_program(m, "", {});
        }
    }
    std::string write(uint32_t ba = 2, uint32_t bb = 4, bool batched = true, bool first_is_b = false) const
    {
        const CompileResult &f = first_is_b ? b : a;
        return serialize_buckets({{ba, &f.program, f.layout.arena_size, 0}, {bb, &b.program, b.layout.arena_size, 0}},
                                 b.layout.weights, {batched}, {batched}, "test");
    }
};

TEST(ModelLoaderBuckets, RefusesProgramsThatDisagree)
{
    Programs p;
    std::vector<uint64_t> keep;
    EXPECT_EQ(parse(p.write(), &keep).buckets.size(), 2u);  // untampered: fine

    EXPECT_NE(parse_error(p.write(4, 4, true, true)).find("bucket 1 (batch 4): the buckets are not in ascending order"),
              std::string::npos);
    EXPECT_NE(parse_error(p.write(0, 4)).find("bucket 0 (batch 0): batch 0"), std::string::npos);
    EXPECT_NE(parse_error(p.write(2, 4, false)).find("batch buckets, but no input has a batch axis"),
              std::string::npos);
    EXPECT_NE(parse_error(p.write(3, 4)).find("bucket 0 (batch 3): input 0 'x' has a shape that does not follow"),
              std::string::npos);

    // A weight of bucket 0 moved within the image: the buckets share it.
    for (auto &t : p.a.program.tensors) {
        if (t.kind == TensorKind::Weight && t.offset == 0) {
            t.offset = p.b.layout.weights_bytes - 64 * ((t.bytes() + 63) / 64);
            break;
        }
    }
    const std::string msg = parse_error(p.write());
    EXPECT_NE(msg.find("bucket 0 (batch 2): its weight tensors are not those of the model at the same offsets"),
              std::string::npos)
        << msg;
}

TEST(ModelLoaderBuckets, RefusesACorruptProgramTable)
{
    const std::string good = compile(mlp(), {1, 4, 16}).bytes;
    // Truncated anywhere: the verifier, never a read outside the file.
    for (size_t cut : {good.size() / 2, good.size() - 8, good.size() / 4}) {
        EXPECT_NE(parse_error(good.substr(0, cut)).find("corrupt or truncated"), std::string::npos) << cut;
    }
    // Flipped bytes in the programs (after the weights image): refused or
    // parsed, never a crash.
    std::mt19937 rng(9);
    for (int i = 0; i < 200; i++) {
        std::string bad = good;
        for (int k = 0; k < 8; k++) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
        std::vector<uint64_t> keep;
        try {
            parse(bad, &keep);
        } catch (const mtia::Error &e) {
            EXPECT_EQ(e.status(), MTIA_ERROR_INVALID_MODEL) << e.what();
        }
    }
}

}  // namespace
}  // namespace mtia::compiler::testing
