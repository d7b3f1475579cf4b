// SPDX-License-Identifier: MIT
// The C API over the C++ runtime: exceptions become mtia_status codes and the
// detail goes to mtia_last_error().
#include <cstdio>
#include <cstring>
#include <new>

#include "runtime_internal.h"

struct mtia_device {
    mtia::Device dev;
};

namespace {

template <typename F>
mtia_status guarded(F &&f)
{
    try {
        f();
        mtia::set_last_error({});
        return MTIA_SUCCESS;
    } catch (const mtia::Error &e) {
        mtia::set_last_error(e.what());
        return e.status();
    } catch (const std::bad_alloc &) {
        mtia::set_last_error("out of memory");
        return MTIA_ERROR_OUT_OF_MEMORY;
    } catch (const std::exception &e) {
        mtia::set_last_error(e.what());
        return MTIA_ERROR_INTERNAL;
    }
}

mtia_status invalid(const char *what)
{
    mtia::set_last_error(what);
    return MTIA_ERROR_INVALID_ARGUMENT;
}

template <size_t N>
void copy_str(char (&dst)[N], const std::string &src)
{
    std::snprintf(dst, N, "%s", src.c_str());
}

}  // namespace

extern "C" {

mtia_status mtia_device_count(int *count)
{
    if (!count) {
        return invalid("count is NULL");
    }
    return guarded([&] { *count = mtia::device_count(); });
}

mtia_status mtia_device_open(int index, mtia_device **device)
{
    if (!device) {
        return invalid("device is NULL");
    }
    *device = nullptr;
    return guarded([&] { *device = new mtia_device{mtia::Device::open(index)}; });
}

mtia_status mtia_device_close(mtia_device *device)
{
    delete device;
    return MTIA_SUCCESS;
}

mtia_status mtia_device_get_info(const mtia_device *device, mtia_device_info *info)
{
    if (!device || !info) {
        return invalid("device or info is NULL");
    }
    // Fill only as much as the caller's (possibly older) struct holds.
    if (info->struct_size < offsetof(mtia_device_info, msix_vectors) + sizeof(info->msix_vectors) ||
        info->struct_size > sizeof(mtia_device_info)) {
        return invalid("info->struct_size must be sizeof(mtia_device_info)");
    }
    const mtia::DeviceInfo &d = device->dev.info();
    const uint32_t size = info->struct_size;
    mtia_device_info out{};
    out.struct_size = size;
    out.index = d.index;
    copy_str(out.name, d.name);
    copy_str(out.node, d.node);
    copy_str(out.pci_bus_id, d.pci_bus_id);
    copy_str(out.driver_version, d.driver_version);
    out.chip_id = d.chip_id;
    out.revision = d.revision;
    out.if_version_major = d.if_version_major;
    out.if_version_minor = d.if_version_minor;
    out.pe_rows = d.pe_rows;
    out.pe_cols = d.pe_cols;
    out.sram_bytes = d.sram_bytes;
    out.devmem_bytes = d.devmem_bytes;
    out.fw_version = d.fw_version;
    out.msix_vectors = d.msix_vectors;
    std::memcpy(info, &out, size);
    return MTIA_SUCCESS;
}

}  // extern "C"
