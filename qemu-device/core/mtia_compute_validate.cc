// SPDX-License-Identifier: MIT
// Program validation (docs/compute.md, "Validation"): every rule an op must
// meet before any op of the program runs. All arithmetic on guest values is
// 64-bit and overflow-checked: a program can name any field value.
#include <algorithm>
#include <cmath>

#include "mtia/mtia_quant.h"
#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

using Desc = mtia_tensor_desc;

bool is_zero(const void *p, size_t n)
{
    const auto *b = static_cast<const uint8_t *>(p);
    for (size_t i = 0; i < n; i++)
        if (b[i]) return false;
    return true;
}

// Quantization parameters: I8/U8 a finite scale > 0 and a zero point in
// the dtype's range (@per_channel: the int8 CONV/GEMM weights and the
// 8-bit rowwise EMBEDDING_BAG tables, whose ops check their scale and zero
// point 0); every other dtype both zero.
const char *check_quant(const Desc &t, bool per_channel)
{
    if (!mtia_dtype_is_quant(t.dtype))
        return t.zero_point || t.scale ? "tensor scale/zero point set on a dtype that is not I8/U8" : nullptr;
    if (per_channel) return nullptr;
    const float s = f32(t.scale);
    if (!std::isfinite(s) || !(s > 0)) return "quantized tensor scale not finite and > 0";
    if (t.zero_point < mtia_quant_min(t.dtype) || t.zero_point > mtia_quant_max(t.dtype))
        return "quantized tensor zero point outside its dtype's range";
    return nullptr;
}

// A used tensor: dtype, rank, dims, quantization, alignment, inside the arena.
const char *check_tensor(const Desc &t, uint64_t arena, bool per_channel = false)
{
    const uint32_t es = mtia_dtype_size(t.dtype);
    if (!es) return "tensor dtype unknown or reserved";
    if (t.ndim < 1 || t.ndim > MTIA_MAX_DIMS) return "tensor ndim not in 1..6";
    if (const char *e = check_quant(t, per_channel)) return e;
    uint64_t n = 1;
    for (unsigned i = 0; i < MTIA_MAX_DIMS; i++) {
        if (i >= t.ndim) {
            if (t.dims[i]) return "tensor dim beyond ndim not zero";
            continue;
        }
        if (t.dims[i] == 0) return "tensor dim is zero";
        if (n > (UINT64_MAX / es) / t.dims[i]) return "tensor size overflows";
        n *= t.dims[i];
    }
    if (t.offset % es) return "tensor offset not aligned to its dtype";
    const uint64_t b = n * es;
    if (t.offset > arena || b > arena - t.offset) return "tensor outside the arena";
    return nullptr;
}

bool same_shape(const Desc &a, const Desc &b)
{
    if (a.ndim != b.ndim) return false;
    for (unsigned i = 0; i < a.ndim; i++)
        if (a.dims[i] != b.dims[i]) return false;
    return true;
}

// Same rank, each dim equal to @out's or 1.
bool broadcastable(const Desc &in, const Desc &out)
{
    if (in.ndim != out.ndim) return false;
    for (unsigned i = 0; i < in.ndim; i++)
        if (in.dims[i] != out.dims[i] && in.dims[i] != 1) return false;
    return true;
}

bool overlap(const Desc &a, const Desc &b) { return a.offset < b.offset + bytes(b) && b.offset < a.offset + bytes(a); }

// attrs[n..] must be zero.
bool attrs_zero_from(const mtia_op &op, unsigned n)
{
    for (unsigned i = n; i < MTIA_OP_MAX_ATTRS; i++)
        if (op.attrs[i]) return false;
    return true;
}

bool finite(uint32_t bits) { return std::isfinite(f32(bits)); }

// Output rows of a sliding window: (in + p0 + p1 - extent) / stride + 1, where
// extent = dil * (k - 1) + 1. 0 if the window does not fit once.
uint64_t window_out(uint64_t in, uint64_t k, uint64_t stride, uint64_t dil, uint64_t p0, uint64_t p1)
{
    const uint64_t extent = dil * (k - 1) + 1;  // each < 2^32: no overflow
    const uint64_t padded = in + p0 + p1;
    if (padded < extent) return 0;
    return (padded - extent) / stride + 1;
}

// Spatial attributes of a CONV/POOL window along one spatial dim.
struct Window {
    uint64_t k, stride, dil, p0, p1;
};

// CONV/POOL window along spatial dim @d (0 = the first of @nsp: depth for
// 3-D, height for 2-D).
Window conv_window(const mtia_op &op, unsigned nsp, unsigned d)
{
    const uint32_t *a = op.attrs;
    const uint64_t k = op.in[1].dims[2 + d];
    if (nsp == 3 && d == 0)
        return {k, a[MTIA_CONV_STRIDE_D], a[MTIA_CONV_DIL_D], a[MTIA_CONV_PAD_FRONT], a[MTIA_CONV_PAD_BACK]};
    const unsigned hw = d + 2 - nsp;  // 0: height, 1: width
    return {k, a[MTIA_CONV_STRIDE_H + hw], a[MTIA_CONV_DIL_H + hw], a[MTIA_CONV_PAD_T + hw], a[MTIA_CONV_PAD_B + hw]};
}

Window pool_window(const mtia_op &op, unsigned nsp, unsigned d)
{
    const uint32_t *a = op.attrs;
    if (nsp == 3 && d == 0)
        return {a[MTIA_POOL_K_D], a[MTIA_POOL_STRIDE_D], a[MTIA_POOL_DIL_D], a[MTIA_POOL_PAD_D] & 0xffffu,
                a[MTIA_POOL_PAD_D] >> 16};
    const unsigned hw = d + 2 - nsp;
    return {a[MTIA_POOL_K_H + hw], a[MTIA_POOL_STRIDE_H + hw], a[MTIA_POOL_DIL_H + hw], a[MTIA_POOL_PAD_T + hw],
            a[MTIA_POOL_PAD_B + hw]};
}

const char *check_conv(const mtia_op &op)
{
    const Desc &x = op.in[0], &w = op.in[1], &y = op.out;
    const uint32_t *a = op.attrs;
    if (op.n_in != 2 && op.n_in != 3) return "CONV: n_in must be 2 or 3";
    const unsigned nd = x.ndim;
    if ((nd != 4 && nd != 5) || w.ndim != nd || y.ndim != nd) return "CONV: X, W and out must all be 4-D or all 5-D";
    const unsigned nsp = nd - 2;
    // 2-D programs keep the depth attributes zero.
    if (!attrs_zero_from(op, nsp == 3 ? MTIA_CONV_PAD_BACK + 1 : MTIA_CONV_GROUPS + 1))
        return "CONV: unused attribute not zero";
    const uint32_t g = a[MTIA_CONV_GROUPS];
    if (!g || x.dims[1] % g || w.dims[0] % g) return "CONV: groups must divide C and M";
    if (w.dims[1] != x.dims[1] / g) return "CONV: W dims[1] != C / groups";
    if (y.dims[0] != x.dims[0] || y.dims[1] != w.dims[0]) return "CONV: out N or M mismatch";
    if (op.n_in == 3 && !is_int8_matmul(op) && (op.in[2].ndim != 1 || op.in[2].dims[0] != w.dims[0]))
        return "CONV: bias must be (M)";
    for (unsigned d = 0; d < nsp; d++) {
        const Window win = conv_window(op, nsp, d);
        if (!win.stride) return "CONV: stride 0";
        if (!win.dil) return "CONV: dilation 0";
        const uint64_t extent = win.dil * (win.k - 1) + 1;
        // Padding beyond the kernel's extent only adds rows of zeros (or bias).
        if (win.p0 >= extent || win.p1 >= extent) return "CONV: pad not smaller than the dilated kernel";
        if (window_out(x.dims[2 + d], win.k, win.stride, win.dil, win.p0, win.p1) != y.dims[2 + d])
            return "CONV: out spatial dims inconsistent with kernel/stride/pads/dilation";
    }
    return nullptr;
}

// CONV_TRANSPOSE: W is (C, M/groups, k...); out by the transposed formula
// with an output padding in [0, max(stride, dilation)).
const char *check_conv_transpose(const mtia_op &op)
{
    const Desc &x = op.in[0], &w = op.in[1], &y = op.out;
    const uint32_t *a = op.attrs;
    if (op.n_in != 2 && op.n_in != 3) return "CONV_TRANSPOSE: n_in must be 2 or 3";
    const unsigned nd = x.ndim;
    if ((nd != 4 && nd != 5) || w.ndim != nd || y.ndim != nd)
        return "CONV_TRANSPOSE: X, W and out must all be 4-D or all 5-D";
    const unsigned nsp = nd - 2;
    if (!attrs_zero_from(op, nsp == 3 ? MTIA_CONV_PAD_BACK + 1 : MTIA_CONV_GROUPS + 1))
        return "CONV_TRANSPOSE: unused attribute not zero";
    const uint32_t g = a[MTIA_CONV_GROUPS];
    if (!g || x.dims[1] % g) return "CONV_TRANSPOSE: groups must divide C";
    if (w.dims[0] != x.dims[1]) return "CONV_TRANSPOSE: W dims[0] != C";
    if (y.dims[0] != x.dims[0] || uint64_t{y.dims[1]} != uint64_t{w.dims[1]} * g)
        return "CONV_TRANSPOSE: out N or M (W dims[1] * groups) mismatch";
    if (op.n_in == 3 && (op.in[2].ndim != 1 || op.in[2].dims[0] != y.dims[1]))
        return "CONV_TRANSPOSE: bias must be (M)";
    for (unsigned d = 0; d < nsp; d++) {
        const Window win = conv_window(op, nsp, d);
        if (!win.stride || !win.dil) return "CONV_TRANSPOSE: stride or dilation 0";
        // All below 2^32: the signed 64-bit arithmetic cannot overflow.
        const int64_t full =
            (int64_t(x.dims[2 + d]) - 1) * int64_t(win.stride) + int64_t(win.dil) * (int64_t(win.k) - 1) + 1;
        const int64_t outpad = int64_t(y.dims[2 + d]) - (full - int64_t(win.p0) - int64_t(win.p1));
        if (outpad < 0 || outpad >= int64_t(std::max(win.stride, win.dil)))
            return "CONV_TRANSPOSE: out spatial dims inconsistent with kernel/stride/pads/dilation/output padding";
        // Every output position within the full (unpadded) result.
        if (int64_t(win.p0) >= full) return "CONV_TRANSPOSE: pad not smaller than the full output";
    }
    return nullptr;
}

const char *check_gemm(const mtia_op &op)
{
    const Desc &a = op.in[0], &b = op.in[1], &y = op.out;
    if (op.n_in != 2 && op.n_in != 3) return "GEMM: n_in must be 2 or 3";
    if (!attrs_zero_from(op, MTIA_GEMM_BETA + 1)) return "GEMM: unused attribute not zero";
    if (op.attrs[MTIA_GEMM_TRANS_A] > 1 || op.attrs[MTIA_GEMM_TRANS_B] > 1)
        return "GEMM: TRANS_A/TRANS_B must be 0 or 1";
    if (!finite(op.attrs[MTIA_GEMM_ALPHA]) || !finite(op.attrs[MTIA_GEMM_BETA])) return "GEMM: alpha/beta not finite";
    const unsigned nd = y.ndim;
    if (nd < 2) return "GEMM: out must be at least 2-D";
    if ((a.ndim != nd && a.ndim != 2) || (b.ndim != nd && b.ndim != 2))
        return "GEMM: A and B must have out's ndim or be 2-D";
    if (nd > 2 && a.ndim == 2 && b.ndim == 2) return "GEMM: batched out needs a batched A or B";
    for (unsigned i = 0; i + 2 < nd; i++) {  // NumPy broadcasting of the batch dims
        const uint32_t da = a.ndim == nd ? a.dims[i] : 1, db = b.ndim == nd ? b.dims[i] : 1;
        if ((da != y.dims[i] && da != 1) || (db != y.dims[i] && db != 1))
            return "GEMM: A or B batch dim neither out's nor 1";
        if (da != y.dims[i] && db != y.dims[i]) return "GEMM: out batch dim matches neither A's nor B's";
    }
    const bool ta = op.attrs[MTIA_GEMM_TRANS_A], tb = op.attrs[MTIA_GEMM_TRANS_B];
    const uint32_t m = a.dims[a.ndim - (ta ? 1 : 2)], ka = a.dims[a.ndim - (ta ? 2 : 1)];
    const uint32_t kb = b.dims[b.ndim - (tb ? 1 : 2)], n = b.dims[b.ndim - (tb ? 2 : 1)];
    if (ka != kb) return "GEMM: K of A and B differ";
    if (y.dims[nd - 2] != m || y.dims[nd - 1] != n) return "GEMM: out is not (..., M, N)";
    if (op.n_in == 3 && !is_int8_matmul(op) && !broadcastable(op.in[2], y)) return "GEMM: C not broadcastable to out";
    return nullptr;
}

// The per-channel int8 CONV/GEMM (mtia_spec.h, "Reduced precision"), after
// check_conv/check_gemm: X/A quantized, out F32 or quantized, in[2] the F32
// (2, M) weight scales and bias, B 2-D without TRANS_A, alpha or beta, and
// K small enough for an exact int32 accumulator.
const char *check_int8_matmul(const mtia_op &op)
{
    const bool gemm = op.opcode == MTIA_OP_GEMM;
    const Desc &x = op.in[0], &w = op.in[1], &y = op.out;
    if (!mtia_dtype_is_quant(x.dtype)) return "int8 CONV/GEMM: in[0] must be I8 or U8";
    if (y.dtype != MTIA_DTYPE_F32 && !mtia_dtype_is_quant(y.dtype)) return "int8 CONV/GEMM: out must be F32, I8 or U8";
    if (op.n_in != 3) return "int8 CONV/GEMM: in[2] (weight scales and bias) required";
    const uint32_t m = gemm ? y.dims[y.ndim - 1] : w.dims[0];
    const Desc &sb = op.in[2];
    if (sb.dtype != MTIA_DTYPE_F32 || sb.ndim != 2 || sb.dims[0] != 2 || sb.dims[1] != m)
        return "int8 CONV/GEMM: in[2] must be F32 (2, M): weight scales, bias";
    uint64_t k = 1;
    if (gemm) {
        if (w.ndim != 2) return "int8 GEMM: B must be 2-D";
        if (op.attrs[MTIA_GEMM_TRANS_A]) return "int8 GEMM: TRANS_A must be 0";
        if (f32(op.attrs[MTIA_GEMM_ALPHA]) != 1.0f || op.attrs[MTIA_GEMM_BETA])
            return "int8 GEMM: ALPHA must be 1.0f and BETA 0";
        k = x.dims[x.ndim - 1];
    } else {
        for (unsigned i = 1; i < w.ndim; i++) k *= w.dims[i];
    }
    if (k > MTIA_QUANT_MAX_K) return "int8 CONV/GEMM: K over MTIA_QUANT_MAX_K";
    return nullptr;
}

// Integer CONV/GEMM (mtia_spec.h, "Opcodes"), after check_conv/check_gemm
// (check_dtypes makes in[1] and out I32): no bias or C, act, alpha or beta.
const char *check_int_matmul(const mtia_op &op)
{
    if (op.n_in != 2) return "integer CONV/GEMM: n_in must be 2 (no bias or C)";
    if (op.act != MTIA_ACT_NONE) return "integer CONV/GEMM: no fused activation";
    if (op.opcode == MTIA_OP_GEMM && (f32(op.attrs[MTIA_GEMM_ALPHA]) != 1.0f || op.attrs[MTIA_GEMM_BETA]))
        return "integer GEMM: ALPHA must be 1.0f and BETA 0";
    return nullptr;
}

const char *check_binary(const mtia_op &op)
{
    if (op.n_in != 2) return "BINARY: n_in must be 2";
    if (op.attrs[MTIA_BINARY_KIND] > MTIA_BINARY_GREATER) return "BINARY: bad kind";
    if (is_compare(op.attrs[MTIA_BINARY_KIND]) && op.act != MTIA_ACT_NONE) return "BINARY: comparison with an act";
    if ((op.out.dtype == MTIA_DTYPE_I32 || op.out.dtype == MTIA_DTYPE_I64) && op.act != MTIA_ACT_NONE)
        return "BINARY: integer op with an act";
    if (!attrs_zero_from(op, 1)) return "BINARY: unused attribute not zero";
    if (!broadcastable(op.in[0], op.out) || !broadcastable(op.in[1], op.out))
        return "BINARY: inputs not broadcastable to out";
    return nullptr;
}

const char *check_act(const mtia_op &op)
{
    if (op.n_in != 1) return "ACT: n_in must be 1";
    if (!attrs_zero_from(op, 0)) return "ACT: attribute not zero";
    if (!same_shape(op.in[0], op.out)) return "ACT: out shape != in shape";
    return nullptr;
}

const char *check_pool(const mtia_op &op)
{
    const Desc &x = op.in[0], &y = op.out;
    const uint32_t *a = op.attrs;
    if (op.n_in != 1) return "POOL: n_in must be 1";
    if ((x.ndim != 4 && x.ndim != 5) || y.ndim != x.ndim) return "POOL: in and out must both be 4-D or both 5-D";
    const unsigned nsp = x.ndim - 2;
    // 2-D programs keep the depth attributes zero.
    if (!attrs_zero_from(op, nsp == 3 ? MTIA_POOL_DIL_D + 1 : MTIA_POOL_DIL_W + 1))
        return "POOL: unused attribute not zero";
    const uint32_t kind = a[MTIA_POOL_KIND];
    if (kind > MTIA_POOL_AVG) return "POOL: bad kind";
    if (a[MTIA_POOL_COUNT_PAD] > (kind == MTIA_POOL_AVG ? 1u : 0u))
        return "POOL: COUNT_PAD must be 0/1 (AVG) or 0 (MAX)";
    if (y.dims[0] != x.dims[0] || y.dims[1] != x.dims[1]) return "POOL: out N or C mismatch";
    for (unsigned d = 0; d < nsp; d++) {
        const Window win = pool_window(op, nsp, d);
        if (!win.k || !win.stride) return "POOL: kernel or stride 0";
        if (!win.dil || (kind == MTIA_POOL_AVG && win.dil != 1)) return "POOL: dilation must be >= 1 (MAX) or 1 (AVG)";
        const uint64_t extent = win.dil * (win.k - 1) + 1;
        // Every window then holds at least one input element.
        if (win.p0 >= extent || win.p1 >= extent) return "POOL: pad not smaller than the dilated kernel";
        if (window_out(x.dims[2 + d], win.k, win.stride, win.dil, win.p0, win.p1) != y.dims[2 + d])
            return "POOL: out spatial dims inconsistent with kernel/stride/pads/dilation";
    }
    return nullptr;
}

const char *check_softmax(const mtia_op &op)
{
    if (op.n_in != 1) return "SOFTMAX: n_in must be 1";
    if (!attrs_zero_from(op, MTIA_SOFTMAX_LOG + 1)) return "SOFTMAX: unused attribute not zero";
    if (op.attrs[MTIA_SOFTMAX_LOG] > 1) return "SOFTMAX: LOG must be 0 or 1";
    if (!same_shape(op.in[0], op.out)) return "SOFTMAX: out shape != in shape";
    if (op.attrs[MTIA_SOFTMAX_AXIS] >= op.out.ndim) return "SOFTMAX: axis >= ndim";
    return nullptr;
}

const char *check_transpose(const mtia_op &op)
{
    const Desc &x = op.in[0], &y = op.out;
    if (op.n_in != 1) return "TRANSPOSE: n_in must be 1";
    if (x.ndim != y.ndim) return "TRANSPOSE: in and out ndim differ";
    if (!attrs_zero_from(op, y.ndim)) return "TRANSPOSE: attribute beyond ndim not zero";
    unsigned seen = 0;
    for (unsigned i = 0; i < y.ndim; i++) {
        const uint32_t p = op.attrs[MTIA_TRANSPOSE_PERM + i];
        if (p >= y.ndim || (seen & (1u << p))) return "TRANSPOSE: PERM is not a permutation";
        seen |= 1u << p;
        if (y.dims[i] != x.dims[p]) return "TRANSPOSE: out dims != in dims permuted";
    }
    return nullptr;
}

// COPY_INTO (@part = in, @whole = out) and SLICE (@part = out, @whole = in).
const char *check_window(const mtia_op &op, const Desc &part, const Desc &whole)
{
    const bool slice = op.opcode == MTIA_OP_SLICE;
    if (op.n_in != 1) return "COPY_INTO/SLICE: n_in must be 1";
    if (!attrs_zero_from(op, slice ? MTIA_SLICE_STEP + 1 : 2)) return "COPY_INTO/SLICE: unused attribute not zero";
    if (part.ndim != whole.ndim) return "COPY_INTO/SLICE: in and out ndim differ";
    const uint32_t axis = op.attrs[0];
    if (axis >= whole.ndim) return "COPY_INTO/SLICE: axis >= ndim";
    for (unsigned i = 0; i < whole.ndim; i++)
        if (i != axis && part.dims[i] != whole.dims[i]) return "COPY_INTO/SLICE: dims other than axis differ";
    const int64_t step = slice ? slice_step(op) : 1;
    if (step == 1) {
        if (uint64_t{op.attrs[1]} + part.dims[axis] > whole.dims[axis])
            return "COPY_INTO/SLICE: START + extent beyond the axis";
        return nullptr;
    }
    // Stepped SLICE: the first and the last index read lie on the axis.
    const int64_t first = op.attrs[MTIA_SLICE_START], last = first + (int64_t{part.dims[axis]} - 1) * step;
    if (first >= whole.dims[axis] || last < 0 || last >= whole.dims[axis])
        return "SLICE: a stepped index beyond the axis";
    return nullptr;
}

const char *check_where(const mtia_op &op)
{
    if (op.n_in != 3) return "WHERE: n_in must be 3";
    if (!attrs_zero_from(op, 0)) return "WHERE: attribute not zero";
    for (unsigned k = 0; k < 3; k++)
        if (!broadcastable(op.in[k], op.out)) return "WHERE: inputs not broadcastable to out";
    return nullptr;
}

const char *check_reduce(const mtia_op &op)
{
    const Desc &x = op.in[0], &y = op.out;
    const uint32_t axes = op.attrs[MTIA_REDUCE_AXES];
    if (op.n_in != 1) return "REDUCE: n_in must be 1";
    if (!attrs_zero_from(op, MTIA_REDUCE_AXES + 1)) return "REDUCE: unused attribute not zero";
    if (op.attrs[MTIA_REDUCE_KIND] > MTIA_REDUCE_MIN) return "REDUCE: bad kind";
    if (x.ndim != y.ndim) return "REDUCE: in and out ndim differ";
    if (!axes || axes >> x.ndim) return "REDUCE: AXES empty or beyond ndim";
    for (unsigned i = 0; i < x.ndim; i++)
        if (y.dims[i] != ((axes >> i) & 1 ? 1 : x.dims[i])) return "REDUCE: out dims != in's with reduced dims 1";
    return nullptr;
}

const char *check_layernorm(const mtia_op &op)
{
    const Desc &x = op.in[0];
    const uint32_t axis = op.attrs[MTIA_LAYERNORM_AXIS];
    const float eps = f32(op.attrs[MTIA_LAYERNORM_EPSILON]);
    if (op.n_in < 1 || op.n_in > 3) return "LAYERNORM: n_in must be 1..3";
    if (!attrs_zero_from(op, MTIA_LAYERNORM_EPSILON + 1)) return "LAYERNORM: unused attribute not zero";
    if (axis >= x.ndim) return "LAYERNORM: axis >= ndim";
    if (!std::isfinite(eps) || !(eps > 0)) return "LAYERNORM: epsilon not finite and > 0";
    if (!same_shape(x, op.out)) return "LAYERNORM: out shape != in shape";
    for (unsigned k = 1; k < op.n_in; k++) {
        const Desc &p = op.in[k];
        if (p.ndim != x.ndim - axis) return "LAYERNORM: scale/bias rank != normalised dims";
        for (unsigned i = 0; i < p.ndim; i++)
            if (p.dims[i] != x.dims[axis + i]) return "LAYERNORM: scale/bias dims != normalised dims";
    }
    return nullptr;
}

const char *check_expand(const mtia_op &op)
{
    if (op.n_in != 1) return "EXPAND: n_in must be 1";
    if (!attrs_zero_from(op, 0)) return "EXPAND: attribute not zero";
    if (!broadcastable(op.in[0], op.out)) return "EXPAND: in not broadcastable to out";
    return nullptr;
}

// Each used tensor's dtype (mtia_op_tensor_dtype(), the spec's rule).
const char *check_dtypes(const mtia_op &op)
{
    const uint32_t kind = op.attrs[MTIA_BINARY_KIND];
    for (unsigned k = 0; k < op.n_in; k++) {
        const uint32_t want = mtia_op_tensor_dtype(op.opcode, kind, k, op.in[0].dtype, op.out.dtype);
        if (want && !mtia_op_dtype_fits(want, op.in[k].dtype))
            return "input dtype not the op's (its float type; BOOL conditions; in[0]'s integer type)";
    }
    const uint32_t want = mtia_op_tensor_dtype(op.opcode, kind, MTIA_OP_MAX_IN, op.in[0].dtype, op.out.dtype);
    if (want && !mtia_op_dtype_fits(want, op.out.dtype))
        return "out dtype not the op's (its float type; BOOL comparisons; in[0]'s)";
    return nullptr;
}

bool is_index(const Desc &t) { return t.dtype == MTIA_DTYPE_I32 || t.dtype == MTIA_DTYPE_I64; }

const char *check_gather(const mtia_op &op)
{
    const Desc &x = op.in[0], &ix = op.in[1], &y = op.out;
    if (op.n_in != 2) return "GATHER: n_in must be 2";
    if (op.act != MTIA_ACT_NONE) return "GATHER: no fused activation";
    if (!attrs_zero_from(op, 1)) return "GATHER: unused attribute not zero";
    if (!is_index(ix)) return "GATHER: indices must be I32 or I64";
    if (y.dtype != x.dtype || y.scale != x.scale || y.zero_point != x.zero_point)
        return "GATHER: out dtype, scale or zero point != data's";
    const uint32_t axis = op.attrs[MTIA_GATHER_AXIS];
    if (axis >= x.ndim) return "GATHER: axis >= data ndim";
    if (uint32_t{x.ndim} - 1 + ix.ndim != y.ndim) return "GATHER: out ndim != data ndim - 1 + indices ndim";
    for (unsigned i = 0; i < y.ndim; i++) {
        const uint32_t want = i < axis ? x.dims[i] : i < axis + ix.ndim ? ix.dims[i - axis] : x.dims[i - ix.ndim + 1];
        if (y.dims[i] != want) return "GATHER: out dims != data[:axis] + indices + data[axis+1:]";
    }
    return nullptr;
}

const char *check_embedding_bag(const mtia_op &op)
{
    const Desc &tab = op.in[0], &ids = op.in[1], &y = op.out;
    const uint32_t *a = op.attrs;
    const uint32_t t = a[MTIA_EMBEDDING_BAG_TABLES], l = a[MTIA_EMBEDDING_BAG_BAG_SIZE];
    if (op.n_in != 2 && op.n_in != 3) return "EMBEDDING_BAG: n_in must be 2 or 3";
    if (op.act != MTIA_ACT_NONE) return "EMBEDDING_BAG: no fused activation";
    if (a[MTIA_EMBEDDING_BAG_MODE] > MTIA_EMBEDDING_BAG_MAX) return "EMBEDDING_BAG: bad mode";
    if (t < 1 || t > MTIA_EMBEDDING_BAG_MAX_TABLES) return "EMBEDDING_BAG: tables not in 1..12";
    if (!attrs_zero_from(op, MTIA_EMBEDDING_BAG_ROWS + t)) return "EMBEDDING_BAG: unused attribute not zero";
    if ((!mtia_dtype_is_float(tab.dtype) && !mtia_dtype_is_quant(tab.dtype)) || y.dtype != MTIA_DTYPE_F32)
        return "EMBEDDING_BAG: tables must be F32, F16, BF16, I8 or U8 and out F32";
    if (mtia_dtype_is_quant(tab.dtype) && (tab.scale || tab.zero_point))
        return "EMBEDDING_BAG: I8/U8 tables are 8-bit rowwise: scale and zero point 0";
    if (!is_index(ids)) return "EMBEDDING_BAG: ids must be I32 or I64";
    if (tab.ndim != 2 || y.ndim != 2) return "EMBEDDING_BAG: tables and out must be 2-D";
    const uint64_t d = mtia_embedding_bag_dim(tab.dtype, tab.dims[1]), b = y.dims[0];
    if (!d) return "EMBEDDING_BAG: 8-bit rowwise rows must be D + 8 bytes, D >= 1";
    uint64_t rows = 0;
    for (uint32_t k = 0; k < t; k++) {
        if (!a[MTIA_EMBEDDING_BAG_ROWS + k]) return "EMBEDDING_BAG: a table has 0 rows";
        rows += a[MTIA_EMBEDDING_BAG_ROWS + k];
    }
    if (rows != tab.dims[0]) return "EMBEDDING_BAG: tables rows != sum of ROWS";
    if (y.dims[1] != t * d) return "EMBEDDING_BAG: out is not (B, T*D)";
    if (l) {
        if (a[MTIA_EMBEDDING_BAG_INCLUDE_LAST]) return "EMBEDDING_BAG: INCLUDE_LAST needs offsets (BAG_SIZE 0)";
        if (ids.ndim != 3 || ids.dims[0] != t || ids.dims[1] != b || ids.dims[2] != l)
            return "EMBEDDING_BAG: ids must be (T, B, BAG_SIZE)";
        if (op.n_in == 3) {
            const Desc &w = op.in[2];
            if (w.dtype != MTIA_DTYPE_F32 || !same_shape(w, ids)) return "EMBEDDING_BAG: weights must be F32 like ids";
            if (a[MTIA_EMBEDDING_BAG_MODE] != MTIA_EMBEDDING_BAG_SUM) return "EMBEDDING_BAG: weights need SUM";
        }
        return nullptr;
    }
    if (op.n_in != 3) return "EMBEDDING_BAG: offsets (in[2]) needed with BAG_SIZE 0";
    const Desc &off = op.in[2];
    if (a[MTIA_EMBEDDING_BAG_INCLUDE_LAST] > 1) return "EMBEDDING_BAG: INCLUDE_LAST must be 0 or 1";
    if (ids.ndim != 1) return "EMBEDDING_BAG: ids must be 1-D with offsets";
    if (off.dtype != ids.dtype || off.ndim != 1) return "EMBEDDING_BAG: offsets must be 1-D of the ids' dtype";
    if (off.dims[0] != t * b + a[MTIA_EMBEDDING_BAG_INCLUDE_LAST]) return "EMBEDDING_BAG: offsets are not T*B (+1)";
    return nullptr;
}

const char *check_cast(const mtia_op &op)
{
    if (op.n_in != 1) return "CAST: n_in must be 1";
    if (op.act != MTIA_ACT_NONE) return "CAST: no fused activation";
    if (!attrs_zero_from(op, 0)) return "CAST: attribute not zero";
    if (!same_shape(op.in[0], op.out)) return "CAST: out shape != in shape";
    const uint8_t from = op.in[0].dtype, to = op.out.dtype;
    // Quantized values convert through their real value: to and from floats
    // and each other; to I32 as the exact integer q - zero_point; never
    // otherwise to or from integers or BOOL.
    if ((mtia_dtype_is_quant(from) && !mtia_dtype_is_float(to) && !mtia_dtype_is_quant(to) && to != MTIA_DTYPE_I32) ||
        (mtia_dtype_is_quant(to) && !mtia_dtype_is_float(from) && !mtia_dtype_is_quant(from)))
        return "CAST: between I8/U8 and I64 or BOOL, or from I32 to I8/U8";
    return nullptr;
}

const char *check_pad(const mtia_op &op)
{
    const Desc &x = op.in[0], &y = op.out;
    const uint32_t *a = op.attrs;
    if (op.n_in != 1) return "PAD: n_in must be 1";
    if (x.ndim != y.ndim) return "PAD: in and out ndim differ";
    if (!attrs_zero_from(op, MTIA_PAD_BEGIN + y.ndim)) return "PAD: attribute beyond ndim not zero";
    if (a[MTIA_PAD_MODE] > MTIA_PAD_EDGE) return "PAD: bad mode";
    if (a[MTIA_PAD_MODE] != MTIA_PAD_CONSTANT && a[MTIA_PAD_VALUE]) return "PAD: VALUE not zero without CONSTANT";
    for (unsigned i = 0; i < y.ndim; i++) {
        const int64_t in = x.dims[i], out = y.dims[i];
        const int64_t b = static_cast<int32_t>(a[MTIA_PAD_BEGIN + i]), e = out - in - b;  // |each| < 2^33
        // Cropping keeps at least one input element: every output element
        // is the constant or an element of the cropped input.
        if (in + std::min<int64_t>(b, 0) + std::min<int64_t>(e, 0) < 1) return "PAD: pads crop the whole input";
    }
    return nullptr;
}

// RESIZE: the resized trailing dims' scales consistent with their sizes;
// the leading dims unchanged; the kernel's tap tables bounded.
const char *check_resize(const mtia_op &op)
{
    const Desc &x = op.in[0], &y = op.out;
    const uint32_t *a = op.attrs;
    const uint32_t mode = a[MTIA_RESIZE_MODE], sp = a[MTIA_RESIZE_SPATIAL];
    if (op.n_in != 1) return "RESIZE: n_in must be 1";
    if (op.act != MTIA_ACT_NONE) return "RESIZE: no fused activation";
    if (x.ndim != y.ndim) return "RESIZE: in and out ndim differ";
    if (sp < 1 || sp > MTIA_RESIZE_MAX_SPATIAL || sp > y.ndim) return "RESIZE: SPATIAL not in 1..min(3, ndim)";
    if (!attrs_zero_from(op, MTIA_RESIZE_SCALE + sp)) return "RESIZE: unused attribute not zero";
    if (mode > MTIA_RESIZE_CUBIC) return "RESIZE: bad mode";
    if (a[MTIA_RESIZE_COORD] > MTIA_RESIZE_TF_HALF_PIXEL_FOR_NN) return "RESIZE: bad coordinate mode";
    if (a[MTIA_RESIZE_NEAREST_MODE] > (mode == MTIA_RESIZE_NEAREST ? MTIA_RESIZE_CEIL : 0u))
        return "RESIZE: NEAREST_MODE bad, or set without NEAREST";
    if (mode == MTIA_RESIZE_CUBIC ? !finite(a[MTIA_RESIZE_CUBIC_A]) : a[MTIA_RESIZE_CUBIC_A] != 0)
        return "RESIZE: CUBIC_A not finite, or set without CUBIC";
    if (a[MTIA_RESIZE_EXCLUDE_OUTSIDE] > (mode == MTIA_RESIZE_NEAREST ? 0u : 1u))
        return "RESIZE: EXCLUDE_OUTSIDE not 0/1, or set with NEAREST";
    const unsigned lead = y.ndim - sp;
    for (unsigned i = 0; i < lead; i++)
        if (x.dims[i] != y.dims[i]) return "RESIZE: a leading (not resized) dim differs";
    const uint64_t per = mode == MTIA_RESIZE_NEAREST ? 1 : mode == MTIA_RESIZE_LINEAR ? 2 : 4;
    uint64_t taps = 0;
    for (unsigned i = 0; i < sp; i++) {
        const double n = x.dims[lead + i], m = y.dims[lead + i];
        if (const uint32_t bits = a[MTIA_RESIZE_SCALE + i]) {
            const float s = f32(bits);
            if (!std::isfinite(s) || !(s > 0)) return "RESIZE: SCALE not finite and > 0";
            if (!(std::fabs(m - n * double(s)) < 1)) return "RESIZE: out size not within 1 of in * SCALE";
        }
        taps += per * y.dims[lead + i];
    }
    if (taps > MTIA_RESIZE_MAX_TAPS) return "RESIZE: resized dims too long (over MTIA_RESIZE_MAX_TAPS taps)";
    return nullptr;
}

const char *check_opcode(const mtia_op &op)
{
    switch (op.opcode) {
        case MTIA_OP_CONV:
            return check_conv(op);
        case MTIA_OP_GEMM:
            return check_gemm(op);
        case MTIA_OP_BINARY:
            return check_binary(op);
        case MTIA_OP_ACT:
            return check_act(op);
        case MTIA_OP_POOL:
            return check_pool(op);
        case MTIA_OP_SOFTMAX:
            return check_softmax(op);
        case MTIA_OP_TRANSPOSE:
            return check_transpose(op);
        case MTIA_OP_COPY_INTO:
            return check_window(op, op.in[0], op.out);
        case MTIA_OP_SLICE:
            return check_window(op, op.out, op.in[0]);
        case MTIA_OP_WHERE:
            return check_where(op);
        case MTIA_OP_REDUCE:
            return check_reduce(op);
        case MTIA_OP_LAYERNORM:
            return check_layernorm(op);
        case MTIA_OP_EXPAND:
            return check_expand(op);
        case MTIA_OP_GATHER:
            return check_gather(op);
        case MTIA_OP_EMBEDDING_BAG:
            return check_embedding_bag(op);
        case MTIA_OP_CAST:
            return check_cast(op);
        case MTIA_OP_PAD:
            return check_pad(op);
        case MTIA_OP_CONV_TRANSPOSE:
            return check_conv_transpose(op);
        case MTIA_OP_RESIZE:
            return check_resize(op);
        default:
            return "bad opcode";
    }
}

// Exact aliasing of the output with input k is allowed where every output
// element depends only on the same element of that input.
bool may_alias(const mtia_op &op, unsigned k)
{
    const Desc &in = op.in[k];
    if (in.offset != op.out.offset || !same_shape(in, op.out) || in.dtype != op.out.dtype) return false;
    switch (op.opcode) {
        case MTIA_OP_ACT:
        case MTIA_OP_BINARY:
        case MTIA_OP_SOFTMAX:  // row-wise: the row is read before it is written
            return true;
        case MTIA_OP_GEMM:
            return k == 2 && !is_int8_matmul(op);  // out = alpha AB + beta out
        case MTIA_OP_WHERE:
            return k != 0;  // x or y
        default:
            return false;
    }
}

// (N, C/16, H, W, 16), C/16 * 16 fitting a dim.
bool blocked_dims(const mtia_tensor_desc &t)
{
    return t.ndim == 5 && t.dims[4] == MTIA_OP_F_BLK && t.dims[1] <= UINT32_MAX / MTIA_OP_F_BLK;
}

// MTIA_OP_F_*: channels-last or blocked only on 2-D float CONV and POOL
// (blocked: a CONV of groups 1), one layout per tensor; ACCUM only on an F32
// CONV.
const char *check_flags(const mtia_op &op)
{
    if (!op.flags) return nullptr;
    if (op.flags & ~uint32_t{MTIA_OP_F_NHWC | MTIA_OP_F_BLK16 | MTIA_OP_F_ACCUM}) return "unknown flags";
    if (op.flags & (MTIA_OP_F_NHWC | MTIA_OP_F_BLK16)) {
        if (op.opcode != MTIA_OP_CONV && op.opcode != MTIA_OP_POOL) return "flags on an op other than CONV or POOL";
        const bool in_blk = op.flags & MTIA_OP_F_IN_BLK16, out_blk = op.flags & MTIA_OP_F_OUT_BLK16;
        if ((in_blk && (op.flags & MTIA_OP_F_IN_NHWC)) || (out_blk && (op.flags & MTIA_OP_F_OUT_NHWC)))
            return "channels-last and blocked flags on one tensor";
        if (in_blk || out_blk) {
            if ((in_blk && !blocked_dims(op.in[0])) || (out_blk && !blocked_dims(op.out)))
                return "a blocked tensor's dims are not (N, C/16, H, W, 16)";
            if ((!in_blk && op.in[0].ndim != 4) || (!out_blk && op.out.ndim != 4))
                return "blocked flags on a CONV/POOL that is not 2-D";
            if (op.opcode == MTIA_OP_CONV && op.attrs[MTIA_CONV_GROUPS] != 1)
                return "blocked tensors on a CONV of groups other than 1";
        } else if (op.in[0].ndim != 4 || op.out.ndim != 4) {
            return "channels-last flags on a CONV/POOL that is not 2-D";
        }
        if (is_int8_matmul(op) || !mtia_dtype_is_float(op.in[0].dtype)) return "layout flags on a non-float op";
    }
    if (op.flags & MTIA_OP_F_ACCUM) {
        if (op.opcode != MTIA_OP_CONV) return "ACCUM on an op other than CONV";
        for (unsigned k = 0; k < op.n_in && k < MTIA_OP_MAX_IN; k++)
            if (op.in[k].dtype != MTIA_DTYPE_F32) return "ACCUM on a CONV whose tensors are not all F32";
        if (op.out.dtype != MTIA_DTYPE_F32) return "ACCUM on a CONV whose tensors are not all F32";
    }
    return nullptr;
}

}  // namespace

const char *check_op(const mtia_op &raw, uint64_t arena)
{
    if (raw.opcode < 1 || raw.opcode > MTIA_OP_LAST) return "bad opcode";
    if (const char *e = check_flags(raw)) return e;
    const mtia_op op = logical_op(raw);  // shapes in NCHW order from here on
    if (!is_zero(op.reserved, sizeof(op.reserved))) return "reserved not zero";
    if (op.act > MTIA_ACT_LAST) return "bad act";
    if (op.act == MTIA_ACT_CLIP) {
        const float lo = f32(op.act_min), hi = f32(op.act_max);
        if (std::isnan(lo) || std::isnan(hi) || lo > hi) return "CLIP bounds NaN or min > max";
    } else if (op.act_min || op.act_max) {
        return "act_min/act_max not zero without CLIP";
    }
    if (op.act == MTIA_ACT_ERF && op.opcode != MTIA_OP_ACT) return "ERF only on ACT (it has no fused form)";
    if (op.n_in > MTIA_OP_MAX_IN) return "n_in > 3";
    for (unsigned k = 0; k < MTIA_OP_MAX_IN; k++) {
        if (k >= op.n_in) {
            if (!is_zero(&op.in[k], sizeof(op.in[k]))) return "unused input descriptor not zero";
            continue;
        }
        const bool no_scale = (k == 1 && is_int8_matmul(op)) || (k == 0 && op.opcode == MTIA_OP_EMBEDDING_BAG);
        if (const char *e = check_tensor(op.in[k], arena, no_scale)) return e;
    }
    if (const char *e = check_tensor(op.out, arena)) return e;
    if (const char *e = check_opcode(op)) return e;
    if (is_int8_matmul(op))
        if (const char *e = check_int8_matmul(op)) return e;
    if (is_int_matmul(op))
        if (const char *e = check_int_matmul(op)) return e;
    if (const char *e = check_dtypes(op)) return e;
    for (unsigned k = 0; k < op.n_in; k++)
        if (overlap(op.in[k], op.out) && !may_alias(op, k))
            return "out overlaps an input (only exact in-place elementwise is allowed)";
    if (op_work(op).item_work > kMaxItemWork) return "op too large: work per item over 2^34";
    return nullptr;
}

}  // namespace compute
}  // namespace mtia
