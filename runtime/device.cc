// SPDX-License-Identifier: MIT
// Finding mtia accel nodes and opening them: the DRM driver name is checked
// (sysfs first, libdrm's drmGetVersion as the fallback and on open), then
// GET_INFO fills DeviceInfo.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>
#include <xf86drm.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>

#include "mtia/mtia_spec.h"
#include "runtime_internal.h"
#include "uapi/drm/mtia_accel.h"

namespace mtia {

namespace {

// accelN -> N; -1 for any other name.
int accel_minor(const char *name)
{
    if (std::strncmp(name, "accel", 5) != 0 || !name[5]) {
        return -1;
    }
    char *end = nullptr;
    long n = std::strtol(name + 5, &end, 10);
    return (*end || n < 0 || n > 65535) ? -1 : static_cast<int>(n);
}

// The DRM driver name behind an open fd, via libdrm; "" on failure.
std::string drm_driver_name(int fd)
{
    drmVersionPtr v = drmGetVersion(fd);
    if (!v) {
        return {};
    }
    std::string name(v->name, v->name_len);
    drmFreeVersion(v);
    return name;
}

bool is_mtia_node(const std::string &node)
{
    std::string drv = sysfs_driver_of(node);
    if (!drv.empty()) {
        return drv == MTIA_DRIVER_NAME;
    }
    int fd = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    bool ok = drm_driver_name(fd) == MTIA_DRIVER_NAME;
    ::close(fd);
    return ok;
}

mtia_status status_from_errno(int err)
{
    switch (err) {
        case ENOENT:
        case ENODEV:
        case ENXIO:
            return MTIA_ERROR_NO_DEVICE;
        case EACCES:
        case EPERM:
            return MTIA_ERROR_PERMISSION;
        case ENOMEM:
            return MTIA_ERROR_OUT_OF_MEMORY;
        default:
            return MTIA_ERROR_IO;
    }
}

[[noreturn]] void throw_errno(const std::string &what, int err)
{
    throw Error(status_from_errno(err), what + ": " + std::strerror(err));
}

DeviceInfo query_info(int fd, const std::string &node, int index)
{
    drm_mtia_info raw{};
    drm_mtia_get_info req{};
    req.size = sizeof(raw);
    req.info_ptr = reinterpret_cast<uintptr_t>(&raw);
    if (drmIoctl(fd, DRM_IOCTL_MTIA_GET_INFO, &req) != 0) {
        throw_errno(node + ": GET_INFO", errno);
    }
    if (req.size < MTIA_INFO_SIZE_V0) {
        throw Error(MTIA_ERROR_VERSION,
                    node + ": driver returned a short GET_INFO (" + std::to_string(req.size) + " bytes)");
    }
    DeviceInfo info;
    info.index = index;
    info.node = node;
    info.name = chip_name(raw.chip_id);
    info.pci_bus_id = sysfs_pci_bus_id(node);
    info.driver_version =
        std::to_string(raw.drv_major) + "." + std::to_string(raw.drv_minor) + "." + std::to_string(raw.drv_patch);
    info.chip_id = raw.chip_id;
    info.revision = raw.revision;
    info.if_version_major = raw.if_version_major;
    info.if_version_minor = raw.if_version_minor;
    info.pe_rows = raw.pe_rows;
    info.pe_cols = raw.pe_cols;
    info.sram_bytes = raw.sram_bytes;
    info.devmem_bytes = raw.devmem_bytes;
    info.fw_version = raw.fw_version;
    info.msix_vectors = raw.msix_vectors;
    info.serial = device_serial(node);
    return info;
}

}  // namespace

std::string chip_name(uint32_t chip_id)
{
    if (chip_id == MTIA_CHIP_ID_MTIA1) {
        return "MTIA v1 (emulated)";
    }
    char buf[32];
    std::snprintf(buf, sizeof(buf), "MTIA (chip 0x%04x)", chip_id);
    return buf;
}

std::string accel_dir()
{
    const char *dir = std::getenv("MTIA_ACCEL_DIR");
    return dir && *dir ? dir : "/dev/accel";
}

std::vector<std::string> device_nodes()
{
    std::vector<std::pair<int, std::string>> found;
    std::string dir = accel_dir();
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d)) {
            int minor = accel_minor(e->d_name);
            if (minor >= 0) {
                found.emplace_back(minor, dir + "/" + e->d_name);
            }
        }
        closedir(d);
    }
    std::sort(found.begin(), found.end());
    std::vector<std::string> nodes;
    for (auto &f : found) {
        if (is_mtia_node(f.second)) {
            nodes.push_back(f.second);
        }
    }
    return nodes;
}

Device Device::open(int index)
{
    if (index < 0) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "device index must be >= 0");
    }
    auto nodes = visible_device_nodes();
    if (nodes.empty() && device_nodes().empty() && sysfs_count_mtia_pci() > 0) {
        throw Error(MTIA_ERROR_NO_DRIVER, "mtia PCI device present but no " + accel_dir() +
                                              " node is driven by the mtia driver "
                                              "(is mtia.ko loaded?)");
    }
    if (static_cast<size_t>(index) >= nodes.size()) {
        throw Error(MTIA_ERROR_NO_DEVICE,
                    "no mtia device " + std::to_string(index) + " (" + std::to_string(nodes.size()) + " visible in " +
                        accel_dir() + (std::getenv("MTIA_VISIBLE_DEVICES") ? ", MTIA_VISIBLE_DEVICES set" : "") + ")");
    }
    return open_node(nodes[index], index);
}

Device Device::open_node(const std::string &node, int index)
{
    int fd = ::open(node.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        throw_errno("cannot open " + node, errno);
    }
    try {
        std::string name = drm_driver_name(fd);
        if (name != MTIA_DRIVER_NAME) {
            throw Error(MTIA_ERROR_NO_DEVICE, node + " is not an mtia device (driver '" + name + "')");
        }
        return Device(fd, query_info(fd, node, index));
    } catch (...) {
        ::close(fd);
        throw;
    }
}

Device::Device(int fd, DeviceInfo info) : state_(std::make_shared<detail::DeviceState>()), info_(std::move(info))
{
    state_->fd = fd;
    state_->node = info_.node;
}

Device::Device(Device &&o) noexcept
    : state_(std::move(o.state_)), info_(std::move(o.info_)), default_stream_(std::move(o.default_stream_))
{
}

Device &Device::operator=(Device &&o) noexcept
{
    if (this != &o) {
        close();
        state_ = std::move(o.state_);
        info_ = std::move(o.info_);
        default_stream_ = std::move(o.default_stream_);
    }
    return *this;
}

Device::~Device()
{
    default_stream_.reset();  // submits its queued work while the device is open
    state_.reset();
}

int Device::fd() const noexcept
{
    if (!state_) return -1;
    std::shared_lock<std::shared_mutex> l(state_->mu);
    return state_->closed ? -1 : state_->fd;
}

bool Device::is_open() const noexcept { return fd() >= 0; }

void Device::close() noexcept
{
    if (!state_) return;
    {
        std::lock_guard<std::mutex> d(state_->default_mu);
        default_stream_.reset();  // before the lock below: its destructor takes it shared
    }
    std::unique_lock<std::shared_mutex> l(state_->mu);
    if (!state_->closed && state_->fd >= 0) {
        ::close(state_->fd);
        state_->fd = -1;
    }
    state_->closed = true;
}

namespace detail {

DeviceState::~DeviceState()
{
    if (fd >= 0) ::close(fd);
}

DeviceUse::DeviceUse(const std::shared_ptr<DeviceState> &dev, const char *what) : dev_(dev)
{
    if (!dev_) {
        throw Error(MTIA_ERROR_INVALID_HANDLE, std::string(what) + ": no device (moved-from or freed object)");
    }
    lock_ = std::shared_lock<std::shared_mutex>(dev_->mu);
    if (dev_->closed || dev_->fd < 0) {
        throw Error(MTIA_ERROR_INVALID_HANDLE, std::string(what) + ": device " + dev_->node + " has been closed");
    }
}

}  // namespace detail

}  // namespace mtia
