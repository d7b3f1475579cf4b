// SPDX-License-Identifier: MIT
// Constant tensors (initializers, Constant nodes, folded values) as the
// compiler holds them: floating types as float, integer and bool types as
// int64 (exact, so shape arithmetic such as INT64_MAX slice ends survives).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace mtia::compiler {

using Shape = std::vector<int64_t>;

// Largest tensor the compiler accepts, in elements (1 GiB of float).
constexpr int64_t kMaxElements = int64_t{1} << 28;

// Element count of shape; throws CompileError (kBadInput) naming what for a
// negative dim or a count over kMaxElements.
int64_t numel(const Shape &shape, const std::string &what);
std::string shape_str(const Shape &shape);  // "1x3x224x224", "scalar"
std::string dtype_name(int32_t onnx_dtype);
bool is_float_dtype(int32_t onnx_dtype);
bool is_int_dtype(int32_t onnx_dtype);  // integers and bool

struct ConstTensor {
    int32_t dtype = onnx::TensorProto::FLOAT;  // onnx::TensorProto_DataType
    Shape shape;
    std::vector<float> f;    // is_float_dtype(dtype)
    std::vector<int64_t> i;  // is_int_dtype(dtype)

    bool is_float() const { return is_float_dtype(dtype); }
    int64_t size() const { return static_cast<int64_t>(is_float() ? f.size() : i.size()); }
    double at(int64_t k) const { return is_float() ? f[k] : static_cast<double>(i[k]); }
    int64_t int_at(int64_t k) const;  // integer value (floats truncated)
    std::vector<int64_t> ints() const;

    static ConstTensor floats(Shape shape, std::vector<float> v);
    static ConstTensor int64s(Shape shape, std::vector<int64_t> v);
    static ConstTensor zeros(int32_t dtype, Shape shape);
};
using ConstPtr = std::shared_ptr<const ConstTensor>;

// Decodes an ONNX TensorProto (raw_data or typed fields; external data read
// relative to base_dir). Throws CompileError (kBadInput/kUnsupported) with
// the tensor's name on a size mismatch or an unsupported element type.
ConstTensor from_proto(const onnx::TensorProto &t, const std::string &base_dir);
// FLOAT or INT64 TensorProto with raw_data (for Constant replacements).
onnx::TensorProto to_proto(const ConstTensor &c, const std::string &name);

}  // namespace mtia::compiler
