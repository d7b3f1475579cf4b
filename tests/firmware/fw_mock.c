// SPDX-License-Identifier: MIT
/* The firmware's host-build device mock: see fw_mock.h. */
#include "fw_mock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NREGS (FW_MOCK_REG_BYTES / 4)

jmp_buf fw_mock_jmp;
int fw_mock_armed;
enum fw_mock_stop fw_mock_stopped;

static struct mock_state {
    uint32_t regs[NREGS];
    fw_mock_read_fn on_read[NREGS];
    fw_mock_write_fn on_write[NREGS];
    void *read_ctx[NREGS], *write_ctx[NREGS];
    unsigned reads[NREGS], writes[NREGS], csr_reads[FW_CSR_COUNT];
    struct fw_mock_write log[FW_MOCK_MAX_WRITES];
    size_t nlog;
    uint32_t csr[FW_CSR_COUNT];
    fw_mock_csr_fn on_csr[FW_CSR_COUNT];
    void *csr_ctx[FW_CSR_COUNT];
    uint64_t mtime;
    uint32_t time_step;
} m;

static uint8_t devmem[FW_MOCK_DEVMEM_BYTES];
static uint32_t devmem_low; /* lowest offset handed out since the last reset */
static void (*fail_handler)(const char *msg);

void fw_mock_reset(void)
{
    void (*keep)(const char *) = fail_handler;

    /* all but the write record's entries (512 KiB: the fuzz targets reset
     * for every input) */
    memset(&m, 0, offsetof(struct mock_state, log));
    memset((char *)&m + offsetof(struct mock_state, nlog), 0, sizeof(m) - offsetof(struct mock_state, nlog));
    /* only what the firmware can have reached (the log ring, at the end) */
    memset(devmem + devmem_low, 0, sizeof(devmem) - devmem_low);
    devmem_low = sizeof(devmem);
    m.regs[MTIA_CC_REG_MTIMECMP_LO / 4] = m.regs[MTIA_CC_REG_MTIMECMP_HI / 4] = 0xffffffffu;
    fail_handler = keep;
    fw_mock_armed = 0;
}

void fw_mock_set_fail_handler(void (*fn)(const char *msg)) { fail_handler = fn; }

void fw_mock_fail(const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (fail_handler) fail_handler(msg);
    fprintf(stderr, "fw_mock: %s\n", msg);
    abort();
}

static unsigned reg_index(uint32_t off, const char *what)
{
    if (off >= FW_MOCK_REG_BYTES || (off & 3))
        fw_mock_fail("firmware %s of register 0x%x, outside the mocked window", what, off);
    return off / 4;
}

uint32_t fw_mock_reg_read(uint32_t off)
{
    unsigned i = reg_index(off, "read");

    m.reads[i]++;
    if (m.on_read[i]) return m.on_read[i](off, m.read_ctx[i]);
    if (off == MTIA_CC_REG_MTIME_LO) return (uint32_t)m.mtime;
    if (off == MTIA_CC_REG_MTIME_HI) return (uint32_t)(m.mtime >> 32);
    return m.regs[i];
}

void fw_mock_reg_write(uint32_t off, uint32_t val)
{
    unsigned i = reg_index(off, "write");

    m.writes[i]++;
    if (m.nlog < FW_MOCK_MAX_WRITES) m.log[m.nlog++] = (struct fw_mock_write){off, val};
    if (m.on_write[i]) {
        m.on_write[i](off, val, m.write_ctx[i]);
        return;
    }
    if (off == MTIA_REG_MBOX_DOORBELL || off == MTIA_CC_REG_ENGINE_EVENT)
        m.regs[i] &= ~val; /* RW1C */
    else
        m.regs[i] = val;
}

void *fw_mock_devmem(uint32_t off)
{
    if (off >= sizeof(devmem))
        fw_mock_fail("device memory offset 0x%x outside the mocked 0x%zx bytes", off, sizeof(devmem));
    if (off < devmem_low) devmem_low = off;
    return devmem + off;
}

static uint32_t csr_value(enum fw_csr csr)
{
    if ((unsigned)csr >= FW_CSR_COUNT) fw_mock_fail("CSR %d", (int)csr);
    return m.csr[csr];
}

uint32_t fw_mock_csr_read(enum fw_csr csr)
{
    uint32_t v = csr_value(csr);

    m.csr_reads[csr]++;
    if (m.on_csr[csr]) return m.on_csr[csr](m.csr_ctx[csr]);
    switch (csr) {
        case FW_CSR_mip:
            if (m.mtime >= fw_mock_mtimecmp()) v |= 1u << 7; /* MTIP */
            if (m.regs[MTIA_REG_MBOX_DOORBELL / 4] || m.regs[MTIA_CC_REG_Q_PENDING / 4] ||
                m.regs[MTIA_CC_REG_ENGINE_EVENT / 4])
                v |= 1u << 11; /* MEIP */
            return v;
        case FW_CSR_time:
            v = (uint32_t)m.mtime;
            m.mtime += m.time_step;
            return v;
        default:
            return v;
    }
}

void fw_mock_csr_write(enum fw_csr csr, uint32_t val)
{
    csr_value(csr);
    m.csr[csr] = val;
}

void fw_mock_csr_set(enum fw_csr csr, uint32_t bits) { m.csr[csr] = csr_value(csr) | bits; }

void fw_mock_csr_clear(enum fw_csr csr, uint32_t bits) { m.csr[csr] = csr_value(csr) & ~bits; }

static __attribute__((noreturn)) void stop(enum fw_mock_stop how, const char *what)
{
    if (!fw_mock_armed) fw_mock_fail("firmware reached %s outside FW_MOCK_RUN", what);
    fw_mock_armed = 0;
    fw_mock_stopped = how;
    longjmp(fw_mock_jmp, 1);
}

void fw_mock_wfi(void) { stop(FW_MOCK_WFI, "WFI"); }

/* The firmware's no-return exits (crt0.S on the core). */
void fw_hang(void)
{
    m.csr[FW_CSR_mstatus] &= ~(1u << 3);
    m.csr[FW_CSR_mie] = 0;
    stop(FW_MOCK_HANG, "fw_hang");
}

void fw_die_illegal(void)
{
    m.csr[FW_CSR_mstatus] &= ~(1u << 3);
    m.csr[FW_CSR_mtvec] = 0;
    stop(FW_MOCK_ILLEGAL, "fw_die_illegal");
}

void fw_mock_on_read(uint32_t off, fw_mock_read_fn fn, void *ctx)
{
    unsigned i = reg_index(off, "read hook");

    m.on_read[i] = fn;
    m.read_ctx[i] = ctx;
}

void fw_mock_on_write(uint32_t off, fw_mock_write_fn fn, void *ctx)
{
    unsigned i = reg_index(off, "write hook");

    m.on_write[i] = fn;
    m.write_ctx[i] = ctx;
}

void fw_mock_on_csr_read(enum fw_csr csr, fw_mock_csr_fn fn, void *ctx)
{
    csr_value(csr);
    m.on_csr[csr] = fn;
    m.csr_ctx[csr] = ctx;
}

uint32_t fw_mock_reg(uint32_t off) { return m.regs[reg_index(off, "peek")]; }

void fw_mock_set_reg(uint32_t off, uint32_t val) { m.regs[reg_index(off, "poke")] = val; }

uint32_t fw_mock_csr(enum fw_csr csr) { return csr_value(csr); }

void fw_mock_set_csr(enum fw_csr csr, uint32_t val) { fw_mock_csr_write(csr, val); }

unsigned fw_mock_read_count(uint32_t off) { return m.reads[reg_index(off, "count")]; }

unsigned fw_mock_csr_read_count(enum fw_csr csr)
{
    csr_value(csr);
    return m.csr_reads[csr];
}

unsigned fw_mock_write_count(uint32_t off) { return m.writes[reg_index(off, "count")]; }

size_t fw_mock_writes(void) { return m.nlog; }

const struct fw_mock_write *fw_mock_write_at(size_t i) { return i < m.nlog ? &m.log[i] : NULL; }

int fw_mock_last_write(uint32_t off, uint32_t *val)
{
    for (size_t i = m.nlog; i-- > 0;) {
        if (m.log[i].off == off) {
            *val = m.log[i].val;
            return 1;
        }
    }
    return 0;
}

void fw_mock_clear_counts(void)
{
    memset(m.reads, 0, sizeof(m.reads));
    memset(m.writes, 0, sizeof(m.writes));
    memset(m.csr_reads, 0, sizeof(m.csr_reads));
    m.nlog = 0;
}

void fw_mock_set_mtime(uint64_t t) { m.mtime = t; }

uint64_t fw_mock_mtime(void) { return m.mtime; }

uint64_t fw_mock_mtimecmp(void)
{
    return (uint64_t)m.regs[MTIA_CC_REG_MTIMECMP_HI / 4] << 32 | m.regs[MTIA_CC_REG_MTIMECMP_LO / 4];
}

void fw_mock_set_time_step(uint32_t ticks) { m.time_step = ticks; }
