// SPDX-License-Identifier: MIT
// mtia-run MODEL.mtia: one inference (inputs and outputs as .npy files), or
// --bench N: after --warmup untimed runs, latency percentiles of N synchronous runs (host clock, submit to
// outputs in host memory), throughput (run_batch of --batch-requests
// requests, or the synchronous runs when 1), and N run_async() inferences
// queued back to back on one stream, timed by device events. SIGINT or
// SIGTERM during the timed runs ends them early: the figures are of the
// runs done (as ping does), so a caller can run a benchmark until it has
// seen what it waits for and still get a summary and exit status 0.
// --profile FILE: the runs (the one run, or the benchmark's timed run()s, at
// most kMaxProfiledRuns of them) are profiled and written as Chrome
// trace-event JSON (docs/models.md "Profiling").
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <signal.h>

#include "bench.h"
#include "npy.h"
#include "npy_convert.h"
#include "precision_line.h"

namespace mtia::run {

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

volatile sig_atomic_t g_stop = 0;

// Installs the stop handler for the benchmark's lifetime (without
// SA_RESTART: libdrm's drmIoctl restarts an interrupted WAIT itself).
class StopOnSignal {
public:
    StopOnSignal()
    {
        struct sigaction sa {};
        sa.sa_handler = [](int) { g_stop = 1; };
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int_);
        sigaction(SIGTERM, &sa, &old_term_);
    }
    ~StopOnSignal()
    {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
    }
    StopOnSignal(const StopOnSignal &) = delete;
    StopOnSignal &operator=(const StopOnSignal &) = delete;

private:
    struct sigaction old_int_ {
    }, old_term_{};
};

std::vector<uint64_t> shape64(const std::vector<uint32_t> &s) { return {s.begin(), s.end()}; }

// The shape input/output t has at batch n (its dim 0 if it is batched).
std::vector<uint64_t> shape_at(const mtia::TensorInfo &t, size_t n)
{
    std::vector<uint64_t> s = shape64(t.shape);
    if (t.batch_axis == 0 && n) s[0] = n;
    return s;
}

// Reads the --input files (random inputs for a benchmark without them).
// *batch: the batch of a bucketed model's request (0 without buckets); its
// batched inputs may have any dim 0 up to the largest bucket (libmtia
// checks the rest: one batch for all, the limit).
std::vector<std::vector<uint8_t>> load_inputs(const mtia::Model &model, const ModelRunOptions &o, size_t *batch)
{
    *batch = model.batch_buckets().empty() ? 0 : model.batch_buckets().back();
    const auto &ins = model.inputs();
    std::vector<std::vector<uint8_t>> data;
    if (o.inputs.empty()) {
        if (!o.bench && !ins.empty()) {
            std::string want;
            for (const auto &t : ins) want += " '" + t.name + "' " + shape_str(shape64(t.shape));
            throw NpyError("the model takes " + std::to_string(ins.size()) +
                           " input(s), give --input FILE.npy for each:" + want);
        }
        std::mt19937 rng(1);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        for (const auto &t : ins) {
            // Integer inputs (ids, offsets) are zeros: valid for any table.
            // Quantized ones are random reals quantized with their parameters.
            std::vector<uint8_t> v(t.bytes, 0);
            const bool real = t.dtype == mtia::DType::F32 || t.dtype == mtia::DType::F16 ||
                              t.dtype == mtia::DType::BF16 || mtia::is_quantized(t.dtype);
            if (real) {
                std::vector<float> f(t.bytes / mtia::dtype_size(t.dtype));
                for (auto &x : f) x = u(rng);
                v = from_f32(f.data(), f.size(), t);
            }
            data.push_back(std::move(v));
        }
        return data;
    }
    if (o.inputs.size() != ins.size()) {
        throw NpyError("the model takes " + std::to_string(ins.size()) + " input(s), " +
                       std::to_string(o.inputs.size()) + " --input given");
    }
    for (size_t i = 0; i < ins.size(); i++) {
        NpyArray a = read_npy(o.inputs[i]);
        // A scalar (0-d array) is one element: the model keeps ONNX's rank-0
        // inputs as shape (1) (the device's tensors have 1..6 dims).
        if (a.shape.empty() && shape64(ins[i].shape) == std::vector<uint64_t>{1}) a.shape = {1};
        const bool batched = ins[i].batch_axis == 0 && !a.shape.empty() && a.shape[0] >= 1;
        if (batched) *batch = a.shape[0];
        if (a.shape != shape_at(ins[i], batched ? a.shape[0] : 0)) {
            throw NpyError(o.inputs[i] + ": shape " + shape_str(a.shape) + ", but model input " + std::to_string(i) +
                           " '" + ins[i].name + "' is " + shape_str(shape64(ins[i].shape)) +
                           (ins[i].batch_axis == 0 ? " (dim 0: any batch up to the largest bucket)" : ""));
        }
        data.push_back(input_bytes(a, ins[i], o.convert, o.inputs[i],
                                   "model input " + std::to_string(i) + " '" + ins[i].name + "'"));
    }
    return data;
}

size_t elems_of(const mtia::TensorInfo &t)
{
    size_t e = 1;
    for (uint32_t d : t.shape) e *= d;
    return e;
}

struct Outputs {
    std::vector<std::vector<uint8_t>> data;
    std::vector<mtia::HostOutput> host;
    size_t batch = 0;  // of a bucketed model's request
    Outputs(const mtia::Model &m, size_t n) : batch(n)
    {
        for (const auto &t : m.outputs()) {
            size_t elems = 1;
            for (uint64_t d : shape_at(t, n)) elems *= d;
            data.emplace_back(elems * (t.bytes / elems_of(t)));  // elements * element size
        }
        for (auto &d : data) host.push_back({d.data(), d.size()});
    }
};

std::string bytes_str(uint64_t b)
{
    char s[32];
    if (b >= (1u << 20))
        std::snprintf(s, sizeof(s), "%.1f MiB", b / 1048576.0);
    else if (b >= (1u << 10))
        std::snprintf(s, sizeof(s), "%.1f KiB", b / 1024.0);
    else
        std::snprintf(s, sizeof(s), "%llu B", static_cast<unsigned long long>(b));
    return s;
}

void print_model(const mtia::Model &m, const mtia::Device &dev)
{
    std::printf("model '%s' (%s) on %s: %zu ops, arena %s (weights %s), %.4g GFLOP\n", m.name().c_str(),
                m.producer().c_str(), dev.info().node.c_str(), m.num_ops(), bytes_str(m.arena_bytes()).c_str(),
                bytes_str(m.weight_bytes()).c_str(), m.flops() / 1e9);
    for (size_t i = 0; i < m.inputs().size(); i++) {
        const auto &t = m.inputs()[i];
        std::printf("  input %zu '%s' %s %s%s\n", i, t.name.c_str(), shape_str(shape64(t.shape)).c_str(),
                    model_numpy_name(t.dtype), quant_str(t).c_str());
    }
    if (!m.batch_buckets().empty()) {
        std::string b;
        for (uint32_t x : m.batch_buckets()) b += (b.empty() ? "" : ",") + std::to_string(x);
        std::printf("  batch buckets %s (dim 0 of the batched inputs: any batch up to %u)\n", b.c_str(),
                    m.batch_buckets().back());
    }
}

// "bucket 4 for a batch of 3" after a run of a bucketed model.
void print_bucket(const mtia::Model &m, size_t batch)
{
    if (!m.batch_buckets().empty()) std::printf("  ran bucket %u for a batch of %zu\n", m.last_batch(), batch);
}

// Prints a summary of each output (unless --json; a quantized one's real
// values) and writes the --output files (a quantized one's raw int8/uint8).
void report_outputs(const mtia::Model &m, const Outputs &out, const ModelRunOptions &o)
{
    for (size_t i = 0; i < out.data.size(); i++) {
        const auto &t = m.outputs()[i];
        const std::vector<uint8_t> v = output_bytes(out.data[i], t.dtype);  // BF16 widened to float32
        double lo = INFINITY, hi = -INFINITY;
        double sum = 0;
        const std::vector<double> x = output_values(v, t);
        for (double e : x) lo = std::min(lo, e), hi = std::max(hi, e), sum += e;
        if (!o.json) {
            const std::string q = mtia::is_quantized(t.dtype)
                                      ? " (" + std::string(model_numpy_name(t.dtype)) + quant_str(t) + ", dequantized)"
                                      : "";
            std::printf("  output %zu '%s' %s%s: min %g max %g mean %g%s%s\n", i, t.name.c_str(),
                        shape_str(shape_at(t, out.batch)).c_str(), q.c_str(), lo, hi,
                        x.empty() ? 0.0 : sum / double(x.size()), o.outputs.empty() ? "" : " -> ",
                        o.outputs.empty() ? "" : o.outputs[i].c_str());
        }
        if (!o.outputs.empty()) write_npy(o.outputs[i], shape_at(t, out.batch), v.data(), npy_type(t.dtype));
    }
}

// Writes the profiled runs to o.profile and says so (unless --json).
void write_profile(const std::vector<mtia::RunProfile> &runs, const ModelRunOptions &o)
{
    if (o.profile.empty() || runs.empty()) return;
    mtia::write_chrome_trace(o.profile, runs);
    if (o.json) return;
    const mtia::RunProfile &p = runs.back();
    uint64_t ops = 0;
    for (const auto &op : p.ops) ops += op.device_end_ns - op.device_start_ns;
    std::printf(
        "  profile: %zu run(s) -> %s; last run: %zu ops, device %.3f ms (ops %.3f ms), host %.3f ms, "
        "MTIA v1 model %.3f ms\n",
        runs.size(), o.profile.c_str(), p.ops.size(), (p.device_end_ns - p.device_start_ns) / 1e6, ops / 1e6,
        (p.host_done_ns - p.host_submit_ns) / 1e6, p.model_ns / 1e6);
    if (p.throttle_ns)
        std::printf("  of its device time %.3f ms held for an engine clock lowered for power or heat\n",
                    p.throttle_ns / 1e6);
}

int bench(mtia::Device &dev, mtia::Model &m, const std::vector<mtia::HostInput> &in, Outputs &out,
          const ModelRunOptions &o)
{
    const int b = o.batch_requests;
    StopOnSignal stop_on_signal;
    for (int i = 0; i < o.warmup && !g_stop; i++) m.run(in, out.host);

    std::vector<double> lat;
    std::vector<mtia::RunProfile> prof;
    m.set_profiling(!o.profile.empty());
    auto t0 = Clock::now();
    for (int i = 0; i < o.bench && (i == 0 || !g_stop); i++) {
        auto t = Clock::now();
        m.run(in, out.host);
        lat.push_back(ms_since(t));
        if (m.profiling() && prof.size() < static_cast<size_t>(kMaxProfiledRuns)) prof.push_back(m.profile());
    }
    double total_ms = ms_since(t0);
    m.set_profiling(false);
    // Interrupted: the rest measures as many inferences as were timed.
    const int n = static_cast<int>(lat.size());
    if (n < o.bench && !o.json) std::printf("  interrupted after %d of %d inferences\n", n, o.bench);
    double ips = n / (total_ms / 1e3);

    if (b > 1) {
        std::vector<Outputs> bo;
        for (int r = 0; r < b; r++) bo.emplace_back(m, out.batch);
        std::vector<std::vector<mtia::HostInput>> bin(b, in);
        std::vector<std::vector<mtia::HostOutput>> bout;
        for (auto &x : bo) bout.push_back(x.host);
        int done = 0;
        t0 = Clock::now();
        while (done < n) {
            const int k = std::min(b, n - done);
            bin.resize(k);
            bout.resize(k);
            m.run_batch(bin, bout);
            done += k;
        }
        ips = n / (ms_since(t0) / 1e3);
    }

    // run_async: inputs and outputs in host buffers, N inferences queued on
    // one stream between two events.
    mtia::Stream s(dev);
    std::vector<mtia::Buffer> ib, ob;
    std::vector<mtia::BufferTensor> it, ot;
    for (const auto &x : in) {
        ib.emplace_back(dev, x.bytes, mtia::Placement::Host);
        std::memcpy(ib.back().map(), x.data, x.bytes);
    }
    for (const auto &d : out.data) ob.emplace_back(dev, d.size(), mtia::Placement::Host);
    for (auto &x : ib) it.push_back({&x, 0});
    for (auto &x : ob) ot.push_back({&x, 0});
    // run_async takes a bucket's exact sizes: a batch between buckets has none.
    const auto &bk = m.batch_buckets();
    const bool async = bk.empty() || std::find(bk.begin(), bk.end(), out.batch) != bk.end();
    const uint32_t bucket = m.last_batch();
    mtia::Event e0(dev), e1(dev);
    t0 = Clock::now();
    s.record(e0);
    for (int i = 0; async && i < n; i++) m.run_async(s, it, ot);
    s.record(e1);
    s.synchronize();
    const double async_ms = ms_since(t0);
    const double dev_ms = async ? mtia::Event::elapsed_ms(e0, e1) / n : 0.0;
    const double est_ms = static_cast<double>(m.device_estimate_ns()) / 1e6;

    std::sort(lat.begin(), lat.end());
    const double p50 = percentile(lat, 50), p90 = percentile(lat, 90), p99 = percentile(lat, 99);
    if (o.json) {
        nlohmann::json j;
        j["model"] = m.name();
        j["device"] = dev.info().node;
        j["inferences"] = n;
        j["interrupted"] = n < o.bench;
        j["batch_requests"] = b;
        j["latency_ms"] = {{"p50", p50}, {"p90", p90}, {"p99", p99}};
        j["throughput_ips"] = ips;
        j["async_throughput_ips"] = n / (async_ms / 1e3);
        j["device_ms_per_inference"] = dev_ms;
        j["device_estimate_ms"] = est_ms;
        j["profiled"] = !o.profile.empty();
        j["precision"] = precision(m.compute_dtypes());
        j["input_dtypes"] = io_dtypes(m.inputs());
        j["output_dtypes"] = io_dtypes(m.outputs());
        if (!bk.empty()) j["bucket"] = bucket, j["batch"] = out.batch;
        std::cout << j.dump(2) << "\n";
    } else {
        std::printf("  precision: %s\n", precision_line(m.compute_dtypes(), m.inputs(), m.outputs()).c_str());
        std::printf("  %d inferences: latency p50 %.3f ms  p90 %.3f ms  p99 %.3f ms (host clock, run())\n", n, p50, p90,
                    p99);
        std::printf("  throughput: %.2f inferences/s (%s)\n", ips,
                    b > 1 ? ("run_batch of " + std::to_string(b) + " requests").c_str() : "run() back to back");
        if (!bk.empty()) std::printf("  bucket %u ran for a batch of %zu\n", bucket, out.batch);
        if (async) {
            std::printf(
                "  run_async x %d on one stream: %.2f inferences/s; device time %.3f ms per inference "
                "(events)\n",
                n, n / (async_ms / 1e3), dev_ms);
        } else {
            std::printf("  run_async: skipped (batch %zu is no bucket's size: it takes a bucket's buffers)\n",
                        out.batch);
        }
        std::printf("  device estimate (timing model): %.3f ms per inference\n", est_ms);
    }
    write_profile(prof, o);
    return 0;
}

}  // namespace

int run_model(const ModelRunOptions &o)
{
    try {
        auto dev = o.device.open();
        auto m = mtia::Model::load_file(dev, o.model);
        if (!o.outputs.empty() && o.outputs.size() != m.outputs().size()) {
            throw NpyError("the model has " + std::to_string(m.outputs().size()) + " output(s), " +
                           std::to_string(o.outputs.size()) + " --output given");
        }
        size_t batch = 0;
        const auto data = load_inputs(m, o, &batch);
        std::vector<mtia::HostInput> in;
        for (const auto &d : data) in.push_back({d.data(), d.size()});
        Outputs out(m, batch);
        if (!o.json) print_model(m, dev);
        if (o.bench) {
            bench(dev, m, in, out, o);
        } else {
            m.set_profiling(!o.profile.empty());
            m.run(in, out.host);
            if (!o.json) print_bucket(m, batch);
            if (m.profiling()) write_profile({m.profile()}, o);
        }
        report_outputs(m, out, o);
        return 0;
    } catch (const NpyError &e) {
        std::cerr << "mtia-run: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace mtia::run
