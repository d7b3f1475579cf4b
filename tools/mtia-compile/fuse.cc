// SPDX-License-Identifier: MIT
#include "fuse.h"

#include <vector>

namespace mtia::compiler {

int fuse_activations(DevGraph &d)
{
    const int nt = static_cast<int>(d.tensors.size());
    // Per root tensor: ops writing it, ops reading it, and whether a graph
    // output or input lives in it.
    std::vector<std::vector<int>> writers(nt), readers(nt);
    std::vector<bool> pinned(nt, false);
    for (int t = 0; t < nt; ++t)
        if (d.tensors[t].kind == TensorKind::Output || d.tensors[t].kind == TensorKind::Input) pinned[d.root(t)] = true;
    for (int o = 0; o < static_cast<int>(d.ops.size()); ++o) {
        writers[d.root(d.ops[o].out)].push_back(o);
        for (int t : d.ops[o].in) readers[d.root(t)].push_back(o);
    }
    std::vector<bool> dead(d.ops.size(), false);
    int fused = 0;
    for (int a = 0; a < static_cast<int>(d.ops.size()); ++a) {
        DevOp &act = d.ops[a];
        if (act.kind != MTIA_OP_ACT || act.act == MTIA_ACT_NONE || act.act == MTIA_ACT_ERF) continue;  // ERF: ACT only
        const int x = act.in[0], r = d.root(x);
        if (d.offset_in_root(x) != 0 || d.tensors[x].bytes() != d.tensors[r].bytes()) continue;
        if (pinned[r] || writers[r].size() != 1 || readers[r].size() != 1) continue;
        DevOp &p = d.ops[writers[r][0]];
        if (p.out != r || p.act != MTIA_ACT_NONE || dead[writers[r][0]]) continue;
        if (p.kind != MTIA_OP_CONV && p.kind != MTIA_OP_CONV_TRANSPOSE && p.kind != MTIA_OP_GEMM &&
            p.kind != MTIA_OP_BINARY)
            continue;
        // Integer ops take no act (mtia_spec.h): the integer CONV/GEMM and BINARY.
        const uint8_t odt = d.tensors[r].dtype;
        if (odt == MTIA_DTYPE_I32 || odt == MTIA_DTYPE_I64) continue;
        p.act = act.act;
        p.act_min = act.act_min;
        p.act_max = act.act_max;
        p.flops += act.flops;
        // The activation's output now names the producer's storage.
        DevTensor &o = d.tensors[act.out];
        o.base = r;
        o.base_offset = 0;
        if (o.kind == TensorKind::Output) pinned[r] = true;
        dead[a] = true;
        ++fused;
    }
    std::vector<DevOp> kept;
    for (size_t k = 0; k < d.ops.size(); ++k)
        if (!dead[k]) kept.push_back(std::move(d.ops[k]));
    d.ops = std::move(kept);
    return fused;
}

int concat_in_place(DevGraph &d)
{
    const int nt = static_cast<int>(d.tensors.size());
    std::vector<std::vector<int>> writers(nt), copies(nt);
    std::vector<bool> pinned(nt, false);
    for (int t = 0; t < nt; ++t)
        if (d.tensors[t].kind != TensorKind::Activation) pinned[d.root(t)] = true;
    for (int o = 0; o < static_cast<int>(d.ops.size()); ++o) {
        writers[d.root(d.ops[o].out)].push_back(o);
        if (d.ops[o].kind == MTIA_OP_COPY_INTO) copies[d.root(d.ops[o].in[0])].push_back(o);
    }
    std::vector<bool> dead(d.ops.size(), false);
    int moved = 0;
    for (int c = 0; c < static_cast<int>(d.ops.size()); ++c) {
        const DevOp &cp = d.ops[c];
        if (cp.kind != MTIA_OP_COPY_INTO) continue;
        const int x = cp.in[0], r = d.root(x), y = cp.out;
        if (d.offset_in_root(x) != 0 || d.tensors[x].bytes() != d.tensors[r].bytes()) continue;
        if (pinned[r] || writers[r].size() != 1 || copies[r].size() != 1 || d.root(y) == r) continue;
        const DevOp &p = d.ops[writers[r][0]];
        if (p.out != r || p.kind == MTIA_OP_COPY_INTO || writers[r][0] > c) continue;
        const Shape &ys = d.tensors[y].shape;
        const uint32_t axis = cp.attrs[MTIA_COPY_INTO_AXIS];
        uint64_t outer = 1, inner = 4;
        for (uint32_t k = 0; k < ys.size(); ++k)
            if (k < axis)
                outer *= ys[k];
            else if (k > axis)
                inner *= ys[k];
        const uint64_t off = d.offset_in_root(y) + cp.attrs[MTIA_COPY_INTO_START] * inner;
        if (outer != 1 || off % 64) continue;
        // r's storage becomes its region of y's root.
        d.tensors[r].base = d.root(y);
        d.tensors[r].base_offset = off;
        dead[c] = true;
        ++moved;
    }
    std::vector<DevOp> kept;
    for (size_t k = 0; k < d.ops.size(); ++k)
        if (!dead[k]) kept.push_back(std::move(d.ops[k]));
    d.ops = std::move(kept);
    return moved;
}

namespace {

// Ops writing and reading each root tensor, by op index (dead ops left out),
// and the roots a graph input or output lives in.
struct RootUse {
    std::vector<std::vector<int>> writers, readers;
    std::vector<bool> pinned;
};

RootUse root_use(const DevGraph &d, const std::vector<bool> &dead)
{
    RootUse u;
    u.writers.resize(d.tensors.size());
    u.readers.resize(d.tensors.size());
    u.pinned.assign(d.tensors.size(), false);
    for (int t = 0; t < static_cast<int>(d.tensors.size()); ++t)
        if (d.tensors[t].kind == TensorKind::Input || d.tensors[t].kind == TensorKind::Output)
            u.pinned[d.root(t)] = true;
    for (int o = 0; o < static_cast<int>(d.ops.size()); ++o) {
        if (dead[o]) continue;
        u.writers[d.root(d.ops[o].out)].push_back(o);
        for (int t : d.ops[o].in) u.readers[d.root(t)].push_back(o);
    }
    return u;
}

// Tensor t is the whole of its root, an F32 activation.
bool whole_f32_activation(const DevGraph &d, int t)
{
    const int r = d.root(t);
    return d.offset_in_root(t) == 0 && d.tensors[t].bytes() == d.tensors[r].bytes() &&
           d.tensors[r].kind == TensorKind::Activation && d.tensors[t].dtype == MTIA_DTYPE_F32;
}

// The CONV writing a (the whole of its root) that may take ADD @add's sum
// of a and r instead: its index, or -1.
int accumulating_conv(const DevGraph &d, const RootUse &u, int add, int a, int r)
{
    const int ra = d.root(a), rr = d.root(r);
    if (ra == rr || !whole_f32_activation(d, a) || !whole_f32_activation(d, r)) return -1;
    if (u.pinned[ra] || u.pinned[rr]) return -1;  // the caller's storage, or read after the program
    if (d.tensors[a].shape != d.tensors[r].shape) return -1;
    if (u.writers[ra].size() != 1 || u.readers[ra].size() != 1) return -1;
    const int c = u.writers[ra][0];
    const DevOp &conv = d.ops[c];
    if (conv.kind != MTIA_OP_CONV || conv.act != MTIA_ACT_NONE || (conv.flags & MTIA_OP_F_ACCUM) || c > add) return -1;
    for (int t : conv.in)
        if (d.tensors[t].dtype != MTIA_DTYPE_F32 || d.root(t) == rr) return -1;
    // r's old value is gone once the CONV adds into it.
    for (int o : u.writers[rr])
        if (o > c) return -1;
    for (int o : u.readers[rr])
        if (o >= c && o != add) return -1;
    return c;
}

}  // namespace

int fuse_residual_adds(DevGraph &d)
{
    std::vector<bool> dead(d.ops.size(), false);
    RootUse u = root_use(d, dead);
    int fused = 0;
    for (int j = 0; j < static_cast<int>(d.ops.size()); ++j) {
        const DevOp &add = d.ops[j];
        if (add.kind != MTIA_OP_BINARY || add.attrs[MTIA_BINARY_KIND] != MTIA_BINARY_ADD || add.in.size() != 2)
            continue;
        const int y = add.out;
        if (d.tensors[y].is_view() || d.tensors[y].kind != TensorKind::Activation ||
            d.tensors[y].shape != d.tensors[add.in[0]].shape || d.tensors[y].dtype != MTIA_DTYPE_F32)
            continue;
        // The operand written last is the one the CONV can produce in place.
        int k = 0, c = accumulating_conv(d, u, j, add.in[0], add.in[1]);
        const int c1 = accumulating_conv(d, u, j, add.in[1], add.in[0]);
        if (c1 > c) k = 1, c = c1;
        if (c < 0) continue;
        const int rr = d.root(add.in[1 - k]), ra = d.root(add.in[k]);
        DevOp &conv = d.ops[c];
        conv.flags |= MTIA_OP_F_ACCUM;
        conv.act = add.act;
        conv.act_min = add.act_min;
        conv.act_max = add.act_max;
        conv.flops += add.flops;
        d.tensors[ra].base = rr;  // the CONV writes (adds) into r's storage ...
        d.tensors[ra].base_offset = 0;
        d.tensors[y].base = rr;  // ... which holds the sum from then on
        d.tensors[y].base_offset = 0;
        dead[j] = true;
        ++fused;
        u = root_use(d, dead);
    }
    std::vector<DevOp> kept;
    for (size_t k = 0; k < d.ops.size(); ++k)
        if (!dead[k]) kept.push_back(std::move(d.ops[k]));
    d.ops = std::move(kept);
    return fused;
}

}  // namespace mtia::compiler
