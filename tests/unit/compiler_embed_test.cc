// SPDX-License-Identifier: MIT
// Lowering of ids and embeddings (tools/mtia-compile/lower_embed.cc): Gather
// with runtime indices to GATHER (nn.Embedding, index_select), Embedding +
// ReduceSum/ReduceMean/ReduceMax over the bag axis to one EMBEDDING_BAG,
// Cast to CAST; each compiled, run on the compute engine and compared with
// a reference computed here; ids outside the table failing the run with
// MTIA_CQE_BAD_INDEX; and the refusals naming their node.
#include <gtest/gtest.h>

#include <cstring>

#include "compiler_test_util.h"

namespace mtia::compiler::testing {
namespace {

using onnx::TensorProto;

std::vector<uint16_t> kinds(const CompileResult &r)
{
    std::vector<uint16_t> k;
    for (const auto &op : r.program.ops) k.push_back(op.kind);
    return k;
}

std::string error_of(const onnx::ModelProto &m)
{
    try {
        compile_model(m, ".", {});
    } catch (const CompileError &e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported) << e.what();
        return e.what();
    }
    ADD_FAILURE() << "compiled without error";
    return "";
}

// The table's values, as init_rand made them (read back from the model).
std::vector<float> table_of(const onnx::ModelProto &m, const std::string &name)
{
    for (const auto &t : m.graph().initializer())
        if (t.name() == name) return std::vector<float>(t.float_data().begin(), t.float_data().end());
    ADD_FAILURE() << "no initializer " << name;
    return {};
}

TEST(CompilerEmbed, EmbeddingIsGatherWithNegativeIds)
{
    OnnxBuilder b;
    b.input("ids", {4, 3}, TensorProto::INT64).output("y").init_rand("table", {100, 8});
    b.node("Gather", {"table", "ids"}, {"y"}, "emb");
    CompileResult r = compile_model(b.model(), ".", {});
    EXPECT_EQ(kinds(r), std::vector<uint16_t>{MTIA_OP_GATHER});
    const std::vector<int64_t> ids{0, 99, 5, -1, 42, 42, 7, -100, 3, 1, 2, 64};
    auto out = run_on_host(r.bytes, {ids_input(ids)});
    ASSERT_EQ(out.size(), 1u);
    const auto t = table_of(b.model(), "table");
    ASSERT_EQ(t.size(), 800u);
    std::vector<float> want;
    for (int64_t i : ids) want.insert(want.end(), &t[size_t((i + 100) % 100) * 8], &t[size_t((i + 100) % 100) * 8] + 8);
    EXPECT_EQ(out[0], want);
}

TEST(CompilerEmbed, IndexSelectOfAnActivationOnAxis1)
{
    OnnxBuilder b;
    b.input("x", {2, 5, 3}).input("idx", {4}, TensorProto::INT64).output("y");
    b.node("Relu", {"x"}, {"r"});
    attr(b.node("Gather", {"r", "idx"}, {"y"}, "index_select"), "axis", int64_t{1});
    CompileResult r = compile_model(b.model(), ".", {});
    EXPECT_EQ(kinds(r), (std::vector<uint16_t>{MTIA_OP_ACT, MTIA_OP_GATHER}));
    const auto x = random_floats(30, 3);
    const std::vector<int64_t> idx{4, 0, -2, 0};
    auto out = run_on_host(r.bytes, {x, ids_input(idx)});
    ASSERT_EQ(out.size(), 1u);
    std::vector<float> want;
    for (int n = 0; n < 2; n++)
        for (int64_t i : idx)
            for (int c = 0; c < 3; c++) want.push_back(std::max(0.0f, x[size_t(n * 15 + ((i + 5) % 5) * 3 + c)]));
    EXPECT_EQ(out[0], want);
}

// nn.Embedding(ids (B, L)) then .sum(1) / .mean(1, keepdim) / .max(1):
// one EMBEDDING_BAG with a fixed bag of L.
TEST(CompilerEmbed, EmbeddingThenPoolingIsOneEmbeddingBag)
{
    for (const char *op : {"ReduceSum", "ReduceMean", "ReduceMax"}) {
        OnnxBuilder b;
        b.input("ids", {3, 4}, TensorProto::INT64).output("y").init_rand("table", {50, 6});
        b.node("Gather", {"table", "ids"}, {"e"}, "emb");
        if (std::string(op) == "ReduceSum") {
            b.init_i64("axes", {1}, {1});
            attr(b.node(op, {"e", "axes"}, {"y"}, "pool"), "keepdims", int64_t{0});
        } else {
            auto &n = b.node(op, {"e"}, {"y"}, "pool");
            attr(n, "axes", std::vector<int64_t>{1});
            attr(n, "keepdims", int64_t{1});
        }
        CompileResult r = compile_model(b.model(), ".", {});
        EXPECT_EQ(kinds(r), std::vector<uint16_t>{MTIA_OP_EMBEDDING_BAG}) << op;
        const std::vector<int64_t> ids{1, 2, 3, 4, 49, 49, 0, 0, 10, 20, 30, 40};
        auto out = run_on_host(r.bytes, {ids_input(ids)});
        ASSERT_EQ(out.size(), 1u) << op;
        const auto t = table_of(b.model(), "table");
        std::vector<float> want;
        for (int s = 0; s < 3; s++) {
            for (int c = 0; c < 6; c++) {
                double acc = std::string(op) == "ReduceMax" ? -1e30 : 0;
                for (int k = 0; k < 4; k++) {
                    const double v = t[size_t(ids[size_t(s * 4 + k)]) * 6 + size_t(c)];
                    acc = std::string(op) == "ReduceMax" ? std::max(acc, v) : acc + v;
                }
                if (std::string(op) == "ReduceMean") acc /= 4;
                want.push_back(float(acc));
            }
        }
        EXPECT_LE(max_abs_diff(out[0], want), 1e-5f) << op;
    }
}

TEST(CompilerEmbed, IdsOutsideTheTableFailTheRun)
{
    OnnxBuilder b;
    b.input("ids", {2, 2}, TensorProto::INT64).output("y").init_rand("table", {10, 4});
    b.node("Gather", {"table", "ids"}, {"e"}, "emb");
    b.init_i64("axes", {1}, {1});
    attr(b.node("ReduceSum", {"e", "axes"}, {"y"}, "pool"), "keepdims", int64_t{0});
    CompileResult r = compile_model(b.model(), ".", {});
    uint16_t st = 0;
    EXPECT_TRUE(run_on_host(r.bytes, {ids_input({0, 1, 10, 2})}, nullptr, &st).empty());
    EXPECT_EQ(st, MTIA_CQE_BAD_INDEX);
    EXPECT_TRUE(run_on_host(r.bytes, {ids_input({0, -1, 3, 2})}, nullptr, &st).empty());
    EXPECT_EQ(st, MTIA_CQE_BAD_INDEX);  // a bag's ids are rows: no negative ids
}

TEST(CompilerEmbed, CastOfIdsAndToIds)
{
    OnnxBuilder b;  // float ids (as some exporters make them) -> int64 -> lookup; int ids -> float
    b.input("f", {3}).input("ids", {3}, TensorProto::INT32).output("y").output("z").init_rand("table", {8, 2});
    attr(b.node("Cast", {"f"}, {"fi"}, "to_int"), "to", int64_t{TensorProto::INT64});
    b.node("Gather", {"table", "fi"}, {"y"}, "emb");
    attr(b.node("Cast", {"ids"}, {"z"}, "to_float"), "to", int64_t{TensorProto::FLOAT});
    CompileResult r = compile_model(b.model(), ".", {});
    EXPECT_EQ(kinds(r), (std::vector<uint16_t>{MTIA_OP_CAST, MTIA_OP_GATHER, MTIA_OP_CAST}));
    std::vector<float> ids(3);
    const int32_t iv[3] = {-7, 0, 123456};
    std::memcpy(ids.data(), iv, 12);
    auto out = run_on_host(r.bytes, {{2.9f, 0.2f, 7.99f}, ids});
    ASSERT_EQ(out.size(), 2u);
    const auto t = table_of(b.model(), "table");
    EXPECT_EQ(out[0], (std::vector<float>{t[4], t[5], t[0], t[1], t[14], t[15]}));  // rows 2, 0, 7 (truncated)
    EXPECT_EQ(out[1], (std::vector<float>{-7, 0, 123456}));
}

TEST(CompilerEmbed, RefusalsNameTheNode)
{
    {
        OnnxBuilder b;  // a ReduceSum of ids (not an embedding bag; REDUCE is float)
        b.input("x", {2, 3}, TensorProto::INT64).output("y");
        b.init_i64("axes", {1}, {1});
        b.node("ReduceSum", {"x", "axes"}, {"y"}, "sum_7");
        EXPECT_NE(error_of(b.model()).find("'sum_7'"), std::string::npos);
    }
    {
        OnnxBuilder b;  // Cast to a type the device lacks
        b.input("x", {2}).output("y");
        attr(b.node("Cast", {"x"}, {"y"}, "cast_3"), "to", int64_t{TensorProto::DOUBLE});
        EXPECT_NE(error_of(b.model()).find("node 'cast_3' (op Cast)"), std::string::npos);
    }
    {
        OnnxBuilder b;  // integer ids into a float op
        b.input("ids", {2}, TensorProto::INT64).output("y");
        b.node("Relu", {"ids"}, {"y"}, "relu_2");
        EXPECT_NE(error_of(b.model()).find("relu_2"), std::string::npos);
    }
    {
        OnnxBuilder b;  // a generic Loop
        b.input("x", {2}).output("y");
        b.node("Loop", {"", "", "x"}, {"y"}, "loop_9");
        EXPECT_NE(error_of(b.model()).find("node 'loop_9' (op Loop)"), std::string::npos);
    }
}

}  // namespace
}  // namespace mtia::compiler::testing
