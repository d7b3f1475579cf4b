// SPDX-License-Identifier: MIT
// CAST: element type conversion between F32, I32, I64 and BOOL with ONNX
// Cast semantics. Float -> int truncates toward zero; NaN gives 0 and values
// beyond the target's range saturate (C++ leaves those undefined, and a
// result must not depend on the host ISA). Anything -> BOOL is x != 0.
#include <cmath>
#include <limits>

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

class CastKernel final : public Kernel {
public:
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const mtia_tensor_desc &x = op.in[0], &y = op.out;
        const uint64_t n = elems(x), chunk = chunk_work();
        const uint32_t si = mtia_dtype_size(x.dtype), so = mtia_dtype_size(y.dtype);
        for (uint64_t i = 0; i < n; i += chunk) {
            if (i && ex.stopped()) return false;
            const uint64_t m = std::min(chunk, n - i);
            const uint8_t *src = arena + x.offset + i * si;
            uint8_t *dst = arena + y.offset + i * so;
            switch (x.dtype) {
                case MTIA_DTYPE_F32:
                    convert_from<float>(src, dst, y.dtype, m);
                    break;
                case MTIA_DTYPE_I32:
                    convert_from<int32_t>(src, dst, y.dtype, m);
                    break;
                case MTIA_DTYPE_I64:
                    convert_from<int64_t>(src, dst, y.dtype, m);
                    break;
                default:
                    convert_from<uint8_t>(src, dst, y.dtype, m);
                    break;
            }
        }
        return true;
    }
};

}  // namespace

std::unique_ptr<Kernel> make_cast(const mtia_op &) { return std::make_unique<CastKernel>(); }

}  // namespace compute
}  // namespace mtia
