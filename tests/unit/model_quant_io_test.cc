// SPDX-License-Identifier: MIT
// libmtia's quantized tensors on the host: the DType names and sizes,
// mtia::quantize/dequantize (mtia_quant.h's rule: half to even, saturating,
// NaN to the zero point; refusing tensors without parameters), and the C
// API's mtia_tensor_info (scale in the old pad word, zero_point appended;
// the first libmtia's struct size still filled as far as it goes).
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstring>

#include "../models/quant_models.h"
#include "model_loader.h"
#include "mtia/mtia.h"
#include "runtime_internal.h"

namespace {

using model_test::quant_info;
using mtia::DType;
using mtia::TensorInfo;

// The layout of mtia_tensor_info: scale took pad's place, zero_point and
// reserved were appended; everything else where the first libmtia had it.
static_assert(offsetof(mtia_tensor_info, dims) == 12);
static_assert(offsetof(mtia_tensor_info, scale) == 36 && sizeof(float) == 4);
static_assert(offsetof(mtia_tensor_info, bytes) == 40);
static_assert(offsetof(mtia_tensor_info, name) == 48);
static_assert(offsetof(mtia_tensor_info, zero_point) == 176);
static_assert(sizeof(mtia_tensor_info) == 184);

TEST(QuantIo, DtypeNamesAndSizes)
{
    EXPECT_STREQ(mtia::dtype_name(DType::I8), "i8");
    EXPECT_STREQ(mtia::dtype_name(DType::U8), "u8");
    EXPECT_EQ(mtia::dtype_size(DType::I8), 1u);
    EXPECT_EQ(mtia::dtype_size(DType::U8), 1u);
    EXPECT_EQ(mtia::dtype_size(DType::F16), 2u);
    EXPECT_EQ(mtia::dtype_size(DType::I64), 8u);
    EXPECT_TRUE(mtia::is_quantized(DType::I8));
    EXPECT_TRUE(mtia::is_quantized(DType::U8));
    EXPECT_FALSE(mtia::is_quantized(DType::Bool));
    EXPECT_EQ(int(DType::I8), MTIA_DTYPE_INT8);
    EXPECT_EQ(int(DType::U8), MTIA_DTYPE_UINT8);
}

TEST(QuantIo, QuantizeRoundsHalfToEvenAndSaturates)
{
    const float x[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 1e9f, -1e9f, INFINITY, -INFINITY, NAN, 12.7f, -12.8f};
    int8_t q[12];
    mtia::quantize(quant_info(DType::I8, 0.1f, 0), x, 12, q);
    EXPECT_EQ(std::vector<int8_t>(q, q + 12),
              (std::vector<int8_t>{5, 15, 25, -5, -15, 127, -128, 127, -128, 0, 127, -128}));
    const float h[] = {0.5f, 1.5f, 2.5f, -0.5f, -1000.0f, 1000.0f, NAN};
    uint8_t u[7];
    mtia::quantize(quant_info(DType::U8, 1.0f, 7), h, 7, u);  // ties to even, then + 7
    EXPECT_EQ(std::vector<uint8_t>(u, u + 7), (std::vector<uint8_t>{7, 9, 9, 7, 0, 255, 7}));
}

TEST(QuantIo, DequantizeIsOneMultiply)
{
    const int8_t q[] = {-128, 0, 127, 3};
    float x[4];
    mtia::dequantize(quant_info(DType::I8, 0.5f, 3), q, 4, x);
    EXPECT_EQ(std::vector<float>(x, x + 4), (std::vector<float>{-65.5f, -1.5f, 62.0f, 0.0f}));
    const uint8_t u[] = {0, 255};
    mtia::dequantize(quant_info(DType::U8, 0.1f, 128), u, 2, x);
    EXPECT_EQ(x[0], -128 * 0.1f);
    EXPECT_EQ(x[1], 127 * 0.1f);
    // Round trip: every uint8 survives dequantize then quantize.
    uint8_t all[256], back[256];
    float r[256];
    for (int i = 0; i < 256; i++) all[i] = static_cast<uint8_t>(i);
    const TensorInfo t = quant_info(DType::U8, 0.0173f, 77);
    mtia::dequantize(t, all, 256, r);
    mtia::quantize(t, r, 256, back);
    EXPECT_EQ(std::memcmp(all, back, 256), 0);
}

TEST(QuantIo, RefusesTensorsWithoutParameters)
{
    const float x = 1;
    int8_t q;
    auto err = [&](const TensorInfo &t) -> std::string {
        try {
            mtia::quantize(t, &x, 1, &q);
        } catch (const mtia::Error &e) {
            EXPECT_EQ(e.status(), MTIA_ERROR_INVALID_ARGUMENT);
            return e.what();
        }
        return "(accepted)";
    };
    EXPECT_EQ(err(quant_info(DType::F32, 1, 0)), "quantize 'q': a f32 tensor is not quantized");
    EXPECT_EQ(err(quant_info(DType::I8, 0, 0)),
              "quantize 'q': scale 0, zero point 0 (a i8 tensor needs a finite scale > 0 and a zero point in [-128, "
              "127])");
    EXPECT_NE(err(quant_info(DType::I8, NAN, 0)).find("scale nan"), std::string::npos);
    EXPECT_NE(err(quant_info(DType::I8, INFINITY, 0)).find("scale inf"), std::string::npos);
    EXPECT_NE(err(quant_info(DType::U8, 1, 256)).find("zero point in [0, 255]"), std::string::npos);
    float y;
    EXPECT_THROW(mtia::dequantize(quant_info(DType::I8, -1, 0), &q, 1, &y), mtia::Error);
}

TEST(QuantIo, CTensorInfoCarriesScaleAndZeroPoint)
{
    std::vector<uint64_t> buf;
    const std::vector<uint8_t> img = model_test::build(model_test::quant_model());
    buf.assign(img.size() / 8 + 1, 0);
    std::memcpy(buf.data(), img.data(), img.size());
    const mtia::detail::ParsedModel p = mtia::detail::parse_model(buf.data(), img.size());

    mtia_tensor_info info;
    std::memset(&info, 0xee, sizeof(info));
    info.struct_size = sizeof(info);
    mtia::detail::fill_tensor_info(p.outputs[1].info, &info);
    EXPECT_EQ(info.dtype, uint32_t(MTIA_DTYPE_INT8));
    EXPECT_EQ(info.ndim, 2u);
    EXPECT_EQ(info.bytes, 10u);
    EXPECT_STREQ(info.name, "z");
    EXPECT_EQ(info.scale, model_test::kQuantZScale);
    EXPECT_EQ(info.zero_point, model_test::kQuantZZero);
    EXPECT_EQ(info.reserved, 0u);
    mtia::detail::fill_tensor_info(p.outputs[0].info, &info);  // F32: both 0
    EXPECT_EQ(info.scale, 0.0f);
    EXPECT_EQ(info.zero_point, 0);

    // The first libmtia's struct (176 bytes): filled up to zero_point, not beyond.
    std::memset(&info, 0xee, sizeof(info));
    info.struct_size = offsetof(mtia_tensor_info, zero_point);
    EXPECT_TRUE(mtia::detail::tensor_info_size_ok(info.struct_size));
    mtia::detail::fill_tensor_info(p.inputs[0].info, &info);
    EXPECT_EQ(info.struct_size, 176u);
    EXPECT_EQ(info.dtype, uint32_t(MTIA_DTYPE_UINT8));
    EXPECT_EQ(info.scale, model_test::kQuantXScale);
    EXPECT_EQ(info.zero_point, int32_t(0xeeeeeeee));  // untouched
    EXPECT_EQ(info.reserved, 0xeeeeeeeeu);

    for (uint32_t bad : {0u, 8u, 175u, 180u, 185u}) {
        info.struct_size = bad;
        EXPECT_FALSE(mtia::detail::tensor_info_size_ok(bad));
        EXPECT_THROW(mtia::detail::fill_tensor_info(p.inputs[0].info, &info), mtia::Error);
    }
    // Through the C entry point: the size is checked before the handle.
    info.struct_size = 180;
    EXPECT_EQ(mtia_model_input_info(reinterpret_cast<mtia_model *>(0x775), 0, &info), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("struct_size"), std::string::npos);
    info.struct_size = 176;
    EXPECT_EQ(mtia_model_input_info(reinterpret_cast<mtia_model *>(0x775), 0, &info), MTIA_ERROR_INVALID_HANDLE);
}

}  // namespace
