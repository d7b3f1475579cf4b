// SPDX-License-Identifier: MIT
// The management API's C face (include/mtia/mtia_mgmt.h) over
// mtia::mgmt::Device: exceptions become mtia_status codes.
//
// Handles are ids (low bits say the kind, as c_api.cc's), one per PCI bus
// id, kept for the life of the process like NVML's: a device that goes
// away keeps its handle, whose calls then give MTIA_ERROR_NO_DEVICE.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "mgmt_internal.h"
#include "mtia/mtia_mgmt.h"
#include "runtime_internal.h"

namespace {

using mtia::Error;
using mtia::mgmt::Device;
using mtia::mgmt::EccCounter;
using mtia::mgmt::Status;

constexpr uintptr_t kMgmtKind = 6;  // after c_api.cc's kinds 1..5

struct Handles {
    std::mutex mu;  // protects the maps
    std::unordered_map<uintptr_t, Device> devs;
    std::unordered_map<std::string, uintptr_t> by_bus;
    uintptr_t next = 1;
};

Handles &handles()
{
    static Handles *h = new Handles;  // never destroyed: handles may outlive static destruction
    return *h;
}

mtia_mgmt_device *handle_of(const Device &d)
{
    auto &h = handles();
    std::lock_guard<std::mutex> l(h.mu);
    auto it = h.by_bus.find(d.bus_id());
    if (it == h.by_bus.end()) {
        uintptr_t id = (h.next++ << 4) | kMgmtKind;
        it = h.by_bus.emplace(d.bus_id(), id).first;
        h.devs.emplace(id, d);
    } else {
        h.devs.at(it->second) = d;  // its index or node may have changed
    }
    return reinterpret_cast<mtia_mgmt_device *>(it->second);
}

Device device_of(const mtia_mgmt_device *dev)
{
    if (!dev) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "device is NULL");
    const auto id = reinterpret_cast<uintptr_t>(dev);
    auto &h = handles();
    std::lock_guard<std::mutex> l(h.mu);
    auto it = h.devs.find(id);
    if ((id & 15) != kMgmtKind || it == h.devs.end()) {
        throw Error(MTIA_ERROR_INVALID_HANDLE, "not a valid management device handle");
    }
    return it->second;
}

template <typename T>
T *out_arg(T *p, const char *name)
{
    if (!p) throw Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(name) + " is NULL");
    return p;
}

template <typename T>
const T &have(const std::optional<T> &v, const char *what)
{
    if (!v) throw Error(MTIA_ERROR_NOT_SUPPORTED, std::string(what) + " is not reported by the driver");
    return *v;
}

const std::string &have(const std::string &s, const char *what)
{
    if (s.empty()) throw Error(MTIA_ERROR_NOT_SUPPORTED, std::string(what) + " is not reported by the driver");
    return s;
}

void copy_out(const std::string &s, char *buf, size_t len)
{
    out_arg(buf, "buf");
    if (s.size() + 1 > len) {
        throw Error(MTIA_ERROR_INSUFFICIENT_SIZE,
                    "buffer of " + std::to_string(len) + " bytes, " + std::to_string(s.size() + 1) + " needed");
    }
    std::memcpy(buf, s.c_str(), s.size() + 1);
}

template <typename T>
void check_size(const T *p, const char *name)
{
    if (out_arg(p, name)->struct_size != sizeof(T)) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(name) + "->struct_size must be its sizeof");
    }
}

uint32_t milli(double v) { return static_cast<uint32_t>(std::llround(v * 1e3)); }

template <typename F>
mtia_status with_status(const mtia_mgmt_device *dev, F &&f)
{
    return mtia::c_guarded([&] { f(device_of(dev).status()); });
}

template <typename Find>
mtia_status get_device(Find &&find, mtia_mgmt_device **out)
{
    return mtia::c_guarded([&] { *out_arg(out, "device") = handle_of(find()); });
}

}  // namespace

extern "C" {

mtia_status mtia_mgmt_device_count(unsigned *count)
{
    return mtia::c_guarded([&] { *out_arg(count, "count") = Device::count(); });
}

mtia_status mtia_mgmt_device_get_by_index(unsigned index, mtia_mgmt_device **device)
{
    return get_device([&] { return Device::by_index(index); }, device);
}

mtia_status mtia_mgmt_device_get_by_pci_bus_id(const char *bus_id, mtia_mgmt_device **device)
{
    return get_device([&] { return Device::by_pci_bus_id(out_arg(bus_id, "bus_id")); }, device);
}

mtia_status mtia_mgmt_device_get_by_serial(const char *serial, mtia_mgmt_device **device)
{
    return get_device([&] { return Device::by_serial(out_arg(serial, "serial")); }, device);
}

mtia_status mtia_mgmt_device_get_by_uuid(const char *uuid, mtia_mgmt_device **device)
{
    return get_device([&] { return Device::by_uuid(out_arg(uuid, "uuid")); }, device);
}

mtia_status mtia_mgmt_device_get_index(const mtia_mgmt_device *device, unsigned *index)
{
    return mtia::c_guarded([&] {
        Device d = device_of(device);
        d.status();  // still there?
        *out_arg(index, "index") = static_cast<unsigned>(d.index());
    });
}

mtia_status mtia_mgmt_device_get_name(const mtia_mgmt_device *device, char *buf, size_t len)
{
    return with_status(device, [&](const Status &s) { copy_out(s.info.name, buf, len); });
}

mtia_status mtia_mgmt_device_get_uuid(const mtia_mgmt_device *device, char *buf, size_t len)
{
    return with_status(device, [&](const Status &s) { copy_out(have(s.uuid, "the serial"), buf, len); });
}

mtia_status mtia_mgmt_device_get_serial(const mtia_mgmt_device *device, char *buf, size_t len)
{
    return with_status(device, [&](const Status &s) { copy_out(have(s.tel.serial, "the serial"), buf, len); });
}

mtia_status mtia_mgmt_device_get_node(const mtia_mgmt_device *device, char *buf, size_t len)
{
    return with_status(device, [&](const Status &s) { copy_out(s.info.node, buf, len); });
}

mtia_status mtia_mgmt_device_get_firmware_version(const mtia_mgmt_device *device, char *buf, size_t len)
{
    return with_status(device,
                       [&](const Status &s) { copy_out(have(s.tel.fw_version, "a firmware version"), buf, len); });
}

mtia_status mtia_mgmt_device_get_firmware_status(const mtia_mgmt_device *device, char *buf, size_t len)
{
    return with_status(device,
                       [&](const Status &s) { copy_out(have(s.tel.fw_status, "the firmware status"), buf, len); });
}

mtia_status mtia_mgmt_get_driver_version(char *buf, size_t len)
{
    return mtia::c_guarded([&] {
        std::string v = mtia::mgmt::driver_version();
        if (v.empty()) throw Error(MTIA_ERROR_NO_DRIVER, "the mtia driver is not loaded (no module version)");
        copy_out(v, buf, len);
    });
}

mtia_status mtia_mgmt_device_get_pci_info(const mtia_mgmt_device *device, mtia_mgmt_pci_info *info)
{
    return with_status(device, [&](const Status &s) {
        check_size(info, "info");
        const auto &p = s.pci;
        mtia_mgmt_pci_info o{};
        o.struct_size = sizeof(o);
        o.domain = p.domain;
        o.bus = p.bus;
        o.device = p.device;
        o.function = p.function;
        o.vendor_id = p.vendor_id;
        o.device_id = p.device_id;
        o.link_gen = p.link_gen.value_or(0);
        o.link_gen_max = p.link_gen_max.value_or(0);
        o.link_width = p.link_width.value_or(0);
        o.link_width_max = p.link_width_max.value_or(0);
        std::snprintf(o.bus_id, sizeof(o.bus_id), "%s", p.bus_id.c_str());
        *info = o;
    });
}

mtia_status mtia_mgmt_device_get_temperature(const mtia_mgmt_device *device, mtia_mgmt_temperature which,
                                             int32_t *millicelsius)
{
    return with_status(device, [&](const Status &s) {
        const std::optional<double> *t = which == MTIA_MGMT_TEMP_DIE        ? &s.tel.temp_c
                                         : which == MTIA_MGMT_TEMP_SLOWDOWN ? &s.tel.temp_slowdown_c
                                         : which == MTIA_MGMT_TEMP_SHUTDOWN ? &s.tel.temp_shutdown_c
                                                                            : nullptr;
        if (!t) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "no temperature " + std::to_string(int(which)));
        *out_arg(millicelsius, "millicelsius") = static_cast<int32_t>(std::lround(have(*t, "the temperature") * 1e3));
    });
}

mtia_status mtia_mgmt_device_get_power_usage(const mtia_mgmt_device *device, uint32_t *milliwatts)
{
    return with_status(device, [&](const Status &s) {
        *out_arg(milliwatts, "milliwatts") = milli(have(s.tel.power_w, "board power"));
    });
}

mtia_status mtia_mgmt_device_get_power_average(const mtia_mgmt_device *device, uint32_t *milliwatts)
{
    return with_status(device, [&](const Status &s) {
        *out_arg(milliwatts, "milliwatts") = milli(have(s.tel.power_avg_w, "average power"));
    });
}

mtia_status mtia_mgmt_device_get_power_limit(const mtia_mgmt_device *device, uint32_t *milliwatts)
{
    return with_status(device, [&](const Status &s) {
        *out_arg(milliwatts, "milliwatts") = milli(have(s.tel.power_cap_w, "the power limit"));
    });
}

mtia_status mtia_mgmt_device_get_power_limit_constraints(const mtia_mgmt_device *device, uint32_t *min_milliwatts,
                                                         uint32_t *max_milliwatts)
{
    return with_status(device, [&](const Status &s) {
        uint32_t lo = milli(have(s.tel.power_cap_min_w, "the power limit range"));
        uint32_t hi = milli(have(s.tel.power_cap_max_w, "the power limit range"));
        *out_arg(min_milliwatts, "min_milliwatts") = lo;
        *out_arg(max_milliwatts, "max_milliwatts") = hi;
    });
}

mtia_status mtia_mgmt_device_get_energy(const mtia_mgmt_device *device, uint64_t *millijoules)
{
    return with_status(device, [&](const Status &s) {
        *out_arg(millijoules, "millijoules") =
            static_cast<uint64_t>(std::llround(have(s.tel.energy_j, "energy") * 1e3));
    });
}

mtia_status mtia_mgmt_device_get_clock(const mtia_mgmt_device *device, mtia_mgmt_clock which, uint32_t *mhz)
{
    return with_status(device, [&](const Status &s) {
        const std::optional<unsigned> *c = which == MTIA_MGMT_CLOCK_CURRENT ? &s.tel.clock_mhz
                                           : which == MTIA_MGMT_CLOCK_MAX   ? &s.tel.clock_max_mhz
                                           : which == MTIA_MGMT_CLOCK_MIN   ? &s.tel.clock_min_mhz
                                                                            : nullptr;
        if (!c) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "no clock " + std::to_string(int(which)));
        *out_arg(mhz, "mhz") = have(*c, "the clock");
    });
}

mtia_status mtia_mgmt_device_get_throttle_reasons(const mtia_mgmt_device *device, uint64_t *reasons)
{
    return with_status(device, [&](const Status &s) {
        *out_arg(reasons, "reasons") = have(s.tel.throttle_mask, "the throttle reasons");
    });
}

mtia_status mtia_mgmt_device_get_utilization(const mtia_mgmt_device *device, mtia_mgmt_utilization *util)
{
    return with_status(device, [&](const Status &s) {
        check_size(util, "util");
        mtia_mgmt_utilization o{};
        o.struct_size = sizeof(o);
        o.pe = have(s.tel.util_pe, "PE utilisation");
        o.dma = have(s.tel.util_dma, "data engine utilisation");
        o.cc = have(s.tel.util_cc, "control core utilisation");
        *util = o;
    });
}

mtia_status mtia_mgmt_device_get_memory_info(const mtia_mgmt_device *device, mtia_mgmt_memory *mem)
{
    return with_status(device, [&](const Status &s) {
        check_size(mem, "mem");
        mtia_mgmt_memory o{};
        o.struct_size = sizeof(o);
        o.total_bytes = have(s.tel.mem_total, "memory");
        o.used_bytes = std::min(have(s.tel.mem_used, "memory"), o.total_bytes);
        o.free_bytes = o.total_bytes - o.used_bytes;
        o.reserved_bytes = s.info.devmem_bytes > o.total_bytes ? s.info.devmem_bytes - o.total_bytes : 0;
        *mem = o;
    });
}

mtia_status mtia_mgmt_device_get_ecc_errors(const mtia_mgmt_device *device, uint64_t *corrected, uint64_t *uncorrected)
{
    return with_status(device, [&](const Status &s) {
        uint64_t c = have(s.tel.ecc_corrected, "ECC counters"), u = have(s.tel.ecc_uncorrected, "ECC counters");
        if (corrected) *corrected = c;
        if (uncorrected) *uncorrected = u;
    });
}

mtia_status mtia_mgmt_device_get_ecc_error_counts(const mtia_mgmt_device *device, mtia_mgmt_ecc_counter counter,
                                                  uint64_t *corrected, uint64_t *uncorrected)
{
    return with_status(device, [&](const Status &s) {
        uint64_t c, u;
        if (counter == MTIA_MGMT_ECC_VOLATILE) {
            c = have(s.tel.ecc_corrected, "ECC counters");
            u = have(s.tel.ecc_uncorrected, "ECC counters");
        } else if (counter == MTIA_MGMT_ECC_AGGREGATE) {
            c = have(s.tel.ecc_corrected_aggregate, "aggregate ECC counters");
            u = have(s.tel.ecc_uncorrected_aggregate, "aggregate ECC counters");
        } else {
            throw mtia::Error(MTIA_ERROR_INVALID_ARGUMENT, "no ECC counter type " + std::to_string(counter));
        }
        if (corrected) *corrected = c;
        if (uncorrected) *uncorrected = u;
    });
}

mtia_status mtia_mgmt_device_get_reset_count(const mtia_mgmt_device *device, uint32_t *count)
{
    return with_status(device,
                       [&](const Status &s) { *out_arg(count, "count") = have(s.tel.reset_count, "the reset count"); });
}

mtia_status mtia_mgmt_device_get_processes(const mtia_mgmt_device *device, unsigned *count, mtia_mgmt_process *procs)
{
    return mtia::c_guarded([&] {
        Device d = device_of(device);
        d.status();  // still there?
        unsigned room = *out_arg(count, "count");
        if (room && !procs) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "procs is NULL but *count is not 0");
        for (unsigned i = 0; i < room; i++) check_size(&procs[i], "procs[i]");
        auto ps = d.processes();
        *count = static_cast<unsigned>(ps.size());
        if (ps.size() > room) {
            throw Error(MTIA_ERROR_INSUFFICIENT_SIZE,
                        std::to_string(ps.size()) + " processes, room for " + std::to_string(room));
        }
        for (size_t i = 0; i < ps.size(); i++) {
            mtia_mgmt_process o{};
            o.struct_size = sizeof(o);
            o.pid = ps[i].pid;
            std::snprintf(o.name, sizeof(o.name), "%s", ps[i].name.c_str());
            o.device_bytes = ps[i].device_mem;
            o.host_bytes = ps[i].host_mem;
            o.compute_ns = ps[i].compute_ns.value_or(UINT64_MAX);
            o.dma_ns = ps[i].dma_ns.value_or(UINT64_MAX);
            procs[i] = o;
        }
    });
}

mtia_status mtia_mgmt_device_set_power_limit(const mtia_mgmt_device *device, uint32_t milliwatts)
{
    return mtia::c_guarded([&] { device_of(device).set_power_limit(milliwatts / 1e3); });
}

mtia_status mtia_mgmt_device_reset(const mtia_mgmt_device *device)
{
    return mtia::c_guarded([&] { device_of(device).reset(); });
}

mtia_status mtia_mgmt_device_clear_ecc_error_counts(const mtia_mgmt_device *device, mtia_mgmt_ecc_counter counter)
{
    return mtia::c_guarded([&] {
        Device d = device_of(device);
        if (counter != MTIA_MGMT_ECC_VOLATILE && counter != MTIA_MGMT_ECC_AGGREGATE)
            throw mtia::Error(MTIA_ERROR_INVALID_ARGUMENT, "no ECC counter type " + std::to_string(counter));
        d.clear_ecc_errors(counter == MTIA_MGMT_ECC_AGGREGATE ? EccCounter::kAggregate : EccCounter::kVolatile);
    });
}

}  // extern "C"
