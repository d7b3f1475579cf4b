// SPDX-License-Identifier: MIT
/*
 * Firmware log ring in device memory (struct mtia_fw_log_header, then text).
 * head counts bytes ever written, wrapping at LOG_HEAD_WRAP, the largest
 * multiple of the ring below 2^32 (2^32 is not one: a reader's
 * data[head % ring] would be 256 bytes off after it); byte i of the stream
 * is at data[i % (size - 16)]. Each line is formatted completely first, copied
 * into the ring, and only then published by one store to head, so a reader
 * never sees a partial line below head. Lines look like
 * "[   12.345] text\n" (mtime in seconds.milliseconds).
 */
#include "fw.h"

#define LOG_LINE_MAX  160
#define LOG_RING      (MTIA_DEVMEM_FW_LOG_SIZE - sizeof(struct mtia_fw_log_header))
#define LOG_HEAD_WRAP ((uint32_t)(0xffffffffu / LOG_RING * LOG_RING))

uint32_t fw_log_level = LOG_LEVEL_DEFAULT;

static volatile struct mtia_fw_log_header *log_hdr;
static volatile uint8_t *log_data;
static uint32_t log_data_size;
static uint32_t log_head;   /* bytes written so far (mirrors log_hdr->head) */
static uint32_t log_pos;    /* log_head % log_data_size */

int log_init(void)
{
    uint64_t devmem = (uint64_t)reg_read(MTIA_REG_DEVMEM_SIZE_HI) << 32 |
                      reg_read(MTIA_REG_DEVMEM_SIZE_LO);

    if (devmem < MTIA_DEVMEM_FW_LOG_OFF + MTIA_DEVMEM_FW_LOG_SIZE) {
        reg_write(MTIA_REG_FW_LOG_ADDR, 0);
        reg_write(MTIA_REG_FW_LOG_SIZE, 0);
        return 0;
    }
    log_hdr = fw_devmem(MTIA_DEVMEM_FW_LOG_OFF);
    log_data = (volatile uint8_t *)(log_hdr + 1);
    log_data_size = LOG_RING;
    log_head = log_pos = 0;

    /* magic last: a reader that sees it sees a consistent header */
    log_hdr->magic = 0;
    log_hdr->size = MTIA_DEVMEM_FW_LOG_SIZE;
    log_hdr->head = 0;
    log_hdr->reserved = 0;
    log_hdr->magic = MTIA_FW_LOG_MAGIC;

    reg_write(MTIA_REG_FW_LOG_ADDR, MTIA_DEVMEM_FW_LOG_OFF);
    reg_write(MTIA_REG_FW_LOG_SIZE, MTIA_DEVMEM_FW_LOG_SIZE);
    return 1;
}

static void log_put(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        log_data[log_pos] = (uint8_t)s[i];
        if (++log_pos == log_data_size)
            log_pos = 0;
    }
    /* log_head + n, wrapping at LOG_HEAD_WRAP (the sum may pass 2^32) */
    log_head = log_head < LOG_HEAD_WRAP - n ? log_head + (uint32_t)n
                                             : log_head + (uint32_t)n - LOG_HEAD_WRAP;
    fw_wmb();
    log_hdr->head = log_head;
}

static size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    n = fmt_vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

void fw_log(unsigned level, const char *fmt, ...)
{
    static const char *const prefix[] = { "error: ", "warning: ", "", "" };
    char line[LOG_LINE_MAX];
    uint32_t ms, sec, frac;
    size_t n;
    va_list ap;

    if (!log_hdr || level > fw_log_level)
        return;
    ms = (uint32_t)udiv64(mtime_read(), MTIA_CC_TIMEBASE_HZ / 1000, 0);
    sec = ms / 1000;
    frac = ms % 1000;
    n = fmt_snprintf(line, sizeof(line), "[%5u.%03u] %s", sec, frac, prefix[level & 3]);
    va_start(ap, fmt);
    n += fmt_vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    va_end(ap);
    if (n > sizeof(line) - 2)   /* truncated: keep room for the newline */
        n = sizeof(line) - 2;
    line[n++] = '\n';
    log_put(line, n);
}

/* ---- a small vsnprintf --------------------------------------------------- */

struct out {
    char *buf;
    size_t size, len;   /* len: characters stored (< size) */
};

static void out_c(struct out *o, char c)
{
    if (o->len + 1 < o->size)
        o->buf[o->len++] = c;
}

static void out_field(struct out *o, const char *s, size_t n, unsigned width, int left, char pad)
{
    size_t fill = width > n ? width - n : 0;

    if (!left)
        while (fill--)
            out_c(o, pad);
    while (n--)
        out_c(o, *s++);
    if (left)
        while (fill--)
            out_c(o, ' ');
}

size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct out o = { buf, size, 0 };
    char num[12];

    for (; *fmt; fmt++) {
        unsigned width = 0, base;
        int left = 0, neg = 0;
        char pad = ' ';
        uint32_t v;
        size_t n;

        if (*fmt != '%') {
            out_c(&o, *fmt);
            continue;
        }
        fmt++;
        for (;; fmt++) {
            if (*fmt == '0')
                pad = '0';
            else if (*fmt == '-')
                left = 1;
            else
                break;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            out_field(&o, s, strlen(s), width, left, ' ');
            continue;
        }
        case 'c':
            num[0] = (char)va_arg(ap, int);
            out_field(&o, num, 1, width, left, ' ');
            continue;
        case 'd': {
            int32_t x = va_arg(ap, int32_t);
            neg = x < 0;
            v = neg ? 0u - (uint32_t)x : (uint32_t)x;
            base = 10;
            break;
        }
        case 'u':
            v = va_arg(ap, uint32_t);
            base = 10;
            break;
        case 'x':
            v = va_arg(ap, uint32_t);
            base = 16;
            break;
        case '%':
            out_c(&o, '%');
            continue;
        case '\0':
            fmt--;  /* stray '%' at the end */
            continue;
        default:    /* unknown conversion: print it literally */
            out_c(&o, '%');
            out_c(&o, *fmt);
            continue;
        }
        n = sizeof(num);
        do {
            num[--n] = "0123456789abcdef"[v % base];
            v /= base;
        } while (v);
        if (neg) {
            if (pad == '0') {   /* sign before the zero padding */
                out_c(&o, '-');
                width = width ? width - 1 : 0;
            } else {
                num[--n] = '-';
            }
        }
        out_field(&o, num + n, sizeof(num) - n, width, left, pad);
    }
    if (o.size)
        o.buf[o.len] = '\0';
    return o.len;
}
