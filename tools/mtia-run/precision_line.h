// SPDX-License-Identifier: MIT
// mtia-run's precision report (the benchmark's "precision:" line and its
// JSON fields): what a model computes in, from Model::compute_dtypes(), and
// the dtypes of its inputs and outputs. Host only, so it is unit-tested
// without a device.
#pragma once

#include <string>
#include <vector>

#include "mtia/mtia.hpp"

namespace mtia::run {

// "int8" if the model has quantized tensors (I8 or U8), then its 16-bit
// float compute dtypes ("int8+bf16", "bf16"), else "f32" (or "int" without
// float tensors).
std::string precision(const std::vector<mtia::DType> &compute_dtypes);

// The distinct dtypes of tensors, in order: "f32", "f16,f32"; "none".
std::string io_dtypes(const std::vector<mtia::TensorInfo> &ts);

// "bf16 (inputs/outputs f32)", "int8 (inputs u8, outputs f32,i8)".
std::string precision_line(const std::vector<mtia::DType> &compute_dtypes, const std::vector<mtia::TensorInfo> &inputs,
                           const std::vector<mtia::TensorInfo> &outputs);

}  // namespace mtia::run
