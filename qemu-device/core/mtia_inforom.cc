// SPDX-License-Identifier: MIT
// The board's infoROM file (mtia_inforom.h).
#include "mtia_inforom.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace mtia {

namespace {

constexpr char kMagic[8] = {'M', 'T', 'I', 'A', 'I', 'R', 'O', 'M'};

uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return ~c;
}

void put32(std::string *s, uint32_t v)
{
    for (int i = 0; i < 4; i++) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get32(const std::string &s, size_t off)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= static_cast<uint32_t>(static_cast<unsigned char>(s[off + i])) << (8 * i);
    return v;
}

bool write_all(int fd, const std::string &s)
{
    size_t done = 0;
    while (done < s.size()) {
        ssize_t n = ::write(fd, s.data() + done, s.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

std::string inforom_encode(const InforomCounts &c)
{
    std::string s(kMagic, sizeof(kMagic));
    put32(&s, kInforomVersion);
    put32(&s, c.ecc_corrected);
    put32(&s, c.ecc_uncorrected);
    put32(&s, crc32_ieee(reinterpret_cast<const unsigned char *>(s.data()), s.size()));
    return s;
}

bool inforom_decode(const std::string &b, InforomCounts *c, std::string *why)
{
    if (b.size() != kInforomBytes) {
        *why = "is " + std::to_string(b.size()) + " bytes, not " + std::to_string(kInforomBytes) +
               " (truncated or not an infoROM)";
        return false;
    }
    if (std::memcmp(b.data(), kMagic, sizeof(kMagic)) != 0) {
        *why = "is not an mtia infoROM (bad magic)";
        return false;
    }
    if (get32(b, 8) != kInforomVersion) {
        *why = "has format version " + std::to_string(get32(b, 8)) + ", this device knows " +
               std::to_string(kInforomVersion);
        return false;
    }
    if (get32(b, 20) != crc32_ieee(reinterpret_cast<const unsigned char *>(b.data()), 20)) {
        *why = "is corrupt (checksum mismatch)";
        return false;
    }
    c->ecc_corrected = get32(b, 12);
    c->ecc_uncorrected = get32(b, 16);
    return true;
}

bool inforom_load(const std::string &path, InforomCounts *c, std::string *why)
{
    *c = InforomCounts{};
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) return true;  // a new board
        *why = "inforom " + path + ": " + std::strerror(errno);
        return false;
    }
    // Read one byte more than a valid file has, so that a longer one shows.
    std::string b(kInforomBytes + 1, '\0');
    size_t got = 0;
    int err = 0;
    while (got < b.size()) {
        ssize_t n = ::read(fd, &b[got], b.size() - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) err = errno;
        if (n <= 0) break;
        got += static_cast<size_t>(n);
    }
    struct stat st;
    const bool sized = ::fstat(fd, &st) == 0;
    ::close(fd);
    if (err) {
        *why = "inforom " + path + ": " + std::strerror(err);
        return false;
    }
    b.resize(got);
    if (got > kInforomBytes && sized) {  // name the real size
        *why = "inforom " + path + " is " + std::to_string(st.st_size) + " bytes, not " +
               std::to_string(kInforomBytes) + " (not an infoROM)";
        return false;
    }
    if (!inforom_decode(b, c, why)) {
        *why = "inforom " + path + " " + *why;
        return false;
    }
    return true;
}

bool inforom_store(const std::string &path, const InforomCounts &c, std::string *why)
{
    const std::string tmp = path + ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *why = "inforom " + tmp + ": " + std::strerror(errno);
        return false;
    }
    bool ok = write_all(fd, inforom_encode(c)) && ::fsync(fd) == 0;
    const int err = errno;
    ok = ::close(fd) == 0 && ok;
    if (ok && ::rename(tmp.c_str(), path.c_str()) == 0) return true;
    *why = "inforom " + path + ": " + std::strerror(ok ? errno : err);
    ::unlink(tmp.c_str());
    return false;
}

bool Inforom::open(const std::string &path, InforomCounts *c, std::string *why)
{
    std::lock_guard<std::mutex> l(mu_);
    if (!inforom_load(path, c, why)) return false;
    if (::access(path.c_str(), F_OK) != 0 && !inforom_store(path, *c, why)) return false;
    path_ = path;
    stored_ = *c;
    return true;
}

void Inforom::sync(const std::function<InforomCounts()> &now)
{
    std::lock_guard<std::mutex> l(mu_);
    if (path_.empty()) return;
    const InforomCounts c = now();
    if (c == stored_) return;
    std::string why;
    if (!inforom_store(path_, c, &why)) {
        std::fprintf(stderr, "mtia: %s: the ECC counts were not saved\n", why.c_str());
        return;
    }
    stored_ = c;
}

}  // namespace mtia
