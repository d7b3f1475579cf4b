// SPDX-License-Identifier: MIT
#include "device_rules.h"

#include <algorithm>
#include <cmath>

#include "errors.h"

namespace mtia::compiler {

namespace {

std::string shp(const Shape &s) { return shape_str(s); }

std::string check_conv(const Shape &x, const Shape &w, const Shape *b, const Shape &o, const std::vector<uint32_t> &a)
{
    if (a.size() < 9) return "needs 9 attributes";
    if (x.size() != 4 || w.size() != 4 || o.size() != 4) return "X, W and out must be 4-D";
    const int64_t sh = a[MTIA_CONV_STRIDE_H], sw = a[MTIA_CONV_STRIDE_W], dh = a[MTIA_CONV_DIL_H],
                  dw = a[MTIA_CONV_DIL_W], g = a[MTIA_CONV_GROUPS];
    if (!sh || !sw || !dh || !dw || !g) return "stride, dilation and groups must be >= 1";
    if (x[1] % g || w[0] % g || w[1] * g != x[1]) return "channels do not match groups";
    if (b && (b->size() != 1 || (*b)[0] != w[0])) return "bias must be (M)";
    const int64_t hs = x[2] + a[MTIA_CONV_PAD_T] + a[MTIA_CONV_PAD_B] - dh * (w[2] - 1) - 1;
    const int64_t ws = x[3] + a[MTIA_CONV_PAD_L] + a[MTIA_CONV_PAD_R] - dw * (w[3] - 1) - 1;
    if (hs < 0 || ws < 0) return "kernel larger than the padded input";
    if (std::max(a[MTIA_CONV_PAD_T], a[MTIA_CONV_PAD_B]) >= dh * (w[2] - 1) + 1 ||
        std::max(a[MTIA_CONV_PAD_L], a[MTIA_CONV_PAD_R]) >= dw * (w[3] - 1) + 1)
        return "a pad is not smaller than the dilated kernel";
    Shape want = {x[0], w[0], hs / sh + 1, ws / sw + 1};
    if (o != want) return "out " + shp(o) + " should be " + shp(want);
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

std::string check_pool(const Shape &x, const Shape &o, const std::vector<uint32_t> &a)
{
    if (a.size() < 12) return "needs 12 attributes";
    if (x.size() != 4 || o.size() != 4) return "X and out must be 4-D";
    if (a[MTIA_POOL_KIND] > MTIA_POOL_AVG) return "bad pool kind";
    const int64_t kh = a[MTIA_POOL_K_H], kw = a[MTIA_POOL_K_W], sh = a[MTIA_POOL_STRIDE_H], sw = a[MTIA_POOL_STRIDE_W];
    const int64_t dh = a[MTIA_POOL_DIL_H], dw = a[MTIA_POOL_DIL_W];
    if (!kh || !kw || !sh || !sw || !dh || !dw) return "kernel, strides and dilations must be >= 1";
    const int64_t hs = x[2] + a[MTIA_POOL_PAD_T] + a[MTIA_POOL_PAD_B] - dh * (kh - 1) - 1;
    const int64_t ws = x[3] + a[MTIA_POOL_PAD_L] + a[MTIA_POOL_PAD_R] - dw * (kw - 1) - 1;
    if (hs < 0 || ws < 0) return "window larger than the padded input";
    Shape want = {x[0], x[1], hs / sh + 1, ws / sw + 1};
    if (o != want) return "out " + shp(o) + " should be " + shp(want);
    if (std::max(a[MTIA_POOL_PAD_T], a[MTIA_POOL_PAD_B]) >= dh * (kh - 1) + 1 ||
        std::max(a[MTIA_POOL_PAD_L], a[MTIA_POOL_PAD_R]) >= dw * (kw - 1) + 1)
        return "a pad is not smaller than the dilated kernel";
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

std::string check_op(const DevGraph &d, const DevOp &op)
{
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
    switch (op.kind) {
        case MTIA_OP_CONV:
            if (!need(2, 3)) return "Conv takes 2 or 3 inputs";
            return check_conv(sh(op.in[0]), sh(op.in[1]), nin == 3 ? &sh(op.in[2]) : nullptr, o, op.attrs);
        case MTIA_OP_GEMM:
            if (!need(2, 3)) return "Gemm takes 2 or 3 inputs";
            return check_gemm(sh(op.in[0]), sh(op.in[1]), nin == 3 ? &sh(op.in[2]) : nullptr, o, op.attrs);
        case MTIA_OP_BINARY:
            if (!need(2, 2)) return "Binary takes 2 inputs";
            if (op.attrs.empty() || op.attrs[0] > MTIA_BINARY_MIN) return "bad binary kind (comparisons write BOOL)";
            for (int t : op.in) {
                if (sh(t).size() != o.size()) return "inputs must have out's rank";
                for (size_t k = 0; k < o.size(); ++k)
                    if (sh(t)[k] != o[k] && sh(t)[k] != 1)
                        return "input " + shp(sh(t)) + " does not broadcast to " + shp(o);
            }
            return "";
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
            if (t.size() != 2 || o.size() != 2 || o[1] != t[1] * op.attrs[MTIA_EMBEDDING_BAG_TABLES])
                return "tables (R, D), out (B, T*D)";
            if (op.attrs[MTIA_EMBEDDING_BAG_BAG_SIZE] &&
                ids != Shape{op.attrs[MTIA_EMBEDDING_BAG_TABLES], o[0], op.attrs[MTIA_EMBEDDING_BAG_BAG_SIZE]})
                return "ids are not (T, B, L)";
            return "";
        }
        case MTIA_OP_CAST:
            if (!need(1, 1) || sh(op.in[0]) != o) return "Cast takes 1 input of out's shape";
            return "";
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
    for (const auto &op : d.ops) {
        // Opcodes 1..9 compute float32 only: an integer or bool tensor there
        // is a model the device cannot run (not a compiler bug).
        if (op.kind <= MTIA_OP_SLICE) {
            std::vector<int> ts = op.in;
            ts.push_back(op.out);
            for (int t : ts)
                if (d.tensors[t].dtype != MTIA_DTYPE_F32)
                    unsupported("op '" + op.name + "' (" + op_kind_name(op.kind) + ") computes float32 only; '" +
                                d.tensors[t].name + "' is an integer or bool tensor");
        }
        std::string why = check_op(d, op);
        if (!why.empty())
            internal_error(std::string("op '") + op.name + "' (" + op_kind_name(op.kind) +
                           ") breaks a device rule: " + why);
    }
}

}  // namespace mtia::compiler
