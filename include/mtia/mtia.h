/* SPDX-License-Identifier: MIT */
/*
 * libmtia C API: the stable interface to mtia-open accelerators.
 *
 * Every call returns an mtia_status; MTIA_SUCCESS is 0 and errors are
 * negative. mtia_last_error() gives a one-line detail of the calling
 * thread's last failure. Structs passed out carry a struct_size that the
 * caller sets, so they can grow without breaking old binaries.
 */
#ifndef MTIA_MTIA_H
#define MTIA_MTIA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTIA_RUNTIME_VERSION_MAJOR 0
#define MTIA_RUNTIME_VERSION_MINOR 1
#define MTIA_RUNTIME_VERSION_PATCH 0

typedef enum mtia_status {
    MTIA_SUCCESS = 0,
    MTIA_ERROR_INVALID_ARGUMENT = -1, /* NULL pointer, bad index, bad size */
    MTIA_ERROR_NO_DEVICE = -2,        /* no mtia device (or index out of range) */
    MTIA_ERROR_NO_DRIVER = -3,        /* device present but the mtia driver is not bound */
    MTIA_ERROR_PERMISSION = -4,       /* the device node cannot be opened: permissions */
    MTIA_ERROR_IO = -5,               /* the kernel driver returned an error */
    MTIA_ERROR_VERSION = -6,          /* driver/runtime interface mismatch */
    MTIA_ERROR_OUT_OF_MEMORY = -7,
    MTIA_ERROR_INTERNAL = -8,
} mtia_status;

/* Name of a status ("MTIA_ERROR_NO_DEVICE") and its meaning. */
const char *mtia_status_name(mtia_status status);
const char *mtia_status_string(mtia_status status);
/* Detail of the calling thread's last failure; "" if none. */
const char *mtia_last_error(void);

void mtia_runtime_version(int *major, int *minor, int *patch);

/* Number of mtia devices driven by the mtia driver (0 is not an error). */
mtia_status mtia_device_count(int *count);

typedef struct mtia_device mtia_device;

mtia_status mtia_device_open(int index, mtia_device **device);
/* Closing NULL is allowed and does nothing. */
mtia_status mtia_device_close(mtia_device *device);

typedef struct mtia_device_info {
    uint32_t struct_size;      /* caller sets sizeof(mtia_device_info) */
    int32_t index;             /* runtime device index */
    char name[64];             /* marketing name, e.g. "MTIA v1 (emulated)" */
    char node[64];             /* /dev/accel/accelN */
    char pci_bus_id[32];       /* 0000:00:03.0 */
    char driver_version[32];   /* "0.1.0" */
    uint32_t chip_id;
    uint32_t revision;
    uint32_t if_version_major;
    uint32_t if_version_minor;
    uint32_t pe_rows;
    uint32_t pe_cols;
    uint64_t sram_bytes;
    uint64_t devmem_bytes;
    uint32_t fw_version;       /* 0: no firmware */
    uint32_t msix_vectors;
} mtia_device_info;

mtia_status mtia_device_get_info(const mtia_device *device, mtia_device_info *info);

#ifdef __cplusplus
}
#endif

#endif /* MTIA_MTIA_H */
