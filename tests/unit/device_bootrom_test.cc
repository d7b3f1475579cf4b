// SPDX-License-Identifier: MIT
// bootrom_load() as a pure function: whatever it refuses, SRAM is zero
// afterwards, so nothing of an earlier image (one that ran and halted)
// survives a refused boot. Found by the bootrom fuzz target
// (tests/fuzz/regress/bootrom/): the early refusals used to return before
// SRAM was cleared.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "mtia/mtia_spec.h"
#include "mtia_bootrom.h"
#include "sha256.h"

namespace {

// A signed image of a 4-byte payload ("j ."), header fields patched by @patch
// before signing.
template <class F>
std::vector<uint8_t> image(F patch)
{
    const uint8_t payload[4] = {0x6f, 0, 0, 0};
    mtia_fw_header h{};
    h.magic = MTIA_FW_MAGIC;
    h.format_version = MTIA_FW_FORMAT_VERSION;
    h.header_size = MTIA_FW_HEADER_SIZE;
    h.load_addr = h.entry = MTIA_CC_SRAM_BASE;
    h.payload_size = sizeof(payload);
    patch(h);
    mtia::Sha256 s;
    s.update(&h, sizeof(h));
    s.update(payload, sizeof(payload));
    s.finish(h.sha256);
    std::vector<uint8_t> b(sizeof(h) + sizeof(payload));
    std::memcpy(b.data(), &h, sizeof(h));
    std::memcpy(b.data() + sizeof(h), payload, sizeof(payload));
    return b;
}

bool all_zero(const std::vector<uint8_t> &v)
{
    return std::all_of(v.begin(), v.end(), [](uint8_t b) { return b == 0; });
}

TEST(BootRom, EveryRefusalLeavesSramZero)
{
    struct Case {
        const char *name;
        std::vector<uint8_t> devmem;  // staged whole, unless empty_stage
        uint32_t expect;
        bool empty_stage = false;
    };
    const auto good = image([](mtia_fw_header &) {});
    std::vector<uint8_t> digest = good;
    digest.back() ^= 1;
    const std::vector<Case> cases = {
        {"empty stage", good, MTIA_BOOT_ERR_BAD_STAGE, true},
        {"shorter than a header", std::vector<uint8_t>(good.begin(), good.begin() + 40), MTIA_BOOT_ERR_TRUNCATED},
        {"bad magic", image([](mtia_fw_header &h) { h.magic ^= 1; }), MTIA_BOOT_ERR_BAD_MAGIC},
        {"bad format", image([](mtia_fw_header &h) { h.format_version = 0; }), MTIA_BOOT_ERR_BAD_FORMAT},
        {"bad header", image([](mtia_fw_header &h) { h.reserved[0] = 1; }), MTIA_BOOT_ERR_BAD_HEADER},
        {"payload past the stage", image([](mtia_fw_header &h) { h.payload_size = 8; }), MTIA_BOOT_ERR_TRUNCATED},
        {"load below SRAM", image([](mtia_fw_header &h) { h.load_addr = h.entry = 0; }), MTIA_BOOT_ERR_BAD_LOAD},
        {"odd entry", image([](mtia_fw_header &h) { h.entry += 1; }), MTIA_BOOT_ERR_BAD_ENTRY},
        {"digest", digest, MTIA_BOOT_ERR_BAD_DIGEST},
    };
    std::vector<uint8_t> sram(MTIA_CC_SRAM_SIZE);
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        // A good image first, as if it had run and halted.
        mtia::BootImage img;
        ASSERT_EQ(mtia::bootrom_load(good.data(), good.size(), 0, good.size(), sram.data(), sram.size(), &img),
                  MTIA_BOOT_RUNNING);
        ASSERT_FALSE(all_zero(sram));
        const uint64_t size = c.empty_stage ? 0 : c.devmem.size();
        EXPECT_EQ(mtia::bootrom_load(c.devmem.data(), c.devmem.size(), 0, size, sram.data(), sram.size(), &img),
                  c.expect);
        EXPECT_TRUE(all_zero(sram));
    }
}

}  // namespace
