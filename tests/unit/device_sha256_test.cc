// SPDX-License-Identifier: MIT
// The boot ROM's SHA-256 against the FIPS 180-2 (appendix B) vectors.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sha256.h"

namespace {

std::string hex(const uint8_t *d)
{
    std::string s;
    char b[3];
    for (int i = 0; i < 32; i++) {
        std::snprintf(b, sizeof(b), "%02x", d[i]);
        s += b;
    }
    return s;
}

std::string sha(const std::string &m)
{
    uint8_t d[32];
    mtia::Sha256::digest(m.data(), m.size(), d);
    return hex(d);
}

TEST(DeviceSha256, Fips180OneBlock)
{
    EXPECT_EQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DeviceSha256, Fips180TwoBlocks)
{
    EXPECT_EQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
              "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(DeviceSha256, Empty) { EXPECT_EQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"); }

TEST(DeviceSha256, MillionAInOddChunks)
{
    mtia::Sha256 h;
    std::string chunk(997, 'a');
    size_t left = 1000000;
    while (left) {
        size_t n = std::min(left, chunk.size());
        h.update(chunk.data(), n);
        left -= n;
    }
    uint8_t d[32];
    h.finish(d);
    EXPECT_EQ(hex(d), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(DeviceSha256, PaddingBoundaries)
{
    // 55, 56 and 64 bytes: the length field just fits, just does not, full block.
    EXPECT_EQ(sha(std::string(55, 'a')), "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    EXPECT_EQ(sha(std::string(56, 'a')), "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    EXPECT_EQ(sha(std::string(64, 'a')), "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    // Byte-at-a-time updates agree with one call.
    std::string m(200, 'x');
    mtia::Sha256 h;
    for (char c : m) h.update(&c, 1);
    uint8_t d[32];
    h.finish(d);
    EXPECT_EQ(hex(d), sha(m));
}

}  // namespace
