// SPDX-License-Identifier: MIT
// NumPy .npy files (format versions 1.0 and 2.0) holding little-endian
// C-order arrays of float32, float16, int32, int64, bool, int8 or uint8
// (the model tensor types NumPy has; bfloat16 has no NumPy dtype:
// npy_convert.h):
// what mtia-run reads as inputs and writes as outputs. Anything else is
// refused with a message saying why.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace mtia::run {

struct NpyError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The .npy dtypes: '<f4', '<i4', '<i8', '|b1', '<f2', '|i1', '|u1'.
enum class NpyType { F32, I32, I64, Bool, F16, I8, U8 };
const char *npy_descr(NpyType t);
size_t npy_size(NpyType t);

struct NpyArray {
    std::vector<uint64_t> shape;  // () for a 0-d array
    NpyType type = NpyType::F32;
    std::vector<uint8_t> data;  // product(shape) elements, C order, little-endian
    // The elements as floats (type F32).
    const float *f32() const { return reinterpret_cast<const float *>(data.data()); }
};

// Parses a whole .npy image; `what` names it in errors (a path).
NpyArray parse_npy(const void *bytes, size_t size, const std::string &what);
NpyArray read_npy(const std::string &path);

// The .npy image of an array (version 1.0 unless the header needs 2.0).
std::string format_npy(const std::vector<uint64_t> &shape, const void *data, NpyType type);
inline std::string format_npy(const std::vector<uint64_t> &shape, const float *data)
{
    return format_npy(shape, data, NpyType::F32);
}
void write_npy(const std::string &path, const std::vector<uint64_t> &shape, const void *data,
               NpyType type = NpyType::F32);

// "1x3x224x224"; "()" for a 0-d array.
std::string shape_str(const std::vector<uint64_t> &shape);

}  // namespace mtia::run
