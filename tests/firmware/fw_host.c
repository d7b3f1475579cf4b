// SPDX-License-Identifier: MIT
/*
 * The firmware's modules built for the host as one translation unit, so that
 * fw_host_power_on() can put every module's static state back to what crt0
 * leaves on the core (.data as linked, .bss zero) between tests and fuzz
 * inputs. A static added to a firmware module must be reset here too.
 */
#include "firmware/main.c"
#include "firmware/mbox.c"
#include "firmware/dispatch.c"
#include "firmware/log.c"
#include "firmware/lib.c"

#include "fw_host.h"

static void firmware_statics_reset(void)
{
    /* main.c */
    fw_heartbeat_ms = 100;
    heartbeat_count = 0;
    heartbeat_next = poll_next = 0;
    in_fatal = 0;
    /* dispatch.c */
    memset(queues, 0, sizeof(queues));
    seen_pending = prio_fresh = parked = failed = 0;
    memset(prio_mask, 0, sizeof(prio_mask));
    memset(rr_next, 0, sizeof(rr_next));
    fence_force = 0;
    /* log.c */
    fw_log_level = LOG_LEVEL_DEFAULT;
    log_hdr = NULL;
    log_data = NULL;
    log_data_size = log_head = log_pos = 0;
}

void fw_host_power_on(uint64_t devmem_size)
{
    fw_mock_reset();
    firmware_statics_reset();
    fw_mock_set_reg(MTIA_REG_MAGIC, MTIA_MAGIC_VALUE);
    fw_mock_set_reg(MTIA_REG_IF_VERSION, mtia_if_version(MTIA_IF_VERSION_MAJOR, MTIA_IF_VERSION_MINOR));
    fw_mock_set_reg(MTIA_REG_CHIP_ID, MTIA_CHIP_ID_MTIA1);
    fw_mock_set_reg(MTIA_REG_REVISION, 1);
    fw_mock_set_reg(MTIA_REG_PE_GRID, mtia_pe_grid(8, 8));
    fw_mock_set_reg(MTIA_REG_MSIX_VECTORS, 1);
    fw_mock_set_reg(MTIA_REG_SRAM_SIZE_LO, MTIA_CC_SRAM_SIZE);
    fw_mock_set_reg(MTIA_REG_DEVMEM_SIZE_LO, (uint32_t)devmem_size);
    fw_mock_set_reg(MTIA_REG_DEVMEM_SIZE_HI, (uint32_t)(devmem_size >> 32));
    fw_mock_set_reg(MTIA_REG_FW_BOOT_STATUS, MTIA_BOOT_RUNNING);
}

enum fw_mock_stop fw_host_boot(uint32_t flags)
{
    enum fw_mock_stop stop;

    FW_MOCK_RUN(stop, fw_main(flags, MTIA_BOOT_RUNNING));
    return stop;
}

void fw_host_log_seek(uint32_t head)
{
    log_head = head;
    log_pos = head % log_data_size;
    log_hdr->head = head;
}
