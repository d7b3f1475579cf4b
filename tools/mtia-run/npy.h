// SPDX-License-Identifier: MIT
// NumPy .npy files (format versions 1.0 and 2.0) holding float32
// little-endian C-order arrays: what mtia-run reads as inputs and writes as
// outputs. Anything else is refused with a message saying why.
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

struct NpyArray {
    std::vector<uint64_t> shape;  // () for a 0-d array
    std::vector<float> data;      // product(shape) elements, C order
};

// Parses a whole .npy image; `what` names it in errors (a path).
NpyArray parse_npy(const void *bytes, size_t size, const std::string &what);
NpyArray read_npy(const std::string &path);

// The .npy image of a float32 array (version 1.0 unless the header needs 2.0).
std::string format_npy(const std::vector<uint64_t> &shape, const float *data);
void write_npy(const std::string &path, const std::vector<uint64_t> &shape, const float *data);

// "1x3x224x224"; "()" for a 0-d array.
std::string shape_str(const std::vector<uint64_t> &shape);

}  // namespace mtia::run
