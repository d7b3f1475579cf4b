// SPDX-License-Identifier: MIT
// Naive reference of RESIZE, written after ONNX's own reference
// (onnx/backend/test/case/node/resize.py) rather than after the kernel:
// per output element, 1-D interpolation over the first resized dim of
// values that are themselves interpolated over the remaining dims
// (recursively, on demand); the taps are the n indices nearest to X (ties
// to the lower index) of the input extended by its edges, the coefficients
// ONNX's.
#ifndef MTIA_TESTS_COMPUTE_REF_RESIZE_H
#define MTIA_TESTS_COMPUTE_REF_RESIZE_H

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "compute_ref.h"

namespace cref {

struct ResizeAxis {
    int64_t n, m;
    double s, len;  // scale; resized length (n * s as an f32 product, or m)
};

inline ResizeAxis resize_axis(const mtia_op &o, unsigned i)
{
    const unsigned lead = o.out.ndim - o.attrs[MTIA_RESIZE_SPATIAL];
    ResizeAxis a{o.in[0].dims[lead + i], o.out.dims[lead + i], 0, 0};
    float s;
    std::memcpy(&s, &o.attrs[MTIA_RESIZE_SCALE + i], 4);
    if (o.attrs[MTIA_RESIZE_SCALE + i]) {
        a.s = s;
        a.len = float(a.n) * s;
    } else {
        a.s = double(a.m) / double(a.n);
        a.len = double(a.m);
    }
    return a;
}

// 1-D interpolation at output coordinate x of the n values value(0..n-1).
inline double resize_1d(const mtia_op &o, const ResizeAxis &a, int64_t x, const std::function<double(int64_t)> &value)
{
    const uint32_t *at = o.attrs;
    double X = 0;
    switch (at[MTIA_RESIZE_COORD]) {
        case MTIA_RESIZE_HALF_PIXEL:
            X = (x + 0.5) / a.s - 0.5;
            break;
        case MTIA_RESIZE_PYTORCH_HALF_PIXEL:
            X = a.len == 1 ? -0.5 : (x + 0.5) / a.s - 0.5;
            break;
        case MTIA_RESIZE_ALIGN_CORNERS:
            X = a.len == 1 ? 0 : double(x * (a.n - 1)) / (a.len - 1);
            break;
        case MTIA_RESIZE_ASYMMETRIC:
            X = x / a.s;
            break;
        default:
            X = (x + 0.5) / a.s;
            break;
    }
    const bool integral = X == std::floor(X);
    const double ratio = integral ? 1 : X - std::floor(X);
    std::vector<double> c;
    switch (at[MTIA_RESIZE_MODE]) {
        case MTIA_RESIZE_NEAREST:
            if (integral) {
                c = {0, 1};
            } else {
                switch (at[MTIA_RESIZE_NEAREST_MODE]) {
                    case MTIA_RESIZE_ROUND_PREFER_FLOOR:
                        c = {double(ratio <= 0.5), double(ratio > 0.5)};
                        break;
                    case MTIA_RESIZE_ROUND_PREFER_CEIL:
                        c = {double(ratio < 0.5), double(ratio >= 0.5)};
                        break;
                    case MTIA_RESIZE_FLOOR:
                        c = {1, 0};
                        break;
                    default:
                        c = {0, 1};
                        break;
                }
            }
            break;
        case MTIA_RESIZE_LINEAR:
            c = {1 - ratio, ratio};
            break;
        default: {
            float fa;
            std::memcpy(&fa, &at[MTIA_RESIZE_CUBIC_A], 4);
            const double A = fa, r = ratio;
            c = {((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A, ((A + 2) * r - (A + 3)) * r * r + 1,
                 ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1,
                 ((A * ((1 - r) + 1) - 5 * A) * ((1 - r) + 1) + 8 * A) * ((1 - r) + 1) - 4 * A};
            break;
        }
    }
    // The c.size() indices nearest to X, of the input extended by its edge
    // values. (ONNX's code pads first and adds the pad to X in floating
    // point, which can round X + pad onto an integer: not done here.)
    const int64_t nc = int64_t(c.size());
    std::vector<int64_t> cand;
    for (int64_t i = int64_t(std::floor(X)) - nc; i <= int64_t(std::floor(X)) + nc; i++) cand.push_back(i);
    std::sort(cand.begin(), cand.end(), [&](int64_t p, int64_t q) {
        const double dp = std::fabs(X - double(p)), dq = std::fabs(X - double(q));
        return dp != dq ? dp < dq : p < q;
    });
    cand.resize(size_t(nc));
    std::sort(cand.begin(), cand.end());
    if (at[MTIA_RESIZE_EXCLUDE_OUTSIDE]) {
        double sum = 0;
        for (int64_t k = 0; k < nc; k++) {
            if (cand[k] < 0 || cand[k] >= a.n) c[k] = 0;
            sum += c[k];
        }
        for (double &v : c) v /= sum;
    }
    double r = 0;
    for (int64_t k = 0; k < nc; k++) {
        if (c[k] == 0) continue;  // a zero weight on an edge element changes nothing
        r += c[k] * value(std::clamp<int64_t>(cand[k], 0, a.n - 1));
    }
    return r;
}

inline std::vector<float> resize(const std::vector<float> &x, const mtia_op &o)
{
    const unsigned sp = o.attrs[MTIA_RESIZE_SPATIAL], nd = o.out.ndim, lead = nd - sp;
    std::vector<ResizeAxis> ax;
    for (unsigned i = 0; i < sp; i++) ax.push_back(resize_axis(o, i));
    const Dims xd = dims(o.in[0]), yd = dims(o.out);
    const std::vector<uint64_t> xs = strides(xd);
    std::vector<float> y(count(yd));
    for (uint64_t e = 0; e < y.size(); e++) {
        const std::vector<uint64_t> c = coords(e, yd);
        uint64_t base = 0;
        for (unsigned i = 0; i < lead; i++) base += c[i] * xs[i];
        // value over resized dims d.. with the input indices of dims < d in off.
        std::function<double(unsigned, uint64_t)> interp = [&](unsigned d, uint64_t off) -> double {
            if (d == sp) return x[off];
            return resize_1d(o, ax[d], int64_t(c[lead + d]),
                             [&](int64_t i) { return interp(d + 1, off + uint64_t(i) * xs[lead + d]); });
        };
        y[e] = float(interp(0, base));
    }
    return y;
}

}  // namespace cref

#endif  // MTIA_TESTS_COMPUTE_REF_RESIZE_H
