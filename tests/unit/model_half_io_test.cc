// SPDX-License-Identifier: MIT
// The loader on models with 16-bit float inputs and outputs
// (tests/models/half_models.h): their TensorInfo dtypes and sizes, and
// compute_dtypes (what Model::compute_dtypes() and mtia-run's precision
// line report) for them and for a float32 model.
#include <gtest/gtest.h>

#include <cstring>

#include "../models/half_models.h"
#include "model_loader.h"

namespace {

using mtia::DType;
using mtia::detail::parse_model;
using mtia::detail::ParsedModel;
using namespace model_test;

ParsedModel parse(const std::vector<uint8_t> &bytes, std::vector<uint64_t> &aligned)
{
    aligned.assign(bytes.size() / 8 + 1, 0);
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    return parse_model(aligned.data(), bytes.size());
}

TEST(ModelHalfIo, F16AndBf16InputsAndOutputs)
{
    for (uint8_t h : {uint8_t{MTIA_DTYPE_F16}, uint8_t{MTIA_DTYPE_BF16}}) {
        std::vector<uint64_t> buf;
        const ParsedModel p = parse(build(half_model(h)), buf);
        const auto half = static_cast<DType>(h);
        ASSERT_EQ(p.inputs.size(), 1u);
        ASSERT_EQ(p.outputs.size(), 2u);
        EXPECT_EQ(p.inputs[0].info.dtype, half);
        EXPECT_EQ(p.inputs[0].info.bytes, kHalfRows * kHalfCols * 2u);
        EXPECT_EQ(p.outputs[0].info.dtype, DType::F32);
        EXPECT_EQ(p.outputs[0].info.bytes, kHalfRows * kHalfCols * 4u);
        EXPECT_EQ(p.outputs[1].info.dtype, half);
        EXPECT_EQ(p.compute_dtypes, (std::vector<DType>{DType::F32, half}));
        EXPECT_EQ(p.program[0].opcode, MTIA_OP_CAST);
        EXPECT_EQ(p.program[0].in[0].dtype, h);
    }
}

TEST(ModelHalfIo, Float32ModelComputesInF32)
{
    std::vector<uint64_t> buf;
    EXPECT_EQ(parse(build(tiny()), buf).compute_dtypes, std::vector<DType>{DType::F32});
}

TEST(ModelHalfIo, IntegerOnlyModelHasNoComputeDtype)
{
    ModelSpec m = tiny();
    m.weights.clear();
    m.tensors = {{"ids", fb::TensorKind::Input, {4}, 0, 16, MTIA_DTYPE_I32},
                 {"out", fb::TensorKind::Output, {4}, 64, 32, MTIA_DTYPE_I64}};
    OpSpec cast;
    cast.kind = MTIA_OP_CAST;
    cast.name = "cast";
    cast.inputs = {0};
    cast.output = 1;
    m.ops = {cast};
    m.inputs = {0};
    m.outputs = {1};
    m.arena = 128;
    std::vector<uint64_t> buf;
    EXPECT_TRUE(parse(build(m), buf).compute_dtypes.empty());
}

}  // namespace
