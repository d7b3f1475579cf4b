// SPDX-License-Identifier: MIT
// The .mtia loader without a device: a good model is accepted and lowered to
// the expected struct mtia_op program; every kind of corruption is a clear
// MTIA_ERROR_INVALID_MODEL (truncation at every length, random byte flips,
// bad indices/offsets/sizes/enums/versions), never a crash.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <random>

#include "../models/quant_models.h"
#include "model_loader.h"
#include "model_test_util.h"

namespace {

using mtia::detail::parse_model;
using mtia::detail::ParsedModel;
using namespace model_test;

// parse_model on an 8-byte aligned copy (as load_memory/load_file give it).
// The copy lives until the next parse (ParsedModel::weights points into it).
ParsedModel parse(const std::vector<uint8_t> &bytes)
{
    static std::vector<uint64_t> aligned;
    aligned.assign(bytes.size() / 8 + 1, 0);
    if (!bytes.empty()) std::memcpy(aligned.data(), bytes.data(), bytes.size());
    return parse_model(aligned.data(), bytes.size());
}

// Expects MTIA_ERROR_INVALID_MODEL whose message contains substr.
void expect_invalid(const std::vector<uint8_t> &bytes, const std::string &substr)
{
    try {
        parse(bytes);
        ADD_FAILURE() << "accepted; wanted an error containing '" << substr << "'";
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), MTIA_ERROR_INVALID_MODEL) << e.what();
        EXPECT_NE(std::string(e.what()).find(substr), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("invalid model: ", 0), 0u) << e.what();
    }
}

void expect_invalid(const std::function<void(ModelSpec &)> &corrupt, const std::string &substr)
{
    ModelSpec m = tiny();
    corrupt(m);
    expect_invalid(build(m), substr);
}

uint32_t bits(float f)
{
    uint32_t u;
    std::memcpy(&u, &f, 4);
    return u;
}

TEST(ModelLoader, AcceptsTinyModel)
{
    ParsedModel p = parse(build(tiny()));
    EXPECT_EQ(p.name, "tiny");
    EXPECT_EQ(p.producer, "model_test");
    EXPECT_EQ(p.format_version, MTIA_MODEL_FORMAT_VERSION);
    EXPECT_EQ(p.arena_size, 512u);
    EXPECT_EQ(p.flops, 128u);
    ASSERT_EQ(p.weights_size, 128u);
    EXPECT_EQ(p.weights[5], 5);
    ASSERT_EQ(p.inputs.size(), 1u);
    EXPECT_EQ(p.inputs[0].info.name, "x");
    EXPECT_EQ(p.inputs[0].info.shape, (std::vector<uint32_t>{1, 2, 4, 4}));
    EXPECT_EQ(p.inputs[0].info.bytes, 128u);
    EXPECT_EQ(p.inputs[0].offset, 128u);
    ASSERT_EQ(p.outputs.size(), 1u);
    EXPECT_EQ(p.outputs[0].info.name, "y");
    EXPECT_EQ(p.outputs[0].offset, 384u);
    ASSERT_EQ(p.program.size(), 2u);
    EXPECT_EQ(p.op_names[0], "op 0 (Conv 'conv')");
}

TEST(ModelLoader, LowersOpsToDeviceDescriptors)
{
    static_assert(sizeof(mtia_op) == MTIA_OP_BYTES, "op size");
    ParsedModel p = parse(build(tiny()));
    const mtia_op &c = p.program[0];
    EXPECT_EQ(c.opcode, MTIA_OP_CONV);
    EXPECT_EQ(c.n_in, 3);
    EXPECT_EQ(c.act, MTIA_ACT_RELU);
    EXPECT_EQ(c.flags, 0u);
    EXPECT_EQ(c.in[0].offset, 128u);
    EXPECT_EQ(c.in[0].dtype, MTIA_DTYPE_F32);
    EXPECT_EQ(c.in[0].ndim, 4);
    EXPECT_EQ(c.in[0].dims[0], 1u);
    EXPECT_EQ(c.in[0].dims[1], 2u);
    EXPECT_EQ(c.in[0].dims[3], 4u);
    EXPECT_EQ(c.in[0].dims[4], 0u);  // unused dims zero
    EXPECT_EQ(c.in[1].offset, 0u);
    EXPECT_EQ(c.in[1].dims[0], 2u);
    EXPECT_EQ(c.in[2].offset, 64u);
    EXPECT_EQ(c.in[2].ndim, 1);
    EXPECT_EQ(c.out.offset, 256u);
    EXPECT_EQ(c.attrs[MTIA_CONV_STRIDE_H], 1u);
    EXPECT_EQ(c.attrs[MTIA_CONV_GROUPS], 1u);
    EXPECT_EQ(c.attrs[9], 0u);
    const mtia_op &a = p.program[1];
    EXPECT_EQ(a.opcode, MTIA_OP_BINARY);
    EXPECT_EQ(a.n_in, 2);
    EXPECT_EQ(a.in[0].offset, 256u);
    EXPECT_EQ(a.in[1].offset, 128u);
    // Unused input slots and reserved words stay zero.
    const mtia_tensor_desc zero{};
    EXPECT_EQ(std::memcmp(&a.in[2], &zero, sizeof(zero)), 0);
    for (uint32_t r : a.reserved) EXPECT_EQ(r, 0u);
    EXPECT_EQ(a.in[0].zero_point, 0);
    EXPECT_EQ(a.in[0].scale, 0u);
}

TEST(ModelLoader, ClipBoundsAreF32Bits)
{
    ModelSpec m = tiny();
    m.ops[1].act = MTIA_ACT_CLIP;
    m.ops[1].act_min = -1.5f;
    m.ops[1].act_max = 6.0f;
    ParsedModel p = parse(build(m));
    EXPECT_EQ(p.program[1].act, MTIA_ACT_CLIP);
    EXPECT_EQ(p.program[1].act_min, bits(-1.5f));
    EXPECT_EQ(p.program[1].act_max, 0x40c00000u);
    m.ops[1].act_min = -INFINITY;  // an open bound is fine
    EXPECT_EQ(parse(build(m)).program[1].act_min, 0xff800000u);
}

TEST(ModelLoader, AcceptsEveryMajorItKnows)
{
    ModelSpec m = tiny();
    m.version = MTIA_MODEL_FORMAT_V1;  // what files without Op.flags are written as
    EXPECT_EQ(parse(build(m)).format_version, MTIA_MODEL_FORMAT_V1);
}

TEST(ModelLoader, AcceptsNewerMinorVersion)
{
    ModelSpec m = tiny();
    m.version = MTIA_MODEL_FORMAT_MAJOR << 16 | 7;
    EXPECT_EQ(parse(build(m)).format_version & 0xffff, 7u);
}

TEST(ModelLoader, AcceptsInPlaceAndReusedOffsets)
{
    ModelSpec m = tiny();
    // h in place over x's bytes is wrong (x is read again by op 1) ...
    m.tensors[3].offset = 128;
    expect_invalid(build(m), "which is still needed by op 1 (Binary 'add')");
    // ... but an activation op writing over its own input's bytes is fine,
    // and so is reusing bytes whose tensor is dead.
    m = tiny();
    m.tensors.push_back({"z", fb::TensorKind::Activation, {1, 2, 4, 4}, 256});  // = h's bytes
    OpSpec relu;
    relu.kind = MTIA_OP_ACT;
    relu.act = MTIA_ACT_RELU;
    relu.inputs = {3};
    relu.output = 5;
    m.ops.insert(m.ops.begin() + 1, relu);
    m.ops[2].inputs = {5, 2};
    EXPECT_EQ(parse(build(m)).program.size(), 3u);
}

TEST(ModelLoader, AcceptsChainModel)
{
    ParsedModel p = parse(build(chain(6)));
    EXPECT_EQ(p.program.size(), 12u);
    EXPECT_EQ(p.program[11].act, MTIA_ACT_CLIP);
}

// Cutting the file anywhere is an error, except cutting only the padding
// after the last referenced byte (FlatBuffers writes back to front, so the
// file ends with alignment padding): that is the same model.
TEST(ModelLoader, RejectsEveryTruncation)
{
    const auto full = build(tiny());
    const ParsedModel want = parse(full);
    size_t accepted = 0;
    for (size_t n = 0; n < full.size(); n++) {
        std::vector<uint8_t> cut(full.begin(), full.begin() + n);
        try {
            ParsedModel p = parse(cut);
            accepted++;
            ASSERT_GE(n, full.size() - 3) << "truncated to " << n << " bytes of " << full.size() << " was accepted";
            ASSERT_EQ(p.program.size(), want.program.size());
            EXPECT_EQ(std::memcmp(p.program.data(), want.program.data(), p.program.size() * sizeof(mtia_op)), 0);
            EXPECT_EQ(p.weights_size, want.weights_size);
        } catch (const mtia::Error &e) {
            ASSERT_EQ(e.status(), MTIA_ERROR_INVALID_MODEL) << n << ": " << e.what();
        }
    }
    EXPECT_LE(accepted, 3u);
}

// Random byte flips: each result is an INVALID_MODEL error or a model that
// passes every check (then its program is well-formed); never a crash.
void fuzz(const std::vector<uint8_t> &good, int rounds, uint32_t seed)
{
    std::mt19937 rng(seed);
    int rejected = 0;
    for (int r = 0; r < rounds; r++) {
        std::vector<uint8_t> bad = good;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; f++) bad[rng() % bad.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
        try {
            ParsedModel p = parse(bad);
            for (const mtia_op &op : p.program) {
                ASSERT_GE(op.opcode, MTIA_OP_CONV);
                ASSERT_LE(op.opcode, MTIA_OP_LAST);
                ASSERT_LE(op.act, MTIA_ACT_LAST);
                for (unsigned i = 0; i < op.n_in; i++) ASSERT_LE(op.in[i].offset + 4, p.arena_size);
                ASSERT_LE(op.out.offset + 4, p.arena_size);
            }
        } catch (const mtia::Error &e) {
            ASSERT_EQ(e.status(), MTIA_ERROR_INVALID_MODEL) << e.what();
            rejected++;
        }
    }
    EXPECT_GT(rejected, 0);
}

TEST(ModelLoader, RandomByteFlipsNeverCrash)
{
    fuzz(build(chain(8)), 1000, 1);
    fuzz(build(tiny()), 1000, 2);
}

TEST(ModelLoader, RejectsBadFile)
{
    expect_invalid(std::vector<uint8_t>{}, "too small");
    expect_invalid(std::vector<uint8_t>{1, 2, 3}, "too small");
    auto b = build(tiny());
    std::memcpy(b.data() + 4, "ONNX", 4);
    expect_invalid(b, "file identifier 'ONNX', expected 'MTIM'");
    b[5] = 0x01;
    expect_invalid(b, "'O\\x01NX'");
    // A wild root offset.
    b = build(tiny());
    b[0] = 0xff;
    b[3] = 0x7f;
    expect_invalid(b, "corrupt or truncated");
    EXPECT_THROW(parse_model(nullptr, 10), mtia::Error);
}

TEST(ModelLoader, RejectsBadVersion)
{
    expect_invalid([](ModelSpec &m) { m.version = 3u << 16; }, "format version 3.0 is not supported");
    expect_invalid([](ModelSpec &m) { m.version = 0; }, "format version 0.0");
}

TEST(ModelLoader, RejectsBadTensors)
{
    expect_invalid([](ModelSpec &m) { m.tensors[2].shape = {}; }, "tensor 2 'x': 0 dims");
    expect_invalid([](ModelSpec &m) { m.tensors[2].no_shape = true; }, "0 dims");
    expect_invalid([](ModelSpec &m) { m.tensors[2].shape = {1, 1, 1, 1, 1, 1, 128}; }, "7 dims (must be 1..6)");
    expect_invalid([](ModelSpec &m) { m.tensors[2].shape = {1, 0, 4, 4}; }, "dim 1 is 0");
    expect_invalid([](ModelSpec &m) { m.tensors[2].size = 64; }, "size 64 bytes, but its shape holds 128");
    expect_invalid(
        [](ModelSpec &m) {
            m.tensors[2].shape = {65536, 65536, 65536, 65536};
            m.tensors[2].size = 0;
        },
        "element count overflows");
    expect_invalid([](ModelSpec &m) { m.tensors[2].offset = 132; }, "offset 132 is not a multiple of 64");
    expect_invalid([](ModelSpec &m) { m.tensors[4].offset = 448; }, "bytes [448, +128) are outside the arena of 512");
    expect_invalid([](ModelSpec &m) { m.tensors[4].offset = UINT64_MAX - 63; }, "outside the arena");
    expect_invalid([](ModelSpec &m) { m.tensors[1].offset = 128; }, "outside the weights image of 128 bytes");
    expect_invalid([](ModelSpec &m) { m.tensors[2].offset = 64; }, "overlap the weights image [0, 128)");
    expect_invalid([](ModelSpec &m) { m.tensors[2].dtype = 9; }, "unsupported dtype 9");
    expect_invalid([](ModelSpec &m) { m.tensors[2].dtype = 0; }, "unsupported dtype 0");
    // A quantized tensor is 1 byte an element.
    expect_invalid(
        [](ModelSpec &m) {
            m.tensors[2].dtype = MTIA_DTYPE_I8;
            m.tensors[2].scale = 1;
        },
        "tensor 2 'x': size 128 bytes, but its shape holds 32");
    expect_invalid([](ModelSpec &m) { m.tensors[3].kind = static_cast<fb::TensorKind>(9); }, "unknown kind 9");
    expect_invalid([](ModelSpec &m) { m.tensors.clear(); }, "no tensors");
}

TEST(ModelLoader, CopiesQuantizationIntoEveryDescriptor)
{
    const ParsedModel p = parse(build(quant_model()));
    const mtia_op &g = p.program[0], &r = p.program[1];
    EXPECT_EQ(g.in[0].dtype, MTIA_DTYPE_U8);  // x, in both ops
    EXPECT_EQ(g.in[0].scale, bits(kQuantXScale));
    EXPECT_EQ(g.in[0].zero_point, kQuantXZero);
    EXPECT_EQ(std::memcmp(&r.in[0], &g.in[0], sizeof(mtia_tensor_desc)), 0);
    EXPECT_EQ(g.in[1].dtype, MTIA_DTYPE_I8);  // per-channel weights: no parameters
    EXPECT_EQ(g.in[1].scale, 0u);
    EXPECT_EQ(g.in[1].zero_point, 0);
    EXPECT_EQ(g.in[2].scale, 0u);  // F32
    EXPECT_EQ(g.out.scale, 0u);
    EXPECT_EQ(r.out.dtype, MTIA_DTYPE_I8);
    EXPECT_EQ(r.out.scale, bits(kQuantZScale));
    EXPECT_EQ(r.out.zero_point, kQuantZZero);

    ASSERT_EQ(p.inputs.size(), 1u);
    EXPECT_EQ(p.inputs[0].info.dtype, mtia::DType::U8);
    EXPECT_EQ(p.inputs[0].info.bytes, 10u);
    EXPECT_EQ(p.inputs[0].info.scale, kQuantXScale);
    EXPECT_EQ(p.inputs[0].info.zero_point, kQuantXZero);
    ASSERT_EQ(p.outputs.size(), 2u);
    EXPECT_EQ(p.outputs[0].info.scale, 0.0f);
    EXPECT_EQ(p.outputs[1].info.dtype, mtia::DType::I8);
    EXPECT_EQ(p.outputs[1].info.scale, kQuantZScale);
    EXPECT_EQ(p.outputs[1].info.zero_point, kQuantZZero);
    EXPECT_EQ(p.compute_dtypes, (std::vector<mtia::DType>{mtia::DType::F32, mtia::DType::I8, mtia::DType::U8}));
}

TEST(ModelLoader, AcceptsTheQuantizationRangesEnds)
{
    for (auto [dt, zp] :
         {std::pair{MTIA_DTYPE_I8, -128}, {MTIA_DTYPE_I8, 127}, {MTIA_DTYPE_U8, 0}, {MTIA_DTYPE_U8, 255}}) {
        ModelSpec m = quant_model();
        m.tensors[4].dtype = static_cast<uint8_t>(dt);
        m.tensors[4].zero_point = zp;
        m.tensors[4].scale = 1e-30f;  // tiny but > 0
        const ParsedModel p = parse(build(m));
        EXPECT_EQ(p.program[1].out.zero_point, zp);
        EXPECT_EQ(p.outputs[1].info.scale, 1e-30f);
    }
}

// An I8 or U8 Weight with scale 0 and zero point 0: per-channel CONV/GEMM
// weights or an 8-bit rowwise embedding table (format 1.3), whose op the
// device checks.
TEST(ModelLoader, AcceptsWeightsWithoutAScale)
{
    for (uint8_t dt : {MTIA_DTYPE_I8, MTIA_DTYPE_U8}) {
        ModelSpec m = quant_model();
        m.tensors[0].dtype = dt;
        m.tensors[0].scale = 0.0f;
        m.tensors[0].zero_point = 0;
        const ParsedModel p = parse(build(m));
        EXPECT_EQ(p.program[0].in[1].dtype, dt);
        EXPECT_EQ(p.program[0].in[1].scale, 0u);
        EXPECT_EQ(p.program[0].in[1].zero_point, 0);
    }
}

TEST(ModelLoader, RejectsBadQuantization)
{
    const std::string y = "tensor 3 'y'", z = "tensor 4 'z'", x = "tensor 2 'x'";
    auto bad = [](int t, uint8_t dtype, float scale, int32_t zp, const std::string &want) {
        ModelSpec m = quant_model();
        m.tensors[t].dtype = dtype;
        m.tensors[t].scale = scale;
        m.tensors[t].zero_point = zp;
        expect_invalid(build(m), want);
    };
    // Quantized tensors need a finite scale > 0 ...
    bad(4, MTIA_DTYPE_I8, NAN, 0, z + ": I8 scale nan, zero point 0 (the scale must be finite and > 0)");
    bad(4, MTIA_DTYPE_I8, INFINITY, 0, "scale inf, zero point 0 (the scale must be finite");
    bad(4, MTIA_DTYPE_I8, -0.5f, 0, "scale -0.5, zero point 0 (the scale must be");
    bad(4, MTIA_DTYPE_I8, 0.0f, 3, "I8 scale 0, zero point 3 (the scale must be finite and > 0)");
    // ... and a zero point in range (the schema's int32 is not truncated).
    bad(4, MTIA_DTYPE_I8, 1.0f, 128, z + ": I8 scale 1, zero point 128 (the zero point must be in [-128, 127])");
    bad(4, MTIA_DTYPE_I8, 1.0f, -129, "zero point -129 (the zero point must be in [-128, 127])");
    bad(2, MTIA_DTYPE_U8, 1.0f, -1, x + ": U8 scale 1, zero point -1 (the zero point must be in [0, 255])");
    bad(2, MTIA_DTYPE_U8, 1.0f, 256, "zero point 256 (the zero point must be in [0, 255])");
    bad(2, MTIA_DTYPE_U8, 1.0f, 65536 + 128, "zero point 65664 (");
    // Scale 0 and zero point 0 (per-channel weights, 8-bit rowwise tables)
    // only on weights.
    bad(2, MTIA_DTYPE_U8, 0.0f, 0, x + ": U8 Input tensor with scale 0 (only Weight tensors");
    bad(4, MTIA_DTYPE_I8, 0.0f, 0, z + ": I8 Output tensor with scale 0");
    // Other dtypes have neither.
    bad(3, MTIA_DTYPE_F32, 0.5f, 0, y + ": scale 0.5, zero point 0 on a tensor that is not quantized (I8/U8)");
    bad(3, MTIA_DTYPE_F32, 0.0f, 1, y + ": scale 0, zero point 1 on a tensor that is not quantized");
}

// quant_model() with batch buckets 1 and 2: x, y and z batched.
ModelSpec bucketed_quant_model()
{
    ModelSpec top = quant_model();
    for (int t : {2, 3, 4}) top.tensors[size_t(t)].batch_axis = 0;
    ModelSpec one = top;
    one.tensors[2].shape[0] = one.tensors[3].shape[0] = one.tensors[4].shape[0] = 1;
    one.tensors[2].size = one.tensors[4].size = 5;
    one.tensors[3].size = 12;
    one.batch = 1;
    top.batch = 2;
    top.programs = {one, top};
    return top;
}

TEST(ModelLoader, BucketsAgreeOnQuantization)
{
    const ParsedModel p = parse(build(bucketed_quant_model()));
    ASSERT_EQ(p.buckets.size(), 2u);
    EXPECT_EQ(p.buckets[0].inputs[0].info.scale, kQuantXScale);
    EXPECT_EQ(p.buckets[0].program[1].out.zero_point, kQuantZZero);
    for (int t : {2, 4}) {
        for (bool zp : {false, true}) {
            ModelSpec m = bucketed_quant_model();
            if (zp)
                m.programs[0].tensors[size_t(t)].zero_point += 1;
            else
                m.programs[0].tensors[size_t(t)].scale *= 2;
            expect_invalid(build(m), std::string("bucket 0 (batch 1): ") + (t == 2 ? "input 0 'x'" : "output 1 'z'") +
                                         " differs from the model's " + (t == 2 ? "input 'x'" : "output 'z'") +
                                         " in name, dtype, rank, batch axis, scale or zero point");
        }
    }
}

TEST(ModelLoader, RejectsBadArenaAndWeights)
{
    expect_invalid([](ModelSpec &m) { m.arena = 0; }, "arena_size is 0");
    expect_invalid([](ModelSpec &m) { m.arena = (64ull << 30) + 1; }, "exceeds the largest device memory");
    expect_invalid([](ModelSpec &m) { m.weights.resize(1024); },
                   "weights image of 1024 bytes is larger than the arena (512)");
    expect_invalid([](ModelSpec &m) { m.no_weights = true; }, "outside the weights image of 0 bytes");
}

TEST(ModelLoader, RejectsBadOps)
{
    expect_invalid([](ModelSpec &m) { m.ops.clear(); }, "no ops");
    expect_invalid([](ModelSpec &m) { m.ops[0].kind = 0; }, "op 0 (? 'conv'): unknown op kind 0");
    expect_invalid([](ModelSpec &m) { m.ops[0].kind = 99; }, "unknown op kind 99");
    expect_invalid([](ModelSpec &m) { m.ops[0].inputs = {2}; }, "op 0 (Conv 'conv'): 1 inputs (Conv takes 2..3)");
    expect_invalid([](ModelSpec &m) { m.ops[0].inputs = {2, 0, 1, 1}; }, "4 inputs");
    expect_invalid([](ModelSpec &m) { m.ops[0].no_inputs = true; }, "0 inputs");
    expect_invalid([](ModelSpec &m) { m.ops[1].inputs = {3}; }, "1 inputs (Binary takes 2)");
    expect_invalid(
        [](ModelSpec &m) {
            m.ops[0].inputs = {2, 5, 1};
        },
        "op 0 (Conv 'conv'): input 1 index 5 is not a tensor");
    expect_invalid([](ModelSpec &m) { m.ops[0].inputs = {2, 0xffffffffu, 1}; }, "index 4294967295 is not a tensor");
    expect_invalid([](ModelSpec &m) { m.ops[1].output = 7; }, "op 1 (Binary 'add'): output index 7 is not a tensor");
    expect_invalid([](ModelSpec &m) { m.ops[1].output = 0; }, "writes tensor 0 'W' of kind Weight");
    expect_invalid([](ModelSpec &m) { m.ops[1].output = 2; }, "writes tensor 2 'x' of kind Input");
    expect_invalid([](ModelSpec &m) { m.ops[0].act = MTIA_ACT_LAST + 1; },
                   "unknown activation " + std::to_string(MTIA_ACT_LAST + 1));
    expect_invalid([](ModelSpec &m) { m.ops[0].attrs.resize(17); }, "17 attrs (at most 16)");
    expect_invalid(
        [](ModelSpec &m) {
            m.ops[1].act = MTIA_ACT_CLIP;
            m.ops[1].act_min = 1;
            m.ops[1].act_max = -1;
        },
        "Clip bounds");
    expect_invalid(
        [](ModelSpec &m) {
            m.ops[1].act = MTIA_ACT_CLIP;
            m.ops[1].act_min = NAN;
        },
        "empty or NaN");
}

TEST(ModelLoader, RejectsBadInputsAndOutputs)
{
    expect_invalid([](ModelSpec &m) { m.inputs = {9}; }, "model input 0: index 9 is not a tensor");
    expect_invalid([](ModelSpec &m) { m.inputs = {3}; }, "model input 0: tensor 3 'h' is of kind Activation");
    expect_invalid([](ModelSpec &m) { m.inputs = {2, 2}; }, "model input 1: tensor 2 'x' is listed twice");
    expect_invalid([](ModelSpec &m) { m.inputs = {}; }, "tensor 2 'x' is of kind Input but not a model input");
    expect_invalid([](ModelSpec &m) { m.outputs = {}; }, "not a model output");
    expect_invalid(
        [](ModelSpec &m) {
            m.outputs = {};
            m.tensors[4].kind = fb::TensorKind::Activation;
        },
        "no model outputs");
    expect_invalid([](ModelSpec &m) { m.outputs = {3}; }, "is of kind Activation");
    expect_invalid([](ModelSpec &m) { m.inputs.assign(101, 2); }, "101 model inputs (at most 100)");
    // Two inputs sharing bytes would overwrite each other when copied in.
    expect_invalid(
        [](ModelSpec &m) {
            m.tensors.push_back({"x2", fb::TensorKind::Input, {1, 2, 4, 4}, 192});
            m.inputs.push_back(5);
        },
        "model input 1: tensor 5 'x2' [192, +128) overlaps tensor 2 'x' [128, +128)");
}

TEST(ModelLoader, RejectsOverwritingLiveTensors)
{
    // h over x: x is read by op 1 after op 0 writes h.
    expect_invalid([](ModelSpec &m) { m.tensors[3].offset = 128; },
                   "op 0 (Conv 'conv') writes tensor 3 'h' [128, +128) over tensor 2 'x' [128, +128), which is still "
                   "needed by op 1 (Binary 'add')");
    // A second output over part of the first; over all of it, computed later.
    auto second_output = [](ModelSpec &m, uint64_t offset) {
        m.arena = 1024;
        m.tensors.push_back({"y2", fb::TensorKind::Output, {1, 2, 4, 4}, offset});
        OpSpec relu;
        relu.kind = MTIA_OP_ACT;
        relu.name = "y2";
        relu.inputs = {3};
        relu.output = 5;
        m.ops.push_back(relu);
        m.outputs.push_back(5);
    };
    expect_invalid([&](ModelSpec &m) { second_output(m, 448); },
                   "model output 1: tensor 5 'y2' [448, +128) overlaps tensor 4 'y' [384, +128)");
    expect_invalid([&](ModelSpec &m) { second_output(m, 384); },
                   "op 2 (Act 'y2') writes tensor 5 'y2' [384, +128) over tensor 4 'y' [384, +128), which is still "
                   "needed as a model output");
    expect_invalid(
        [](ModelSpec &m) {
            m.tensors.push_back({"t", fb::TensorKind::Activation, {1, 2, 4, 4}, 384});
            OpSpec relu;
            relu.kind = MTIA_OP_ACT;
            relu.name = "late";
            relu.inputs = {3};
            relu.output = 5;
            m.ops.push_back(relu);
        },
        "op 2 (Act 'late') writes tensor 5 't' [384, +128) over tensor 4 'y' [384, +128), which is still needed "
        "as a model output");
    // Reading an intermediate before the op that computes it.
    expect_invalid([](ModelSpec &m) { std::swap(m.ops[0], m.ops[1]); },
                   "op 0 (Binary 'add') reads tensor 3 'h' before op 1 (Conv 'conv') writes it");
}

}  // namespace
