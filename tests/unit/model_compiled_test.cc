// SPDX-License-Identifier: MIT
// The loader against real mtia-compile output: a small CNN built as an ONNX
// graph here, compiled in-process, must load; cut at every length and with
// random bytes flipped 1000 times it must give INVALID_MODEL or a model that
// passes every check, never a crash.
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "compiler.h"
#include "model_loader.h"

namespace {

using mtia::detail::ParsedModel;

struct Graph {
    onnx::ModelProto model;
    onnx::GraphProto *g;
    std::mt19937 rng{7};

    Graph()
    {
        model.set_ir_version(7);
        model.add_opset_import()->set_version(13);
        g = model.mutable_graph();
        g->set_name("smallcnn");
    }
    void value(onnx::ValueInfoProto *v, const std::string &name, const std::vector<int64_t> &shape)
    {
        v->set_name(name);
        auto *t = v->mutable_type()->mutable_tensor_type();
        t->set_elem_type(onnx::TensorProto::FLOAT);
        for (int64_t d : shape) t->mutable_shape()->add_dim()->set_dim_value(d);
    }
    void weight(const std::string &name, const std::vector<int64_t> &shape)
    {
        auto *t = g->add_initializer();
        t->set_name(name);
        t->set_data_type(onnx::TensorProto::FLOAT);
        int64_t n = 1;
        for (int64_t d : shape) t->add_dims(d), n *= d;
        std::uniform_real_distribution<float> u(-0.3f, 0.3f);
        for (int64_t i = 0; i < n; i++) t->add_float_data(u(rng));
    }
    onnx::NodeProto *node(const std::string &op, const std::vector<std::string> &in, const std::string &out)
    {
        auto *n = g->add_node();
        n->set_op_type(op);
        n->set_name(out);
        for (const auto &i : in) n->add_input(i);
        n->add_output(out);
        return n;
    }
    static void ints(onnx::NodeProto *n, const std::string &name, const std::vector<int64_t> &v)
    {
        auto *a = n->add_attribute();
        a->set_name(name);
        a->set_type(onnx::AttributeProto::INTS);
        for (int64_t x : v) a->add_ints(x);
    }
};

// conv/relu/maxpool/conv(stride 2)+residual-free/global avg pool/gemm/softmax.
std::string compile_small_cnn()
{
    Graph G;
    G.value(G.g->add_input(), "x", {1, 3, 16, 16});
    G.weight("w1", {8, 3, 3, 3});
    G.weight("b1", {8});
    G.weight("w2", {16, 8, 3, 3});
    G.weight("fc_w", {10, 16});
    G.weight("fc_b", {10});
    auto *c1 = G.node("Conv", {"x", "w1", "b1"}, "c1");
    Graph::ints(c1, "pads", {1, 1, 1, 1});
    G.node("Relu", {"c1"}, "r1");
    auto *p1 = G.node("MaxPool", {"r1"}, "p1");
    Graph::ints(p1, "kernel_shape", {2, 2});
    Graph::ints(p1, "strides", {2, 2});
    auto *c2 = G.node("Conv", {"p1", "w2"}, "c2");
    Graph::ints(c2, "pads", {1, 1, 1, 1});
    Graph::ints(c2, "strides", {2, 2});
    G.node("Relu", {"c2"}, "r2");
    G.node("GlobalAveragePool", {"r2"}, "gap");
    G.node("Flatten", {"gap"}, "flat");
    auto *fc = G.node("Gemm", {"flat", "fc_w", "fc_b"}, "fc");
    auto *tb = fc->add_attribute();
    tb->set_name("transB");
    tb->set_type(onnx::AttributeProto::INT);
    tb->set_i(1);
    G.node("Softmax", {"fc"}, "y");
    G.value(G.g->add_output(), "y", {1, 10});
    return mtia::compiler::compile_model(G.model, ".", {}).bytes;
}

ParsedModel parse(const std::string &bytes)
{
    static std::vector<uint64_t> aligned;
    aligned.assign(bytes.size() / 8 + 1, 0);
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    return mtia::detail::parse_model(aligned.data(), bytes.size());
}

TEST(ModelCompiled, LoadsCompilerOutput)
{
    const ParsedModel p = parse(compile_small_cnn());
    EXPECT_EQ(p.name, "smallcnn");
    ASSERT_EQ(p.inputs.size(), 1u);
    EXPECT_EQ(p.inputs[0].info.name, "x");
    EXPECT_EQ(p.inputs[0].info.shape, (std::vector<uint32_t>{1, 3, 16, 16}));
    ASSERT_EQ(p.outputs.size(), 1u);
    EXPECT_EQ(p.outputs[0].info.shape, (std::vector<uint32_t>{1, 10}));
    EXPECT_EQ(p.program.front().opcode, MTIA_OP_CONV);
    EXPECT_EQ(p.program.front().act, MTIA_ACT_RELU);  // fused
    EXPECT_EQ(p.program.back().opcode, MTIA_OP_SOFTMAX);
    // (8*27 + 8 + 16*72 + 160 + 10) floats, each tensor 64-byte aligned.
    EXPECT_GE(p.weights_size, (8u * 27 + 8 + 16 * 72 + 160 + 10) * 4);
}

TEST(ModelCompiled, TruncationsAreErrors)
{
    const std::string good = compile_small_cnn();
    const ParsedModel want = parse(good);
    for (size_t n = 0; n + 3 < good.size(); n++) {
        try {
            parse(good.substr(0, n));
            FAIL() << "cut to " << n << " of " << good.size() << " bytes was accepted";
        } catch (const mtia::Error &e) {
            ASSERT_EQ(e.status(), MTIA_ERROR_INVALID_MODEL) << e.what();
        }
    }
}

TEST(ModelCompiled, RandomByteFlipsAreErrorsOrValid)
{
    const std::string good = compile_small_cnn();
    std::mt19937 rng(11);
    int rejected = 0, accepted = 0;
    for (int r = 0; r < 1000; r++) {
        std::string bad = good;
        const int flips = 1 + static_cast<int>(rng() % 3);
        for (int f = 0; f < flips; f++) bad[rng() % bad.size()] ^= static_cast<char>(1 + rng() % 255);
        try {
            const ParsedModel p = parse(bad);
            accepted++;  // e.g. a flipped weight or name byte: still a valid model
            for (const mtia_op &op : p.program) {
                ASSERT_LE(op.out.offset + 4, p.arena_size);
                ASSERT_LE(op.act, MTIA_ACT_LAST);
            }
        } catch (const mtia::Error &e) {
            ASSERT_EQ(e.status(), MTIA_ERROR_INVALID_MODEL) << e.what();
            rejected++;
        }
    }
    EXPECT_GT(rejected, 100);
    EXPECT_GT(accepted, 100);
}

}  // namespace
