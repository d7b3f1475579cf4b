// SPDX-License-Identifier: MIT
// The device-level program: tensors placed in one arena and ops in the
// device's vocabulary (MTIA_OP_* in mtia_spec.h), in execution order.
// A tensor may be a view of another's storage (reshape, contiguous slice):
// views cost no op and share the memory plan of their root.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "const_tensor.h"
#include "mtia/mtia_spec.h"

namespace mtia::compiler {

enum class TensorKind : uint8_t { Activation = 0, Weight = 1, Input = 2, Output = 3 };  // = mtia.model.TensorKind

struct DevTensor {
    std::string name;
    Shape shape;                     // 1..MTIA_MAX_DIMS dims, each >= 1
    uint8_t dtype = MTIA_DTYPE_F32;  // MTIA_DTYPE_*: integer for ids, offsets, indices
    TensorKind kind = TensorKind::Activation;
    int base = -1;             // view: storage of tensor `base` ...
    uint64_t base_offset = 0;  // ... starting this many bytes in
    ConstPtr data;             // weight roots: the values (float; integers for I64, I8, U8)
    float scale = 0.0f;        // I8/U8 (mtia_spec.h): real = (q - zero_point) * scale;
    int32_t zero_point = 0;    // scale 0: per-channel CONV/GEMM weights
    uint64_t offset = 0;       // arena byte offset (set by the planner)

    uint64_t bytes() const;
    bool is_view() const { return base >= 0; }
};

struct DevOp {
    uint16_t kind = 0;    // MTIA_OP_*
    std::string name;     // the ONNX node it came from
    std::vector<int> in;  // tensor ids, 1..MTIA_OP_MAX_IN
    int out = -1;
    uint8_t act = MTIA_ACT_NONE;
    float act_min = 0.0f, act_max = 0.0f;
    std::vector<uint32_t> attrs;  // MTIA_<OP>_* indices
    uint32_t flags = 0;           // MTIA_OP_F_* (layout_plan.h)
    uint64_t flops = 0;           // 2 * MACs (Conv, Gemm) or element ops
};

struct DevGraph {
    std::string name;
    std::vector<DevTensor> tensors;
    std::vector<DevOp> ops;
    std::vector<int> inputs, outputs;  // ONNX order

    // The tensor owning t's storage and t's byte offset inside it.
    int root(int t) const;
    uint64_t offset_in_root(int t) const;
    int add_tensor(DevTensor t);
    int add_view(int base, const Shape &shape, uint64_t byte_offset, const std::string &name);
};

const char *op_kind_name(uint16_t kind);  // "Conv", "Gemm", ...
const char *act_name(uint8_t act);        // "", "Relu", ...
uint32_t f32_bits(float v);
// MTIA_DTYPE_* of an ONNX element type the device holds (FLOAT, INT32,
// INT64, BOOL; INT8 and UINT8 as quantized tensors), 0 for any other.
uint8_t mtia_dtype_of(int32_t onnx_type);

}  // namespace mtia::compiler
