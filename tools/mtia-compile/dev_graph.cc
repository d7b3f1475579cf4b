// SPDX-License-Identifier: MIT
#include "dev_graph.h"

#include <cstring>

#include "errors.h"

namespace mtia::compiler {

uint64_t DevTensor::bytes() const
{
    uint64_t n = mtia_dtype_size(dtype);
    for (int64_t d : shape) n *= static_cast<uint64_t>(d);
    return n;
}

int DevGraph::root(int t) const
{
    for (int hops = 0; tensors[t].base >= 0; ++hops) {
        if (hops > static_cast<int>(tensors.size())) internal_error("view cycle at tensor " + tensors[t].name);
        t = tensors[t].base;
    }
    return t;
}

uint64_t DevGraph::offset_in_root(int t) const
{
    uint64_t off = 0;
    for (; tensors[t].base >= 0; t = tensors[t].base) off += tensors[t].base_offset;
    return off;
}

int DevGraph::add_tensor(DevTensor t)
{
    if (t.shape.empty() || t.shape.size() > MTIA_MAX_DIMS)
        internal_error("tensor '" + t.name + "' has rank " + std::to_string(t.shape.size()));
    tensors.push_back(std::move(t));
    return static_cast<int>(tensors.size()) - 1;
}

int DevGraph::add_view(int base, const Shape &shape, uint64_t byte_offset, const std::string &name)
{
    DevTensor v;
    v.name = name;
    v.shape = shape;
    v.base = base;
    v.base_offset = byte_offset;
    v.dtype = tensors[base].dtype;
    v.scale = tensors[base].scale;
    v.zero_point = tensors[base].zero_point;
    v.kind = tensors[root(base)].kind == TensorKind::Weight ? TensorKind::Weight : TensorKind::Activation;
    if (byte_offset + v.bytes() > tensors[base].bytes())
        internal_error("view '" + name + "' exceeds its base '" + tensors[base].name + "'");
    return add_tensor(std::move(v));
}

uint8_t mtia_dtype_of(int32_t onnx_type)
{
    switch (onnx_type) {
        case onnx::TensorProto::FLOAT:
            return MTIA_DTYPE_F32;
        case onnx::TensorProto::INT32:
            return MTIA_DTYPE_I32;
        case onnx::TensorProto::INT64:
            return MTIA_DTYPE_I64;
        case onnx::TensorProto::BOOL:
            return MTIA_DTYPE_BOOL;
        case onnx::TensorProto::INT8:
            return MTIA_DTYPE_I8;
        case onnx::TensorProto::UINT8:
            return MTIA_DTYPE_U8;
        default:
            return 0;
    }
}

const char *op_kind_name(uint16_t kind)
{
    switch (kind) {
        case MTIA_OP_CONV:
            return "Conv";
        case MTIA_OP_GEMM:
            return "Gemm";
        case MTIA_OP_BINARY:
            return "Binary";
        case MTIA_OP_ACT:
            return "Act";
        case MTIA_OP_POOL:
            return "Pool";
        case MTIA_OP_SOFTMAX:
            return "Softmax";
        case MTIA_OP_TRANSPOSE:
            return "Transpose";
        case MTIA_OP_COPY_INTO:
            return "CopyInto";
        case MTIA_OP_SLICE:
            return "Slice";
        case MTIA_OP_WHERE:
            return "Where";
        case MTIA_OP_REDUCE:
            return "Reduce";
        case MTIA_OP_LAYERNORM:
            return "LayerNorm";
        case MTIA_OP_EXPAND:
            return "Expand";
        case MTIA_OP_GATHER:
            return "Gather";
        case MTIA_OP_EMBEDDING_BAG:
            return "EmbeddingBag";
        case MTIA_OP_CAST:
            return "Cast";
        case MTIA_OP_PAD:
            return "Pad";
        case MTIA_OP_CONV_TRANSPOSE:
            return "ConvTranspose";
        case MTIA_OP_RESIZE:
            return "Resize";
        default:
            return "?";
    }
}

const char *act_name(uint8_t act)
{
    switch (act) {
        case MTIA_ACT_RELU:
            return "Relu";
        case MTIA_ACT_CLIP:
            return "Clip";
        case MTIA_ACT_SIGMOID:
            return "Sigmoid";
        case MTIA_ACT_TANH:
            return "Tanh";
        case MTIA_ACT_EXP:
            return "Exp";
        case MTIA_ACT_LOG:
            return "Log";
        case MTIA_ACT_SQRT:
            return "Sqrt";
        case MTIA_ACT_RECIPROCAL:
            return "Reciprocal";
        case MTIA_ACT_NEG:
            return "Neg";
        case MTIA_ACT_ABS:
            return "Abs";
        case MTIA_ACT_GELU_ERF:
            return "Gelu";
        case MTIA_ACT_GELU_TANH:
            return "GeluTanh";
        case MTIA_ACT_ERF:
            return "Erf";
        default:
            return "";
    }
}

uint32_t f32_bits(float v)
{
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
}

}  // namespace mtia::compiler
