// SPDX-License-Identifier: MIT
// Naive reference of BINARY ADD..MIN on I32/I64 (the spec's exact integer
// semantics) and the values that probe it, for the host and in-VM tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>

#include "mtia/mtia_spec.h"

namespace cref {

// The reference, written independently of the engine's: exact integers in
// __int128, reduced modulo 2^bits to two's complement.
template <class T>
T int_binary(uint32_t kind, T a, T b)
{
    using W = __int128;
    const W x = a, y = b;
    W r = 0;
    switch (kind) {
        case MTIA_BINARY_ADD:
            r = x + y;
            break;
        case MTIA_BINARY_SUB:
            r = x - y;
            break;
        case MTIA_BINARY_MUL:
            r = x * y;
            break;
        case MTIA_BINARY_DIV:
            r = y == 0 ? 0 : x / y;
            break;  // C++ division truncates toward zero
        case MTIA_BINARY_POW:
            if (y < 0) {
                r = x == 1 ? 1 : x == -1 ? (y % 2 ? -1 : 1) : 0;
            } else {
                r = 1;
                for (W k = 0; k < y; k++) r = static_cast<W>(static_cast<std::make_unsigned_t<T>>(r * x));
            }
            break;
        case MTIA_BINARY_MAX:
            r = std::max(x, y);
            break;
        default:
            r = std::min(x, y);
            break;
    }
    return static_cast<T>(static_cast<std::make_unsigned_t<T>>(static_cast<unsigned __int128>(r)));
}

template <class T>
T int_value(std::mt19937 &rng, uint32_t kind)
{
    if (kind == MTIA_BINARY_POW)
        return static_cast<T>(std::uniform_int_distribution<int>(-3, 5)(rng));  // small base and exponent
    switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
        case 0:
            return std::numeric_limits<T>::min();
        case 1:
            return std::numeric_limits<T>::max();
        case 2:
            return 0;
        case 3:
            return -1;
        default:
            return static_cast<T>(std::uniform_int_distribution<int64_t>(-1000, 1000)(rng));
    }
}

}  // namespace cref
