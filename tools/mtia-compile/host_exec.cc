// SPDX-License-Identifier: MIT
#include "host_exec.h"

#include <cstring>

#include "errors.h"
#include "mtia/mtia_fp16.h"
#include "mtia/mtia_quant.h"
#include "mtia_compute.h"

namespace mtia::compiler {

namespace {

mtia_tensor_desc desc_of(const DevTensor &t)
{
    mtia_tensor_desc x;
    std::memset(&x, 0, sizeof(x));
    x.offset = t.offset;
    x.dtype = t.dtype;
    x.ndim = static_cast<uint8_t>(t.shape.size());
    for (size_t i = 0; i < t.shape.size(); ++i) x.dims[i] = static_cast<uint32_t>(t.shape[i]);
    if (mtia_dtype_is_quant(t.dtype)) {
        x.scale = mtia_f32_bits(t.scale);
        x.zero_point = static_cast<int16_t>(t.zero_point);
    }
    return x;
}

}  // namespace

HostProgram::HostProgram(const DevGraph &d, const ArenaLayout &layout) : d_(d), arena_(layout.arena_size, 0)
{
    std::memcpy(arena_.data(), layout.weights.data(), layout.weights.size());
    for (const DevOp &o : d.ops) {
        mtia_op op;
        std::memset(&op, 0, sizeof(op));
        op.opcode = o.kind;
        op.n_in = static_cast<uint8_t>(o.in.size());
        op.act = o.act;
        op.act_min = mtia_f32_bits(o.act_min);
        op.act_max = mtia_f32_bits(o.act_max);
        op.flags = o.flags;
        for (size_t k = 0; k < o.in.size(); ++k) op.in[k] = desc_of(d.tensors[o.in[k]]);
        op.out = desc_of(d.tensors[o.out]);
        for (size_t k = 0; k < o.attrs.size(); ++k) op.attrs[k] = o.attrs[k];
        ops_.push_back(op);
    }
}

void HostProgram::set_input(size_t k, const uint8_t *data)
{
    const DevTensor &t = d_.tensors[d_.inputs.at(k)];
    std::memcpy(arena_.data() + t.offset, data, t.bytes());
}

void HostProgram::run()
{
    uint64_t result = 0;
    const uint16_t st = mtia_compute_run(ops_.data(), static_cast<uint32_t>(ops_.size()), arena_.data(), arena_.size(),
                                         nullptr, nullptr, &result);
    if (st == MTIA_CQE_OK) return;
    const std::string op = result < d_.ops.size()
                               ? std::string(op_kind_name(d_.ops[result].kind)) + " '" + d_.ops[result].name + "'"
                               : "op " + std::to_string(result);
    if (st == MTIA_CQE_BAD_INDEX) fail(ErrorKind::kUsage, op + ": an id or index outside its table");
    internal_error("the compute engine refuses the program (status " + std::to_string(st) + " at " + op + ")");
}

std::vector<float> HostProgram::floats(int t) const
{
    const DevTensor &x = d_.tensors[t];
    const uint64_t n = x.bytes() / mtia_dtype_size(x.dtype);
    const uint8_t *p = arena_.data() + x.offset;
    std::vector<float> v(n);
    for (uint64_t i = 0; i < n; ++i) {
        switch (x.dtype) {
            case MTIA_DTYPE_F32:
                std::memcpy(&v[i], p + 4 * i, 4);
                break;
            case MTIA_DTYPE_F16:
            case MTIA_DTYPE_BF16: {
                uint16_t h;
                std::memcpy(&h, p + 2 * i, 2);
                v[i] = x.dtype == MTIA_DTYPE_F16 ? mtia_f16_to_f32(h) : mtia_bf16_to_f32(h);
                break;
            }
            case MTIA_DTYPE_I8:
                v[i] = mtia_dequantize(static_cast<int8_t>(p[i]), x.scale, x.zero_point);
                break;
            case MTIA_DTYPE_U8:
                v[i] = mtia_dequantize(p[i], x.scale, x.zero_point);
                break;
            default:
                internal_error("tensor '" + x.name + "' is not a float or quantized tensor");
        }
    }
    return v;
}

}  // namespace mtia::compiler
