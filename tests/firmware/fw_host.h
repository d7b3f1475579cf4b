/* SPDX-License-Identifier: MIT */
/*
 * The firmware compiled for the host (fw_host.c: the firmware's modules
 * with FW_HOST, see firmware/fw.h) and the power-on and boot steps the
 * CMocka tests and fuzz targets share.
 */
#ifndef MTIA_FW_HOST_H
#define MTIA_FW_HOST_H

#include <stdint.h>

#include "fw.h"
#include "fw_mock.h"

/* Device memory the mock reports at boot: room for the log ring. */
#define FW_HOST_DEVMEM_SIZE (256ull << 20)

/*
 * Power cycle: the mock at power-on, the firmware's state as crt0 leaves it
 * (.data as linked, .bss zero), and the identity registers the device
 * presents (magic, interface version, chip, PE grid, SRAM and
 * DEVMEM_SIZE = devmem_size; below the log ring's end the log is off).
 */
void fw_host_power_on(uint64_t devmem_size);
/* fw_main(flags, MTIA_BOOT_RUNNING) until it idles (FW_MOCK_WFI), hangs or
 * traps. */
enum fw_mock_stop fw_host_boot(uint32_t flags);

/* After log_init(): the log ring as if head bytes had been written (its
 * head, the write position), to reach head's wrap without writing 4 GiB. */
void fw_host_log_seek(uint32_t head);

#endif /* MTIA_FW_HOST_H */
