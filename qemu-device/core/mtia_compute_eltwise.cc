// SPDX-License-Identifier: MIT
// Elementwise ops: ACT (oneDNN eltwise; a loop for ERF, which oneDNN lacks,
// and LOG, whose oneDNN form is off by ~1e-6 absolute near 1: log(1) != 0),
// BINARY (oneDNN binary, with the fused activation as a post-op; a
// broadcasting loop where oneDNN's binary cannot express the op: a broadcast
// or aliased first input of SUB/DIV/POW, and POW itself, whose oneDNN form
// is an eltwise of a constant exponent), SOFTMAX and log-softmax (oneDNN
// softmax_v2 along the axis, then the activation), and the broadcast copy
// GEMM uses for C. The comparisons are mtia_compute_select.cc's.
#include <algorithm>
#include <cmath>

#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;
using Desc = mtia_tensor_desc;

// ---- ACT -------------------------------------------------------------------------

// Acts the ACT op computes with a loop (Act::apply) rather than oneDNN.
bool act_by_loop(uint8_t act) { return act == MTIA_ACT_NONE || act == MTIA_ACT_ERF || act == MTIA_ACT_LOG; }

class ActKernel final : public Kernel {
public:
    explicit ActKernel(const mtia_op &op) : act_(op)
    {
        if (act_by_loop(op.act)) return;
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
        if (act_by_loop(op.act)) {
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
        const bool commutative = kind_ == MTIA_BINARY_ADD || kind_ == MTIA_BINARY_MUL || kind_ == MTIA_BINARY_MAX ||
                                 kind_ == MTIA_BINARY_MIN;
        // oneDNN: src0 has out's dims (and may be out itself); src1 broadcasts.
        if (!full(op.in[0], op.out) && commutative && full(op.in[1], op.out)) swap_ = true;
        const Desc &s0 = op.in[swap_ ? 1 : 0], &s1 = op.in[swap_ ? 0 : 1];
        if (!full(s0, op.out) || kind_ == MTIA_BINARY_POW) return;  // loop
        static const dnnl::algorithm algs[] = {dnnl::algorithm::binary_add, dnnl::algorithm::binary_sub,
                                               dnnl::algorithm::binary_mul, dnnl::algorithm::binary_div,
                                               dnnl::algorithm::undef,      dnnl::algorithm::binary_max,
                                               dnnl::algorithm::binary_min};
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
                case MTIA_BINARY_DIV:
                    for (uint64_t i = 0; i < n; i++) py[i] = pa[i * in[0]] / pb[i * in[1]];
                    break;
                case MTIA_BINARY_POW:
                    for (uint64_t i = 0; i < n; i++) py[i] = std::pow(pa[i * in[0]], pb[i * in[1]]);
                    break;
                case MTIA_BINARY_MAX:
                    for (uint64_t i = 0; i < n; i++) py[i] = std::max(pa[i * in[0]], pb[i * in[1]]);
                    break;
                default:
                    for (uint64_t i = 0; i < n; i++) py[i] = std::min(pa[i * in[0]], pb[i * in[1]]);
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
        const dnnl::algorithm alg =
            op.attrs[MTIA_SOFTMAX_LOG] ? dnnl::algorithm::softmax_log : dnnl::algorithm::softmax_accurate;
        const dnnl::softmax_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, md, md,
                                               static_cast<int>(op.attrs[MTIA_SOFTMAX_AXIS]));
        pd_ = dnnl::softmax_v2_forward::primitive_desc(d, make_attr(), cpu_engine());
        prim_ = dnnl::softmax_v2_forward(pd_);
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
    dnnl::softmax_v2_forward::primitive_desc pd_;
    dnnl::softmax_v2_forward prim_;
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
