// SPDX-License-Identifier: MIT
// CONV: oneDNN convolution (forward inference) with bias and the fused
// activation as a post-op, 2-D or 3-D (the depth attributes used with 5-D
// tensors). The arena holds plain NCHW / MC'hw (NCDHW / MC'dhw) tensors, or
// channels-last or nChw16c X and out (MTIA_OP_F_*_NHWC, _BLK16), which
// oneDNN takes as they are; for plain ones the kernel lets oneDNN pick its
// fastest layouts and reorders through scratch memory when that is what it
// picked (docs/compute.md, "CONV layouts"). With MTIA_OP_F_ACCUM the result
// is added to out's contents by oneDNN's sum post-op (before the
// activation); a reordered out is first reordered in so the sum sees it.
// Dense 3x3 stride-1 convolutions of enough channels run Winograd where the
// host's oneDNN has it (AVX-512), on nChw16c activations, reordered through
// scratch unless stored so (docs/compute.md, "Winograd").
// Large batches run in chunks of images, and an image too large for one
// chunk in chunks of its output channels, polling for an abort between them.
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "mtia_compute_dnnl.h"
#include "mtia_compute_reuse.h"

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;
using tag = dnnl::memory::format_tag;

// Which layouts a convolution asks oneDNN for.
enum class Layout {
    kPlain,    // NCHW in and out, plain weights: no reorders
    kBlocked,  // whatever oneDNN prefers for all three (nChw16c, OIhw16i16o...)
    kNhwc,     // channels-last activations, weights as preferred
};

// Measured with build/bin/compute_bench (docs/compute.md): oneDNN's own
// layouts (brgconv on channels-last activations, blocked weights) win
// everywhere except on tiny images (ResNet's 7x7 stage at batch 1-3), where
// reordering the activations costs more than the plain GEMM-based
// convolution loses.
Layout layout_for(const mtia_op &op, uint64_t images)
{
    if (const char *e = std::getenv("MTIA_CONV_LAYOUT")) {  // benchmarking override
        if (!std::strcmp(e, "plain")) return Layout::kPlain;
        if (!std::strcmp(e, "blocked")) return Layout::kBlocked;
        if (!std::strcmp(e, "nhwc") && op.out.ndim == 4) return Layout::kNhwc;
    }
    uint64_t pixels = images;
    for (unsigned i = 2; i < op.out.ndim; i++) pixels *= op.out.dims[i];
    if (op.attrs[MTIA_CONV_GROUPS] == 1 && pixels < 160) return Layout::kPlain;
    return Layout::kBlocked;
}

// Winograd (oneDNN's F(2x2,3x3) and F(4x4,3x3) on nChw16c activations)
// does 2.25-4x fewer multiplications than the direct convolution. Measured
// with build/bin/compute_bench --benchmark_filter=ConvWinograd (2 threads,
// AVX-512, channels-last tensors, so with the reorders to and from
// nChw16c), time direct/Winograd at batch 1 and 8: 32 channels at 56x56
// 1.02x/1.70x, 64 at 56x56 1.40x/2.17x, 128 at 28x28 1.99x/2.14x, 256 at
// 14x14 1.34x/1.87x, 512 at 7x7 1.00x/1.53x; below 32 channels it loses
// at batch 1 (24: 0.71x). oneDNN takes only RELU or no activation, and
// equal pads of 0 or 1; otherwise the direct convolution runs.
// MTIA_CONV_WINOGRAD=0|1 forces it off, or on wherever oneDNN has it
// (benchmarks and tests); MTIA_CONV_LAYOUT=plain (no reorders) turns it off.
bool wants_winograd(const mtia_op &op)
{
    const uint32_t *a = op.attrs;
    if (op.out.ndim != 4 || a[MTIA_CONV_GROUPS] != 1 || op.in[1].dims[2] != 3 || op.in[1].dims[3] != 3 ||
        a[MTIA_CONV_STRIDE_H] != 1 || a[MTIA_CONV_STRIDE_W] != 1 || a[MTIA_CONV_DIL_H] != 1 || a[MTIA_CONV_DIL_W] != 1)
        return false;
    if (const char *e = std::getenv("MTIA_CONV_LAYOUT"))
        if (!std::strcmp(e, "plain")) return false;
    if (const char *e = std::getenv("MTIA_CONV_WINOGRAD")) return !std::strcmp(e, "1");
    return op.in[1].dims[0] >= 32 && op.in[1].dims[1] >= 32;
}

class ConvKernel final : public Kernel {
public:
    ConvKernel(const mtia_op &op, bool weights_kept) : winograd_ok_(weights_kept)
    {
        const uint64_t chunk = chunk_work();
        const Work w = op_work(op);  // items: output channel planes
        const uint64_t n = op.in[0].dims[0], m = op.out.dims[1];
        const uint64_t img_work = m * w.item_work;  // <= 2^32 * 2^34: fits
        has_bias_ = op.n_in == 3;
        if (img_work > chunk) {
            // One image is more than a chunk: runs of output channels of one
            // group (a groups-1 convolution on that group's input
            // channels), on the arena as it is.
            groups_ = op.attrs[MTIA_CONV_GROUPS];
            const uint64_t mg = m / groups_;
            channels_ = std::max<uint64_t>(1, std::min(mg, chunk / w.item_work));
            // Runs of whole blocks (groups 1, M a multiple of 16): each is an
            // nChw16c tensor of its own.
            if (op.flags & MTIA_OP_F_OUT_BLK16)
                channels_ = std::max<uint64_t>(MTIA_OP_F_BLK, channels_ & ~uint64_t{15});
            layout_ = Layout::kPlain;
            may_reorder_ = false;
            full_ = build(op, 1, channels_);
            if (mg % channels_) tail_ = build(op, 1, mg % channels_);
            return;
        }
        // Chunks of images bound both the work between abort polls and the
        // scratch memory the reordered activations of a chunk take.
        const uint64_t img_bytes = std::max(bytes(op.in[0]), bytes(op.out)) / n;
        uint64_t per = std::min(chunk / img_work, kMaxScratchBytes / img_bytes);
        per = std::max<uint64_t>(1, std::min<uint64_t>(per, n));
        chunk_ = per;
        layout_ = layout_for(op, per);
        // Too big to reorder within the bound: oneDNN on the arena as it is.
        if (img_bytes > kMaxScratchBytes || bytes(op.in[1]) > kMaxScratchBytes) {
            layout_ = Layout::kPlain;
            may_reorder_ = false;
        }
        full_ = build(op, per, 0);
        if (n % per) tail_ = build(op, n % per, 0);
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        if (channels_) return run_channels(op, arena, ex);
        const uint64_t n = op.in[0].dims[0];
        const uint64_t x_img = elems(op.in[0]) / n, y_img = elems(op.out) / n;
        const float *x = ptr(arena, op.in[0]);
        float *y = ptr(arena, op.out);
        const float *b = has_bias_ ? ptr(arena, op.in[2]) : nullptr;
        const Part *weights_for = nullptr;
        std::unique_lock<std::mutex> hold;  // keeps cached weights valid
        const void *w = nullptr;
        for (uint64_t i = 0; i < n; i += chunk_) {
            if (i && ex.stopped()) return false;
            const Part &p = (n - i >= chunk_) ? full_ : tail_;
            if (weights_for != &p) {  // weights in the primitive's layout
                w = weights(p, ptr(arena, op.in[1]), ex, &hold);
                weights_for = &p;
            }
            conv(p, x + i * x_img, w, b, y + i * y_img, ex);
        }
        return true;
    }

private:
    struct Part;

    // Chunks of output channels of one image and one group at a time.
    bool run_channels(const mtia_op &op, uint8_t *arena, Exec &ex)
    {
        const mtia_tensor_desc &xd = op.in[0], &wd = op.in[1], &yd = op.out;
        const uint64_t n = xd.dims[0], mg = yd.dims[1] / groups_, cg = wd.dims[1];
        const uint64_t x_img = elems(xd) / n, y_img = elems(yd) / n;
        const uint64_t x_plane = elems(xd) / (n * xd.dims[1]);
        const uint64_t y_plane = elems(yd) / (n * yd.dims[1]);
        const uint64_t w_filter = elems(wd) / wd.dims[0];  // C/g * kernel
        const float *x = ptr(arena, xd), *w = plain_weights(ptr(arena, wd), ex);
        const float *b = has_bias_ ? ptr(arena, op.in[2]) : nullptr;
        float *y = ptr(arena, yd);
        // A channel's first element: channels-last, one float in; else its plane.
        const uint64_t x_ch = (op.flags & MTIA_OP_F_IN_NHWC) ? 1 : x_plane;
        const uint64_t y_ch = (op.flags & MTIA_OP_F_OUT_NHWC) ? 1 : y_plane;
        bool first = true;
        for (uint64_t i = 0; i < n; i++)
            for (uint64_t g = 0; g < groups_; g++)
                for (uint64_t m0 = 0; m0 < mg; m0 += channels_) {
                    if (!first && ex.stopped()) return false;
                    first = false;
                    const uint64_t m = g * mg + m0;  // first output channel
                    conv(mg - m0 >= channels_ ? full_ : tail_, x + i * x_img + g * cg * x_ch, w + m * w_filter,
                         b ? b + m : nullptr, y + i * y_img + m * y_ch, ex);
                }
        return true;
    }

    // One convolution of @p: input @x, weights @w (in @p's layout), bias @b
    // (or nullptr), output @y; activations reordered through scratch when
    // @p's layouts are not plain.
    static void conv(const Part &p, const float *x, const void *w, const float *b, float *y, Exec &ex)
    {
        void *src = const_cast<float *>(x), *dst = y;
        if (p.src_reorder) {
            void *buf = ex.scratch(Exec::kScratchSrc, p.pd.src_desc().get_size());
            execute(ex, *p.src_reorder, *p.src_reorder_pd,
                    {{DNNL_ARG_FROM, mem(p.src_plain, src)}, {DNNL_ARG_TO, mem(p.pd.src_desc(), buf)}});
            src = buf;
        }
        void *conv_dst = p.dst_reorder ? ex.scratch(Exec::kScratchDst, p.pd.dst_desc().get_size()) : dst;
        if (p.dst_load)  // ACCUM: the sum reads out in the primitive's layout
            execute(ex, *p.dst_load, *p.dst_load_pd,
                    {{DNNL_ARG_FROM, mem(p.dst_plain, dst)}, {DNNL_ARG_TO, mem(p.pd.dst_desc(), conv_dst)}});
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(p.pd.src_desc(), src)},
                                             {DNNL_ARG_WEIGHTS, mem(p.pd.weights_desc(), const_cast<void *>(w))},
                                             {DNNL_ARG_DST, mem(p.pd.dst_desc(), conv_dst)}};
        if (b) args.emplace(DNNL_ARG_BIAS, mem(p.pd.bias_desc(), const_cast<float *>(b)));
        execute(ex, p.conv, p.pd, std::move(args));
        if (p.dst_reorder)
            execute(ex, *p.dst_reorder, *p.dst_reorder_pd,
                    {{DNNL_ARG_FROM, mem(p.pd.dst_desc(), conv_dst)}, {DNNL_ARG_TO, mem(p.dst_plain, dst)}});
    }

    // @w, the plain F32 weights (in the arena, or a widened op's scratch
    // copy of its 16-bit weights, filled here from the arena's).
    static const float *plain_weights(const float *w, Exec &ex)
    {
        if (const Exec::HalfWeights *h = ex.half_weights()) widen(h->src, h->dtype, h->f32, h->n);
        return w;
    }

    // @w (plain) in @p's layout: @w itself if that is plain, else reordered
    // weights reused from earlier runs while the arena's bytes they came
    // from (a widened op's 16-bit weights, Exec::HalfWeights) are unchanged,
    // else reordered into scratch.
    const void *weights(const Part &p, const float *w, Exec &ex, std::unique_lock<std::mutex> *hold)
    {
        if (!p.w_reorder) return plain_weights(w, ex);
        *hold = std::unique_lock<std::mutex>();  // the other part's, if any
        const Exec::HalfWeights *h = ex.half_weights();
        const void *src = h ? static_cast<const void *>(h->src) : w;
        const size_t out = p.pd.weights_desc().get_size(), n = h ? h->n * 2 : p.w_plain.get_size();
        auto derive = [&](const void *from, void *to) {
            if (h) {  // the 16-bit bytes (or the cache's copy of them)
                widen(static_cast<const uint8_t *>(from), h->dtype, h->f32, h->n);
                from = h->f32;
            }
            execute(ex, *p.w_reorder, *p.w_reorder_pd,
                    {{DNNL_ARG_FROM, mem(p.w_plain, const_cast<void *>(from))},
                     {DNNL_ARG_TO, mem(p.pd.weights_desc(), to)}});
        };
        if (DerivedCache *dc = p.caches->for_source(src))
            if (const void *c = dc->get(src, n, out, ex, derive, hold)) return c;
        void *buf = ex.scratch(Exec::kScratchWeights, out);
        derive(src, buf);
        return buf;
    }

    struct Part {
        // Reordered weights per weight tensor (ops of the same shape share
        // this kernel).
        std::unique_ptr<DerivedCaches> caches{new DerivedCaches};
        dnnl::convolution_forward::primitive_desc pd;
        dnnl::convolution_forward conv;
        memory::desc src_plain, w_plain, dst_plain;
        std::unique_ptr<dnnl::reorder::primitive_desc> src_reorder_pd, w_reorder_pd, dst_reorder_pd, dst_load_pd;
        std::unique_ptr<dnnl::reorder> src_reorder, w_reorder, dst_reorder, dst_load;
    };

    static void reorder_if(const memory::desc &from, const memory::desc &to,
                           std::unique_ptr<dnnl::reorder::primitive_desc> *pd, std::unique_ptr<dnnl::reorder> *r)
    {
        if (from == to) return;
        pd->reset(new dnnl::reorder::primitive_desc(cpu_engine(), from, cpu_engine(), to, make_attr()));
        r->reset(new dnnl::reorder(**pd));
    }

    // The convolution of @n images, all output channels (@channels 0) or
    // @channels of one group (as a groups-1 convolution).
    Part build(const mtia_op &op, uint64_t n, uint64_t channels)
    {
        const mtia_tensor_desc &xd = op.in[0], &wd = op.in[1], &yd = op.out;
        const uint32_t *a = op.attrs;
        const memory::dim g = channels ? 1 : a[MTIA_CONV_GROUPS];
        memory::dims x = dims_of(xd), y = dims_of(yd), w = dims_of(wd);
        x[0] = y[0] = static_cast<memory::dim>(n);
        if (channels) {
            x[1] = wd.dims[1];  // the group's input channels
            y[1] = w[0] = static_cast<memory::dim>(channels);
        }
        if (g > 1) {  // (g, M/g, C/g, kernel...)
            w.insert(w.begin(), g);
            w[1] = wd.dims[0] / g;
        }
        Part p;
        // As stored: channels-last and blocked X and out are used as they
        // are (a channel run of a larger tensor's pixels, or whole blocks,
        // when chunked by channels).
        const Storage in_st = storage_of(op, true), out_st = storage_of(op, false);
        p.src_plain = xd.ndim == 4 ? stored_desc(x, in_st, xd.dims[1]) : plain_desc(x);
        p.w_plain = plain_desc(w);
        p.dst_plain = yd.ndim == 4 ? stored_desc(y, out_st, yd.dims[1]) : plain_desc(y);
        memory::desc src_md = p.src_plain, w_md = p.w_plain, dst_md = p.dst_plain;
        if (layout_ == Layout::kBlocked) {
            if (in_st == Storage::kPlain) src_md = any_desc(x);
            w_md = any_desc(w);
            if (out_st == Storage::kPlain) dst_md = any_desc(y);
        } else if (layout_ == Layout::kNhwc) {
            src_md = memory::desc(x, memory::data_type::f32, tag::nhwc);
            dst_md = memory::desc(y, memory::data_type::f32, tag::nhwc);
            w_md = any_desc(w);
        } else if ((in_st != Storage::kPlain || out_st != Storage::kPlain) && !channels) {
            w_md = any_desc(w);  // oneDNN has no fast kernel for channels-last or blocked with plain weights
        }
        const memory::desc b_md = op.n_in == 3 ? plain_desc({y[1]}) : memory::desc();
        memory::dims strides{a[MTIA_CONV_STRIDE_H], a[MTIA_CONV_STRIDE_W]};
        memory::dims dil{a[MTIA_CONV_DIL_H] - 1, a[MTIA_CONV_DIL_W] - 1};
        memory::dims pl{a[MTIA_CONV_PAD_T], a[MTIA_CONV_PAD_L]};
        memory::dims pr{a[MTIA_CONV_PAD_B], a[MTIA_CONV_PAD_R]};
        if (xd.ndim == 5) {  // depth first
            strides.insert(strides.begin(), a[MTIA_CONV_STRIDE_D]);
            dil.insert(dil.begin(), memory::dim{a[MTIA_CONV_DIL_D]} - 1);
            pl.insert(pl.begin(), a[MTIA_CONV_PAD_FRONT]);
            pr.insert(pr.begin(), a[MTIA_CONV_PAD_BACK]);
        }
        const bool accum = op.flags & MTIA_OP_F_ACCUM;
        const dnnl::primitive_attr attr = make_attr(act_post_ops(op, accum));
        const auto make_pd = [&](dnnl::algorithm alg, const memory::desc &s, const memory::desc &wt,
                                 const memory::desc &dst) {
            const dnnl::convolution_forward::desc d(dnnl::prop_kind::forward_inference, alg, s, wt, b_md, dst, strides,
                                                    dil, pl, pr);
            return dnnl::convolution_forward::primitive_desc(d, attr, cpu_engine());
        };
        if (!(may_reorder_ && winograd_ok_ && wants_winograd(op) && winograd(make_pd, x, w, y, &p.pd))) {
            p.pd = make_pd(dnnl::algorithm::convolution_direct, src_md, w_md, dst_md);
            // Stored layouts oneDNN has only its reference kernel for on
            // this host (nChw16c without AVX-512, or mixed with channels-
            // last): its own layouts instead, reordered through scratch.
            if (may_reorder_ && (in_st == Storage::kBlk16 || out_st == Storage::kBlk16) &&
                std::strncmp(p.pd.impl_info_str(), "ref", 3) == 0)
                p.pd = make_pd(dnnl::algorithm::convolution_direct, any_desc(x), any_desc(w), any_desc(y));
        }
        p.conv = dnnl::convolution_forward(p.pd);
        reorder_if(p.src_plain, p.pd.src_desc(), &p.src_reorder_pd, &p.src_reorder);
        reorder_if(p.w_plain, p.pd.weights_desc(), &p.w_reorder_pd, &p.w_reorder);
        reorder_if(p.pd.dst_desc(), p.dst_plain, &p.dst_reorder_pd, &p.dst_reorder);
        if (accum) reorder_if(p.dst_plain, p.pd.dst_desc(), &p.dst_load_pd, &p.dst_load);
        return p;
    }

    // Winograd in oneDNN's layouts (@x, @w, @y dims) into @pd, unless the
    // host has no such kernel or it needs more scratchpad than a chunk may.
    template <typename MakePd>
    static bool winograd(const MakePd &make_pd, const memory::dims &x, const memory::dims &w, const memory::dims &y,
                         dnnl::convolution_forward::primitive_desc *pd)
    {
        try {
            *pd = make_pd(dnnl::algorithm::convolution_winograd, any_desc(x), any_desc(w), any_desc(y));
        } catch (const dnnl::error &) {
            return false;
        }
        return pd->scratchpad_desc().get_size() <= kMaxScratchBytes &&
               pd->weights_desc().get_size() <= kMaxScratchBytes;
    }

    Layout layout_ = Layout::kBlocked;
    // Winograd's weight transform costs many runs of the layer (512 channels
    // 3x3: 22 ms against 0.8), so it is worth it only on weights kept
    // transformed between runs.
    const bool winograd_ok_;
    bool may_reorder_ = true;  // activations and weights fit in scratch
    uint64_t chunk_ = 1;       // images per chunk
    uint64_t channels_ = 0;    // output channels per chunk, 0: all
    uint64_t groups_ = 1;      // with channels_
    bool has_bias_ = false;
    Part full_, tail_;
};

}  // namespace

std::unique_ptr<Kernel> make_conv(const mtia_op &op, bool weights_kept)
{
    return std::make_unique<ConvKernel>(op, weights_kept);
}

}  // namespace compute
}  // namespace mtia
