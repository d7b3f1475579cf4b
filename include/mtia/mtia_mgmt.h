/* SPDX-License-Identifier: MIT */
/**
 * @file mtia_mgmt.h
 * libmtia management API (C): identity, telemetry, processes and the
 * privileged controls of mtia devices, in the manner of NVML. The C++ face
 * is mtia_mgmt.hpp.
 *
 * Nothing here opens the device node: values come from sysfs and the DRM
 * fdinfo of /proc, so a user without access to /dev/accel reads them all;
 * only mtia_mgmt_device_set_power_limit(), mtia_mgmt_device_reset() and
 * mtia_mgmt_device_clear_ecc_error_counts() need root and give
 * MTIA_ERROR_PERMISSION otherwise (NVML's NO_PERMISSION). A
 * value the driver does not report gives MTIA_ERROR_NOT_SUPPORTED. Every
 * call returns an mtia_status, with detail in mtia_last_error().
 *
 * Handles (mtia_mgmt_device) are validated like the other C handles: a
 * bogus one gives MTIA_ERROR_INVALID_HANDLE. They stay valid for the life
 * of the process and need no release; a handle whose device went away gives
 * MTIA_ERROR_NO_DEVICE. $MTIA_VISIBLE_DEVICES does not apply here.
 *
 * Units as NVML's: temperatures in degrees C (and millidegrees), power in
 * milliwatts, energy in millijoules, clocks in MHz, memory in bytes.
 */
#ifndef MTIA_MTIA_MGMT_H
#define MTIA_MTIA_MGMT_H

#include <stddef.h>
#include <stdint.h>

#include "mtia/mtia.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A device as the management API sees it (a handle). */
typedef struct mtia_mgmt_device mtia_mgmt_device;

/** Length of a buffer that holds any string this API returns, with its NUL. */
#define MTIA_MGMT_STRING_LEN 96

/** Number of devices the mtia driver drives (0 is not an error). */
mtia_status mtia_mgmt_device_count(unsigned *count);
/** The index-th device (0 .. count-1, in accel minor order). */
mtia_status mtia_mgmt_device_get_by_index(unsigned index, mtia_mgmt_device **device);
/** The device at a PCI bus id, "0000:00:03.0" or "00:03.0" (case-insensitive). */
mtia_status mtia_mgmt_device_get_by_pci_bus_id(const char *bus_id, mtia_mgmt_device **device);
/** The device with a board serial (case-insensitive). */
mtia_status mtia_mgmt_device_get_by_serial(const char *serial, mtia_mgmt_device **device);
/** The device with a UUID (mtia_mgmt_device_get_uuid(); case-insensitive). */
mtia_status mtia_mgmt_device_get_by_uuid(const char *uuid, mtia_mgmt_device **device);

/** The device's index. */
mtia_status mtia_mgmt_device_get_index(const mtia_mgmt_device *device, unsigned *index);
/** Product name, e.g. "MTIA v1 (emulated)". Strings are copied with their
 * NUL into buf of len bytes; MTIA_ERROR_INSUFFICIENT_SIZE if it does not fit
 * (MTIA_MGMT_STRING_LEN always does). */
mtia_status mtia_mgmt_device_get_name(const mtia_mgmt_device *device, char *buf, size_t len);
/** UUID, "MTIA-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", derived from the serial
 * so it is the same on every boot. */
mtia_status mtia_mgmt_device_get_uuid(const mtia_mgmt_device *device, char *buf, size_t len);
/** Board serial, 16 hex digits. */
mtia_status mtia_mgmt_device_get_serial(const mtia_mgmt_device *device, char *buf, size_t len);
/** Device node, e.g. "/dev/accel/accel0". */
mtia_status mtia_mgmt_device_get_node(const mtia_mgmt_device *device, char *buf, size_t len);
/** Running firmware version, "0.1.0"; MTIA_ERROR_NOT_SUPPORTED without firmware. */
mtia_status mtia_mgmt_device_get_firmware_version(const mtia_mgmt_device *device, char *buf, size_t len);
/** Firmware state as the driver sees it: "ready", "recovering", "dead"... */
mtia_status mtia_mgmt_device_get_firmware_status(const mtia_mgmt_device *device, char *buf, size_t len);
/** The mtia driver's version, "0.1.0"; MTIA_ERROR_NO_DRIVER if it is not loaded. */
mtia_status mtia_mgmt_get_driver_version(char *buf, size_t len);

/** PCI address, ids and link (mtia_mgmt_device_get_pci_info). */
typedef struct mtia_mgmt_pci_info {
    uint32_t struct_size;    /**< caller sets sizeof(mtia_mgmt_pci_info) */
    uint32_t domain;         /**< PCI domain */
    uint32_t bus;            /**< bus */
    uint32_t device;         /**< device (slot) */
    uint32_t function;       /**< function */
    uint32_t vendor_id;      /**< PCI vendor id */
    uint32_t device_id;      /**< PCI device id */
    uint32_t link_gen;       /**< PCIe generation now; 0 if unknown */
    uint32_t link_gen_max;   /**< highest PCIe generation; 0 if unknown */
    uint32_t link_width;     /**< lanes now; 0 if unknown */
    uint32_t link_width_max; /**< most lanes; 0 if unknown */
    char bus_id[32];         /**< "0000:00:03.0" */
} mtia_mgmt_pci_info;

/** Fills info (info->struct_size set by the caller). */
mtia_status mtia_mgmt_device_get_pci_info(const mtia_mgmt_device *device, mtia_mgmt_pci_info *info);

/** Which temperature mtia_mgmt_device_get_temperature reads. */
typedef enum mtia_mgmt_temperature {
    MTIA_MGMT_TEMP_DIE = 0,      /**< die temperature now */
    MTIA_MGMT_TEMP_SLOWDOWN = 1, /**< above it the clock throttles */
    MTIA_MGMT_TEMP_SHUTDOWN = 2, /**< critical */
} mtia_mgmt_temperature;

/** A temperature in millidegrees Celsius. */
mtia_status mtia_mgmt_device_get_temperature(const mtia_mgmt_device *device, mtia_mgmt_temperature which,
                                             int32_t *millicelsius);

/** Board power now (a 100 ms sample), milliwatts. */
mtia_status mtia_mgmt_device_get_power_usage(const mtia_mgmt_device *device, uint32_t *milliwatts);
/** Mean board power over the last second, milliwatts. */
mtia_status mtia_mgmt_device_get_power_average(const mtia_mgmt_device *device, uint32_t *milliwatts);
/** The power limit the clock throttles to stay below, milliwatts. */
mtia_status mtia_mgmt_device_get_power_limit(const mtia_mgmt_device *device, uint32_t *milliwatts);
/** The range the power limit may be set in, milliwatts. */
mtia_status mtia_mgmt_device_get_power_limit_constraints(const mtia_mgmt_device *device, uint32_t *min_milliwatts,
                                                         uint32_t *max_milliwatts);
/** Energy since the board powered on, millijoules. */
mtia_status mtia_mgmt_device_get_energy(const mtia_mgmt_device *device, uint64_t *millijoules);

/** Which clock mtia_mgmt_device_get_clock reads (the device has one, the core clock). */
typedef enum mtia_mgmt_clock {
    MTIA_MGMT_CLOCK_CURRENT = 0, /**< now */
    MTIA_MGMT_CLOCK_MAX = 1,     /**< the highest it runs at */
    MTIA_MGMT_CLOCK_MIN = 2,     /**< the lowest throttling takes it to */
} mtia_mgmt_clock;

/** A clock in MHz. */
mtia_status mtia_mgmt_device_get_clock(const mtia_mgmt_device *device, mtia_mgmt_clock which, uint32_t *mhz);

/** Bits of mtia_mgmt_device_get_throttle_reasons: NVML's values
 * (nvmlClocksThrottleReasons), so scripts decoding them work unchanged. */
#define MTIA_MGMT_THROTTLE_NONE 0x0ull                    /**< the clock runs at its maximum */
#define MTIA_MGMT_THROTTLE_SW_POWER_CAP 0x4ull            /**< held below the power limit */
#define MTIA_MGMT_THROTTLE_HW_SLOWDOWN 0x8ull             /**< hardware slowdown (set with thermal) */
#define MTIA_MGMT_THROTTLE_HW_THERMAL_SLOWDOWN 0x40ull    /**< above the slowdown temperature */

/** Why the clock is below its maximum: MTIA_MGMT_THROTTLE_* bits. */
mtia_status mtia_mgmt_device_get_throttle_reasons(const mtia_mgmt_device *device, uint64_t *reasons);

/** Busy percent of each engine over the last second. */
typedef struct mtia_mgmt_utilization {
    uint32_t struct_size; /**< caller sets sizeof(mtia_mgmt_utilization) */
    uint32_t pe;          /**< PE grid (nvidia-smi's utilization.gpu) */
    uint32_t dma;         /**< data engine (utilization.memory) */
    uint32_t cc;          /**< control core */
} mtia_mgmt_utilization;

/** Fills util (util->struct_size set by the caller). */
mtia_status mtia_mgmt_device_get_utilization(const mtia_mgmt_device *device, mtia_mgmt_utilization *util);

/** Device memory of all processes (NVML's nvmlMemory_t). */
typedef struct mtia_mgmt_memory {
    uint32_t struct_size;    /**< caller sets sizeof(mtia_mgmt_memory) */
    uint32_t pad;            /**< zero */
    uint64_t total_bytes;    /**< memory buffers can take */
    uint64_t used_bytes;     /**< in buffers */
    uint64_t free_bytes;     /**< total - used */
    uint64_t reserved_bytes; /**< kept for the firmware (device memory - total) */
} mtia_mgmt_memory;

/** Fills mem (mem->struct_size set by the caller). */
mtia_status mtia_mgmt_device_get_memory_info(const mtia_mgmt_device *device, mtia_mgmt_memory *mem);
/** ECC errors since power-on or the last clear: the volatile counts of
 * mtia_mgmt_device_get_ecc_error_counts() (either pointer may be NULL). */
mtia_status mtia_mgmt_device_get_ecc_errors(const mtia_mgmt_device *device, uint64_t *corrected,
                                            uint64_t *uncorrected);

/** Which ECC counts (NVML's nvmlEccCounterType_t). */
typedef enum mtia_mgmt_ecc_counter {
    MTIA_MGMT_ECC_VOLATILE = 0,  /**< since power-on or the last clear (NVML_VOLATILE_ECC) */
    MTIA_MGMT_ECC_AGGREGATE = 1, /**< lifetime, kept in the board's infoROM across power
                                      cycles; only a clear zeroes it (NVML_AGGREGATE_ECC) */
} mtia_mgmt_ecc_counter;

/** ECC errors of the counter type (either pointer may be NULL);
 * MTIA_ERROR_NOT_SUPPORTED for the aggregate counts of a device older than
 * interface 1.6, MTIA_ERROR_INVALID_ARGUMENT for another type. */
mtia_status mtia_mgmt_device_get_ecc_error_counts(const mtia_mgmt_device *device, mtia_mgmt_ecc_counter counter,
                                                  uint64_t *corrected, uint64_t *uncorrected);
/** Device resets by the driver since it loaded. */
mtia_status mtia_mgmt_device_get_reset_count(const mtia_mgmt_device *device, uint32_t *count);

/** A process using the device (mtia_mgmt_device_get_processes). */
typedef struct mtia_mgmt_process {
    uint32_t struct_size;    /**< caller sets sizeof(mtia_mgmt_process) in each element */
    int32_t pid;             /**< process id */
    char name[32];           /**< its comm */
    uint64_t device_bytes;   /**< device memory in its buffers */
    uint64_t host_bytes;     /**< host memory in its buffers */
    uint64_t compute_ns;     /**< PE grid busy time for it; UINT64_MAX if not reported */
    uint64_t dma_ns;         /**< data engine busy time for it; UINT64_MAX if not reported */
} mtia_mgmt_process;

/** The processes using the device (a user sees only their own; root sees
 * all). *count holds how many procs has room for; it is set to how many
 * there are. MTIA_ERROR_INSUFFICIENT_SIZE if that is more (procs may then
 * be NULL with *count 0, to ask). */
mtia_status mtia_mgmt_device_get_processes(const mtia_mgmt_device *device, unsigned *count,
                                           mtia_mgmt_process *procs);

/** Sets the power limit (root; MTIA_ERROR_PERMISSION otherwise), in the
 * range of mtia_mgmt_device_get_power_limit_constraints
 * (MTIA_ERROR_INVALID_ARGUMENT outside it). */
mtia_status mtia_mgmt_device_set_power_limit(const mtia_mgmt_device *device, uint32_t milliwatts);
/** Resets the device and returns once the driver has it back (root;
 * MTIA_ERROR_PERMISSION otherwise; MTIA_ERROR_IO if it did not come back). */
mtia_status mtia_mgmt_device_reset(const mtia_mgmt_device *device);
/** Zeroes the device's volatile or aggregate ECC counts, corrected and
 * uncorrected (NVML's nvmlDeviceClearEccErrorCounts). Root;
 * MTIA_ERROR_PERMISSION otherwise; MTIA_ERROR_NOT_SUPPORTED on a device
 * older than interface 1.6; MTIA_ERROR_INVALID_ARGUMENT for another type. */
mtia_status mtia_mgmt_device_clear_ecc_error_counts(const mtia_mgmt_device *device, mtia_mgmt_ecc_counter counter);

#ifdef __cplusplus
}
#endif

#endif /* MTIA_MTIA_MGMT_H */
