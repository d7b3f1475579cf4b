// SPDX-License-Identifier: MIT
// .npy reader/writer: the magic, version, header length, then a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a newline, then the raw data.
#include "npy.h"

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace mtia::run {

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

// The header dict: only the three keys NumPy writes.
struct Header {
    std::string descr;
    bool fortran = false;
    std::vector<uint64_t> shape;
    bool has_descr = false, has_fortran = false, has_shape = false;
};

class HeaderParser {
public:
    HeaderParser(const std::string &s, const std::string &what) : s_(s), what_(what) {}

    Header parse()
    {
        Header h;
        expect('{');
        while (true) {
            skip_ws();
            if (peek() == '}') break;
            const std::string key = string_lit();
            expect(':');
            skip_ws();
            if (key == "descr") {
                h.descr = string_lit();
                h.has_descr = true;
            } else if (key == "fortran_order") {
                h.fortran = boolean();
                h.has_fortran = true;
            } else if (key == "shape") {
                h.shape = tuple();
                h.has_shape = true;
            } else {
                fail("unknown header key '" + key + "'");
            }
            skip_ws();
            if (peek() == ',') {
                pos_++;
                continue;
            }
            if (peek() != '}') fail("expected ',' or '}' in the header");
        }
        pos_++;
        skip_ws();
        if (pos_ != s_.size()) fail("junk after the header dict");
        if (!h.has_descr || !h.has_fortran || !h.has_shape) fail("header lacks descr, fortran_order or shape");
        return h;
    }

private:
    [[noreturn]] void fail(const std::string &why) { throw NpyError(what_ + ": bad .npy header: " + why); }
    char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
    void skip_ws()
    {
        while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) pos_++;
    }
    void expect(char c)
    {
        skip_ws();
        if (peek() != c) fail(std::string("expected '") + c + "'");
        pos_++;
    }
    std::string string_lit()
    {
        skip_ws();
        const char q = peek();
        if (q != '\'' && q != '"') fail("expected a string");
        const size_t end = s_.find(q, pos_ + 1);
        if (end == std::string::npos) fail("unterminated string");
        std::string r = s_.substr(pos_ + 1, end - pos_ - 1);
        pos_ = end + 1;
        return r;
    }
    bool boolean()
    {
        if (s_.compare(pos_, 4, "True") == 0) return pos_ += 4, true;
        if (s_.compare(pos_, 5, "False") == 0) return pos_ += 5, false;
        fail("fortran_order is not True or False");
    }
    std::vector<uint64_t> tuple()
    {
        std::vector<uint64_t> r;
        expect('(');
        while (true) {
            skip_ws();
            if (peek() == ')') break;
            if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("shape entries must be non-negative integers");
            uint64_t v = 0;
            while (std::isdigit(static_cast<unsigned char>(peek()))) {
                const unsigned d = static_cast<unsigned>(s_[pos_++] - '0');
                if (v > (UINT64_MAX - d) / 10) fail("shape entry overflows");
                v = v * 10 + d;
            }
            r.push_back(v);
            skip_ws();
            if (peek() == ',') {
                pos_++;
                continue;
            }
            if (peek() != ')') fail("expected ',' or ')' in the shape");
        }
        pos_++;
        return r;
    }

    const std::string &s_;
    const std::string &what_;
    size_t pos_ = 0;
};

uint64_t le(const unsigned char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) v |= static_cast<uint64_t>(p[i]) << (8 * i);
    return v;
}

}  // namespace

std::string shape_str(const std::vector<uint64_t> &shape)
{
    if (shape.empty()) return "()";
    std::string s;
    for (uint64_t d : shape) s += (s.empty() ? "" : "x") + std::to_string(d);
    return s;
}

NpyArray parse_npy(const void *bytes, size_t size, const std::string &what)
{
    const auto *p = static_cast<const unsigned char *>(bytes);
    if (size < kMagicLen + 2 || std::memcmp(p, kMagic, kMagicLen) != 0) {
        throw NpyError(what + ": not a .npy file (no \\x93NUMPY magic)");
    }
    const unsigned major = p[6], minor = p[7];
    if ((major != 1 && major != 2) || minor != 0) {
        throw NpyError(what + ": .npy format version " + std::to_string(major) + "." + std::to_string(minor) +
                       " is not supported (1.0 and 2.0 are)");
    }
    const size_t len_bytes = major == 1 ? 2 : 4;
    if (size < 8 + len_bytes) throw NpyError(what + ": truncated .npy header");
    const uint64_t hlen = le(p + 8, len_bytes);
    const size_t data_at = 8 + len_bytes;
    if (hlen > size - data_at) throw NpyError(what + ": truncated .npy header");
    const std::string htext(reinterpret_cast<const char *>(p + data_at), hlen);
    const Header h = HeaderParser(htext, what).parse();
    NpyArray a;
    bool known = false;
    for (NpyType t :
         {NpyType::F32, NpyType::I32, NpyType::I64, NpyType::Bool, NpyType::F16, NpyType::I8, NpyType::U8}) {
        if (h.descr == npy_descr(t)) a.type = t, known = true;
    }
    if (!known) {
        throw NpyError(what + ": dtype '" + h.descr +
                       "' is not supported (float32 '<f4', float16 '<f2', int32 '<i4', int64 '<i8', bool '|b1', "
                       "int8 '|i1' or uint8 '|u1')");
    }
    const uint64_t es = npy_size(a.type);
    if (h.fortran) throw NpyError(what + ": Fortran-order arrays are not supported (save a C-order array)");
    uint64_t n = 1;
    for (uint64_t d : h.shape) {
        if (d && n > UINT64_MAX / 8 / d) throw NpyError(what + ": shape " + shape_str(h.shape) + " is too large");
        n *= d;
    }
    const size_t have = size - data_at - hlen;
    if (have != n * es) {
        throw NpyError(what + ": " + (have < n * es ? "truncated" : "trailing bytes") + ": shape " +
                       shape_str(h.shape) + " needs " + std::to_string(n * es) + " data bytes, the file has " +
                       std::to_string(have));
    }
    a.shape = h.shape;
    a.data.resize(n * es);
    // (An empty array has no data pointer: memcpy must not see it.)
    if (n) std::memcpy(a.data.data(), p + data_at + hlen, n * es);  // host is little-endian (x86, RISC-V)
    return a;
}

NpyArray read_npy(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) throw NpyError(path + ": cannot open: " + std::strerror(errno));
    std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) throw NpyError(path + ": read error");
    return parse_npy(bytes.data(), bytes.size(), path);
}

const char *npy_descr(NpyType t)
{
    switch (t) {
        case NpyType::F32:
            return "<f4";
        case NpyType::I32:
            return "<i4";
        case NpyType::I64:
            return "<i8";
        case NpyType::Bool:
            return "|b1";
        case NpyType::F16:
            return "<f2";
        case NpyType::I8:
            return "|i1";
        case NpyType::U8:
            return "|u1";
    }
    return "?";
}

size_t npy_size(NpyType t)
{
    switch (t) {
        case NpyType::I64:
            return 8;
        case NpyType::Bool:
        case NpyType::I8:
        case NpyType::U8:
            return 1;
        case NpyType::F16:
            return 2;
        default:
            return 4;
    }
}

std::string format_npy(const std::vector<uint64_t> &shape, const void *data, NpyType type)
{
    std::string dims;
    uint64_t n = 1;
    for (size_t i = 0; i < shape.size(); i++) {
        dims += (i ? ", " : "") + std::to_string(shape[i]);
        n *= shape[i];
    }
    if (shape.size() == 1) dims += ",";  // a 1-tuple, as Python writes it
    std::string dict =
        std::string("{'descr': '") + npy_descr(type) + "', 'fortran_order': False, 'shape': (" + dims + "), }";
    // Pad with spaces so the data starts 64-byte aligned; end with '\n'.
    const bool v2 = dict.size() + 1 + 10 > 65535;
    const size_t pre = v2 ? 12 : 10;
    const size_t total = (pre + dict.size() + 1 + 63) / 64 * 64;
    dict.append(total - pre - dict.size() - 1, ' ');
    dict += '\n';
    std::string out(kMagic, kMagicLen);
    out += static_cast<char>(v2 ? 2 : 1);
    out += '\0';
    const uint64_t hlen = dict.size();
    for (size_t i = 0; i < pre - 8; i++) out += static_cast<char>(hlen >> (8 * i));
    out += dict;
    out.append(static_cast<const char *>(data), n * npy_size(type));
    return out;
}

void write_npy(const std::string &path, const std::vector<uint64_t> &shape, const void *data, NpyType type)
{
    const std::string img = format_npy(shape, data, type);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw NpyError(path + ": cannot create: " + std::strerror(errno));
    f.write(img.data(), static_cast<std::streamsize>(img.size()));
    f.close();
    if (!f) throw NpyError(path + ": write error");
}

}  // namespace mtia::run
