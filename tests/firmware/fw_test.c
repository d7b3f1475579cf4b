// SPDX-License-Identifier: MIT
/* The firmware CMocka tests' runner, fixtures and readers: see fw_test.h. */
#include "fw_test.h"

#include <stdio.h>
#include <string.h>

int fw_test_main(int argc, char **argv, const char *group, const struct CMUnitTest *tests, size_t n)
{
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < n; i++) printf("%s\n", tests[i].name);
        return 0;
    }
    if (argc == 2) {
        size_t i;

        for (i = 0; i < n && strcmp(tests[i].name, argv[1]) != 0; i++)
            ;
        if (i == n) {
            fprintf(stderr, "%s: no test %s (--list)\n", group, argv[1]);
            return 2;
        }
        cmocka_set_test_filter(argv[1]);
    } else if (argc > 2) {
        fprintf(stderr, "usage: %s [--list | TEST]\n", argv[0]);
        return 2;
    }
    return _cmocka_run_group_tests(group, tests, n, NULL, NULL);
}

static void fail_to_cmocka(const char *msg) { fail_msg("%s", msg); }

int fw_test_power_on(void **state)
{
    (void)state;
    fw_mock_set_fail_handler(fail_to_cmocka);
    fw_host_power_on(FW_HOST_DEVMEM_SIZE);
    return 0;
}

int fw_test_booted(void **state)
{
    enum fw_mock_stop stop;

    fw_test_power_on(state);
    stop = fw_host_boot(0);
    if (stop != FW_MOCK_WFI) {
        fprintf(stderr, "firmware did not boot to WFI (stop %d)\n", (int)stop);
        return -1;
    }
    fw_mock_clear_counts();
    return 0;
}

const char *fw_test_log(void)
{
    static char text[MTIA_DEVMEM_FW_LOG_SIZE + 1];
    const struct mtia_fw_log_header *h = fw_mock_devmem(MTIA_DEVMEM_FW_LOG_OFF);
    const char *data = (const char *)(h + 1);
    uint32_t ring, n;

    if (h->magic != MTIA_FW_LOG_MAGIC || h->size != MTIA_DEVMEM_FW_LOG_SIZE) return "";
    ring = h->size - sizeof(*h);
    n = h->head < ring ? h->head : ring;
    for (uint32_t i = 0; i < n; i++) text[i] = data[(h->head - n + i) % ring];
    text[n] = '\0';
    return text;
}

int fw_test_log_has(const char *s) { return strstr(fw_test_log(), s) != NULL; }

struct mtia_mbox_msg fw_test_mbox_resp(void)
{
    struct mtia_mbox_msg r;
    uint32_t w[MTIA_MBOX_MSG_BYTES / 4];

    for (unsigned i = 0; i < MTIA_MBOX_MSG_BYTES / 4; i++) w[i] = fw_mock_reg(MTIA_REG_MBOX_RESP + 4 * i);
    memcpy(&r, w, sizeof(r));
    return r;
}
