// SPDX-License-Identifier: MIT
// Lowering of ids and embeddings (tools/mtia-compile/lower_embed.cc): Gather
// with runtime indices to GATHER (nn.Embedding, index_select), Embedding +
// ReduceSum/ReduceMean/ReduceMax over the bag axis to one EMBEDDING_BAG,
// Cast to CAST; each compiled, run on the compute engine and compared with
// a reference computed here; ids outside the table failing the run with
// MTIA_CQE_BAD_INDEX; and the refusals naming their node. Tables shipped as
// int8/uint8 through DequantizeLinear (per row or per tensor) stay 8-bit
// rowwise on the device, float16 ones through Cast stay F16; anything else
// takes the float path.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>

#include "compiler_test_util.h"
#include "mtia/mtia_fp16.h"
#include "mtia/mtia_quant.h"

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

// Int64 ids compared with an int64 constant: exact on the device (BINARY on
// I64), where float32 would merge 2^24 and 2^24 + 1.
TEST(CompilerEmbed, IntegerComparisonsAreExact)
{
    OnnxBuilder b;
    b.input("ids", {5}, TensorProto::INT64).output("eq").output("gt");
    b.init_i64("c", {1}, {16777217}).init("one", {1}, {1.0f}).init("zero", {1}, {0.0f});
    b.node("Equal", {"ids", "c"}, {"e"});
    b.node("Greater", {"ids", "c"}, {"g"});
    b.node("Where", {"e", "one", "zero"}, {"eq"});
    b.node("Where", {"g", "one", "zero"}, {"gt"});
    CompileResult r = compile_model(b.model(), ".", {});
    for (const auto &op : r.program.ops) {
        if (op.kind == MTIA_OP_BINARY) {
            EXPECT_EQ(r.program.tensors[op.in[0]].dtype, MTIA_DTYPE_I64);
        }
    }
    const std::vector<int64_t> ids{16777216, 16777217, 16777218, -5, int64_t{1} << 40};
    auto out = run_on_host(r.bytes, {ids_input(ids)});
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0], (std::vector<float>{0, 1, 0, 0, 0}));
    EXPECT_EQ(out[1], (std::vector<float>{0, 0, 1, 0, 1}));
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

// The Loop torch 1.13 exports for nn.EmbeddingBag(20, 4) over 1-D ids (n)
// and offsets (k, include_last_offset False), pooled by `reduce`, with
// per-sample weights when `weighted`; `ends_from` is where the bag ends
// are sliced from the starts (1 in torch's export).
// `table`, if given, makes the (20, 4) value "table" instead of a random
// float initializer.
onnx::ModelProto bag_loop(const std::string &reduce, bool weighted, int64_t n, int64_t k, int64_t ends_from = 1,
                          const std::function<void(OnnxBuilder &)> &table = {})
{
    OnnxBuilder b;
    b.input("ids", {n}, TensorProto::INT64).input("offs", {k}, TensorProto::INT64);
    if (weighted) b.input("w", {n});
    b.output("y");
    if (table)
        table(b);
    else
        b.init_rand("table", {20, 4});
    b.init_i64("zero", {}, {0}).init_i64("axis0", {1}, {0}).init_i64("from", {1}, {ends_from});
    b.init_i64("axis1", {1}, {1}).init_i64("big", {1}, {INT64_MAX}).init_i64("true", {}, {1});
    b.node("Shape", {"ids"}, {"ids_shape"});
    attr(b.node("Gather", {"ids_shape", "zero"}, {"n"}), "axis", int64_t{0});
    b.node("Unsqueeze", {"n", "axis0"}, {"n1"});
    attr(b.node("Concat", {"offs", "n1"}, {"starts"}), "axis", int64_t{0});
    b.node("Slice", {"starts", "from", "big", "axis0"}, {"ends"});
    b.node("Shape", {"ends"}, {"ends_shape"});
    attr(b.node("Gather", {"ends_shape", "zero"}, {"trips"}), "axis", int64_t{0});
    OnnxBuilder body;
    body.input("i", {}, TensorProto::INT64).input("c", {}, TensorProto::BOOL).output("c_out").output("pooled");
    body.node("Gather", {"starts", "i"}, {"a"});
    body.node("Gather", {"ends", "i"}, {"b"});
    body.node("Unsqueeze", {"a", "axis0"}, {"ua"});
    body.node("Unsqueeze", {"b", "axis0"}, {"ub"});
    body.node("Slice", {"ids", "ua", "ub", "axis0"}, {"bag_ids"});
    body.node("Gather", {"table", "bag_ids"}, {"rows"});
    std::string x = "rows";
    if (weighted) {
        body.node("Slice", {"w", "ua", "ub", "axis0"}, {"bag_w"});
        body.node("Unsqueeze", {"bag_w", "axis1"}, {"col_w"});
        body.node("Mul", {"rows", "col_w"}, {"scaled"});
        x = "scaled";
    }
    if (reduce == "ReduceSum") {
        attr(body.node(reduce, {x, "axis0"}, {"pooled"}), "keepdims", int64_t{0});
    } else {
        onnx::NodeProto &r = body.node(reduce, {x}, {"pooled"});
        attr(r, "axes", std::vector<int64_t>{0});
        attr(r, "keepdims", int64_t{0});
    }
    attr(body.node("Cast", {"true"}, {"c_out"}), "to", int64_t{TensorProto::BOOL});
    onnx::NodeProto &loop = b.node("Loop", {"trips", "true"}, {"y"}, "bag_loop");
    auto *g = loop.add_attribute();
    g->set_name("body");
    g->set_type(onnx::AttributeProto::GRAPH);
    *g->mutable_g() = body.model().graph();
    return b.model();
}

// nn.EmbeddingBag's Loop is one EMBEDDING_BAG over the offsets; empty bags
// give 0 in every mode, as in PyTorch (ONNX's Loop would give NaN / -inf).
TEST(CompilerEmbed, EmbeddingBagLoopIsOneEmbeddingBag)
{
    const std::vector<int64_t> ids{3, 19, 0, 7, 7, 12, 5}, offs{0, 2, 2, 6};  // bags of 2, 0, 4 and 1
    for (const std::string red : {"ReduceSum", "ReduceMean", "ReduceMax"}) {
        SCOPED_TRACE(red);
        const onnx::ModelProto m = bag_loop(red, false, 7, 4);
        CompileResult r = compile_model(m, ".", {});
        EXPECT_EQ(kinds(r), std::vector<uint16_t>{MTIA_OP_EMBEDDING_BAG});
        auto out = run_on_host(r.bytes, {ids_input(ids), ids_input(offs)});
        ASSERT_EQ(out.size(), 1u);
        const auto t = table_of(m, "table");
        std::vector<float> want;
        for (size_t k = 0; k < offs.size(); ++k) {
            const size_t end = k + 1 < offs.size() ? size_t(offs[k + 1]) : ids.size();
            for (size_t d = 0; d < 4; ++d) {
                float v = red == "ReduceMax" ? -1e30f : 0.0f;
                for (size_t j = size_t(offs[k]); j < end; ++j) {
                    const float e = t[size_t(ids[j]) * 4 + d];
                    v = red == "ReduceMax" ? std::max(v, e) : v + e;
                }
                if (end == size_t(offs[k])) v = 0;
                if (red == "ReduceMean" && end > size_t(offs[k])) v /= float(end - size_t(offs[k]));
                want.push_back(v);
            }
        }
        EXPECT_LE(max_abs_diff(out[0], want), 1e-6f);
    }
}

// Per-sample weights with offsets: the rows are gathered and scaled, then
// summed in bags.
TEST(CompilerEmbed, WeightedEmbeddingBagLoop)
{
    const onnx::ModelProto m = bag_loop("ReduceSum", true, 5, 3);
    CompileResult r = compile_model(m, ".", {});
    EXPECT_EQ(kinds(r), (std::vector<uint16_t>{MTIA_OP_GATHER, MTIA_OP_BINARY, MTIA_OP_EMBEDDING_BAG}));
    const std::vector<int64_t> ids{1, 2, 3, 4, 5}, offs{0, 3, 3};
    const std::vector<float> w{0.5f, -2.0f, 1.0f, 3.0f, 0.25f};
    auto out = run_on_host(r.bytes, {ids_input(ids), ids_input(offs), w});
    ASSERT_EQ(out.size(), 1u);
    const auto t = table_of(m, "table");
    std::vector<float> want(12, 0.0f);
    for (size_t j = 0; j < 5; ++j)
        for (size_t d = 0; d < 4; ++d) want[(j < 3 ? 0 : 8) + d] += w[j] * t[size_t(ids[j]) * 4 + d];
    EXPECT_LE(max_abs_diff(out[0], want), 1e-6f);
}

// A Loop that is not nn.EmbeddingBag's is refused naming it: bags that do
// not end where the next starts, a body computing something else.
TEST(CompilerEmbed, OtherLoopsAreRefused)
{
    const std::string rule =
        "node 'bag_loop' (op Loop): only the embedding-bag loop torch exports for "
        "nn.EmbeddingBag is supported";
    EXPECT_NE(error_of(bag_loop("ReduceSum", false, 7, 4, 2)).find(rule), std::string::npos);
    EXPECT_NE(error_of(bag_loop("ReduceMin", false, 7, 4)).find(rule), std::string::npos);
    EXPECT_NE(error_of(bag_loop("ReduceMax", true, 7, 4)).find(rule), std::string::npos);  // weights need sum
    onnx::ModelProto m = bag_loop("ReduceSum", false, 7, 4);
    auto *body = m.mutable_graph()->mutable_node(m.graph().node_size() - 1)->mutable_attribute(0)->mutable_g();
    auto *relu = body->add_node();
    relu->set_op_type("Relu");
    relu->add_input("rows");
    relu->add_output("unused");
    const std::string e = error_of(m);
    EXPECT_NE(e.find(rule), std::string::npos) << e;
    EXPECT_NE(e.find("Relu"), std::string::npos) << e;
    // A malformed body (a Gather of one input) is refused, never read past.
    m = bag_loop("ReduceSum", false, 7, 4);
    body = m.mutable_graph()->mutable_node(m.graph().node_size() - 1)->mutable_attribute(0)->mutable_g();
    for (auto &n : *body->mutable_node())
        if (n.output(0) == "rows") n.mutable_input()->RemoveLast();
    EXPECT_NE(error_of(m).find(rule), std::string::npos);
}

// A sequence length left dynamic (torch's dynamic_axes) names the input.
TEST(CompilerEmbed, DynamicSequenceLengthNamesTheInput)
{
    OnnxBuilder b;
    b.input("token_ids", {2, -1}, TensorProto::INT64).output("y").init_rand("table", {100, 8});
    b.node("Gather", {"table", "token_ids"}, {"y"}, "tok");
    try {
        compile_model(b.model(), ".", {});
        ADD_FAILURE() << "compiled";
    } catch (const CompileError &e) {
        EXPECT_NE(std::string(e.what()).find("graph input 'token_ids' dim 1 is dynamic"), std::string::npos)
            << e.what();
    }
}

// ---- tables shipped as int8 or float16 ---------------------------------------

// A table quantized as a quantizer does it: asymmetric, each row's (or the
// whole table's) min..max onto the dtype's range; its DequantizeLinear
// value (q - zp) * s, as ONNX defines it.
struct QTable {
    int64_t r = 0, d = 0;
    int32_t dtype = TensorProto::UINT8;
    bool per_row = true;
    std::vector<int32_t> q, zp;
    std::vector<float> s;
    double at(int64_t row, int64_t c) const
    {
        const size_t j = per_row ? size_t(row) : 0;
        return double(mtia_dequantize(q[size_t(row * d + c)], s[j], zp[j]));
    }
};

QTable quant_table(int64_t r, int64_t d, int32_t dtype, bool per_row, uint32_t seed)
{
    QTable t;
    t.r = r, t.d = d, t.dtype = dtype, t.per_row = per_row;
    const std::vector<float> v = random_floats(size_t(r * d), seed);
    const int32_t lo_q = dtype == TensorProto::INT8 ? -128 : 0, hi_q = lo_q + 255;
    for (int64_t g = 0; g < (per_row ? r : 1); ++g) {
        const auto first = v.begin() + (per_row ? g * d : 0), last = per_row ? first + d : v.end();
        const float lo = std::min(0.0f, *std::min_element(first, last)),
                    hi = std::max(0.0f, *std::max_element(first, last));
        const float s = (hi - lo) / 255.0f;
        t.s.push_back(s);
        t.zp.push_back(std::clamp(int32_t(std::lround(lo_q - lo / s)), lo_q, hi_q));
    }
    for (int64_t k = 0; k < r * d; ++k) {
        const size_t j = per_row ? size_t(k / d) : 0;
        t.q.push_back(mtia_quantize(v[size_t(k)], t.s[j], t.zp[j], lo_q, hi_q));
    }
    return t;
}

// Value @name = DequantizeLinear(q, s, zp) of @t (axis 0 per row).
void add_dq_table(OnnxBuilder &b, const QTable &t, const std::string &name)
{
    const std::vector<int64_t> ps = t.per_row ? std::vector<int64_t>{t.r} : std::vector<int64_t>{};
    b.init_int(name + "_q", {t.r, t.d}, t.q, t.dtype)
        .init(name + "_s", ps, t.s)
        .init_int(name + "_zp", ps, t.zp, t.dtype);
    auto &dq = b.node("DequantizeLinear", {name + "_q", name + "_s", name + "_zp"}, {name}, name + "_dq");
    if (t.per_row) attr(dq, "axis", int64_t{0});
}

// A float16 table (random, so values exact in 16 bits) and value @name =
// Cast(it, to float); returns the float values.
std::vector<float> add_f16_table(OnnxBuilder &b, int64_t r, int64_t d, const std::string &name)
{
    std::vector<int32_t> bits;
    std::vector<float> v;
    for (float x : random_floats(size_t(r * d), 77)) {
        bits.push_back(mtia_f32_to_f16(x));
        v.push_back(mtia_f16_to_f32(uint16_t(bits.back())));
    }
    b.init_int(name + "_f16", {r, d}, bits, TensorProto::FLOAT16);
    attr(b.node("Cast", {name + "_f16"}, {name}, name + "_cast"), "to", int64_t{TensorProto::FLOAT});
    return v;
}

// The device table an op reads.
const DevTensor &table_of_op(const CompileResult &r, size_t op)
{
    return r.program.tensors[size_t(r.program.root(r.program.ops.at(op).in[0]))];
}

int pass_count(const CompileResult &r, const std::string &name)
{
    auto it = r.summary.passes.find(name);
    return it == r.summary.passes.end() ? 0 : it->second;
}

// nn.Embedding + sum/mean/max over an int8 or uint8 table quantized per row
// or per tensor: one EMBEDDING_BAG over an 8-bit rowwise table (R, D + 8),
// the float table not stored, within float rounding of ONNX's dequantized
// values pooled in double.
TEST(CompilerEmbed, Int8TableThroughDequantizeLinearStaysRowwise)
{
    for (int32_t dt : {TensorProto::UINT8, TensorProto::INT8}) {
        for (bool per_row : {true, false}) {
            for (const std::string op : {"ReduceSum", "ReduceMean", "ReduceMax"}) {
                SCOPED_TRACE(std::to_string(dt) + (per_row ? " per row " : " per tensor ") + op);
                const QTable t = quant_table(40, 6, dt, per_row, 5);
                OnnxBuilder b;
                b.input("ids", {3, 4}, TensorProto::INT64).output("y");
                add_dq_table(b, t, "table");
                b.node("Gather", {"table", "ids"}, {"e"}, "emb");
                if (op == "ReduceSum") {  // opset 13: axes an input
                    b.init_i64("axes", {1}, {1});
                    attr(b.node(op, {"e", "axes"}, {"y"}, "pool"), "keepdims", int64_t{0});
                } else {
                    auto &red = b.node(op, {"e"}, {"y"}, "pool");
                    attr(red, "axes", std::vector<int64_t>{1});
                    attr(red, "keepdims", int64_t{0});
                }
                const CompileResult r = compile_model(b.model(), ".", {});
                ASSERT_EQ(kinds(r), std::vector<uint16_t>{MTIA_OP_EMBEDDING_BAG});
                const DevTensor &tab = table_of_op(r, 0);
                EXPECT_EQ(tab.dtype, dt == TensorProto::INT8 ? MTIA_DTYPE_I8 : MTIA_DTYPE_U8);
                EXPECT_EQ(tab.shape, (Shape{40, 6 + 8}));
                EXPECT_EQ(tab.scale, 0.0f);
                EXPECT_EQ(tab.zero_point, 0);
                EXPECT_EQ(pass_count(r, "int8 embedding tables"), 1);
                EXPECT_EQ(r.summary.weights_bytes, 576u);  // 40 x 14 bytes, 64-aligned: no float copy
                EXPECT_EQ(r.summary.parameters, 240);      // the values, not the scales and biases
                const std::vector<int64_t> ids{1, 2, 3, 4, 39, 39, 0, 0, 10, 20, 30, 38};
                auto out = run_on_host(r.bytes, {ids_input(ids)});
                ASSERT_EQ(out.size(), 1u);
                std::vector<float> want;
                for (int s = 0; s < 3; s++) {
                    for (int c = 0; c < 6; c++) {
                        double acc = op == "ReduceMax" ? -1e30 : 0;
                        for (int k = 0; k < 4; k++) {
                            const double v = t.at(ids[size_t(s * 4 + k)], c);
                            acc = op == "ReduceMax" ? std::max(acc, v) : acc + v;
                        }
                        want.push_back(float(op == "ReduceMean" ? acc / 4 : acc));
                    }
                }
                EXPECT_LE(max_abs_diff(out[0], want), 2e-6f);
            }
        }
    }
}

// A plain lookup (nn.Embedding without pooling) in an int8 table: rows of
// the 8-bit rowwise table, an EMBEDDING_BAG of bags of one id, any ids'
// shape; ids outside [0, R) fail the run (nn.Embedding's rule: no negative
// ids, unlike a float table's GATHER).
TEST(CompilerEmbed, Int8TablePlainLookupIsBagsOfOne)
{
    const QTable t = quant_table(25, 5, TensorProto::UINT8, true, 9);
    OnnxBuilder b;
    b.input("ids", {2, 3}, TensorProto::INT64).output("y");
    add_dq_table(b, t, "table");
    b.node("Gather", {"table", "ids"}, {"y"}, "emb");
    const CompileResult r = compile_model(b.model(), ".", {});
    ASSERT_EQ(kinds(r), std::vector<uint16_t>{MTIA_OP_EMBEDDING_BAG});
    EXPECT_EQ(table_of_op(r, 0).dtype, MTIA_DTYPE_U8);
    EXPECT_EQ(r.program.tensors[size_t(r.program.outputs[0])].shape, (Shape{2, 3, 5}));
    const std::vector<int64_t> ids{0, 24, 7, 7, 13, 1};
    auto out = run_on_host(r.bytes, {ids_input(ids)});
    ASSERT_EQ(out.size(), 1u);
    std::vector<float> want;
    for (int64_t i : ids)
        for (int c = 0; c < 5; c++) want.push_back(float(t.at(i, c)));
    EXPECT_LE(max_abs_diff(out[0], want), 1e-6f);
    uint16_t st = 0;
    for (int64_t bad : {int64_t{25}, int64_t{-1}}) {
        EXPECT_TRUE(run_on_host(r.bytes, {ids_input({0, 1, bad, 2, 3, 4})}, nullptr, &st).empty()) << bad;
        EXPECT_EQ(st, MTIA_CQE_BAD_INDEX) << bad;
    }
}

// nn.EmbeddingBag's Loop over an int8 table: the offsets form and the
// per-sample weights' rows (bags of one id, then scaled and summed).
TEST(CompilerEmbed, Int8TableInEmbeddingBagLoops)
{
    const QTable t = quant_table(20, 4, TensorProto::INT8, true, 11);
    const std::vector<int64_t> ids{3, 19, 0, 7, 7}, offs{0, 2, 2};
    const std::vector<float> w{0.5f, -2.0f, 1.0f, 3.0f, 0.25f};
    for (bool weighted : {false, true}) {
        SCOPED_TRACE(weighted ? "weighted" : "unweighted");
        const onnx::ModelProto m =
            bag_loop("ReduceSum", weighted, 5, 3, 1, [&](OnnxBuilder &b) { add_dq_table(b, t, "table"); });
        const CompileResult r = compile_model(m, ".", {});
        EXPECT_EQ(kinds(r), weighted
                                ? (std::vector<uint16_t>{MTIA_OP_EMBEDDING_BAG, MTIA_OP_BINARY, MTIA_OP_EMBEDDING_BAG})
                                : std::vector<uint16_t>{MTIA_OP_EMBEDDING_BAG});
        EXPECT_EQ(table_of_op(r, 0).dtype, MTIA_DTYPE_I8);
        EXPECT_EQ(pass_count(r, "int8 embedding tables"), 1);
        std::vector<std::vector<float>> in{ids_input(ids), ids_input(offs)};
        if (weighted) in.push_back(w);
        auto out = run_on_host(r.bytes, in);
        ASSERT_EQ(out.size(), 1u);
        std::vector<float> want(12, 0.0f);
        for (size_t j = 0; j < ids.size(); ++j)
            for (size_t d = 0; d < 4; ++d)
                want[(j < 2 ? 0 : 8) + d] += float((weighted ? w[j] : 1.0) * t.at(ids[j], int64_t(d)));
        EXPECT_LE(max_abs_diff(out[0], want), 1e-5f);
    }
}

// A float16 table through Cast to float stays F16 on the device (the bag
// reads 16-bit rows; a plain lookup gathers them and casts), exactly the
// float16 values.
TEST(CompilerEmbed, Float16TableThroughCastStaysF16)
{
    OnnxBuilder b;
    b.input("ids", {3, 2}, TensorProto::INT64).input("ids2", {4}, TensorProto::INT64).output("y").output("z");
    const std::vector<float> v = add_f16_table(b, 30, 8, "table");
    b.node("Gather", {"table", "ids"}, {"e"}, "emb");
    b.init_i64("axes", {1}, {1});
    attr(b.node("ReduceSum", {"e", "axes"}, {"y"}, "pool"), "keepdims", int64_t{0});
    b.node("Gather", {"table", "ids2"}, {"z"}, "lookup");
    const CompileResult r = compile_model(b.model(), ".", {});
    ASSERT_EQ(kinds(r), (std::vector<uint16_t>{MTIA_OP_EMBEDDING_BAG, MTIA_OP_GATHER, MTIA_OP_CAST}));
    EXPECT_EQ(table_of_op(r, 0).dtype, MTIA_DTYPE_F16);
    EXPECT_EQ(r.program.root(r.program.ops[0].in[0]), r.program.root(r.program.ops[1].in[0]));  // one table
    EXPECT_EQ(pass_count(r, "16-bit embedding tables"), 1);
    EXPECT_EQ(r.summary.weights_bytes, 512u);  // the F16 table (480 bytes, 64-aligned): no float copy
    const std::vector<int64_t> ids{0, 29, 5, 5, 12, 1}, ids2{3, 0, 29, 17};
    auto out = run_on_host(r.bytes, {ids_input(ids), ids_input(ids2)});
    ASSERT_EQ(out.size(), 2u);
    std::vector<float> want, want2;
    for (int s = 0; s < 3; s++)
        for (int c = 0; c < 8; c++)
            want.push_back(v[size_t(ids[size_t(2 * s)] * 8 + c)] + v[size_t(ids[size_t(2 * s + 1)] * 8 + c)]);
    for (int64_t i : ids2) want2.insert(want2.end(), &v[size_t(i * 8)], &v[size_t(i * 8)] + 8);
    EXPECT_EQ(out[0], want);
    EXPECT_EQ(out[1], want2);
}

// Anything else keeps the float path: a per-column quantized table, a
// dequantized table some other op reads too (that op reads the float copy,
// the bag the rowwise one), a dequantized weight that is not a table;
// --dtype leaves an 8-bit table as it is.
TEST(CompilerEmbed, OtherDequantizedConstantsStayFloat)
{
    {                                                                      // axis 1: a scale per column
        const QTable t = quant_table(6, 10, TensorProto::UINT8, true, 3);  // 6 x 10, viewed as 10 columns' scales
        OnnxBuilder b;
        b.input("ids", {2, 2}, TensorProto::INT64).output("y");
        b.init_int("t_q", {10, 6}, t.q, TensorProto::UINT8)
            .init("t_s", {6}, t.s)
            .init_int("t_zp", {6}, t.zp, TensorProto::UINT8);
        attr(b.node("DequantizeLinear", {"t_q", "t_s", "t_zp"}, {"table"}), "axis", int64_t{1});
        b.node("Gather", {"table", "ids"}, {"e"});
        b.init_i64("axes", {1}, {1});
        attr(b.node("ReduceSum", {"e", "axes"}, {"y"}), "keepdims", int64_t{0});
        const CompileResult r = compile_model(b.model(), ".", {});
        ASSERT_EQ(kinds(r), std::vector<uint16_t>{MTIA_OP_EMBEDDING_BAG});
        EXPECT_EQ(table_of_op(r, 0).dtype, MTIA_DTYPE_F32);
        EXPECT_EQ(pass_count(r, "int8 embedding tables"), 0);
    }
    const QTable t = quant_table(16, 4, TensorProto::UINT8, true, 4);
    {  // the table also read by a MatMul
        OnnxBuilder b;
        b.input("ids", {2, 2}, TensorProto::INT64).input("x", {3, 16}).output("y").output("m");
        add_dq_table(b, t, "table");
        b.node("Gather", {"table", "ids"}, {"e"});
        b.init_i64("axes", {1}, {1});
        attr(b.node("ReduceSum", {"e", "axes"}, {"y"}), "keepdims", int64_t{0});
        b.node("MatMul", {"x", "table"}, {"m"});
        const CompileResult r = compile_model(b.model(), ".", {});
        ASSERT_EQ(kinds(r), (std::vector<uint16_t>{MTIA_OP_EMBEDDING_BAG, MTIA_OP_GEMM}));
        EXPECT_EQ(table_of_op(r, 0).dtype, MTIA_DTYPE_U8);
        EXPECT_EQ(r.program.tensors[size_t(r.program.root(r.program.ops[1].in[1]))].dtype, MTIA_DTYPE_F32);
        const std::vector<float> x = random_floats(48, 8);
        auto out = run_on_host(r.bytes, {ids_input({1, 2, 15, 0}), x});
        ASSERT_EQ(out.size(), 2u);
        std::vector<float> m(12, 0.0f);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 16; k++) m[size_t(i * 4 + j)] += x[size_t(i * 16 + k)] * float(t.at(k, j));
        EXPECT_LE(max_abs_diff(out[1], m), 1e-5f);
    }
    {  // only a MatMul reads it: nothing rowwise
        OnnxBuilder b;
        b.input("x", {3, 16}).output("m");
        add_dq_table(b, t, "table");
        b.node("MatMul", {"x", "table"}, {"m"});
        const CompileResult r = compile_model(b.model(), ".", {});
        EXPECT_EQ(pass_count(r, "int8 embedding tables"), 0);
        for (const auto &tt : r.program.tensors) EXPECT_FALSE(mtia_dtype_is_quant(tt.dtype)) << tt.name;
    }
    {  // --dtype bf16: the bag's 8-bit table is left alone
        OnnxBuilder b;
        b.input("ids", {2, 2}, TensorProto::INT64).output("y");
        add_dq_table(b, t, "table");
        b.node("Gather", {"table", "ids"}, {"e"});
        b.init_i64("axes", {1}, {1});
        attr(b.node("ReduceSum", {"e", "axes"}, {"y"}), "keepdims", int64_t{0});
        CompileOptions o;
        o.dtype = MTIA_DTYPE_BF16;
        const CompileResult r = compile_model(b.model(), ".", o);
        EXPECT_EQ(table_of_op(r, 0).dtype, MTIA_DTYPE_U8);
        auto out = run_on_host(r.bytes, {ids_input({1, 2, 15, 0})});
        ASSERT_EQ(out.size(), 1u);
        for (int s = 0; s < 2; s++)
            for (int c = 0; c < 4; c++)
                EXPECT_NEAR(out[0][size_t(s * 4 + c)], t.at(s ? 15 : 1, c) + t.at(s ? 0 : 2, c), 1e-5) << s << " " << c;
    }
}

}  // namespace
}  // namespace mtia::compiler::testing
