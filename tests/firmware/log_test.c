// SPDX-License-Identifier: MIT
/*
 * The log ring and the formatter (firmware/log.c) on the host: the header,
 * the line format and levels, truncation, wrap-around (head counts every
 * byte, data[i % ring] holds stream byte i, only whole lines published),
 * a device memory too small for the ring, and fmt_vsnprintf's conversions,
 * flags, widths and buffer bounds.
 */
#include "fw_test.h"

#include <stdio.h>
#include <string.h>

#define RING (MTIA_DEVMEM_FW_LOG_SIZE - sizeof(struct mtia_fw_log_header))

static const volatile struct mtia_fw_log_header *hdr(void) { return fw_mock_devmem(MTIA_DEVMEM_FW_LOG_OFF); }

static int setup_log(void **state)
{
    fw_test_power_on(state);
    return log_init() == 1 ? 0 : -1;
}

static void header_and_registers(void **state)
{
    (void)state;
    assert_int_equal(hdr()->magic, MTIA_FW_LOG_MAGIC);
    assert_int_equal(hdr()->size, MTIA_DEVMEM_FW_LOG_SIZE);
    assert_int_equal(hdr()->head, 0);
    assert_int_equal(hdr()->reserved, 0);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_LOG_ADDR), MTIA_DEVMEM_FW_LOG_OFF);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_LOG_SIZE), MTIA_DEVMEM_FW_LOG_SIZE);
}

/* A reboot rewrites the header: head back to 0. */
static void init_again_resets_head(void **state)
{
    (void)state;
    log_info("before");
    assert_int_not_equal(hdr()->head, 0);
    assert_int_equal(log_init(), 1);
    assert_int_equal(hdr()->head, 0);
    assert_string_equal(fw_test_log(), "");
}

static void small_devmem_disables_the_log(void **state)
{
    static const uint8_t zero[256];

    (void)state;
    fw_test_power_on(state);
    fw_mock_set_reg(MTIA_REG_DEVMEM_SIZE_LO, MTIA_DEVMEM_FW_LOG_OFF + MTIA_DEVMEM_FW_LOG_SIZE - 1);
    fw_mock_set_reg(MTIA_REG_FW_LOG_SIZE, 0x1234);
    assert_int_equal(log_init(), 0);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_LOG_ADDR), 0);
    assert_int_equal(fw_mock_reg(MTIA_REG_FW_LOG_SIZE), 0);
    log_err("nobody reads this");
    assert_memory_equal(fw_mock_devmem(MTIA_DEVMEM_FW_LOG_OFF), zero, sizeof(zero));
    /* exactly the ring's end is enough */
    fw_mock_set_reg(MTIA_REG_DEVMEM_SIZE_LO, MTIA_DEVMEM_FW_LOG_OFF + MTIA_DEVMEM_FW_LOG_SIZE);
    assert_int_equal(log_init(), 1);
    /* a 64-bit size whose low word is small */
    fw_mock_set_reg(MTIA_REG_DEVMEM_SIZE_LO, 0);
    fw_mock_set_reg(MTIA_REG_DEVMEM_SIZE_HI, 1);
    assert_int_equal(log_init(), 1);
}

/* "[sssss.mmm] " from mtime in us, then the level's prefix. */
static void line_format_and_prefixes(void **state)
{
    (void)state;
    fw_mock_set_mtime(12345678);
    log_err("e %u", 1);
    fw_mock_set_mtime(99999999999ull); /* 99999.999 s */
    log_warn("w %s", "x");
    fw_mock_set_mtime((1ull << 32) + 5000); /* past 2^32 us */
    log_info("i %x", 0xabcu);
    assert_string_equal(fw_test_log(),
                        "[   12.345] error: e 1\n"
                        "[99999.999] warning: w x\n"
                        "[ 4294.972] i abc\n");
    assert_int_equal(hdr()->head, strlen(fw_test_log()));
}

static void levels_filter(void **state)
{
    (void)state;
    log_debug("hidden");
    assert_int_equal(hdr()->head, 0);
    fw_log_level = LOG_DEBUG;
    log_debug("shown");
    fw_log_level = LOG_ERR;
    log_warn("hidden too");
    log_err("kept");
    assert_string_equal(fw_test_log(), "[    0.000] shown\n[    0.000] error: kept\n");
}

/* Lines are at most 158 characters plus the newline. */
static void long_lines_truncated(void **state)
{
    char msg[400];
    const char *log;

    (void)state;
    memset(msg, 'x', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    log_info("%s", msg);
    log_err("%s", msg);
    log = fw_test_log();
    assert_int_equal(strlen(log), 2 * 159);
    assert_int_equal(log[158], '\n');
    assert_int_equal(log[159 + 158], '\n');
    assert_memory_equal(log + 159, "[    0.000] error: xxx", 22);
}

/*
 * Many lines through the ring: head counts every byte; the ring holds the
 * stream's last RING bytes at data[i % RING]; each publish of head ends a
 * line (a reader never sees a partial line below head).
 */
static void wraps_around(void **state)
{
    static char stream[3 * MTIA_DEVMEM_FW_LOG_SIZE];
    size_t len = 0;
    const volatile uint8_t *data = (const volatile uint8_t *)(hdr() + 1);

    (void)state;
    for (unsigned i = 0; len < sizeof(stream) - 200; i++) {
        char line[200];
        int n;

        fw_mock_set_mtime((uint64_t)i * 1001);
        log_info("line %u %s", i, &"................................"[i % 32]);
        n = snprintf(line, sizeof(line), "[%5u.%03u] line %u %s\n", i * 1001 / 1000000, i * 1001 / 1000 % 1000, i,
                     &"................................"[i % 32]);
        memcpy(stream + len, line, (size_t)n);
        len += (size_t)n;
        assert_int_equal(hdr()->head, len);
        assert_int_equal(data[(len - 1) % RING], '\n');
    }
    assert_true(len > 2 * RING);
    for (size_t i = len - RING; i < len; i++)
        if (data[i % RING] != (uint8_t)stream[i])
            fail_msg("stream byte %zu: ring has 0x%02x, expected 0x%02x", i, data[i % RING], (uint8_t)stream[i]);
    assert_memory_equal(fw_test_log(), stream + len - RING, RING);
}

/*
 * head wraps at the largest multiple of the ring below 2^32, so that stream
 * byte i stays at data[i % RING] across the wrap (and a reader's view, the
 * newest head bytes right after it, is whole lines of the stream).
 */
static void head_wraps_at_a_multiple_of_the_ring(void **state)
{
    const uint64_t wrap = 0xffffffffu / RING * RING, start = wrap - 1000;
    static char stream[4096];
    size_t len = 0;
    const volatile uint8_t *data = (const volatile uint8_t *)(hdr() + 1);

    (void)state;
    assert_int_equal(wrap, 4294967040u);
    fw_host_log_seek((uint32_t)start);
    while (len < 2000) {
        char line[64];
        int n = snprintf(line, sizeof(line), "[    0.000] wrap line %u\n", (unsigned)len);

        log_info("wrap line %u", (uint32_t)len);
        memcpy(stream + len, line, (size_t)n);
        len += (size_t)n;
        assert_int_equal(hdr()->head, (start + len) % wrap);
    }
    for (size_t i = 0; i < len; i++)
        if (data[(start + i) % RING] != (uint8_t)stream[i])
            fail_msg("stream byte %zu (head %llu): ring has 0x%02x, expected 0x%02x", i,
                     (unsigned long long)(start + i), data[(start + i) % RING], (uint8_t)stream[i]);
    assert_int_equal(strlen(fw_test_log()), hdr()->head);
    assert_memory_equal(fw_test_log(), stream + len - hdr()->head, hdr()->head);
}

/* fmt_vsnprintf through a varargs wrapper. */
static size_t fmt(char *buf, size_t size, const char *f, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, f);
    n = fmt_vsnprintf(buf, size, f, ap);
    va_end(ap);
    return n;
}

#define FMT_EQ(want, ...)                             \
    do {                                              \
        char b_[64];                                  \
        size_t n_ = fmt(b_, sizeof(b_), __VA_ARGS__); \
        assert_string_equal(b_, want);                \
        assert_int_equal(n_, strlen(want));           \
    } while (0)

static void fmt_conversions(void **state)
{
    (void)state;
    FMT_EQ("plain", "plain");
    FMT_EQ("0 42 -42 2147483647 -2147483648", "%d %d %d %d %d", 0, 42, -42, INT32_MAX, INT32_MIN);
    FMT_EQ("0 4294967295", "%u %u", 0u, UINT32_MAX);
    FMT_EQ("0 ff deadbeef ffffffff", "%x %x %x %x", 0u, 255u, 0xdeadbeefu, UINT32_MAX);
    FMT_EQ("str (null) c%", "%s %s %c%%", "str", (const char *)NULL, 'c');
    FMT_EQ("", "%s", "");
}

static void fmt_flags_and_widths(void **state)
{
    (void)state;
    FMT_EQ("[   42]", "[%5u]", 42u);
    FMT_EQ("[00042]", "[%05u]", 42u);
    FMT_EQ("[42   ]", "[%-5u]", 42u);
    FMT_EQ("[  -42]", "[%5d]", -42);
    FMT_EQ("[-0042]", "[%05d]", -42); /* sign before the zeros */
    FMT_EQ("[-42  ]", "[%-5d]", -42);
    FMT_EQ("[0x0000ab]", "[0x%06x]", 0xabu);
    FMT_EQ("[   ab]", "[%5s]", "ab");
    FMT_EQ("[ab   ]", "[%-5s]", "ab");
    FMT_EQ("[    z]", "[%5c]", 'z');
    FMT_EQ("[toolong]", "[%3s]", "toolong"); /* width is a minimum */
    FMT_EQ("[-1]", "[%0d]", -1);
    FMT_EQ("[42   ]", "[%-05u]", 42u); /* '-' wins: spaces on the right */
}

static void fmt_odd_formats(void **state)
{
    (void)state;
    FMT_EQ("%q %l", "%q %l");  /* unknown conversions printed literally */
    FMT_EQ("end ", "end %");   /* a stray '%' at the end */
    FMT_EQ("end ", "end %-0"); /* flags then the end */
    FMT_EQ("a", "a%5");        /* a width then the end */
}

/* Never more than size - 1 characters and a NUL; size 0 writes nothing;
 * the result is what was stored. */
static void fmt_bounds(void **state)
{
    char b[8];

    (void)state;
    memset(b, '#', sizeof(b));
    assert_int_equal(fmt(b, 4, "%u", 123456u), 3);
    assert_memory_equal(b, "123\0####", 8);
    memset(b, '#', sizeof(b));
    assert_int_equal(fmt(b, 1, "abc"), 0);
    assert_memory_equal(b, "\0#######", 8);
    memset(b, '#', sizeof(b));
    assert_int_equal(fmt(b, 0, "abc %s", "def"), 0);
    assert_memory_equal(b, "########", 8);
    memset(b, '#', sizeof(b));
    assert_int_equal(fmt(b, 6, "%-10s|", "ab"), 5);
    assert_memory_equal(b, "ab   \0##", 8);
    memset(b, '#', sizeof(b));
    assert_int_equal(fmt(b, 5, "%08x", 0x1u), 4);
    assert_memory_equal(b, "0000\0###", 8);
}

static const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup(header_and_registers, setup_log),
    cmocka_unit_test_setup(init_again_resets_head, setup_log),
    cmocka_unit_test(small_devmem_disables_the_log),
    cmocka_unit_test_setup(line_format_and_prefixes, setup_log),
    cmocka_unit_test_setup(levels_filter, setup_log),
    cmocka_unit_test_setup(long_lines_truncated, setup_log),
    cmocka_unit_test_setup(wraps_around, setup_log),
    cmocka_unit_test_setup(head_wraps_at_a_multiple_of_the_ring, setup_log),
    cmocka_unit_test(fmt_conversions),
    cmocka_unit_test(fmt_flags_and_widths),
    cmocka_unit_test(fmt_odd_formats),
    cmocka_unit_test(fmt_bounds),
};

FW_TEST_MAIN("fw_log", tests)
