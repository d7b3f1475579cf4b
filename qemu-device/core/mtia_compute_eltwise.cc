// SPDX-License-Identifier: MIT
// Elementwise ops: ACT (oneDNN eltwise), BINARY (oneDNN binary, with the
// fused activation as a post-op; a broadcasting loop where oneDNN's binary
// cannot express the op: a broadcast or aliased first input of SUB/DIV),
// SOFTMAX (oneDNN softmax along the axis, then the activation), and the
// broadcast copy GEMM uses for C.
#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;
using Desc = mtia_tensor_desc;

// Element strides of @in when indexed by @out's coordinates: 0 on broadcast dims.
void broadcast_strides(const Desc &in, const Desc &out, uint64_t st[MTIA_MAX_DIMS])
{
    uint64_t s = 1;
    for (unsigned i = out.ndim; i-- > 0;) {
        st[i] = in.dims[i] == out.dims[i] ? s : 0;
        s *= in.dims[i];
    }
}

// Calls fn(out_row, in_row_offsets[k], in_inner_stride[k], n) for each row of
// @out (its last dim), with offsets of the @nin inputs' matching rows.
template <class Fn>
void for_each_row(const Desc &out, const Desc *const *ins, unsigned nin, Fn fn)
{
    uint64_t st[2][MTIA_MAX_DIMS] = {};
    for (unsigned k = 0; k < nin; k++) broadcast_strides(*ins[k], out, st[k]);
    const unsigned last = out.ndim - 1;
    const uint64_t n = out.dims[last], rows = elems(out) / n;
    uint64_t idx[MTIA_MAX_DIMS] = {}, off[2] = {};
    const uint64_t inner[2] = {st[0][last], st[1][last]};
    for (uint64_t r = 0; r < rows; r++) {
        fn(r * n, off, inner, n);
        for (unsigned d = last; d-- > 0;) {  // next row: odometer over dims [0, last)
            for (unsigned k = 0; k < nin; k++) off[k] += st[k][d];
            if (++idx[d] < out.dims[d]) break;
            for (unsigned k = 0; k < nin; k++) off[k] -= st[k][d] * out.dims[d];
            idx[d] = 0;
        }
    }
}

// ---- ACT -------------------------------------------------------------------------

class ActKernel final : public Kernel {
public:
    explicit ActKernel(const mtia_op &op) : act_(op)
    {
        if (op.act == MTIA_ACT_NONE) return;
        const memory::desc md = plain_desc({static_cast<memory::dim>(elems(op.out))});
        dnnl::algorithm alg;
        float alpha, beta;
        act_algorithm(op, &alg, &alpha, &beta);
        const dnnl::eltwise_forward::desc d(dnnl::prop_kind::forward_inference, alg, md, alpha, beta);
        pd_ = dnnl::eltwise_forward::primitive_desc(d, make_attr(), cpu_engine());
        prim_ = dnnl::eltwise_forward(pd_);
    }
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        float *x = ptr(arena, op.in[0]), *y = ptr(arena, op.out);
        if (op.act == MTIA_ACT_NONE) {
            act_.apply(y, x, elems(op.out));
            return true;
        }
        execute(ex, prim_, pd_, {{DNNL_ARG_SRC, mem(pd_.src_desc(), x)}, {DNNL_ARG_DST, mem(pd_.dst_desc(), y)}});
        return true;
    }

private:
    Act act_;
    dnnl::eltwise_forward::primitive_desc pd_;
    dnnl::eltwise_forward prim_;
};

// ---- BINARY ------------------------------------------------------------------------

bool full(const Desc &in, const Desc &out)
{
    for (unsigned i = 0; i < out.ndim; i++)
        if (in.dims[i] != out.dims[i]) return false;
    return true;
}

class BinaryKernel final : public Kernel {
public:
    explicit BinaryKernel(const mtia_op &op) : kind_(op.attrs[MTIA_BINARY_KIND]), act_(op)
    {
        const bool commutative = kind_ == MTIA_BINARY_ADD || kind_ == MTIA_BINARY_MUL;
        // oneDNN: src0 has out's dims (and may be out itself); src1 broadcasts.
        if (!full(op.in[0], op.out) && commutative && full(op.in[1], op.out)) swap_ = true;
        const Desc &s0 = op.in[swap_ ? 1 : 0], &s1 = op.in[swap_ ? 0 : 1];
        if (!full(s0, op.out)) return;  // loop
        static const dnnl::algorithm algs[] = {dnnl::algorithm::binary_add, dnnl::algorithm::binary_sub,
                                               dnnl::algorithm::binary_mul, dnnl::algorithm::binary_div};
        try {
            const dnnl::binary::desc d(algs[kind_], plain_desc(dims_of(s0)), plain_desc(dims_of(s1)),
                                       plain_desc(dims_of(op.out)));
            pd_ = dnnl::binary::primitive_desc(d, make_attr(act_post_ops(op)), cpu_engine());
            prim_ = dnnl::binary(pd_);
            dnnl_ = true;
        } catch (const dnnl::error &) {
            dnnl_ = false;  // the loop does it
        }
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const Desc &s0 = op.in[swap_ ? 1 : 0], &s1 = op.in[swap_ ? 0 : 1];
        float *y = ptr(arena, op.out);
        // oneDNN may read src1 after it wrote dst: not when they alias.
        if (dnnl_ && s1.offset != op.out.offset) {
            execute(ex, prim_, pd_,
                    {{DNNL_ARG_SRC_0, mem(pd_.src_desc(0), ptr(arena, s0))},
                     {DNNL_ARG_SRC_1, mem(pd_.src_desc(1), ptr(arena, s1))},
                     {DNNL_ARG_DST, mem(pd_.dst_desc(), y)}});
            return true;
        }
        const float *a = ptr(arena, op.in[0]), *b = ptr(arena, op.in[1]);
        const Desc *ins[2] = {&op.in[0], &op.in[1]};
        // Each output element is written after both its inputs were read, so
        // an input that is out itself (same shape) is fine.
        for_each_row(op.out, ins, 2, [&](uint64_t yo, const uint64_t *off, const uint64_t *in, uint64_t n) {
            const float *pa = a + off[0], *pb = b + off[1];
            float *py = y + yo;
            switch (kind_) {
                case MTIA_BINARY_ADD:
                    for (uint64_t i = 0; i < n; i++) py[i] = pa[i * in[0]] + pb[i * in[1]];
                    break;
                case MTIA_BINARY_SUB:
                    for (uint64_t i = 0; i < n; i++) py[i] = pa[i * in[0]] - pb[i * in[1]];
                    break;
                case MTIA_BINARY_MUL:
                    for (uint64_t i = 0; i < n; i++) py[i] = pa[i * in[0]] * pb[i * in[1]];
                    break;
                default:
                    for (uint64_t i = 0; i < n; i++) py[i] = pa[i * in[0]] / pb[i * in[1]];
                    break;
            }
            act_.apply(py, py, n);
        });
        return true;
    }

private:
    uint32_t kind_;
    Act act_;
    bool swap_ = false, dnnl_ = false;
    dnnl::binary::primitive_desc pd_;
    dnnl::binary prim_;
};

// ---- SOFTMAX -----------------------------------------------------------------------

class SoftmaxKernel final : public Kernel {
public:
    explicit SoftmaxKernel(const mtia_op &op)
    {
        const memory::desc md = plain_desc(dims_of(op.out));
        const dnnl::softmax_forward::desc d(dnnl::prop_kind::forward_inference, md,
                                            static_cast<int>(op.attrs[MTIA_SOFTMAX_AXIS]));
        pd_ = dnnl::softmax_forward::primitive_desc(d, make_attr(), cpu_engine());
        prim_ = dnnl::softmax_forward(pd_);
        if (op.act != MTIA_ACT_NONE) {
            mtia_op a = op;
            a.opcode = MTIA_OP_ACT;
            a.in[0] = a.out;
            act_ = make_act(a);
        }
    }
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        float *y = ptr(arena, op.out);
        execute(ex, prim_, pd_,
                {{DNNL_ARG_SRC, mem(pd_.src_desc(), ptr(arena, op.in[0]))}, {DNNL_ARG_DST, mem(pd_.dst_desc(), y)}});
        if (act_) {
            mtia_op a = op;
            a.in[0] = a.out;
            act_->run(a, arena, ex);  // in place on out
        }
        return true;
    }

private:
    dnnl::softmax_forward::primitive_desc pd_;
    dnnl::softmax_forward prim_;
    std::unique_ptr<Kernel> act_;
};

}  // namespace

void broadcast_copy(const Desc &sd, const float *src, const Desc &dd, float *dst)
{
    const Desc *ins[1] = {&sd};
    for_each_row(dd, ins, 1, [&](uint64_t yo, const uint64_t *off, const uint64_t *in, uint64_t n) {
        if (in[0] == 1) {
            std::memcpy(dst + yo, src + off[0], n * 4);
        } else {
            for (uint64_t i = 0; i < n; i++) dst[yo + i] = src[off[0]];
        }
    });
}

std::unique_ptr<Kernel> make_act(const mtia_op &op) { return std::make_unique<ActKernel>(op); }
std::unique_ptr<Kernel> make_binary(const mtia_op &op) { return std::make_unique<BinaryKernel>(op); }
std::unique_ptr<Kernel> make_softmax(const mtia_op &op) { return std::make_unique<SoftmaxKernel>(op); }

}  // namespace compute
}  // namespace mtia
