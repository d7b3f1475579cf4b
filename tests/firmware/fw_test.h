/* SPDX-License-Identifier: MIT */
/*
 * What the firmware's CMocka tests share: the runner (one binary per module;
 * `--list` prints its test names, a name as argument runs that test alone,
 * which is how ctest runs each one, see cmake/cmocka.cmake), fixtures that
 * power the mocked device on and boot the firmware, and readers of what the
 * firmware left in the mock (the log ring, the mailbox response).
 */
#ifndef MTIA_FW_TEST_H
#define MTIA_FW_TEST_H

/* cmocka.h needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fw_host.h"

int fw_test_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests, size_t n);
#define FW_TEST_MAIN(group, tests) \
    int main(int argc, char **argv) { return fw_test_main(argc, argv, group, tests, sizeof(tests) / sizeof(tests[0])); }

/* Fixtures. fw_test_power_on: the device on (FW_HOST_DEVMEM_SIZE), the
 * firmware not started; fw_test_booted: fw_main ran to WFI (READY), the
 * write record and counters cleared. Both route the mock's failures
 * (an access outside the mocked window, a protocol error) to fail_msg. */
int fw_test_power_on(void **state);
int fw_test_booted(void **state);

/* The text the log ring holds (the last min(head, ring) bytes), and
 * whether it contains s. */
const char *fw_test_log(void);
int fw_test_log_has(const char *s);
#define assert_log_has(s)                                                                  \
    do {                                                                                   \
        if (!fw_test_log_has(s)) fail_msg("log lacks \"%s\"; log:\n%s", s, fw_test_log()); \
    } while (0)

/* The mailbox response the firmware wrote (MBOX_RESP words). */
struct mtia_mbox_msg fw_test_mbox_resp(void);

#endif /* MTIA_FW_TEST_H */
