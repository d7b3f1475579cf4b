// SPDX-License-Identifier: MIT
// In-VM: the hand-built quantized model (tests/models/quant_models.h: x
// uint8, y = per-channel int8 Gemm(x) in f32, z = Relu(x) as int8) through
// libmtia's C++ and C APIs. QuantIo.Infos needs only the device to load it:
// the infos' scales and zero points (C: both struct sizes), compute_dtypes,
// a float32-sized input refused. QuantIo.Runs needs the device's int8
// kernels: raw bytes in and out, against mtia_quant.h's rule on the host.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "../models/quant_models.h"
#include "mtia/mtia.h"
#include "mtia/mtia.hpp"

namespace {

using mtia::DType;
using namespace model_test;

int device_index()
{
    const char *e = std::getenv("MTIA_TEST_DEVICE");
    return e ? std::atoi(e) : 0;
}

const std::vector<uint8_t> &image()
{
    static const std::vector<uint8_t> img = build(quant_model());
    return img;
}

TEST(QuantIo, Infos)
{
    auto dev = mtia::Device::open(device_index());
    auto m = mtia::Model::load_memory(dev, image().data(), image().size());
    ASSERT_EQ(m.inputs().size(), 1u);
    EXPECT_EQ(m.inputs()[0].dtype, DType::U8);
    EXPECT_EQ(m.inputs()[0].bytes, 10u);
    EXPECT_EQ(m.inputs()[0].scale, kQuantXScale);
    EXPECT_EQ(m.inputs()[0].zero_point, kQuantXZero);
    EXPECT_EQ(m.outputs()[1].dtype, DType::I8);
    EXPECT_EQ(m.outputs()[1].zero_point, kQuantZZero);
    EXPECT_EQ(m.compute_dtypes(), (std::vector<DType>{DType::F32, DType::I8, DType::U8}));
    std::vector<float> wide(10), y(6);
    std::vector<int8_t> z(10);
    try {
        m.run({{wide.data(), wide.size() * 4}}, {{y.data(), y.size() * 4}, {z.data(), z.size()}});
        ADD_FAILURE() << "accepted a float32-sized input";
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), MTIA_ERROR_INVALID_ARGUMENT);
        EXPECT_NE(std::string(e.what()).find("input 0 'x' has 40 bytes, the model's 2x5 u8 tensor has 10"),
                  std::string::npos)
            << e.what();
    }

    mtia_device *d = nullptr;
    ASSERT_EQ(mtia_device_open(device_index(), &d), MTIA_SUCCESS) << mtia_last_error();
    mtia_model *cm = nullptr;
    ASSERT_EQ(mtia_model_load_memory(d, image().data(), image().size(), &cm), MTIA_SUCCESS) << mtia_last_error();
    mtia_tensor_info info{};
    info.struct_size = sizeof(info);
    ASSERT_EQ(mtia_model_output_info(cm, 1, &info), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_EQ(info.dtype, static_cast<uint32_t>(MTIA_DTYPE_INT8));
    EXPECT_EQ(info.scale, kQuantZScale);
    EXPECT_EQ(info.zero_point, kQuantZZero);
    std::memset(&info, 0, sizeof(info));
    info.struct_size = offsetof(mtia_tensor_info, zero_point);  // the first libmtia's struct
    ASSERT_EQ(mtia_model_input_info(cm, 0, &info), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_EQ(info.dtype, static_cast<uint32_t>(MTIA_DTYPE_UINT8));
    EXPECT_EQ(info.scale, kQuantXScale);
    EXPECT_EQ(info.zero_point, 0);  // beyond its size: not written
    EXPECT_EQ(mtia_model_free(cm), MTIA_SUCCESS);
    EXPECT_EQ(mtia_device_close(d), MTIA_SUCCESS);
}

TEST(QuantIo, Runs)
{
    auto dev = mtia::Device::open(device_index());
    auto m = mtia::Model::load_memory(dev, image().data(), image().size());
    const float xs[10] = {0.0f, 1.25f, -3.0f, 63.5f, -64.0f, 0.75f, -0.25f, 100.0f, -100.0f, 2.5f};
    uint8_t x[10];
    mtia::quantize(m.inputs()[0], xs, 10, x);
    std::vector<float> y(6, -1.0f);
    std::vector<int8_t> z(10, 99);
    m.run({{x, sizeof(x)}}, {{y.data(), y.size() * 4}, {z.data(), z.size()}});
    float real[10];
    mtia::dequantize(m.inputs()[0], x, 10, real);
    for (float &v : real) v = v > 0 ? v : 0.0f;
    int8_t want_z[10];
    mtia::quantize(m.outputs()[1], real, 10, want_z);
    EXPECT_EQ(std::vector<int8_t>(want_z, want_z + 10), z);
    const int8_t w[5][3] = {{1, -2, 3}, {4, -5, 6}, {7, 8, -9}, {10, 11, 12}, {-13, 14, 15}};
    const float scales[3] = {0.5f, 0.25f, 0.125f}, bias[3] = {1.0f, -1.0f, 0.0f};
    for (int r = 0; r < 2; r++) {
        for (int n = 0; n < 3; n++) {
            int32_t acc = 0;
            for (int k = 0; k < 5; k++) acc += (x[r * 5 + k] - kQuantXZero) * w[k][n];
            const float s = kQuantXScale * scales[n];
            const volatile float p = static_cast<float>(acc) * s;  // rounded: no fused multiply-add
            EXPECT_EQ(y[size_t(r * 3 + n)], p + bias[n]) << r << "," << n;
        }
    }
}

}  // namespace
