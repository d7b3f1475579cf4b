// SPDX-License-Identifier: MIT
// The device core's boot ROM and control core, without QEMU: images staged
// in a std::vector standing in for BAR2, firmware from tests/unit/device_fw
// (assembled at build time) and, when built, the real firmware. Test images
// are signed with a key made for the test run, which the device is set to
// trust (fw_pubkey); the real images with the development key, the default.
#include <gtest/gtest.h>
#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mtia/mtia_boot_status.h"
#include "mtia/mtia_spec.h"
#include "mtia_bootrom.h"
#include "mtia_core.h"
#include "mtia_fw_key.h"
#include "sha256.h"
#include "test_watchdog.h"

namespace {

using namespace std::chrono_literals;

constexpr uint64_t kDevmem = 16ull << 20;
constexpr uint32_t kTb = 0xa0000;  // fw_test.S's test bench in device memory

std::vector<uint8_t> read_file(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) return {};
    return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> test_fw()
{
#ifdef MTIA_DEVICE_TEST_FW
    return read_file(MTIA_DEVICE_TEST_FW);
#else
    return {};
#endif
}

#define NEED_TEST_FW(payload)                                                                                  \
    do {                                                                                                       \
        if ((payload).empty()) GTEST_SKIP() << "test firmware not built (needs riscv64-unknown-elf binutils)"; \
    } while (0)

// An Ed25519 key pair made for this test run.
struct TestKey {
    uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    TestKey()
    {
        if (sodium_init() < 0) std::abort();
        crypto_sign_keypair(pk, sk);
    }
};
const TestKey &test_key()  // the key FwTest's device trusts
{
    static const TestKey k;
    return k;
}
const TestKey &other_key()  // a key it does not trust
{
    static const TestKey k;
    return k;
}

struct Image {
    mtia_fw_header h{};
    std::vector<uint8_t> payload;
    mtia_fw_sig sig{};
    const TestKey *key = &test_key();  // nullptr: unsigned

    explicit Image(std::vector<uint8_t> p, uint32_t flags = 0) : payload(std::move(p))
    {
        h.magic = MTIA_FW_MAGIC;
        h.format_version = MTIA_FW_FORMAT_VERSION;
        h.header_size = MTIA_FW_HEADER_SIZE;
        h.load_addr = MTIA_CC_SRAM_BASE;
        h.entry = MTIA_CC_SRAM_BASE;
        h.payload_size = static_cast<uint32_t>(payload.size());
        h.fw_version = MTIA_FW_VERSION(1, 2, 3);
        h.flags = flags;
        sign();
    }
    // The header's digest (what an attacker without the key can redo).
    void rehash()
    {
        std::memset(h.sha256, 0, sizeof(h.sha256));
        mtia::Sha256 s;
        s.update(&h, sizeof(h));
        s.update(payload.data(), payload.size());
        s.finish(h.sha256);
    }
    // sig_size, digest and signature block, as mtia-fw-sign writes them.
    void sign()
    {
        h.sig_size = key ? MTIA_FW_SIG_SIZE : 0;
        rehash();
        sig = mtia_fw_sig{};
        if (!key) return;
        sig.magic = MTIA_FW_SIG_MAGIC;
        sig.alg = MTIA_FW_SIG_ALG_ED25519;
        mtia::fw_key_id(key->pk, sig.key_id);
        crypto_sign_detached(sig.signature, nullptr, reinterpret_cast<const uint8_t *>(&h), sizeof(h), key->sk);
    }
    // Header, payload and (if signed) the signature block.
    std::vector<uint8_t> bytes() const
    {
        std::vector<uint8_t> b(sizeof(h));
        std::memcpy(b.data(), &h, sizeof(h));
        b.insert(b.end(), payload.begin(), payload.end());
        if (key)
            b.insert(b.end(), reinterpret_cast<const uint8_t *>(&sig), reinterpret_cast<const uint8_t *>(&sig + 1));
        return b;
    }
};

// Host callbacks may come from the control-core thread.
struct Host {
    std::mutex mu;
    std::condition_variable cv;
    unsigned irqs = 0;
    std::vector<std::string> errors;
};

const mtia_core_host_ops kOps = {
    [](void *o, unsigned) {
        auto *h = static_cast<Host *>(o);
        std::lock_guard<std::mutex> l(h->mu);
        h->irqs++;
        h->cv.notify_all();
    },
    [](void *o, const char *m) {
        auto *h = static_cast<Host *>(o);
        std::lock_guard<std::mutex> l(h->mu);
        h->errors.emplace_back(m);
    },
    nullptr,
    nullptr,
};

class FwTest : public ::testing::Test {
protected:
    // The key the device trusts: test_key(), or the default (development) key.
    virtual bool trust_test_key() const { return true; }
    void SetUp() override
    {
        mtia_core_config_default(&cfg);
        if (trust_test_key()) std::memcpy(cfg.fw_pubkey, test_key().pk, sizeof(cfg.fw_pubkey));
        cfg.devmem_bytes = kDevmem;
        devmem.assign(kDevmem, 0);
        core = mtia_core_new(&cfg, &kOps, &host);
        ASSERT_NE(core, nullptr);
        mtia_core_attach_devmem(core, devmem.data(), devmem.size());
        fw = test_fw();
    }
    void TearDown() override { mtia_core_free(core); }

    uint32_t rd(uint64_t off) { return static_cast<uint32_t>(mtia_core_mmio_read(core, off, 4)); }
    void wr(uint64_t off, uint32_t v) { mtia_core_mmio_write(core, off, v, 4); }
    uint32_t dm32(uint64_t off)
    {
        uint32_t v;
        std::memcpy(&v, devmem.data() + off, 4);
        return v;
    }
    void set_dm32(uint64_t off, uint32_t v) { std::memcpy(devmem.data() + off, &v, 4); }

    void stage(const std::vector<uint8_t> &img, uint64_t off = MTIA_DEVMEM_FW_STAGE_OFF, uint64_t size = ~0ull)
    {
        std::memcpy(devmem.data() + off, img.data(), img.size());
        wr(MTIA_REG_FW_STAGE_LO, static_cast<uint32_t>(off));
        wr(MTIA_REG_FW_STAGE_HI, static_cast<uint32_t>(off >> 32));
        wr(MTIA_REG_FW_STAGE_SIZE, static_cast<uint32_t>(size == ~0ull ? img.size() : size));
    }
    uint32_t boot()
    {
        wr(MTIA_REG_FW_BOOT, MTIA_FW_BOOT_KEY);
        return rd(MTIA_REG_FW_BOOT_STATUS);
    }
    uint32_t boot(const Image &img, uint32_t mode = 0)
    {
        set_dm32(kTb, mode);
        stage(img.bytes());
        return boot();
    }
    bool wait_for(const std::function<bool()> &pred, std::chrono::milliseconds limit = 60s)
    {
        return wait_until(pred, limit);
    }
    bool wait_ready()
    {
        return wait_for([&] { return rd(MTIA_REG_FW_STATUS) == MTIA_FW_STATUS_READY; });
    }
    unsigned irqs()
    {
        std::lock_guard<std::mutex> l(host.mu);
        return host.irqs;
    }

    mtia_core_config cfg{};
    Host host;
    std::vector<uint8_t> devmem;
    std::vector<uint8_t> fw;
    mtia_core *core = nullptr;
};

TEST_F(FwTest, RegistersAfterReset)
{
    EXPECT_EQ(rd(MTIA_REG_FW_BOOT_STATUS), MTIA_BOOT_IDLE);
    EXPECT_EQ(rd(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_OFF);
    EXPECT_EQ(rd(MTIA_REG_FW_HEARTBEAT), 0u);
    EXPECT_EQ(rd(MTIA_REG_FW_INSTRET_LO), 0u);
    EXPECT_EQ(rd(MTIA_REG_MBOX_DOORBELL), 0u);
    EXPECT_EQ(rd(MTIA_REG_FW_BOOT), 0u);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), 0u);
}

TEST_F(FwTest, HostCannotWriteFirmwareRegisters)
{
    for (uint64_t off : {MTIA_REG_FW_BOOT_STATUS, MTIA_REG_FW_STATUS, MTIA_REG_FW_VERSION, MTIA_REG_FW_HEARTBEAT,
                         MTIA_REG_FW_LOG_ADDR, MTIA_REG_FW_LOG_SIZE, MTIA_REG_FW_TRAP_PC, MTIA_REG_FW_INSTRET_LO,
                         MTIA_REG_MBOX_RESP, MTIA_REG_MBOX_RESP + 0x3c}) {
        wr(off, 7);
        EXPECT_EQ(rd(off), 0u) << off;
        EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE) << off;
        EXPECT_EQ(rd(MTIA_REG_ERR_ADDR), off);
        wr(MTIA_REG_ERR_STATUS, ~0u);
    }
    // The firmware-only block is not in the host's BAR0.
    for (uint64_t off : {MTIA_CC_REG_MTIME_LO, MTIA_CC_REG_MBOX_POST, MTIA_CC_REG_EVENT}) {
        wr(off, 1);
        EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_OFFSET) << off;
        wr(MTIA_REG_ERR_STATUS, ~0u);
    }
    // A wrong boot key is a bad write and boots nothing.
    wr(MTIA_REG_FW_BOOT, 0x1234);
    EXPECT_EQ(rd(MTIA_REG_ERR_STATUS), MTIA_ERR_BAD_WRITE);
    EXPECT_EQ(rd(MTIA_REG_FW_BOOT_STATUS), MTIA_BOOT_IDLE);
    // Stage registers and the command buffer are plain RW for the host.
    wr(MTIA_REG_FW_STAGE_HI, 0x12);
    wr(MTIA_REG_MBOX_CMD + 0x3c, 0xabcd);
    EXPECT_EQ(rd(MTIA_REG_FW_STAGE_HI), 0x12u);
    EXPECT_EQ(rd(MTIA_REG_MBOX_CMD + 0x3c), 0xabcdu);
}

TEST_F(FwTest, GoodImageBootsToReady)
{
    NEED_TEST_FW(fw);
    wr(MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_FW_EVENT);
    Image img(fw);
    EXPECT_EQ(boot(img), MTIA_BOOT_RUNNING);
    EXPECT_EQ(rd(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_FW_EVENT, MTIA_IRQ_FW_EVENT);
    EXPECT_GE(irqs(), 1u);
    ASSERT_TRUE(wait_ready());
    EXPECT_EQ(rd(MTIA_REG_FW_VERSION), 0x010203u);
    EXPECT_EQ(dm32(kTb + 4), 0u);                 // a0 = header flags
    EXPECT_EQ(dm32(kTb + 8), MTIA_BOOT_RUNNING);  // a1 = FW_BOOT_STATUS
    EXPECT_GT(rd(MTIA_REG_FW_INSTRET_LO) | rd(MTIA_REG_FW_INSTRET_HI), 0u);
    EXPECT_EQ(rd(MTIA_REG_FW_BOOT_STATUS), MTIA_BOOT_RUNNING);
    EXPECT_EQ(dm32(kTb + 12), 0u);  // no unexpected exception
}

TEST_F(FwTest, HeartbeatFromTimerInterrupt)
{
    NEED_TEST_FW(fw);
    ASSERT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    ASSERT_TRUE(wait_ready());
    uint32_t h0 = rd(MTIA_REG_FW_HEARTBEAT);
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_HEARTBEAT) >= h0 + 5; }))
        << "heartbeat " << rd(MTIA_REG_FW_HEARTBEAT);
    // 1 ms period: never more beats than milliseconds passed (mtime paces
    // it), and it keeps beating (a loaded host may delay beats, not stop them).
    const auto t1 = std::chrono::steady_clock::now();
    uint32_t h1 = rd(MTIA_REG_FW_HEARTBEAT);
    std::this_thread::sleep_for(50ms);
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_HEARTBEAT) >= h1 + 5; }, 60s));
    uint32_t h2 = rd(MTIA_REG_FW_HEARTBEAT);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t1);
    EXPECT_LE(h2 - h1, ms.count() + 2) << "beats in " << ms.count() << " ms";
    // Idle in WFI between beats: far fewer instructions than a spin.
    uint64_t i1 = rd(MTIA_REG_FW_INSTRET_LO);
    std::this_thread::sleep_for(50ms);
    uint64_t i2 = rd(MTIA_REG_FW_INSTRET_LO);
    EXPECT_LT(i2 - i1, 100000u);
}

TEST_F(FwTest, MailboxDoorbellInterruptsFirmwareWhichResponds)
{
    NEED_TEST_FW(fw);
    ASSERT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    ASSERT_TRUE(wait_ready());
    wr(MTIA_REG_IRQ_STATUS, ~0u);
    wr(MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_MBOX);
    unsigned before = irqs();
    for (uint32_t seq = 1; seq <= 20; seq++) {
        wr(MTIA_REG_MBOX_CMD, MTIA_ADMIN_PING | seq << 16);
        wr(MTIA_REG_MBOX_CMD + 4, 0xffffffff);  // status: firmware sets OK
        for (unsigned i = 0; i < 13; i++) wr(MTIA_REG_MBOX_CMD + 8 + 4 * i, seq * 100 + i);
        wr(MTIA_REG_MBOX_DOORBELL, 1);
        ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_MBOX; })) << "seq " << seq;
        EXPECT_EQ(rd(MTIA_REG_MBOX_DOORBELL), 0u);
        EXPECT_EQ(rd(MTIA_REG_MBOX_RESP), MTIA_ADMIN_PING | seq << 16);
        EXPECT_EQ(rd(MTIA_REG_MBOX_RESP + 4), MTIA_ADMIN_STATUS_OK);
        for (unsigned i = 0; i < 13; i++) EXPECT_EQ(rd(MTIA_REG_MBOX_RESP + 8 + 4 * i), seq * 100 + i);
        EXPECT_EQ(rd(MTIA_REG_MBOX_RESP + 60), seq);  // written with a halfword store
        wr(MTIA_REG_IRQ_STATUS, MTIA_IRQ_MBOX);
    }
    EXPECT_GE(irqs() - before, 20u);
    EXPECT_EQ(dm32(kTb + 12), 0u);
}

TEST_F(FwTest, DoorbellRungBeforeBootIsServedAfterReady)
{
    NEED_TEST_FW(fw);
    wr(MTIA_REG_MBOX_CMD, MTIA_ADMIN_PING | 77 << 16);
    wr(MTIA_REG_MBOX_DOORBELL, 1);
    EXPECT_EQ(rd(MTIA_REG_MBOX_DOORBELL), 1u);
    ASSERT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_MBOX; }));
    EXPECT_EQ(rd(MTIA_REG_MBOX_RESP), MTIA_ADMIN_PING | 77u << 16);
}

struct BootCase {
    const char *name;
    uint32_t expect;
    // Mutate the image (after signing unless @resign), or the stage.
    std::function<void(Image &)> mutate;
    bool resign;
};

TEST_F(FwTest, EachBootErrorCodeThenRetrySucceeds)
{
    NEED_TEST_FW(fw);
    const uint32_t n = static_cast<uint32_t>(fw.size());
    const std::vector<BootCase> cases = {
        {"bad magic", MTIA_BOOT_ERR_BAD_MAGIC, [](Image &i) { i.h.magic ^= 1; }, true},
        {"format 1 (before signatures)", MTIA_BOOT_ERR_BAD_FORMAT, [](Image &i) { i.h.format_version = 1; }, true},
        {"format 3", MTIA_BOOT_ERR_BAD_FORMAT, [](Image &i) { i.h.format_version = 3; }, true},
        {"format 0", MTIA_BOOT_ERR_BAD_FORMAT, [](Image &i) { i.h.format_version = 0; }, true},
        {"header too small", MTIA_BOOT_ERR_BAD_HEADER, [](Image &i) { i.h.header_size = 76; }, true},
        {"header_size 0", MTIA_BOOT_ERR_BAD_HEADER, [](Image &i) { i.h.header_size = 0; }, true},
        {"reserved set", MTIA_BOOT_ERR_BAD_HEADER, [](Image &i) { i.h.reserved[3] = 1; }, true},
        {"sig_size not 0 or 80", MTIA_BOOT_ERR_BAD_HEADER,
         [](Image &i) {
             i.h.sig_size = MTIA_FW_SIG_SIZE - 4;
             i.rehash();
         },
         false},
        {"unknown flag", MTIA_BOOT_ERR_BAD_HEADER, [](Image &i) { i.h.flags = 1u << 2; }, true},
        {"high flag", MTIA_BOOT_ERR_BAD_HEADER, [](Image &i) { i.h.flags = 1u << 31; }, true},
        {"payload_size > stage", MTIA_BOOT_ERR_TRUNCATED, [](Image &i) { i.h.payload_size += 4; }, true},
        {"payload_size huge", MTIA_BOOT_ERR_TRUNCATED, [](Image &i) { i.h.payload_size = ~0u; }, true},
        {"load below SRAM", MTIA_BOOT_ERR_BAD_LOAD,
         [](Image &i) {
             i.h.load_addr = MTIA_CC_SRAM_BASE - 4;
             i.h.entry = i.h.load_addr;
         },
         true},
        {"load past SRAM end", MTIA_BOOT_ERR_BAD_LOAD,
         [n](Image &i) {
             i.h.load_addr = MTIA_CC_SRAM_BASE + MTIA_CC_SRAM_SIZE - n + 4;
             i.h.entry = i.h.load_addr;
         },
         true},
        {"load wraps 2^32", MTIA_BOOT_ERR_BAD_LOAD,
         [](Image &i) {
             i.h.load_addr = 0xfffffff0u;
             i.h.entry = i.h.load_addr;
         },
         true},
        {"load in device memory", MTIA_BOOT_ERR_BAD_LOAD,
         [](Image &i) {
             i.h.load_addr = MTIA_CC_DEVMEM_BASE;
             i.h.entry = i.h.load_addr;
         },
         true},
        {"entry past payload", MTIA_BOOT_ERR_BAD_ENTRY, [n](Image &i) { i.h.entry = MTIA_CC_SRAM_BASE + n; }, true},
        {"entry before payload", MTIA_BOOT_ERR_BAD_ENTRY,
         [](Image &i) {
             i.h.load_addr += 0x100;
             i.h.entry = MTIA_CC_SRAM_BASE;
         },
         true},
        {"entry odd", MTIA_BOOT_ERR_BAD_ENTRY, [](Image &i) { i.h.entry += 1; }, true},
        {"payload byte flipped", MTIA_BOOT_ERR_BAD_DIGEST, [](Image &i) { i.payload[5] ^= 0x10; }, false},
        {"last payload byte flipped", MTIA_BOOT_ERR_BAD_DIGEST, [](Image &i) { i.payload.back() ^= 1; }, false},
        {"header byte flipped", MTIA_BOOT_ERR_BAD_DIGEST, [](Image &i) { i.h.fw_version ^= 0x100; }, false},
        {"digest byte flipped", MTIA_BOOT_ERR_BAD_DIGEST, [](Image &i) { i.h.sha256[31] ^= 0x80; }, false},
        {"unsigned payload flipped", MTIA_BOOT_ERR_BAD_DIGEST,
         [](Image &i) {
             i.key = nullptr;
             i.sign();
             i.payload[5] ^= 0x10;
         },
         false},
        // The signature checks, after the digest.
        {"unsigned", MTIA_BOOT_ERR_UNSIGNED, [](Image &i) { i.key = nullptr; }, true},
        {"signature block there, sig_size 0", MTIA_BOOT_ERR_UNSIGNED,
         [](Image &i) {
             i.h.sig_size = 0;
             i.rehash();
         },
         false},
        {"other key", MTIA_BOOT_ERR_UNTRUSTED_KEY, [](Image &i) { i.key = &other_key(); }, true},
        {"payload changed after signing, digest redone", MTIA_BOOT_ERR_BAD_SIGNATURE,
         [](Image &i) {
             i.payload[5] ^= 0x10;
             i.rehash();
         },
         false},
        {"flags changed after signing, digest redone", MTIA_BOOT_ERR_BAD_SIGNATURE,
         [](Image &i) {
             i.h.flags = MTIA_FW_FLAG_TEST_HANG;
             i.rehash();
         },
         false},
        {"signature byte flipped", MTIA_BOOT_ERR_BAD_SIGNATURE, [](Image &i) { i.sig.signature[7] ^= 4; }, false},
        {"signature zeroed", MTIA_BOOT_ERR_BAD_SIGNATURE,
         [](Image &i) { std::memset(i.sig.signature, 0, sizeof(i.sig.signature)); }, false},
        {"other key, key id forged", MTIA_BOOT_ERR_BAD_SIGNATURE,
         [](Image &i) {
             i.key = &other_key();
             i.sign();
             mtia::fw_key_id(test_key().pk, i.sig.key_id);
         },
         false},
        {"signature block magic", MTIA_BOOT_ERR_BAD_SIGNATURE, [](Image &i) { i.sig.magic ^= 1; }, false},
        {"signature algorithm 2", MTIA_BOOT_ERR_BAD_SIGNATURE, [](Image &i) { i.sig.alg = 2; }, false},
        {"signature block reserved", MTIA_BOOT_ERR_BAD_SIGNATURE, [](Image &i) { i.sig.reserved = 1; }, false},
    };
    for (const BootCase &c : cases) {
        Image img(fw);
        c.mutate(img);
        if (c.resign) img.sign();  // so only the intended check can fire
        EXPECT_EQ(boot(img), c.expect) << c.name;
        EXPECT_EQ(rd(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_OFF) << c.name;
        EXPECT_EQ(rd(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_FW_EVENT, MTIA_IRQ_FW_EVENT) << c.name;
        wr(MTIA_REG_IRQ_STATUS, ~0u);
    }
    // Truncated stage: one byte short of the signature block's end, of the
    // payload's, and shorter than a header.
    stage(Image(fw).bytes(), 0, fw.size() + MTIA_FW_HEADER_SIZE + MTIA_FW_SIG_SIZE - 1);
    EXPECT_EQ(boot(), MTIA_BOOT_ERR_TRUNCATED);
    stage(Image(fw).bytes(), 0, fw.size() + MTIA_FW_HEADER_SIZE - 1);
    EXPECT_EQ(boot(), MTIA_BOOT_ERR_TRUNCATED);
    stage(Image(fw).bytes(), 0, 40);
    EXPECT_EQ(boot(), MTIA_BOOT_ERR_TRUNCATED);
    // A larger stage than the image is fine (checked below by the retry).
    // After all that the device boots a good image.
    stage(Image(fw).bytes(), 0x1000, fw.size() + MTIA_FW_HEADER_SIZE + MTIA_FW_SIG_SIZE + 4096);
    EXPECT_EQ(boot(), MTIA_BOOT_RUNNING);
    EXPECT_TRUE(wait_ready());
}

TEST_F(FwTest, BadStageBounds)
{
    std::vector<uint8_t> junk(128, 0x5a);
    struct {
        uint64_t off;
        uint32_t size;
    } bad[] = {
        {kDevmem, 128},                  // starts at the end
        {kDevmem - 64, 128},             // runs past the end
        {0, 0},                          // empty
        {0xfffffffffffffff0ull, 0x100},  // offset + size wraps 2^64
        {0xffffffff00000000ull, 0x100},
        {1ull << 32, 128},  // above 4 GiB, devmem is 16 MiB
        {0, 0xffffffffu},   // bigger than device memory
    };
    for (auto &b : bad) {
        wr(MTIA_REG_FW_STAGE_LO, static_cast<uint32_t>(b.off));
        wr(MTIA_REG_FW_STAGE_HI, static_cast<uint32_t>(b.off >> 32));
        wr(MTIA_REG_FW_STAGE_SIZE, b.size);
        EXPECT_EQ(boot(), MTIA_BOOT_ERR_BAD_STAGE) << std::hex << b.off << " " << b.size;
    }
    // The last byte of device memory is a valid place for a (truncated) stage.
    wr(MTIA_REG_FW_STAGE_LO, static_cast<uint32_t>(kDevmem - 1));
    wr(MTIA_REG_FW_STAGE_HI, 0);
    wr(MTIA_REG_FW_STAGE_SIZE, 1);
    EXPECT_EQ(boot(), MTIA_BOOT_ERR_TRUNCATED);
    // Without device memory nothing can be staged.
    mtia_core_attach_devmem(core, nullptr, 0);
    stage(junk, 0, 128);
    EXPECT_EQ(boot(), MTIA_BOOT_ERR_BAD_STAGE);
}

TEST_F(FwTest, BootWhileRunningIsBusyAndChangesNothing)
{
    NEED_TEST_FW(fw);
    ASSERT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    ASSERT_TRUE(wait_ready());
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_HEARTBEAT) >= 2; }));
    wr(MTIA_REG_IRQ_STATUS, ~0u);
    Image other(fw);
    other.h.magic = 0;  // would fail if it were looked at
    stage(other.bytes());
    EXPECT_EQ(boot(), MTIA_BOOT_ERR_BUSY);
    EXPECT_EQ(rd(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_FW_EVENT, MTIA_IRQ_FW_EVENT);
    EXPECT_EQ(rd(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_READY);
    uint32_t h = rd(MTIA_REG_FW_HEARTBEAT);
    EXPECT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_HEARTBEAT) > h + 2; }));  // still running
}

TEST_F(FwTest, IllegalInstructionHaltsWithTrapInfo)
{
    NEED_TEST_FW(fw);
    wr(MTIA_REG_IRQ_MASK, MTIA_IRQ_ALL & ~MTIA_IRQ_FW_EVENT);
    // The core may halt before FW_BOOT_STATUS is read back.
    uint32_t st = boot(Image(fw, MTIA_FW_FLAG_TEST_TRAP));
    ASSERT_TRUE(st == MTIA_BOOT_RUNNING || st == MTIA_BOOT_HALTED) << st;
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_BOOT_STATUS) == MTIA_BOOT_HALTED; }));
    EXPECT_EQ(rd(MTIA_REG_FW_TRAP_CAUSE), 2u);  // illegal instruction
    uint32_t pc = rd(MTIA_REG_FW_TRAP_PC);
    ASSERT_GE(pc, MTIA_CC_SRAM_BASE);
    ASSERT_LT(pc, MTIA_CC_SRAM_BASE + fw.size());
    EXPECT_EQ(fw[pc - MTIA_CC_SRAM_BASE] | fw[pc - MTIA_CC_SRAM_BASE + 1], 0);  // the .word 0
    EXPECT_EQ(rd(MTIA_REG_FW_TRAP_TVAL), 0u);
    EXPECT_EQ(dm32(kTb + 4), static_cast<uint32_t>(MTIA_FW_FLAG_TEST_TRAP));  // a0 = flags
    EXPECT_EQ(rd(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_FW_EVENT, MTIA_IRQ_FW_EVENT);
    EXPECT_GE(irqs(), 1u);
    // With the boot's event acknowledged, the halt raises its own.
    wr(MTIA_REG_IRQ_STATUS, ~0u);
    unsigned before = irqs();
    st = boot(Image(fw, MTIA_FW_FLAG_TEST_TRAP));
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_BOOT_STATUS) == MTIA_BOOT_HALTED; }));
    EXPECT_GE(irqs(), before + 1);
    // A halted core may be booted again.
    EXPECT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    EXPECT_TRUE(wait_ready());
    EXPECT_EQ(rd(MTIA_REG_FW_TRAP_CAUSE), 0u);
}

TEST_F(FwTest, WildAccessesFaultAndHalt)
{
    NEED_TEST_FW(fw);
    struct {
        uint32_t mode, cause, tval;
    } cases[] = {
        {1, 5, 0x40000000u},                         // load access fault
        {2, 7, MTIA_CC_REGS_BASE + MTIA_REG_RESET},  // store to a host-only register
        {3, 1, MTIA_CC_DEVMEM_BASE},                 // fetch from device memory
    };
    for (auto &c : cases) {
        uint32_t st = boot(Image(fw), c.mode);
        ASSERT_TRUE(st == MTIA_BOOT_RUNNING || st == MTIA_BOOT_HALTED) << st;
        ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_BOOT_STATUS) == MTIA_BOOT_HALTED; })) << "mode " << c.mode;
        EXPECT_EQ(rd(MTIA_REG_FW_TRAP_CAUSE), c.cause) << "mode " << c.mode;
        EXPECT_EQ(rd(MTIA_REG_FW_TRAP_TVAL), c.tval) << "mode " << c.mode;
        EXPECT_EQ(rd(MTIA_REG_RESET_COUNT), 0u);  // the firmware could not reset us
    }
    EXPECT_EQ(rd(MTIA_REG_FW_TRAP_PC), MTIA_CC_DEVMEM_BASE);
}

TEST_F(FwTest, ResetStopsRunningCore)
{
    NEED_TEST_FW(fw);
    Watchdog wd(30s);
    for (uint32_t flags : {0u, static_cast<uint32_t>(MTIA_FW_FLAG_TEST_HANG)}) {
        ASSERT_EQ(boot(Image(fw, flags)), MTIA_BOOT_RUNNING);
        if (flags == 0) {
            ASSERT_TRUE(wait_ready());
        } else {  // spinning with interrupts off
            ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_INSTRET_LO) > 1000000; }));
            EXPECT_EQ(rd(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_OFF);
        }
        wr(MTIA_REG_RESET, MTIA_RESET_KEY);
        EXPECT_EQ(rd(MTIA_REG_FW_BOOT_STATUS), MTIA_BOOT_IDLE);
        EXPECT_EQ(rd(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_OFF);
        EXPECT_EQ(rd(MTIA_REG_FW_HEARTBEAT), 0u);
        EXPECT_EQ(rd(MTIA_REG_FW_INSTRET_LO), 0u);
        std::this_thread::sleep_for(20ms);
        EXPECT_EQ(rd(MTIA_REG_FW_HEARTBEAT), 0u);  // really stopped
        EXPECT_EQ(rd(MTIA_REG_FW_INSTRET_LO), 0u);
    }
    // PCI reset (mtia_core_reset) too, and free while running (TearDown).
    ASSERT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    ASSERT_TRUE(wait_ready());
    mtia_core_reset(core);
    EXPECT_EQ(rd(MTIA_REG_FW_BOOT_STATUS), MTIA_BOOT_IDLE);
    ASSERT_EQ(boot(Image(fw, MTIA_FW_FLAG_TEST_HANG)), MTIA_BOOT_RUNNING);
}

// mtia_core_wait_idle (QEMU's x-settle-us): returns once firmware has done
// what a register write gave it and sleeps again; times out on firmware
// that never sleeps.
TEST_F(FwTest, WaitIdleReturnsOnceFirmwareIsAsleep)
{
    EXPECT_EQ(mtia_core_wait_idle(core, 0), 0);  // no firmware: idle
    NEED_TEST_FW(fw);
    ASSERT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    ASSERT_EQ(mtia_core_wait_idle(core, 10'000'000), 0);
    EXPECT_EQ(rd(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_READY);  // its boot ran to WFI
    for (uint32_t seq = 1; seq <= 20; seq++) {
        wr(MTIA_REG_MBOX_CMD, MTIA_ADMIN_PING | seq << 16);
        wr(MTIA_REG_MBOX_DOORBELL, 1);
        ASSERT_EQ(mtia_core_wait_idle(core, 10'000'000), 0) << "seq " << seq;
        EXPECT_EQ(rd(MTIA_REG_MBOX_DOORBELL), 0u);  // answered, without polling
        EXPECT_EQ(rd(MTIA_REG_MBOX_RESP), MTIA_ADMIN_PING | seq << 16);
    }
    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    ASSERT_EQ(boot(Image(fw, MTIA_FW_FLAG_TEST_HANG)), MTIA_BOOT_RUNNING);
    EXPECT_EQ(mtia_core_wait_idle(core, 50'000), -1);  // spins with interrupts off
}

TEST_F(FwTest, PauseParksTheCoreAndResumeContinues)
{
    NEED_TEST_FW(fw);
    Watchdog wd(30s);
    ASSERT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_HEARTBEAT) >= 2; }));
    EXPECT_EQ(mtia_core_set_vm_running(core, 0), 1);  // it wrote device memory
    uint32_t h = rd(MTIA_REG_FW_HEARTBEAT);
    std::this_thread::sleep_for(30ms);
    EXPECT_EQ(rd(MTIA_REG_FW_HEARTBEAT), h);
    EXPECT_EQ(mtia_core_set_vm_running(core, 0), 0);
    mtia_core_set_vm_running(core, 1);
    EXPECT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_HEARTBEAT) > h + 2; }));
    // Booting while paused starts the core only on resume.
    mtia_core_reset(core);
    mtia_core_set_vm_running(core, 0);
    EXPECT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    std::this_thread::sleep_for(20ms);
    EXPECT_EQ(rd(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_OFF);
    mtia_core_set_vm_running(core, 1);
    EXPECT_TRUE(wait_ready());
}

TEST_F(FwTest, SnapshotOfRunningCoreContinuesElsewhere)
{
    NEED_TEST_FW(fw);
    Watchdog wd(30s);
    ASSERT_EQ(boot(Image(fw)), MTIA_BOOT_RUNNING);
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_HEARTBEAT) >= 3; }));
    mtia_core_set_vm_running(core, 0);
    auto snap = std::make_unique<mtia_core_snapshot>();
    mtia_core_save(core, snap.get());
    EXPECT_EQ(snap->cc_running, 1u);
    uint32_t h = snap->fw_heartbeat;

    Host host2;
    std::vector<uint8_t> devmem2 = devmem;  // the host migrates RAM
    mtia_core *other = mtia_core_new(&cfg, &kOps, &host2);
    ASSERT_NE(other, nullptr);
    mtia_core_attach_devmem(other, devmem2.data(), devmem2.size());
    mtia_core_set_vm_running(other, 0);
    ASSERT_EQ(mtia_core_load(other, snap.get()), 0);
    EXPECT_EQ(mtia_core_mmio_read(other, MTIA_REG_FW_BOOT_STATUS, 4), MTIA_BOOT_RUNNING);
    mtia_core_set_vm_running(other, 1);
    auto ord = [&](uint64_t off) { return static_cast<uint32_t>(mtia_core_mmio_read(other, off, 4)); };
    EXPECT_TRUE(wait_for([&] { return ord(MTIA_REG_FW_HEARTBEAT) > h + 3; }));
    EXPECT_EQ(ord(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_READY);
    mtia_core_mmio_write(other, MTIA_REG_MBOX_CMD, MTIA_ADMIN_PING | 9 << 16, 4);
    mtia_core_mmio_write(other, MTIA_REG_MBOX_DOORBELL, 1, 4);
    EXPECT_TRUE(wait_for([&] { return ord(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_MBOX; }));
    EXPECT_EQ(ord(MTIA_REG_MBOX_RESP + 60), 9u);
    mtia_core_free(other);

    // Impossible firmware state is refused.
    snap->fw_boot_status = 0x55;
    EXPECT_EQ(mtia_core_load(core, snap.get()), -1);
    snap->fw_boot_status = MTIA_BOOT_HALTED;  // running but halted
    EXPECT_EQ(mtia_core_load(core, snap.get()), -1);
}

// Random payloads behind valid headers: whatever the "firmware" does, the
// device survives, and reset always brings it back.
TEST_F(FwTest, GarbageFirmwareNeverHurtsTheDevice)
{
    Watchdog wd(60s);
    std::mt19937 rng(1234);
    for (int round = 0; round < 60; round++) {
        std::vector<uint8_t> p(64 + rng() % 2048);
        for (auto &b : p) b = static_cast<uint8_t>(rng());
        if (round % 3 == 0) {  // mostly loads/stores/jumps with a live base
            for (size_t i = 0; i + 4 <= p.size(); i += 4) p[i] = (p[i] & 0x80) | 0x03;
        }
        Image img(p);
        img.h.entry = MTIA_CC_SRAM_BASE + (rng() % p.size() & ~1u);
        img.sign();
        uint32_t st = boot(img);  // may already have halted on its first instruction
        ASSERT_TRUE(st == MTIA_BOOT_RUNNING || st == MTIA_BOOT_HALTED) << round << " " << st;
        std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 3));
        wr(MTIA_REG_MBOX_DOORBELL, 1);
        if (round % 2)
            wr(MTIA_REG_RESET, MTIA_RESET_KEY);
        else
            mtia_core_reset(core);
        EXPECT_EQ(rd(MTIA_REG_FW_BOOT_STATUS), MTIA_BOOT_IDLE);
        EXPECT_EQ(rd(MTIA_REG_MAGIC), MTIA_MAGIC_VALUE);
    }
}

// A device that trusts the default key: the development key, which signs
// the images `make firmware` builds.
class FwDevKeyTest : public FwTest {
protected:
    bool trust_test_key() const override { return false; }
};

// The real firmware (firmware/, `make firmware`) through the boot ROM.
TEST_F(FwDevKeyTest, RealFirmwareBootsPingsLogsAndBeats)
{
    std::vector<uint8_t> img = read_file(MTIA_FW_IMAGE_PATH);
    if (img.empty()) GTEST_SKIP() << MTIA_FW_IMAGE_PATH << " not built (make firmware)";
    Watchdog wd(60s);
    ASSERT_GE(img.size(), sizeof(mtia_fw_header));
    stage(img);
    ASSERT_EQ(boot(), MTIA_BOOT_RUNNING);
    ASSERT_TRUE(wait_for(
        [&] {
            return rd(MTIA_REG_FW_STATUS) == MTIA_FW_STATUS_READY || rd(MTIA_REG_FW_BOOT_STATUS) != MTIA_BOOT_RUNNING;
        },
        10s));
    ASSERT_EQ(rd(MTIA_REG_FW_BOOT_STATUS), MTIA_BOOT_RUNNING)
        << "trap cause " << rd(MTIA_REG_FW_TRAP_CAUSE) << " pc " << std::hex << rd(MTIA_REG_FW_TRAP_PC);
    ASSERT_EQ(rd(MTIA_REG_FW_STATUS), MTIA_FW_STATUS_READY);
    mtia_fw_header h;
    std::memcpy(&h, img.data(), sizeof(h));
    EXPECT_EQ(rd(MTIA_REG_FW_VERSION), h.fw_version);

    // Ping: args echoed.
    wr(MTIA_REG_IRQ_STATUS, ~0u);
    wr(MTIA_REG_MBOX_CMD, MTIA_ADMIN_PING | 0x1234u << 16);
    for (unsigned i = 0; i < 14; i++) wr(MTIA_REG_MBOX_CMD + 8 + 4 * i, 0xa5000000u + i);
    wr(MTIA_REG_MBOX_DOORBELL, 1);
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_MBOX; }));
    EXPECT_EQ(rd(MTIA_REG_MBOX_RESP), MTIA_ADMIN_PING | 0x1234u << 16);
    EXPECT_EQ(rd(MTIA_REG_MBOX_RESP + 4), MTIA_ADMIN_STATUS_OK);
    for (unsigned i = 0; i < 14; i++) EXPECT_EQ(rd(MTIA_REG_MBOX_RESP + 8 + 4 * i), 0xa5000000u + i);
    EXPECT_EQ(rd(MTIA_REG_MBOX_DOORBELL), 0u);

    // GET_VERSION.
    wr(MTIA_REG_IRQ_STATUS, ~0u);
    wr(MTIA_REG_MBOX_CMD, MTIA_ADMIN_GET_VERSION | 2u << 16);
    wr(MTIA_REG_MBOX_DOORBELL, 1);
    ASSERT_TRUE(wait_for([&] { return rd(MTIA_REG_IRQ_STATUS) & MTIA_IRQ_MBOX; }));
    EXPECT_EQ(rd(MTIA_REG_MBOX_RESP + 4), MTIA_ADMIN_STATUS_OK);
    EXPECT_EQ(rd(MTIA_REG_MBOX_RESP + 8), h.fw_version);

    // Heartbeat (default 100 ms period).
    uint32_t hb = rd(MTIA_REG_FW_HEARTBEAT);
    EXPECT_TRUE(wait_for([&] { return rd(MTIA_REG_FW_HEARTBEAT) >= hb + 2; }, 5s));

    // Log ring: header valid and some text in it.
    uint32_t log = rd(MTIA_REG_FW_LOG_ADDR), size = rd(MTIA_REG_FW_LOG_SIZE);
    ASSERT_GT(size, 16u);
    ASSERT_LE(uint64_t{log} + size, kDevmem);
    mtia_fw_log_header lh;
    std::memcpy(&lh, devmem.data() + log, sizeof(lh));
    EXPECT_EQ(lh.magic, MTIA_FW_LOG_MAGIC);
    EXPECT_EQ(lh.size, size);
    EXPECT_GT(lh.head, 0u);
    std::string text;
    for (uint32_t i = 0; i < std::min(lh.head, size - 16); i++) text += static_cast<char>(devmem[log + 16 + i]);
    EXPECT_FALSE(text.empty());
    std::printf("firmware log (%u bytes):\n%s\n", lh.head, text.c_str());

    wr(MTIA_REG_RESET, MTIA_RESET_KEY);
    EXPECT_EQ(rd(MTIA_REG_FW_BOOT_STATUS), MTIA_BOOT_IDLE);
}

// The build's signed image and its negative twins (firmware/Makefile), each
// refused with its own status by a device with the default key.
TEST_F(FwDevKeyTest, BuiltImagesGetTheirOwnStatus)
{
    const std::string dir = std::string(MTIA_FW_IMAGE_PATH).substr(0, std::string(MTIA_FW_IMAGE_PATH).rfind('/') + 1);
    if (read_file(MTIA_FW_IMAGE_PATH).empty()) GTEST_SKIP() << MTIA_FW_IMAGE_PATH << " not built (make firmware)";
    const struct {
        const char *name;
        uint32_t expect;
    } cases[] = {
        {"mtia-fw-test-unsigned.bin", MTIA_BOOT_ERR_UNSIGNED},
        {"mtia-fw-test-tampered.bin", MTIA_BOOT_ERR_BAD_SIGNATURE},
        {"mtia-fw-test-otherkey.bin", MTIA_BOOT_ERR_UNTRUSTED_KEY},
        {"mtia-fw.bin", MTIA_BOOT_RUNNING},  // last: the core then runs
    };
    for (const auto &c : cases) {
        std::vector<uint8_t> img = read_file(dir + c.name);
        ASSERT_FALSE(img.empty()) << dir + c.name;
        stage(img);
        EXPECT_EQ(boot(), c.expect) << c.name;
        if (c.expect != MTIA_BOOT_RUNNING) {
            std::lock_guard<std::mutex> l(host.mu);
            ASSERT_FALSE(host.errors.empty());
            EXPECT_NE(host.errors.back().find(std::string("firmware boot refused: ") + mtia_boot_status_name(c.expect)),
                      std::string::npos)
                << host.errors.back();
        }
    }
    EXPECT_TRUE(wait_ready());
}

// The key in the device core is the committed development key.
TEST(FwKey, DefaultIsTheCommittedDevelopmentKey)
{
    std::ifstream f(MTIA_FW_DEV_PUBKEY_PATH);
    ASSERT_TRUE(f) << MTIA_FW_DEV_PUBKEY_PATH;
    std::string line;
    while (std::getline(f, line) && (line.empty() || line[0] == '#')) {
    }
    uint8_t key[MTIA_FW_PUBKEY_SIZE];
    char err[128] = "";
    ASSERT_EQ(mtia_core_parse_fw_pubkey(line.c_str(), key, err, sizeof(err)), 0) << err;
    EXPECT_EQ(std::memcmp(key, mtia::kFwDevPubkey, sizeof(key)), 0);
    mtia_core_config cfg;
    mtia_core_config_default(&cfg);
    EXPECT_EQ(std::memcmp(cfg.fw_pubkey, mtia::kFwDevPubkey, sizeof(key)), 0);
}

TEST(FwKey, PropertyParsing)
{
    char hex[2 * MTIA_FW_PUBKEY_SIZE + 1];
    sodium_bin2hex(hex, sizeof(hex), test_key().pk, sizeof(test_key().pk));
    uint8_t key[MTIA_FW_PUBKEY_SIZE] = {};
    char err[128] = "";
    ASSERT_EQ(mtia_core_parse_fw_pubkey(hex, key, err, sizeof(err)), 0) << err;
    EXPECT_EQ(std::memcmp(key, test_key().pk, sizeof(key)), 0);
    for (char *p = hex; *p; p++) *p = static_cast<char>(std::toupper(*p));
    EXPECT_EQ(mtia_core_parse_fw_pubkey(hex, key, err, sizeof(err)), 0) << "upper case: " << err;

    const std::string good(hex);
    const struct {
        std::string text;
        const char *why;
    } bad[] = {
        {"", "fw-pubkey: expected 64 hex digits"},
        {good.substr(1), "fw-pubkey: expected 64 hex digits"},
        {good + "0", "fw-pubkey: expected 64 hex digits"},
        {"g" + good.substr(1), "fw-pubkey: expected 64 hex digits"},
        {good.substr(0, 63) + " ", "fw-pubkey: expected 64 hex digits"},
        {std::string(64, '0'), "fw-pubkey: not an Ed25519 public key"},         // small order
        {"01" + std::string(62, '0'), "fw-pubkey: not an Ed25519 public key"},  // the identity
        {std::string(64, 'f'), "fw-pubkey: not an Ed25519 public key"},         // not canonical
    };
    for (const auto &b : bad) {
        uint8_t k[MTIA_FW_PUBKEY_SIZE];
        std::memcpy(k, key, sizeof(k));
        EXPECT_EQ(mtia_core_parse_fw_pubkey(b.text.c_str(), k, err, sizeof(err)), -1) << b.text;
        EXPECT_STREQ(err, b.why) << b.text;
        EXPECT_EQ(std::memcmp(k, key, sizeof(k)), 0) << "changed on error: " << b.text;
    }
    EXPECT_EQ(mtia_core_parse_fw_pubkey(nullptr, key, err, sizeof(err)), -1);

    // A device cannot be made with a key that verifies nothing.
    mtia_core_config cfg;
    mtia_core_config_default(&cfg);
    std::memset(cfg.fw_pubkey, 0, sizeof(cfg.fw_pubkey));
    EXPECT_EQ(mtia_core_config_validate(&cfg, err, sizeof(err)), -1);
    EXPECT_STREQ(err, "fw-pubkey is not an Ed25519 public key");
    EXPECT_EQ(mtia_core_new(&cfg, &kOps, nullptr), nullptr);
}

// bootrom_load itself, on a buffer: the key is the one it is given.
TEST(FwKey, BootromUsesTheKeyItIsGiven)
{
    std::vector<uint8_t> payload(64, 0x13);  // addi x0, x0, 0 words: any bytes do here
    Image img(payload);
    std::vector<uint8_t> b = img.bytes();
    std::vector<uint8_t> sram(MTIA_CC_SRAM_SIZE, 0xee);
    mtia::BootImage out;
    EXPECT_EQ(mtia::bootrom_load(b.data(), b.size(), 0, b.size(), sram.data(), sram.size(), &out, test_key().pk),
              MTIA_BOOT_RUNNING);
    EXPECT_EQ(out.entry, MTIA_CC_SRAM_BASE);
    EXPECT_EQ(std::memcmp(sram.data(), payload.data(), payload.size()), 0);
    EXPECT_EQ(mtia::bootrom_load(b.data(), b.size(), 0, b.size(), sram.data(), sram.size(), &out, other_key().pk),
              MTIA_BOOT_ERR_UNTRUSTED_KEY);
    EXPECT_EQ(mtia::bootrom_load(b.data(), b.size(), 0, b.size(), sram.data(), sram.size(), &out),
              MTIA_BOOT_ERR_UNTRUSTED_KEY)
        << "default: the development key";
    for (uint8_t v : sram) ASSERT_EQ(v, 0) << "SRAM left zeroed after a refusal";
    // Every byte of the signed header matters; the signature block's only
    // unsigned field, key_id, is checked against the key.
    for (size_t i = 0; i < b.size(); i++) {
        std::vector<uint8_t> t = b;
        t[i] ^= 0x20;
        EXPECT_NE(mtia::bootrom_load(t.data(), t.size(), 0, t.size(), sram.data(), sram.size(), &out, test_key().pk),
                  MTIA_BOOT_RUNNING)
            << "byte " << i;
    }
}

// Whatever the boot ROM refuses, SRAM is zero afterwards: nothing of an
// earlier image (one that ran and halted) survives a refused boot. Found by
// the bootrom fuzz target (tests/fuzz/regress/bootrom/): the early refusals
// used to return before SRAM was cleared.
TEST(BootRom, EveryRefusalLeavesSramZero)
{
    const std::vector<uint8_t> payload = {0x6f, 0, 0, 0};  // j .
    // A signed image whose header @patch changed before signing.
    auto patched = [&](auto patch) {
        Image i(payload);
        patch(i.h);
        i.sign();
        return i.bytes();
    };
    const std::vector<uint8_t> good = Image(payload).bytes();
    std::vector<uint8_t> digest = good;
    digest[sizeof(mtia_fw_header)] ^= 1;  // the payload: a stale digest
    Image unsigned_img(payload), foreign(payload);
    unsigned_img.key = nullptr, foreign.key = &other_key();
    unsigned_img.sign(), foreign.sign();
    struct Case {
        const char *name;
        std::vector<uint8_t> devmem;  // staged whole, unless empty_stage
        uint32_t expect;
        bool empty_stage = false;
    };
    const std::vector<Case> cases = {
        {"empty stage", good, MTIA_BOOT_ERR_BAD_STAGE, true},
        {"shorter than a header", std::vector<uint8_t>(good.begin(), good.begin() + 40), MTIA_BOOT_ERR_TRUNCATED},
        {"bad magic", patched([](mtia_fw_header &h) { h.magic ^= 1; }), MTIA_BOOT_ERR_BAD_MAGIC},
        {"bad format", patched([](mtia_fw_header &h) { h.format_version = 0; }), MTIA_BOOT_ERR_BAD_FORMAT},
        {"bad header", patched([](mtia_fw_header &h) { h.reserved[0] = 1; }), MTIA_BOOT_ERR_BAD_HEADER},
        {"payload past the stage", patched([](mtia_fw_header &h) { h.payload_size = 8; }), MTIA_BOOT_ERR_TRUNCATED},
        {"load below SRAM", patched([](mtia_fw_header &h) { h.load_addr = h.entry = 0; }), MTIA_BOOT_ERR_BAD_LOAD},
        {"odd entry", patched([](mtia_fw_header &h) { h.entry += 1; }), MTIA_BOOT_ERR_BAD_ENTRY},
        {"digest", digest, MTIA_BOOT_ERR_BAD_DIGEST},
        {"unsigned", unsigned_img.bytes(), MTIA_BOOT_ERR_UNSIGNED},
        {"another key", foreign.bytes(), MTIA_BOOT_ERR_UNTRUSTED_KEY},
    };
    std::vector<uint8_t> sram(MTIA_CC_SRAM_SIZE);
    auto all_zero = [&] { return std::all_of(sram.begin(), sram.end(), [](uint8_t b) { return b == 0; }); };
    for (const Case &c : cases) {
        SCOPED_TRACE(c.name);
        // A good image first, as if it had run and halted.
        mtia::BootImage img;
        ASSERT_EQ(
            mtia::bootrom_load(good.data(), good.size(), 0, good.size(), sram.data(), sram.size(), &img, test_key().pk),
            MTIA_BOOT_RUNNING);
        ASSERT_FALSE(all_zero());
        const uint64_t size = c.empty_stage ? 0 : c.devmem.size();
        EXPECT_EQ(mtia::bootrom_load(c.devmem.data(), c.devmem.size(), 0, size, sram.data(), sram.size(), &img,
                                     test_key().pk),
                  c.expect);
        EXPECT_TRUE(all_zero());
    }
}

}  // namespace
