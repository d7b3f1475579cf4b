// SPDX-License-Identifier: MIT
#include "device_rules.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "errors.h"
#include "mtia/mtia_quant.h"

namespace mtia::compiler {

namespace {

std::string shp(const Shape &s) { return shape_str(s); }

const char *dtype_str(uint32_t dt)
{
    return dt == MTIA_DTYPE_BOOL  ? "bool"
           : dt == MTIA_DTYPE_I32 ? "int32"
           : dt == MTIA_DTYPE_I64 ? "int64"
                                  : "float32 (or int8/uint8 quantized)";
}

// One spatial dim of a CONV/POOL window: the out size, or "" on success.
struct Win {
    int64_t k, s, d, p0, p1;
};
std::string check_win(int64_t in, const Win &w, int64_t out)
{
    if (!w.k || !w.s || !w.d) return "kernel, strides and dilations must be >= 1";
    const int64_t span = in + w.p0 + w.p1 - w.d * (w.k - 1) - 1;
    if (span < 0) return "window larger than the padded input";
    if (std::max(w.p0, w.p1) >= w.d * (w.k - 1) + 1) return "a pad is not smaller than the dilated kernel";
    if (span / w.s + 1 != out)
        return "out spatial size " + std::to_string(out) + " should be " + std::to_string(span / w.s + 1);
    return "";
}

// 4-D or 5-D (depth attributes after the 2-D ones, zero in 2-D ops).
std::string check_conv(const Shape &x, const Shape &w, const Shape *b, const Shape &o, std::vector<uint32_t> a)
{
    if (a.size() < 9) return "needs 9 attributes";
    const size_t r = x.size();
    if ((r != 4 && r != 5) || w.size() != r || o.size() != r) return "X, W and out must all be 4-D or all 5-D";
    a.resize(MTIA_OP_MAX_ATTRS);
    const int64_t g = a[MTIA_CONV_GROUPS];
    if (!g) return "groups must be >= 1";
    if (r == 4 && (a[MTIA_CONV_STRIDE_D] || a[MTIA_CONV_DIL_D] || a[MTIA_CONV_PAD_FRONT] || a[MTIA_CONV_PAD_BACK]))
        return "depth attributes of a 2-D conv must be 0";
    if (x[1] % g || w[0] % g || w[1] * g != x[1]) return "channels do not match groups";
    if (b && (b->size() != 1 || (*b)[0] != w[0])) return "bias must be (M)";
    if (o[0] != x[0] || o[1] != w[0]) return "out N or M mismatch";
    std::vector<Win> wins;
    if (r == 5)
        wins.push_back(
            {w[2], a[MTIA_CONV_STRIDE_D], a[MTIA_CONV_DIL_D], a[MTIA_CONV_PAD_FRONT], a[MTIA_CONV_PAD_BACK]});
    wins.push_back({w[r - 2], a[MTIA_CONV_STRIDE_H], a[MTIA_CONV_DIL_H], a[MTIA_CONV_PAD_T], a[MTIA_CONV_PAD_B]});
    wins.push_back({w[r - 1], a[MTIA_CONV_STRIDE_W], a[MTIA_CONV_DIL_W], a[MTIA_CONV_PAD_L], a[MTIA_CONV_PAD_R]});
    for (size_t i = 0; i < wins.size(); i++)
        if (std::string e = check_win(x[2 + i], wins[i], o[2 + i]); !e.empty()) return e;
    return "";
}

std::string check_gemm(const Shape &a, const Shape &b, const Shape *c, const Shape &o, const std::vector<uint32_t> &at)
{
    if (at.size() < 4) return "needs 4 attributes";
    const size_t r = o.size();
    if (r < 2 || a.size() < 2 || b.size() < 2) return "A, B and out need >= 2 dims";
    if ((a.size() != r && a.size() != 2) || (b.size() != r && b.size() != 2))
        return "A and B must be 2-D or have out's rank";
    const bool ta = at[MTIA_GEMM_TRANS_A], tb = at[MTIA_GEMM_TRANS_B];
    const int64_t m = ta ? a[a.size() - 1] : a[a.size() - 2], k = ta ? a[a.size() - 2] : a[a.size() - 1];
    const int64_t kb = tb ? b[b.size() - 1] : b[b.size() - 2], n = tb ? b[b.size() - 2] : b[b.size() - 1];
    if (k != kb) return "inner dims differ";
    if (o[r - 2] != m || o[r - 1] != n) return "out " + shp(o) + " is not (..., M, N)";
    for (size_t d = 0; d + 2 < r; ++d) {  // NumPy broadcasting of batch dims
        const int64_t da = a.size() == r ? a[d] : 1, db = b.size() == r ? b[d] : 1;
        if ((da != o[d] && da != 1) || (db != o[d] && db != 1))
            return "A's or B's batch dims do not broadcast to out's";
        if (da != o[d] && db != o[d]) return "out's batch dim is neither A's nor B's";
    }
    if (a.size() == 2 && b.size() == 2 && r != 2) return "a batched out needs a batched A or B";
    if (c) {
        if (c->size() != r) return "C must have out's rank";
        for (size_t d = 0; d < r; ++d)
            if ((*c)[d] != 1 && (*c)[d] != o[d]) return "C " + shp(*c) + " does not broadcast to " + shp(o);
    }
    return "";
}

std::string check_pool(const Shape &x, const Shape &o, std::vector<uint32_t> a)
{
    if (a.size() < 12) return "needs 12 attributes";
    const size_t r = x.size();
    if ((r != 4 && r != 5) || o.size() != r) return "X and out must both be 4-D or both 5-D";
    a.resize(MTIA_OP_MAX_ATTRS);
    if (a[MTIA_POOL_KIND] > MTIA_POOL_AVG) return "bad pool kind";
    if (r == 4 && (a[MTIA_POOL_K_D] || a[MTIA_POOL_STRIDE_D] || a[MTIA_POOL_PAD_D] || a[MTIA_POOL_DIL_D]))
        return "depth attributes of a 2-D pool must be 0";
    if (o[0] != x[0] || o[1] != x[1]) return "out N or C mismatch";
    std::vector<Win> wins;
    if (r == 5)
        wins.push_back({a[MTIA_POOL_K_D], a[MTIA_POOL_STRIDE_D], a[MTIA_POOL_DIL_D], a[MTIA_POOL_PAD_D] & 0xffff,
                        a[MTIA_POOL_PAD_D] >> 16});
    wins.push_back(
        {a[MTIA_POOL_K_H], a[MTIA_POOL_STRIDE_H], a[MTIA_POOL_DIL_H], a[MTIA_POOL_PAD_T], a[MTIA_POOL_PAD_B]});
    wins.push_back(
        {a[MTIA_POOL_K_W], a[MTIA_POOL_STRIDE_W], a[MTIA_POOL_DIL_W], a[MTIA_POOL_PAD_L], a[MTIA_POOL_PAD_R]});
    for (size_t i = 0; i < wins.size(); i++)
        if (std::string e = check_win(x[2 + i], wins[i], o[2 + i]); !e.empty()) return e;
    return "";
}

// out[.., start:start+part[axis], ..] ~ whole: same rank, other dims equal.
std::string check_window(const Shape &whole, const Shape &part, const std::vector<uint32_t> &a)
{
    if (a.size() < 2) return "needs 2 attributes";
    if (whole.size() != part.size()) return "ranks differ";
    const uint32_t axis = a[0];
    if (axis >= whole.size()) return "axis out of range";
    for (size_t d = 0; d < whole.size(); ++d)
        if (d != axis && whole[d] != part[d]) return "dims other than the axis differ";
    const int64_t step =
        a.size() > MTIA_SLICE_STEP && a[MTIA_SLICE_STEP] ? static_cast<int32_t>(a[MTIA_SLICE_STEP]) : 1;
    if (step == 1) {
        if (static_cast<int64_t>(a[1]) + part[axis] > whole[axis]) return "start + size past the end";
        return "";
    }
    const int64_t last = static_cast<int64_t>(a[1]) + (part[axis] - 1) * step;
    if (a[1] >= whole[axis] || last < 0 || last >= whole[axis]) return "a stepped index past the axis";
    return "";
}

}  // namespace

// A per-channel int8 CONV/GEMM (mtia_spec.h, "Reduced precision"): its
// quantized input, I8 weights with their scales in in[2] (2, M) and a
// reduction length the int32 accumulator holds exactly.
bool per_channel(const DevGraph &d, const DevOp &op)
{
    if ((op.kind != MTIA_OP_CONV && op.kind != MTIA_OP_GEMM) || op.in.size() < 2) return false;
    const DevTensor &w = d.tensors[op.in[1]];
    return w.dtype == MTIA_DTYPE_I8 && w.scale == 0.0f;
}

std::string check_per_channel(const DevGraph &d, const DevOp &op)
{
    const Shape &x = d.tensors[op.in[0]].shape, &w = d.tensors[op.in[1]].shape, &o = d.tensors[op.out].shape;
    if (!mtia_dtype_is_quant(d.tensors[op.in[0]].dtype)) return "a per-channel int8 op's input must be int8/uint8";
    if (op.in.size() != 3 || d.tensors[op.in[2]].dtype != MTIA_DTYPE_F32) return "needs the (2, M) scales and bias";
    int64_t m = 0, k = 1;
    std::string e;
    if (op.kind == MTIA_OP_CONV) {
        m = w[0];
        for (size_t i = 1; i < w.size(); ++i) k *= w[i];
        e = check_conv(x, w, nullptr, o, op.attrs);
    } else {
        if (w.size() != 2 || op.attrs.size() < 4 || op.attrs[MTIA_GEMM_TRANS_A] ||
            op.attrs[MTIA_GEMM_ALPHA] != f32_bits(1.0f) || op.attrs[MTIA_GEMM_BETA])
            return "a per-channel int8 Gemm takes a 2-D B, no TRANS_A, ALPHA 1 and BETA 0";
        const bool tb = op.attrs[MTIA_GEMM_TRANS_B];
        m = tb ? w[0] : w[1];
        k = tb ? w[1] : w[0];
        e = check_gemm(x, w, nullptr, o, op.attrs);
    }
    if (!e.empty()) return e;
    if (d.tensors[op.in[2]].shape != Shape{2, m}) return "scales and bias must be (2, M)";
    if (k > MTIA_QUANT_MAX_K) return "reduction longer than MTIA_QUANT_MAX_K";
    return "";
}

std::string check_op(const DevGraph &d, const DevOp &op)
{
    if (per_channel(d, op)) return check_per_channel(d, op);
    const size_t nin = op.in.size();
    if (nin < 1 || nin > MTIA_OP_MAX_IN) return "bad input count";
    if (op.attrs.size() > MTIA_OP_MAX_ATTRS) return "too many attributes";
    if (op.act > MTIA_ACT_LAST) return "bad activation";
    if (op.act == MTIA_ACT_CLIP && !(op.act_min <= op.act_max)) return "clip min > max";
    auto sh = [&](int t) -> const Shape & { return d.tensors[t].shape; };
    for (int t : op.in)
        if (sh(t).empty() || sh(t).size() > MTIA_MAX_DIMS) return "bad input rank";
    const Shape &o = sh(op.out);
    if (o.empty() || o.size() > MTIA_MAX_DIMS) return "bad output rank";
    auto need = [&](size_t lo, size_t hi) { return nin >= lo && nin <= hi; };
    // BINARY and WHERE: every input has out's rank and broadcasts to it.
    auto broadcast_to_out = [&]() -> std::string {
        for (int t : op.in) {
            if (sh(t).size() != o.size()) return "inputs must have out's rank";
            for (size_t k = 0; k < o.size(); ++k)
                if (sh(t)[k] != o[k] && sh(t)[k] != 1)
                    return "input " + shp(sh(t)) + " does not broadcast to " + shp(o);
        }
        return "";
    };
    // Integer CONV/GEMM (mtia_spec.h, "Opcodes"): no bias or C, act, alpha
    // or beta (the dtypes are check_program's).
    const bool int_matmul =
        (op.kind == MTIA_OP_CONV || op.kind == MTIA_OP_GEMM) && d.tensors[op.in[0]].dtype == MTIA_DTYPE_I32;
    if (int_matmul &&
        (nin != 2 || op.act != MTIA_ACT_NONE ||
         (op.kind == MTIA_OP_GEMM &&
          (op.attrs.size() < 4 || op.attrs[MTIA_GEMM_ALPHA] != f32_bits(1.0f) || op.attrs[MTIA_GEMM_BETA]))))
        return "an integer Conv/Gemm takes 2 inputs, no activation, ALPHA 1 and BETA 0";
    switch (op.kind) {
        case MTIA_OP_CONV:
            if (!need(2, 3)) return "Conv takes 2 or 3 inputs";
            return check_conv(sh(op.in[0]), sh(op.in[1]), nin == 3 ? &sh(op.in[2]) : nullptr, o, op.attrs);
        case MTIA_OP_GEMM:
            if (!need(2, 3)) return "Gemm takes 2 or 3 inputs";
            return check_gemm(sh(op.in[0]), sh(op.in[1]), nin == 3 ? &sh(op.in[2]) : nullptr, o, op.attrs);
        case MTIA_OP_BINARY:
            if (!need(2, 2)) return "Binary takes 2 inputs";
            if (op.attrs.empty() || op.attrs[0] > MTIA_BINARY_GREATER) return "bad binary kind";
            return broadcast_to_out();
        case MTIA_OP_ACT:
            if (!need(1, 1) || sh(op.in[0]) != o) return "Act takes 1 input of out's shape";
            return "";
        case MTIA_OP_POOL:
            if (!need(1, 1)) return "Pool takes 1 input";
            return check_pool(sh(op.in[0]), o, op.attrs);
        case MTIA_OP_SOFTMAX:
            if (!need(1, 1) || sh(op.in[0]) != o) return "Softmax takes 1 input of out's shape";
            if (op.attrs.empty() || op.attrs[0] >= o.size()) return "axis out of range";
            return "";
        case MTIA_OP_TRANSPOSE: {
            if (!need(1, 1)) return "Transpose takes 1 input";
            const Shape &x = sh(op.in[0]);
            if (x.size() != o.size() || op.attrs.size() < o.size()) return "perm/rank mismatch";
            std::vector<uint32_t> p(op.attrs.begin(), op.attrs.begin() + o.size());
            std::vector<uint32_t> s = p;
            std::sort(s.begin(), s.end());
            for (size_t k = 0; k < s.size(); ++k)
                if (s[k] != k) return "perm is not a permutation";
            for (size_t k = 0; k < o.size(); ++k)
                if (o[k] != x[p[k]]) return "out dims are not the permuted input dims";
            return "";
        }
        case MTIA_OP_COPY_INTO:
            if (!need(1, 1)) return "CopyInto takes 1 input";
            return check_window(o, sh(op.in[0]), op.attrs);
        case MTIA_OP_SLICE:
            if (!need(1, 1)) return "Slice takes 1 input";
            return check_window(sh(op.in[0]), o, op.attrs);
        case MTIA_OP_REDUCE: {
            if (!need(1, 1) || op.attrs.size() < 2) return "Reduce takes 1 input and 2 attributes";
            const Shape &x = sh(op.in[0]);
            if (x.size() != o.size() || !op.attrs[1] || op.attrs[1] >> x.size()) return "bad reduce axes";
            for (size_t k = 0; k < x.size(); ++k)
                if (o[k] != ((op.attrs[1] >> k) & 1 ? 1 : x[k])) return "reduce out dims";
            return "";
        }
        case MTIA_OP_LAYERNORM: {
            if (!need(1, 3) || sh(op.in[0]) != o || op.attrs.size() < 2 || op.attrs[0] >= o.size())
                return "LayerNorm: input of out's shape, axis < rank";
            const Shape tail(o.begin() + op.attrs[0], o.end());
            for (size_t k = 1; k < nin; ++k)
                if (sh(op.in[k]) != tail) return "LayerNorm scale/bias " + shp(sh(op.in[k])) + " != " + shp(tail);
            return "";
        }
        case MTIA_OP_EXPAND:
            if (!need(1, 1) || sh(op.in[0]).size() != o.size()) return "Expand takes 1 input of out's rank";
            for (size_t k = 0; k < o.size(); ++k)
                if (sh(op.in[0])[k] != o[k] && sh(op.in[0])[k] != 1) return "Expand input does not broadcast";
            return "";
        case MTIA_OP_GATHER: {
            if (!need(2, 2) || op.attrs.size() != 1) return "Gather takes 2 inputs and an axis";
            const Shape &x = sh(op.in[0]), &ix = sh(op.in[1]);
            const size_t axis = op.attrs[0];
            if (axis >= x.size()) return "axis out of range";
            Shape want(x.begin(), x.begin() + static_cast<int64_t>(axis));
            want.insert(want.end(), ix.begin(), ix.end());
            want.insert(want.end(), x.begin() + static_cast<int64_t>(axis) + 1, x.end());
            if (want != o) return "out is not data[:axis] + indices + data[axis+1:]";
            return "";
        }
        case MTIA_OP_EMBEDDING_BAG: {
            if (!need(2, 3) || op.attrs.size() < 5) return "EmbeddingBag takes 2..3 inputs and 5+ attributes";
            const Shape &t = sh(op.in[0]), &ids = sh(op.in[1]);
            const uint8_t tdt = d.tensors[op.in[0]].dtype;
            if (t.size() != 2 || o.size() != 2 ||
                o[1] != int64_t{mtia_embedding_bag_dim(tdt, static_cast<uint32_t>(t[1]))} *
                            op.attrs[MTIA_EMBEDDING_BAG_TABLES])
                return "tables (R, D) (8-bit rowwise: (R, D + 8)), out (B, T*D)";
            if (mtia_dtype_is_quant(tdt) && (d.tensors[op.in[0]].scale != 0.0f || d.tensors[op.in[0]].zero_point != 0))
                return "8-bit rowwise tables have scale and zero point 0";
            if (op.attrs[MTIA_EMBEDDING_BAG_BAG_SIZE] &&
                ids != Shape{op.attrs[MTIA_EMBEDDING_BAG_TABLES], o[0], op.attrs[MTIA_EMBEDDING_BAG_BAG_SIZE]})
                return "ids are not (T, B, L)";
            return "";
        }
        case MTIA_OP_WHERE:
            if (!need(3, 3)) return "Where takes 3 inputs";
            return broadcast_to_out();
        case MTIA_OP_CAST: {
            if (!need(1, 1) || sh(op.in[0]) != o) return "Cast takes 1 input of out's shape";
            // int8/uint8 to and from floats and each other, and to int32 (q - zero point).
            const uint8_t from = d.tensors[op.in[0]].dtype, to = d.tensors[op.out].dtype;
            if ((mtia_dtype_is_quant(from) && !mtia_dtype_is_float(to) && !mtia_dtype_is_quant(to) &&
                 to != MTIA_DTYPE_I32) ||
                (mtia_dtype_is_quant(to) && !mtia_dtype_is_float(from) && !mtia_dtype_is_quant(from)))
                return "Cast between int8/uint8 and int64/bool, or from int32 to int8/uint8";
            return "";
        }
        case MTIA_OP_CONV_TRANSPOSE: {
            if (!need(2, 3)) return "ConvTranspose takes 2 or 3 inputs";
            const Shape &x = sh(op.in[0]), &w = sh(op.in[1]);
            if ((x.size() != 4 && x.size() != 5) || w.size() != x.size() || o.size() != x.size())
                return "X, W and out must all be 4-D or all 5-D";
            if (op.attrs.size() < 9 || !op.attrs[MTIA_CONV_GROUPS]) return "needs 9 attributes, groups >= 1";
            if (w[0] != x[1] || o[1] != w[1] * op.attrs[MTIA_CONV_GROUPS] || x[1] % op.attrs[MTIA_CONV_GROUPS])
                return "channels do not match groups";
            return "";
        }
        case MTIA_OP_PAD: {
            if (!need(1, 1)) return "Pad takes 1 input";
            const Shape &x = sh(op.in[0]);
            if (x.size() != o.size() || op.attrs.size() != MTIA_PAD_BEGIN + o.size()) return "rank/pads mismatch";
            if (op.attrs[MTIA_PAD_MODE] > MTIA_PAD_EDGE) return "bad pad mode";
            for (size_t k = 0; k < o.size(); ++k) {
                const int64_t b = static_cast<int32_t>(op.attrs[MTIA_PAD_BEGIN + k]), e = o[k] - x[k] - b;
                if (x[k] + std::min<int64_t>(b, 0) + std::min<int64_t>(e, 0) < 1) return "pads crop a whole dim";
            }
            return "";
        }
        case MTIA_OP_RESIZE: {
            if (!need(1, 1) || op.attrs.size() < MTIA_RESIZE_SCALE + 1) return "Resize takes 1 input and 7+ attributes";
            const Shape &x = sh(op.in[0]);
            const size_t sp = op.attrs[MTIA_RESIZE_SPATIAL];
            const uint32_t mode = op.attrs[MTIA_RESIZE_MODE];
            const uint64_t per = mode == MTIA_RESIZE_NEAREST ? 1 : mode == MTIA_RESIZE_LINEAR ? 2 : 4;
            if (x.size() != o.size() || sp < 1 || sp > std::min<size_t>(MTIA_RESIZE_MAX_SPATIAL, o.size()) ||
                op.attrs.size() != MTIA_RESIZE_SCALE + sp)
                return "rank or resized dims mismatch";
            if (!std::equal(x.begin(), x.end() - static_cast<int64_t>(sp), o.begin())) return "a leading dim differs";
            uint64_t taps = 0;
            for (size_t k = o.size() - sp; k < o.size(); ++k) {
                const uint32_t bits = op.attrs[MTIA_RESIZE_SCALE + k - (o.size() - sp)];
                float s;
                std::memcpy(&s, &bits, 4);
                if (bits && !(std::fabs(double(o[k]) - double(x[k]) * s) < 1)) return "out not within 1 of in * scale";
                taps += per * static_cast<uint64_t>(o[k]);
            }
            if (taps > MTIA_RESIZE_MAX_TAPS) return "resized dims too long";
            return "";
        }
        default:
            return "bad opcode";
    }
}

void check_program(const DevGraph &d)
{
    if (d.ops.empty()) internal_error("the program has no ops");
    if (d.ops.size() > MTIA_MAX_PROGRAM_OPS)
        unsupported("the model needs " + std::to_string(d.ops.size()) + " device ops, over the device's " +
                    std::to_string(MTIA_MAX_PROGRAM_OPS));
    // An 8-bit input takes its scale from what reads it; one that nothing
    // reads (the fuzzer found it) would be a quantized input without one.
    for (const int t : d.inputs) {
        const DevTensor &tt = d.tensors[t];
        if (mtia_dtype_is_quant(tt.dtype) && !(tt.scale > 0.0f))
            unsupported("'" + tt.name + "' is " + (tt.dtype == MTIA_DTYPE_I8 ? "int8" : "uint8") +
                        " without a scale: an int8/uint8 input must be read by DequantizeLinear");
    }
    for (const auto &op : d.ops) {
        // The spec's dtype rule: an integer or bool tensor where the op
        // computes float32 is a model the device cannot run (not a bug).
        const uint32_t kind = op.attrs.empty() ? 0 : op.attrs[0];
        for (size_t k = 0; k <= op.in.size(); ++k) {
            const int t = k < op.in.size() ? op.in[k] : op.out;
            const uint32_t in0 = op.in.empty() ? 0 : d.tensors[op.in[0]].dtype;
            const uint32_t want = mtia_op_tensor_dtype(op.kind, kind, k < op.in.size() ? k : MTIA_OP_MAX_IN, in0,
                                                       d.tensors[op.out].dtype);
            const DevTensor &tt = d.tensors[t];
            const bool rowwise = k == 0 && op.kind == MTIA_OP_EMBEDDING_BAG;  // scale and bias in each row
            if (mtia_dtype_is_quant(tt.dtype) && !(tt.scale > 0.0f) && !(k == 1 && per_channel(d, op)) && !rowwise)
                unsupported("'" + tt.name + "' is " + (tt.dtype == MTIA_DTYPE_I8 ? "int8" : "uint8") +
                            " without a scale: an int8/uint8 input must be read by DequantizeLinear");
            if (want && !mtia_op_dtype_fits(want, d.tensors[t].dtype))
                unsupported("op '" + op.name + "' (" + op_kind_name(op.kind) + ") takes " + dtype_str(want) +
                            " there; '" + d.tensors[t].name + "' is not");
        }
        std::string why = check_op(d, op);
        if (!why.empty())
            internal_error(std::string("op '") + op.name + "' (" + op_kind_name(op.kind) +
                           ") breaks a device rule: " + why);
    }
}

}  // namespace mtia::compiler
