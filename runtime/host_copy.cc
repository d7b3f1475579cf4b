// SPDX-License-Identifier: MIT
// Copies between plain (pageable) host memory and Buffers. The device only
// reaches BOs, so the bytes go through pinned host staging buffers in chunks
// of up to kChunk, two of them in turn: while the device copies one chunk
// the CPU fills (or drains) the other. An event recorded after each chunk's
// copy says when its staging buffer may be reused. Staging buffers are kept
// alive by the jobs naming them, so returning early loses nothing.
#include <algorithm>
#include <cstring>

#include "runtime_internal.h"

namespace mtia {

namespace {

constexpr size_t kChunk = 4u << 20;

struct Staging {
    Buffer buf;
    Event done;
    bool busy = false;
};

void check_host_range(const Buffer &b, size_t off, size_t len, const void *host, const char *op)
{
    if (!b.state()) throw Error(MTIA_ERROR_INVALID_HANDLE, std::string(op) + ": buffer has been freed");
    if (len && !host) throw Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(op) + ": host pointer is NULL");
    const size_t size = b.state()->size;
    if (off > size || len > size - off) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(op) + ": range [" + std::to_string(off) + ", +" +
                                                     std::to_string(len) + ") is outside the buffer of " +
                                                     std::to_string(size) + " bytes");
    }
}

std::vector<Staging> make_staging(const std::shared_ptr<detail::DeviceState> &dev, size_t len)
{
    std::vector<Staging> st;
    const size_t n = len > kChunk ? 2 : 1;
    for (size_t i = 0; i < n; i++) {
        st.push_back({Buffer(dev, std::min(len, kChunk), Placement::Host), Event(dev), false});
    }
    return st;
}

}  // namespace

void Stream::copy_from_host(Buffer &dst, size_t dst_offset, const void *src, size_t len)
{
    if (!state_) throw Error(MTIA_ERROR_INVALID_HANDLE, "stream has been destroyed (or was never created)");
    check_host_range(dst, dst_offset, len, src, "copy_from_host");
    if (dst.state()->dev != state_->dev) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "copy_from_host: buffer belongs to another device");
    }
    if (len == 0) return;
    auto st = make_staging(state_->dev, len);
    const auto *in = static_cast<const unsigned char *>(src);
    for (size_t done = 0, i = 0; done < len; i++) {
        Staging &s = st[i % st.size()];
        if (s.busy) s.done.synchronize();  // its previous chunk has left it
        const size_t n = std::min(kChunk, len - done);
        std::memcpy(s.buf.map(), in + done, n);
        copy(dst, dst_offset + done, s.buf, 0, n);
        record(s.done);
        s.busy = true;
        done += n;
    }
}

void Stream::copy_to_host(void *dst, const Buffer &src, size_t src_offset, size_t len)
{
    if (!state_) throw Error(MTIA_ERROR_INVALID_HANDLE, "stream has been destroyed (or was never created)");
    check_host_range(src, src_offset, len, dst, "copy_to_host");
    if (src.state()->dev != state_->dev) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "copy_to_host: buffer belongs to another device");
    }
    if (len == 0) return;
    auto st = make_staging(state_->dev, len);
    auto *out = static_cast<unsigned char *>(dst);
    const size_t chunks = (len + kChunk - 1) / kChunk;
    auto queue = [&](size_t i) {
        Staging &s = st[i % st.size()];
        copy(s.buf, 0, src, src_offset + i * kChunk, std::min(kChunk, len - i * kChunk));
        record(s.done);
    };
    queue(0);
    for (size_t i = 0; i < chunks; i++) {
        if (i + 1 < chunks && st.size() > 1) queue(i + 1);  // the device fills one while we drain the other
        Staging &s = st[i % st.size()];
        // A failed copy shows here as Error(IO); the stream's synchronize()
        // reports it too.
        s.done.synchronize();
        const size_t n = std::min(kChunk, len - i * kChunk);
        std::memcpy(out + i * kChunk, s.buf.map(), n);
        if (i + 1 < chunks && st.size() == 1) queue(i + 1);
    }
}

}  // namespace mtia
