/* SPDX-License-Identifier: MIT */
/*
 * The few kernel types driver/mtia_cmd.c uses, for compiling it in user
 * space (driver_cmd_test.cc). Force-included (-include) before the file, so
 * the driver source is the kernel's, unchanged.
 */
#ifndef MTIA_TESTS_KERNEL_SHIM_H
#define MTIA_TESTS_KERNEL_SHIM_H

#include <stdint.h>
#ifndef __cplusplus
#include <stdbool.h>
#endif

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#endif /* MTIA_TESTS_KERNEL_SHIM_H */
