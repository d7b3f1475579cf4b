// SPDX-License-Identifier: MIT
// A small SHA-256 (FIPS 180-4) for the device's boot ROM model: it checks the
// digest in a staged firmware image (mtia_fw_header.sha256).
#ifndef MTIA_SHA256_H
#define MTIA_SHA256_H

#include <cstddef>
#include <cstdint>

namespace mtia {

class Sha256 {
public:
    static constexpr size_t kDigestBytes = 32;

    Sha256() { reset(); }
    void reset();
    void update(const void *data, size_t len);
    // Writes the digest; the object must be reset() before reuse.
    void finish(uint8_t out[kDigestBytes]);

    static void digest(const void *data, size_t len, uint8_t out[kDigestBytes])
    {
        Sha256 h;
        h.update(data, len);
        h.finish(out);
    }

private:
    void block(const uint8_t *p);

    uint32_t h_[8];
    uint8_t buf_[64];
    size_t buf_len_;
    uint64_t total_;  // bytes hashed
};

}  // namespace mtia

#endif  // MTIA_SHA256_H
