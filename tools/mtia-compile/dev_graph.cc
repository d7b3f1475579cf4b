// SPDX-License-Identifier: MIT
#include "dev_graph.h"

#include <cstring>

#include "errors.h"

namespace mtia::compiler {

uint64_t DevTensor::bytes() const
{
    uint64_t n = 4;  // float32
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
    v.kind = tensors[root(base)].kind == TensorKind::Weight ? TensorKind::Weight : TensorKind::Activation;
    if (byte_offset + v.bytes() > tensors[base].bytes())
        internal_error("view '" + name + "' exceeds its base '" + tensors[base].name + "'");
    return add_tensor(std::move(v));
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
        case MTIA_OP_PAD:
            return "Pad";
        case MTIA_OP_CONV_TRANSPOSE:
            return "ConvTranspose";
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
