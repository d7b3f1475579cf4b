// SPDX-License-Identifier: MIT
// Channels-last and nChw16c planning (see layout_plan.h).
#include "layout_plan.h"

#include <map>
#include <numeric>
#include <vector>

namespace mtia::compiler {

namespace {

bool is_float(uint8_t dtype) { return mtia_dtype_is_float(dtype) != 0; }

// A float 2-D CONV or POOL: takes channels-last X and out through its flags
// (not the int8 CONV, whose weights are I8).
bool takes_flags(const DevGraph &d, const DevOp &op)
{
    if (op.kind != MTIA_OP_CONV && op.kind != MTIA_OP_POOL) return false;
    const DevTensor &x = d.tensors[op.in[0]], &y = d.tensors[op.out];
    if (x.shape.size() != 4 || y.shape.size() != 4 || !is_float(x.dtype) || !is_float(y.dtype)) return false;
    return op.kind == MTIA_OP_POOL || is_float(d.tensors[op.in[1]].dtype);
}

// An op whose output element depends only on the same (broadcast) element
// of each input: the same in any layout given all operands in one.
bool elementwise(const DevGraph &d, const DevOp &op)
{
    if (d.tensors[op.out].shape.size() != 4) return false;
    switch (op.kind) {
        case MTIA_OP_ACT:
            return is_float(d.tensors[op.out].dtype);
        case MTIA_OP_CAST:
            return is_float(d.tensors[op.in[0]].dtype) && is_float(d.tensors[op.out].dtype);
        case MTIA_OP_BINARY:
            return op.attrs[MTIA_BINARY_KIND] < MTIA_BINARY_EQUAL && is_float(d.tensors[op.out].dtype);
        default:
            return false;
    }
}

// NCHW and NHWC bytes are the same: one channel, or one pixel.
bool neutral(const Shape &s) { return s.size() == 4 && (s[1] == 1 || s[2] * s[3] == 1); }

Shape to_nhwc(const Shape &s) { return {s[0], s[2], s[3], s[1]}; }
Shape to_blk16(const Shape &s) { return {s[0], s[1] / MTIA_OP_F_BLK, s[2], s[3], MTIA_OP_F_BLK}; }

struct Groups {
    std::vector<int> parent;
    explicit Groups(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
    int find(int t)
    {
        while (parent[t] != t) t = parent[t] = parent[parent[t]];
        return t;
    }
    void join(int a, int b) { parent[find(a)] = find(b); }
};

// Which of the channels-last tensors (@nhwc) go nChw16c instead: those of
// groups whose every tensor has whole blocks of 16 channels (a neutral
// (N, C, 1, 1) one reads the same blocked too) and whose convolutions are
// all of groups 1 -- unless a CONV or POOL would then see a blocked tensor
// on one side and a channels-last one on the other (oneDNN has no kernel
// for the mix), or a POOL a blocked one and a plain one that is not 1x1.
std::vector<bool> plan_blk16(const DevGraph &d, Groups &g, const std::vector<bool> &nhwc)
{
    const size_t n = d.tensors.size();
    std::vector<bool> ok(n, true);  // per group root
    for (size_t t = 0; t < n; ++t)
        if (nhwc[t] && d.tensors[t].shape[1] % MTIA_OP_F_BLK) ok[g.find(int(t))] = false;
    for (const DevOp &op : d.ops)
        if (takes_flags(d, op) && op.kind == MTIA_OP_CONV && op.attrs[MTIA_CONV_GROUPS] != 1)
            ok[g.find(op.in[0])] = ok[g.find(op.out)] = false;
    const auto blk = [&](int t) { return nhwc[t] && ok[g.find(t)]; };
    for (bool changed = true; changed;) {
        changed = false;
        for (const DevOp &op : d.ops) {
            if (!takes_flags(d, op)) continue;
            const int x = op.in[0], y = op.out;
            const bool mixed =
                (blk(x) && nhwc[y] && !blk(y)) || (blk(y) && nhwc[x] && !blk(x)) ||
                (op.kind == MTIA_OP_POOL && blk(x) != blk(y) && !neutral(d.tensors[blk(x) ? y : x].shape));
            if (mixed && (ok[g.find(x)] || ok[g.find(y)])) {
                ok[g.find(x)] = ok[g.find(y)] = false;
                changed = true;
            }
        }
    }
    std::vector<bool> r(n);
    for (size_t t = 0; t < n; ++t) r[t] = blk(int(t));
    return r;
}

}  // namespace

LayoutCounts plan_channels_last(DevGraph &d, bool blocked)
{
    const size_t n = d.tensors.size();
    // Aliases: whole views of their root (a fused activation's output is
    // one of the op's), the same tensor here.
    std::vector<int> root(n, -1);
    for (size_t t = 0; t < n; ++t) {
        const int r = d.root(int(t));
        const DevTensor &x = d.tensors[t], &rx = d.tensors[r];
        if (x.is_view() && d.offset_in_root(int(t)) == 0 && x.shape == rx.shape && x.dtype == rx.dtype) root[t] = r;
    }
    // Candidates: float 4-D activations whose bytes no other view sees.
    std::vector<bool> viewed(n, false), cand(n, false);
    for (size_t t = 0; t < n; ++t)
        if (d.tensors[t].is_view() && root[t] < 0) viewed[d.root(int(t))] = true;
    for (size_t t = 0; t < n; ++t) {
        const DevTensor &x = d.tensors[t];
        cand[t] =
            x.kind == TensorKind::Activation && !x.is_view() && !viewed[t] && x.shape.size() == 4 && is_float(x.dtype);
    }
    for (size_t t = 0; t < n; ++t)
        if (root[t] >= 0) cand[t] = cand[root[t]];

    Groups g(n);
    for (size_t t = 0; t < n; ++t)
        if (root[t] >= 0) g.join(int(t), root[t]);
    for (const DevOp &op : d.ops)
        if (elementwise(d, op))
            for (int t : op.in) g.join(t, op.out);

    // A group may not go channels-last if one of its tensors cannot, or an
    // op uses a candidate in a way that has no channels-last form.
    std::vector<bool> refused(n, false), has_conv(n, false);
    for (size_t t = 0; t < n; ++t)
        if (!cand[t] && !neutral(d.tensors[t].shape)) refused[g.find(int(t))] = true;
    for (const DevOp &op : d.ops) {
        const bool ew = elementwise(d, op), flags = takes_flags(d, op);
        if (flags && op.kind == MTIA_OP_CONV) has_conv[g.find(op.in[0])] = has_conv[g.find(op.out)] = true;
        for (size_t k = 0; k <= op.in.size(); ++k) {
            const int t = k < op.in.size() ? op.in[k] : op.out;
            const bool ok = ew || (flags && (k == 0 || k == op.in.size()));
            if (cand[t] && !ok) refused[g.find(t)] = true;
        }
    }
    std::vector<bool> nhwc(n, false);
    for (size_t t = 0; t < n; ++t) {
        const int r = g.find(int(t));
        nhwc[t] = has_conv[r] && !refused[r];
    }
    const std::vector<bool> blk = blocked ? plan_blk16(d, g, nhwc) : std::vector<bool>(n, false);
    // Which ops take flags or are elementwise, read before the shapes change
    // (a blocked tensor is 5-D).
    std::vector<bool> flagged(d.ops.size()), ew(d.ops.size());
    for (size_t i = 0; i < d.ops.size(); ++i) {
        flagged[i] = takes_flags(d, d.ops[i]);
        ew[i] = elementwise(d, d.ops[i]);
    }
    LayoutCounts counts;
    for (size_t t = 0; t < n; ++t) {
        if (!nhwc[t] || !cand[t]) continue;
        Shape &s = d.tensors[t].shape;
        s = blk[t] ? to_blk16(s) : to_nhwc(s);
        ++(blk[t] ? counts.blk16 : counts.nhwc);
    }

    // Flags on the CONV/POOLs; other members seen through reordered views.
    std::map<int, int> views;
    for (size_t i = 0; i < d.ops.size(); ++i) {
        DevOp &op = d.ops[i];
        if (flagged[i]) {
            if (nhwc[op.in[0]] && cand[op.in[0]]) op.flags |= blk[op.in[0]] ? MTIA_OP_F_IN_BLK16 : MTIA_OP_F_IN_NHWC;
            if (nhwc[op.out] && cand[op.out]) op.flags |= blk[op.out] ? MTIA_OP_F_OUT_BLK16 : MTIA_OP_F_OUT_NHWC;
        }
        if (!ew[i] || !nhwc[op.out]) continue;
        std::vector<int *> operands{&op.out};
        for (int &t : op.in) operands.push_back(&t);
        for (int *t : operands) {
            if (cand[*t]) continue;
            auto it = views.find(*t);
            if (it == views.end()) {
                const Shape &x = d.tensors[*t].shape;
                const Shape s = blk[*t] ? to_blk16(x) : to_nhwc(x);
                it = views.emplace(*t, d.add_view(*t, s, 0, d.tensors[*t].name + (blk[*t] ? ".blk16" : ".nhwc"))).first;
            }
            *t = it->second;
        }
    }
    return counts;
}

}  // namespace mtia::compiler
