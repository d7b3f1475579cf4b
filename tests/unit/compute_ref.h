// SPDX-License-Identifier: MIT
// Test helpers for the compute engine: building op descriptors over an
// arena, and naive reference implementations of every op (plain loops
// straight from the definitions in mtia_spec.h, in double precision).
#ifndef MTIA_TESTS_COMPUTE_REF_H
#define MTIA_TESTS_COMPUTE_REF_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "mtia/mtia_spec.h"

namespace cref {

using Dims = std::vector<uint32_t>;

inline uint32_t bits(float f)
{
    uint32_t b;
    std::memcpy(&b, &f, 4);
    return b;
}

inline uint64_t count(const Dims &d)
{
    uint64_t n = 1;
    for (uint32_t x : d) n *= x;
    return n;
}

inline mtia_tensor_desc tensor(uint64_t offset, const Dims &d)
{
    mtia_tensor_desc t{};
    t.offset = offset;
    t.dtype = MTIA_DTYPE_F32;
    t.ndim = static_cast<uint8_t>(d.size());
    for (size_t i = 0; i < d.size(); i++) t.dims[i] = d[i];
    return t;
}

inline Dims dims(const mtia_tensor_desc &t) { return Dims(t.dims, t.dims + t.ndim); }

// A float arena with a bump allocator (64-byte aligned tensors).
struct Arena {
    std::vector<float> mem;
    uint64_t used = 0;  // bytes
    explicit Arena(uint64_t bytes = 0) : mem(bytes / 4) {}
    uint8_t *data() { return reinterpret_cast<uint8_t *>(mem.data()); }
    uint64_t size() const { return mem.size() * 4; }
    // Reserves a tensor (growing the arena) and returns its descriptor.
    mtia_tensor_desc alloc(const Dims &d)
    {
        const uint64_t off = (used + 63) & ~uint64_t{63};
        used = off + count(d) * 4;
        if (mem.size() * 4 < used) mem.resize((used + 3) / 4);
        return tensor(off, d);
    }
    // A tensor of any dtype (mtia_dtype_size bytes per element).
    mtia_tensor_desc alloc(const Dims &d, uint8_t dtype)
    {
        mtia_tensor_desc t = alloc(Dims{uint32_t((count(d) * mtia_dtype_size(dtype) + 3) / 4)});
        mtia_tensor_desc r = tensor(t.offset, d);
        r.dtype = dtype;
        return r;
    }
    float *at(const mtia_tensor_desc &t) { return mem.data() + t.offset / 4; }
    std::vector<float> get(const mtia_tensor_desc &t) { return std::vector<float>(at(t), at(t) + count(dims(t))); }
    void set(const mtia_tensor_desc &t, const std::vector<float> &v) { std::copy(v.begin(), v.end(), at(t)); }
    void fill_random(const mtia_tensor_desc &t, std::mt19937 &rng, float lo = -1, float hi = 1)
    {
        std::uniform_real_distribution<float> u(lo, hi);
        float *p = at(t);
        for (uint64_t i = 0; i < count(dims(t)); i++) p[i] = u(rng);
    }
};

inline mtia_op op(uint16_t opcode, std::vector<mtia_tensor_desc> in, mtia_tensor_desc out,
                  std::vector<uint32_t> attrs = {}, uint8_t act = MTIA_ACT_NONE)
{
    mtia_op o{};
    o.opcode = opcode;
    o.n_in = static_cast<uint8_t>(in.size());
    o.act = act;
    for (size_t i = 0; i < in.size(); i++) o.in[i] = in[i];
    o.out = out;
    for (size_t i = 0; i < attrs.size(); i++) o.attrs[i] = attrs[i];
    return o;
}

inline void set_clip(mtia_op &o, float lo, float hi)
{
    o.act = MTIA_ACT_CLIP;
    o.act_min = bits(lo);
    o.act_max = bits(hi);
}

// ---- references --------------------------------------------------------------

inline double act(double x, const mtia_op &o)
{
    float lo, hi;
    std::memcpy(&lo, &o.act_min, 4);
    std::memcpy(&hi, &o.act_max, 4);
    switch (o.act) {
        case MTIA_ACT_RELU:
            return x > 0 ? x : 0;
        case MTIA_ACT_CLIP:
            return std::min<double>(std::max<double>(x, lo), hi);
        case MTIA_ACT_SIGMOID:
            return 1 / (1 + std::exp(-x));
        case MTIA_ACT_TANH:
            return std::tanh(x);
        case MTIA_ACT_EXP:
            return std::exp(x);
        case MTIA_ACT_LOG:
            return std::log(x);
        case MTIA_ACT_SQRT:
            return std::sqrt(x);
        case MTIA_ACT_RECIPROCAL:
            return 1 / x;
        case MTIA_ACT_NEG:
            return -x;
        case MTIA_ACT_ABS:
            return std::fabs(x);
        case MTIA_ACT_GELU_ERF:
            return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
        case MTIA_ACT_GELU_TANH:
            return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
        case MTIA_ACT_ERF:
            return std::erf(x);
        default:
            return x;
    }
}

// Row-major strides of @d.
inline std::vector<uint64_t> strides(const Dims &d)
{
    std::vector<uint64_t> s(d.size());
    uint64_t n = 1;
    for (size_t i = d.size(); i-- > 0;) {
        s[i] = n;
        n *= d[i];
    }
    return s;
}

// Coordinates of flat index @i in @d.
inline std::vector<uint64_t> coords(uint64_t i, const Dims &d)
{
    std::vector<uint64_t> c(d.size());
    for (size_t k = d.size(); k-- > 0;) {
        c[k] = i % d[k];
        i /= d[k];
    }
    return c;
}

// Flat index in @d (broadcast: dims of 1 take coordinate 0) of out coordinates @c.
inline uint64_t bindex(const std::vector<uint64_t> &c, const Dims &d)
{
    uint64_t idx = 0, s = 1;
    for (size_t k = d.size(); k-- > 0;) {
        idx += (d[k] == 1 ? 0 : c[k]) * s;
        s *= d[k];
    }
    return idx;
}

inline std::vector<float> conv(const std::vector<float> &x, const Dims &xd, const std::vector<float> &w, const Dims &wd,
                               const std::vector<float> *b, const Dims &yd, const mtia_op &o)
{
    const uint32_t *a = o.attrs;
    const uint32_t g = a[MTIA_CONV_GROUPS], C = xd[1], H = xd[2], W = xd[3];
    const uint32_t M = wd[0], cg = wd[1], kh = wd[2], kw = wd[3], mg = M / g;
    std::vector<float> y(count(yd));
    for (uint32_t n = 0; n < yd[0]; n++)
        for (uint32_t m = 0; m < M; m++)
            for (uint32_t oh = 0; oh < yd[2]; oh++)
                for (uint32_t ow = 0; ow < yd[3]; ow++) {
                    double s = b ? (*b)[m] : 0.0;
                    const uint32_t grp = m / mg;
                    for (uint32_t c = 0; c < cg; c++)
                        for (uint32_t i = 0; i < kh; i++)
                            for (uint32_t j = 0; j < kw; j++) {
                                const int64_t ih = int64_t(oh) * a[MTIA_CONV_STRIDE_H] - a[MTIA_CONV_PAD_T] +
                                                   int64_t(i) * a[MTIA_CONV_DIL_H];
                                const int64_t iw = int64_t(ow) * a[MTIA_CONV_STRIDE_W] - a[MTIA_CONV_PAD_L] +
                                                   int64_t(j) * a[MTIA_CONV_DIL_W];
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                const uint32_t ci = grp * cg + c;
                                s += double(x[((uint64_t(n) * C + ci) * H + ih) * W + iw]) *
                                     w[((uint64_t(m) * cg + c) * kh + i) * kw + j];
                            }
                    y[((uint64_t(n) * M + m) * yd[2] + oh) * yd[3] + ow] = float(act(s, o));
                }
    return y;
}

inline std::vector<float> gemm(const std::vector<float> &A, const Dims &ad, const std::vector<float> &B, const Dims &bd,
                               const std::vector<float> *C, const Dims &cd, const Dims &yd, const mtia_op &o)
{
    const bool ta = o.attrs[MTIA_GEMM_TRANS_A], tb = o.attrs[MTIA_GEMM_TRANS_B];
    float alpha, beta;
    std::memcpy(&alpha, &o.attrs[MTIA_GEMM_ALPHA], 4);
    std::memcpy(&beta, &o.attrs[MTIA_GEMM_BETA], 4);
    const size_t nd = yd.size();
    const uint64_t M = yd[nd - 2], N = yd[nd - 1];
    const uint64_t K = ad[ad.size() - (ta ? 2 : 1)];
    const uint64_t batch = count(yd) / (M * N);
    std::vector<float> y(count(yd));
    const Dims yb(yd.begin(), yd.end() - 2);  // batch dims; a batched A or B broadcasts over them
    for (uint64_t bt = 0; bt < batch; bt++) {
        const auto bc = coords(bt, yb);
        const float *pa = A.data() + (ad.size() == nd ? bindex(bc, Dims(ad.begin(), ad.end() - 2)) * M * K : 0);
        const float *pb = B.data() + (bd.size() == nd ? bindex(bc, Dims(bd.begin(), bd.end() - 2)) * K * N : 0);
        for (uint64_t i = 0; i < M; i++)
            for (uint64_t j = 0; j < N; j++) {
                double s = 0;
                for (uint64_t k = 0; k < K; k++)
                    s += double(ta ? pa[k * M + i] : pa[i * K + k]) * (tb ? pb[j * K + k] : pb[k * N + j]);
                s *= alpha;
                const uint64_t yi = (bt * M + i) * N + j;
                if (C && beta != 0) s += double(beta) * (*C)[bindex(coords(yi, yd), cd)];
                y[yi] = float(act(s, o));
            }
    }
    return y;
}

inline std::vector<float> binary(const std::vector<float> &a, const Dims &ad, const std::vector<float> &b,
                                 const Dims &bd, const Dims &yd, const mtia_op &o)
{
    std::vector<float> y(count(yd));
    for (uint64_t i = 0; i < y.size(); i++) {
        const auto c = coords(i, yd);
        const double x = a[bindex(c, ad)], z = b[bindex(c, bd)];
        double r;
        switch (o.attrs[MTIA_BINARY_KIND]) {
            case MTIA_BINARY_ADD:
                r = x + z;
                break;
            case MTIA_BINARY_SUB:
                r = x - z;
                break;
            case MTIA_BINARY_MUL:
                r = x * z;
                break;
            default:
                r = float(x) / float(z);
                break;
        }
        y[i] = float(act(r, o));
    }
    return y;
}

inline std::vector<float> pool(const std::vector<float> &x, const Dims &xd, const Dims &yd, const mtia_op &o)
{
    const uint32_t *a = o.attrs;
    const bool mx = a[MTIA_POOL_KIND] == MTIA_POOL_MAX;
    const uint32_t H = xd[2], W = xd[3];
    std::vector<float> y(count(yd));
    for (uint64_t nc = 0; nc < uint64_t(yd[0]) * yd[1]; nc++)
        for (uint32_t oh = 0; oh < yd[2]; oh++)
            for (uint32_t ow = 0; ow < yd[3]; ow++) {
                double s = mx ? -INFINITY : 0;
                uint64_t cnt = 0, total = 0;
                for (uint32_t i = 0; i < a[MTIA_POOL_K_H]; i++)
                    for (uint32_t j = 0; j < a[MTIA_POOL_K_W]; j++) {
                        const int64_t ih =
                            int64_t(oh) * a[MTIA_POOL_STRIDE_H] - a[MTIA_POOL_PAD_T] + int64_t(i) * a[MTIA_POOL_DIL_H];
                        const int64_t iw =
                            int64_t(ow) * a[MTIA_POOL_STRIDE_W] - a[MTIA_POOL_PAD_L] + int64_t(j) * a[MTIA_POOL_DIL_W];
                        // Divisor with padding: window taps inside the padded input.
                        if (ih < int64_t(H) + a[MTIA_POOL_PAD_B] && iw < int64_t(W) + a[MTIA_POOL_PAD_R]) total++;
                        if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                        const double v = x[(nc * H + ih) * W + iw];
                        if (mx)
                            s = std::max(s, v);
                        else
                            s += v;
                        cnt++;
                    }
                if (!mx) s /= double(a[MTIA_POOL_COUNT_PAD] ? total : cnt);
                y[(nc * yd[2] + oh) * yd[3] + ow] = float(act(s, o));
            }
    return y;
}

// 3-D (NCDHW) CONV: depth attrs MTIA_CONV_STRIDE_D.. with the 2-D ones for H, W.
inline std::vector<float> conv3d(const std::vector<float> &x, const Dims &xd, const std::vector<float> &w,
                                 const Dims &wd, const std::vector<float> *b, const Dims &yd, const mtia_op &o)
{
    const uint32_t *a = o.attrs;
    const uint32_t g = a[MTIA_CONV_GROUPS], C = xd[1], D = xd[2], H = xd[3], W = xd[4];
    const uint32_t M = wd[0], cg = wd[1], kd = wd[2], kh = wd[3], kw = wd[4], mg = M / g;
    std::vector<float> y(count(yd));
    uint64_t yi = 0;
    for (uint32_t n = 0; n < yd[0]; n++)
        for (uint32_t m = 0; m < M; m++)
            for (uint32_t od = 0; od < yd[2]; od++)
                for (uint32_t oh = 0; oh < yd[3]; oh++)
                    for (uint32_t ow = 0; ow < yd[4]; ow++) {
                        double s = b ? (*b)[m] : 0.0;
                        for (uint32_t c = 0; c < cg; c++)
                            for (uint32_t i = 0; i < kd; i++)
                                for (uint32_t j = 0; j < kh; j++)
                                    for (uint32_t l = 0; l < kw; l++) {
                                        const int64_t id = int64_t(od) * a[MTIA_CONV_STRIDE_D] -
                                                           a[MTIA_CONV_PAD_FRONT] + int64_t(i) * a[MTIA_CONV_DIL_D];
                                        const int64_t ih = int64_t(oh) * a[MTIA_CONV_STRIDE_H] - a[MTIA_CONV_PAD_T] +
                                                           int64_t(j) * a[MTIA_CONV_DIL_H];
                                        const int64_t iw = int64_t(ow) * a[MTIA_CONV_STRIDE_W] - a[MTIA_CONV_PAD_L] +
                                                           int64_t(l) * a[MTIA_CONV_DIL_W];
                                        if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                        const uint64_t ci = (m / mg) * cg + c;
                                        s += double(x[(((n * C + ci) * D + id) * H + ih) * W + iw]) *
                                             w[(((uint64_t(m) * cg + c) * kd + i) * kh + j) * kw + l];
                                    }
                        y[yi++] = float(act(s, o));
                    }
    return y;
}

// 3-D (NCDHW) POOL: depth attrs MTIA_POOL_K_D.. with the 2-D ones for H, W.
inline std::vector<float> pool3d(const std::vector<float> &x, const Dims &xd, const Dims &yd, const mtia_op &o)
{
    const uint32_t *a = o.attrs;
    const bool mx = a[MTIA_POOL_KIND] == MTIA_POOL_MAX;
    const int64_t D = xd[2], H = xd[3], W = xd[4];
    const int64_t pf = a[MTIA_POOL_PAD_D] & 0xffff, pk = a[MTIA_POOL_PAD_D] >> 16;
    std::vector<float> y(count(yd));
    uint64_t yi = 0;
    for (uint64_t nc = 0; nc < uint64_t(yd[0]) * yd[1]; nc++)
        for (uint32_t od = 0; od < yd[2]; od++)
            for (uint32_t oh = 0; oh < yd[3]; oh++)
                for (uint32_t ow = 0; ow < yd[4]; ow++) {
                    double s = mx ? -INFINITY : 0;
                    uint64_t cnt = 0, total = 0;
                    for (uint32_t i = 0; i < a[MTIA_POOL_K_D]; i++)
                        for (uint32_t j = 0; j < a[MTIA_POOL_K_H]; j++)
                            for (uint32_t l = 0; l < a[MTIA_POOL_K_W]; l++) {
                                const int64_t id =
                                    int64_t(od) * a[MTIA_POOL_STRIDE_D] - pf + int64_t(i) * a[MTIA_POOL_DIL_D];
                                const int64_t ih = int64_t(oh) * a[MTIA_POOL_STRIDE_H] - a[MTIA_POOL_PAD_T] +
                                                   int64_t(j) * a[MTIA_POOL_DIL_H];
                                const int64_t iw = int64_t(ow) * a[MTIA_POOL_STRIDE_W] - a[MTIA_POOL_PAD_L] +
                                                   int64_t(l) * a[MTIA_POOL_DIL_W];
                                if (id < D + pk && ih < H + a[MTIA_POOL_PAD_B] && iw < W + a[MTIA_POOL_PAD_R]) total++;
                                if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                const double v = x[((nc * D + id) * H + ih) * W + iw];
                                s = mx ? std::max(s, v) : s + v;
                                cnt++;
                            }
                    if (!mx) s /= double(a[MTIA_POOL_COUNT_PAD] ? total : cnt);
                    y[yi++] = float(act(s, o));
                }
    return y;
}

// CONV_TRANSPOSE (4-D or 5-D) by scattering every input element through
// the kernel into the full output, then cropping the pads (the output
// padding's extra positions get the bias alone).
inline std::vector<float> conv_transpose(const std::vector<float> &x, const Dims &xd, const std::vector<float> &w,
                                         const Dims &wd, const std::vector<float> *b, const Dims &yd, const mtia_op &o)
{
    const uint32_t *a = o.attrs;
    const size_t nsp = xd.size() - 2;
    std::vector<int64_t> s(nsp), d(nsp), p0(nsp);
    for (size_t i = 0; i < nsp; i++) {
        const bool depth = nsp == 3 && i == 0;
        const size_t hw = i + 2 - nsp;
        s[i] = depth ? a[MTIA_CONV_STRIDE_D] : a[MTIA_CONV_STRIDE_H + hw];
        d[i] = depth ? a[MTIA_CONV_DIL_D] : a[MTIA_CONV_DIL_H + hw];
        p0[i] = depth ? a[MTIA_CONV_PAD_FRONT] : a[MTIA_CONV_PAD_T + hw];
    }
    const uint32_t g = a[MTIA_CONV_GROUPS], C = xd[1], M = yd[1], cg = C / g, mg = wd[1];
    const Dims xs(xd.begin() + 2, xd.end()), ks(wd.begin() + 2, wd.end()), ys(yd.begin() + 2, yd.end());
    const uint64_t xp = count(xs), kp = count(ks), yp = count(ys);
    std::vector<double> acc(count(yd), 0.0);
    for (uint32_t n = 0; n < xd[0]; n++)
        for (uint32_t c = 0; c < C; c++)
            for (uint64_t xi = 0; xi < xp; xi++) {
                const auto xc = coords(xi, xs);
                const double v = x[(uint64_t(n) * C + c) * xp + xi];
                for (uint64_t ki = 0; ki < kp; ki++) {
                    const auto kc = coords(ki, ks);
                    uint64_t yi = 0;
                    bool inside = true;
                    for (size_t i = 0; i < nsp; i++) {
                        const int64_t pos = int64_t(xc[i]) * s[i] + int64_t(kc[i]) * d[i] - p0[i];
                        inside = inside && pos >= 0 && pos < int64_t(ys[i]);
                        yi = yi * ys[i] + uint64_t(std::max<int64_t>(pos, 0));
                    }
                    if (!inside) continue;
                    for (uint32_t m = 0; m < mg; m++) {
                        const uint32_t om = (c / cg) * mg + m;
                        acc[(uint64_t(n) * M + om) * yp + yi] += v * w[(uint64_t(c) * mg + m) * kp + ki];
                    }
                }
            }
    std::vector<float> y(acc.size());
    for (uint64_t i = 0; i < y.size(); i++) y[i] = float(act(acc[i] + (b ? (*b)[(i / yp) % M] : 0.0), o));
    return y;
}

// PAD per ONNX: crop by the negative pads, then pad the cropped input
// (reflect by bouncing off its ends until inside).
inline std::vector<float> pad(const std::vector<float> &x, const Dims &xd, const Dims &yd, const mtia_op &o)
{
    const size_t nd = yd.size();
    const uint32_t mode = o.attrs[MTIA_PAD_MODE];
    const float value = [&] {
        float v;
        std::memcpy(&v, &o.attrs[MTIA_PAD_VALUE], 4);
        return v;
    }();
    std::vector<int64_t> lo(nd), n(nd), before(nd);
    for (size_t i = 0; i < nd; i++) {
        const int64_t b = int32_t(o.attrs[MTIA_PAD_BEGIN + i]), e = int64_t(yd[i]) - xd[i] - b;
        lo[i] = b < 0 ? -b : 0;
        n[i] = int64_t(xd[i]) - lo[i] - (e < 0 ? -e : 0);
        before[i] = b > 0 ? b : 0;
    }
    std::vector<float> y(count(yd));
    for (uint64_t k = 0; k < y.size(); k++) {
        const auto c = coords(k, yd);
        uint64_t src = 0;
        bool constant = false;
        for (size_t i = 0; i < nd; i++) {
            int64_t j = int64_t(c[i]) - before[i];
            if (j < 0 || j >= n[i]) {
                if (mode == MTIA_PAD_CONSTANT) constant = true;
                if (mode == MTIA_PAD_EDGE || n[i] == 1) j = std::min<int64_t>(std::max<int64_t>(j, 0), n[i] - 1);
                while (j < 0 || j >= n[i]) j = j < 0 ? -j : 2 * (n[i] - 1) - j;
            }
            src = src * xd[i] + uint64_t(lo[i] + j);
        }
        y[k] = float(act(constant ? value : x[src], o));
    }
    return y;
}

inline std::vector<float> softmax(const std::vector<float> &x, const Dims &d, const mtia_op &o)
{
    const uint32_t axis = o.attrs[MTIA_SOFTMAX_AXIS];
    const uint64_t inner = strides(d)[axis], n = d[axis], outer = count(d) / (inner * n);
    std::vector<float> y(x.size());
    for (uint64_t a = 0; a < outer; a++)
        for (uint64_t b = 0; b < inner; b++) {
            const uint64_t base = a * n * inner + b;
            double mx = -INFINITY, sum = 0;
            for (uint64_t i = 0; i < n; i++) mx = std::max<double>(mx, x[base + i * inner]);
            for (uint64_t i = 0; i < n; i++) sum += std::exp(double(x[base + i * inner]) - mx);
            for (uint64_t i = 0; i < n; i++) {
                const double v = double(x[base + i * inner]) - mx;
                y[base + i * inner] = float(act(o.attrs[MTIA_SOFTMAX_LOG] ? v - std::log(sum) : std::exp(v) / sum, o));
            }
        }
    return y;
}

inline std::vector<float> transpose(const std::vector<float> &x, const Dims &xd, const Dims &yd, const mtia_op &o)
{
    const auto xs = strides(xd);
    std::vector<float> y(x.size());
    for (uint64_t i = 0; i < y.size(); i++) {
        const auto c = coords(i, yd);
        uint64_t xi = 0;
        for (size_t k = 0; k < yd.size(); k++) xi += c[k] * xs[o.attrs[k]];
        y[i] = float(act(x[xi], o));
    }
    return y;
}

// COPY_INTO: y (prior contents @y0) with @x written at START along AXIS.
inline std::vector<float> copy_into(const std::vector<float> &x, const Dims &xd, std::vector<float> y, const Dims &yd,
                                    const mtia_op &o)
{
    const uint32_t axis = o.attrs[0], start = o.attrs[1];
    const auto ys = strides(yd);
    for (uint64_t i = 0; i < x.size(); i++) {
        auto c = coords(i, xd);
        c[axis] += start;
        uint64_t yi = 0;
        for (size_t k = 0; k < yd.size(); k++) yi += c[k] * ys[k];
        y[yi] = float(act(x[i], o));
    }
    return y;
}

inline std::vector<float> slice(const std::vector<float> &x, const Dims &xd, const Dims &yd, const mtia_op &o)
{
    const uint32_t axis = o.attrs[0], start = o.attrs[1];
    const int64_t step = o.attrs[MTIA_SLICE_STEP] ? int32_t(o.attrs[MTIA_SLICE_STEP]) : 1;
    const auto xs = strides(xd);
    std::vector<float> y(count(yd));
    for (uint64_t i = 0; i < y.size(); i++) {
        auto c = coords(i, yd);
        c[axis] = uint64_t(int64_t(start) + int64_t(c[axis]) * step);
        uint64_t xi = 0;
        for (size_t k = 0; k < xd.size(); k++) xi += c[k] * xs[k];
        y[i] = float(act(x[xi], o));
    }
    return y;
}

}  // namespace cref

#endif  // MTIA_TESTS_COMPUTE_REF_H
