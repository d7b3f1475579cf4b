/* SPDX-License-Identifier: MIT */
/*
 * mtia-fw: firmware for the mtia-open control core (RV32IMC, machine mode).
 * Shared declarations: register access, CSRs, logging, the admin mailbox.
 * The hardware contract is include/mtia/mtia_spec.h; docs/firmware.md
 * describes the firmware's behaviour.
 */
#ifndef MTIA_FW_H
#define MTIA_FW_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "mtia/mtia_spec.h"

#ifndef FW_VERSION_MAJOR
#error "build with firmware/Makefile: it defines FW_VERSION_MAJOR/MINOR/PATCH"
#endif
#define FW_VERSION_CODE MTIA_FW_VERSION(FW_VERSION_MAJOR, FW_VERSION_MINOR, FW_VERSION_PATCH)

/*
 * Hardware access. The firmware reaches the device only through these:
 * reg_read/reg_write (the register window), fw_devmem() (device memory),
 * the csr_* macros, fw_wfi() and fw_wmb(). With FW_HOST defined they go to
 * the test mock instead (tests/firmware/fw_mock.h: a scripted register file,
 * a device-memory buffer, CSR values), so the modules compile and run on the
 * host for the CMocka tests and fuzz targets; the RV32 build is unchanged.
 */
#ifdef FW_HOST
#include "fw_mock.h"
#define reg_read(off)         fw_mock_reg_read(off)
#define reg_write(off, val)   fw_mock_reg_write(off, val)
#define fw_devmem(off)        fw_mock_devmem(off)
#define csr_read(csr)         fw_mock_csr_read(FW_CSR_##csr)
#define csr_write(csr, val)   fw_mock_csr_write(FW_CSR_##csr, val)
#define csr_set(csr, bits)    fw_mock_csr_set(FW_CSR_##csr, bits)
#define csr_clear(csr, bits)  fw_mock_csr_clear(FW_CSR_##csr, bits)
#define fw_wfi()              fw_mock_wfi()
#define fw_wmb()              __atomic_thread_fence(__ATOMIC_RELEASE)
#else
/* ---- registers (firmware view of BAR0 at MTIA_CC_REGS_BASE) -------------- */
static inline uint32_t reg_read(uint32_t off)
{
    return *(volatile uint32_t *)(uintptr_t)(MTIA_CC_REGS_BASE + off);
}

static inline void reg_write(uint32_t off, uint32_t val)
{
    *(volatile uint32_t *)(uintptr_t)(MTIA_CC_REGS_BASE + off) = val;
}

/* Device memory at offset off, through the core's window. */
#define fw_devmem(off) ((void *)(uintptr_t)(MTIA_CC_DEVMEM_BASE + (off)))

/* ---- CSRs ---------------------------------------------------------------- */
#define csr_read(csr) ({ uint32_t v_; __asm__ volatile("csrr %0, " #csr : "=r"(v_)); v_; })
#define csr_write(csr, val) __asm__ volatile("csrw " #csr ", %0" ::"rK"(val) : "memory")
#define csr_set(csr, bits) __asm__ volatile("csrs " #csr ", %0" ::"rK"(bits) : "memory")
#define csr_clear(csr, bits) __asm__ volatile("csrc " #csr ", %0" ::"rK"(bits) : "memory")

#define fw_wfi() __asm__ volatile("wfi")
/* Order earlier stores before later ones (the log ring's publish). */
#define fw_wmb() __asm__ volatile("fence w, w" ::: "memory")
#endif

#define MSTATUS_MIE   (1u << 3)
#define MIE_MTIE      (1u << 7)
#define MIE_MEIE      (1u << 11)
#define MCAUSE_IRQ    (1u << 31)
#define IRQ_M_TIMER   7
#define IRQ_M_EXT     11

/* ---- time ---------------------------------------------------------------- */
uint64_t mtime_read(void);
void mtimecmp_write(uint64_t when);
/* n / d and n % d for a 64-bit n (no libgcc in this build). */
uint64_t udiv64(uint64_t n, uint32_t d, uint32_t *rem);

/* ---- logging ------------------------------------------------------------- */
enum { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };
#define LOG_LEVEL_DEFAULT LOG_INFO
extern uint32_t fw_log_level;

/* Set up the ring at MTIA_DEVMEM_FW_LOG_OFF; false if device memory is too
 * small (logging is then off and FW_LOG_SIZE reads 0). */
int log_init(void);
/* No format(printf) attribute: this toolchain's uint32_t is unsigned long,
 * and every conversion here takes a 32-bit argument anyway. */
void fw_log(unsigned level, const char *fmt, ...);
#define log_err(...)   fw_log(LOG_ERR, __VA_ARGS__)
#define log_warn(...)  fw_log(LOG_WARN, __VA_ARGS__)
#define log_info(...)  fw_log(LOG_INFO, __VA_ARGS__)
#define log_debug(...) fw_log(LOG_DEBUG, __VA_ARGS__)
/* vsnprintf subset: %d %u %x %s %c %%, flags '0' '-', field width. */
size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* ---- heartbeat ----------------------------------------------------------- */
extern uint32_t fw_heartbeat_ms;
void heartbeat_arm(void);   /* next tick one period from now */
/* Timer interrupt (also called from ext_irq when MTIP is pending): heartbeat
 * and the dispatcher's wait-mode poll share mtimecmp. */
void timer_irq(void);
/* Call dispatch_poll_tick() from the timer @ticks from now (one at a time). */
void timer_poll_after(uint32_t ticks);

/* ---- admin mailbox ------------------------------------------------------- */
/* Serve a posted command; 0 if the doorbell was not rung. */
int mbox_irq(void);

/* ---- command dispatcher (dispatch.c) ------------------------------------- */
void ext_irq(void);             /* external interrupt: mailbox, queues, engine events */
void dispatch_poll_tick(void);  /* timer_poll_after() deadline reached */
/* MTIA_ADMIN_GET_QSTATS: args[0..5] of queue q; 0 if q is out of range. */
int queue_stats(uint32_t q, uint32_t *args);

/* ---- fatal paths --------------------------------------------------------- */
/* Spin forever with interrupts off (test hang). */
__attribute__((noreturn)) void fw_hang(void);
/* Clear mtvec and execute an illegal instruction (fw_illegal_insn, encoding
 * 0xc0001073 = csrrw x0, cycle, x0): the core halts with mcause 2. */
__attribute__((noreturn)) void fw_die_illegal(void);

/* ---- entry points from crt0.S ------------------------------------------- */
int fw_main(uint32_t flags, uint32_t boot_status);
void fw_trap(uint32_t mcause, uint32_t mepc, uint32_t mtval);

/* ---- freestanding helpers (lib.c; the host build uses libc's) ------------ */
#ifdef FW_HOST
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
size_t strlen(const char *s);
#endif

#endif /* MTIA_FW_H */
