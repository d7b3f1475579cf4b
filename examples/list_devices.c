/* SPDX-License-Identifier: MIT */
/*
 * list_devices: every mtia device with its properties, through libmtia's C
 * API. Shows the calling convention: every call returns an mtia_status,
 * mtia_status_name() spells it, mtia_last_error() says what went wrong, and
 * structs handed out carry a struct_size the caller sets.
 *
 *   cc list_devices.c $(pkg-config --cflags --libs mtia) -o list_devices
 */
#include <stdio.h>

#include <mtia/mtia.h>
#include <mtia/mtia_spec.h> /* mtia_fw_version_major() & co */

static int fail(const char *what, mtia_status st)
{
    fprintf(stderr, "%s: %s (%s)\n", what, mtia_status_name(st), mtia_last_error());
    return 1;
}

int main(void)
{
    int major, minor, patch, count = 0;
    mtia_status st;

    mtia_runtime_version(&major, &minor, &patch);
    printf("libmtia %d.%d.%d\n", major, minor, patch);
    st = mtia_device_count(&count);
    if (st != MTIA_SUCCESS)
        return fail("mtia_device_count", st);
    printf("%d device(s)\n", count);

    for (int i = 0; i < count; i++) {
        mtia_device *dev = NULL;
        mtia_device_info info = { .struct_size = sizeof(info) };

        st = mtia_device_open(i, &dev);
        if (st != MTIA_SUCCESS)
            return fail("mtia_device_open", st);
        st = mtia_device_get_info(dev, &info);
        if (st != MTIA_SUCCESS) {
            mtia_device_close(dev);
            return fail("mtia_device_get_info", st);
        }
        printf("device %d: %s at %s (%s)\n", info.index, info.name, info.pci_bus_id, info.node);
        printf("  PE grid %ux%u, SRAM %llu MiB, device memory %llu MiB\n", info.pe_rows, info.pe_cols,
               (unsigned long long)(info.sram_bytes >> 20), (unsigned long long)(info.devmem_bytes >> 20));
        printf("  driver %s, interface %u.%u, firmware %u.%u.%u\n", info.driver_version, info.if_version_major,
               info.if_version_minor, mtia_fw_version_major(info.fw_version),
               mtia_fw_version_minor(info.fw_version), mtia_fw_version_patch(info.fw_version));
        mtia_device_close(dev);
    }
    return 0;
}
