/* SPDX-License-Identifier: MIT */
/*
 * The device as the firmware's host build sees it (firmware/fw.h with
 * FW_HOST): a register file for offsets below FW_MOCK_REG_BYTES with
 * per-register read/write hooks, a record of every register write, mtime,
 * the CSRs, a device-memory buffer, and the firmware's no-return exits
 * (fw_hang, fw_die_illegal, WFI) turned into a longjmp back to the test.
 *
 * Registers with device semantics built in: MTIME_LO/HI read the mock clock
 * (fw_mock_set_mtime), MBOX_DOORBELL and ENGINE_EVENT are RW1C. Everything
 * else is plain storage unless a test installs a hook. mip reads as the CSR
 * value plus MTIP (mtime >= mtimecmp) and MEIP (doorbell, Q_PENDING or
 * ENGINE_EVENT non-zero, from the register file), as docs/queues.md says;
 * the time CSR reads the low word of mtime and then advances it by the time
 * step. Plain C without CMocka: the fuzz targets use it too.
 */
#ifndef MTIA_FW_MOCK_H
#define MTIA_FW_MOCK_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include "mtia/mtia_spec.h"

#define FW_MOCK_REG_BYTES 0x1000u /* every register the firmware uses */
#define FW_MOCK_DEVMEM_BYTES (MTIA_DEVMEM_FW_LOG_OFF + MTIA_DEVMEM_FW_LOG_SIZE)
#define FW_MOCK_MAX_WRITES 65536u /* writes recorded (then only counted) */

/* The CSRs the firmware uses (fw.h pastes FW_CSR_<name>). */
enum fw_csr { FW_CSR_mstatus, FW_CSR_mie, FW_CSR_mip, FW_CSR_mtvec, FW_CSR_time, FW_CSR_COUNT };

/* How a run of firmware code ended (FW_MOCK_RUN). */
enum fw_mock_stop {
    FW_MOCK_RETURNED = 0,
    FW_MOCK_HANG,    /* fw_hang() */
    FW_MOCK_ILLEGAL, /* fw_die_illegal() */
    FW_MOCK_WFI,     /* fw_main's idle loop reached WFI */
};

typedef uint32_t (*fw_mock_read_fn)(uint32_t off, void *ctx);
typedef void (*fw_mock_write_fn)(uint32_t off, uint32_t val, void *ctx);
typedef uint32_t (*fw_mock_csr_fn)(void *ctx);

struct fw_mock_write {
    uint32_t off, val;
};

/* Everything back to power-on: registers 0 (MTIMECMP all ones), no hooks,
 * no writes recorded, mtime 0, CSRs 0, device memory 0, time step 0. */
void fw_mock_reset(void);

/* What an unexpected access calls (default: print and abort). */
void fw_mock_set_fail_handler(void (*fn)(const char *msg));
void fw_mock_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A check of a fuzz target or model: fw_mock_fail() with where. */
#define FW_MOCK_CHECK(cond)                                                               \
    do {                                                                                  \
        if (!(cond)) fw_mock_fail("check failed: %s (%s:%d)", #cond, __FILE__, __LINE__); \
    } while (0)

/* ---- the firmware's side (fw.h) ---- */
uint32_t fw_mock_reg_read(uint32_t off);
void fw_mock_reg_write(uint32_t off, uint32_t val);
void *fw_mock_devmem(uint32_t off);
uint32_t fw_mock_csr_read(enum fw_csr csr);
void fw_mock_csr_write(enum fw_csr csr, uint32_t val);
void fw_mock_csr_set(enum fw_csr csr, uint32_t bits);
void fw_mock_csr_clear(enum fw_csr csr, uint32_t bits);
__attribute__((noreturn)) void fw_mock_wfi(void);
/* crt0.S's no-return exits, here a stop of the run (FW_MOCK_HANG/ILLEGAL). */
__attribute__((noreturn)) void fw_hang(void);
__attribute__((noreturn)) void fw_die_illegal(void);

/* ---- the test's side ---- */
/* Hook the firmware's reads/writes of register off (NULL: plain storage). */
void fw_mock_on_read(uint32_t off, fw_mock_read_fn fn, void *ctx);
void fw_mock_on_write(uint32_t off, fw_mock_write_fn fn, void *ctx);
void fw_mock_on_csr_read(enum fw_csr csr, fw_mock_csr_fn fn, void *ctx);
/* The register file without hooks or counting (what the device holds). */
uint32_t fw_mock_reg(uint32_t off);
void fw_mock_set_reg(uint32_t off, uint32_t val);
uint32_t fw_mock_csr(enum fw_csr csr);
void fw_mock_set_csr(enum fw_csr csr, uint32_t val);

/* Firmware accesses of off (reads of csr) since the last
 * fw_mock_clear_counts(). */
unsigned fw_mock_read_count(uint32_t off);
unsigned fw_mock_csr_read_count(enum fw_csr csr);
unsigned fw_mock_write_count(uint32_t off);
/* Recorded writes, oldest first, since the last fw_mock_clear_counts(). */
size_t fw_mock_writes(void);
const struct fw_mock_write *fw_mock_write_at(size_t i);
/* The last value the firmware wrote to off; 0 if it wrote none. */
int fw_mock_last_write(uint32_t off, uint32_t *val);
void fw_mock_clear_counts(void);

void fw_mock_set_mtime(uint64_t t);
uint64_t fw_mock_mtime(void);
uint64_t fw_mock_mtimecmp(void); /* as MTIMECMP_HI:LO hold it */
void fw_mock_set_time_step(uint32_t ticks);

/*
 * FW_MOCK_RUN(stop, stmt): run stmt (a call into the firmware); stop is
 * FW_MOCK_RETURNED if it returned, else how the firmware stopped. stop must
 * be a variable of the caller's (an enum fw_mock_stop or int).
 */
extern jmp_buf fw_mock_jmp;
extern int fw_mock_armed;
extern enum fw_mock_stop fw_mock_stopped;
#define FW_MOCK_RUN(stop, stmt)         \
    do {                                \
        fw_mock_armed = 1;              \
        if (setjmp(fw_mock_jmp) == 0) { \
            stmt;                       \
            (stop) = FW_MOCK_RETURNED;  \
        } else {                        \
            (stop) = fw_mock_stopped;   \
        }                               \
        fw_mock_armed = 0;              \
    } while (0)

#endif /* MTIA_FW_MOCK_H */
