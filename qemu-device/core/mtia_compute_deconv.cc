// SPDX-License-Identifier: MIT
// CONV_TRANSPOSE: oneDNN deconvolution (forward inference), 2-D or 3-D,
// with bias and the fused activation as a post-op. The arena's weights are
// ONNX's (C, M/groups, k...) layout, described to oneDNN through strides
// and reordered into the primitive's layout in scratch on each run; the
// output padding is a right padding smaller by that much. Where oneDNN 2.6
// refuses the shape (an output padding past the full result: a negative
// right padding larger than it accepts) a direct loop scatters each input
// element through the kernel instead. Batches run in chunks of images,
// polling for an abort between them.
#include <algorithm>

#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;

// Spatial parameters of a CONV/CONV_TRANSPOSE op, depth first when 5-D.
struct Spatial {
    memory::dims strides, dil, pl, pr;
};

Spatial spatial(const mtia_op &op)
{
    const uint32_t *a = op.attrs;
    Spatial s{{a[MTIA_CONV_STRIDE_H], a[MTIA_CONV_STRIDE_W]},
              {a[MTIA_CONV_DIL_H] - 1, a[MTIA_CONV_DIL_W] - 1},
              {a[MTIA_CONV_PAD_T], a[MTIA_CONV_PAD_L]},
              {a[MTIA_CONV_PAD_B], a[MTIA_CONV_PAD_R]}};
    if (op.out.ndim == 5) {
        s.strides.insert(s.strides.begin(), a[MTIA_CONV_STRIDE_D]);
        s.dil.insert(s.dil.begin(), memory::dim{a[MTIA_CONV_DIL_D]} - 1);
        s.pl.insert(s.pl.begin(), a[MTIA_CONV_PAD_FRONT]);
        s.pr.insert(s.pr.begin(), a[MTIA_CONV_PAD_BACK]);
    }
    return s;
}

class DeconvKernel final : public Kernel {
public:
    explicit DeconvKernel(const mtia_op &op) : act_(op)
    {
        const Work w = op_work(op);  // items: images
        const uint64_t n = op.in[0].dims[0];
        per_ = std::max<uint64_t>(1, std::min<uint64_t>(n, chunk_work() / std::max<uint64_t>(1, w.item_work)));
        try {
            full_ = build(op, per_);
            if (n % per_) tail_ = build(op, n % per_);
        } catch (const dnnl::error &) {
            direct_ = true;
        }
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const uint64_t n = op.in[0].dims[0];
        const uint64_t x_img = elems(op.in[0]) / n, y_img = elems(op.out) / n;
        const float *x = ptr(arena, op.in[0]);
        float *y = ptr(arena, op.out);
        const float *b = op.n_in == 3 ? ptr(arena, op.in[2]) : nullptr;
        if (direct_) {
            for (uint64_t i = 0; i < n; i++) {
                if (i && ex.stopped()) return false;
                direct(op, x + i * x_img, ptr(arena, op.in[1]), b, y + i * y_img);
            }
            return true;
        }
        const Part *weights_for = nullptr;
        void *w = nullptr;
        for (uint64_t i = 0; i < n; i += per_) {
            if (i && ex.stopped()) return false;
            const Part &p = n - i >= per_ ? full_ : tail_;
            if (weights_for != &p) {  // the weights in the part's layout
                w = ex.scratch(Exec::kScratchWeights, p.pd.weights_desc().get_size());
                execute(
                    ex, p.w_reorder, p.w_reorder_pd,
                    {{DNNL_ARG_FROM, mem(p.w_onnx, ptr(arena, op.in[1]))}, {DNNL_ARG_TO, mem(p.pd.weights_desc(), w)}});
                weights_for = &p;
            }
            std::unordered_map<int, memory> args{
                {DNNL_ARG_SRC, mem(p.pd.src_desc(), const_cast<float *>(x + i * x_img))},
                {DNNL_ARG_WEIGHTS, mem(p.pd.weights_desc(), w)},
                {DNNL_ARG_DST, mem(p.pd.dst_desc(), y + i * y_img)}};
            if (b) args.emplace(DNNL_ARG_BIAS, mem(p.pd.bias_desc(), const_cast<float *>(b)));
            execute(ex, p.prim, p.pd, std::move(args));
        }
        return true;
    }

private:
    // One image: out = bias, plus every input element times the kernel at
    // its strided, dilated, padded position; then the activation.
    void direct(const mtia_op &op, const float *x, const float *w, const float *b, float *y) const
    {
        const mtia_tensor_desc &xd = op.in[0], &wd = op.in[1], &yd = op.out;
        const unsigned nsp = yd.ndim - 2;
        const Spatial sp = spatial(op);
        const uint64_t c = xd.dims[1], m = yd.dims[1], mg = wd.dims[1], cg = c / op.attrs[MTIA_CONV_GROUPS];
        uint64_t xp = 1, kp = 1, yp = 1;
        for (unsigned i = 0; i < nsp; i++) {
            xp *= xd.dims[2 + i];
            kp *= wd.dims[2 + i];
            yp *= yd.dims[2 + i];
        }
        for (uint64_t o = 0; o < m; o++) std::fill(y + o * yp, y + (o + 1) * yp, b ? b[o] : 0.0f);
        int64_t xc[3], kc[3];
        for (uint64_t xi = 0; xi < xp; xi++) {
            uint64_t rem = xi;  // coordinates of xi
            for (unsigned i = nsp; i-- > 0;) {
                xc[i] = int64_t(rem % xd.dims[2 + i]);
                rem /= xd.dims[2 + i];
            }
            for (uint64_t ki = 0; ki < kp; ki++) {
                uint64_t kr = ki, yi = 0;
                for (unsigned i = nsp; i-- > 0;) {
                    kc[i] = int64_t(kr % wd.dims[2 + i]);
                    kr /= wd.dims[2 + i];
                }
                bool inside = true;
                for (unsigned i = 0; i < nsp && inside; i++) {
                    const int64_t pos = xc[i] * sp.strides[i] + kc[i] * (sp.dil[i] + 1) - sp.pl[i];
                    inside = pos >= 0 && pos < int64_t(yd.dims[2 + i]);
                    yi = yi * yd.dims[2 + i] + uint64_t(pos);
                }
                if (!inside) continue;
                for (uint64_t ci = 0; ci < c; ci++) {
                    const float v = x[ci * xp + xi];
                    const uint64_t g = ci / cg;
                    for (uint64_t j = 0; j < mg; j++) y[(g * mg + j) * yp + yi] += v * w[(ci * mg + j) * kp + ki];
                }
            }
        }
        act_.apply(y, y, m * yp);
    }

    struct Part {
        dnnl::deconvolution_forward::primitive_desc pd;
        dnnl::deconvolution_forward prim;
        memory::desc w_onnx;  // the arena's weights, as oneDNN's logical (g,) o, i, k...
        dnnl::reorder::primitive_desc w_reorder_pd;
        dnnl::reorder w_reorder;
    };

    // The deconvolution of @n images: plain activations, weights as
    // oneDNN prefers them.
    static Part build(const mtia_op &op, uint64_t n)
    {
        const mtia_tensor_desc &xd = op.in[0], &wd = op.in[1], &yd = op.out;
        const memory::dim g = op.attrs[MTIA_CONV_GROUPS];
        const unsigned nsp = yd.ndim - 2;
        memory::dims x = dims_of(xd), y = dims_of(yd);
        x[0] = y[0] = static_cast<memory::dim>(n);
        memory::dim k = 1;  // kernel elements
        for (unsigned i = 0; i < nsp; i++) k *= wd.dims[2 + i];
        const memory::dim ic = xd.dims[1], ocg = wd.dims[1], icg = ic / g;
        // ONNX W[ic][ocg][k...]: logical (o, i, k...) or (g, o/g, i/g, k...).
        memory::dims w{ocg * g, ic}, ws{k, ocg * k};
        if (g > 1) {
            w = {g, ocg, icg};
            ws = {icg * ocg * k, k, ocg * k};
        }
        memory::dim s = 1;
        std::vector<memory::dim> ks(nsp);
        for (unsigned i = nsp; i-- > 0;) {
            ks[i] = s;
            s *= wd.dims[2 + i];
        }
        for (unsigned i = 0; i < nsp; i++) {
            w.push_back(wd.dims[2 + i]);
            ws.push_back(ks[i]);
        }
        Part p;
        p.w_onnx = memory::desc(w, memory::data_type::f32, ws);
        const memory::desc w_any = any_desc(w);
        const memory::desc b_md = op.n_in == 3 ? plain_desc({y[1]}) : memory::desc();
        Spatial sp = spatial(op);
        // The output padding: out = (in-1)*s + dil*(k-1) + 1 - pl - pr + outpad.
        for (unsigned i = 0; i < nsp; i++) {
            const memory::dim kk = wd.dims[2 + i],
                              full = (x[2 + i] - 1) * sp.strides[i] + (sp.dil[i] + 1) * (kk - 1) + 1;
            sp.pr[i] = full - sp.pl[i] - y[2 + i];
        }
        const dnnl::deconvolution_forward::desc d(dnnl::prop_kind::forward_inference,
                                                  dnnl::algorithm::deconvolution_direct, plain_desc(x), w_any, b_md,
                                                  plain_desc(y), sp.strides, sp.dil, sp.pl, sp.pr);
        p.pd = dnnl::deconvolution_forward::primitive_desc(d, make_attr(act_post_ops(op)), cpu_engine());
        p.prim = dnnl::deconvolution_forward(p.pd);
        p.w_reorder_pd =
            dnnl::reorder::primitive_desc(cpu_engine(), p.w_onnx, cpu_engine(), p.pd.weights_desc(), make_attr());
        p.w_reorder = dnnl::reorder(p.w_reorder_pd);
        return p;
    }

    Act act_;
    bool direct_ = false;  // oneDNN refused: the direct loop
    uint64_t per_ = 1;     // images per chunk
    Part full_, tail_;
};

}  // namespace

std::unique_ptr<Kernel> make_conv_transpose(const mtia_op &op) { return std::make_unique<DeconvKernel>(op); }

}  // namespace compute
}  // namespace mtia
