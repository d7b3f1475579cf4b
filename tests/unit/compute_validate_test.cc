// SPDX-License-Identifier: MIT
// Compute program validation (one test per rule, each starting from a valid
// op and breaking one thing), the golden layout of struct mtia_op, and the
// timing model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <random>
#include <functional>
#include <limits>

#include "compute_ref.h"
#include "mtia_compute.h"

namespace {

using cref::Arena;

constexpr uint64_t kArena = 1 << 20;

// A valid op of each opcode inside a kArena arena.
mtia_op conv_op()
{
    return cref::op(MTIA_OP_CONV,
                    {cref::tensor(0, {1, 4, 8, 8}), cref::tensor(4096, {8, 4, 3, 3}), cref::tensor(8192, {8})},
                    cref::tensor(16384, {1, 8, 8, 8}), {1, 1, 1, 1, 1, 1, 1, 1, 1});
}
mtia_op gemm_op()
{
    return cref::op(MTIA_OP_GEMM,
                    {cref::tensor(0, {2, 3, 4}), cref::tensor(4096, {4, 5}), cref::tensor(8192, {1, 1, 5})},
                    cref::tensor(16384, {2, 3, 5}), {0, 0, cref::bits(1), cref::bits(1)});
}
mtia_op binary_op()
{
    return cref::op(MTIA_OP_BINARY, {cref::tensor(0, {2, 3}), cref::tensor(4096, {1, 3})}, cref::tensor(8192, {2, 3}),
                    {MTIA_BINARY_ADD});
}
mtia_op pool_op()
{
    return cref::op(MTIA_OP_POOL, {cref::tensor(0, {1, 2, 8, 8})}, cref::tensor(4096, {1, 2, 4, 4}),
                    {MTIA_POOL_MAX, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1});
}
mtia_op conv3d_op()
{
    return cref::op(MTIA_OP_CONV,
                    {cref::tensor(0, {1, 2, 4, 5, 5}), cref::tensor(4096, {4, 2, 3, 3, 3}), cref::tensor(8192, {4})},
                    cref::tensor(16384, {1, 4, 2, 5, 5}), {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0});
}
mtia_op pool3d_op()
{
    return cref::op(MTIA_OP_POOL, {cref::tensor(0, {1, 2, 4, 6, 6})}, cref::tensor(4096, {1, 2, 3, 3, 3}),
                    {MTIA_POOL_MAX, 2, 2, 2, 2, 0, 0, 0, 0, 0, 1, 1, 2, 1, 0 | 1u << 16, 2});
}
mtia_op pad_op()  // (2,3) -> (3,5): a row before, one column cropped, three added
{
    return cref::op(MTIA_OP_PAD, {cref::tensor(0, {2, 3})}, cref::tensor(4096, {3, 5}),
                    {MTIA_PAD_REFLECT, 0, 1, uint32_t(-1)});
}
mtia_op deconv_op()  // (1,4,3,3) -> (1,6,6,6): stride 2, k 3, pads 1/0, output padding 0
{
    return cref::op(MTIA_OP_CONV_TRANSPOSE,
                    {cref::tensor(0, {1, 4, 3, 3}), cref::tensor(4096, {4, 3, 3, 3}), cref::tensor(8192, {6})},
                    cref::tensor(16384, {1, 6, 6, 6}), {2, 2, 1, 1, 0, 0, 1, 1, 2});
}
mtia_op resize_op()  // (2,3,4,5) -> (2,3,8,7): bilinear, H by scale 2, W by size
{
    return cref::op(MTIA_OP_RESIZE, {cref::tensor(0, {2, 3, 4, 5})}, cref::tensor(4096, {2, 3, 8, 7}),
                    {MTIA_RESIZE_LINEAR, MTIA_RESIZE_HALF_PIXEL, 0, 0, 1, 2, cref::bits(2), 0});
}
mtia_op unary_op(uint16_t opcode, std::vector<uint32_t> attrs = {})
{
    return cref::op(opcode, {cref::tensor(0, {2, 3, 4})}, cref::tensor(4096, {2, 3, 4}), attrs);
}
mtia_op transpose_op()
{
    return cref::op(MTIA_OP_TRANSPOSE, {cref::tensor(0, {2, 3, 4})}, cref::tensor(4096, {4, 2, 3}), {2, 0, 1});
}
mtia_op copy_into_op()
{
    return cref::op(MTIA_OP_COPY_INTO, {cref::tensor(0, {2, 3})}, cref::tensor(4096, {2, 7}), {1, 4});
}
mtia_op slice_op() { return cref::op(MTIA_OP_SLICE, {cref::tensor(0, {2, 7})}, cref::tensor(4096, {2, 3}), {1, 4}); }

mtia_op where_op()
{
    mtia_tensor_desc c = cref::tensor(0, {2, 1});
    c.dtype = MTIA_DTYPE_BOOL;
    return cref::op(MTIA_OP_WHERE, {c, cref::tensor(64, {2, 7}), cref::tensor(256, {1, 7})},
                    cref::tensor(4096, {2, 7}));
}
mtia_op reduce_op()
{
    return cref::op(MTIA_OP_REDUCE, {cref::tensor(0, {2, 7})}, cref::tensor(4096, {1, 7}), {MTIA_REDUCE_MEAN, 1});
}
mtia_op layernorm_op()
{
    return cref::op(MTIA_OP_LAYERNORM, {cref::tensor(0, {2, 7}), cref::tensor(64, {7}), cref::tensor(128, {7})},
                    cref::tensor(4096, {2, 7}), {1, cref::bits(1e-5f)});
}
mtia_op slice_step_op()  // indices 6, 4, 2
{
    return cref::op(MTIA_OP_SLICE, {cref::tensor(0, {2, 7})}, cref::tensor(4096, {2, 3}), {1, 6, uint32_t(-2)});
}
mtia_op compare_op()
{
    mtia_tensor_desc y = cref::tensor(4096, {2, 7});
    y.dtype = MTIA_DTYPE_BOOL;
    return cref::op(MTIA_OP_BINARY, {cref::tensor(0, {2, 7}), cref::tensor(256, {1, 7})}, y, {MTIA_BINARY_LESS});
}
mtia_op gemm_bcast_op()  // (2,1,3,4) x (1,2,4,5) -> (2,2,3,5)
{
    return cref::op(MTIA_OP_GEMM, {cref::tensor(0, {2, 1, 3, 4}), cref::tensor(256, {1, 2, 4, 5})},
                    cref::tensor(4096, {2, 2, 3, 5}), {0, 0, cref::bits(1), 0}, MTIA_ACT_GELU_TANH);
}
mtia_op expand_op() { return cref::op(MTIA_OP_EXPAND, {cref::tensor(0, {1, 7})}, cref::tensor(4096, {2, 7})); }

std::vector<mtia_op> all_valid()
{
    return {conv_op(),      gemm_op(),
            binary_op(),    unary_op(MTIA_OP_ACT),
            pool_op(),      unary_op(MTIA_OP_SOFTMAX, {2}),
            transpose_op(), copy_into_op(),
            slice_op(),     where_op(),
            reduce_op(),    layernorm_op(),
            expand_op(),    slice_step_op(),
            compare_op(),   gemm_bcast_op(),
            conv3d_op(),    pool3d_op(),
            pad_op(),       deconv_op(),
            resize_op()};
}

// BAD_PROGRAM with the index of @o when it follows a valid op.
void expect_bad(const mtia_op &o, const std::string &what)
{
    const mtia_op prog[2] = {binary_op(), o};
    uint32_t bad = 99;
    EXPECT_EQ(mtia_compute_validate(prog, 2, kArena, &bad), MTIA_CQE_BAD_PROGRAM) << what;
    EXPECT_EQ(bad, 1u) << what;
}

TEST(ComputeValidate, EveryOpcodeHasAValidForm)
{
    const auto ops = all_valid();
    uint32_t bad = 99;
    EXPECT_EQ(mtia_compute_validate(ops.data(), uint32_t(ops.size()), kArena, &bad), MTIA_CQE_OK) << "op " << bad;
    // And every one of them runs.
    Arena a(kArena);
    uint64_t result = 0;
    EXPECT_EQ(mtia_compute_run(ops.data(), uint32_t(ops.size()), a.data(), a.size(), nullptr, nullptr, &result),
              MTIA_CQE_OK);
    EXPECT_GT(result, 0u);
}

TEST(ComputeValidate, EmptyOrNullProgram)
{
    uint32_t bad = 99;
    EXPECT_EQ(mtia_compute_validate(nullptr, 1, kArena, &bad), MTIA_CQE_BAD_PROGRAM);
    const mtia_op o = binary_op();
    EXPECT_EQ(mtia_compute_validate(&o, 0, kArena, &bad), MTIA_CQE_BAD_PROGRAM);
    EXPECT_EQ(bad, 0u);
}

TEST(ComputeValidate, BadOpcode)
{
    for (uint16_t opc : {0, MTIA_OP_LAST + 1, 0xffff}) {
        mtia_op o = binary_op();
        o.opcode = opc;
        expect_bad(o, "opcode " + std::to_string(opc));
    }
}

TEST(ComputeValidate, BadDtype)
{
    for (uint8_t dt : {0, 2, 255}) {
        mtia_op o = binary_op();
        o.in[1].dtype = dt;
        expect_bad(o, "input dtype");
        o = binary_op();
        o.out.dtype = dt;
        expect_bad(o, "output dtype");
    }
}

TEST(ComputeValidate, BadNdim)
{
    mtia_op o = unary_op(MTIA_OP_ACT);
    o.in[0].ndim = 0;
    expect_bad(o, "ndim 0");
    o = unary_op(MTIA_OP_ACT);
    o.out.ndim = 7;
    expect_bad(o, "ndim 7");
    o = conv_op();  // CONV needs 4-D
    o.in[0] = cref::tensor(0, {4, 8, 8});
    expect_bad(o, "conv 3-D X");
    o = pool_op();
    o.out = cref::tensor(4096, {2, 4, 4});
    expect_bad(o, "pool 3-D out");
    o = conv3d_op();  // W must be 5-D too
    o.in[1] = cref::tensor(4096, {4, 2, 3, 3});
    expect_bad(o, "conv3d 4-D W");
    o = pool3d_op();
    o.out = cref::tensor(4096, {1, 2, 3, 3});
    expect_bad(o, "pool3d 4-D out");
}

TEST(ComputeValidate, BadDims)
{
    mtia_op o = binary_op();
    o.in[0].dims[1] = 0;
    expect_bad(o, "zero dim");
    o = binary_op();
    o.in[0].dims[4] = 1;  // beyond ndim
    expect_bad(o, "dim beyond ndim");
}

TEST(ComputeValidate, MismatchedShapes)
{
    std::vector<std::pair<mtia_op, std::string>> cases;
    mtia_op o = conv_op();
    o.in[1].dims[1] = 3;  // C/groups
    cases.push_back({o, "conv W channels"});
    o = conv_op();
    o.out.dims[2] = 7;
    cases.push_back({o, "conv out H"});
    o = conv_op();
    o.in[2].dims[0] = 7;
    cases.push_back({o, "conv bias"});
    o = conv_op();
    o.out.dims[1] = 4;
    cases.push_back({o, "conv out M"});
    o = gemm_op();
    o.in[1].dims[0] = 3;  // K
    cases.push_back({o, "gemm K"});
    o = gemm_op();
    o.in[2].dims[2] = 3;  // C not broadcastable
    cases.push_back({o, "gemm C"});
    o = gemm_op();
    o.out.dims[0] = 3;  // batch
    cases.push_back({o, "gemm batch"});
    o = gemm_op();
    o.in[0] = cref::tensor(0, {2, 3});
    o.in[1] = cref::tensor(4096, {3, 5});  // both 2-D, batched out
    cases.push_back({o, "gemm batched out from 2-D A and B"});
    o = binary_op();
    o.in[1].dims[1] = 2;
    cases.push_back({o, "binary not broadcastable"});
    o = binary_op();
    o.in[1] = cref::tensor(4096, {3});  // rank differs
    cases.push_back({o, "binary rank"});
    o = unary_op(MTIA_OP_ACT);
    o.out.dims[2] = 5;
    cases.push_back({o, "act shape"});
    o = pool_op();
    o.out.dims[3] = 5;
    cases.push_back({o, "pool out W"});
    o = pool_op();
    o.out.dims[1] = 3;
    cases.push_back({o, "pool out C"});
    o = transpose_op();
    o.out = cref::tensor(4096, {4, 3, 2});
    cases.push_back({o, "transpose out dims"});
    o = copy_into_op();
    o.attrs[1] = 5;  // 5 + 3 > 7
    cases.push_back({o, "copy_into beyond axis"});
    o = slice_op();
    o.out.dims[0] = 1;
    cases.push_back({o, "slice other dim"});
    for (auto &c : cases) expect_bad(c.first, c.second);
}

TEST(ComputeValidate, BadAttributes)
{
    std::vector<std::pair<mtia_op, std::string>> cases;
    mtia_op o = conv_op();
    o.attrs[MTIA_CONV_STRIDE_H] = 0;
    cases.push_back({o, "conv stride 0"});
    o = conv_op();
    o.attrs[MTIA_CONV_GROUPS] = 3;
    cases.push_back({o, "conv groups"});
    o = conv_op();
    o.attrs[MTIA_CONV_PAD_T] = 3;  // >= kernel extent
    cases.push_back({o, "conv pad"});
    o = conv_op();
    o.attrs[MTIA_CONV_GROUPS + 1] = 1;
    cases.push_back({o, "conv unused attr"});
    o = conv3d_op();
    o.attrs[MTIA_CONV_STRIDE_D] = 0;
    cases.push_back({o, "conv3d depth stride 0"});
    o = conv3d_op();
    o.attrs[MTIA_CONV_DIL_D] = 0;
    cases.push_back({o, "conv3d depth dilation 0"});
    o = conv3d_op();
    o.attrs[MTIA_CONV_PAD_BACK] = 3;
    cases.push_back({o, "conv3d back pad"});
    o = conv3d_op();
    o.attrs[MTIA_CONV_PAD_BACK + 1] = 1;
    cases.push_back({o, "conv3d unused attr"});
    o = gemm_op();
    o.attrs[MTIA_GEMM_TRANS_A] = 2;
    cases.push_back({o, "gemm trans 2"});
    o = gemm_op();
    o.attrs[MTIA_GEMM_ALPHA] = cref::bits(std::numeric_limits<float>::quiet_NaN());
    cases.push_back({o, "gemm alpha NaN"});
    o = binary_op();
    o.attrs[MTIA_BINARY_KIND] = MTIA_BINARY_GREATER + 1;
    cases.push_back({o, "binary kind"});
    o = pool_op();
    o.attrs[MTIA_POOL_KIND] = 2;
    cases.push_back({o, "pool kind"});
    o = pool_op();
    o.attrs[MTIA_POOL_COUNT_PAD] = 1;  // MAX
    cases.push_back({o, "max pool count_pad"});
    o = pool_op();
    o.attrs[MTIA_POOL_KIND] = MTIA_POOL_AVG;
    o.attrs[MTIA_POOL_DIL_H] = 2;
    cases.push_back({o, "avg pool dilation"});
    o = pool_op();
    o.attrs[MTIA_POOL_K_D] = 1;  // depth attrs of a 2-D pool
    cases.push_back({o, "2-D pool depth kernel"});
    o = pool3d_op();
    o.attrs[MTIA_POOL_K_D] = 0;
    cases.push_back({o, "pool3d depth kernel 0"});
    o = pool3d_op();
    o.attrs[MTIA_POOL_PAD_D] = 3u << 16;  // back pad >= the dilated kernel
    cases.push_back({o, "pool3d back pad"});
    o = pool3d_op();
    o.attrs[MTIA_POOL_DIL_D] = 0;
    cases.push_back({o, "pool3d depth dilation 0"});
    o = pool3d_op();
    o.attrs[MTIA_POOL_KIND] = MTIA_POOL_AVG;  // depth dilation 2
    cases.push_back({o, "avg pool3d dilation"});
    o = deconv_op();
    o.out.dims[2] = 8;  // output padding 2 >= stride
    cases.push_back({o, "deconv output padding"});
    o = deconv_op();
    o.in[2].dims[0] = 3;
    cases.push_back({o, "deconv bias"});
    o = deconv_op();
    o.attrs[MTIA_CONV_GROUPS] = 3;  // does not divide C
    cases.push_back({o, "deconv groups"});
    o = deconv_op();
    o.attrs[MTIA_CONV_STRIDE_D] = 1;  // a 2-D op
    cases.push_back({o, "deconv depth attr"});
    o = pad_op();
    o.attrs[MTIA_PAD_MODE] = MTIA_PAD_EDGE + 1;
    cases.push_back({o, "pad mode"});
    o = pad_op();
    o.attrs[MTIA_PAD_VALUE] = cref::bits(1);  // REFLECT
    cases.push_back({o, "pad value without constant"});
    o = pad_op();
    o.attrs[MTIA_PAD_BEGIN + 2] = 1;
    cases.push_back({o, "pad attr beyond ndim"});
    o = pad_op();
    o.attrs[MTIA_PAD_BEGIN + 1] = uint32_t(-3);  // crops all 3 columns (end pad +5)
    cases.push_back({o, "pad crops everything"});
    o = pad_op();
    o.out = cref::tensor(4096, {3, 5, 1});
    cases.push_back({o, "pad ndim"});
    o = unary_op(MTIA_OP_SOFTMAX, {3});
    cases.push_back({o, "softmax axis"});
    o = transpose_op();
    o.attrs[1] = 2;  // {2, 2, 1}
    cases.push_back({o, "transpose not a permutation"});
    o = unary_op(MTIA_OP_ACT, {1});
    cases.push_back({o, "act attr"});
    o = slice_op();
    o.attrs[0] = 2;
    cases.push_back({o, "slice axis"});
    o = binary_op();
    o.act = MTIA_ACT_LAST + 1;
    cases.push_back({o, "bad act"});
    o = binary_op();
    cref::set_clip(o, 1, -1);
    cases.push_back({o, "clip min > max"});
    o = binary_op();
    cref::set_clip(o, std::numeric_limits<float>::quiet_NaN(), 1);
    cases.push_back({o, "clip NaN"});
    o = binary_op();
    o.act_min = cref::bits(1);  // without CLIP
    cases.push_back({o, "act_min without clip"});
    for (auto &c : cases) expect_bad(c.first, c.second);
}

TEST(ComputeValidate, ResizeRules)
{
    std::vector<std::pair<mtia_op, std::string>> cases;
    mtia_op o = resize_op();
    o.attrs[MTIA_RESIZE_MODE] = MTIA_RESIZE_CUBIC + 1;
    cases.push_back({o, "resize mode"});
    o = resize_op();
    o.attrs[MTIA_RESIZE_COORD] = MTIA_RESIZE_TF_HALF_PIXEL_FOR_NN + 1;
    cases.push_back({o, "resize coordinate mode"});
    o = resize_op();
    o.attrs[MTIA_RESIZE_NEAREST_MODE] = MTIA_RESIZE_FLOOR;  // LINEAR
    cases.push_back({o, "nearest mode without NEAREST"});
    o = resize_op();
    o.attrs[MTIA_RESIZE_MODE] = MTIA_RESIZE_NEAREST;
    o.attrs[MTIA_RESIZE_EXCLUDE_OUTSIDE] = 0;
    o.attrs[MTIA_RESIZE_NEAREST_MODE] = MTIA_RESIZE_CEIL + 1;
    cases.push_back({o, "bad nearest mode"});
    o = resize_op();
    o.attrs[MTIA_RESIZE_MODE] = MTIA_RESIZE_NEAREST;  // EXCLUDE_OUTSIDE stays 1
    cases.push_back({o, "exclude_outside with NEAREST"});
    o = resize_op();
    o.attrs[MTIA_RESIZE_EXCLUDE_OUTSIDE] = 2;
    cases.push_back({o, "exclude_outside not 0/1"});
    o = resize_op();
    o.attrs[MTIA_RESIZE_CUBIC_A] = cref::bits(-0.75f);  // LINEAR
    cases.push_back({o, "cubic a without CUBIC"});
    o = resize_op();
    o.attrs[MTIA_RESIZE_MODE] = MTIA_RESIZE_CUBIC;
    o.attrs[MTIA_RESIZE_CUBIC_A] = cref::bits(std::numeric_limits<float>::infinity());
    cases.push_back({o, "cubic a infinite"});
    for (uint32_t sp : {0u, 4u, 5u}) {
        o = resize_op();
        o.attrs[MTIA_RESIZE_SPATIAL] = sp;
        cases.push_back({o, "spatial " + std::to_string(sp)});
    }
    o = resize_op();
    o.in[0] = cref::tensor(0, {3, 5});
    o.out = cref::tensor(4096, {6, 7});
    o.attrs[MTIA_RESIZE_SPATIAL] = 3;  // > ndim
    o.attrs[MTIA_RESIZE_SCALE + 2] = 0;
    cases.push_back({o, "spatial > ndim"});
    o = resize_op();
    o.attrs[MTIA_RESIZE_SCALE + 2] = cref::bits(1);  // beyond SPATIAL
    cases.push_back({o, "attr beyond the scales"});
    o = resize_op();
    o.out.dims[1] = 4;  // C resized but not a resized dim
    cases.push_back({o, "leading dim changed"});
    o = resize_op();
    o.out = cref::tensor(4096, {2, 3, 8, 7, 1});
    cases.push_back({o, "ndim differs"});
    o = resize_op();
    o.out.dims[2] = 9;  // 4 * 2 = 8
    cases.push_back({o, "out not within 1 of in * scale"});
    for (float s : {0.0f, -2.0f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN()}) {
        o = resize_op();
        o.attrs[MTIA_RESIZE_SCALE] = s == 0 ? 0x80000000u : cref::bits(s);  // -0.0 for 0
        cases.push_back({o, "scale " + std::to_string(s)});
    }
    o = resize_op();
    o.n_in = 2;
    o.in[1] = cref::tensor(8192, {2});
    cases.push_back({o, "two inputs"});
    o = resize_op();
    o.act = MTIA_ACT_RELU;
    cases.push_back({o, "fused activation"});
    o = resize_op();
    o.in[0].dtype = MTIA_DTYPE_I32;
    cases.push_back({o, "int32 input"});
    for (auto &c : cases) expect_bad(c.first, c.second);
    // The tap tables: 2 taps x (8 + W) at most MTIA_RESIZE_MAX_TAPS.
    o = resize_op();
    o.in[0] = cref::tensor(0, {1, 1, 4, 1});
    o.out = cref::tensor(1 << 20, {1, 1, 8, (MTIA_RESIZE_MAX_TAPS / 2) - 8});
    o.attrs[MTIA_RESIZE_SCALE] = 0;
    uint32_t at = 99;
    EXPECT_EQ(mtia_compute_validate(&o, 1, uint64_t{1} << 40, &at), MTIA_CQE_OK);
    o.out.dims[3]++;
    EXPECT_EQ(mtia_compute_validate(&o, 1, uint64_t{1} << 40, &at), MTIA_CQE_BAD_PROGRAM) << "too many taps";
    // Out within 1 of in * scale either way is valid (ONNX's float and
    // double roundings of floor(n * s) differ).
    o = resize_op();
    o.in[0].dims[2] = 10;
    o.out.dims[2] = 7;
    o.attrs[MTIA_RESIZE_SCALE] = cref::bits(0.7f);  // 10 * 0.7f = 6.99999988
    uint32_t bad = 99;
    EXPECT_EQ(mtia_compute_validate(&o, 1, kArena, &bad), MTIA_CQE_OK);
}

TEST(ComputeValidate, TensorOutsideArena)
{
    mtia_op o = binary_op();
    o.out.offset = kArena - 20;  // 24 bytes
    expect_bad(o, "end past the arena");
    o = binary_op();
    o.out.offset = kArena;
    expect_bad(o, "offset == arena");
    o = binary_op();
    o.out.offset = kArena - 24;  // exactly fits
    const mtia_op prog[1] = {o};
    uint32_t bad;
    EXPECT_EQ(mtia_compute_validate(prog, 1, kArena, &bad), MTIA_CQE_OK);
}

TEST(ComputeValidate, OffsetAndSizeOverflow)
{
    mtia_op o = binary_op();
    o.in[0].offset = UINT64_MAX - 3;  // + 24 wraps
    expect_bad(o, "offset + bytes wraps");
    o = binary_op();
    o.in[0] = cref::tensor(0, {0xffffffffu, 0xffffffffu, 0xffffffffu});  // elems overflow
    o.in[1] = cref::tensor(4096, {1, 1, 1});
    o.out = cref::tensor(0, {0xffffffffu, 0xffffffffu, 0xffffffffu});
    expect_bad(o, "elements overflow");
    // Huge but not overflowing, still outside an arena of UINT64_MAX bytes? No:
    // 2^62 elements is 2^64 bytes.
    o = binary_op();
    o.in[0] = cref::tensor(0, {1u << 31, 1u << 31});
    o.in[1] = cref::tensor(0, {1, 1});
    o.out = o.in[0];
    const mtia_op prog[1] = {o};
    uint32_t bad;
    EXPECT_EQ(mtia_compute_validate(prog, 1, UINT64_MAX, &bad), MTIA_CQE_BAD_PROGRAM);
}

TEST(ComputeValidate, Misaligned)
{
    mtia_op o = binary_op();
    o.in[0].offset = 2;
    expect_bad(o, "offset 2");
    o = binary_op();
    o.out.offset = 8190;
    expect_bad(o, "out offset 8190");
}

TEST(ComputeValidate, ReservedNonZero)
{
    mtia_op o = binary_op();
    o.flags = 1;
    expect_bad(o, "flags");
    o = binary_op();
    o.reserved[3] = 1;
    expect_bad(o, "reserved");
    o = binary_op();
    o.in[0].zero_point = 1;  // quantization parameters on an F32 tensor
    expect_bad(o, "tensor zero_point on F32");
    o = binary_op();
    o.out.scale = 0x3f800000;
    expect_bad(o, "tensor scale on F32");
}

TEST(ComputeValidate, NInWrong)
{
    mtia_op o = binary_op();
    o.n_in = 1;  // in[1] then is an unused, non-zero descriptor
    expect_bad(o, "binary n_in 1");
    o = binary_op();
    o.n_in = 1;
    o.in[1] = {};
    expect_bad(o, "binary n_in 1, in[1] zero");
    o = conv_op();
    o.n_in = 4;
    expect_bad(o, "n_in 4");
    o = unary_op(MTIA_OP_ACT);
    o.n_in = 2;
    o.in[1] = cref::tensor(8192, {2, 3, 4});
    expect_bad(o, "act n_in 2");
    o = conv_op();
    o.n_in = 1;
    o.in[1] = o.in[2] = {};
    expect_bad(o, "conv n_in 1");
}

TEST(ComputeValidate, OutputOverlappingAnInput)
{
    mtia_op o = conv_op();
    o.out.offset = 4096;  // over W
    expect_bad(o, "conv out over W");
    o = transpose_op();
    o.out.offset = 0;  // in place transpose
    expect_bad(o, "transpose in place");
    o = binary_op();
    o.out.offset = 4096 + 4;  // partly over in[1]
    expect_bad(o, "binary partial overlap");
    // Exact in-place elementwise is allowed.
    std::vector<mtia_op> ok;
    o = unary_op(MTIA_OP_ACT);
    o.out.offset = 0;
    ok.push_back(o);
    o = binary_op();
    o.out.offset = 0;
    ok.push_back(o);
    o = unary_op(MTIA_OP_SOFTMAX, {1});
    o.out.offset = 0;
    ok.push_back(o);
    o = gemm_op();
    o.in[2] = o.out;
    ok.push_back(o);
    uint32_t bad = 99;
    EXPECT_EQ(mtia_compute_validate(ok.data(), uint32_t(ok.size()), kArena, &bad), MTIA_CQE_OK) << bad;
}

TEST(ComputeValidate, WorkBound)
{
    // A GEMM output row needing 2^37 MACs (the bound is 2^34 per item).
    mtia_op o = cref::op(MTIA_OP_GEMM, {cref::tensor(0, {1, 1u << 20}), cref::tensor(0, {1u << 20, 1u << 17})},
                         cref::tensor(0, {1, 1u << 17}), {0, 0, cref::bits(1), 0});
    o.out.offset = (1ull << 40);
    const mtia_op prog[1] = {o};
    uint32_t bad;
    EXPECT_EQ(mtia_compute_validate(prog, 1, 1ull << 48, &bad), MTIA_CQE_BAD_PROGRAM);
    o.in[1].dims[1] = o.out.dims[1] = 1u << 13;  // 2^33 per row: fine
    const mtia_op prog2[1] = {o};
    EXPECT_EQ(mtia_compute_validate(prog2, 1, 1ull << 48, &bad), MTIA_CQE_OK);
}

// A bad op anywhere means nothing runs.
TEST(ComputeValidate, InvalidProgramRunsNothing)
{
    Arena a(kArena);
    std::fill(a.mem.begin(), a.mem.end(), 1.0f);
    std::vector<mtia_op> prog{binary_op(), binary_op(), binary_op()};
    prog[2].opcode = 0;
    uint64_t result = 0;
    EXPECT_EQ(mtia_compute_run(prog.data(), 3, a.data(), a.size(), nullptr, nullptr, &result), MTIA_CQE_BAD_PROGRAM);
    EXPECT_EQ(result, 2u);
    EXPECT_EQ(a.mem[8192 / 4], 1.0f);  // op 0's out untouched
}

// Mutated valid ops (1-4 random bytes changed): whatever validation lets
// through runs without touching memory outside the arena (canaries around
// it), and whatever it rejects writes nothing.
TEST(ComputeValidate, MutatedOpsNeverEscapeTheArena)
{
    std::mt19937 rng(2024);
    constexpr size_t kGuard = 1 << 16;
    std::vector<uint8_t> mem(kGuard + kArena + kGuard);
    uint8_t *arena = mem.data() + kGuard;
    const auto valid = all_valid();
    unsigned ran = 0, rejected = 0;
    for (int it = 0; it < 3000; it++) {
        mtia_op o = valid[it % valid.size()];
        auto *b = reinterpret_cast<uint8_t *>(&o);
        const unsigned flips = 1 + rng() % 4;
        for (unsigned f = 0; f < flips; f++) {
            // Mostly small values in the fields that matter (dims, attrs, offsets).
            const size_t at = rng() % sizeof(o);
            b[at] = static_cast<uint8_t>(rng() % 4 ? rng() % 8 : rng());
        }
        std::memset(mem.data(), 0xa5, kGuard);
        std::memset(mem.data() + kGuard + kArena, 0xa5, kGuard);
        std::fill(arena, arena + kArena, 0);
        uint64_t result = 0;
        const uint16_t st = mtia_compute_run(&o, 1, arena, kArena, nullptr, nullptr, &result);
        ASSERT_TRUE(st == MTIA_CQE_OK || st == MTIA_CQE_BAD_PROGRAM) << "iteration " << it;
        if (st == MTIA_CQE_OK)
            ran++;
        else
            rejected++;
        for (size_t i = 0; i < kGuard; i++) {
            ASSERT_EQ(mem[i], 0xa5) << "write before the arena, iteration " << it;
            ASSERT_EQ(mem[kGuard + kArena + i], 0xa5) << "write after the arena, iteration " << it;
        }
        if (st == MTIA_CQE_BAD_PROGRAM) {
            ASSERT_TRUE(std::all_of(arena, arena + kArena, [](uint8_t v) { return v == 0; }))
                << "a rejected op wrote, iteration " << it;
        }
    }
    EXPECT_GE(ran, 50u);  // the mutations exercise both sides
    EXPECT_GE(rejected, 1000u);
}

TEST(ComputeLayout, GoldenOpLayout)
{
    EXPECT_EQ(sizeof(mtia_tensor_desc), 40u);
    EXPECT_EQ(offsetof(mtia_tensor_desc, offset), 0u);
    EXPECT_EQ(offsetof(mtia_tensor_desc, dtype), 8u);
    EXPECT_EQ(offsetof(mtia_tensor_desc, ndim), 9u);
    EXPECT_EQ(offsetof(mtia_tensor_desc, zero_point), 10u);
    EXPECT_EQ(offsetof(mtia_tensor_desc, dims), 12u);
    EXPECT_EQ(offsetof(mtia_tensor_desc, scale), 36u);
    EXPECT_EQ(sizeof(mtia_op), 256u);
    EXPECT_EQ(sizeof(mtia_op), size_t(MTIA_OP_BYTES));
    EXPECT_EQ(offsetof(mtia_op, opcode), 0u);
    EXPECT_EQ(offsetof(mtia_op, n_in), 2u);
    EXPECT_EQ(offsetof(mtia_op, act), 3u);
    EXPECT_EQ(offsetof(mtia_op, flags), 4u);
    EXPECT_EQ(offsetof(mtia_op, act_min), 8u);
    EXPECT_EQ(offsetof(mtia_op, act_max), 12u);
    EXPECT_EQ(offsetof(mtia_op, in), 16u);
    EXPECT_EQ(offsetof(mtia_op, out), 136u);
    EXPECT_EQ(offsetof(mtia_op, attrs), 176u);
    EXPECT_EQ(offsetof(mtia_op, reserved), 240u);
}

TEST(ComputeTiming, MonotonicInWorkAndScaledByGrid)
{
    // More output channels, larger images, bigger GEMMs: never less time.
    uint64_t prev = 0;
    for (uint32_t m : {1u, 8u, 64u, 256u, 1024u}) {
        mtia_op o = cref::op(MTIA_OP_CONV, {cref::tensor(0, {1, 64, 56, 56}), cref::tensor(0, {m, 64, 3, 3})},
                             cref::tensor(0, {1, m, 56, 56}), {1, 1, 1, 1, 1, 1, 1, 1, 1});
        const uint64_t t = mtia_compute_op_ns(nullptr, &o);
        EXPECT_GT(t, prev) << "M " << m;
        prev = t;
    }
    prev = 0;
    for (uint32_t n : {1u, 16u, 256u, 4096u, 65536u}) {
        mtia_op o = cref::op(MTIA_OP_BINARY, {cref::tensor(0, {n}), cref::tensor(0, {n})}, cref::tensor(0, {n}), {0});
        const uint64_t t = mtia_compute_op_ns(nullptr, &o);
        EXPECT_GE(t, prev) << "n " << n;
        EXPECT_GE(t, 1000u);  // launch cost
        prev = t;
    }
    // RESIZE: memory-bound (bytes in + out at SRAM bandwidth) unless cubic.
    mtia_op up = cref::op(MTIA_OP_RESIZE, {cref::tensor(0, {1, 21, 128, 128})}, cref::tensor(0, {1, 21, 512, 512}),
                          {MTIA_RESIZE_NEAREST, MTIA_RESIZE_ASYMMETRIC, MTIA_RESIZE_FLOOR, 0, 0, 2, 0, 0});
    const double bytes = 21.0 * (128 * 128 + 512 * 512) * 4;
    EXPECT_NEAR(double(mtia_compute_op_ns(nullptr, &up)), bytes / 800e9 * 1e9 + 1000, 2);
    up.attrs[MTIA_RESIZE_MODE] = MTIA_RESIZE_LINEAR;
    up.attrs[MTIA_RESIZE_NEAREST_MODE] = 0;
    const uint64_t t_linear = mtia_compute_op_ns(nullptr, &up);
    up.attrs[MTIA_RESIZE_MODE] = MTIA_RESIZE_CUBIC;
    const uint64_t t_cubic = mtia_compute_op_ns(nullptr, &up);
    EXPECT_NEAR(double(t_linear), bytes / 800e9 * 1e9 + 1000, 2);  // 8 flops per element: still memory-bound
    EXPECT_GT(t_cubic, t_linear);                                  // 32 flops per element: compute-bound
    EXPECT_NEAR(double(t_cubic), 21.0 * 512 * 512 * 32 / 1.6384e12 * 1e9 + 1000, 2);
    // A compute-bound conv takes about 4x longer on a 4x4 grid than on 8x8,
    // and less on 8x16.
    mtia_op big = cref::op(MTIA_OP_CONV, {cref::tensor(0, {8, 256, 28, 28}), cref::tensor(0, {256, 256, 3, 3})},
                           cref::tensor(0, {8, 256, 28, 28}), {1, 1, 1, 1, 1, 1, 1, 1, 1});
    const mtia_compute_grid g44{4, 4}, g816{8, 16};
    const double t88 = double(mtia_compute_op_ns(nullptr, &big));
    const double t44 = double(mtia_compute_op_ns(&g44, &big));
    const double t816 = double(mtia_compute_op_ns(&g816, &big));
    EXPECT_NEAR(t44 / t88, 4.0, 0.1);
    EXPECT_LT(t816, t88);
    // 8 * 256 * 28 * 28 * 256 * 9 MACs = 7.4 GFLOP at 12.8 TFLOPS x 0.7: ~0.83 ms.
    EXPECT_GT(t88, 0.7e6);
    EXPECT_LT(t88, 1.0e6);
}

}  // namespace
