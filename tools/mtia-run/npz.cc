// SPDX-License-Identifier: MIT
// .npz reader. The central directory lists the members; each member's local
// header gives where its data starts. numpy.savez writes every member with
// a ZIP64 local header (force_zip64), so ZIP64 extra fields are read; an
// archive whose directory itself needs ZIP64 (over 65535 members or 4 GiB)
// is refused.
#include "npz.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace mtia::run {

namespace {

constexpr uint32_t kEndSig = 0x06054b50, kDirSig = 0x02014b50, kLocalSig = 0x04034b50;
constexpr size_t kEndLen = 22, kDirLen = 46, kLocalLen = 30;
constexpr uint16_t kStored = 0, kDeflated = 8, kZip64Extra = 0x0001;

class Archive {
public:
    Archive(const uint8_t *p, size_t n, const std::string &what) : p_(p), n_(n), what_(what) {}

    [[noreturn]] void bad(const std::string &why) const { throw NpyError(what_ + ": not a valid .npz: " + why); }

    uint16_t u16(size_t at) const
    {
        need(at, 2);
        return static_cast<uint16_t>(p_[at] | p_[at + 1] << 8);
    }
    uint32_t u32(size_t at) const
    {
        need(at, 4);
        return static_cast<uint32_t>(u16(at)) | static_cast<uint32_t>(u16(at + 2)) << 16;
    }
    uint64_t u64(size_t at) const { return u32(at) | static_cast<uint64_t>(u32(at + 4)) << 32; }
    void need(size_t at, size_t len) const
    {
        if (at > n_ || len > n_ - at) bad("truncated");
    }
    const uint8_t *at(size_t off) const { return p_ + off; }

    // The end-of-central-directory record: the last signature that fits.
    size_t find_end() const
    {
        if (n_ < kEndLen) bad("too short for a ZIP archive");
        const size_t lowest = n_ - kEndLen > 0xffff ? n_ - kEndLen - 0xffff : 0;
        for (size_t i = n_ - kEndLen + 1; i-- > lowest;)
            if (u32(i) == kEndSig) return i;
        bad("no ZIP end-of-directory record");
    }

private:
    const uint8_t *p_;
    size_t n_;
    std::string what_;
};

struct Member {
    std::string name;
    uint16_t method = 0;
    uint32_t crc = 0;
    uint64_t packed = 0, size = 0, local = 0;
};

// ZIP64 extra field values replace the 0xffffffff ones, in this order.
void read_zip64(const Archive &a, size_t extra, size_t len, Member &m, bool size32, bool packed32, bool local32)
{
    for (size_t at = extra; at + 4 <= extra + len;) {
        const uint16_t id = a.u16(at), n = a.u16(at + 2);
        at += 4;
        if (at + n > extra + len) a.bad("member '" + m.name + "': bad extra field");
        if (id == kZip64Extra) {
            size_t v = at;
            auto next = [&]() {
                if (v + 8 > at + n) a.bad("member '" + m.name + "': short ZIP64 field");
                const uint64_t x = a.u64(v);
                v += 8;
                return x;
            };
            if (size32) m.size = next();
            if (packed32) m.packed = next();
            if (local32) m.local = next();
            return;
        }
        at += n;
    }
    if (size32 || packed32 || local32) a.bad("member '" + m.name + "': 32-bit sizes overflow and no ZIP64 field");
}

std::vector<uint8_t> member_data(const Archive &a, const Member &m, size_t total)
{
    if (a.u32(m.local) != kLocalSig) a.bad("member '" + m.name + "': no local header");
    const uint64_t start = m.local + kLocalLen + a.u16(m.local + 26) + a.u16(m.local + 28);
    if (start > total || m.packed > total - start) a.bad("member '" + m.name + "': data past the end");
    const uint8_t *src = a.at(static_cast<size_t>(start));
    // Deflate expands at most 1032:1: a larger claim is a lie, not a reason
    // to allocate it.
    if (m.size > (uint64_t{1} << 40) || m.size > m.packed * 1032 + 1024)
        a.bad("member '" + m.name + "': implausible size " + std::to_string(m.size));
    std::vector<uint8_t> out(static_cast<size_t>(m.size));
    if (m.method == kStored) {
        if (m.packed != m.size) a.bad("member '" + m.name + "': stored with two different sizes");
        if (m.size) std::memcpy(out.data(), src, out.size());
    } else if (m.method == kDeflated) {
        z_stream z{};
        if (inflateInit2(&z, -MAX_WBITS) != Z_OK) a.bad("zlib cannot start");
        uint64_t in_left = m.packed, out_done = 0;
        int rc = Z_OK;
        while (rc == Z_OK) {  // zlib's counters are 32-bit: feed at most 1 GiB at a time
            const uInt chunk_in = static_cast<uInt>(std::min<uint64_t>(in_left, 1u << 30));
            const uInt chunk_out = static_cast<uInt>(std::min<uint64_t>(m.size - out_done, 1u << 30));
            z.next_in = const_cast<Bytef *>(src + (m.packed - in_left));
            z.avail_in = chunk_in;
            z.next_out = out.data() + out_done;
            z.avail_out = chunk_out;
            rc = inflate(&z, Z_NO_FLUSH);
            in_left -= chunk_in - z.avail_in;
            out_done += chunk_out - z.avail_out;
            if (rc == Z_OK && chunk_in == z.avail_in && chunk_out == z.avail_out) rc = Z_DATA_ERROR;  // no progress
        }
        inflateEnd(&z);
        if (rc != Z_STREAM_END || out_done != m.size) a.bad("member '" + m.name + "': corrupt deflate data");
    } else {
        a.bad("member '" + m.name + "': compression method " + std::to_string(m.method) +
              " (only stored and deflated, as numpy.savez writes)");
    }
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t done = 0; done < out.size();) {
        const uInt n = static_cast<uInt>(std::min<size_t>(out.size() - done, 1u << 30));
        crc = crc32(crc, out.data() + done, n);
        done += n;
    }
    if (crc != m.crc) a.bad("member '" + m.name + "': CRC-32 mismatch (corrupt archive)");
    return out;
}

}  // namespace

std::vector<std::pair<std::string, NpyArray>> parse_npz(const void *bytes, size_t size, const std::string &what)
{
    const Archive a(static_cast<const uint8_t *>(bytes), size, what);
    const size_t end = a.find_end();
    const uint16_t count = a.u16(end + 10);
    const uint32_t dir_size = a.u32(end + 12), dir_at = a.u32(end + 16);
    if (count == 0xffff || dir_size == 0xffffffff || dir_at == 0xffffffff)
        a.bad("a ZIP64 directory (over 65535 members or 4 GiB) is not supported");
    if (a.u16(end + 4) != 0 || a.u16(end + 6) != 0 || a.u16(end + 8) != count) a.bad("multi-disk archive");
    std::vector<std::pair<std::string, NpyArray>> out;
    size_t at = dir_at;
    for (uint16_t i = 0; i < count; ++i) {
        if (a.u32(at) != kDirSig) a.bad("directory entry " + std::to_string(i) + " has no signature");
        Member m;
        const uint16_t flags = a.u16(at + 8), name_len = a.u16(at + 28), extra_len = a.u16(at + 30),
                       comment_len = a.u16(at + 32);
        m.method = a.u16(at + 10);
        m.crc = a.u32(at + 16);
        m.packed = a.u32(at + 20);
        m.size = a.u32(at + 24);
        m.local = a.u32(at + 42);
        a.need(at + kDirLen, name_len);
        m.name.assign(reinterpret_cast<const char *>(a.at(at + kDirLen)), name_len);
        if (flags & 1) a.bad("member '" + m.name + "' is encrypted");
        read_zip64(a, at + kDirLen + name_len, extra_len, m, m.size == 0xffffffff, m.packed == 0xffffffff,
                   m.local == 0xffffffff);
        at += kDirLen + name_len + extra_len + comment_len;
        if (m.name.size() < 5 || m.name.compare(m.name.size() - 4, 4, ".npy") != 0)
            a.bad("member '" + m.name + "' is not a .npy");
        const std::vector<uint8_t> data = member_data(a, m, size);
        std::string key = m.name.substr(0, m.name.size() - 4);
        for (const auto &kv : out)
            if (kv.first == key) a.bad("two members named '" + m.name + "'");
        out.emplace_back(key, parse_npy(data.data(), data.size(), what + ": " + m.name));
    }
    return out;
}

std::vector<std::pair<std::string, NpyArray>> read_npz(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) throw NpyError(path + ": cannot open: " + std::strerror(errno));
    const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) throw NpyError(path + ": read error");
    return parse_npz(bytes.data(), bytes.size(), path);
}

}  // namespace mtia::run
