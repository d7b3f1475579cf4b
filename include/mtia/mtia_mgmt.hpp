// SPDX-License-Identifier: MIT
/// @file mtia_mgmt.hpp
/// libmtia management API, C++ face (the C API is mtia_mgmt.h): identity,
/// telemetry, processes and the privileged controls (power limit, reset,
/// clearing the ECC counts) of
/// every mtia device, like NVML. Everything is read from sysfs and the DRM
/// fdinfo of /proc, so nothing needs the device node open and only the
/// controls need root. Values the driver does not report are empty
/// optionals (mtia-smi shows N/A). Errors are thrown as mtia::Error.
///
/// Paths, for tests with a fake tree: $MTIA_SYSFS_ACCEL_CLASS
/// (/sys/class/accel), $MTIA_SYSFS_MODULE_DIR (/sys/module/mtia),
/// $MTIA_PROC_DIR (/proc); device nodes are named under $MTIA_ACCEL_DIR
/// (/dev/accel). $MTIA_VISIBLE_DEVICES does not apply: like NVML, the
/// management API sees every device.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"

/// The management API.
namespace mtia::mgmt {

/// Where the device's PCI function sits and its link.
struct PciInfo {
    std::string bus_id;                      ///< "0000:00:03.0"
    unsigned domain = 0;                     ///< PCI domain (from bus_id)
    unsigned bus = 0;                        ///< bus
    unsigned device = 0;                     ///< device (slot)
    unsigned function = 0;                   ///< function
    unsigned vendor_id = 0;                  ///< PCI vendor id (0 if unknown)
    unsigned device_id = 0;                  ///< PCI device id (0 if unknown)
    std::optional<unsigned> link_gen;        ///< PCIe generation now
    std::optional<unsigned> link_gen_max;    ///< highest PCIe generation
    std::optional<unsigned> link_width;      ///< lanes now
    std::optional<unsigned> link_width_max;  ///< most lanes
};

/// Bits of Telemetry::throttle_mask: NVML's nvmlClocksThrottleReasons values.
enum ThrottleReason : uint64_t {
    kThrottleNone = 0,                  ///< the clock runs at its maximum
    kThrottleSwPowerCap = 0x4,          ///< held below the power limit
    kThrottleHwSlowdown = 0x8,          ///< hardware slowdown (set with thermal)
    kThrottleHwThermalSlowdown = 0x40,  ///< above the slowdown temperature
};

/// Which ECC counts (NVML's nvmlEccCounterType_t): Device::clear_ecc_errors().
enum class EccCounter {
    kVolatile,   ///< since power-on or the last clear (NVML_VOLATILE_ECC)
    kAggregate,  ///< lifetime, kept in the board's infoROM (NVML_AGGREGATE_ECC)
};

/// Telemetry and health (docs/telemetry.md).
struct Telemetry {
    std::optional<double> temp_c;                       ///< die temperature now, C
    std::optional<double> temp_slowdown_c;              ///< above it the clock throttles
    std::optional<double> temp_shutdown_c;              ///< critical
    std::optional<double> power_w;                      ///< board power now (100 ms sample)
    std::optional<double> power_avg_w;                  ///< mean over the last second
    std::optional<double> power_cap_w;                  ///< power limit, W
    std::optional<double> power_cap_min_w;              ///< lowest settable limit
    std::optional<double> power_cap_max_w;              ///< highest settable limit
    std::optional<double> energy_j;                     ///< since power-on
    std::optional<unsigned> util_pe;                    ///< PE grid busy percent, last second
    std::optional<unsigned> util_dma;                   ///< data engine busy percent
    std::optional<unsigned> util_cc;                    ///< control core busy percent
    std::optional<unsigned> clock_mhz;                  ///< the core clock now, MHz
    std::optional<unsigned> clock_max_mhz;              ///< its maximum
    std::optional<unsigned> clock_min_mhz;              ///< the lowest throttling takes it to
    std::string throttle;                               ///< the driver's words: "none", "power", "power,thermal"
    std::optional<uint64_t> throttle_mask;              ///< the same as ThrottleReason bits
    std::optional<uint64_t> ecc_corrected;              ///< corrected ECC errors since power-on or the last clear
    std::optional<uint64_t> ecc_uncorrected;            ///< uncorrected ECC errors, the same
    std::optional<uint64_t> ecc_corrected_aggregate;    ///< corrected ECC errors, lifetime (interface 1.6)
    std::optional<uint64_t> ecc_uncorrected_aggregate;  ///< uncorrected ECC errors, lifetime
    std::string serial;                                 ///< 16 hex digits
    std::optional<uint64_t> mem_used;                   ///< device memory in buffers, bytes
    std::optional<uint64_t> mem_total;                  ///< allocatable device memory, bytes
    std::string fw_status;                              ///< "ready", "recovering", ...
    std::string fw_version;                             ///< "0.1.0"; "" without firmware
    std::optional<unsigned> reset_count;                ///< resets since the driver loaded
    std::optional<unsigned> link_gen;                   ///< PCIe generation now
    std::optional<unsigned> link_gen_max;               ///< highest PCIe generation
    std::optional<unsigned> link_width;                 ///< lanes now
    std::optional<unsigned> link_width_max;             ///< most lanes
};

/// Everything about one device at one moment.
struct Status {
    DeviceInfo info;   ///< what mtia::Device::info() says, read from sysfs
    std::string uuid;  ///< uuid_from_serial(serial); "" without a serial
    PciInfo pci;       ///< PCI address, ids and link
    Telemetry tel;     ///< sensors and counters
};

/// One process's use of one device, summed over its open files (DRM
/// clients) of that device, from the fdinfo of its /proc directory.
struct Process {
    int pid = 0;                         ///< process id
    std::string name;                    ///< its comm
    std::string bus_id;                  ///< drm-pdev
    unsigned clients = 0;                ///< distinct drm-client-id
    uint64_t device_mem = 0;             ///< drm-total-device, bytes
    uint64_t host_mem = 0;               ///< drm-total-system, bytes
    std::optional<uint64_t> dma_ns;      ///< drm-engine-dma, if reported
    std::optional<uint64_t> compute_ns;  ///< drm-engine-compute, if reported
};

/// One DRM fdinfo file (Documentation/gpu/drm-usage-stats.rst).
struct FdInfo {
    std::string driver;                         ///< drm-driver
    std::string pdev;                           ///< drm-pdev (PCI bus id)
    std::optional<uint64_t> client_id;          ///< drm-client-id
    std::map<std::string, uint64_t> engine_ns;  ///< drm-engine-NAME, ns, by NAME
    std::map<std::string, uint64_t> memory;     ///< drm-KIND-REGION, bytes, by "KIND-REGION"
};

/// The DRM keys of @p text; nullopt if it has no drm-driver line (not a DRM
/// file). Malformed lines are skipped.
std::optional<FdInfo> parse_fdinfo(const std::string &text);
/// "64 MiB" / "512 KiB" / "4096" -> bytes; nullopt if malformed.
std::optional<uint64_t> parse_fdinfo_size(const std::string &value);
/// Every process under @p proc_root ("" = $MTIA_PROC_DIR or /proc) with open
/// files of the @p driver driver, one entry per (process, device), files of
/// the same DRM client counted once; sorted by bus id, then pid. A user sees
/// their own processes; root sees all.
std::vector<Process> scan_processes(const std::string &proc_root = "", const std::string &driver = "mtia");

/// "16.0 GT/s PCIe" -> 4; nullopt if not a known rate.
std::optional<unsigned> pcie_gen_of(const std::string &speed);
/// "0.1.0" -> MTIA_FW_VERSION(0, 1, 0); "none" or garbage -> 0.
uint32_t parse_fw_version(const std::string &s);
/// "power,thermal" -> ThrottleReason bits; nullopt for a word it does not know.
std::optional<uint64_t> throttle_mask_of(const std::string &reasons);
/// The device's UUID, stable across boots: "MTIA-" and 32 hex digits in
/// 8-4-4-4-12 groups, the serial's 64 bits then a hash of them; "" for "".
std::string uuid_from_serial(const std::string &serial);
/// The mtia driver's version (/sys/module/mtia/version); "" if not loaded.
std::string driver_version();

/// A device as the management API sees it: found by index, PCI bus id,
/// serial or UUID. It holds no file open; a device that goes away makes
/// its calls throw MTIA_ERROR_NO_DEVICE.
class Device {
public:
    /// Devices the mtia driver drives (every one: no $MTIA_VISIBLE_DEVICES).
    static unsigned count();
    /// All of them, in index (accel minor) order.
    static std::vector<Device> all();
    /// By index (0 .. count()-1); MTIA_ERROR_NO_DEVICE if out of range.
    static Device by_index(unsigned index);
    /// By PCI bus id, "0000:00:03.0" or "00:03.0", case-insensitive.
    static Device by_pci_bus_id(const std::string &bus_id);
    /// By board serial, case-insensitive.
    static Device by_serial(const std::string &serial);
    /// By UUID (uuid_from_serial()), case-insensitive.
    static Device by_uuid(const std::string &uuid);
    /// By any of them (mtia-smi -i): an index, a bus id, a serial or a UUID.
    static Device by_id(const std::string &id);

    int index() const { return index_; }                   ///< position in all()
    const std::string &node() const { return node_; }      ///< /dev/accel/accelN
    const std::string &bus_id() const { return bus_id_; }  ///< 0000:00:03.0

    /// Reads everything now. MTIA_ERROR_NO_DEVICE if the device went away.
    Status status() const;
    /// The processes using this device (see scan_processes()).
    std::vector<Process> processes() const;
    /// Sets the power limit (hwmon power1_cap). MTIA_ERROR_PERMISSION if not
    /// root, MTIA_ERROR_INVALID_ARGUMENT outside [power_cap_min_w,
    /// power_cap_max_w], MTIA_ERROR_NOT_SUPPORTED without the sensor.
    void set_power_limit(double watts) const;
    /// Resets the device and waits for the driver to bring it back
    /// (mtia/reset). MTIA_ERROR_PERMISSION if not root, MTIA_ERROR_IO if the
    /// device did not come back.
    void reset() const;
    /// Zeroes the volatile or the aggregate ECC counts, both kinds
    /// (mtia/ecc_clear; NVML's nvmlDeviceClearEccErrorCounts).
    /// MTIA_ERROR_PERMISSION if not root, MTIA_ERROR_NOT_SUPPORTED on a
    /// device (or driver) without it.
    void clear_ecc_errors(EccCounter which) const;

    /// A device at PCI directory @p pci_dir, known as @p node, index @p index.
    Device(std::string pci_dir, std::string node, int index);

private:
    std::string pci_dir_, node_, bus_id_;
    int index_ = 0;
};

}  // namespace mtia::mgmt
