// SPDX-License-Identifier: MIT
// POOL: oneDNN pooling_v2 (max with dilation, average with or without the
// padding in the divisor) on plain NCHW, asymmetric pads, the activation
// as a post-op (or a separate in-place pass where oneDNN cannot fuse it).
// Large batches run in chunks of images.
#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;

class PoolKernel final : public Kernel {
public:
    explicit PoolKernel(const mtia_op &op) {
        const Work w = op_work(op);
        const uint64_t n = op.in[0].dims[0];
        chunk_ = std::max<uint64_t>(1, std::min<uint64_t>(n, kChunkWork / w.item_work));
        full_ = build(op, chunk_);
        if (n % chunk_) tail_ = build(op, n % chunk_);
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override {
        const uint64_t n = op.in[0].dims[0];
        const uint64_t x_img = elems(op.in[0]) / n, y_img = elems(op.out) / n;
        const float *x = ptr(arena, op.in[0]);
        float *y = ptr(arena, op.out);
        for (uint64_t i = 0; i < n; i += chunk_) {
            if (i && ex.stopped()) return false;
            const Part &p = (n - i >= chunk_) ? full_ : tail_;
            float *dst = y + i * y_img;
            execute(ex, p.prim, p.pd,
                    {{DNNL_ARG_SRC, mem(p.pd.src_desc(), const_cast<float *>(x + i * x_img))},
                     {DNNL_ARG_DST, mem(p.pd.dst_desc(), dst)}});
            if (p.act) {
                mtia_op a = op;
                a.in[0] = a.out;
                a.out.dims[0] = a.in[0].dims[0] = static_cast<uint32_t>(p.n);
                a.out.offset = a.in[0].offset = op.out.offset + i * y_img * 4;
                p.act->run(a, arena, ex);
            }
        }
        return true;
    }

private:
    struct Part {
        uint64_t n = 0;
        dnnl::pooling_v2_forward::primitive_desc pd;
        dnnl::pooling_v2_forward prim;
        std::unique_ptr<Kernel> act;  // when oneDNN could not fuse it
    };

    static Part build(const mtia_op &op, uint64_t n) {
        const uint32_t *a = op.attrs;
        memory::dims x = dims_of(op.in[0]), y = dims_of(op.out);
        x[0] = y[0] = static_cast<memory::dim>(n);
        const dnnl::algorithm alg =
            a[MTIA_POOL_KIND] == MTIA_POOL_MAX ? dnnl::algorithm::pooling_max
            : a[MTIA_POOL_COUNT_PAD]           ? dnnl::algorithm::pooling_avg_include_padding
                                               : dnnl::algorithm::pooling_avg_exclude_padding;
        const dnnl::pooling_v2_forward::desc d(
            dnnl::prop_kind::forward_inference, alg, plain_desc(x), plain_desc(y),
            {a[MTIA_POOL_STRIDE_H], a[MTIA_POOL_STRIDE_W]}, {a[MTIA_POOL_K_H], a[MTIA_POOL_K_W]},
            {a[MTIA_POOL_DIL_H] - 1, a[MTIA_POOL_DIL_W] - 1}, {a[MTIA_POOL_PAD_T], a[MTIA_POOL_PAD_L]},
            {a[MTIA_POOL_PAD_B], a[MTIA_POOL_PAD_R]});
        Part p;
        p.n = n;
        try {
            p.pd = dnnl::pooling_v2_forward::primitive_desc(d, make_attr(act_post_ops(op)),
                                                             cpu_engine());
        } catch (const dnnl::error &) {
            if (op.act == MTIA_ACT_NONE) throw;
            p.pd = dnnl::pooling_v2_forward::primitive_desc(d, make_attr(), cpu_engine());
            mtia_op act = op;
            act.opcode = MTIA_OP_ACT;
            act.out.dims[0] = static_cast<uint32_t>(n);
            act.in[0] = act.out;
            p.act = make_act(act);
        }
        p.prim = dnnl::pooling_v2_forward(p.pd);
        return p;
    }

    uint64_t chunk_ = 1;
    Part full_, tail_;
};

}  // namespace

std::unique_ptr<Kernel> make_pool(const mtia_op &op) { return std::make_unique<PoolKernel>(op); }

}  // namespace compute
}  // namespace mtia
