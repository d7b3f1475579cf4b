// SPDX-License-Identifier: MIT
// In-VM tests of libmtia's models against the driver and the emulated
// device's compute engine (run by tests/vm/test-models.sh). Models and
// reference data come from $MTIA_MODEL_DIR (default build/models,
// prepared on the host by `tests/vm/test-models.sh --prepare`): NAME.mtia,
// NAME.input<i>.npy, NAME.output<i>.npy, manifest.json (tolerances).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <thread>

#include "../unit/model_test_util.h"
#include "mtia/mtia.h"
#include "mtia/mtia.hpp"
#include "npy.h"

namespace {

std::string model_dir()
{
    const char *d = std::getenv("MTIA_MODEL_DIR");
    return d ? d : "build/models";
}

std::string read_file(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) throw std::runtime_error("cannot read " + path + " (run tests/vm/test-models.sh --prepare on the host)");
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// An array's bytes in floats' storage: float32 values, or the bytes of
// int64 ids (4 B per float: data.size() * 4 is the byte count either way).
struct Array {
    std::vector<float> data;
};

Array array(const std::string &path)
{
    const mtia::run::NpyArray n = mtia::run::read_npy(path);
    Array a;
    a.data.resize((n.data.size() + 3) / 4);
    std::memcpy(a.data.data(), n.data.data(), n.data.size());
    return a;
}

struct Reference {
    std::string name;
    double tolerance = 0;
    std::vector<Array> in, out;
};

Reference reference(const std::string &name)
{
    const auto manifest = nlohmann::json::parse(read_file(model_dir() + "/manifest.json"));
    for (const auto &e : manifest) {
        if (e["name"] != name) continue;
        Reference r;
        r.name = name;
        r.tolerance = e["tolerance"];
        for (const auto &i : e["inputs"]) r.in.push_back(array(model_dir() + "/" + i["file"].get<std::string>()));
        for (const auto &o : e["outputs"]) r.out.push_back(array(model_dir() + "/" + o["file"].get<std::string>()));
        return r;
    }
    throw std::runtime_error(name + " is not in " + model_dir() + "/manifest.json");
}

std::string mtia_path(const std::string &name) { return model_dir() + "/" + name + ".mtia"; }

double max_abs_diff(const std::vector<float> &a, const std::vector<float> &b)
{
    if (a.size() != b.size()) return INFINITY;
    double m = 0;
    for (size_t i = 0; i < a.size(); i++) m = std::max(m, static_cast<double>(std::fabs(a[i] - b[i])));
    return std::isnan(m) ? INFINITY : m;
}

template <typename F>
void expect_status(mtia_status want, F &&f, const char *substr)
{
    try {
        f();
        ADD_FAILURE() << "no error, wanted " << mtia_status_name(want) << " '" << substr << "'";
    } catch (const mtia::Error &e) {
        EXPECT_EQ(e.status(), want) << e.what();
        EXPECT_NE(std::string(e.what()).find(substr), std::string::npos) << e.what();
    }
}

// Host tensors of one request.
struct Request {
    std::vector<std::vector<float>> in, out;
    std::vector<mtia::HostInput> hin;
    std::vector<mtia::HostOutput> hout;
    Request(const mtia::Model &m, uint32_t seed)
    {
        std::mt19937 rng(seed);
        std::normal_distribution<float> nd;
        for (const auto &t : m.inputs()) {
            in.emplace_back(t.bytes / 4);
            for (auto &x : in.back()) x = nd(rng);
        }
        for (const auto &t : m.outputs()) out.emplace_back(t.bytes / 4, NAN);
        for (auto &v : in) hin.push_back({v.data(), v.size() * 4});
        for (auto &v : out) hout.push_back({v.data(), v.size() * 4});
    }
};

class Models : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (mtia::device_count() == 0) GTEST_SKIP() << "no mtia device";
        const char *e = std::getenv("MTIA_TEST_DEVICE");
        dev_ = std::make_unique<mtia::Device>(mtia::Device::open(e ? std::atoi(e) : 0));
    }
    mtia::Model load(const std::string &name) { return mtia::Model::load_file(*dev_, mtia_path(name)); }

    // Runs the reference input through run() and checks the outputs.
    void check_reference(const std::string &name)
    {
        SCOPED_TRACE(name);
        const Reference r = reference(name);
        mtia::Model m = load(name);
        ASSERT_EQ(m.inputs().size(), r.in.size());
        ASSERT_EQ(m.outputs().size(), r.out.size());
        std::vector<mtia::HostInput> in;
        for (const auto &a : r.in) in.push_back({a.data.data(), a.data.size() * 4});
        std::vector<std::vector<float>> out;
        std::vector<mtia::HostOutput> hout;
        for (const auto &t : m.outputs()) out.emplace_back(t.bytes / 4, NAN);
        for (auto &v : out) hout.push_back({v.data(), v.size() * 4});
        m.run(in, hout);
        for (size_t i = 0; i < out.size(); i++) {
            const double err = max_abs_diff(out[i], r.out[i].data);
            EXPECT_LE(err, r.tolerance) << "output " << i;
            std::printf("  %-14s output %zu: max abs error %.3g (tolerance %.0e)\n", name.c_str(), i, err, r.tolerance);
        }
    }

    std::unique_ptr<mtia::Device> dev_;
};

TEST_F(Models, SmallModelsMatchPyTorch)
{
    for (const char *n :
         {"convbnrelu", "depthwise", "branches", "shufflesplit", "mlp", "seqlinear", "twoinout", "dlrm", "dlrm_bag"}) {
        check_reference(n);
    }
}

// Transformer encoder layers (batch first, sequence first with a constant
// key padding mask, a float attention mask as a second input), a
// MultiheadAttention with its weights and a LayerNorm + GELU MLP, through libmtia (tolerance 1e-4 x max(1, |ref|max)).
TEST_F(Models, TransformersMatchPyTorch)
{
    for (const char *n : {"lngelu", "encoder", "encoder_seqfirst", "encoder_mask", "selfattn", "bert", "bert_mask"})
        check_reference(n);
}

TEST_F(Models, Resnet18MatchesPyTorch) { check_reference("resnet18"); }

// An id outside its table fails the run with INDEX_OUT_OF_RANGE naming the
// input that held it; the model then runs good ids again.
TEST_F(Models, IdOutsideItsTableNamesTheInput)
{
    Reference r = reference("dlrm");
    mtia::Model m = load("dlrm");
    ASSERT_EQ(m.inputs()[2].dtype, mtia::DType::I64);
    Array bad = r.in[2];
    const int64_t id = 3000;  // table 1 has 3000 rows
    std::memcpy(reinterpret_cast<uint8_t *>(bad.data.data()) + 5 * 8, &id, 8);
    std::vector<float> out(m.outputs()[0].bytes / 4);
    std::vector<mtia::HostInput> in;
    for (size_t i = 0; i < r.in.size(); i++) {
        const Array &a = i == 2 ? bad : r.in[i];
        in.push_back({a.data.data(), a.data.size() * 4});
    }
    expect_status(
        MTIA_ERROR_INDEX_OUT_OF_RANGE,
        [&] {
            m.run(in, {{out.data(), out.size() * 4}});
        },
        "input 2 'input2' holds 3000, outside [0, 3000) (table 0)");
    check_reference("dlrm");
}

// The same for a table of the nn.EmbeddingBag export (1-D ids with offsets).
TEST_F(Models, IdOutsideItsBagTableNamesTheInput)
{
    Reference r = reference("dlrm_bag");
    mtia::Model m = load("dlrm_bag");
    ASSERT_EQ(m.inputs()[3].dtype, mtia::DType::I64);
    Array bad = r.in[3];
    const int64_t id = 3000;  // the mean table has 3000 rows
    std::memcpy(reinterpret_cast<uint8_t *>(bad.data.data()) + 5 * 8, &id, 8);
    std::vector<float> out(m.outputs()[0].bytes / 4);
    std::vector<mtia::HostInput> in;
    for (size_t i = 0; i < r.in.size(); i++) {
        const Array &a = i == 3 ? bad : r.in[i];
        in.push_back({a.data.data(), a.data.size() * 4});
    }
    expect_status(
        MTIA_ERROR_INDEX_OUT_OF_RANGE,
        [&] {
            m.run(in, {{out.data(), out.size() * 4}});
        },
        "input 3 'input3' holds 3000, outside [0, 3000) (table 0)");
    check_reference("dlrm_bag");
}

TEST_F(Models, TensorInfo)
{
    mtia::Model m = load("twoinout");
    ASSERT_EQ(m.inputs().size(), 2u);
    EXPECT_EQ(m.inputs()[1].name, "input1");
    EXPECT_EQ(m.inputs()[1].shape, (std::vector<uint32_t>{1, 3, 8, 8}));
    EXPECT_EQ(m.inputs()[1].bytes, 3u * 64 * 4);
    ASSERT_EQ(m.outputs().size(), 2u);
    EXPECT_EQ(m.outputs()[0].name, "output0");
    EXPECT_GT(m.num_ops(), 0u);
    EXPECT_GE(m.arena_bytes(), m.weight_bytes());
}

TEST_F(Models, WrongInputsAreClearErrors)
{
    mtia::Model m = load("twoinout");
    Request r(m, 1);
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { m.run({r.hin[0]}, r.hout); }, "model takes 2 input(s), got 1");
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { m.run(r.hin, {r.hout[0]}); }, "model takes 2 output(s), got 1");
    auto small = r.hin;
    small[1].bytes -= 4;
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { m.run(small, r.hout); },
        "input 1 'input1' has 764 bytes, the model's 1x3x8x8 f32 tensor has 768");
    auto null = r.hout;
    null[0].data = nullptr;
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { m.run(r.hin, null); }, "output 0 is NULL");
    // run_async: buffers too small, or of another device's... (one device here).
    mtia::Stream s(*dev_);
    mtia::Buffer b(*dev_, 100, mtia::Placement::Host);
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT,
        [&] {
            m.run_async(s, {{&b, 0}, {&b, 0}}, {{&b, 0}, {&b, 0}});
        },
        "input 0 'input0': 768 bytes at offset 0 do not fit the buffer of 100 bytes");
    mtia::Buffer freed;
    expect_status(
        MTIA_ERROR_INVALID_HANDLE,
        [&] {
            m.run_async(s, {{&freed, 0}, {&b, 0}}, {{&b, 0}, {&b, 0}});
        },
        "input 0: buffer is freed");
    EXPECT_EQ(s.jobs_submitted(), 0u);  // nothing queued by a refused run
    // The model still works.
    m.run(r.hin, r.hout);
    EXPECT_FALSE(std::isnan(r.out[0][0]));
}

TEST_F(Models, RunBatchEqualsSingleRuns)
{
    mtia::Model m = load("convbnrelu");
    std::vector<Request> single, batch;
    for (uint32_t i = 0; i < 5; i++) {
        single.emplace_back(m, 100 + i);
        batch.emplace_back(m, 100 + i);
    }
    for (auto &r : single) m.run(r.hin, r.hout);
    std::vector<std::vector<mtia::HostInput>> in;
    std::vector<std::vector<mtia::HostOutput>> out;
    for (auto &r : batch) in.push_back(r.hin), out.push_back(r.hout);
    m.run_batch(in, out);
    for (size_t i = 0; i < single.size(); i++) EXPECT_EQ(single[i].out[0], batch[i].out[0]) << "request " << i;
    EXPECT_NE(single[0].out[0], single[1].out[0]);  // the inputs differ, so do the outputs
    in.pop_back();
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { m.run_batch(in, out); }, "run_batch: 4 input sets but 5 output sets");
}

TEST_F(Models, RunAsyncWithEvents)
{
    mtia::Model m = load("convbnrelu");
    Request want(m, 7);
    m.run(want.hin, want.hout);
    mtia::Stream s(*dev_);
    mtia::Buffer in(*dev_, m.inputs()[0].bytes, mtia::Placement::Host);
    mtia::Buffer dev_in(*dev_, m.inputs()[0].bytes, mtia::Placement::Device);
    mtia::Buffer out(*dev_, 4096 + m.outputs()[0].bytes, mtia::Placement::Host);
    std::memcpy(in.map(), want.in[0].data(), want.in[0].size() * 4);
    mtia::Event a(*dev_), b(*dev_);
    const uint64_t jobs0 = s.jobs_submitted();
    // The input goes to device memory first: queued work before the run
    // joins the same job.
    s.copy(dev_in, 0, in, 0, in.size());
    s.record(a);
    const uint64_t jobs1 = s.jobs_submitted();
    m.run_async(s, {{&dev_in, 0}}, {{&out, 4096}});
    EXPECT_EQ(s.jobs_submitted(), jobs1 + 1) << "one job per inference";
    s.record(b);
    EXPECT_TRUE(b.wait(60000));
    EXPECT_GT(mtia::Event::elapsed_ms(a, b), 0.0);
    EXPECT_GT(jobs1, jobs0);
    // The timing model's estimate comes with the inference's job, not with
    // the copy before it.
    EXPECT_GT(m.device_estimate_ns(), 0u);
    EXPECT_EQ(a.device_estimate_ns(), 0u);
    std::vector<float> got(m.outputs()[0].bytes / 4);
    std::memcpy(got.data(), out.map_as<uint8_t>() + 4096, got.size() * 4);
    EXPECT_EQ(got, want.out[0]);
}

// Runs of one model from several threads, by run() and by run_async() on
// different streams, are serialised on the device: every result is right.
TEST_F(Models, ConcurrentRunsOfOneModel)
{
    mtia::Model m = load("depthwise");
    constexpr int kThreads = 3, kIters = 15;
    std::vector<Request> want;
    for (int t = 0; t < kThreads; t++) {
        want.emplace_back(m, 200 + t);
        m.run(want.back().hin, want.back().hout);
    }
    std::atomic<int> bad{0};
    std::vector<std::thread> th;
    th.emplace_back([&] {  // synchronous runs
        Request r(m, 200);
        for (int i = 0; i < kIters; i++) {
            m.run(r.hin, r.hout);
            if (r.out[0] != want[0].out[0]) bad++;
        }
    });
    for (int t = 1; t < kThreads; t++) {
        th.emplace_back([&, t] {  // queued runs on this thread's stream, one output buffer each
            mtia::Stream s(*dev_);
            mtia::Buffer in(*dev_, m.inputs()[0].bytes, mtia::Placement::Host);
            std::memcpy(in.map(), want[t].in[0].data(), m.inputs()[0].bytes);
            std::vector<mtia::Buffer> outs;
            for (int i = 0; i < kIters; i++) {
                outs.emplace_back(*dev_, m.outputs()[0].bytes, mtia::Placement::Host);
                m.run_async(s, {{&in, 0}}, {{&outs.back(), 0}});
            }
            s.synchronize();
            for (auto &o : outs) {
                if (std::memcmp(o.map(), want[t].out[0].data(), m.outputs()[0].bytes) != 0) bad++;
            }
        });
    }
    for (auto &t : th) t.join();
    EXPECT_EQ(bad.load(), 0);
}

TEST_F(Models, ModelFreedWithWorkQueued)
{
    mtia::Stream s(*dev_);
    std::vector<float> want;
    mtia::Buffer in(*dev_, 4096, mtia::Placement::Host), out(*dev_, 4096, mtia::Placement::Host);
    {
        mtia::Model m = load("mlp");
        Request r(m, 3);
        m.run(r.hin, r.hout);
        want = r.out[0];
        std::memcpy(in.map(), r.in[0].data(), m.inputs()[0].bytes);
        for (int i = 0; i < 4; i++) m.run_async(s, {{&in, 0}}, {{&out, 0}});
    }  // model gone; its queued jobs hold its buffers
    s.synchronize();
    EXPECT_EQ(std::memcmp(out.map(), want.data(), want.size() * 4), 0);
}

TEST_F(Models, TwoModelsInterleaved)
{
    mtia::Model a = load("branches"), b = load("shufflesplit");
    Request ra(a, 1), rb(b, 2), ra2(a, 1), rb2(b, 2);
    a.run(ra.hin, ra.hout);
    b.run(rb.hin, rb.hout);
    for (int i = 0; i < 5; i++) {
        b.run(rb2.hin, rb2.hout);
        a.run(ra2.hin, ra2.hout);
        EXPECT_EQ(ra.out[0], ra2.out[0]);
        EXPECT_EQ(rb.out[0], rb2.out[0]);
    }
}

TEST_F(Models, TwoProcessesAtOnce)
{
    pid_t kids[2];
    const char *names[2] = {"convbnrelu", "twoinout"};
    for (int k = 0; k < 2; k++) {
        kids[k] = fork();
        ASSERT_GE(kids[k], 0);
        if (kids[k] == 0) {
            int rc = 0;
            try {
                auto dev = mtia::Device::open_node(dev_->info().node);
                const Reference r = reference(names[k]);
                auto m = mtia::Model::load_file(dev, mtia_path(names[k]));
                std::vector<mtia::HostInput> in;
                for (const auto &a : r.in) in.push_back({a.data.data(), a.data.size() * 4});
                std::vector<std::vector<float>> out;
                std::vector<mtia::HostOutput> hout;
                for (const auto &t : m.outputs()) out.emplace_back(t.bytes / 4);
                for (auto &v : out) hout.push_back({v.data(), v.size() * 4});
                for (int i = 0; i < 20 && rc == 0; i++) {
                    m.run(in, hout);
                    for (size_t o = 0; o < out.size(); o++) {
                        if (max_abs_diff(out[o], r.out[o].data) > r.tolerance) rc = 1;
                    }
                }
            } catch (const std::exception &e) {
                std::fprintf(stderr, "child %d: %s\n", k, e.what());
                rc = 2;
            }
            _exit(rc);
        }
    }
    for (pid_t p : kids) {
        int st = 0;
        ASSERT_EQ(waitpid(p, &st, 0), p);
        EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "child status " << st;
    }
}

TEST_F(Models, CorruptFilesAreRejected)
{
    const std::string good = read_file(mtia_path("twoinout"));
    for (size_t n : {size_t{0}, size_t{7}, size_t{64}, good.size() / 2, good.size() - 9}) {
        expect_status(
            MTIA_ERROR_INVALID_MODEL, [&] { mtia::Model::load_memory(*dev_, good.data(), n); }, "invalid model: ");
    }
    std::string bad = good;
    std::memcpy(&bad[4], "XXXX", 4);
    expect_status(
        MTIA_ERROR_INVALID_MODEL, [&] { mtia::Model::load_memory(*dev_, bad.data(), bad.size()); },
        "not an mtia model: file identifier 'XXXX'");
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { mtia::Model::load_file(*dev_, "/nonexistent.mtia"); },
        "cannot read model '/nonexistent.mtia': No such file or directory");
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { mtia::Model::load_file(*dev_, "/"); }, "not a regular file");
    // Unaligned memory is fine.
    std::string shifted = "x" + good;
    mtia::Model m = mtia::Model::load_memory(*dev_, shifted.data() + 1, good.size());
    EXPECT_EQ(m.inputs().size(), 2u);
}

TEST_F(Models, ArenaLargerThanDeviceMemory)
{
    model_test::ModelSpec spec = model_test::tiny();
    spec.arena = 60ull << 30;
    auto bytes = model_test::build(spec);
    expect_status(
        MTIA_ERROR_OUT_OF_MEMORY, [&] { mtia::Model::load_memory(*dev_, bytes.data(), bytes.size()); },
        "model 'tiny' needs 64424509440 bytes of device memory for its arena, more than /dev/accel/");
    // All of device memory: the firmware holds some, so the allocation fails.
    spec.arena = dev_->info().devmem_bytes;
    bytes = model_test::build(spec);
    expect_status(
        MTIA_ERROR_OUT_OF_MEMORY, [&] { mtia::Model::load_memory(*dev_, bytes.data(), bytes.size()); },
        "bytes of device memory for its arena: BO_CREATE");
    // Two models of 60% each: the second finds no room.
    spec.arena = dev_->info().devmem_bytes / 10 * 6 / 64 * 64;
    bytes = model_test::build(spec);
    mtia::Model first = mtia::Model::load_memory(*dev_, bytes.data(), bytes.size());
    expect_status(
        MTIA_ERROR_OUT_OF_MEMORY, [&] { mtia::Model::load_memory(*dev_, bytes.data(), bytes.size()); },
        "No space left on device");
    first = mtia::Model();
    // Nothing leaked: a model still loads and runs.
    check_reference("mlp");
}

// A program the loader accepts but the device refuses (conv output shape
// does not follow from its attrs): the run fails with a clear error, and the
// device and the model's serialisation keep working.
TEST_F(Models, DeviceRejectsProgram)
{
    model_test::ModelSpec spec = model_test::tiny();
    spec.ops[0].attrs[MTIA_CONV_STRIDE_H] = 2;  // would give a 1x2x2x4 output, not 1x2x4x4
    const auto bytes = model_test::build(spec);
    mtia::Model bad = mtia::Model::load_memory(*dev_, bytes.data(), bytes.size());
    Request r(bad, 1);
    for (int i = 0; i < 2; i++) {
        expect_status(
            MTIA_ERROR_IO, [&] { bad.run(r.hin, r.hout); }, "MTIA_CQE_BAD_PROGRAM");
    }
    // Queued behind it on a stream: the bad job fails, the next model's runs are fine.
    mtia::Stream s(*dev_);
    mtia::Buffer in(*dev_, 4096, mtia::Placement::Host), out(*dev_, 4096, mtia::Placement::Host);
    bad.run_async(s, {{&in, 0}}, {{&out, 0}});
    expect_status(
        MTIA_ERROR_IO, [&] { s.synchronize(); }, "CQE status 6");
    s.synchronize();  // error reported once
    check_reference("seqlinear");
}

TEST_F(Models, ClosedDevice)
{
    mtia::Model m = load("mlp");
    Request r(m, 1);
    dev_->close();
    expect_status(
        MTIA_ERROR_INVALID_HANDLE, [&] { m.run(r.hin, r.hout); }, "closed");
}

// ---- profiling (docs/models.md "Profiling") ---------------------------------------

// A profiled run: one record per op, in program order, named, on the device
// clock inside the program's span, adding up to it within 5 %; the model
// estimates add up to the job's estimate; outputs as without profiling.
// Off again: the next run is not profiled.
TEST_F(Models, ProfileOfResnet18)
{
    mtia::Model m = load("resnet18");
    const Reference r = reference("resnet18");
    std::vector<mtia::HostInput> in{{r.in[0].data.data(), r.in[0].data.size() * 4}};
    std::vector<float> plain(m.outputs()[0].bytes / 4), prof(plain.size());
    m.run(in, {{plain.data(), plain.size() * 4}});
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { m.profile(); }, "its latest run was not profiled");
    EXPECT_FALSE(m.profiling());
    m.set_profiling(true);
    EXPECT_TRUE(m.profiling());
    m.run(in, {{prof.data(), prof.size() * 4}});
    EXPECT_EQ(prof, plain);
    const mtia::RunProfile p = m.profile();
    EXPECT_EQ(p.model, "resnet18");
    ASSERT_EQ(p.ops.size(), m.num_ops());
    const uint64_t span = p.device_end_ns - p.device_start_ns;
    uint64_t sum = 0, model = 0, t = p.device_start_ns;
    for (const auto &o : p.ops) {
        SCOPED_TRACE(o.name);
        EXPECT_FALSE(o.name.empty());
        EXPECT_FALSE(o.type.empty());
        EXPECT_LE(t, o.device_start_ns);
        EXPECT_LE(o.device_start_ns, o.device_end_ns);
        t = o.device_end_ns;
        sum += o.device_end_ns - o.device_start_ns;
        model += o.model_ns;
        EXPECT_GT(o.model_ns, 0u);
        EXPECT_GT(o.bytes, 0u);
    }
    EXPECT_LE(t, p.device_end_ns);
    EXPECT_GT(span, 0u);
    EXPECT_NEAR(double(sum), double(span), 0.05 * double(span));
    EXPECT_EQ(model, p.model_ns);
    EXPECT_EQ(p.model_ns, m.device_estimate_ns());
    EXPECT_GT(p.host_done_ns, p.host_submit_ns);  // another clock: no relation to span asserted
    std::printf("  resnet18: %zu ops, device span %.3f ms, ops %.3f ms (%.2f %%), host %.3f ms, model %.3f ms\n",
                p.ops.size(), span / 1e6, sum / 1e6, 100.0 * double(sum) / double(span),
                (p.host_done_ns - p.host_submit_ns) / 1e6, p.model_ns / 1e6);
    // The trace: valid JSON, a span per op.
    std::ostringstream os;
    mtia::write_chrome_trace(os, {p, p});
    const auto j = nlohmann::json::parse(os.str());
    size_t ops = 0;
    for (const auto &e : j["traceEvents"]) ops += e["ph"] == "X" && e["cat"] == "op";
    EXPECT_EQ(ops, 2 * 2 * p.ops.size());  // device + model, two runs
    // run_async is profiled too.
    mtia::Stream s(*dev_);
    mtia::Buffer bi(*dev_, m.inputs()[0].bytes, mtia::Placement::Host),
        bo(*dev_, m.outputs()[0].bytes, mtia::Placement::Host);
    std::memcpy(bi.map(), in[0].data, in[0].bytes);
    m.run_async(s, {{&bi, 0}}, {{&bo, 0}});
    const mtia::RunProfile pa = m.profile();
    EXPECT_EQ(pa.ops.size(), m.num_ops());
    EXPECT_GT(pa.device_start_ns, p.device_end_ns);
    EXPECT_EQ(std::memcmp(bo.map(), plain.data(), plain.size() * 4), 0);
    m.set_profiling(false);
    m.run(in, {{prof.data(), prof.size() * 4}});
    expect_status(
        MTIA_ERROR_INVALID_ARGUMENT, [&] { m.profile(); }, "its latest run was not profiled");
}

TEST_F(Models, ProfileCApi)
{
    mtia_device *d = nullptr;
    ASSERT_EQ(mtia_device_open(0, &d), MTIA_SUCCESS);
    mtia_model *m = nullptr;
    ASSERT_EQ(mtia_model_load_file(d, mtia_path("convbnrelu").c_str(), &m), MTIA_SUCCESS) << mtia_last_error();
    const std::string path = "/tmp/mtia-profile-capi.json";
    EXPECT_EQ(mtia_model_write_profile(m, path.c_str()), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("has not run yet"), std::string::npos) << mtia_last_error();
    ASSERT_EQ(mtia_model_set_profiling(m, 1), MTIA_SUCCESS);
    const Reference r = reference("convbnrelu");
    const void *in[1] = {r.in[0].data.data()};
    size_t in_bytes[1] = {r.in[0].data.size() * 4};
    std::vector<float> o(r.out[0].data.size());
    void *out[1] = {o.data()};
    size_t out_bytes[1] = {o.size() * 4};
    ASSERT_EQ(mtia_model_run(m, in, in_bytes, 1, out, out_bytes, 1), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_LE(max_abs_diff(o, r.out[0].data), r.tolerance);
    ASSERT_EQ(mtia_model_write_profile(m, path.c_str()), MTIA_SUCCESS) << mtia_last_error();
    const auto j = nlohmann::json::parse(read_file(path));
    size_t ops = 0, runs = 0;
    for (const auto &e : j["traceEvents"]) {
        if (e["ph"] != "X") continue;
        ops += e["cat"] == "op" && e["pid"] == 2;
        runs += e["cat"] == "run";
    }
    size_t n_ops = 0;
    {
        mtia::Model cpp = load("convbnrelu");
        n_ops = cpp.num_ops();
    }
    EXPECT_EQ(ops, n_ops);
    EXPECT_EQ(runs, 1u);
    std::remove(path.c_str());
    EXPECT_EQ(mtia_model_write_profile(m, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_write_profile(m, "/nonexistent/dir/p.json"), MTIA_ERROR_INVALID_ARGUMENT);
    ASSERT_EQ(mtia_model_set_profiling(m, 0), MTIA_SUCCESS);
    ASSERT_EQ(mtia_model_run(m, in, in_bytes, 1, out, out_bytes, 1), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_EQ(mtia_model_write_profile(m, path.c_str()), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_free(m), MTIA_SUCCESS);
    EXPECT_EQ(mtia_model_set_profiling(m, 1), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_device_close(d), MTIA_SUCCESS);
}

// ---- the C API ----------------------------------------------------------------

TEST_F(Models, CApi)
{
    mtia_device *d = nullptr;
    ASSERT_EQ(mtia_device_open(0, &d), MTIA_SUCCESS);
    mtia_model *m = nullptr;
    ASSERT_EQ(mtia_model_load_file(d, mtia_path("twoinout").c_str(), &m), MTIA_SUCCESS) << mtia_last_error();
    size_t ni = 0, no = 0;
    ASSERT_EQ(mtia_model_num_inputs(m, &ni), MTIA_SUCCESS);
    ASSERT_EQ(mtia_model_num_outputs(m, &no), MTIA_SUCCESS);
    EXPECT_EQ(ni, 2u);
    EXPECT_EQ(no, 2u);
    mtia_tensor_info info{};
    info.struct_size = sizeof(info);
    ASSERT_EQ(mtia_model_input_info(m, 1, &info), MTIA_SUCCESS);
    EXPECT_STREQ(info.name, "input1");
    EXPECT_EQ(info.dtype, static_cast<uint32_t>(MTIA_DTYPE_FLOAT32));
    EXPECT_EQ(info.ndim, 4u);
    EXPECT_EQ(info.dims[1], 3u);
    EXPECT_EQ(info.bytes, 768u);
    EXPECT_EQ(mtia_model_output_info(m, 2, &info), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("output index 2 out of range (model has 2)"), std::string::npos);

    const Reference r = reference("twoinout");
    const void *in[2] = {r.in[0].data.data(), r.in[1].data.data()};
    size_t in_bytes[2] = {768, 768};
    std::vector<float> o0(192), o1(192);
    void *out[2] = {o0.data(), o1.data()};
    size_t out_bytes[2] = {768, 768};
    ASSERT_EQ(mtia_model_run(m, in, in_bytes, 2, out, out_bytes, 2), MTIA_SUCCESS) << mtia_last_error();
    EXPECT_LE(max_abs_diff(o0, r.out[0].data), r.tolerance);
    EXPECT_LE(max_abs_diff(o1, r.out[1].data), r.tolerance);
    EXPECT_EQ(mtia_model_run(m, in, in_bytes, 1, out, out_bytes, 2), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("model takes 2 input(s), got 1"), std::string::npos);
    in_bytes[0] = 4;
    EXPECT_EQ(mtia_model_run(m, in, in_bytes, 2, out, out_bytes, 2), MTIA_ERROR_INVALID_ARGUMENT);

    // run_async with buffers and events.
    mtia_stream *s = nullptr;
    mtia_event *e0 = nullptr, *e1 = nullptr;
    mtia_buffer *bufs[4] = {};
    ASSERT_EQ(mtia_stream_create(d, MTIA_PRIORITY_NORMAL, &s), MTIA_SUCCESS);
    ASSERT_EQ(mtia_event_create(d, &e0), MTIA_SUCCESS);
    ASSERT_EQ(mtia_event_create(d, &e1), MTIA_SUCCESS);
    for (auto &b : bufs) ASSERT_EQ(mtia_buffer_create(d, 768, MTIA_PLACEMENT_HOST, &b), MTIA_SUCCESS);
    for (int i = 0; i < 2; i++) {
        void *p = nullptr;
        ASSERT_EQ(mtia_buffer_map(bufs[i], &p), MTIA_SUCCESS);
        std::memcpy(p, in[i], 768);
    }
    size_t offs[2] = {0, 0};
    ASSERT_EQ(mtia_stream_record(s, e0), MTIA_SUCCESS);
    ASSERT_EQ(mtia_model_run_async(m, s, bufs, offs, 2, bufs + 2, offs, 2), MTIA_SUCCESS) << mtia_last_error();
    ASSERT_EQ(mtia_stream_record(s, e1), MTIA_SUCCESS);
    ASSERT_EQ(mtia_event_wait(e1, -1), MTIA_SUCCESS);
    double ms = 0;
    ASSERT_EQ(mtia_event_elapsed_ms(e0, e1, &ms), MTIA_SUCCESS);
    EXPECT_GT(ms, 0.0);
    uint64_t est = 0;
    ASSERT_EQ(mtia_model_device_estimate_ns(m, &est), MTIA_SUCCESS);
    EXPECT_GT(est, 0u);
    EXPECT_EQ(mtia_event_device_estimate_ns(e1, &est), MTIA_SUCCESS);
    EXPECT_EQ(est, 0u) << "e1's job ran no compute";
    EXPECT_EQ(mtia_model_device_estimate_ns(m, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    void *p = nullptr;
    ASSERT_EQ(mtia_buffer_map(bufs[3], &p), MTIA_SUCCESS);
    EXPECT_EQ(std::memcmp(p, o1.data(), 768), 0);
    EXPECT_EQ(mtia_model_run_async(m, s, bufs, offs, 1, bufs + 2, offs, 2), MTIA_ERROR_INVALID_ARGUMENT);

    // Corrupt data; freed handles.
    mtia_model *m2 = nullptr;
    EXPECT_EQ(mtia_model_load_memory(d, "MTIMMTIMMTIM", 12, &m2), MTIA_ERROR_INVALID_MODEL);
    EXPECT_NE(std::string(mtia_last_error()).find("invalid model: "), std::string::npos) << mtia_last_error();
    EXPECT_EQ(m2, nullptr);
    EXPECT_EQ(mtia_model_free(m), MTIA_SUCCESS);
    EXPECT_EQ(mtia_model_num_inputs(m, &ni), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_model_free(m), MTIA_ERROR_INVALID_HANDLE);
    for (auto &b : bufs) mtia_buffer_free(b);
    mtia_event_destroy(e0);
    mtia_event_destroy(e1);
    mtia_stream_destroy(s);
    EXPECT_EQ(mtia_device_close(d), MTIA_SUCCESS);
}

}  // namespace
