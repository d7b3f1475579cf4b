// SPDX-License-Identifier: MIT
/* Freestanding helpers: no libc and no libgcc in this build. */
#include "fw.h"

#ifndef FW_HOST /* the host build (tests/firmware) has libc's */
void *memcpy(void *dst, const void *src, size_t n)
{
    uint8_t *d = dst;
    const uint8_t *s = src;

    while (n--)
        *d++ = *s++;
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    uint8_t *d = dst;

    while (n--)
        *d++ = (uint8_t)c;
    return dst;
}

size_t strlen(const char *s)
{
    const char *p = s;

    while (*p)
        p++;
    return (size_t)(p - s);
}
#endif

uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
    uint32_t qhi = hi / d, qlo = 0, r = hi % d;

    /* Long division of r:lo by d, one bit at a time, in 32-bit arithmetic
     * (64-bit variable shifts would need libgcc). */
    for (int i = 31; i >= 0; i--) {
        uint32_t carry = r >> 31;

        r = r << 1 | ((lo >> i) & 1);
        if (carry || r >= d) {
            r -= d;
            qlo |= 1u << i;
        }
    }
    if (rem)
        *rem = r;
    return (uint64_t)qhi << 32 | qlo;
}
