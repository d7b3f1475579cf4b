// SPDX-License-Identifier: MIT
// mtia-run's int8/uint8 .npy files and quantized tensors (npy_convert.h,
// precision.h): NumPy's own '|i1'/'|u1' bytes read and written, raw int8 and
// uint8 inputs, float inputs quantized with --convert (mtia_quant.h's
// rounding: half to even, saturating, NaN to the zero point), the refusals
// naming the input's scale and zero point, outputs written raw and
// summarised dequantized, and the precision report of quantized models.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "../models/quant_models.h"
#include "npy.h"
#include "npy_convert.h"
#include "precision_line.h"

namespace {

using model_test::quant_info;
using mtia::DType;
using mtia::TensorInfo;
using mtia::run::format_npy;
using mtia::run::input_bytes;
using mtia::run::NpyArray;
using mtia::run::NpyError;
using mtia::run::NpyType;
using mtia::run::parse_npy;

// numpy 1.24: np.save(f, np.array([[-128, -1, 0], [1, 127, 5]], np.int8)),
// and the same bytes as uint8 ('|u1').
std::string numpy_1byte_2x3(const char *descr)
{
    std::string h("\x93NUMPY\x01\x00v\x00", 10);
    h += std::string("{'descr': '") + descr + "', 'fortran_order': False, 'shape': (2, 3), }";
    h.append(128 - 1 - h.size(), ' ');
    h += "\n";
    const uint8_t data[] = {0x80, 0xff, 0x00, 0x01, 0x7f, 0x05};
    return h + std::string(reinterpret_cast<const char *>(data), sizeof(data));
}

NpyArray array_of(const std::vector<float> &v)
{
    const std::string img = format_npy({v.size()}, v.data());
    return parse_npy(img.data(), img.size(), "x.npy");
}

std::string error_of(const NpyArray &a, const TensorInfo &to, bool convert)
{
    try {
        input_bytes(a, to, convert, "x.npy", "model input 0 'x'");
    } catch (const NpyError &e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(NpyQuant, ReadsAndWritesNumpyInt8AndUint8)
{
    for (auto [descr, type] : {std::pair{"|i1", NpyType::I8}, {"|u1", NpyType::U8}}) {
        const std::string img = numpy_1byte_2x3(descr);
        const NpyArray a = parse_npy(img.data(), img.size(), "t.npy");
        EXPECT_EQ(a.type, type);
        EXPECT_EQ(a.shape, (std::vector<uint64_t>{2, 3}));
        EXPECT_EQ(a.data, (std::vector<uint8_t>{0x80, 0xff, 0x00, 0x01, 0x7f, 0x05}));
        EXPECT_EQ(format_npy({2, 3}, a.data.data(), type), img);  // byte for byte NumPy's file
        EXPECT_EQ(mtia::run::npy_size(type), 1u);
    }
    const uint8_t b[] = {0x80, 0xff};
    EXPECT_EQ(mtia::run::npy_element(b, NpyType::I8, 0), -128.0);
    EXPECT_EQ(mtia::run::npy_element(b, NpyType::I8, 1), -1.0);
    EXPECT_EQ(mtia::run::npy_element(b, NpyType::U8, 0), 128.0);
    EXPECT_EQ(mtia::run::npy_element(b, NpyType::U8, 1), 255.0);
    EXPECT_STREQ(mtia::run::numpy_name(NpyType::I8), "int8");
    EXPECT_STREQ(mtia::run::model_numpy_name(DType::U8), "uint8");
}

TEST(NpyQuant, RawInputsPassUnchanged)
{
    const std::string img = numpy_1byte_2x3("|i1");
    const NpyArray a = parse_npy(img.data(), img.size(), "q.npy");
    EXPECT_EQ(input_bytes(a, quant_info(DType::I8, 0.1f, 3, "x"), false, "q.npy", "in"), a.data);
    EXPECT_EQ(input_bytes(a, quant_info(DType::I8, 0.1f, 3, "x"), true, "q.npy", "in"), a.data);  // nothing to convert
}

TEST(NpyQuant, ConvertQuantizesWithTheInputsParameters)
{
    // scale 0.5, zero point 128: x / 0.5 rounded half to even, + 128, in [0, 255].
    const NpyArray a = array_of({0.0f, 1.25f, 0.75f, 0.25f, -64.0f, -100.0f, 1000.0f, NAN, -INFINITY, 63.5f});
    EXPECT_EQ(input_bytes(a, quant_info(DType::U8, 0.5f, 128, "x"), true, "x.npy", "in"),
              (std::vector<uint8_t>{128, 130, 130, 128, 0, 0, 255, 128, 0, 255}));
    // int8, scale 2, zero point -3: 5 / 2 = 2.5 -> 2, -5 / 2 = -2.5 -> -2, 3 / 2 = 1.5 -> 2.
    const std::vector<uint8_t> q = input_bytes(array_of({5.0f, -5.0f, 3.0f, -1000.0f, 1000.0f}),
                                               quant_info(DType::I8, 2.0f, -3, "x"), true, "x.npy", "in");
    std::vector<int8_t> s(q.size());
    std::memcpy(s.data(), q.data(), q.size());
    EXPECT_EQ(s, (std::vector<int8_t>{-1, -5, -1, -128, 127}));
    // A float16 array quantizes from its exact float32 values.
    const std::vector<uint16_t> h = {0x3c00, 0xc000};  // 1.0, -2.0
    const std::string img = format_npy({2}, h.data(), NpyType::F16);
    EXPECT_EQ(input_bytes(parse_npy(img.data(), img.size(), "h.npy"), quant_info(DType::U8, 0.25f, 10, "x"), true,
                          "h.npy", "in"),
              (std::vector<uint8_t>{14, 2}));
}

TEST(NpyQuant, RefusalsNameTheInputAndItsParameters)
{
    EXPECT_EQ(error_of(array_of({1.0f}), quant_info(DType::U8, 0.5f, 128, "x"), false),
              "x.npy: dtype float32, but model input 0 'x' is uint8, scale 0.5, zero point 128 (give --convert to "
              "quantize float32 with its scale and zero point)");
    const std::string img = numpy_1byte_2x3("|u1");
    const NpyArray u = parse_npy(img.data(), img.size(), "x.npy");
    EXPECT_EQ(error_of(u, quant_info(DType::I8, 1.0f, 0, "x"), true),
              "x.npy: dtype uint8, but model input 0 'x' is int8, scale 1, zero point 0 (--convert converts only float "
              "arrays, to float or quantized inputs)");
    TensorInfo f;
    f.dtype = DType::F32;
    EXPECT_EQ(error_of(u, f, false), "x.npy: dtype uint8, but model input 0 'x' is float32");
    // An int8 array never becomes a float input, nor a float array an integer one.
    EXPECT_NE(error_of(u, f, true).find("--convert converts only float arrays"), std::string::npos);
}

TEST(NpyQuant, OutputsAreWrittenRawAndSummarisedDequantized)
{
    const TensorInfo z = quant_info(DType::I8, 0.25f, -10, "x");
    const std::vector<uint8_t> raw = {0x80, 0xf6, 0x7f, 0x00};  // -128, -10, 127, 0
    EXPECT_EQ(mtia::run::output_bytes(raw, DType::I8), raw);
    EXPECT_EQ(mtia::run::npy_type(DType::I8), NpyType::I8);
    EXPECT_EQ(mtia::run::npy_type(DType::U8), NpyType::U8);
    EXPECT_EQ(mtia::run::output_values(raw, z), (std::vector<double>{-29.5, 0.0, 34.25, 2.5}));
    EXPECT_EQ(mtia::run::output_values(raw, quant_info(DType::U8, 2.0f, 255, "x")),
              (std::vector<double>{-254, -18, -256, -510}));
    TensorInfo i32;
    i32.dtype = DType::I32;
    EXPECT_EQ(mtia::run::output_values(raw, i32), (std::vector<double>{8386176}));  // 0x007ff680, not dequantized
    EXPECT_EQ(mtia::run::quant_str(z), ", scale 0.25, zero point -10");
    EXPECT_EQ(mtia::run::quant_str(i32), "");
}

TEST(NpyQuant, RandomBenchInputsAreQuantized)
{
    const float v[] = {0.3f, -0.3f, 1.0f};
    EXPECT_EQ(mtia::run::from_f32(v, 3, quant_info(DType::U8, 0.1f, 100, "x")), (std::vector<uint8_t>{103, 97, 110}));
}

TEST(Precision, QuantizedModelsReportInt8)
{
    using mtia::run::precision;
    EXPECT_EQ(precision({DType::F32, DType::I8}), "int8");
    EXPECT_EQ(precision({DType::F32, DType::I8, DType::U8}), "int8");
    EXPECT_EQ(precision({DType::U8}), "int8");
    EXPECT_EQ(precision({DType::F32, DType::BF16, DType::I8}), "int8+bf16");
    EXPECT_EQ(precision({DType::F32, DType::BF16}), "bf16");
    EXPECT_EQ(precision({DType::F32}), "f32");
    EXPECT_EQ(precision({}), "int");
    std::vector<TensorInfo> in(1), out(2);
    in[0] = quant_info(DType::U8, 0.5f, 128, "x");
    out[1] = quant_info(DType::I8, 0.25f, -10, "x");
    EXPECT_EQ(mtia::run::precision_line({DType::F32, DType::I8, DType::U8}, in, out),
              "int8 (inputs u8, outputs f32,i8)");
    EXPECT_EQ(mtia::run::precision_line({DType::F32}, out, out), "f32 (inputs/outputs f32,i8)");
}

}  // namespace
