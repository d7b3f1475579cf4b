// SPDX-License-Identifier: MIT
// POOL: oneDNN pooling_v2 (max with dilation, average with or without the
// padding in the divisor) on plain NCHW or NCDHW, or channels-last or
// nChw16c X and out (MTIA_OP_F_*_NHWC, _BLK16), asymmetric pads, the
// activation as a post-op (or a separate in-place pass where oneDNN cannot
// fuse it). Large batches run in chunks of images, huge images in chunks of
// channels (of whole blocks when blocked).
#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;

class PoolKernel final : public Kernel {
public:
    // Chunks of whole images, or of channels of one image when an image is
    // more than a chunk's work (items are channel planes).
    explicit PoolKernel(const mtia_op &op)
    {
        const uint64_t chunk = chunk_work();
        const Work w = op_work(op);
        const uint64_t n = op.in[0].dims[0], c = op.in[0].dims[1];
        const uint64_t img_work = c * w.item_work;
        if (img_work > chunk) {
            images_ = 1;
            channels_ = std::max<uint64_t>(1, std::min(c, chunk / w.item_work));
            // Runs of whole blocks (C is a multiple of 16 then): each is
            // an nChw16c tensor of its own.
            if (op.flags & MTIA_OP_F_BLK16) channels_ = std::max<uint64_t>(MTIA_OP_F_BLK, channels_ & ~uint64_t{15});
        } else {
            images_ = std::max<uint64_t>(1, std::min<uint64_t>(n, chunk / img_work));
            channels_ = c;
        }
        full_ = build(op, images_, channels_);
        if (channels_ < c && c % channels_) tail_ = build(op, 1, c % channels_);
        if (channels_ == c && n % images_) tail_ = build(op, n % images_, c);
        if (full_.unfused) {  // the activation over each run of whole images
            act_full_ = act_over(op, images_);
            if (n % images_) act_tail_ = act_over(op, n % images_);
        }
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const uint64_t n = op.in[0].dims[0], c = op.in[0].dims[1];
        const uint64_t x_plane = elems(op.in[0]) / (n * c), y_plane = elems(op.out) / (n * c);
        // A channel's first element within an image: channels-last, one
        // float in; else (plain, or the first of a block) its plane.
        const uint64_t x_ch = (op.flags & MTIA_OP_F_IN_NHWC) ? 1 : x_plane;
        const uint64_t y_ch = (op.flags & MTIA_OP_F_OUT_NHWC) ? 1 : y_plane;
        const float *x = ptr(arena, op.in[0]);
        float *y = ptr(arena, op.out);
        bool first = true;
        for (uint64_t i = 0; i < n; i += images_) {
            for (uint64_t c0 = 0; c0 < c; c0 += channels_) {
                if (!first && ex.stopped()) return false;
                first = false;
                const bool full = n - i >= images_ && c - c0 >= channels_;
                const Part &p = full ? full_ : tail_;
                execute(ex, p.prim, p.pd,
                        {{DNNL_ARG_SRC, mem(p.pd.src_desc(), const_cast<float *>(x + i * c * x_plane + c0 * x_ch))},
                         {DNNL_ARG_DST, mem(p.pd.dst_desc(), y + i * c * y_plane + c0 * y_ch)}});
            }
            // The unfused activation over the images done, in place: whole
            // images are contiguous in either layout.
            if (full_.unfused) {
                const bool whole = n - i >= images_;
                mtia_op a = act_op(op, whole ? images_ : n - i);
                a.out.offset = a.in[0].offset = op.out.offset + i * c * y_plane * 4;
                (whole ? act_full_ : act_tail_)->run(a, arena, ex);
            }
        }
        return true;
    }

private:
    struct Part {
        dnnl::pooling_v2_forward::primitive_desc pd;
        dnnl::pooling_v2_forward prim;
        bool unfused = false;  // oneDNN could not fuse the activation
    };

    // The activation of @op as an ACT over the output of @images whole
    // images, flat (offsets set by the caller).
    static mtia_op act_op(const mtia_op &op, uint64_t images)
    {
        mtia_op a = op;
        a.opcode = MTIA_OP_ACT;
        a.flags = 0;
        a.n_in = 1;
        a.out.ndim = 1;
        a.out.dims[0] = static_cast<uint32_t>(elems(op.out) / op.out.dims[0] * images);
        for (unsigned d = 1; d < MTIA_MAX_DIMS; d++) a.out.dims[d] = 0;
        a.in[0] = a.out;
        return a;
    }
    static std::unique_ptr<Kernel> act_over(const mtia_op &op, uint64_t images) { return make_act(act_op(op, images)); }

    static Part build(const mtia_op &op, uint64_t n, uint64_t c)
    {
        const uint32_t *a = op.attrs;
        memory::dims x = dims_of(op.in[0]), y = dims_of(op.out);
        x[0] = y[0] = static_cast<memory::dim>(n);
        x[1] = y[1] = static_cast<memory::dim>(c);
        const auto stored = [&](const memory::dims &d, Storage st) {
            return d.size() == 4 ? stored_desc(d, st, op.in[0].dims[1]) : plain_desc(d);
        };
        // A 1x1 plain out is the same bytes as a channels-last one, and as a
        // blocked one (a blocked X's runs of channels are whole blocks):
        // described as X is, oneDNN's jit kernel takes it where mixed layouts
        // fell to its reference one (resnet18's global pool: 0.26 ms against
        // 0.01).
        const Storage in_st = storage_of(op, true);
        Storage out_st = storage_of(op, false);
        if (out_st == Storage::kPlain && y.size() == 4 && y[2] == 1 && y[3] == 1) out_st = in_st;
        const dnnl::algorithm alg = a[MTIA_POOL_KIND] == MTIA_POOL_MAX ? dnnl::algorithm::pooling_max
                                    : a[MTIA_POOL_COUNT_PAD]           ? dnnl::algorithm::pooling_avg_include_padding
                                                                       : dnnl::algorithm::pooling_avg_exclude_padding;
        memory::dims strides{a[MTIA_POOL_STRIDE_H], a[MTIA_POOL_STRIDE_W]}, k{a[MTIA_POOL_K_H], a[MTIA_POOL_K_W]};
        memory::dims dil{a[MTIA_POOL_DIL_H] - 1, a[MTIA_POOL_DIL_W] - 1};
        memory::dims pl{a[MTIA_POOL_PAD_T], a[MTIA_POOL_PAD_L]}, pr{a[MTIA_POOL_PAD_B], a[MTIA_POOL_PAD_R]};
        if (x.size() == 5) {  // depth first
            strides.insert(strides.begin(), a[MTIA_POOL_STRIDE_D]);
            k.insert(k.begin(), a[MTIA_POOL_K_D]);
            dil.insert(dil.begin(), memory::dim{a[MTIA_POOL_DIL_D]} - 1);
            pl.insert(pl.begin(), a[MTIA_POOL_PAD_D] & 0xffffu);
            pr.insert(pr.begin(), a[MTIA_POOL_PAD_D] >> 16);
        }
        const dnnl::pooling_v2_forward::desc d(dnnl::prop_kind::forward_inference, alg, stored(x, in_st),
                                               stored(y, out_st), strides, k, dil, pl, pr);
        Part p;
        try {
            p.pd = dnnl::pooling_v2_forward::primitive_desc(d, make_attr(act_post_ops(op)), cpu_engine());
        } catch (const dnnl::error &) {
            if (op.act == MTIA_ACT_NONE) throw;
            p.pd = dnnl::pooling_v2_forward::primitive_desc(d, make_attr(), cpu_engine());
            p.unfused = true;
        }
        p.prim = dnnl::pooling_v2_forward(p.pd);
        return p;
    }

    uint64_t images_ = 1, channels_ = 1;  // per chunk
    Part full_, tail_;
    std::unique_ptr<Kernel> act_full_, act_tail_;  // when full_.unfused
};

}  // namespace

std::unique_ptr<Kernel> make_pool(const mtia_op &op) { return std::make_unique<PoolKernel>(op); }

}  // namespace compute
}  // namespace mtia
