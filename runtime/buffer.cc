// SPDX-License-Identifier: MIT
// Buffers: BO_CREATE + BO_INFO, mapped with mmap on first map(), closed
// (GEM_CLOSE) when the last reference goes (Buffer, C handle, or a queued job).
#include <sys/mman.h>
#include <xf86drm.h>

#include <cerrno>
#include <cstring>

#include "runtime_internal.h"

namespace mtia {

namespace detail {

BufferState::~BufferState()
{
    if (counted) note_free(dev->node, alloc_size);
    if (ptr) ::munmap(ptr, alloc_size);
    if (handle) {
        if_open(dev, [&](int fd) {
            drm_gem_close c{};
            c.handle = handle;
            drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &c);
        });
    }
}

}  // namespace detail

namespace {

const std::shared_ptr<detail::BufferState> &live(const std::shared_ptr<detail::BufferState> &s)
{
    if (!s) throw Error(MTIA_ERROR_INVALID_HANDLE, "buffer has been freed (or was never created)");
    return s;
}

}  // namespace

Buffer::Buffer(const Device &device, size_t size, Placement placement) : Buffer(device.state(), size, placement) {}

Buffer::Buffer(const std::shared_ptr<detail::DeviceState> &device, size_t size, Placement placement)
{
    if (size == 0) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "buffer size must be > 0");
    if (placement != Placement::Host && placement != Placement::Device) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "bad buffer placement");
    }
    detail::DeviceUse use(device, "buffer create");
    auto s = std::make_shared<detail::BufferState>();
    s->dev = device;
    s->size = size;
    s->placement = placement;
    drm_mtia_bo_create c{};
    c.size = size;
    c.placement = placement == Placement::Host ? MTIA_BO_HOST : MTIA_BO_DEVICE;
    if (drmIoctl(use.fd(), DRM_IOCTL_MTIA_BO_CREATE, &c) != 0) {
        int err = errno;
        std::string what = "BO_CREATE of " + std::to_string(size) + " bytes (" +
                           (placement == Placement::Host ? "host" : "device") + "): " + std::strerror(err);
        throw Error(err == ENOSPC || err == ENOMEM ? MTIA_ERROR_OUT_OF_MEMORY
                    : err == EINVAL                ? MTIA_ERROR_INVALID_ARGUMENT
                                                   : MTIA_ERROR_IO,
                    what);
    }
    s->handle = c.handle;
    drm_mtia_bo_info i{};
    i.handle = c.handle;
    if (drmIoctl(use.fd(), DRM_IOCTL_MTIA_BO_INFO, &i) != 0) {
        int err = errno;
        throw Error(MTIA_ERROR_IO, std::string("BO_INFO: ") + std::strerror(err));  // ~BufferState closes it
    }
    s->alloc_size = i.size;
    s->mmap_offset = i.mmap_offset;
    s->devmem_offset = i.devmem_offset;
    if (placement == Placement::Device) {
        detail::note_alloc(s->dev->node, s->alloc_size);
        s->counted = true;
    }
    state_ = std::move(s);
}

size_t Buffer::size() const { return live(state_)->size; }
Placement Buffer::placement() const { return live(state_)->placement; }
uint32_t Buffer::handle() const { return live(state_)->handle; }
uint64_t Buffer::devmem_offset() const { return live(state_)->devmem_offset; }

void *Buffer::map()
{
    auto &s = live(state_);
    std::lock_guard<std::mutex> l(s->map_mu);
    if (s->ptr) return s->ptr;
    detail::DeviceUse use(s->dev, "buffer map");
    void *p = ::mmap(nullptr, s->alloc_size, PROT_READ | PROT_WRITE, MAP_SHARED, use.fd(), s->mmap_offset);
    if (p == MAP_FAILED) {
        int err = errno;
        throw Error(err == ENOMEM ? MTIA_ERROR_OUT_OF_MEMORY : MTIA_ERROR_IO,
                    std::string("mmap of the buffer: ") + std::strerror(err));
    }
    s->ptr = p;
    return p;
}

}  // namespace mtia
