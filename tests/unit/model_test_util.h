// SPDX-License-Identifier: MIT
// Builds .mtia models with the FlatBuffers API for the loader tests: a
// spec struct that tests corrupt one field at a time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mtia/mtia_model.h"
#include "mtia/mtia_model_generated.h"
#include "mtia/mtia_spec.h"

namespace model_test {

namespace fb = mtia::model;

struct TensorSpec {
    std::string name;
    fb::TensorKind kind = fb::TensorKind::Activation;
    std::vector<uint32_t> shape;
    uint64_t offset = 0;
    int64_t size = -1;  // -1: product(shape) * 4
    uint8_t dtype = 1;
    bool no_shape = false;
    float scale = 0;  // I8/U8 (format 1.2)
    int32_t zero_point = 0;
    int8_t batch_axis = -1;  // bucketed files' inputs/outputs (format 1.1)
};

struct OpSpec {
    uint16_t kind = MTIA_OP_ACT;
    std::string name;
    std::vector<uint32_t> inputs;
    uint32_t output = 0;
    uint8_t act = MTIA_ACT_NONE;
    float act_min = 0, act_max = 0;
    std::vector<uint32_t> attrs;
    bool no_inputs = false;
};

struct ModelSpec {
    uint32_t version = MTIA_MODEL_FORMAT_VERSION;
    std::string name = "tiny";
    std::vector<TensorSpec> tensors;
    std::vector<OpSpec> ops;
    std::vector<uint32_t> inputs, outputs;
    uint64_t arena = 0;
    std::vector<uint8_t> weights;
    bool no_weights = false;
    uint64_t flops = 0;
    // Batch buckets (Model.programs): each one's batch, tensors, ops,
    // inputs, outputs, arena and flops; the rest of theirs is unused.
    uint32_t batch = 0;
    std::vector<ModelSpec> programs;
};

// m's tensors and ops, built into b.
inline std::pair<flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Tensor>>>,
                 flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Op>>>>
build_program(flatbuffers::FlatBufferBuilder &b, const ModelSpec &m)
{
    std::vector<flatbuffers::Offset<fb::Tensor>> ts;
    for (const auto &t : m.tensors) {
        uint64_t n = 4;
        for (uint32_t d : t.shape) n *= d;
        auto name = b.CreateString(t.name);
        auto shape = t.no_shape ? 0 : b.CreateVector(t.shape);
        fb::TensorBuilder tb(b);
        tb.add_name(name);
        tb.add_kind(t.kind);
        tb.add_dtype(static_cast<fb::DType>(t.dtype));
        if (!t.no_shape) tb.add_shape(shape);
        tb.add_offset(t.offset);
        tb.add_size(t.size < 0 ? n : static_cast<uint64_t>(t.size));
        tb.add_scale(t.scale);
        tb.add_zero_point(t.zero_point);
        tb.add_batch_axis(t.batch_axis);
        ts.push_back(tb.Finish());
    }
    std::vector<flatbuffers::Offset<fb::Op>> os;
    for (const auto &o : m.ops) {
        auto name = b.CreateString(o.name);
        auto in = o.no_inputs ? 0 : b.CreateVector(o.inputs);
        auto attrs = b.CreateVector(o.attrs);
        fb::OpBuilder ob(b);
        ob.add_kind(static_cast<fb::OpKind>(o.kind));
        ob.add_name(name);
        if (!o.no_inputs) ob.add_inputs(in);
        ob.add_output(o.output);
        ob.add_act(static_cast<fb::Activation>(o.act));
        ob.add_act_min(o.act_min);
        ob.add_act_max(o.act_max);
        ob.add_attrs(attrs);
        os.push_back(ob.Finish());
    }
    return {b.CreateVector(ts), b.CreateVector(os)};
}

inline std::vector<uint8_t> build(const ModelSpec &m)
{
    flatbuffers::FlatBufferBuilder b;
    const auto [ts, os] = build_program(b, m);
    std::vector<flatbuffers::Offset<fb::Program>> progs;
    for (const ModelSpec &p : m.programs) {
        const auto [pts, pos] = build_program(b, p);
        progs.push_back(fb::CreateProgram(b, p.batch, pts, pos, b.CreateVector(p.inputs), b.CreateVector(p.outputs),
                                          p.arena, p.flops));
    }
    // Not CreateModelDirect: its force_align 64 for the weights asserts in
    // FlatBuffers 2.0.8 builds without NDEBUG (limit 32); the loader does not
    // depend on the alignment.
    flatbuffers::Offset<flatbuffers::Vector<uint8_t>> w;
    if (!m.no_weights) {
        b.ForceVectorAlignment(m.weights.size(), 1, 32);
        w = b.CreateVector(m.weights);
    }
    auto root = fb::CreateModel(b, m.version, b.CreateString(m.name), b.CreateString("model_test"), ts, os,
                                b.CreateVector(m.inputs), b.CreateVector(m.outputs), m.arena, w, m.flops,
                                m.programs.empty() ? 0 : b.CreateVector(progs));
    b.Finish(root, fb::ModelIdentifier());
    return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

// y = relu(conv1x1(x, W, bias)) + x: x (1,2,4,4) input, W (2,2,1,1) and
// bias (2) weights, h intermediate, y output.
//   arena: [0,16) W, [64,72) bias | [128,256) x, [256,384) h, [384,512) y
inline ModelSpec tiny()
{
    ModelSpec m;
    m.weights.resize(128);
    for (size_t i = 0; i < m.weights.size(); i++) m.weights[i] = static_cast<uint8_t>(i);
    m.tensors = {
        {"W", fb::TensorKind::Weight, {2, 2, 1, 1}, 0},   {"bias", fb::TensorKind::Weight, {2}, 64},
        {"x", fb::TensorKind::Input, {1, 2, 4, 4}, 128},  {"h", fb::TensorKind::Activation, {1, 2, 4, 4}, 256},
        {"y", fb::TensorKind::Output, {1, 2, 4, 4}, 384},
    };
    OpSpec conv;
    conv.kind = MTIA_OP_CONV;
    conv.name = "conv";
    conv.inputs = {2, 0, 1};
    conv.output = 3;
    conv.act = MTIA_ACT_RELU;
    conv.attrs = {1, 1, 0, 0, 0, 0, 1, 1, 1};
    OpSpec add;
    add.kind = MTIA_OP_BINARY;
    add.name = "add";
    add.inputs = {3, 2};
    add.output = 4;
    add.attrs = {MTIA_BINARY_ADD};
    m.ops = {conv, add};
    m.inputs = {2};
    m.outputs = {4};
    m.arena = 512;
    m.flops = 2 * 2 * 2 * 16;
    return m;
}

// A chain of n_blocks (conv 3x3 + relu, add residual, clip) over 1x8x16x16
// activations with ping-pong arena reuse: a model with some bulk for the
// random-corruption test.
inline ModelSpec chain(int n_blocks)
{
    ModelSpec m;
    const uint32_t C = 8, H = 16;
    const uint64_t act = 4ull * C * H * H;  // 8 KiB
    const uint64_t wconv = 4ull * C * C * 9, wb = 4ull * C;
    uint64_t at = 0;
    for (int i = 0; i < n_blocks; i++) {
        m.tensors.push_back({"w" + std::to_string(i), fb::TensorKind::Weight, {C, C, 3, 3}, at});
        at += (wconv + 63) / 64 * 64;
        m.tensors.push_back({"b" + std::to_string(i), fb::TensorKind::Weight, {C}, at});
        at += (wb + 63) / 64 * 64;
    }
    m.weights.resize(at);
    for (size_t i = 0; i < m.weights.size(); i++) m.weights[i] = static_cast<uint8_t>(i * 7);
    const uint64_t base = at;
    const uint32_t x = static_cast<uint32_t>(m.tensors.size());
    m.tensors.push_back({"x", fb::TensorKind::Input, {1, C, H, H}, base});
    // Three rotating activation slots after the input.
    uint32_t prev = x;
    for (int i = 0; i < n_blocks; i++) {
        const bool last = i == n_blocks - 1;
        const uint64_t slot_h = base + act * (1 + (2 * i) % 3), slot_y = base + act * (1 + (2 * i + 1) % 3);
        const uint32_t h = static_cast<uint32_t>(m.tensors.size());
        m.tensors.push_back({"h" + std::to_string(i), fb::TensorKind::Activation, {1, C, H, H}, slot_h});
        const uint32_t y = static_cast<uint32_t>(m.tensors.size());
        m.tensors.push_back({last ? "out" : "y" + std::to_string(i),
                             last ? fb::TensorKind::Output : fb::TensorKind::Activation,
                             {1, C, H, H},
                             last ? base + act * 4 : slot_y});
        OpSpec conv;
        conv.kind = MTIA_OP_CONV;
        conv.name = "conv" + std::to_string(i);
        conv.inputs = {prev, static_cast<uint32_t>(2 * i), static_cast<uint32_t>(2 * i + 1)};
        conv.output = h;
        conv.act = MTIA_ACT_RELU;
        conv.attrs = {1, 1, 1, 1, 1, 1, 1, 1, 1};
        OpSpec add;
        add.kind = MTIA_OP_BINARY;
        add.name = "add" + std::to_string(i);
        add.inputs = {h, prev};
        add.output = y;
        add.act = MTIA_ACT_CLIP;
        add.act_min = -6;
        add.act_max = 6;
        add.attrs = {MTIA_BINARY_ADD};
        m.ops.push_back(conv);
        m.ops.push_back(add);
        prev = y;
    }
    m.inputs = {x};
    m.outputs = {prev};
    m.arena = base + act * 5;
    return m;
}

}  // namespace model_test
