// SPDX-License-Identifier: MIT
// Work of an op (for chunking and the work bound) and the timing model
// (docs/compute.md, "Timing model"): a roofline over MTIA v1's figures,
// scaled by the configured PE grid, plus a launch cost per op.
#include <algorithm>
#include <cmath>

#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

// MTIA v1 (ISCA 2023): 8x8 PEs at 800 MHz; 102.4 TOPS int8, 51.2 TFLOPS
// fp16/bf16 in the dot-product engines; 128 MiB on-chip SRAM; LPDDR5.
constexpr double kGridPes = MTIA_DEFAULT_PE_ROWS * MTIA_DEFAULT_PE_COLS;
// CONV/GEMM on F16/BF16 operands run at the DPEs' peak. fp32 is not a DPE
// format on v1: we assume a quarter of that rate (operands twice as wide,
// half-rate multipliers): 12.8 TFLOPS.
constexpr double kMatrixHalfFlops = 51.2e12;
constexpr double kMatrixFlops = kMatrixHalfFlops / 4;
// The per-channel int8 CONV/GEMM: 102.4 TOPS, twice the F16/BF16 rate.
// The integer (I32) CONV/GEMM is not a DPE format either: its 4-byte
// operands and 32-bit multipliers run at the fp32 rate (kMatrixFlops).
constexpr double kMatrixInt8Ops = 2 * kMatrixHalfFlops;
// Elementwise, pooling, softmax run on the PEs' vector cores: 16 fp32 lanes
// x FMA (2 flops) x 800 MHz x 64 PEs = 1.6384 TFLOPS; twice the lanes on
// 16-bit floats.
constexpr double kVectorFlops = 16 * 2 * 0.8e9 * kGridPes;
constexpr double kDramBw = 176e9;  // LPDDR5, bytes/s
constexpr double kSramBw = 800e9;  // on-chip SRAM, bytes/s
constexpr double kSramBytes = double(MTIA_DEFAULT_SRAM_BYTES);
constexpr double kLaunchNs = 1000;  // descriptor fetch + grid setup
// Fraction of peak the matrix engines sustain on a real layer.
constexpr double kMatrixEfficiency = 0.7;

uint64_t sat_mul(uint64_t a, uint64_t b)
{
    uint64_t r;
    return __builtin_mul_overflow(a, b, &r) ? UINT64_MAX : r;
}

uint64_t dims_from(const mtia_tensor_desc &t, unsigned from)
{
    uint64_t n = 1;
    for (unsigned i = from; i < t.ndim; i++) n *= t.dims[i];
    return n;
}

double tensor_bytes(const mtia_op &op)
{
    double b = double(bytes(op.out)) * ((op.flags & MTIA_OP_F_ACCUM) ? 2 : 1);  // ACCUM reads out too
    for (unsigned k = 0; k < op.n_in; k++) b += double(bytes(op.in[k]));
    return b;
}

}  // namespace

Work op_work(const mtia_op &op)
{
    Work w{1, 0, 0, tensor_bytes(op)};
    const mtia_tensor_desc &y = op.out;
    const uint64_t out_elems = elems(y);
    switch (op.opcode) {
        case MTIA_OP_CONV: {  // items: output channel planes
            const mtia_tensor_desc &wt = op.in[1];
            const uint64_t per_out = dims_from(wt, 1);  // C/g * (kD *) kH * kW
            w.items = uint64_t{y.dims[0]} * y.dims[1];
            w.item_work = sat_mul(dims_from(y, 2), per_out);
            w.flops = 2.0 * double(out_elems) * double(per_out);
            break;
        }
        case MTIA_OP_CONV_TRANSPOSE: {  // items: images; each input element meets M/g * kernel weights
            const mtia_tensor_desc &x = op.in[0], &wt = op.in[1];
            const uint64_t per_in = dims_from(wt, 1);  // M/g * kernel
            w.items = x.dims[0];
            w.item_work = sat_mul(dims_from(x, 1), per_in);
            w.flops = 2.0 * double(elems(x)) * double(per_in);
            break;
        }
        case MTIA_OP_GEMM: {
            const mtia_tensor_desc &a = op.in[0];
            const uint64_t k = a.dims[a.ndim - (op.attrs[MTIA_GEMM_TRANS_A] ? 2 : 1)];
            w.items = out_elems / y.dims[y.ndim - 1];  // output rows
            w.item_work = sat_mul(y.dims[y.ndim - 1], k);
            w.flops = 2.0 * double(out_elems) * double(k);
            break;
        }
        case MTIA_OP_POOL: {  // items: output channel planes
            uint64_t taps = uint64_t{op.attrs[MTIA_POOL_K_H]} * op.attrs[MTIA_POOL_K_W];
            if (y.ndim == 5) taps = sat_mul(taps, op.attrs[MTIA_POOL_K_D]);
            w.items = uint64_t{y.dims[0]} * y.dims[1];
            w.item_work = sat_mul(dims_from(y, 2), taps);
            w.flops = double(out_elems) * double(taps);
            break;
        }
        case MTIA_OP_RESIZE: {  // items: output rows; a multiply-add per tap
            const unsigned sp = op.attrs[MTIA_RESIZE_SPATIAL];
            const uint64_t t = op.attrs[MTIA_RESIZE_MODE] == MTIA_RESIZE_NEAREST  ? 1
                               : op.attrs[MTIA_RESIZE_MODE] == MTIA_RESIZE_LINEAR ? 2
                                                                                  : 4;
            uint64_t taps = 1;
            for (unsigned i = 0; i < sp; i++) taps *= t;
            w.items = out_elems / y.dims[y.ndim - 1];
            w.item_work = sat_mul(y.dims[y.ndim - 1], taps);
            // NEAREST is a copy; the interpolations are memory-bound unless cubic.
            w.flops = t == 1 ? 0 : 2.0 * double(out_elems) * double(taps);
            break;
        }
        case MTIA_OP_SOFTMAX:
            w.item_work = out_elems;
            w.flops = 4.0 * double(out_elems);  // max, exp, sum, scale
            break;
        case MTIA_OP_REDUCE:  // one pass over in
            w.item_work = elems(op.in[0]);
            w.flops = double(w.item_work);
            break;
        case MTIA_OP_LAYERNORM:
            w.item_work = out_elems;
            w.flops = 8.0 * double(out_elems);  // mean, variance, normalise, scale, shift
            break;
        case MTIA_OP_GATHER:  // memory-bound: the rows gathered, not the whole data
            w.item_work = out_elems + elems(op.in[1]);
            w.flops = 0;
            w.bytes = 2.0 * double(bytes(y)) + double(bytes(op.in[1]));
            break;
        case MTIA_OP_EMBEDDING_BAG: {  // memory-bound: a row per id (at most N rows)
            // A row is read at the table's dtype: D values of 4 or 2 bytes,
            // or D bytes and the 8-bit rowwise row's scale and bias.
            const mtia_tensor_desc &tab = op.in[0];
            const uint64_t ids = elems(op.in[1]), d = mtia_embedding_bag_dim(tab.dtype, tab.dims[1]);
            const uint64_t row = uint64_t{tab.dims[1]} * mtia_dtype_size(tab.dtype);
            w.item_work = sat_mul(ids, d) + out_elems;
            w.flops = double(ids) * double(d) * (mtia_dtype_is_quant(tab.dtype) ? 3 : 1);  // q * s + b, then +
            w.bytes = double(ids) * double(row) + double(bytes(y));
            for (unsigned k = 1; k < op.n_in; k++) w.bytes += double(bytes(op.in[k]));
            break;
        }
        default:  // BINARY, ACT, WHERE, EXPAND, TRANSPOSE, COPY_INTO, SLICE, CAST: one pass over out
            w.item_work = out_elems;
            w.flops = double(out_elems);
            break;
    }
    // Transcendental activations cost a few vector ops (a polynomial) each.
    switch (op.act) {
        case MTIA_ACT_NONE:
            break;
        case MTIA_ACT_RELU:
        case MTIA_ACT_CLIP:
        case MTIA_ACT_NEG:
        case MTIA_ACT_ABS:
            w.flops += double(out_elems);
            break;
        default:
            w.flops += 4.0 * double(out_elems);
            break;
    }
    if (op.opcode == MTIA_OP_BINARY && op.attrs[MTIA_BINARY_KIND] == MTIA_BINARY_POW)
        w.flops += 4.0 * double(out_elems);
    // Integer DIV has no vector instruction (a multi-cycle sequence per
    // element); I64 lanes are half as many as F32's. Bytes follow the dtype.
    const bool int_out = y.dtype == MTIA_DTYPE_I32 || y.dtype == MTIA_DTYPE_I64;
    if (op.opcode == MTIA_OP_BINARY && int_out && !is_compare(op.attrs[MTIA_BINARY_KIND])) {
        if (op.attrs[MTIA_BINARY_KIND] == MTIA_BINARY_DIV) w.flops += 8.0 * double(out_elems);
        if (y.dtype == MTIA_DTYPE_I64) w.flops *= 2.0;
    }
    return w;
}

uint64_t op_ns(const Grid &g, const mtia_op &op)
{
    const Work w = op_work(op);
    const double scale = double(g.rows) * double(g.cols) / kGridPes;
    const bool matrix = op.opcode == MTIA_OP_CONV || op.opcode == MTIA_OP_CONV_TRANSPOSE || op.opcode == MTIA_OP_GEMM;
    const bool half = op.out.dtype == MTIA_DTYPE_F16 || op.out.dtype == MTIA_DTYPE_BF16;
    const double peak = is_int8_matmul(op) ? kMatrixInt8Ops : half ? kMatrixHalfFlops : kMatrixFlops;
    const double rate = (matrix ? peak * kMatrixEfficiency : kVectorFlops * (half ? 2 : 1)) * scale;
    // Tensors that fit on chip stream from SRAM; larger ones from LPDDR5. A
    // lookup (GATHER, EMBEDDING_BAG) reads rows at random: from SRAM when its
    // whole table fits there (a resident table), else from LPDDR5.
    const bool lookup = op.opcode == MTIA_OP_GATHER || op.opcode == MTIA_OP_EMBEDDING_BAG;
    const double resident = lookup ? double(bytes(op.in[0])) : w.bytes;
    const double bw = resident <= kSramBytes ? kSramBw : kDramBw;
    const double ns = std::max(w.flops / rate, w.bytes / bw) * 1e9 + kLaunchNs;
    return ns >= 1.8e19 ? UINT64_MAX / 2 : static_cast<uint64_t>(std::ceil(ns));
}

}  // namespace compute
}  // namespace mtia
