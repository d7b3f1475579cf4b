/* SPDX-License-Identifier: MIT */
/* A compiled C workload: CRC-32 over pseudo-random data and a sort, each
 * checked. Returns 0 on success; leaves the data CRC in the test bench's
 * scratch register for the host to compare with its own computation. */
#include <stdint.h>

#define TB_SCRATCH ((volatile uint32_t *)0x10000014u)
#define N_WORDS 512

static uint32_t data[N_WORDS];

static uint32_t crc32(const uint8_t *p, uint32_t n) {
    uint32_t c = ~0u;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
    }
    return ~c;
}

static void fill(uint32_t seed) {
    for (int i = 0; i < N_WORDS; i++) {
        seed = seed * 1664525u + 1013904223u;
        data[i] = seed;
    }
}

static void shell_sort(uint32_t *a, int n) {
    for (int gap = n / 2; gap > 0; gap /= 2)
        for (int i = gap; i < n; i++) {
            uint32_t v = a[i];
            int j = i;
            for (; j >= gap && a[j - gap] > v; j -= gap) a[j] = a[j - gap];
            a[j] = v;
        }
}

int main(void) {
    static const uint8_t check[] = "123456789";
    if (crc32(check, 9) != 0xcbf43926u) return 1;
    fill(1);
    *TB_SCRATCH = crc32((const uint8_t *)data, sizeof(data));
    uint32_t sum = 0;
    for (int i = 0; i < N_WORDS; i++) sum += data[i];
    shell_sort(data, N_WORDS);
    uint32_t sum2 = 0;
    for (int i = 0; i < N_WORDS; i++) {
        if (i && data[i - 1] > data[i]) return 2;
        sum2 += data[i];
    }
    if (sum != sum2) return 3;
    return 0;
}
