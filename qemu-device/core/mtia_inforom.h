// SPDX-License-Identifier: MIT
// The board's infoROM, as a host file (the device property inforom=PATH,
// docs/telemetry.md "Aggregate ECC counts"): the non-volatile storage where
// the board keeps its lifetime (aggregate) ECC counts across power cycles,
// as an NVIDIA board keeps NVML_AGGREGATE_ECC in its infoROM.
//
// The file is 24 bytes, little endian: the magic "MTIAIROM", a format
// version (kInforomVersion), the corrected and the uncorrected count (u32
// each) and a CRC-32 (IEEE) of the 20 bytes before it. It is replaced whole
// (a temporary file in the same directory, fsync, rename), so a crash leaves
// the old counts or the new ones, never a mix. A missing file is a new board
// (counts 0); a file of another size, magic, version or checksum is refused
// with a message, never guessed at.
#ifndef MTIA_INFOROM_H
#define MTIA_INFOROM_H

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace mtia {

constexpr uint32_t kInforomVersion = 1;
constexpr size_t kInforomBytes = 24;

struct InforomCounts {
    uint32_t ecc_corrected = 0, ecc_uncorrected = 0;
    bool operator==(const InforomCounts &o) const
    {
        return ecc_corrected == o.ecc_corrected && ecc_uncorrected == o.ecc_uncorrected;
    }
    bool operator!=(const InforomCounts &o) const { return !(*this == o); }
};

// The file's bytes for @c, and back: false (with *why) if @bytes is not
// an infoROM this code wrote.
std::string inforom_encode(const InforomCounts &c);
bool inforom_decode(const std::string &bytes, InforomCounts *c, std::string *why);

// Reads @path into *c: true with 0 counts if it does not exist; false with
// *why ("inforom PATH: ...") if it cannot be read or is not valid.
bool inforom_load(const std::string &path, InforomCounts *c, std::string *why);
// Replaces @path atomically with @c; false with *why on any failure (the
// old file, if any, is then unchanged).
bool inforom_store(const std::string &path, const InforomCounts &c, std::string *why);

// A board's infoROM file, kept in step with its counts: open() at power-on,
// then sync() after anything that may have changed them. Thread-safe.
class Inforom {
public:
    // Loads @path (see inforom_load) into *c and keeps it for sync(); a
    // missing file is created with 0 counts, so that a path that cannot be
    // written is refused now rather than lost later. False with *why.
    bool open(const std::string &path, InforomCounts *c, std::string *why);
    // Writes now() if it differs from what the file holds. now() is called
    // with this object's lock held, so that writes land in the order of the
    // counts they carry. A failed write is reported on stderr (the counts
    // stay in the device; the next change retries).
    void sync(const std::function<InforomCounts()> &now);

private:
    std::mutex mu_;     // Protects path_, stored_ and the file.
    std::string path_;  // empty: no infoROM (sync() does nothing)
    InforomCounts stored_;
};

}  // namespace mtia

#endif  // MTIA_INFOROM_H
