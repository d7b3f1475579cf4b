// SPDX-License-Identifier: MIT
// Compute engine benchmarks (docs/compute.md, "Speed"): ResNet-18
// (torchvision's layer shapes, batch norm folded into the convolutions'
// bias) as one program of struct mtia_op, run through mtia_compute_run on
// the host, and single layers of it. Threads: OMP_NUM_THREADS (compare with
// PyTorch at torch.set_num_threads of the same number). Also make bench's
// DLRM embedding bags (BM_EmbeddingBag), int8 against F32 (BM_ConvInt8,
// BM_GemmInt8) and Winograd against the direct convolution
// (BM_ConvWinograd). Not a test.
//   build/bin/compute_bench [--benchmark_filter=Resnet18]
#include <benchmark/benchmark.h>

#include <chrono>
#include <random>
#include <set>
#include <vector>

#include "../unit/compute_ref.h"
#include "mtia/mtia_fp16.h"
#include "mtia_compute.h"

namespace {

using cref::Dims;

// Builds a program over a growing arena.
class Builder {
public:
    explicit Builder(uint32_t seed) : rng_(seed) {}
    mtia_tensor_desc tensor(const Dims &d, bool random = false)
    {
        auto t = arena_.alloc(d);
        if (random) arena_.fill_random(t, rng_, -0.1f, 0.1f);
        return t;
    }
    // conv (+ folded BN bias) with optional relu.
    mtia_tensor_desc conv(const mtia_tensor_desc &x, uint32_t m, uint32_t k, uint32_t s, uint32_t p, bool relu)
    {
        const uint32_t h = (x.dims[2] + 2 * p - k) / s + 1, w = (x.dims[3] + 2 * p - k) / s + 1;
        auto wt = tensor({m, x.dims[1], k, k}, true), b = tensor({m}, true);
        auto y = tensor({x.dims[0], m, h, w});
        prog.push_back(
            cref::op(MTIA_OP_CONV, {x, wt, b}, y, {s, s, p, p, p, p, 1, 1, 1}, relu ? MTIA_ACT_RELU : MTIA_ACT_NONE));
        return y;
    }
    // torchvision BasicBlock: relu(conv(relu(conv(x))) + shortcut(x)).
    mtia_tensor_desc block(const mtia_tensor_desc &x, uint32_t m, uint32_t s)
    {
        auto a = conv(x, m, 3, s, 1, true);
        auto b = conv(a, m, 3, 1, 1, false);
        auto sc = (s != 1 || x.dims[1] != m) ? conv(x, m, 1, s, 0, false) : x;
        prog.push_back(cref::op(MTIA_OP_BINARY, {b, sc}, b, {MTIA_BINARY_ADD}, MTIA_ACT_RELU));
        return b;
    }
    std::vector<mtia_op> prog;
    cref::Arena arena_;

private:
    std::mt19937 rng_;
};

// ResNet-18 for a batch of @n 224x224 images.
Builder resnet18(uint32_t n)
{
    Builder b(1);
    auto x = b.tensor({n, 3, 224, 224}, true);
    auto c1 = b.conv(x, 64, 7, 2, 3, true);
    auto p = b.tensor({n, 64, 56, 56});
    b.prog.push_back(cref::op(MTIA_OP_POOL, {c1}, p, {MTIA_POOL_MAX, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, 1}));
    auto y = p;
    for (uint32_t m : {64u, 128u, 256u, 512u}) {
        y = b.block(y, m, m == 64 ? 1 : 2);
        y = b.block(y, m, 1);
    }
    auto g = b.tensor({n, 512, 1, 1});
    b.prog.push_back(cref::op(MTIA_OP_POOL, {y}, g, {MTIA_POOL_AVG, 7, 7, 7, 7, 0, 0, 0, 0, 0, 1, 1}));
    auto fw = b.tensor({1000, 512}, true), fb = b.tensor({1, 1000}, true);
    auto out = b.tensor({n, 1000});
    b.prog.push_back(
        cref::op(MTIA_OP_GEMM, {cref::tensor(g.offset, {n, 512}), fw, fb}, out, {0, 1, cref::bits(1), cref::bits(1)}));
    return b;
}

void run(benchmark::State &state, Builder &b)
{
    uint64_t ns = 0;
    for (auto _ : state) {
        const uint16_t st = mtia_compute_run(b.prog.data(), uint32_t(b.prog.size()), b.arena_.data(), b.arena_.size(),
                                             nullptr, nullptr, &ns);
        if (st != MTIA_CQE_OK) state.SkipWithError("program failed");
    }
    double flops = 0;
    for (const auto &o : b.prog)
        if (o.opcode == MTIA_OP_CONV)
            flops += 2.0 * cref::count(cref::dims(o.out)) * o.in[1].dims[1] * o.in[1].dims[2] * o.in[1].dims[3];
    state.counters["GFLOPS"] =
        benchmark::Counter(flops * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
    state.counters["model_us"] = double(ns) / 1e3;  // timing model's device time
}

void BM_Resnet18(benchmark::State &state)
{
    const uint32_t n = uint32_t(state.range(0));
    Builder b = resnet18(n);
    run(state, b);
    state.counters["img/s"] = benchmark::Counter(double(n) * double(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Resnet18)->Arg(1)->Arg(8)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// ResNet-18 in BF16 (arg 1) or F16 (arg 2), batch 1: every tensor converted
// in place (a 16-bit tensor fits its F32 storage), so each op runs widened
// (mtia_compute_widen.cc). Against BM_Resnet18/1.
void BM_Resnet18Half(benchmark::State &state)
{
    const uint8_t dt = state.range(0) == 1 ? MTIA_DTYPE_BF16 : MTIA_DTYPE_F16;
    Builder b = resnet18(1);
    std::set<uint64_t> done;
    auto halve = [&](mtia_tensor_desc &t) {
        if (t.dtype != MTIA_DTYPE_F32 && t.dtype != dt) return;
        if (done.insert(t.offset).second) {
            float *f = b.arena_.at(t);
            uint8_t *h = b.arena_.data() + t.offset;
            for (uint64_t i = 0; i < cref::count(cref::dims(t)); i++) {
                const uint16_t v = dt == MTIA_DTYPE_BF16 ? mtia_f32_to_bf16(f[i]) : mtia_f32_to_f16(f[i]);
                std::memcpy(h + i * 2, &v, 2);  // behind the reads: i * 2 <= i * 4
            }
        }
        t.dtype = dt;
    };
    for (auto &o : b.prog) {
        for (unsigned k = 0; k < o.n_in; k++) halve(o.in[k]);
        halve(o.out);
    }
    run(state, b);
}
BENCHMARK(BM_Resnet18Half)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// ResNet-18 batch 1 with the per-op profile (MTIA_CMD_F_PROFILE's work:
// two clock reads and a record per op), against BM_Resnet18/1.
void BM_Resnet18Profiled(benchmark::State &state)
{
    Builder b = resnet18(1);
    const uint32_t n = uint32_t(b.prog.size());
    mtia_profile_header h{};
    std::vector<mtia_op_profile> ops(n);
    const mtia_compute_profile prof{[](void *) {
                                        return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                            std::chrono::steady_clock::now().time_since_epoch())
                                                            .count());
                                    },
                                    nullptr, &h, ops.data()};
    uint64_t ns = 0;
    for (auto _ : state) {
        if (mtia_compute_run_profiled(nullptr, b.prog.data(), n, b.arena_.data(), b.arena_.size(), nullptr, nullptr,
                                      &prof, &ns) != MTIA_CQE_OK)
            state.SkipWithError("program failed");
    }
    uint64_t sum = 0;
    for (const auto &o : ops) sum += o.end_ns - o.start_ns;
    state.counters["ops_us"] = double(sum) / 1e3;
    state.counters["span_us"] = double(h.end_ns - h.start_ns) / 1e3;
}
BENCHMARK(BM_Resnet18Profiled)->Unit(benchmark::kMillisecond)->MeasureProcessCPUTime();

// One conv layer: batch, channels, spatial size, kernel, stride.
void BM_Conv(benchmark::State &state)
{
    const uint32_t n = uint32_t(state.range(0)), c = uint32_t(state.range(1));
    const uint32_t hw = uint32_t(state.range(2)), k = uint32_t(state.range(3));
    const uint32_t s = uint32_t(state.range(4));
    Builder b(2);
    auto x = b.tensor({n, c, hw, hw}, true);
    b.conv(x, s == 2 && c < 64 ? 64 : c * s, k, s, k / 2, true);
    run(state, b);
}
BENCHMARK(BM_Conv)
    ->Args({1, 3, 224, 7, 2})
    ->Args({1, 64, 56, 3, 1})
    ->Args({1, 128, 28, 3, 1})
    ->Args({1, 256, 14, 3, 1})
    ->Args({1, 512, 7, 3, 1})
    ->Args({8, 64, 56, 3, 1})
    ->Args({4, 512, 7, 3, 1})
    ->Args({8, 512, 7, 3, 1})
    ->Args({2, 256, 14, 3, 1})
    ->Unit(benchmark::kMillisecond)
    ->MeasureProcessCPUTime();

// Winograd against the direct convolution (docs/compute.md, "Winograd"):
// one 3x3 stride-1 layer (batch, channels in, channels out, spatial size)
// with bias and RELU on channels-last tensors, as mtia-compile stores
// them; last arg 0 = direct, 1 = Winograd (MTIA_CONV_WINOGRAD, read when a
// kernel is built). Wall time: compare at OMP_NUM_THREADS=2.
void BM_ConvWinograd(benchmark::State &state)
{
    const uint32_t n = uint32_t(state.range(0)), c = uint32_t(state.range(1)), m = uint32_t(state.range(2));
    const uint32_t hw = uint32_t(state.range(3));
    setenv("MTIA_CONV_WINOGRAD", state.range(4) ? "1" : "0", 1);
    mtia_compute_drop_kernels();
    Builder b(4);
    auto x = b.tensor({n, hw, hw, c}, true), w = b.tensor({m, c, 3, 3}, true), bias = b.tensor({m}, true);
    auto y = b.tensor({n, hw, hw, m});  // channels-last dims: (N, H, W, C)
    b.prog.push_back(cref::op(MTIA_OP_CONV, {x, w, bias}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1}, MTIA_ACT_RELU));
    b.prog.back().flags = MTIA_OP_F_NHWC;
    run(state, b);
    unsetenv("MTIA_CONV_WINOGRAD");
    mtia_compute_drop_kernels();
}
BENCHMARK(BM_ConvWinograd)
    ->ArgsProduct({{1, 8}, {16}, {16}, {112}, {0, 1}})
    ->ArgsProduct({{1, 8}, {24}, {24}, {56}, {0, 1}})
    ->ArgsProduct({{1, 8}, {32}, {32}, {56}, {0, 1}})
    ->ArgsProduct({{1, 8}, {64}, {64}, {56}, {0, 1}})
    ->ArgsProduct({{1, 8}, {128}, {128}, {28}, {0, 1}})
    ->ArgsProduct({{1, 8}, {256}, {256}, {14}, {0, 1}})
    ->ArgsProduct({{1, 8}, {512}, {512}, {7}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// Int8 against F32 (docs/compute.md, "Quantized tensors"): one conv layer
// (batch, channels, spatial size, kernel; stride 1, same pads) with bias and
// RELU, last arg 0 = F32 (oneDNN), 1 = the per-channel int8 path (U8 in, I8
// weights, I8 out: mtia_compute_qconv.cc). Wall time (UseRealTime): compare
// at OMP_NUM_THREADS=1 and 2.
void BM_ConvInt8(benchmark::State &state)
{
    const uint32_t n = uint32_t(state.range(0)), c = uint32_t(state.range(1));
    const uint32_t hw = uint32_t(state.range(2)), k = uint32_t(state.range(3));
    const bool int8 = state.range(4);
    Builder b(3);
    auto x = b.tensor({n, c, hw, hw}, true);
    auto y = b.conv(x, c, k, 1, k / 2, true);
    if (int8) {
        mtia_op &o = b.prog.back();
        std::mt19937 rng(4);
        auto quant = [&](mtia_tensor_desc &t, uint8_t dt, float scale, int zp) {
            t.dtype = dt;
            t.scale = cref::bits(scale);
            t.zero_point = int16_t(zp);
            uint8_t *p = b.arena_.data() + t.offset;
            for (uint64_t i = 0; i < cref::count(cref::dims(t)); i++) p[i] = uint8_t(rng());
        };
        quant(o.in[0], MTIA_DTYPE_U8, 0.02f, 128);
        quant(o.in[1], MTIA_DTYPE_I8, 0, 0);
        o.in[2] = b.tensor({2, c}, true);
        quant(o.out, MTIA_DTYPE_I8, 0.05f, 0);
    }
    (void)y;
    run(state, b);
}
BENCHMARK(BM_ConvInt8)
    ->Args({1, 64, 56, 3, 0})
    ->Args({1, 64, 56, 3, 1})
    ->Args({1, 128, 28, 3, 0})
    ->Args({1, 128, 28, 3, 1})
    ->Args({1, 256, 14, 3, 0})
    ->Args({1, 256, 14, 3, 1})
    ->Args({1, 512, 7, 3, 0})
    ->Args({1, 512, 7, 3, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// A GEMM (rows, K, N; B given as (N, K), TRANS_B) in F32 (last arg 0) or
// the per-channel int8 path (1: I8 A, I8 B, F32 out).
void BM_GemmInt8(benchmark::State &state)
{
    const uint32_t m = uint32_t(state.range(0)), k = uint32_t(state.range(1)), n = uint32_t(state.range(2));
    const bool int8 = state.range(3);
    Builder b(5);
    auto a = b.tensor({m, k}, true), w = b.tensor({n, k}, true), y = b.tensor({m, n});
    auto c = int8 ? b.tensor({2, n}, true) : b.tensor({1, n}, true);
    mtia_op o = cref::op(MTIA_OP_GEMM, {a, w, c}, y, {0, 1, cref::bits(1), int8 ? 0 : cref::bits(1)});
    if (int8) {
        std::mt19937 rng(6);
        for (mtia_tensor_desc *t : {&o.in[0], &o.in[1]}) {
            t->dtype = MTIA_DTYPE_I8;
            uint8_t *p = b.arena_.data() + t->offset;
            for (uint64_t i = 0; i < cref::count(cref::dims(*t)); i++) p[i] = uint8_t(rng());
        }
        o.in[0].scale = cref::bits(0.02f);
    }
    b.prog.push_back(o);
    run(state, b);
    state.counters["GOPS"] =
        benchmark::Counter(2.0 * m * k * n * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GemmInt8)
    ->Args({256, 1024, 1024, 0})
    ->Args({256, 1024, 1024, 1})
    ->Args({8, 512, 1000, 0})
    ->Args({8, 512, 1000, 1})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The embedding bags of make bench's DLRM: T tables of R rows x D, batch B,
// bags of L random int64 ids; one op per table (as mtia-compile emits
// per-table nn.Embedding + sum) or, with the 6th arg 1, all T tables in
// one table-batched op; the 7th, the tables' dtype: F32 (1) or 8-bit
// rowwise U8 (8; rows of D values, then a scale and a bias).
void BM_EmbeddingBag(benchmark::State &state)
{
    const uint32_t t_n = uint32_t(state.range(0)), rows = uint32_t(state.range(1)), d = uint32_t(state.range(2));
    const uint32_t b_n = uint32_t(state.range(3)), l = uint32_t(state.range(4));
    const bool batched = state.range(5) != 0;
    const auto dt = uint8_t(state.range(6));
    const uint32_t cols = dt == MTIA_DTYPE_U8 ? d + MTIA_ROWWISE_PARAM_BYTES : d;
    const uint64_t row_bytes = uint64_t{cols} * mtia_dtype_size(dt);
    Builder b(3);
    std::mt19937_64 rng(4);
    auto table = dt == MTIA_DTYPE_U8 ? b.arena_.alloc({t_n * rows, cols}, dt) : b.tensor({t_n * rows, d}, true);
    if (dt == MTIA_DTYPE_U8) {
        uint8_t *p = b.arena_.data() + table.offset;
        for (uint64_t r = 0; r < uint64_t{t_n} * rows; r++, p += row_bytes) {
            for (uint32_t c = 0; c < d; c++) p[c] = uint8_t(rng());
            const float sb[2] = {1.0f / 1024, -0.125f};
            std::memcpy(p + d, sb, sizeof sb);
        }
    }
    auto ids = b.arena_.alloc({t_n, b_n, l}, MTIA_DTYPE_I64);
    auto *ip = reinterpret_cast<int64_t *>(b.arena_.at(ids));
    for (uint64_t i = 0; i < uint64_t{t_n} * b_n * l; i++) ip[i] = int64_t(rng() % rows);
    auto out = b.tensor({b_n, t_n * d});
    if (batched) {
        std::vector<uint32_t> attrs{MTIA_EMBEDDING_BAG_SUM, t_n, l, 0};
        for (uint32_t t = 0; t < t_n; t++) attrs.push_back(rows);
        b.prog.push_back(cref::op(MTIA_OP_EMBEDDING_BAG, {table, ids}, out, attrs));
    } else {
        for (uint32_t t = 0; t < t_n; t++) {
            auto tab = cref::tensor(table.offset + uint64_t{t} * rows * row_bytes, {rows, cols});
            tab.dtype = dt;
            auto id = cref::tensor(ids.offset + uint64_t{t} * b_n * l * 8, {1, b_n, l});
            id.dtype = MTIA_DTYPE_I64;
            auto y = b.tensor({b_n, d});
            b.prog.push_back(cref::op(MTIA_OP_EMBEDDING_BAG, {tab, id}, y, {MTIA_EMBEDDING_BAG_SUM, 1, l, 0, rows}));
        }
    }
    run(state, b);
    const double gathered = double(t_n) * b_n * l * double(row_bytes);
    state.counters["GB/s"] =
        benchmark::Counter(gathered * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EmbeddingBag)
    ->Args({8, 100000, 64, 128, 20, 0, MTIA_DTYPE_F32})
    ->Args({8, 100000, 64, 128, 20, 1, MTIA_DTYPE_F32})
    ->Args({8, 100000, 64, 512, 20, 0, MTIA_DTYPE_F32})
    ->Args({8, 100000, 64, 512, 20, 1, MTIA_DTYPE_F32})
    ->Args({8, 100000, 64, 128, 20, 0, MTIA_DTYPE_U8})
    ->Args({8, 100000, 64, 512, 20, 0, MTIA_DTYPE_U8})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
