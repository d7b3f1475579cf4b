// SPDX-License-Identifier: MIT
// In-VM tests of libmtia's batch buckets (run by tests/vm/test-buckets.sh):
// models compiled once with mtia-compile --batch-buckets 1,4,16, run at
// batches between and at the buckets through run(), run_batch(),
// run_async() and the C API, against PyTorch's outputs. Models and
// reference data come from $MTIA_BUCKET_DIR (default build/models/buckets,
// prepared on the host by `tests/vm/test-buckets.sh --prepare`).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "mtia/mtia.h"
#include "mtia/mtia.hpp"
#include "npy.h"

namespace {

std::string dir()
{
    const char *d = std::getenv("MTIA_BUCKET_DIR");
    return d ? d : "build/models/buckets";
}

// One batch's reference: the inputs' bytes and PyTorch's output.
struct Ref {
    std::vector<std::vector<uint8_t>> in;
    std::vector<float> out;
    std::vector<mtia::HostInput> host() const
    {
        std::vector<mtia::HostInput> h;
        for (const auto &v : in) h.push_back({v.data(), v.size()});
        return h;
    }
};

double tolerance(const std::string &name)
{
    std::ifstream f(dir() + "/manifest.json");
    if (!f) throw std::runtime_error("no " + dir() + "/manifest.json (tests/vm/test-buckets.sh --prepare)");
    for (const auto &e : nlohmann::json::parse(f))
        if (e["name"] == name) return e["tolerance"];
    throw std::runtime_error(name + " is not in the manifest");
}

Ref ref(const std::string &name, size_t n_in, int batch)
{
    Ref r;
    const std::string pre = dir() + "/" + name + ".b" + std::to_string(batch);
    for (size_t i = 0; i < n_in; i++)
        r.in.push_back(mtia::run::read_npy(pre + ".input" + std::to_string(i) + ".npy").data);
    const auto o = mtia::run::read_npy(pre + ".output0.npy");
    r.out.resize(o.data.size() / 4);
    std::memcpy(r.out.data(), o.data.data(), o.data.size());
    return r;
}

double max_abs_diff(const std::vector<float> &a, const std::vector<float> &b)
{
    if (a.size() != b.size()) return INFINITY;
    double m = 0;
    for (size_t i = 0; i < a.size(); i++) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
    return std::isnan(m) ? INFINITY : m;
}

template <typename F>
void expect_error(F &&f, const char *substr)
{
    try {
        f();
        ADD_FAILURE() << "no error, wanted '" << substr << "'";
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), MTIA_ERROR_INVALID_ARGUMENT) << e.what();
        EXPECT_NE(std::string(e.what()).find(substr), std::string::npos) << e.what();
    }
}

class Buckets : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (mtia::device_count() == 0) GTEST_SKIP() << "no mtia device";
        const char *e = std::getenv("MTIA_TEST_DEVICE");
        dev_ = std::make_unique<mtia::Device>(mtia::Device::open(e ? std::atoi(e) : 0));
    }
    mtia::Model load(const std::string &name) { return mtia::Model::load_file(*dev_, dir() + "/" + name + ".mtia"); }
    std::unique_ptr<mtia::Device> dev_;
};

TEST_F(Buckets, Metadata)
{
    mtia::Model m = load("dlrm");
    EXPECT_EQ(m.batch_buckets(), (std::vector<uint32_t>{1, 4, 16}));
    ASSERT_EQ(m.inputs().size(), 4u);
    for (const auto &t : m.inputs()) {
        EXPECT_EQ(t.shape[0], 16u) << t.name;
        EXPECT_EQ(t.batch_axis, 0) << t.name;
    }
    EXPECT_EQ(m.outputs()[0].shape, (std::vector<uint32_t>{16, 1}));
    EXPECT_EQ(m.outputs()[0].batch_axis, 0);
    EXPECT_EQ(m.last_batch(), 0u);
}

TEST_F(Buckets, RunAtEveryBatchMatchesPyTorch)
{
    for (const auto &[name, n_in] : {std::pair<std::string, size_t>{"dlrm", 4}, {"encoder", 1}}) {
        mtia::Model m = load(name);
        const double tol = tolerance(name);
        for (const auto &[batch, bucket] : {std::pair<int, uint32_t>{1, 1}, {3, 4}, {4, 4}, {7, 16}, {16, 16}}) {
            SCOPED_TRACE(name + " batch " + std::to_string(batch));
            const Ref r = ref(name, n_in, batch);
            std::vector<float> out(r.out.size(), NAN);
            m.run(r.host(), {{out.data(), out.size() * 4}});
            EXPECT_EQ(m.last_batch(), bucket);
            const double err = max_abs_diff(out, r.out);
            EXPECT_LE(err, tol);
            std::printf("  %-8s batch %2d (bucket %2u): max abs error %.3g (tolerance %.3g)\n", name.c_str(), batch,
                        bucket, err, tol);
        }
    }
}

TEST_F(Buckets, RunBatchOfMixedSizes)
{
    mtia::Model m = load("dlrm");
    const Ref a = ref("dlrm", 4, 3), b = ref("dlrm", 4, 16), c = ref("dlrm", 4, 1);
    std::vector<float> oa(a.out.size()), ob(b.out.size()), oc(c.out.size());
    m.run_batch({a.host(), b.host(), c.host()},
                {{{oa.data(), oa.size() * 4}}, {{ob.data(), ob.size() * 4}}, {{oc.data(), oc.size() * 4}}});
    EXPECT_LE(max_abs_diff(oa, a.out), tolerance("dlrm"));
    EXPECT_LE(max_abs_diff(ob, b.out), tolerance("dlrm"));
    EXPECT_LE(max_abs_diff(oc, c.out), tolerance("dlrm"));
}

TEST_F(Buckets, BadBatchesAreClearErrors)
{
    mtia::Model m = load("dlrm");
    const Ref big = ref("dlrm", 4, 17), r3 = ref("dlrm", 4, 3), r4 = ref("dlrm", 4, 4);
    std::vector<float> out(17);
    expect_error(
        [&] {
            m.run(big.host(), {{out.data(), 17 * 4}});
        },
        "input 0 'input0' has a batch of 17, more than the largest of the model's batch buckets (1,4,16): "
        "split the request into batches of at most 16");
    auto mixed = r3.host();
    mixed[2] = r4.host()[2];
    expect_error(
        [&] {
            m.run(mixed, {{out.data(), 3 * 4}});
        },
        "input 2 'input2' has a batch of 4, input 0 'input0' one of 3");
    expect_error(
        [&] {
            m.run(r3.host(), {{out.data(), 4 * 4}});
        },
        "output 0 'output0' has 16 bytes, a batch of 3 needs 12");
    auto part = r3.host();
    part[0].bytes -= 4;
    expect_error([&] { m.run(part, {{out.data(), 3 * 4}}); }, "not a whole number (>= 1) of its 52-byte samples");
}

TEST_F(Buckets, RunAsyncTakesBucketSizedBuffers)
{
    mtia::Model m = load("dlrm");
    const Ref r = ref("dlrm", 4, 4);
    mtia::Stream s(*dev_);
    std::vector<mtia::Buffer> bufs;
    for (const auto &v : r.in) {
        bufs.emplace_back(*dev_, v.size(), mtia::Placement::Host);
        std::memcpy(bufs.back().map(), v.data(), v.size());
    }
    mtia::Buffer out(*dev_, 4 * 4, mtia::Placement::Host);
    std::vector<mtia::BufferTensor> in;
    for (auto &b : bufs) in.push_back({&b, 0});
    m.run_async(s, in, {{&out, 0}});
    s.synchronize();
    EXPECT_EQ(m.last_batch(), 4u);
    std::vector<float> got(4);
    std::memcpy(got.data(), out.map(), 16);
    EXPECT_LE(max_abs_diff(got, r.out), tolerance("dlrm"));

    const Ref r3 = ref("dlrm", 4, 3);
    mtia::Buffer in3(*dev_, r3.in[0].size(), mtia::Placement::Host);
    in[0] = {&in3, 0};
    expect_error(
        [&] {
            m.run_async(s, in, {{&out, 0}});
        },
        "run_async: input 0 'input0' has 156 bytes from its offset to the buffer's end, no batch bucket's "
        "size (52 bytes per sample, buckets 1,4,16)");
}

TEST_F(Buckets, CApi)
{
    mtia_device *d = nullptr;
    ASSERT_EQ(mtia_device_open(0, &d), MTIA_SUCCESS);
    mtia_model *m = nullptr;
    ASSERT_EQ(mtia_model_load_file(d, (dir() + "/encoder.mtia").c_str(), &m), MTIA_SUCCESS) << mtia_last_error();
    uint32_t b[4] = {};
    size_t n = 0;
    ASSERT_EQ(mtia_model_batch_buckets(m, nullptr, &n), MTIA_SUCCESS);
    EXPECT_EQ(n, 3u);
    n = 2;
    ASSERT_EQ(mtia_model_batch_buckets(m, b, &n), MTIA_SUCCESS);
    EXPECT_EQ(n, 3u);
    EXPECT_EQ(b[0], 1u);
    EXPECT_EQ(b[1], 4u);
    EXPECT_EQ(b[2], 0u) << "only the room given is written";
    int32_t axis = 7;
    ASSERT_EQ(mtia_model_input_batch_axis(m, 0, &axis), MTIA_SUCCESS);
    EXPECT_EQ(axis, 0);
    ASSERT_EQ(mtia_model_output_batch_axis(m, 0, &axis), MTIA_SUCCESS);
    EXPECT_EQ(axis, 0);
    EXPECT_EQ(mtia_model_input_batch_axis(m, 1, &axis), MTIA_ERROR_INVALID_ARGUMENT);

    const Ref r = ref("encoder", 1, 7);
    const void *in[1] = {r.in[0].data()};
    size_t in_bytes[1] = {r.in[0].size()};
    std::vector<float> o(r.out.size());
    void *out[1] = {o.data()};
    size_t out_bytes[1] = {o.size() * 4};
    ASSERT_EQ(mtia_model_run(m, in, in_bytes, 1, out, out_bytes, 1), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_LE(max_abs_diff(o, r.out), tolerance("encoder"));
    uint64_t ns = 0;
    EXPECT_EQ(mtia_model_device_estimate_ns(m, &ns), MTIA_SUCCESS);
    EXPECT_GT(ns, 0u);
    EXPECT_EQ(mtia_model_free(m), MTIA_SUCCESS);
    EXPECT_EQ(mtia_device_close(d), MTIA_SUCCESS);
}

TEST_F(Buckets, ProfileOfAPaddedRun)
{
    mtia::Model m = load("encoder");
    const Ref r = ref("encoder", 1, 3);
    std::vector<float> out(r.out.size());
    m.set_profiling(true);
    m.run(r.host(), {{out.data(), out.size() * 4}});
    const mtia::RunProfile p = m.profile();
    EXPECT_EQ(p.ops.size(), m.num_ops());
    EXPECT_GT(p.device_end_ns, p.device_start_ns);
}

}  // namespace
