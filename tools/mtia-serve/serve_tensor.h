// SPDX-License-Identifier: MIT
// A named, typed, dense tensor as mtia-serve passes it between the HTTP
// frontend, the batcher and libmtia, and the Open Inference Protocol's
// datatype names ("FP32", "INT64", ...) for libmtia's types. JSON tensor data
// (flat or nested arrays) is converted to and from the tensor's bytes here,
// so the frontend only deals with the protocol's message layout.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtia/mtia.hpp"

namespace mtia_serve {

/// One tensor of a request or response: row-major bytes of shape x dtype.
struct Tensor {
    std::string name;
    mtia::DType dtype = mtia::DType::F32;
    std::vector<int64_t> shape;
    std::vector<uint8_t> data;
};

/// The protocol's datatype name of t: "FP32", "FP16", "BF16", "INT8",
/// "INT32", "INT64", "BOOL" or "UINT8".
const char *datatype_name(mtia::DType t);
/// The libmtia type of a protocol datatype name; false if none matches.
bool parse_datatype(const std::string &name, mtia::DType *out);
/// Elements of shape (1 for a scalar); -1 if a dim is negative or the
/// product overflows.
int64_t element_count(const std::vector<int64_t> &shape);

/// Bytes t's shape and dtype take; throws std::invalid_argument ("input
/// 'NAME': ...") if the shape is too large to serve.
size_t tensor_bytes(const Tensor &t);

/// Fills t.data from a JSON "data" array (flat or nested, row-major) of
/// element_count(t.shape) numbers (booleans for BOOL); throws
/// std::invalid_argument saying what is wrong (count, type, range).
void tensor_data_from_json(const nlohmann::json &data, Tensor &t);
/// t's elements as a flat JSON array (floats for FP16/BF16 too).
nlohmann::json tensor_data_to_json(const Tensor &t);

}  // namespace mtia_serve
