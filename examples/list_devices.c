/* SPDX-License-Identifier: MIT */
/*
 * list_devices: every mtia device with its properties, through libmtia's C
 * API, and its telemetry. Shows the calling convention: every call returns
 * an mtia_status, mtia_status_name() spells it, mtia_last_error() says what
 * went wrong, and structs handed out carry a struct_size the caller sets.
 * Telemetry comes from the driver's documented sysfs and hwmon files
 * (docs/telemetry.md), found by the device's PCI bus id.
 *
 *   cc list_devices.c $(pkg-config --cflags --libs mtia) -o list_devices
 */
#include <glob.h>
#include <stdio.h>

#include <mtia/mtia.h>
#include <mtia/mtia_spec.h> /* mtia_fw_version_major() & co */

static int fail(const char *what, mtia_status st)
{
    fprintf(stderr, "%s: %s (%s)\n", what, mtia_status_name(st), mtia_last_error());
    return 1;
}

/* One number from a sysfs file, or -1 if it is absent (telemetry the device
 * does not have). */
static long long read_sysfs(const char *pattern)
{
    glob_t g;
    long long v = -1;

    if (glob(pattern, 0, NULL, &g) == 0) {
        FILE *f = fopen(g.gl_pathv[0], "r");

        if (f) {
            if (fscanf(f, "%lld", &v) != 1)
                v = -1;
            fclose(f);
        }
    }
    globfree(&g);
    return v;
}

static void print_telemetry(const char *bus_id)
{
    char p[256];
    long long temp, power, clock, pe, mem_used, mem_total;

    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/hwmon/hwmon*/temp1_input", bus_id);
    temp = read_sysfs(p); /* m°C */
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/hwmon/hwmon*/power1_average", bus_id);
    power = read_sysfs(p); /* µW */
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/mtia/clock_mhz", bus_id);
    clock = read_sysfs(p);
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/mtia/pe_busy_percent", bus_id);
    pe = read_sysfs(p);
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/mtia/mem_used", bus_id);
    mem_used = read_sysfs(p);
    snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/mtia/mem_total", bus_id);
    mem_total = read_sysfs(p);
    printf("  telemetry: %.1f C, %.2f W, clock %lld MHz, PE busy %lld %%, memory %lld / %lld MiB\n",
           temp / 1000.0, power / 1e6, clock, pe, mem_used >> 20, mem_total >> 20);
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
        print_telemetry(info.pci_bus_id);
        mtia_device_close(dev);
    }
    return 0;
}
