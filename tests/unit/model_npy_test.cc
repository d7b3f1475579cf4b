// SPDX-License-Identifier: MIT
// mtia-run's .npy reader/writer: NumPy's own bytes, round trips, v1/v2
// headers, and the refusals (Fortran order, other dtypes, truncation).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "npy.h"

namespace {

using mtia::run::format_npy;
using mtia::run::NpyArray;
using mtia::run::NpyError;
using mtia::run::NpyType;
using mtia::run::parse_npy;

// numpy 1.24: np.save(f, np.arange(6, dtype=np.float32).reshape(2, 3)).
std::string numpy_header_2x3()
{
    std::string h("\x93NUMPY\x01\x00v\x00", 10);
    h += "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    h.append(128 - 1 - h.size(), ' ');
    return h + "\n";
}

std::string with_data(std::string header, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const float f = static_cast<float>(i);
        header.append(reinterpret_cast<const char *>(&f), 4);
    }
    return header;
}

NpyArray parse(const std::string &s) { return parse_npy(s.data(), s.size(), "t.npy"); }

void expect_error(const std::string &img, const std::string &substr)
{
    try {
        parse(img);
        ADD_FAILURE() << "accepted; wanted '" << substr << "'";
    } catch (const NpyError &e) {
        EXPECT_NE(std::string(e.what()).find(substr), std::string::npos) << e.what();
        EXPECT_EQ(std::string(e.what()).rfind("t.npy: ", 0), 0u) << e.what();
    }
}

TEST(Npy, ReadsNumpyFile)
{
    NpyArray a = parse(with_data(numpy_header_2x3(), 6));
    EXPECT_EQ(a.shape, (std::vector<uint64_t>{2, 3}));
    ASSERT_EQ(a.data.size(), 24u);
    EXPECT_EQ(a.f32()[5], 5.0f);
}

TEST(Npy, WritesWhatNumpyWrites)
{
    const float d[6] = {0, 1, 2, 3, 4, 5};
    EXPECT_EQ(format_npy({2, 3}, d), with_data(numpy_header_2x3(), 6));
    // 1-tuples and 0-d arrays are spelled as Python does.
    const std::string one = format_npy({5}, d);
    EXPECT_NE(one.find("'shape': (5,), }"), std::string::npos);
    EXPECT_EQ((one.size() - 20) % 64, 0u);
    const std::string scalar = format_npy({}, d);
    EXPECT_NE(scalar.find("'shape': (), }"), std::string::npos);
    EXPECT_EQ(scalar.size(), 128u + 4);
}

TEST(Npy, RoundTrip)
{
    std::vector<float> v(1 * 3 * 7 * 5);
    for (size_t i = 0; i < v.size(); i++) v[i] = static_cast<float>(i) * 0.25f - 3;
    char path[] = "/tmp/npy_test_XXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    mtia::run::write_npy(path, {1, 3, 7, 5}, v.data());
    NpyArray a = mtia::run::read_npy(path);
    std::remove(path);
    EXPECT_EQ(a.shape, (std::vector<uint64_t>{1, 3, 7, 5}));
    EXPECT_EQ(std::vector<float>(a.f32(), a.f32() + v.size()), v);
    EXPECT_THROW(mtia::run::read_npy(path), NpyError);  // gone now
}

TEST(Npy, ReadsVersion2)
{
    std::string h = "\x93NUMPY\x02";
    h += std::string("\x00t\x00\x00\x00", 5);
    h += "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    h.append(128 - 1 - h.size(), ' ');
    h += "\n";
    NpyArray a = parse(with_data(h, 4));
    EXPECT_EQ(a.shape, (std::vector<uint64_t>{2, 2}));
    EXPECT_EQ(a.f32()[3], 3.0f);
}

TEST(Npy, WritesVersion2ForHugeHeaders)
{
    // A header over 64 KiB needs the 4-byte length of version 2.0.
    std::vector<uint64_t> shape(30000, 1);
    const float d = 1.5f;
    const std::string img = format_npy(shape, &d);
    EXPECT_EQ(img[6], 2);
    NpyArray a = parse(img);
    EXPECT_EQ(a.shape.size(), 30000u);
    EXPECT_EQ(a.f32()[0], 1.5f);
}

TEST(Npy, RefusesFortranOrder)
{
    std::string h = numpy_header_2x3();
    h.replace(h.find("False"), 5, "True ");
    expect_error(with_data(h, 6), "Fortran-order arrays are not supported");
}

TEST(Npy, RefusesOtherDtypes)
{
    for (const char *dt : {"<f8", ">f4", ">i8", "<u2", ">f2", "<i2", "<e2", "|i2", "|b2"}) {
        std::string h = numpy_header_2x3();
        h.replace(h.find("<f4"), 3, dt);
        expect_error(with_data(h, 6), std::string("dtype '") + dt + "' is not supported");
    }
}

TEST(Npy, RefusesTruncatedOrPadded)
{
    const std::string good = with_data(numpy_header_2x3(), 6);
    for (size_t n = 0; n < good.size(); n++) {
        EXPECT_THROW(parse(good.substr(0, n)), NpyError) << n;
    }
    expect_error(good.substr(0, good.size() - 1), "truncated: shape 2x3 needs 24 data bytes, the file has 23");
    expect_error(good + "x", "trailing bytes");
    expect_error(good.substr(0, 50), "truncated .npy header");
}

TEST(Npy, RefusesBadHeaders)
{
    expect_error("PK\x03\x04 not numpy at all", "not a .npy file");
    std::string v3 = numpy_header_2x3();
    v3[6] = 3;
    expect_error(with_data(v3, 6), "version 3.0 is not supported");
    auto with_dict = [](const std::string &dict) {
        std::string h = "\x93NUMPY\x01";
        h += '\0';
        h += static_cast<char>(dict.size());
        h += '\0';
        return h + dict;
    };
    expect_error(with_dict("{'descr': '<f4', 'shape': (2,), }"), "lacks descr, fortran_order or shape");
    expect_error(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }"), "non-negative integers");
    expect_error(with_dict("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2,), }"), "not True or False");
    expect_error(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}"), "unknown header key");
    expect_error(with_dict("{'descr': '<f4"), "unterminated string");
    expect_error(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }"),
                 "overflows");
    expect_error(with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }"),
                 "too large");
}

}  // namespace

// Ids: int64 and int32 (and bool masks) read and written with their dtype.
TEST(Npy, IntegerArraysRoundTrip)
{
    const int64_t ids[4] = {0, -1, int64_t(1) << 40, 7};
    const std::string img = format_npy({2, 2}, ids, NpyType::I64);
    EXPECT_NE(img.find("'descr': '<i8'"), std::string::npos);
    NpyArray a = parse(img);
    EXPECT_EQ(a.type, NpyType::I64);
    ASSERT_EQ(a.data.size(), 32u);
    EXPECT_EQ(std::memcmp(a.data.data(), ids, 32), 0);
    const int32_t small[3] = {5, -2, 9};
    NpyArray b = parse(format_npy({3}, small, NpyType::I32));
    EXPECT_EQ(b.type, NpyType::I32);
    EXPECT_EQ(std::memcmp(b.data.data(), small, 12), 0);
    const uint8_t mask[2] = {1, 0};
    NpyArray c = parse(format_npy({2}, mask, NpyType::Bool));
    EXPECT_EQ(c.type, NpyType::Bool);
    EXPECT_EQ(c.data, (std::vector<uint8_t>{1, 0}));
    // A truncated int64 array names the bytes it needs.
    expect_error(img.substr(0, img.size() - 1), "needs 32 data bytes");
}
