// SPDX-License-Identifier: MIT
// CAST: element type conversion between F32, F16, BF16, I32, I64 and BOOL
// with ONNX Cast semantics. Float -> int truncates toward zero; NaN gives 0
// and values beyond the target's range saturate (C++ leaves those undefined,
// and a result must not depend on the host ISA). Anything -> BOOL is x != 0.
// F16 and BF16 go through F32 (exact from 16 bits; to 16 bits rounds to
// nearest even, mtia_fp16.h). Quantized I8/U8 go through their real value
// in F32 (mtia_quant.h): float -> I8/U8 quantizes, I8/U8 -> float
// dequantizes, I8/U8 -> I8/U8 requantizes; I8/U8 -> I32 is the exact
// integer q - zero_point (validation refuses the other integer and BOOL
// pairs).
#include <algorithm>
#include <cmath>
#include <limits>

#include "mtia/mtia_fp16.h"
#include "mtia/mtia_quant.h"
#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

template <typename I>
I float_to_int(float f)
{
    if (std::isnan(f)) return 0;
    const double t = std::trunc(double(f));
    if (t <= double(std::numeric_limits<I>::min())) return std::numeric_limits<I>::min();
    // 2^31 and 2^63 are exact doubles: anything at or above is out of range.
    if (t >= -double(std::numeric_limits<I>::min())) return std::numeric_limits<I>::max();
    return static_cast<I>(t);
}

// Every element as a double (exact for F32, I32, BOOL; I64 beyond 2^53
// rounds, as ONNX's I64 -> F32 does anyway) or, for integer pairs, exactly.
template <typename T>
T load(const uint8_t *p, uint64_t i)
{
    T v;
    std::memcpy(&v, p + i * sizeof(T), sizeof(T));
    return v;
}

template <typename S, typename D>
void convert(const uint8_t *src, uint8_t *dst, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        const S v = load<S>(src, i);
        D r;
        if constexpr (std::is_same_v<D, uint8_t>) {  // BOOL
            r = v != S(0) ? 1 : 0;
        } else if constexpr (std::is_same_v<S, float> && !std::is_same_v<D, float>) {
            r = float_to_int<D>(v);
        } else if constexpr (std::is_same_v<S, uint8_t>) {
            r = v ? D(1) : D(0);
        } else {
            r = static_cast<D>(v);  // int -> float, or int -> int (wraps, two's complement)
        }
        std::memcpy(dst + i * sizeof(D), &r, sizeof(D));
    }
}

template <typename S>
void convert_from(const uint8_t *src, uint8_t *dst, uint8_t to, uint64_t n)
{
    switch (to) {
        case MTIA_DTYPE_F32:
            return convert<S, float>(src, dst, n);
        case MTIA_DTYPE_I32:
            return convert<S, int32_t>(src, dst, n);
        case MTIA_DTYPE_I64:
            return convert<S, int64_t>(src, dst, n);
        default:
            return convert<S, uint8_t>(src, dst, n);
    }
}

bool is_half(uint8_t dtype) { return dtype == MTIA_DTYPE_F16 || dtype == MTIA_DTYPE_BF16; }
// Converted through an F32 value.
bool via_f32(uint8_t dtype) { return is_half(dtype) || mtia_dtype_is_quant(dtype); }

// n elements of @t's dtype at @src to F32.
void to_f32(const mtia_tensor_desc &t, const uint8_t *src, float *dst, uint64_t n);
// n F32s to @t's dtype at @dst.
void from_f32(const float *src, const mtia_tensor_desc &t, uint8_t *dst, uint64_t n);

// n elements of @dtype (anything but F16/BF16) to @to (anything but F16/BF16).
void convert_any(const uint8_t *src, uint8_t dtype, uint8_t *dst, uint8_t to, uint64_t n)
{
    switch (dtype) {
        case MTIA_DTYPE_F32:
            return convert_from<float>(src, dst, to, n);
        case MTIA_DTYPE_I32:
            return convert_from<int32_t>(src, dst, to, n);
        case MTIA_DTYPE_I64:
            return convert_from<int64_t>(src, dst, to, n);
        default:
            return convert_from<uint8_t>(src, dst, to, n);
    }
}

// n I8/U8 elements of @t to I32: q - zero_point, exact.
void to_i32(const mtia_tensor_desc &t, const uint8_t *src, uint8_t *dst, uint64_t n)
{
    for (uint64_t j = 0; j < n; j++) {
        const int32_t v = (t.dtype == MTIA_DTYPE_I8 ? int32_t(int8_t(src[j])) : int32_t(src[j])) - t.zero_point;
        std::memcpy(dst + j * 4, &v, 4);
    }
}

class CastKernel final : public Kernel {
public:
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const mtia_tensor_desc &x = op.in[0], &y = op.out;
        const uint64_t n = elems(x), poll = chunk_work();  // elements between abort polls
        const uint32_t si = mtia_dtype_size(x.dtype), so = mtia_dtype_size(y.dtype);
        float tmp[kBlock];  // F16/BF16 through F32
        uint64_t since = 0;
        for (uint64_t i = 0, m; i < n; i += m, since += m) {
            if (since >= poll) {
                since = 0;
                if (ex.stopped()) return false;
            }
            m = std::min({kBlock, poll, n - i});
            const uint8_t *src = arena + x.offset + i * si;
            uint8_t *dst = arena + y.offset + i * so;
            if (mtia_dtype_is_quant(x.dtype) && y.dtype == MTIA_DTYPE_I32) {
                to_i32(x, src, dst, m);
                continue;
            }
            if (!via_f32(x.dtype) && !via_f32(y.dtype)) {
                convert_any(src, x.dtype, dst, y.dtype, m);
                continue;
            }
            to_f32(x, src, tmp, m);
            from_f32(tmp, y, dst, m);
        }
        return true;
    }

private:
    static constexpr uint64_t kBlock = 4096;  // elements converted at a time
};

void to_f32(const mtia_tensor_desc &t, const uint8_t *src, float *dst, uint64_t n)
{
    const float scale = f32(t.scale);
    for (uint64_t j = 0; j < n; j++) {
        uint16_t h;
        switch (t.dtype) {
            case MTIA_DTYPE_I8:
                dst[j] = mtia_dequantize(int8_t(src[j]), scale, t.zero_point);
                break;
            case MTIA_DTYPE_U8:
                dst[j] = mtia_dequantize(src[j], scale, t.zero_point);
                break;
            case MTIA_DTYPE_F16:
            case MTIA_DTYPE_BF16:
                std::memcpy(&h, src + j * 2, 2);
                dst[j] = t.dtype == MTIA_DTYPE_F16 ? mtia_f16_to_f32(h) : mtia_bf16_to_f32(h);
                break;
            default:
                return convert_any(src, t.dtype, reinterpret_cast<uint8_t *>(dst), MTIA_DTYPE_F32, n);
        }
    }
}

void from_f32(const float *src, const mtia_tensor_desc &t, uint8_t *dst, uint64_t n)
{
    const float scale = f32(t.scale);
    const int32_t lo = mtia_quant_min(t.dtype), hi = mtia_quant_max(t.dtype);
    for (uint64_t j = 0; j < n; j++) {
        uint16_t h;
        switch (t.dtype) {
            case MTIA_DTYPE_I8:
            case MTIA_DTYPE_U8:  // two's complement: the low byte is the int8_t
                dst[j] = uint8_t(mtia_quantize(src[j], scale, t.zero_point, lo, hi));
                break;
            case MTIA_DTYPE_F16:
            case MTIA_DTYPE_BF16:
                h = t.dtype == MTIA_DTYPE_F16 ? mtia_f32_to_f16(src[j]) : mtia_f32_to_bf16(src[j]);
                std::memcpy(dst + j * 2, &h, 2);
                break;
            default:
                return convert_any(reinterpret_cast<const uint8_t *>(src), MTIA_DTYPE_F32, dst, t.dtype, n);
        }
    }
}

}  // namespace

std::unique_ptr<Kernel> make_cast(const mtia_op &) { return std::make_unique<CastKernel>(); }

}  // namespace compute
}  // namespace mtia
