// SPDX-License-Identifier: MIT
// In-VM: models with F16/BF16 inputs and outputs (tests/models/
// half_models.h: y = Cast(x) to f32, z = Relu(x) in x's type) through
// libmtia's C++ and C APIs: the 16-bit bytes go in and come out as they
// are, compute_dtypes reports the types, and a float32-sized input for a
// 16-bit tensor is a clear INVALID_ARGUMENT.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "../models/half_models.h"
#include "mtia/mtia.h"
#include "mtia/mtia.hpp"
#include "mtia/mtia_fp16.h"

namespace {

using mtia::DType;

constexpr size_t kN = model_test::kHalfRows * model_test::kHalfCols;

int device_index()
{
    const char *e = std::getenv("MTIA_TEST_DEVICE");
    return e ? std::atoi(e) : 0;
}

uint16_t to_half(float v, uint8_t h) { return h == MTIA_DTYPE_F16 ? mtia_f32_to_f16(v) : mtia_f32_to_bf16(v); }
float from_half(uint16_t v, uint8_t h) { return h == MTIA_DTYPE_F16 ? mtia_f16_to_f32(v) : mtia_bf16_to_f32(v); }

std::vector<uint16_t> sample_input(uint8_t h)
{
    const float v[kN] = {1.0f, -2.5f, 0.1f, 3.14159f, -0.001f, 100.0f, 0.0f, -7.0f, 1e-3f, 65000.0f};
    std::vector<uint16_t> x(kN);
    for (size_t i = 0; i < kN; i++) x[i] = to_half(v[i], h);
    return x;
}

TEST(HalfIo, RunsF16AndBf16Tensors)
{
    auto dev = mtia::Device::open(device_index());
    for (uint8_t h : {uint8_t{MTIA_DTYPE_F16}, uint8_t{MTIA_DTYPE_BF16}}) {
        SCOPED_TRACE(h == MTIA_DTYPE_F16 ? "f16" : "bf16");
        const std::vector<uint8_t> img = model_test::build(model_test::half_model(h));
        auto m = mtia::Model::load_memory(dev, img.data(), img.size());
        const auto half = static_cast<DType>(h);
        ASSERT_EQ(m.inputs().size(), 1u);
        EXPECT_EQ(m.inputs()[0].dtype, half);
        EXPECT_EQ(m.inputs()[0].bytes, kN * 2);
        EXPECT_EQ(m.outputs()[1].dtype, half);
        EXPECT_EQ(m.compute_dtypes(), (std::vector<DType>{DType::F32, half}));
        const std::vector<uint16_t> x = sample_input(h);
        std::vector<float> y(kN, -1.0f);
        std::vector<uint16_t> z(kN, 0xffff);
        m.run({{x.data(), x.size() * 2}}, {{y.data(), y.size() * 4}, {z.data(), z.size() * 2}});
        for (size_t i = 0; i < kN; i++) {
            EXPECT_EQ(y[i], from_half(x[i], h)) << i;  // the cast widens exactly
            const float want = from_half(x[i], h) > 0 ? from_half(x[i], h) : 0.0f;
            EXPECT_EQ(from_half(z[i], h), want) << i;
        }
        // float32-sized data for the 16-bit input: refused, naming it.
        std::vector<float> wide(kN);
        try {
            m.run({{wide.data(), wide.size() * 4}}, {{y.data(), y.size() * 4}, {z.data(), z.size() * 2}});
            ADD_FAILURE() << "accepted a float32-sized input";
        } catch (const mtia::Error &e) {
            EXPECT_EQ(e.status(), MTIA_ERROR_INVALID_ARGUMENT);
            const std::string want = std::string("input 0 'x' has 40 bytes, the model's 2x5 ") +
                                     (h == MTIA_DTYPE_F16 ? "f16" : "bf16") + " tensor has 20";
            EXPECT_NE(std::string(e.what()).find(want), std::string::npos) << e.what();
        }
    }
}

TEST(HalfIo, CApiComputeDtypes)
{
    mtia_device *d = nullptr;
    ASSERT_EQ(mtia_device_open(device_index(), &d), MTIA_SUCCESS) << mtia_last_error();
    const std::vector<uint8_t> img = model_test::build(model_test::half_model(MTIA_DTYPE_BF16));
    mtia_model *m = nullptr;
    ASSERT_EQ(mtia_model_load_memory(d, img.data(), img.size(), &m), MTIA_SUCCESS) << mtia_last_error();
    mtia_tensor_info info{};
    info.struct_size = sizeof(info);
    ASSERT_EQ(mtia_model_input_info(m, 0, &info), MTIA_SUCCESS);
    EXPECT_EQ(info.dtype, static_cast<uint32_t>(MTIA_DTYPE_BFLOAT16));
    EXPECT_EQ(info.bytes, kN * 2);
    size_t count = 0;
    ASSERT_EQ(mtia_model_compute_dtypes(m, nullptr, &count), MTIA_SUCCESS);
    EXPECT_EQ(count, 2u);
    uint32_t one[1] = {0};
    count = 1;  // room for one: the first written, the number returned
    ASSERT_EQ(mtia_model_compute_dtypes(m, one, &count), MTIA_SUCCESS);
    EXPECT_EQ(count, 2u);
    EXPECT_EQ(one[0], static_cast<uint32_t>(MTIA_DTYPE_FLOAT32));
    uint32_t all[4] = {0, 0, 0, 0};
    count = 4;
    ASSERT_EQ(mtia_model_compute_dtypes(m, all, &count), MTIA_SUCCESS);
    EXPECT_EQ(count, 2u);
    EXPECT_EQ(all[1], static_cast<uint32_t>(MTIA_DTYPE_BFLOAT16));
    EXPECT_EQ(all[2], 0u);  // beyond the number: untouched
    EXPECT_EQ(mtia_model_free(m), MTIA_SUCCESS);
    EXPECT_EQ(mtia_model_compute_dtypes(m, all, &count), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_device_close(d), MTIA_SUCCESS);
}

}  // namespace
