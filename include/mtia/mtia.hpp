// SPDX-License-Identifier: MIT
// libmtia C++ API. Errors are thrown as mtia::Error carrying the same
// mtia_status codes the C API returns.
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "mtia/mtia.h"

namespace mtia {

class Error : public std::runtime_error {
public:
    Error(mtia_status status, const std::string &detail);
    mtia_status status() const noexcept { return status_; }

private:
    mtia_status status_;
};

struct DeviceInfo {
    int index = -1;
    std::string name;
    std::string node;
    std::string pci_bus_id;
    std::string driver_version;
    uint32_t chip_id = 0;
    uint32_t revision = 0;
    uint32_t if_version_major = 0;
    uint32_t if_version_minor = 0;
    uint32_t pe_rows = 0;
    uint32_t pe_cols = 0;
    uint64_t sram_bytes = 0;
    uint64_t devmem_bytes = 0;
    uint32_t fw_version = 0;
    uint32_t msix_vectors = 0;
};

// Directory searched for accel nodes: $MTIA_ACCEL_DIR or /dev/accel.
std::string accel_dir();

// Device nodes driven by the mtia driver, in accel minor order.
std::vector<std::string> device_nodes();
int device_count();

class Device {
public:
    // Opens the index-th mtia device; throws Error(MTIA_ERROR_NO_DEVICE, ...)
    // if there is none.
    static Device open(int index);
    // Opens a node by path; throws if it is not driven by the mtia driver.
    static Device open_node(const std::string &node, int index = -1);

    Device(Device &&) noexcept;
    Device &operator=(Device &&) noexcept;
    ~Device();

    const DeviceInfo &info() const noexcept { return info_; }
    int fd() const noexcept { return fd_; }

private:
    Device(int fd, DeviceInfo info);
    void close() noexcept;

    int fd_ = -1;
    DeviceInfo info_;
};

// "MTIA v1 (emulated)" for a known chip id, "MTIA (chip 0x..)" otherwise.
std::string chip_name(uint32_t chip_id);

}  // namespace mtia
