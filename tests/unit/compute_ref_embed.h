// SPDX-License-Identifier: MIT
// Naive references for the ids and embeddings ops (GATHER, EMBEDDING_BAG,
// CAST), as the ONNX / PyTorch definitions read, for compute_embed_test.cc.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "compute_ref.h"

namespace cref {

// out = data[..., idx, ...] on @axis, elements of @esize bytes.
inline std::vector<uint8_t> gather(const std::vector<uint8_t> &data, const Dims &dd, const std::vector<int64_t> &idx,
                                   unsigned axis, size_t esize)
{
    uint64_t outer = 1, inner = esize;
    for (unsigned i = 0; i < axis; i++) outer *= dd[i];
    for (size_t i = axis + 1; i < dd.size(); i++) inner *= dd[i];
    const int64_t s = dd[axis];
    std::vector<uint8_t> out;
    for (uint64_t o = 0; o < outer; o++) {
        for (int64_t v : idx) {
            const uint64_t r = uint64_t(v < 0 ? v + s : v);
            const uint8_t *p = data.data() + (o * uint64_t(s) + r) * inner;
            out.insert(out.end(), p, p + inner);
        }
    }
    return out;
}

// PyTorch EmbeddingBag over T tables (rows[t] each, concatenated in @tab of
// width d, float or double values), bags k = t * B + b given by
// [off[k], off[k+1]); out (B, T*d), pooled in double.
template <class V>
inline std::vector<float> embedding_bag(const std::vector<V> &tab, uint32_t d, const std::vector<uint32_t> &rows,
                                        const std::vector<int64_t> &ids, const std::vector<int64_t> &off, uint32_t b,
                                        uint32_t mode, const std::vector<float> &w)
{
    const size_t t_n = rows.size();
    std::vector<float> out(size_t(b) * t_n * d, 0.0f);
    uint64_t first = 0;
    for (size_t t = 0; t < t_n; t++) {
        for (uint32_t s = 0; s < b; s++) {
            const size_t k = t * b + s;
            float *o = &out[(s * t_n + t) * d];
            for (uint32_t c = 0; c < d; c++) {
                double acc = mode == MTIA_EMBEDDING_BAG_MAX ? -INFINITY : 0;
                for (int64_t i = off[k]; i < off[k + 1]; i++) {
                    const double x = tab[(first + uint64_t(ids[size_t(i)])) * d + c];
                    if (mode == MTIA_EMBEDDING_BAG_MAX)
                        acc = std::max(acc, x);
                    else
                        acc += (w.empty() ? 1.0 : w[size_t(i)]) * x;
                }
                const int64_t n = off[k + 1] - off[k];
                if (!n) acc = 0;
                if (mode == MTIA_EMBEDDING_BAG_MEAN && n) acc /= double(n);
                o[c] = float(acc);
            }
        }
        first += rows[t];
    }
    return out;
}

// An 8-bit rowwise table (FBGEMM's fused 8-bit rowwise: each of @rows rows
// holds d int8/uint8 values, then its f32 scale and bias) dequantized in
// double: q * scale + bias.
inline std::vector<double> dequantize_rowwise(const uint8_t *p, uint32_t rows, uint32_t d, bool is_signed)
{
    std::vector<double> out;
    for (uint32_t r = 0; r < rows; r++, p += d + 8) {
        float s, b;
        std::memcpy(&s, p + d, 4);
        std::memcpy(&b, p + d + 4, 4);
        for (uint32_t c = 0; c < d; c++)
            out.push_back((is_signed ? double(int8_t(p[c])) : double(p[c])) * double(s) + double(b));
    }
    return out;
}

// ONNX Cast of one value (through double: exact for every case tested).
inline double cast_value(double x, uint8_t to)
{
    switch (to) {
        case MTIA_DTYPE_F32:
            return double(float(x));
        case MTIA_DTYPE_BOOL:
            return x != 0 ? 1 : 0;
        default:
            return std::trunc(x);
    }
}

}  // namespace cref
