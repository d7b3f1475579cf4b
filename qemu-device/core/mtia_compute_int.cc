// SPDX-License-Identifier: MIT
// BINARY arithmetic (ADD..MIN) and comparisons (EQUAL..GREATER, to BOOL) on
// I32 and I64 tensors: a broadcasting loop,
// exact and the same on every host. Each value is widened to 64 bits and
// computed in uint64_t, so overflow wraps as two's complement without
// undefined behaviour, then narrowed to the tensor's width (I32 keeps the
// low 32 bits). DIV truncates toward zero, x / 0 is 0 and INT_MIN / -1
// wraps; POW is exponentiation by squaring, a negative exponent giving
// 1 / x^-e truncated. Elements are read and written with memcpy: the
// arena does not promise 8-byte alignment to I64 views.
#include <cstring>
#include <type_traits>

#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

using Desc = mtia_tensor_desc;

uint64_t ipow(uint64_t x, int64_t e)
{
    const int64_t sx = static_cast<int64_t>(x);
    if (e < 0) return sx == 1 ? 1 : sx == -1 ? (e % 2 ? x : 1) : 0;
    uint64_t r = 1;
    for (uint64_t u = static_cast<uint64_t>(e); u; u >>= 1, x *= x)
        if (u & 1) r *= x;
    return r;
}

// a <kind> b on 64-bit two's complement values; a narrower type is
// sign-extended in and truncated out by the caller.
uint64_t apply(uint32_t kind, uint64_t a, uint64_t b)
{
    const int64_t sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
    switch (kind) {
        case MTIA_BINARY_ADD:
            return a + b;
        case MTIA_BINARY_SUB:
            return a - b;
        case MTIA_BINARY_MUL:
            return a * b;
        case MTIA_BINARY_DIV:
            if (sb == 0) return 0;
            if (sb == -1) return 0 - a;  // INT64_MIN / -1 wraps to itself
            return static_cast<uint64_t>(sa / sb);
        case MTIA_BINARY_POW:
            return ipow(a, sb);
        case MTIA_BINARY_MAX:
            return sa > sb ? a : b;
        default:
            return sa < sb ? a : b;
    }
}

template <class T>
class IntBinaryKernel final : public Kernel {
public:
    explicit IntBinaryKernel(const mtia_op &op) : kind_(op.attrs[MTIA_BINARY_KIND]) {}
    bool run(const mtia_op &op, uint8_t *arena, Exec &) override
    {
        const uint8_t *a = arena + op.in[0].offset, *b = arena + op.in[1].offset;
        uint8_t *y = arena + op.out.offset;
        const Desc *ins[2] = {&op.in[0], &op.in[1]};
        // Both inputs of an element are read before it is written: an input
        // that is out itself (same shape) is fine.
        for_each_row(op.out, ins, 2, [&](uint64_t yo, const uint64_t *off, const uint64_t *in, uint64_t n) {
            for (uint64_t i = 0; i < n; i++) {
                T va, vb;
                std::memcpy(&va, a + (off[0] + i * in[0]) * sizeof(T), sizeof(T));
                std::memcpy(&vb, b + (off[1] + i * in[1]) * sizeof(T), sizeof(T));
                const uint64_t r = apply(kind_, static_cast<uint64_t>(static_cast<int64_t>(va)),
                                         static_cast<uint64_t>(static_cast<int64_t>(vb)));
                // Narrowing an unsigned value is modular: the low bits, no UB.
                const T vr = static_cast<T>(static_cast<std::make_unsigned_t<T>>(r));
                std::memcpy(y + (yo + i) * sizeof(T), &vr, sizeof(T));
            }
        });
        return true;
    }

private:
    uint32_t kind_;
};

template <class T>
class IntCompareKernel final : public Kernel {
public:
    explicit IntCompareKernel(const mtia_op &op) : kind_(op.attrs[MTIA_BINARY_KIND]) {}
    bool run(const mtia_op &op, uint8_t *arena, Exec &) override
    {
        const uint8_t *a = arena + op.in[0].offset, *b = arena + op.in[1].offset;
        uint8_t *y = arena + op.out.offset;
        const Desc *ins[2] = {&op.in[0], &op.in[1]};
        for_each_row(op.out, ins, 2, [&](uint64_t yo, const uint64_t *off, const uint64_t *in, uint64_t n) {
            for (uint64_t i = 0; i < n; i++) {
                T va, vb;
                std::memcpy(&va, a + (off[0] + i * in[0]) * sizeof(T), sizeof(T));
                std::memcpy(&vb, b + (off[1] + i * in[1]) * sizeof(T), sizeof(T));
                y[yo + i] = kind_ == MTIA_BINARY_EQUAL ? va == vb : kind_ == MTIA_BINARY_LESS ? va < vb : va > vb;
            }
        });
        return true;
    }

private:
    uint32_t kind_;
};

}  // namespace

std::unique_ptr<Kernel> make_int_binary(const mtia_op &op)
{
    const bool cmp = is_compare(op.attrs[MTIA_BINARY_KIND]);
    if (op.in[0].dtype == MTIA_DTYPE_I32) {
        if (cmp) return std::make_unique<IntCompareKernel<int32_t>>(op);
        return std::make_unique<IntBinaryKernel<int32_t>>(op);
    }
    if (cmp) return std::make_unique<IntCompareKernel<int64_t>>(op);
    return std::make_unique<IntBinaryKernel<int64_t>>(op);
}

}  // namespace compute
}  // namespace mtia
