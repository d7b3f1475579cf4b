// SPDX-License-Identifier: MIT
// In-VM tests of the runtime calls CUDA users reach for (run by
// tests/vm/test-runtime.sh in runtime_vm_tests): host-pointer copies at
// unaligned offsets and sizes, Stream::query, Device::synchronize, the
// default stream, memory info, opening by id and MTIA_VISIBLE_DEVICES
// (with two devices, in both orders), through C++ and C.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "mtia/mtia.h"
#include "mtia/mtia.hpp"

namespace {

template <typename F>
mtia_status status_of(F &&f)
{
    try {
        f();
    } catch (const mtia::Error &e) {
        return e.status();
    }
    return MTIA_SUCCESS;
}

// Sets an environment variable for one scope (unset, or restored, after).
class ScopedEnv {
public:
    ScopedEnv(const char *name, const char *value) : name_(name)
    {
        if (const char *old = getenv(name)) old_ = old, had_ = true;
        setenv(name, value, 1);
    }
    ~ScopedEnv() { had_ ? setenv(name_, old_.c_str(), 1) : unsetenv(name_); }

private:
    const char *name_;
    std::string old_;
    bool had_ = false;
};

class RuntimeApi : public ::testing::Test {
protected:
    void SetUp() override
    {
        unsetenv("MTIA_VISIBLE_DEVICES");
        if (mtia::device_count() == 0) GTEST_SKIP() << "no mtia device";
        dev_ = std::make_unique<mtia::Device>(mtia::Device::open(0));
    }
    mtia::Device &dev() { return *dev_; }
    std::unique_ptr<mtia::Device> dev_;
};

std::vector<unsigned char> random_bytes(size_t n, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<unsigned char> v(n);
    for (auto &b : v) b = static_cast<unsigned char>(rng());
    return v;
}

// Pageable host -> device -> pageable host at odd offsets and sizes, across
// the 4 MiB staging chunks; bytes around the range stay as they were.
TEST_F(RuntimeApi, HostPointerCopiesAtUnalignedOffsetsAndSizes)
{
    const size_t kBuf = (9u << 20) + 123;
    mtia::Stream s(dev());
    mtia::Buffer d(dev(), kBuf, mtia::Placement::Device);
    const std::vector<size_t> sizes = {
        1, 3, 7, 4095, 4097, 65537, (4u << 20) - 1, 4u << 20, (4u << 20) + 13, (9u << 20) + 7};
    const std::vector<size_t> offsets = {0, 1, 7, 4093};
    uint64_t seed = 1;
    for (size_t n : sizes) {
        for (size_t off : offsets) {
            if (off + n > kBuf) continue;
            s.fill(d, 0, kBuf, 0x5a);
            auto in = random_bytes(n, seed++);
            s.copy_from_host(d, off, in.data(), n);
            // The source may be reused at once: the copy read it already.
            std::memset(in.data(), 0, n);
            in = random_bytes(n, seed - 1);
            std::vector<unsigned char> out(n + 2, 0xee);
            s.copy_to_host(out.data() + 1, d, off, n);
            ASSERT_EQ(std::memcmp(out.data() + 1, in.data(), n), 0) << "size " << n << " offset " << off;
            EXPECT_EQ(out[0], 0xee);
            EXPECT_EQ(out[n + 1], 0xee);
            unsigned char edge[2] = {0, 0};
            if (off > 0) {
                s.copy_to_host(edge, d, off - 1, 1);
                EXPECT_EQ(edge[0], 0x5a) << "byte before, size " << n << " offset " << off;
            }
            if (off + n < kBuf) {
                s.copy_to_host(edge + 1, d, off + n, 1);
                EXPECT_EQ(edge[1], 0x5a) << "byte after, size " << n << " offset " << off;
            }
        }
    }
    s.synchronize();
}

TEST_F(RuntimeApi, HostCopiesWorkOnHostBuffersAndInStreamOrder)
{
    mtia::Stream s(dev());
    mtia::Buffer h(dev(), 10000, mtia::Placement::Host);
    s.fill(h, 0, 10000, 0x11);
    const auto in = random_bytes(333, 9);
    s.copy_from_host(h, 4001, in.data(), in.size());  // after the fill
    s.fill(h, 4001, 10, 0x22);                        // after the copy
    std::vector<unsigned char> out(335);
    s.copy_to_host(out.data(), h, 4000, out.size());
    EXPECT_EQ(out[0], 0x11);
    for (int i = 1; i <= 10; i++) EXPECT_EQ(out[i], 0x22);
    EXPECT_EQ(std::memcmp(out.data() + 11, in.data() + 10, 323), 0);
    EXPECT_EQ(out[334], 0x11);
}

TEST_F(RuntimeApi, HostCopyArgumentsAreChecked)
{
    mtia::Stream s(dev());
    mtia::Buffer d(dev(), 100);
    char buf[200] = {};
    EXPECT_EQ(status_of([&] { s.copy_from_host(d, 1, buf, 100); }), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([&] { s.copy_to_host(buf, d, 101, 0); }), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([&] { s.copy_from_host(d, 0, nullptr, 1); }), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([&] { s.copy_to_host(nullptr, d, 0, 1); }), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([&] { s.copy_from_host(d, 0, buf, 0); }), MTIA_SUCCESS);
    mtia::Buffer gone(dev(), 8);
    gone.free();
    EXPECT_EQ(status_of([&] { s.copy_to_host(buf, gone, 0, 1); }), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(s.jobs_submitted(), 0u);
}

// query() never blocks; polled until true, the work's results are there.
TEST_F(RuntimeApi, StreamQuery)
{
    mtia::Stream s(dev());
    EXPECT_TRUE(s.query());
    mtia::Buffer d(dev(), 32u << 20);
    mtia::Buffer h(dev(), 32u << 20, mtia::Placement::Host);
    s.fill(d, 0, 32u << 20, 0x77);
    s.copy(h, 0, d, 0, 32u << 20);
    while (!s.query()) {
    }
    EXPECT_EQ(h.map_as<unsigned char>()[(32u << 20) - 1], 0x77);
    EXPECT_TRUE(s.query());
}

TEST_F(RuntimeApi, DeviceSynchronizeWaitsForEveryStream)
{
    mtia::Stream a(dev()), b(dev(), mtia::Priority::Low);
    mtia::Stream def = dev().default_stream();
    mtia::Buffer ha(dev(), 1u << 20, mtia::Placement::Host), hb(dev(), 1u << 20, mtia::Placement::Host),
        hd(dev(), 1u << 20, mtia::Placement::Host);
    a.fill(ha, 0, 1u << 20, 1);
    b.fill(hb, 0, 1u << 20, 2);
    def.fill(hd, 0, 1u << 20, 3);
    dev().synchronize();  // submits the queued fills and waits for them
    EXPECT_EQ(ha.map_as<unsigned char>()[(1u << 20) - 1], 1);
    EXPECT_EQ(hb.map_as<unsigned char>()[(1u << 20) - 1], 2);
    EXPECT_EQ(hd.map_as<unsigned char>()[(1u << 20) - 1], 3);
    EXPECT_TRUE(a.query() && b.query() && def.query());
}

TEST_F(RuntimeApi, DefaultStreamIsOnePerDevice)
{
    uint32_t q;
    {
        mtia::Stream s1 = dev().default_stream();
        q = s1.queue_id();
    }
    mtia::Stream s2 = dev().default_stream();
    EXPECT_EQ(s2.queue_id(), q);  // outlives its handles
    mtia::Stream other(dev());
    EXPECT_NE(other.queue_id(), q);
    mtia::Device d2 = mtia::Device::open(0);
    EXPECT_NE(d2.default_stream().queue_id(), 0u);
    dev().close();
    EXPECT_EQ(status_of([&] { dev().default_stream(); }), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(status_of([&] { s2.synchronize(); }), MTIA_ERROR_INVALID_HANDLE);
}

TEST_F(RuntimeApi, MemoryInfoFollowsBuffers)
{
    const mtia::MemoryInfo m0 = dev().memory_info();
    // mem_total: the device memory buffers can take (the driver keeps a little).
    EXPECT_GT(m0.total_bytes, 0u);
    EXPECT_LE(m0.total_bytes, dev().info().devmem_bytes);
    EXPECT_LE(m0.free_bytes, m0.total_bytes);
    const size_t n = (3u << 20) + 1;  // page-rounded by the driver
    const uint64_t rounded = (n + 4095) & ~uint64_t(4095);
    mtia::MemoryInfo m1;
    {
        mtia::Buffer b(dev(), n);
        mtia::Buffer host(dev(), n, mtia::Placement::Host);  // not device memory: not counted
        m1 = dev().memory_info();
        EXPECT_EQ(m1.allocated_bytes, m0.allocated_bytes + rounded);
        EXPECT_EQ(m1.allocations, m0.allocations + 1);
        EXPECT_GE(m1.peak_bytes, m1.allocated_bytes);
        EXPECT_LE(m1.free_bytes + rounded, m0.free_bytes);
    }
    const mtia::MemoryInfo m2 = dev().memory_info();
    EXPECT_EQ(m2.allocated_bytes, m0.allocated_bytes);
    EXPECT_EQ(m2.allocations, m0.allocations);
    EXPECT_EQ(m2.peak_bytes, m1.peak_bytes);
    EXPECT_EQ(m2.free_bytes, m0.free_bytes);
    dev().reset_peak_memory();
    EXPECT_EQ(dev().memory_info().peak_bytes, m2.allocated_bytes);
    // Another open of the same device shares the process's counters.
    mtia::Device again = mtia::Device::open(0);
    mtia::Buffer b(again, 4096);
    EXPECT_EQ(dev().memory_info().allocated_bytes, m2.allocated_bytes + 4096);
}

TEST_F(RuntimeApi, OpenById)
{
    const mtia::DeviceInfo &i = dev().info();
    ASSERT_EQ(i.serial.size(), 16u) << i.serial;
    EXPECT_EQ(mtia::Device::open(i.pci_bus_id).info().node, i.node);
    EXPECT_EQ(mtia::Device::open(i.pci_bus_id.substr(5)).info().node, i.node);
    std::string upper = i.serial;
    for (auto &c : upper) c = static_cast<char>(toupper(c));
    EXPECT_EQ(mtia::Device::open(upper).info().node, i.node);
    EXPECT_EQ(mtia::Device::open(std::string("0")).info().node, i.node);
    EXPECT_EQ(status_of([] { mtia::Device::open(std::string("ffff:ff:1f.7")); }), MTIA_ERROR_NO_DEVICE);
    EXPECT_EQ(status_of([] { mtia::Device::open(std::string("")); }), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(status_of([] { mtia::Device::open(std::string("99")); }), MTIA_ERROR_NO_DEVICE);
}

// MTIA_VISIBLE_DEVICES with two devices, in both orders, by index and serial.
TEST_F(RuntimeApi, VisibleDevicesSelectAndOrder)
{
    const auto all = mtia::device_nodes();
    if (all.size() < 2) GTEST_SKIP() << "needs two devices";
    const std::string s0 = mtia::device_serial(all[0]), s1 = mtia::device_serial(all[1]);
    ASSERT_NE(s0, s1);
    for (const char *v : {"1,0", "0,1"}) {
        ScopedEnv env("MTIA_VISIBLE_DEVICES", v);
        const bool swapped = v[0] == '1';
        ASSERT_EQ(mtia::device_count(), 2);
        EXPECT_EQ(mtia::Device::open(0).info().node, all[swapped ? 1 : 0]) << v;
        EXPECT_EQ(mtia::Device::open(1).info().node, all[swapped ? 0 : 1]) << v;
        EXPECT_EQ(mtia::Device::open(1).info().index, 1);
        int n = 0;
        EXPECT_EQ(mtia_device_count(&n), MTIA_SUCCESS);
        EXPECT_EQ(n, 2);
        mtia_device *c = nullptr;
        ASSERT_EQ(mtia_device_open(0, &c), MTIA_SUCCESS);
        mtia_device_info info{};
        info.struct_size = sizeof(info);
        ASSERT_EQ(mtia_device_get_info(c, &info), MTIA_SUCCESS);
        EXPECT_EQ(std::string(info.node), all[swapped ? 1 : 0]);
        EXPECT_EQ(std::string(info.serial), swapped ? s1 : s0);
        mtia_device_close(c);
    }
    {
        ScopedEnv env("MTIA_VISIBLE_DEVICES", (s1 + "," + s0).c_str());
        ASSERT_EQ(mtia::device_count(), 2);
        EXPECT_EQ(mtia::Device::open(0).info().node, all[1]);
    }
    {
        ScopedEnv env("MTIA_VISIBLE_DEVICES", "1");
        EXPECT_EQ(mtia::device_count(), 1);
        EXPECT_EQ(mtia::Device::open(0).info().node, all[1]);
        EXPECT_EQ(status_of([] { mtia::Device::open(1); }), MTIA_ERROR_NO_DEVICE);
        // Bus ids and serials of hidden devices do not open them either.
        EXPECT_EQ(status_of([&] { mtia::Device::open(s0); }), MTIA_ERROR_NO_DEVICE);
    }
    {
        ScopedEnv env("MTIA_VISIBLE_DEVICES", "0,bogus,1");  // an invalid entry ends the list
        EXPECT_EQ(mtia::device_count(), 1);
    }
    {
        ScopedEnv env("MTIA_VISIBLE_DEVICES", "");
        EXPECT_EQ(mtia::device_count(), 0);
        EXPECT_EQ(status_of([] { mtia::Device::open(0); }), MTIA_ERROR_NO_DEVICE);
    }
}

TEST_F(RuntimeApi, CApi)
{
    mtia_device *d = nullptr;
    ASSERT_EQ(mtia_device_open_by_id(dev().info().pci_bus_id.c_str(), &d), MTIA_SUCCESS);
    EXPECT_EQ(mtia_device_close(d), MTIA_SUCCESS);
    EXPECT_EQ(mtia_device_open_by_id("nope", &d), MTIA_ERROR_NO_DEVICE);
    EXPECT_EQ(mtia_device_open_by_id(nullptr, &d), MTIA_ERROR_INVALID_ARGUMENT);
    ASSERT_EQ(mtia_device_open_by_id(dev().info().serial.c_str(), &d), MTIA_SUCCESS);
    mtia_stream *s = nullptr, *s2 = nullptr;
    ASSERT_EQ(mtia_device_default_stream(d, &s), MTIA_SUCCESS);
    ASSERT_EQ(mtia_device_default_stream(d, &s2), MTIA_SUCCESS);
    mtia_buffer *b = nullptr;
    ASSERT_EQ(mtia_buffer_create(d, 5000, MTIA_PLACEMENT_DEVICE, &b), MTIA_SUCCESS);
    mtia_memory_info mi{};
    mi.struct_size = sizeof(mi);
    ASSERT_EQ(mtia_device_memory_info(d, &mi), MTIA_SUCCESS);
    EXPECT_GE(mi.allocated_bytes, 8192u);
    EXPECT_GT(mi.total_bytes, 0u);
    EXPECT_EQ(mtia_device_reset_peak_memory(d), MTIA_SUCCESS);
    mi.struct_size = 4;
    EXPECT_EQ(mtia_device_memory_info(d, &mi), MTIA_ERROR_INVALID_ARGUMENT);
    const auto in = random_bytes(4999, 3);
    std::vector<unsigned char> out(4999);
    EXPECT_EQ(mtia_stream_copy_from_host(s, b, 1, in.data(), in.size()), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_copy_to_host(s2, out.data(), b, 1, out.size()), MTIA_SUCCESS);  // same stream
    EXPECT_EQ(out, in);
    EXPECT_EQ(mtia_stream_copy_to_host(s, out.data(), b, 2, out.size()), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_device_synchronize(d), MTIA_SUCCESS);
    int done = 0;
    EXPECT_EQ(mtia_stream_query(s, &done), MTIA_SUCCESS);
    EXPECT_EQ(done, 1);
    EXPECT_EQ(mtia_stream_query(s, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_stream_destroy(s), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_query(s2, &done), MTIA_SUCCESS);  // the stream outlives a handle
    EXPECT_EQ(mtia_stream_destroy(s2), MTIA_SUCCESS);
    EXPECT_EQ(mtia_buffer_free(b), MTIA_SUCCESS);
    EXPECT_EQ(mtia_device_close(d), MTIA_SUCCESS);
    EXPECT_EQ(mtia_device_synchronize(d), MTIA_ERROR_INVALID_HANDLE);
}

}  // namespace
