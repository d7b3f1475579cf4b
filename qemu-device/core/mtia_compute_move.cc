// SPDX-License-Identifier: MIT
// Data movement: TRANSPOSE (a oneDNN reorder from the input seen through
// permuted strides to plain out), COPY_INTO and SLICE (a copy per contiguous
// block; a stepped SLICE, one block per index), EXPAND (a broadcast copy),
// each with the fused activation applied to what it writes.
#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;
using Desc = mtia_tensor_desc;

// The activation over out in place, or nullptr for NONE.
std::unique_ptr<Kernel> act_on_out(const mtia_op &op)
{
    if (op.act == MTIA_ACT_NONE) return nullptr;
    mtia_op a = op;
    a.opcode = MTIA_OP_ACT;
    a.n_in = 1;
    a.in[0] = a.out;
    return make_act(a);
}

class TransposeKernel final : public Kernel {
public:
    explicit TransposeKernel(const mtia_op &op) : act_(act_on_out(op))
    {
        const Desc &x = op.in[0], &y = op.out;
        memory::dims in_strides(x.ndim), strides(y.ndim);
        memory::dim s = 1;
        for (unsigned i = x.ndim; i-- > 0;) {
            in_strides[i] = s;
            s *= x.dims[i];
        }
        for (unsigned i = 0; i < y.ndim; i++) strides[i] = in_strides[op.attrs[i]];
        const memory::desc from(dims_of(y), memory::data_type::f32, strides);
        pd_ = dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), plain_desc(dims_of(y)), make_attr());
        prim_ = dnnl::reorder(pd_);
    }
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        execute(ex, prim_, pd_,
                {{DNNL_ARG_FROM, mem(pd_.src_desc(), ptr(arena, op.in[0]))},
                 {DNNL_ARG_TO, mem(pd_.dst_desc(), ptr(arena, op.out))}});
        if (act_) {
            mtia_op a = op;
            a.in[0] = a.out;
            act_->run(a, arena, ex);
        }
        return true;
    }

private:
    std::unique_ptr<Kernel> act_;
    dnnl::reorder::primitive_desc pd_;
    dnnl::reorder prim_;
};

// COPY_INTO (part = in, whole = out) and SLICE (part = out, whole = in):
// for each index of the dims before AXIS, one contiguous block of
// part.dims[AXIS] * (product of the dims after AXIS) elements.
class WindowKernel final : public Kernel {
public:
    WindowKernel(const mtia_op &op, bool into) : into_(into), act_(op) {}
    bool run(const mtia_op &op, uint8_t *arena, Exec &) override
    {
        const Desc &part = into_ ? op.in[0] : op.out, &whole = into_ ? op.out : op.in[0];
        const unsigned axis = op.attrs[0];
        uint64_t outer = 1, rest = 1;
        for (unsigned i = 0; i < axis; i++) outer *= whole.dims[i];
        for (unsigned i = axis + 1; i < whole.ndim; i++) rest *= whole.dims[i];
        const uint64_t block = part.dims[axis] * rest, stride = whole.dims[axis] * rest;
        const uint64_t start = uint64_t{op.attrs[1]} * rest;
        float *pp = ptr(arena, part), *pw = ptr(arena, whole);
        const int32_t step = into_ ? 1 : slice_step(op);
        if (step != 1) {  // SLICE with a step: one block of @rest per index
            const int64_t n = part.dims[axis];
            for (uint64_t o = 0; o < outer; o++)
                for (int64_t i = 0; i < n; i++) {
                    const int64_t src = int64_t{op.attrs[1]} + i * step;  // validated in range
                    act_.apply(pp + (o * n + i) * rest, pw + o * stride + uint64_t(src) * rest, rest);
                }
            return true;
        }
        for (uint64_t o = 0; o < outer; o++) {
            float *w = pw + o * stride + start, *p = pp + o * block;
            if (into_)
                act_.apply(w, p, block);
            else
                act_.apply(p, w, block);
        }
        return true;
    }

private:
    bool into_;
    Act act_;
};

// EXPAND: out = in broadcast to out's dims, then the activation.
class ExpandKernel final : public Kernel {
public:
    explicit ExpandKernel(const mtia_op &op) : act_(op) {}
    bool run(const mtia_op &op, uint8_t *arena, Exec &) override
    {
        float *y = ptr(arena, op.out);
        broadcast_copy(op.in[0], ptr(arena, op.in[0]), op.out, y);
        act_.apply(y, y, elems(op.out));
        return true;
    }

private:
    Act act_;
};

}  // namespace

std::unique_ptr<Kernel> make_transpose(const mtia_op &op) { return std::make_unique<TransposeKernel>(op); }
std::unique_ptr<Kernel> make_copy_into(const mtia_op &op) { return std::make_unique<WindowKernel>(op, true); }
std::unique_ptr<Kernel> make_slice(const mtia_op &op) { return std::make_unique<WindowKernel>(op, false); }
std::unique_ptr<Kernel> make_expand(const mtia_op &op) { return std::make_unique<ExpandKernel>(op); }

}  // namespace compute
}  // namespace mtia
