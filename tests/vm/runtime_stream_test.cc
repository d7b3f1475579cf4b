// SPDX-License-Identifier: MIT
// In-VM tests of libmtia's buffers, streams and events against the driver
// and the emulated device (run by tests/vm/test-runtime.sh).
// The test device is the first one with >= 512 MiB of device memory
// (MTIA_TEST_DEVICE=N picks one); the 256 MiB copies need it.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mtia/mtia.h"
#include "mtia/mtia.hpp"
#include "runtime_test_util.h"

namespace {

using rtest::has_mmu;
using rtest::IoctlPathOnly;

// MTIA_TEST_DIRECT=1: the first device with the MMU, where streams take
// direct queues (test-runtime.sh runs the suite once each way).
int test_device()
{
    if (const char *e = std::getenv("MTIA_TEST_DEVICE")) return std::atoi(e);
    const bool direct = std::getenv("MTIA_TEST_DIRECT") != nullptr;
    int n = mtia::device_count();
    for (int i = 0; i < n; i++) {
        auto d = mtia::Device::open(i);
        if (direct ? has_mmu(d) : d.info().devmem_bytes >= (512ull << 20)) return i;
    }
    return 0;
}

uint64_t checksum(const void *p, size_t n)
{
    // FNV-1a over 8-byte words plus the tail.
    const auto *b = static_cast<const unsigned char *>(p);
    uint64_t h = 1469598103934665603ull;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        std::memcpy(&w, b + i, 8);
        h = (h ^ w) * 1099511628211ull;
    }
    for (; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

void fill_random(void *p, size_t n, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    auto *b = static_cast<unsigned char *>(p);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w = rng();
        std::memcpy(b + i, &w, 8);
    }
    for (; i < n; i++) b[i] = static_cast<unsigned char>(rng());
}

template <typename F>
void expect_status(mtia_status want, F &&f, const char *substr = nullptr)
{
    try {
        f();
        ADD_FAILURE() << "no error, wanted " << mtia_status_name(want);
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), want) << e.what();
        if (substr) {
            EXPECT_NE(std::string(e.what()).find(substr), std::string::npos) << e.what();
        }
    }
}

// The tests of what only the ioctl path has, the driver's debugfs
// fault_inject of SUBMIT, make their streams with an IoctlPathOnly alive.

class Runtime : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (mtia::device_count() == 0) GTEST_SKIP() << "no mtia device";
        dev_ = std::make_unique<mtia::Device>(mtia::Device::open(test_device()));
    }
    mtia::Device &dev() { return *dev_; }
    std::unique_ptr<mtia::Device> dev_;
};

TEST_F(Runtime, BufferBasics)
{
    mtia::Buffer h(dev(), 1, mtia::Placement::Host);
    mtia::Buffer d(dev(), 12345, mtia::Placement::Device);
    EXPECT_EQ(h.size(), 1u);
    EXPECT_EQ(d.size(), 12345u);
    EXPECT_EQ(h.placement(), mtia::Placement::Host);
    EXPECT_EQ(d.placement(), mtia::Placement::Device);
    auto *p = h.map_as<unsigned char>();
    p[0] = 0xab;
    EXPECT_EQ(h.map(), p);
    auto *q = d.map_as<unsigned char>();
    std::memset(q, 0x11, 12345);
    EXPECT_EQ(q[12344], 0x11);
    expect_status(MTIA_ERROR_INVALID_ARGUMENT, [&] { mtia::Buffer z(dev(), 0); });
}

// Host -> device -> host round trips of random sizes 1 B .. 256 MiB (a
// quarter of device memory on a smaller device).
TEST_F(Runtime, RandomCopiesRoundTrip)
{
    const size_t kMax = std::min<size_t>(256u << 20, dev().info().devmem_bytes / 4);
    mtia::Stream s(dev());
    mtia::Buffer src(dev(), kMax, mtia::Placement::Host);
    mtia::Buffer dst(dev(), kMax, mtia::Placement::Host);
    mtia::Buffer d(dev(), kMax, mtia::Placement::Device);
    fill_random(src.map(), kMax, 42);
    std::vector<size_t> sizes = {1, 2, 3, 7, 8, 63, 4095, 4096, 4097, 65536 + 17, (1u << 20) + 5, kMax};
    std::mt19937_64 rng(7);
    for (int i = 0; i < 12; i++) sizes.push_back(1 + rng() % (8u << 20));
    auto *out = dst.map_as<unsigned char>();
    for (size_t n : sizes) {
        size_t so = rng() % (kMax - n + 1), doff = rng() % (kMax - n + 1), oo = rng() % (kMax - n + 1);
        if (n == kMax) so = doff = oo = 0;
        std::memset(out + oo, 0, n);
        s.copy(d, doff, src, so, n);
        s.copy(dst, oo, d, doff, n);
        s.synchronize();
        ASSERT_EQ(checksum(out + oo, n), checksum(src.map_as<unsigned char>() + so, n))
            << "size " << n << " src " << so << " dev " << doff << " out " << oo;
    }
}

TEST_F(Runtime, FillsByteAndPattern)
{
    const size_t n = 3u << 20;
    mtia::Stream s(dev());
    mtia::Buffer d(dev(), n, mtia::Placement::Device);
    mtia::Buffer h(dev(), n, mtia::Placement::Host);
    s.fill(d, 0, n, 0xcd);
    s.fill(d, 100, 1000, 0x01);
    s.fill64(d, 4096, 8 * 1000, 0x1122334455667788ull);
    s.fill(h, 0, n, 0xee);  // host buffers can be filled too
    s.copy(h, 1, d, 1, n - 2);
    s.synchronize();
    auto *p = h.map_as<unsigned char>();
    EXPECT_EQ(p[0], 0xee);
    EXPECT_EQ(p[n - 1], 0xee);
    EXPECT_EQ(p[99], 0xcd);
    EXPECT_EQ(p[100], 0x01);
    EXPECT_EQ(p[1099], 0x01);
    EXPECT_EQ(p[1100], 0xcd);
    uint64_t w;
    std::memcpy(&w, p + 4096 + 8 * 999, 8);
    EXPECT_EQ(w, 0x1122334455667788ull);
    EXPECT_EQ(p[4096 + 8000], 0xcd);
    EXPECT_EQ(p[n - 2], 0xcd);
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { s.fill64(d, 0, 12, 1); }, "multiple of 8");
}

// Ops of one stream run in order: each step reads what the previous wrote.
TEST_F(Runtime, StreamsConcurrentInOrder)
{
    const int kStreams = 4, kSteps = 40;
    const size_t n = 256u << 10;
    std::vector<std::thread> th;
    std::vector<std::string> errors(kStreams);
    for (int t = 0; t < kStreams; t++) {
        th.emplace_back([&, t] {
            try {
                mtia::Stream s(dev(), static_cast<mtia::Priority>(t % 3));
                mtia::Buffer a(dev(), n, mtia::Placement::Device), b(dev(), n, mtia::Placement::Device);
                mtia::Buffer h(dev(), n, mtia::Placement::Host);
                for (int i = 0; i < kSteps; i++) {
                    // a = i; b = a; a = b's first half+...; ends with the last value.
                    s.fill(a, 0, n, static_cast<uint8_t>(i + t));
                    s.copy(b, 0, a, 0, n);
                    s.copy(h, 0, b, 0, n);
                    if (i % 10 == 9) s.flush();
                }
                s.synchronize();
                auto *p = h.map_as<unsigned char>();
                for (size_t k = 0; k < n; k += 997) {
                    if (p[k] != static_cast<unsigned char>(kSteps - 1 + t)) {
                        errors[t] = "stream " + std::to_string(t) + ": byte " + std::to_string(k) + " is " +
                                    std::to_string(p[k]);
                        return;
                    }
                }
            } catch (const std::exception &e) {
                errors[t] = e.what();
            }
        });
    }
    for (auto &x : th) x.join();
    for (auto &e : errors) EXPECT_EQ(e, "");
}

TEST_F(Runtime, BatchingMakesFewJobs)
{
    mtia::Stream s(dev());
    mtia::Buffer d(dev(), 1 << 20, mtia::Placement::Device);
    for (int i = 0; i < 100; i++) s.fill(d, i * 64, 64, static_cast<uint8_t>(i));
    EXPECT_EQ(s.jobs_submitted(), 0u);
    s.synchronize();
    EXPECT_EQ(s.jobs_submitted(), 1u);
}

TEST_F(Runtime, EventsQueryWaitElapsed)
{
    const size_t n = 128u << 20;
    mtia::Stream s(dev());
    mtia::Buffer h(dev(), n, mtia::Placement::Host);
    mtia::Buffer d(dev(), n, mtia::Placement::Device);
    mtia::Event never(dev()), a(dev()), b(dev());
    EXPECT_TRUE(never.query());  // never recorded: complete
    EXPECT_FALSE(never.recorded());
    expect_status(MTIA_ERROR_INVALID_ARGUMENT, [&] { mtia::Event::elapsed_ms(never, never); });
    s.record(a);
    s.copy(d, 0, h, 0, n);
    s.record(b);
    bool early = b.query();  // may or may not be done yet; must not block or throw
    (void)early;
    EXPECT_TRUE(b.wait(60000));
    EXPECT_TRUE(b.query());
    EXPECT_TRUE(a.query());
    double ms = mtia::Event::elapsed_ms(a, b);
    EXPECT_GT(ms, 0.0);
    EXPECT_GT(a.timestamp_ns(), 0u);
    EXPECT_GE(b.timestamp_ns(), a.timestamp_ns());
    // Re-recording moves the event forward: time stays monotonic.
    uint64_t before = b.timestamp_ns();
    s.record(b);
    s.synchronize();
    EXPECT_GE(b.timestamp_ns(), before);
}

TEST_F(Runtime, CrossStreamWait)
{
    const size_t n = 64u << 20;
    mtia::Stream producer(dev(), mtia::Priority::Low), consumer(dev(), mtia::Priority::High);
    mtia::Buffer h(dev(), n, mtia::Placement::Host), d(dev(), n, mtia::Placement::Device);
    mtia::Buffer out(dev(), 4096, mtia::Placement::Host);
    mtia::Event done(dev());
    std::memset(h.map(), 0x77, n);
    producer.fill(d, 0, n, 0x00);
    producer.copy(d, 0, h, 0, n);  // big: the consumer would overtake without the wait
    producer.record(done);
    consumer.wait(done);
    consumer.copy(out, 0, d, n - 4096, 4096);
    consumer.synchronize();
    auto *p = out.map_as<unsigned char>();
    EXPECT_EQ(p[0], 0x77);
    EXPECT_EQ(p[4095], 0x77);
    EXPECT_TRUE(done.query());
    producer.synchronize();
}

TEST_F(Runtime, WrongSizesAreInvalidBeforeSubmit)
{
    mtia::Stream s(dev());
    mtia::Buffer a(dev(), 1000, mtia::Placement::Device), b(dev(), 4096, mtia::Placement::Host);
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { s.copy(a, 0, b, 0, 1001); }, "outside the buffer");
    expect_status(MTIA_ERROR_INVALID_ARGUMENT, [&] { s.copy(a, 999, b, 0, 2); });
    expect_status(MTIA_ERROR_INVALID_ARGUMENT, [&] { s.copy(b, 0, a, 1, SIZE_MAX); });
    expect_status(MTIA_ERROR_INVALID_ARGUMENT, [&] { s.fill(a, 1001, 0, 0); });
    expect_status(MTIA_ERROR_INVALID_ARGUMENT, [&] { s.fill(a, SIZE_MAX, 2, 0); });
    EXPECT_EQ(s.jobs_submitted(), 0u);
    s.copy(a, 0, b, 0, 1000);  // the exact size is fine
    s.synchronize();
    mtia::Buffer gone(dev(), 64);
    gone.free();
    expect_status(
        MTIA_ERROR_INVALID_HANDLE, [&] { s.fill(gone, 0, 1, 0); }, "freed");
}

TEST_F(Runtime, CApiMisuse)
{
    mtia_device *d = nullptr;
    ASSERT_EQ(mtia_device_open(test_device(), &d), MTIA_SUCCESS);
    mtia_buffer *b = nullptr, *h = nullptr;
    mtia_stream *s = nullptr;
    mtia_event *e = nullptr;
    ASSERT_EQ(mtia_buffer_create(d, 8192, MTIA_PLACEMENT_DEVICE, &b), MTIA_SUCCESS);
    ASSERT_EQ(mtia_buffer_create(d, 8192, MTIA_PLACEMENT_HOST, &h), MTIA_SUCCESS);
    ASSERT_EQ(mtia_stream_create(d, MTIA_PRIORITY_NORMAL, &s), MTIA_SUCCESS);
    ASSERT_EQ(mtia_event_create(d, &e), MTIA_SUCCESS);
    size_t size = 0;
    mtia_placement pl = MTIA_PLACEMENT_HOST;
    EXPECT_EQ(mtia_buffer_size(b, &size), MTIA_SUCCESS);
    EXPECT_EQ(size, 8192u);
    EXPECT_EQ(mtia_buffer_placement(b, &pl), MTIA_SUCCESS);
    EXPECT_EQ(pl, MTIA_PLACEMENT_DEVICE);
    void *p = nullptr;
    ASSERT_EQ(mtia_buffer_map(h, &p), MTIA_SUCCESS);
    std::memset(p, 0, 8192);
    EXPECT_EQ(mtia_stream_fill(s, b, 0, 8192, 0x3c), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_copy(s, h, 0, b, 0, 8192), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_record(s, e), MTIA_SUCCESS);
    EXPECT_EQ(mtia_event_wait(e, 60000), MTIA_SUCCESS);
    int done = 0;
    EXPECT_EQ(mtia_event_query(e, &done), MTIA_SUCCESS);
    EXPECT_EQ(done, 1);
    EXPECT_EQ(static_cast<unsigned char *>(p)[8191], 0x3c);
    EXPECT_EQ(mtia_stream_copy(s, h, 1, b, 0, 8192), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("outside the buffer"), std::string::npos);
    EXPECT_EQ(mtia_stream_fill64(s, b, 0, 7, 1), MTIA_ERROR_INVALID_ARGUMENT);
    // A freed buffer: clear error, no crash; freeing twice too.
    EXPECT_EQ(mtia_buffer_free(b), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_fill(s, b, 0, 1, 0), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_NE(std::string(mtia_last_error()).find("not valid"), std::string::npos) << mtia_last_error();
    EXPECT_EQ(mtia_buffer_size(b, &size), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_buffer_free(b), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_stream_synchronize(s), MTIA_SUCCESS);
    // A closed device: its objects fail cleanly, the device handle is gone.
    EXPECT_EQ(mtia_device_close(d), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_fill(s, h, 0, 1, 0), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_NE(std::string(mtia_last_error()).find("closed"), std::string::npos) << mtia_last_error();
    EXPECT_EQ(mtia_stream_synchronize(s), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_event_query(e, &done), MTIA_ERROR_INVALID_HANDLE);
    mtia_buffer *nb = nullptr;
    EXPECT_EQ(mtia_buffer_create(d, 4096, MTIA_PLACEMENT_HOST, &nb), MTIA_ERROR_INVALID_HANDLE);
    mtia_device_info info{};
    info.struct_size = sizeof(info);
    EXPECT_EQ(mtia_device_get_info(d, &info), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_device_close(d), MTIA_ERROR_INVALID_HANDLE);
    // Freeing after close is fine, in any order.
    EXPECT_EQ(mtia_event_destroy(e), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_destroy(s), MTIA_SUCCESS);
    EXPECT_EQ(mtia_buffer_free(h), MTIA_SUCCESS);
}

TEST_F(Runtime, CxxDestructionOrderAndClose)
{
    auto b = std::make_unique<mtia::Buffer>(dev(), 1 << 20, mtia::Placement::Device);
    auto s = std::make_unique<mtia::Stream>(dev());
    auto e = std::make_unique<mtia::Event>(dev());
    s->fill(*b, 0, 1 << 20, 1);
    s->record(*e);
    dev_.reset();  // the Device object goes first: objects keep the file open
    EXPECT_TRUE(e->wait(60000));
    s->synchronize();
    s.reset();
    e.reset();
    b.reset();

    auto d2 = mtia::Device::open(test_device());
    mtia::Buffer bb(d2, 4096, mtia::Placement::Host);
    mtia::Stream ss(d2);
    d2.close();
    EXPECT_FALSE(d2.is_open());
    expect_status(
        MTIA_ERROR_INVALID_HANDLE, [&] { ss.fill(bb, 0, 1, 0); }, "closed");
    expect_status(
        MTIA_ERROR_INVALID_HANDLE, [&] { mtia::Buffer x(d2, 4096); }, "closed");
    d2.close();  // idempotent
}

// debugfs fault_inject of the test device ("" if absent).
std::string fault_inject(const mtia::Device &d)
{
    std::string f = "/sys/kernel/debug/accel/" + d.info().pci_bus_id + "/fault_inject";
    return access(f.c_str(), W_OK) == 0 ? f : "";
}

// How a job with fault_inject "dma" fails: its unmapped address is a DMA
// error, or with the MMU, a VA no page table maps.
const char *injected_dma_status(const mtia::Device &d)
{
    return has_mmu(d) ? "CQE status 8 (MTIA_CQE_TRANSLATION_FAULT)" : "CQE status 4 (MTIA_CQE_DMA_ERROR)";
}

bool inject(const std::string &file, const char *what)
{
    FILE *f = std::fopen(file.c_str(), "w");
    if (!f) return false;
    bool ok = std::fputs(what, f) >= 0;
    return std::fclose(f) == 0 && ok;
}

TEST_F(Runtime, DeviceErrorReportedBySynchronizeAndEvent)
{
    std::string fi = fault_inject(dev());
    if (fi.empty()) GTEST_SKIP() << "no debugfs fault_inject";
    IoctlPathOnly ioctl_path;
    mtia::Stream s(dev());
    mtia::Buffer b(dev(), 4096, mtia::Placement::Host);
    mtia::Event e(dev());
    s.fill(b, 0, 4096, 1);
    s.synchronize();
    ASSERT_TRUE(inject(fi, "dma"));
    s.fill(b, 0, 4096, 2);  // this job's first command gets a bad address
    s.record(e);
    expect_status(
        MTIA_ERROR_IO, [&] { e.wait(60000); }, injected_dma_status(dev()));
    expect_status(
        MTIA_ERROR_IO, [&] { s.synchronize(); }, injected_dma_status(dev()));
    // Reported once; the stream goes on working.
    s.fill(b, 0, 4096, 3);
    EXPECT_NO_THROW(s.synchronize());
    EXPECT_EQ(b.map_as<unsigned char>()[4095], 3);
}

// mtia_stream_destroy waits for the stream's work and reports its failure,
// and the handle is gone either way.
TEST_F(Runtime, CStreamDestroyWaitsAndReports)
{
    std::string fi = fault_inject(dev());
    if (fi.empty()) GTEST_SKIP() << "no debugfs fault_inject";
    IoctlPathOnly ioctl_path;
    mtia_device *d = nullptr;
    ASSERT_EQ(mtia_device_open(test_device(), &d), MTIA_SUCCESS);
    mtia_buffer *h = nullptr;
    mtia_stream *s = nullptr, *bad = nullptr;
    ASSERT_EQ(mtia_buffer_create(d, 1 << 20, MTIA_PLACEMENT_HOST, &h), MTIA_SUCCESS);
    void *p = nullptr;
    ASSERT_EQ(mtia_buffer_map(h, &p), MTIA_SUCCESS);
    // Queued, never flushed: destroy submits it and waits for it.
    ASSERT_EQ(mtia_stream_create(d, MTIA_PRIORITY_NORMAL, &s), MTIA_SUCCESS);
    ASSERT_EQ(mtia_stream_fill(s, h, 0, 1 << 20, 0x5a), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_destroy(s), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_EQ(static_cast<unsigned char *>(p)[(1 << 20) - 1], 0x5a);
    EXPECT_EQ(mtia_stream_synchronize(s), MTIA_ERROR_INVALID_HANDLE);
    // A failing job: destroy reports it, and the handle is still gone.
    ASSERT_EQ(mtia_stream_create(d, MTIA_PRIORITY_NORMAL, &bad), MTIA_SUCCESS);
    ASSERT_TRUE(inject(fi, "dma"));
    ASSERT_EQ(mtia_stream_fill(bad, h, 0, 4096, 1), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_destroy(bad), MTIA_ERROR_IO);
    EXPECT_NE(std::string(mtia_last_error()).find(injected_dma_status(dev())), std::string::npos) << mtia_last_error();
    EXPECT_EQ(mtia_stream_destroy(bad), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_buffer_free(h), MTIA_SUCCESS);
    EXPECT_EQ(mtia_device_close(d), MTIA_SUCCESS);
}

TEST_F(Runtime, HungJobIsCancelled)
{
    std::string fi = fault_inject(dev());
    if (fi.empty()) GTEST_SKIP() << "no debugfs fault_inject";
    IoctlPathOnly ioctl_path;
    mtia::Stream s(dev());
    mtia::Buffer b(dev(), 4096, mtia::Placement::Host);
    ASSERT_TRUE(inject(fi, "hang"));
    s.fill(b, 0, 4096, 5);
    expect_status(
        MTIA_ERROR_IO, [&] { s.synchronize(); }, "cancelled");
    s.fill(b, 0, 4096, 6);
    EXPECT_NO_THROW(s.synchronize());
    EXPECT_EQ(b.map_as<unsigned char>()[0], 6);
}

// Several processes x several streams at once, each checking its data.
TEST_F(Runtime, ProcessesTimesStreams)
{
    const int kProcs = 3, kStreams = 3;
    const size_t n = 2u << 20;
    std::vector<pid_t> kids;
    for (int p = 0; p < kProcs; p++) {
        pid_t pid = fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            int rc = 0;
            try {
                auto d = mtia::Device::open(test_device());
                std::vector<std::thread> th;
                std::vector<int> bad(kStreams, 0);
                for (int t = 0; t < kStreams; t++) {
                    th.emplace_back([&, t] {
                        try {
                            mtia::Stream s(d);
                            mtia::Buffer src(d, n, mtia::Placement::Host), dst(d, n, mtia::Placement::Host);
                            mtia::Buffer dv(d, n, mtia::Placement::Device);
                            for (int it = 0; it < 5; it++) {
                                fill_random(src.map(), n, p * 100 + t * 10 + it);
                                std::memset(dst.map(), 0, n);
                                s.copy(dv, 0, src, 0, n);
                                s.copy(dst, 0, dv, 0, n);
                                s.synchronize();
                                if (checksum(dst.map(), n) != checksum(src.map(), n)) bad[t] = 1;
                            }
                        } catch (const std::exception &e) {
                            std::fprintf(stderr, "process %d stream %d: %s\n", p, t, e.what());
                            bad[t] = 2;
                        }
                    });
                }
                for (auto &x : th) x.join();
                for (int b : bad) rc |= b;
            } catch (...) {
                rc = 4;
            }
            _exit(rc);
        }
        kids.push_back(pid);
    }
    for (pid_t k : kids) {
        int st = 0;
        ASSERT_EQ(waitpid(k, &st, 0), k);
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "child status " << st;
    }
}

}  // namespace
