// SPDX-License-Identifier: MIT
// mtia-run's float16 .npy files and --convert (npy_convert.h): NumPy's own
// float16 bytes read and written, f32 -> f16/bf16 rounding to nearest even
// (ties included), exact widening, BF16 outputs as float32, and the
// refusals (a dtype mismatch without --convert names the input and both
// dtypes and says --convert; ints and floats never convert).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "npy.h"
#include "npy_convert.h"

namespace {

using mtia::DType;
using mtia::run::format_npy;
using mtia::run::input_bytes;
using mtia::run::NpyArray;
using mtia::run::NpyError;
using mtia::run::NpyType;
using mtia::run::parse_npy;

// numpy 1.24: np.save(f, np.array([[1, -2, 0.5], [65504, 6e-8, -0.0]], np.float16)).
std::string numpy_f16_2x3()
{
    std::string h("\x93NUMPY\x01\x00v\x00", 10);
    h += "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }";
    h.append(128 - 1 - h.size(), ' ');
    h += "\n";
    const uint8_t data[] = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80};
    return h + std::string(reinterpret_cast<const char *>(data), sizeof(data));
}

std::vector<uint16_t> u16(const std::vector<uint8_t> &b)
{
    std::vector<uint16_t> r(b.size() / 2);
    std::memcpy(r.data(), b.data(), b.size());
    return r;
}

std::vector<float> f32(const std::vector<uint8_t> &b)
{
    std::vector<float> r(b.size() / 4);
    std::memcpy(r.data(), b.data(), b.size());
    return r;
}

NpyArray array_of(const std::vector<float> &v)
{
    const std::string img = format_npy({v.size()}, v.data());
    return parse_npy(img.data(), img.size(), "x.npy");
}

NpyArray array_of_f16(const std::vector<uint16_t> &v)
{
    const std::string img = format_npy({v.size()}, v.data(), NpyType::F16);
    return parse_npy(img.data(), img.size(), "h.npy");
}

mtia::TensorInfo info(DType t)
{
    mtia::TensorInfo i;
    i.dtype = t;
    return i;
}

std::string error_of(const NpyArray &a, DType to, bool convert)
{
    try {
        input_bytes(a, info(to), convert, "x.npy", "model input 0 'x'");
    } catch (const NpyError &e) {
        return e.what();
    }
    return "(accepted)";
}

TEST(NpyHalf, ReadsAndWritesNumpyFloat16)
{
    const std::string img = numpy_f16_2x3();
    const NpyArray a = parse_npy(img.data(), img.size(), "t.npy");
    EXPECT_EQ(a.type, NpyType::F16);
    EXPECT_EQ(a.shape, (std::vector<uint64_t>{2, 3}));
    EXPECT_EQ(u16(a.data), (std::vector<uint16_t>{0x3c00, 0xc000, 0x3800, 0x7bff, 0x0001, 0x8000}));
    EXPECT_EQ(format_npy({2, 3}, a.data.data(), NpyType::F16), img);
    EXPECT_EQ(mtia::run::npy_element(a.data.data(), NpyType::F16, 3), 65504.0);
    EXPECT_EQ(mtia::run::npy_element(a.data.data(), NpyType::F16, 4), std::ldexp(1.0, -24));  // subnormal
}

TEST(NpyHalf, TruncatedFloat16IsRefused)
{
    const std::string img = numpy_f16_2x3();
    try {
        parse_npy(img.data(), img.size() - 1, "t.npy");
        ADD_FAILURE() << "accepted";
    } catch (const NpyError &e) {
        EXPECT_NE(std::string(e.what()).find("needs 12 data bytes, the file has 11"), std::string::npos) << e.what();
    }
}

TEST(NpyHalf, SameTypeIsTakenAsIs)
{
    const NpyArray h = array_of_f16({0x3c00, 0x7e00});
    EXPECT_EQ(input_bytes(h, info(DType::F16), false, "h.npy", "in"), h.data);
    const NpyArray f = array_of({1.5f});
    EXPECT_EQ(input_bytes(f, info(DType::F32), false, "x.npy", "in"), f.data);
}

TEST(NpyHalf, ConvertRoundsToNearestEven)
{
    // 1 + 2^-11 is halfway between F16's 1 and 1 + 2^-10: ties to even (1);
    // 1 + 3 * 2^-11 to 1 + 2^-9. BF16 likewise at 2^-8.
    const NpyArray a = array_of({1.0f + std::ldexp(1.0f, -11), 1.0f + 3 * std::ldexp(1.0f, -11), 0.1f, 1e6f, -0.0f});
    EXPECT_EQ(u16(input_bytes(a, info(DType::F16), true, "x.npy", "in")),
              (std::vector<uint16_t>{0x3c00, 0x3c02, 0x2e66, 0x7c00, 0x8000}));
    const NpyArray b = array_of({1.0f + std::ldexp(1.0f, -8), 1.0f + 3 * std::ldexp(1.0f, -8), 0.1f, 1e6f, -0.0f});
    EXPECT_EQ(u16(input_bytes(b, info(DType::BF16), true, "x.npy", "in")),
              (std::vector<uint16_t>{0x3f80, 0x3f82, 0x3dcd, 0x4974, 0x8000}));
}

TEST(NpyHalf, ConvertWidensExactly)
{
    const NpyArray h = array_of_f16({0x3c01, 0x0001, 0xfbff});
    EXPECT_EQ(f32(input_bytes(h, info(DType::F32), true, "h.npy", "in")),
              (std::vector<float>{1.0f + std::ldexp(1.0f, -10), std::ldexp(1.0f, -24), -65504.0f}));
    // float16 -> bfloat16: exact widening, then one rounding.
    EXPECT_EQ(u16(input_bytes(h, info(DType::BF16), true, "h.npy", "in")),
              (std::vector<uint16_t>{0x3f80, 0x3380, 0xc780}));
}

TEST(NpyHalf, MismatchWithoutConvertNamesTheInput)
{
    const NpyArray f = array_of({1.0f});
    EXPECT_EQ(error_of(f, DType::F16, false),
              "x.npy: dtype float32, but model input 0 'x' is float16 (give --convert to convert float32 to "
              "float16, rounded to nearest even)");
    EXPECT_NE(error_of(f, DType::BF16, false)
                  .find("is bfloat16 (NumPy has no bfloat16: give a float32 .npy with "
                        "--convert"),
              std::string::npos);
    EXPECT_NE(error_of(array_of_f16({0}), DType::F32, false).find("dtype float16, but model input 0 'x' is float32"),
              std::string::npos);
}

TEST(NpyHalf, IntsAndFloatsNeverConvert)
{
    const int32_t ids[2] = {1, 2};
    const std::string img = format_npy({2}, ids, NpyType::I32);
    const NpyArray i = parse_npy(img.data(), img.size(), "x.npy");
    EXPECT_EQ(error_of(i, DType::F16, true),
              "x.npy: dtype int32, but model input 0 'x' is float16 (--convert converts only float arrays, to float or "
              "quantized "
              "inputs)");
    EXPECT_NE(error_of(array_of({1.0f}), DType::I64, true).find("is int64 (--convert converts only"),
              std::string::npos);
    EXPECT_EQ(error_of(i, DType::I64, false), "x.npy: dtype int32, but model input 0 'x' is int64");
}

TEST(NpyHalf, Bf16OutputsWidenToFloat32)
{
    const uint16_t bf[3] = {0x3f80, 0xc0a0, 0x7f80};
    std::vector<uint8_t> data(6);
    std::memcpy(data.data(), bf, 6);
    EXPECT_EQ(f32(mtia::run::output_bytes(data, DType::BF16)), (std::vector<float>{1.0f, -5.0f, INFINITY}));
    EXPECT_EQ(mtia::run::npy_type(DType::BF16), NpyType::F32);
    EXPECT_EQ(mtia::run::output_bytes(data, DType::F16), data);  // float16 stays float16
    EXPECT_EQ(mtia::run::npy_type(DType::F16), NpyType::F16);
}

}  // namespace
