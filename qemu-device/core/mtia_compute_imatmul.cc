// SPDX-License-Identifier: MIT
// Integer CONV and GEMM on I32 tensors (mtia_spec.h, "Opcodes"): ONNX
// MatMulInteger and ConvInteger after the compiler has brought the 8-bit
// operands in as I32 with their zero points subtracted. Plain loops, exact
// and the same on every host: products and sums are computed in uint32_t,
// so they wrap as two's complement int32 without undefined behaviour.
// Chunked like the float kernels: GEMM by output rows, CONV by output
// channel planes, the abort polled between chunks.
#include <algorithm>
#include <vector>

#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

using Desc = mtia_tensor_desc;

inline uint32_t u(int32_t v) { return static_cast<uint32_t>(v); }
inline const int32_t *iptr(const uint8_t *arena, const Desc &t)
{
    return reinterpret_cast<const int32_t *>(arena + t.offset);  // offsets are 4-byte aligned
}

// Items (rows or planes) per chunk: at least one.
uint64_t per_chunk(uint64_t item_work)
{
    return std::max<uint64_t>(1, chunk_work() / std::max<uint64_t>(1, item_work));
}

class IntGemmKernel final : public Kernel {
public:
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const Desc &a = op.in[0], &b = op.in[1], &y = op.out;
        const unsigned nd = y.ndim;
        const bool ta = op.attrs[MTIA_GEMM_TRANS_A], tb = op.attrs[MTIA_GEMM_TRANS_B];
        const uint64_t m = y.dims[nd - 2], n = y.dims[nd - 1], k = a.dims[a.ndim - (ta ? 2 : 1)];
        const uint64_t rows = elems(y) / n, chunk = per_chunk(n * k);
        const int32_t *pa = iptr(arena, a), *pb = iptr(arena, b);
        int32_t *py = reinterpret_cast<int32_t *>(arena + y.offset);
        std::vector<uint32_t> acc(n);
        for (uint64_t r0 = 0; r0 < rows; r0 += chunk) {
            if (r0 && ex.stopped()) return false;
            for (uint64_t r = r0; r < std::min(rows, r0 + chunk); r++) {
                const uint64_t bi = r / m, i = r % m;
                const int32_t *ma = pa + matrix(a, y, bi) * m * k, *mb = pb + matrix(b, y, bi) * k * n;
                std::fill(acc.begin(), acc.end(), 0u);
                for (uint64_t kk = 0; kk < k; kk++) {
                    const uint32_t av = u(ta ? ma[kk * m + i] : ma[i * k + kk]);
                    if (tb)
                        for (uint64_t j = 0; j < n; j++) acc[j] += av * u(mb[j * k + kk]);
                    else
                        for (uint64_t j = 0; j < n; j++) acc[j] += av * u(mb[kk * n + j]);
                }
                for (uint64_t j = 0; j < n; j++) py[r * n + j] = static_cast<int32_t>(acc[j]);
            }
        }
        return true;
    }

private:
    // Index of the matrix of @t (out's ndim, batch dims broadcast, or 2-D:
    // shared) that out's batch @bi reads.
    static uint64_t matrix(const Desc &t, const Desc &y, uint64_t bi)
    {
        if (t.ndim == 2) return 0;
        uint64_t idx = 0, stride = 1;
        for (unsigned d = y.ndim - 2; d-- > 0;) {
            const uint64_t c = bi % y.dims[d];
            bi /= y.dims[d];
            if (t.dims[d] != 1) idx += c * stride;
            stride *= t.dims[d];
        }
        return idx;
    }
};

// 2-D runs as 3-D with depth 1.
struct Geom {
    uint64_t n, c, m, g, in[3], k[3], out[3], stride[3], dil[3], pad[3];
};

Geom conv_geom(const mtia_op &op)
{
    const Desc &x = op.in[0], &w = op.in[1], &y = op.out;
    const uint32_t *a = op.attrs;
    Geom g{};
    g.n = x.dims[0], g.c = x.dims[1], g.m = w.dims[0], g.g = a[MTIA_CONV_GROUPS];
    const bool d3 = x.ndim == 5;
    const unsigned s = d3 ? 0 : 1;  // first spatial slot used
    for (unsigned i = 0; i < 3; i++) g.in[i] = g.k[i] = g.out[i] = g.stride[i] = g.dil[i] = 1;
    for (unsigned i = s; i < 3; i++) {
        g.in[i] = x.dims[2 + i - s], g.k[i] = w.dims[2 + i - s], g.out[i] = y.dims[2 + i - s];
    }
    if (d3) g.stride[0] = a[MTIA_CONV_STRIDE_D], g.dil[0] = a[MTIA_CONV_DIL_D], g.pad[0] = a[MTIA_CONV_PAD_FRONT];
    g.stride[1] = a[MTIA_CONV_STRIDE_H], g.dil[1] = a[MTIA_CONV_DIL_H], g.pad[1] = a[MTIA_CONV_PAD_T];
    g.stride[2] = a[MTIA_CONV_STRIDE_W], g.dil[2] = a[MTIA_CONV_DIL_W], g.pad[2] = a[MTIA_CONV_PAD_L];
    return g;
}

class IntConvKernel final : public Kernel {
public:
    explicit IntConvKernel(const mtia_op &op) : g_(conv_geom(op)) {}
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const Geom &g = g_;
        const uint64_t cg = g.c / g.g, mg = g.m / g.g;
        const uint64_t plane = g.out[0] * g.out[1] * g.out[2], in_plane = g.in[0] * g.in[1] * g.in[2];
        const uint64_t taps = g.k[0] * g.k[1] * g.k[2], planes = g.n * g.m, chunk = per_chunk(plane * cg * taps);
        const int32_t *px = iptr(arena, op.in[0]), *pw = iptr(arena, op.in[1]);
        int32_t *py = reinterpret_cast<int32_t *>(arena + op.out.offset);
        for (uint64_t p0 = 0; p0 < planes; p0 += chunk) {
            if (p0 && ex.stopped()) return false;
            for (uint64_t p = p0; p < std::min(planes, p0 + chunk); p++) {
                const uint64_t n = p / g.m, m = p % g.m, grp = m / mg;
                const int32_t *xs = px + (n * g.c + grp * cg) * in_plane, *ws = pw + m * cg * taps;
                int32_t *ys = py + p * plane;
                for (uint64_t o = 0; o < plane; o++) ys[o] = static_cast<int32_t>(dot(xs, ws, cg, in_plane, o));
            }
        }
        return true;
    }

private:
    // Output position @o of a plane: the sum over the group's channels and
    // the kernel's taps that land inside the input (pads contribute 0).
    uint32_t dot(const int32_t *xs, const int32_t *ws, uint64_t cg, uint64_t in_plane, uint64_t o) const
    {
        const Geom &g = g_;
        const uint64_t oc[3] = {o / (g.out[1] * g.out[2]), o / g.out[2] % g.out[1], o % g.out[2]};
        uint32_t acc = 0;
        for (uint64_t kd = 0; kd < g.k[0]; kd++) {
            const int64_t id = int64_t(oc[0] * g.stride[0] + kd * g.dil[0]) - int64_t(g.pad[0]);
            if (id < 0 || id >= int64_t(g.in[0])) continue;
            for (uint64_t kh = 0; kh < g.k[1]; kh++) {
                const int64_t ih = int64_t(oc[1] * g.stride[1] + kh * g.dil[1]) - int64_t(g.pad[1]);
                if (ih < 0 || ih >= int64_t(g.in[1])) continue;
                for (uint64_t kw = 0; kw < g.k[2]; kw++) {
                    const int64_t iw = int64_t(oc[2] * g.stride[2] + kw * g.dil[2]) - int64_t(g.pad[2]);
                    if (iw < 0 || iw >= int64_t(g.in[2])) continue;
                    const uint64_t xi = (uint64_t(id) * g.in[1] + uint64_t(ih)) * g.in[2] + uint64_t(iw);
                    const uint64_t wi = (kd * g.k[1] + kh) * g.k[2] + kw;
                    for (uint64_t c = 0; c < cg; c++)
                        acc += u(xs[c * in_plane + xi]) * u(ws[c * g.k[0] * g.k[1] * g.k[2] + wi]);
                }
            }
        }
        return acc;
    }

    Geom g_;
};

}  // namespace

std::unique_ptr<Kernel> make_int_matmul(const mtia_op &op)
{
    if (op.opcode == MTIA_OP_GEMM) return std::make_unique<IntGemmKernel>();
    return std::make_unique<IntConvKernel>(op);
}

}  // namespace compute
}  // namespace mtia
