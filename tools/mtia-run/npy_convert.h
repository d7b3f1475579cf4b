// SPDX-License-Identifier: MIT
// Model tensors <-> .npy arrays in mtia-run: which NumPy dtype a model
// tensor type is read from and written as, and the conversions of
// --convert. F16 is NumPy's float16 ('<f2'). BF16 has no NumPy dtype: a
// BF16 input comes from a float32 (or float16) .npy only with --convert
// (rounded to nearest even), a BF16 output is written as float32 (exact).
// Quantized I8/U8 tensors are NumPy's int8/uint8 ('|i1', '|u1') holding the
// raw q; with --convert a float input is quantized with the input's scale
// and zero point, and summaries show outputs' real values (dequantized).
// Every rounding is include/mtia/mtia_fp16.h's or mtia_quant.h's (through
// mtia::quantize). Integers and bool are never converted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"
#include "npy.h"

namespace mtia::run {

// The .npy type a tensor of type t is read from (without --convert) and
// written as: F32 for BF16.
NpyType npy_type(mtia::DType t);
// "float32", "float16", "int32", "int64", "bool", "int8", "uint8".
const char *numpy_name(NpyType t);
using mtia::dtype_name;  // the model's names: "f32", "f16", ... (libmtia)
// NumPy's name of a model type ("bfloat16" for BF16, which NumPy lacks).
const char *model_numpy_name(mtia::DType t);
// ", scale 0.5, zero point 128" for a quantized tensor, "" for another.
std::string quant_str(const mtia::TensorInfo &t);

// Element i of an array of type t as a double (for summaries).
double npy_element(const uint8_t *p, NpyType t, size_t i);

// The bytes model input `label` (e.g. "model input 0 'x'") `to` takes, from
// array a read from `path`: a's own bytes when its type is the input's,
// else with convert a float array converted (f32 -> f16/bf16 rounds to
// nearest even, f16 -> f32 is exact, either -> I8/U8 quantizes with to's
// scale and zero point). Throws NpyError naming the path, the input and both
// dtypes for any other mismatch (and saying when --convert would do).
std::vector<uint8_t> input_bytes(const NpyArray &a, const mtia::TensorInfo &to, bool convert, const std::string &path,
                                 const std::string &label);

// The .npy data of an output of type `from` (npy_type(from)): BF16 widened
// to float32, every other type (I8/U8: the raw q) as it is.
std::vector<uint8_t> output_bytes(const std::vector<uint8_t> &data, mtia::DType from);

// The real values of output t's .npy data (output_bytes()): quantized ones
// dequantized with t's scale and zero point, others as npy_element().
std::vector<double> output_values(const std::vector<uint8_t> &npy_data, const mtia::TensorInfo &t);

// n float32 values -> the bytes of a float or quantized tensor `to`
// (rounded, or quantized with its scale and zero point).
std::vector<uint8_t> from_f32(const float *v, size_t n, const mtia::TensorInfo &to);

}  // namespace mtia::run
