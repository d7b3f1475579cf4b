// SPDX-License-Identifier: MIT
// In-VM tests of libmtia on direct queues (docs/runtime.md "Direct
// queues"), run by tests/vm/test-runtime.sh on the first device with the
// MMU: streams submit without the kernel, fall back to the ioctl path when
// no direct queue is free or MTIA_DIRECT_QUEUES=0, order their work with
// ioctl-path streams both ways through events, run models alike on both
// paths, and carry their work across a device reset.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "mtia/mtia.hpp"
#include "runtime_test_util.h"

namespace {

using rtest::has_mmu;
using rtest::IoctlPathOnly;
using rtest::sysfs;

// This file's engine time in fdinfo, ns, summed over the engines:
// drm-engine-* holds its direct queues' commands too (the device counts
// them per hardware queue, the driver adds them), mtia-direct-engine-*
// that part alone.
struct EngineNs {
    uint64_t all = 0, direct = 0;
    uint64_t kernel() const { return all - direct; }  // the ioctl path's jobs
};

EngineNs engine_ns(const mtia::Device &d)
{
    std::ifstream f("/proc/self/fdinfo/" + std::to_string(d.fd()));
    std::string line;
    EngineNs ns;
    while (std::getline(f, line)) {
        const bool is_all = line.rfind("drm-engine-", 0) == 0;
        if (!is_all && line.rfind("mtia-direct-engine-", 0) != 0) continue;
        std::istringstream in(line.substr(line.find(':') + 1));
        uint64_t v = 0;
        in >> v;
        (is_all ? ns.all : ns.direct) += v;
    }
    EXPECT_GE(ns.all, ns.direct);
    return ns;
}

uint64_t kernel_job_ns(const mtia::Device &d) { return engine_ns(d).kernel(); }

// 1 MiB host -> device -> host through s; true if it came back intact.
bool round_trip(const mtia::Device &d, mtia::Stream &s, uint8_t seed)
{
    const size_t n = 1u << 20;
    mtia::Buffer src(d, n, mtia::Placement::Host), dst(d, n, mtia::Placement::Host);
    mtia::Buffer dv(d, n, mtia::Placement::Device);
    auto *a = src.map_as<uint8_t>();
    for (size_t i = 0; i < n; i++) a[i] = static_cast<uint8_t>(i * 7 + seed);
    std::memset(dst.map(), 0, n);
    s.copy(dv, 0, src, 0, n);
    s.copy(dst, 0, dv, 0, n);
    s.synchronize();
    return std::memcmp(dst.map(), a, n) == 0;
}

class Direct : public ::testing::Test {
protected:
    void SetUp() override
    {
        for (int i = 0; i < mtia::device_count(); i++) {
            auto d = mtia::Device::open(i);
            if (has_mmu(d)) {
                dev_ = std::make_unique<mtia::Device>(std::move(d));
                return;
            }
        }
        GTEST_SKIP() << "direct queues need a device with the MMU";
    }
    mtia::Device &dev() { return *dev_; }
    std::unique_ptr<mtia::Device> dev_;
};

TEST_F(Direct, StreamsSubmitWithoutTheKernelUnlessTurnedOff)
{
    const uint64_t before = kernel_job_ns(dev());
    {
        mtia::Stream s(dev());
        ASSERT_TRUE(round_trip(dev(), s, 1));
        EXPECT_EQ(s.jobs_submitted(), 1u);
    }
    EXPECT_EQ(kernel_job_ns(dev()), before) << "a direct queue's copies went through the kernel";
    IoctlPathOnly off;
    mtia::Stream k(dev());
    ASSERT_TRUE(round_trip(dev(), k, 2));
    EXPECT_GT(kernel_job_ns(dev()), before) << "MTIA_DIRECT_QUEUES=0 did not turn direct queues off";
}

// The driver keeps direct_queues hardware queues per device for them;
// streams beyond those use the ioctl path, and all of them work at once.
TEST_F(Direct, StreamsBeyondTheFreeDirectQueuesUseTheIoctlPath)
{
    std::ifstream p("/sys/module/mtia/parameters/direct_queues");
    int n = -1;
    p >> n;
    ASSERT_GE(n, 1) << "no direct_queues module parameter";
    std::vector<std::unique_ptr<mtia::Stream>> s;
    for (int i = 0; i < n + 2; i++) s.push_back(std::make_unique<mtia::Stream>(dev()));
    uint64_t before = kernel_job_ns(dev());
    for (int i = 0; i < n; i++) ASSERT_TRUE(round_trip(dev(), *s[i], static_cast<uint8_t>(i)));
    EXPECT_EQ(kernel_job_ns(dev()), before);
    for (int i = n; i < n + 2; i++) {
        ASSERT_TRUE(round_trip(dev(), *s[i], static_cast<uint8_t>(i)));
        EXPECT_GT(kernel_job_ns(dev()), before) << "stream " << i;
        before = kernel_job_ns(dev());
    }
}

// Events order work across the two paths: a driver queue waits for a direct
// queue's event through a syncobj fence (DIRECT_SIGNAL), a direct queue for
// a driver queue's event on the host. The first job of each pair writes
// 96 MiB, long enough that the second would read stale data if unordered.
TEST_F(Direct, EventsOrderWorkWithTheIoctlPathBothWays)
{
    const size_t n = 96u << 20;
    mtia::Stream d(dev());
    std::unique_ptr<mtia::Stream> k;
    {
        IoctlPathOnly off;
        k = std::make_unique<mtia::Stream>(dev());
    }
    mtia::Buffer big(dev(), n, mtia::Placement::Device);
    mtia::Buffer out(dev(), n, mtia::Placement::Host);
    auto *o = out.map_as<uint8_t>();
    for (uint8_t v : {0x11, 0x22, 0x33}) {
        // direct -> ioctl path
        std::memset(o, 0, n);
        mtia::Event e(dev());
        d.fill(big, 0, n, v);
        d.record(e);
        k->wait(e);
        k->copy(out, 0, big, 0, n);
        k->synchronize();
        ASSERT_EQ(o[0], v);
        ASSERT_EQ(o[n - 1], v);
        // ioctl path -> direct
        const uint8_t w = static_cast<uint8_t>(v + 0x40);
        std::memset(o, 0, n);
        mtia::Event f(dev());
        k->fill(big, 0, n, w);
        k->record(f);
        d.wait(f);
        d.copy(out, 0, big, 0, n);
        d.synchronize();
        ASSERT_EQ(o[0], w);
        ASSERT_EQ(o[n - 1], w);
    }
}

// Events on a direct queue: timestamps in order, elapsed time, query.
TEST_F(Direct, EventsTimeDirectQueueWork)
{
    mtia::Stream s(dev());
    mtia::Buffer b(dev(), 8u << 20, mtia::Placement::Device);
    mtia::Event a(dev()), z(dev());
    s.record(a);
    s.fill(b, 0, 8u << 20, 1);
    s.record(z);
    EXPECT_TRUE(z.wait(60000));
    EXPECT_TRUE(a.query());
    EXPECT_GT(z.timestamp_ns(), a.timestamp_ns());
    EXPECT_GT(mtia::Event::elapsed_ms(a, z), 0.0);
}

std::string model_path(const std::string &name)
{
    const char *d = std::getenv("MTIA_MODEL_DIR");
    return std::string(d ? d : "build/models") + "/" + name + ".mtia";
}

std::vector<std::vector<float>> run_model(const mtia::Device &dev, const std::string &name, bool direct)
{
    std::unique_ptr<IoctlPathOnly> off;
    if (!direct) off = std::make_unique<IoctlPathOnly>();
    auto m = mtia::Model::load_file(dev, model_path(name));
    std::mt19937 rng(5);
    std::normal_distribution<float> nd;
    std::vector<std::vector<float>> in, out;
    std::vector<mtia::HostInput> hin;
    std::vector<mtia::HostOutput> hout;
    for (const auto &t : m.inputs()) {
        in.emplace_back(t.bytes / 4);
        for (auto &x : in.back()) x = nd(rng);
        hin.push_back({in.back().data(), t.bytes});
    }
    for (const auto &t : m.outputs()) {
        out.emplace_back(t.bytes / 4, NAN);
        hout.push_back({out.back().data(), t.bytes});
    }
    m.run(hin, hout);
    return out;
}

// A model gives the same outputs through a direct queue as through the
// ioctl path, and the kernel sees none of the direct queue's jobs.
TEST_F(Direct, ModelsRunAlikeOnBothPaths)
{
    for (const char *name : {"convbnrelu", "mlp", "resnet18"}) {
        if (access(model_path(name).c_str(), R_OK) != 0) GTEST_SKIP() << "no " << model_path(name);
        const uint64_t before = kernel_job_ns(dev());
        const auto a = run_model(dev(), name, true);
        EXPECT_EQ(kernel_job_ns(dev()), before) << name;
        const auto b = run_model(dev(), name, false);
        ASSERT_EQ(a.size(), b.size());
        for (size_t i = 0; i < a.size(); i++) {
            ASSERT_EQ(a[i].size(), b[i].size());
            double diff = 0;
            for (size_t j = 0; j < a[i].size(); j++) diff = std::fmax(diff, std::fabs(a[i][j] - b[i][j]));
            EXPECT_LE(diff, 1e-5) << name << " output " << i;
        }
    }
}

// The device time of a direct queue's commands is in the file's fdinfo
// (drm-engine-dma), though the kernel ran none of them; it grows with the
// work and stays when the queue goes (destroyed with its stream): the
// file's engine time never goes back.
TEST_F(Direct, DirectWorkIsInFdinfoAndStaysWhenItsQueueGoes)
{
    const EngineNs start = engine_ns(dev());
    const size_t n = 64u << 20;
    EngineNs ran;
    {
        mtia::Stream s(dev());
        mtia::Buffer big(dev(), n, mtia::Placement::Device);
        for (int i = 1; i <= 4; i++) s.fill(big, 0, n, static_cast<uint8_t>(i));
        s.synchronize();
        ran = engine_ns(dev());
        EXPECT_GT(ran.direct, start.direct) << "256 MiB of fills on a direct queue took no device time";
        EXPECT_EQ(ran.kernel(), start.kernel()) << "the fills went through the kernel";
        // The device is not faster than it can be: 256 MiB take time.
        EXPECT_GT(ran.direct - start.direct, 1000u);
    }
    const EngineNs after = engine_ns(dev());
    EXPECT_GE(after.direct, ran.direct) << "the queue's time went with it";
    EXPECT_GE(after.all, ran.all);
    // A new stream's queue adds to it.
    mtia::Stream s2(dev());
    ASSERT_TRUE(round_trip(dev(), s2, 9));
    EXPECT_GT(engine_ns(dev()).direct, after.direct);
}

// A device reset takes the direct queue: the ring gets another and writes
// the jobs not done to it again (as the driver re-runs its own queues'
// innocent jobs), so work in flight at the reset still completes, in order.
TEST_F(Direct, WorkInFlightAtAResetCompletes)
{
    const std::string reset = "/sys/bus/pci/devices/" + dev().info().pci_bus_id + "/mtia/reset";
    if (access(reset.c_str(), W_OK) != 0) GTEST_SKIP() << "needs root (" << reset << ")";
    const uint64_t resets = std::stoull(sysfs(dev(), "reset_count"));
    mtia::Stream s(dev());
    ASSERT_TRUE(round_trip(dev(), s, 3));
    const EngineNs at_reset = engine_ns(dev());
    const size_t n = 64u << 20;
    mtia::Buffer big(dev(), n, mtia::Placement::Device), out(dev(), n, mtia::Placement::Host);
    for (int i = 1; i <= 8; i++) s.fill(big, 0, n, static_cast<uint8_t>(i));
    s.copy(out, 0, big, 0, n);
    s.flush();
    {
        std::ofstream f(reset);
        f << "1\n";
    }
    EXPECT_NO_THROW(s.synchronize());
    EXPECT_GT(std::stoull(sysfs(dev(), "reset_count")), resets);
    EXPECT_EQ(out.map_as<uint8_t>()[0], 8);
    EXPECT_EQ(out.map_as<uint8_t>()[n - 1], 8);
    // The queue the reset took keeps what it ran in the file's engine time.
    EXPECT_GE(engine_ns(dev()).direct, at_reset.direct);
    EXPECT_GE(engine_ns(dev()).all, at_reset.all);
    const uint64_t before = kernel_job_ns(dev());
    EXPECT_TRUE(round_trip(dev(), s, 4));
    EXPECT_EQ(kernel_job_ns(dev()), before) << "the stream left its direct queue";
}

}  // namespace
