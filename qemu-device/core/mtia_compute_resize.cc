// SPDX-License-Identifier: MIT
// RESIZE: ONNX Resize/Upsample of the trailing 1..3 dims (the definition
// is mtia_spec.h's, after ONNX's reference implementation). Each resized
// dim gets a table of taps per output coordinate (input index, weight),
// computed in double at run time into scratch (O(sum of the out dims):
// nothing large is kept in the cached kernel); the output is the separable
// weighted sum, last dim innermost, in double, and NEAREST a gather copy.
// Output rows are the items: the abort is polled between chunks of them.
//
// oneDNN's nearest resampling (index round((x + .5) * n / m - .5), in
// float) does the copy instead, threaded, where it picks the same element
// as the op for every output coordinate (checked when the kernel is built):
// a copy is the same bits on every host. Its linear mode computes weights
// in float and accumulates with the ISA's FMA, so LINEAR and CUBIC are
// always the loop, whose arithmetic is compiled without contraction: the
// same result on every host ISA.
#include <algorithm>
#include <cmath>

#include "mtia_compute_dnnl.h"

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;

constexpr unsigned kDims = MTIA_RESIZE_MAX_SPATIAL;

// One resized dim: in size n, out size m, scale s, resized length L.
struct Axis {
    int64_t n = 1, m = 1;
    double s = 1, len = 1;
};

unsigned taps_of(uint32_t mode) { return mode == MTIA_RESIZE_NEAREST ? 1 : mode == MTIA_RESIZE_LINEAR ? 2 : 4; }

Axis axis(const mtia_op &op, unsigned i)
{
    const unsigned lead = op.out.ndim - op.attrs[MTIA_RESIZE_SPATIAL];
    Axis a;
    a.n = op.in[0].dims[lead + i];
    a.m = op.out.dims[lead + i];
    if (const uint32_t bits = op.attrs[MTIA_RESIZE_SCALE + i]) {
        const float s = f32(bits);
        a.s = s;
        a.len = static_cast<float>(a.n) * s;  // an f32 product, as ONNX's reference
    } else {
        a.s = double(a.m) / double(a.n);
        a.len = double(a.m);
    }
    return a;
}

// Input coordinate X of output coordinate x, clamped to [-4, n + 4]: past
// that every tap is outside, as it is at the bound.
double source(const Axis &a, uint32_t coord, int64_t x)
{
    double X;
    switch (coord) {
        case MTIA_RESIZE_HALF_PIXEL:
            X = (double(x) + 0.5) / a.s - 0.5;
            break;
        case MTIA_RESIZE_PYTORCH_HALF_PIXEL:
            X = a.len == 1 ? -0.5 : (double(x) + 0.5) / a.s - 0.5;
            break;
        case MTIA_RESIZE_ALIGN_CORNERS:  // x < 2^24, n < 2^32: the product is exact
            X = a.len == 1 ? 0.0 : double(x * (a.n - 1)) / (a.len - 1);
            break;
        case MTIA_RESIZE_ASYMMETRIC:
            X = double(x) / a.s;
            break;
        default:  // TF_HALF_PIXEL_FOR_NN
            X = (double(x) + 0.5) / a.s;
            break;
    }
    return std::clamp(X, -4.0, double(a.n) + 4);
}

// ONNX's cubic coefficients for taps f-1..f+2 at r = X - f in (0, 1].
void cubic(double r, double A, double c[4])
{
    const double r1 = r + 1, q = 1 - r, q1 = q + 1;
    c[0] = ((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A;
    c[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
    c[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
    c[3] = ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A;
}

// The taps of output coordinate x of one resized dim: input indices
// (clamped to [0, n)) and weights.
void taps(const mtia_op &op, const Axis &a, int64_t x, uint32_t *idx, double *w)
{
    const uint32_t *at = op.attrs;
    const double X = source(a, at[MTIA_RESIZE_COORD], x), fl = std::floor(X);
    const bool integral = fl == X;
    const int64_t f = static_cast<int64_t>(fl) - (integral ? 1 : 0);  // r in (0, 1]
    const double r = integral ? 1.0 : X - fl;
    auto clamp = [&](int64_t i) { return static_cast<uint32_t>(std::clamp<int64_t>(i, 0, a.n - 1)); };
    switch (at[MTIA_RESIZE_MODE]) {
        case MTIA_RESIZE_NEAREST: {
            bool up = integral;
            switch (at[MTIA_RESIZE_NEAREST_MODE]) {
                case MTIA_RESIZE_ROUND_PREFER_FLOOR:
                    up = up || r > 0.5;
                    break;
                case MTIA_RESIZE_ROUND_PREFER_CEIL:
                    up = up || r >= 0.5;
                    break;
                case MTIA_RESIZE_CEIL:
                    up = true;
                    break;
                default:  // FLOOR
                    break;
            }
            idx[0] = clamp(f + (up ? 1 : 0));
            w[0] = 1;
            return;
        }
        case MTIA_RESIZE_LINEAR:
        case MTIA_RESIZE_CUBIC: {
            const bool lin = at[MTIA_RESIZE_MODE] == MTIA_RESIZE_LINEAR;
            const unsigned n = lin ? 2 : 4;
            const int64_t first = lin ? f : f - 1;
            double c[4] = {1 - r, r, 0, 0};
            if (!lin) cubic(r, f32(at[MTIA_RESIZE_CUBIC_A]), c);
            double sum = 0;
            for (unsigned k = 0; k < n; k++) {
                const int64_t i = first + k;
                if (at[MTIA_RESIZE_EXCLUDE_OUTSIDE] && (i < 0 || i >= a.n)) c[k] = 0;
                sum += c[k];
            }
            for (unsigned k = 0; k < n; k++) {
                idx[k] = clamp(first + k);
                w[k] = at[MTIA_RESIZE_EXCLUDE_OUTSIDE] ? c[k] / sum : c[k];
            }
            return;
        }
    }
}

// oneDNN's nearest index (resampling_utils::nearest_idx), in its float arithmetic.
int64_t dnnl_nearest(int64_t x, int64_t m, int64_t n)
{
    return static_cast<int64_t>(
        std::roundf((static_cast<float>(x) + 0.5f) * static_cast<float>(n) / static_cast<float>(m) - 0.5f));
}

class ResizeKernel final : public Kernel {
public:
    explicit ResizeKernel(const mtia_op &op)
    {
        const unsigned sp = sp_ = op.attrs[MTIA_RESIZE_SPATIAL];
        mode_ = op.attrs[MTIA_RESIZE_MODE];
        // Three resized dims (depth, height, width); missing ones are 1 with
        // one tap of weight 1 (exact: 1 * v == v).
        for (unsigned i = 0; i < sp; i++) axes_[kDims - sp + i] = axis(op, i);
        in_plane_ = out_plane_ = 1;
        for (const Axis &a : axes_) {
            in_plane_ *= a.n;
            out_plane_ *= a.m;
        }
        planes_ = elems(op.out) / out_plane_;
        const uint64_t t = taps_of(mode_), row_work = axes_[2].m * t * (sp > 1 ? t : 1) * (sp > 2 ? t : 1);
        rows_per_chunk_ = std::max<uint64_t>(1, chunk_work() / row_work);
        if (mode_ == MTIA_RESIZE_NEAREST && out_plane_ <= chunk_work() && dnnl_matches(op)) {
            per_ = std::max<uint64_t>(1, std::min(planes_, chunk_work() / out_plane_));
            try {
                full_ = build(per_);
                if (planes_ % per_) tail_ = build(planes_ % per_);
                dnnl_ = true;
            } catch (const dnnl::error &) {
                dnnl_ = false;
            }
        }
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        return dnnl_ ? run_dnnl(op, arena, ex) : run_loop(op, arena, ex);
    }

private:
    struct Part {
        dnnl::resampling_forward::primitive_desc pd;
        dnnl::resampling_forward prim;
    };

    // Whether oneDNN's nearest index equals the op's at every coordinate.
    bool dnnl_matches(const mtia_op &op) const
    {
        for (unsigned d = kDims - sp_; d < kDims; d++) {
            const Axis &a = axes_[d];
            for (int64_t x = 0; x < a.m; x++) {
                uint32_t i;
                double w;
                taps(op, a, x, &i, &w);
                if (int64_t{i} != dnnl_nearest(x, a.m, a.n)) return false;
            }
        }
        return true;
    }

    Part build(uint64_t planes) const
    {
        memory::dims xs = {1, static_cast<memory::dim>(planes)}, ys = xs;
        for (unsigned i = kDims - sp_; i < kDims; i++) {
            xs.push_back(axes_[i].n);
            ys.push_back(axes_[i].m);
        }
        dnnl::resampling_forward::desc d(dnnl::prop_kind::forward_inference, dnnl::algorithm::resampling_nearest, {},
                                         plain_desc(xs), plain_desc(ys));
        Part p;
        p.pd = dnnl::resampling_forward::primitive_desc(d, make_attr(), cpu_engine());
        p.prim = dnnl::resampling_forward(p.pd);
        return p;
    }

    bool run_dnnl(const mtia_op &op, uint8_t *arena, Exec &ex)
    {
        const float *x = ptr(arena, op.in[0]);
        float *y = ptr(arena, op.out);
        for (uint64_t p = 0; p < planes_; p += per_) {
            if (p && ex.stopped()) return false;
            const Part &pt = planes_ - p >= per_ ? full_ : tail_;
            execute(ex, pt.prim, pt.pd,
                    {{DNNL_ARG_SRC, mem(pt.pd.src_desc(), const_cast<float *>(x + p * in_plane_))},
                     {DNNL_ARG_DST, mem(pt.pd.dst_desc(), y + p * out_plane_)}});
        }
        return true;
    }

    bool run_loop(const mtia_op &op, uint8_t *arena, Exec &ex)
    {
        // Tables: per dim, per output coordinate, T taps (1 for a missing dim).
        const unsigned sp = sp_;
        unsigned tn[kDims];
        uint64_t off[kDims + 1] = {0};
        for (unsigned d = 0; d < kDims; d++) {
            tn[d] = d + sp >= kDims ? taps_of(mode_) : 1;
            off[d + 1] = off[d] + uint64_t(axes_[d].m) * tn[d];
        }
        const uint64_t total = off[kDims];  // <= MTIA_RESIZE_MAX_TAPS + 2
        auto *wt = reinterpret_cast<double *>(ex.scratch(Exec::kScratchWeights, total * 12));
        auto *ix = reinterpret_cast<uint32_t *>(wt + total);
        for (unsigned d = 0; d < kDims; d++) {
            for (int64_t c = 0; c < axes_[d].m; c++) {
                uint32_t *i = ix + off[d] + c * tn[d];
                double *w = wt + off[d] + c * tn[d];
                if (d + sp >= kDims) {
                    taps(op, axes_[d], c, i, w);
                } else {
                    i[0] = 0;
                    w[0] = 1;
                }
            }
        }
        const float *x = ptr(arena, op.in[0]);
        float *y = ptr(arena, op.out);
        const uint64_t nh = axes_[1].n, nw = axes_[2].n, mh = axes_[1].m, md = axes_[0].m, mw = axes_[2].m;
        const uint64_t rows = planes_ * md * mh;
        const uint32_t *iw = ix + off[2];
        const double *ww = wt + off[2];
        for (uint64_t r = 0; r < rows; r++) {
            if (r && r % rows_per_chunk_ == 0 && ex.stopped()) return false;
            const uint64_t oh = r % mh, od = (r / mh) % md, p = r / (mh * md);
            const float *plane = x + p * in_plane_;
            float *out = y + r * mw;
            const uint32_t *id = ix + off[0] + od * tn[0], *ih = ix + off[1] + oh * tn[1];
            if (mode_ == MTIA_RESIZE_NEAREST) {
                const float *row = plane + (uint64_t{id[0]} * nh + ih[0]) * nw;
                for (uint64_t o = 0; o < mw; o++) out[o] = row[iw[o]];
                continue;
            }
            const double *wd = wt + off[0] + od * tn[0], *wh = wt + off[1] + oh * tn[1];
            const float *rowp[4][4];
            for (unsigned a = 0; a < tn[0]; a++)
                for (unsigned b = 0; b < tn[1]; b++) rowp[a][b] = plane + (uint64_t{id[a]} * nh + ih[b]) * nw;
            const unsigned t = tn[2];
            for (uint64_t o = 0; o < mw; o++) {
                const uint32_t *i = iw + o * t;
                const double *w = ww + o * t;
                double acc = 0;
                for (unsigned a = 0; a < tn[0]; a++) {
                    double acc_h = 0;
                    for (unsigned b = 0; b < tn[1]; b++) {
                        const float *row = rowp[a][b];
                        double acc_w = w[0] * double(row[i[0]]);
                        for (unsigned k = 1; k < t; k++) acc_w += w[k] * double(row[i[k]]);
                        acc_h = b ? acc_h + wh[b] * acc_w : wh[b] * acc_w;
                    }
                    acc = a ? acc + wd[a] * acc_h : wd[a] * acc_h;
                }
                out[o] = static_cast<float>(acc);
            }
        }
        return true;
    }

    uint32_t mode_ = MTIA_RESIZE_NEAREST;
    unsigned sp_ = 1;
    Axis axes_[kDims];
    uint64_t in_plane_ = 1, out_plane_ = 1, planes_ = 1, rows_per_chunk_ = 1, per_ = 1;
    bool dnnl_ = false;
    Part full_, tail_;
};

}  // namespace

std::unique_ptr<Kernel> make_resize(const mtia_op &op) { return std::make_unique<ResizeKernel>(op); }

}  // namespace compute
}  // namespace mtia
