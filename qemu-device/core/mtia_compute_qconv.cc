// SPDX-License-Identifier: MIT
// The per-channel int8 CONV and GEMM (mtia_spec.h, "Reduced precision";
// docs/compute.md, "Quantized tensors"): acc = sum over K of (x - zero
// point) * w, exact in int32, then y = (float)acc * (x.scale * scale[m]) +
// bias[m], the fused act, and quantize (or F32) out. Our own kernel, not
// oneDNN's int8 primitives: on AVX2 hosts without VNNI those sum u8*s8 pairs
// into saturating int16, so a result would depend on the host.
//
// Both ops are one shape of work: "pixels" p (a CONV's output positions of
// one image and group, a GEMM's rows of A) times output channels m (a
// GEMM's columns) over K. The micro-kernel (mtia_compute_qdot.h) takes K in
// int32 lanes of L consecutive k: int16 pairs of x - zero point (pads 0),
// or on VNNI hosts byte quads of x as u8 (I8 x + 128; pads the zero point
// as u8), the zero point's share zp * sum of w subtracted in the epilogue.
// Per image, a CONV's input is copied once in that element type with its
// pads materialised (a pad stands for the real 0), channel-interleaved when
// C/groups is a multiple of L (K then ordered kernel tap, channel: a lane
// of the im2col is one 4-byte load); weights are packed 8 channels a
// block, once: the packed form is reused while the arena's weights are
// unchanged (mtia_compute_reuse.h, as the float CONV's reordered weights),
// per lane width (the micro-kernel is picked per run). Tasks are (group, tile of pixels, run of channel
// blocks): a task lays its tile out as K lanes x pixels (im2col) in its
// thread's buffer and runs the 8 x 32 micro-kernel over it, each block's
// epilogue writing the output directly. Tasks run in chunks of at most
// chunk_work() multiply-accumulates, OpenMP threads sharing a chunk, the
// abort polled between chunks. Integer sums do not depend on the order or
// the ISA (wrapping uint32 arithmetic for the zero point's share: the true
// sum fits), and the epilogue is F32 without FMA contraction
// (cmake/compute.cmake), so every host gives the same bits.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "mtia/mtia_quant.h"
#include "mtia_compute_impl.h"
#include "mtia_compute_qdot.h"
#include "mtia_compute_reuse.h"

namespace mtia {
namespace compute {

namespace {

using Desc = mtia_tensor_desc;

uint64_t round_up(uint64_t a, uint64_t b) { return (a + b - 1) / b * b; }
uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// A lane of L k's, the lowest k in the lowest bits: int16 pairs or byte quads.
template <unsigned L>
struct Lanes;
template <>
struct Lanes<2> {
    using Elem = int16_t;  // x - zero point
    static uint32_t pack(const int32_t *v) { return uint32_t(uint16_t(v[0])) | uint32_t(uint16_t(v[1])) << 16; }
};
template <>
struct Lanes<4> {
    using Elem = uint8_t;  // x as u8
    static uint32_t pack(const int32_t *v)
    {
        return uint32_t(uint8_t(v[0])) | uint32_t(uint8_t(v[1])) << 8 | uint32_t(uint8_t(v[2])) << 16 |
               uint32_t(uint8_t(v[3])) << 24;
    }
};

// The hot loops of the im2col and the epilogue, built for each vector width
// and picked at run time. Integer and IEEE operations only (no FMA: the
// file is built with -ffp-contract=off): every clone gives the same bits.
#define MTIA_QCONV_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))

MTIA_QCONV_CLONES void gather_pairs(const int16_t *a0, const int16_t *a1, uint64_t len, uint32_t *o)
{
    for (uint64_t i = 0; i < len; i++) o[i] = uint32_t(uint16_t(a0[i])) | uint32_t(uint16_t(a1[i])) << 16;
}

MTIA_QCONV_CLONES void gather_quads(const uint8_t *a0, const uint8_t *a1, const uint8_t *a2, const uint8_t *a3,
                                    uint64_t len, uint32_t *o)
{
    for (uint64_t i = 0; i < len; i++)
        o[i] = uint32_t(a0[i]) | uint32_t(a1[i]) << 8 | uint32_t(a2[i]) << 16 | uint32_t(a3[i]) << 24;
}

// v = (float)(acc - share) * s + b (share: the zero point's, wrapping),
// then RELU or CLIP (as Act::apply has them) when @act says so.
MTIA_QCONV_CLONES void scale_row(const int32_t *acc, uint32_t share, float s, float b, uint8_t act, float lo, float hi,
                                 uint64_t n, float *v)
{
    for (uint64_t j = 0; j < n; j++) v[j] = float(int32_t(uint32_t(acc[j]) - share)) * s + b;
    if (act == MTIA_ACT_RELU)
        for (uint64_t j = 0; j < n; j++) v[j] = v[j] > 0 ? v[j] : 0.0f;
    else if (act == MTIA_ACT_CLIP)
        for (uint64_t j = 0; j < n; j++) v[j] = std::min(std::max(v[j], lo), hi);
}

// q[j] = mtia_quantize(v[j], scale, zp, lo + zp, hi + zp), in a form that
// vectorises: v / scale clamped to [lo, hi] (integers, so clamping before
// rounding is clamping after), NaN to 0, rounded half to even by adding
// and subtracting 1.5 * 2^23 (|value| <= 510: the float addition rounds to
// an integer, ties to even), plus zp.
MTIA_QCONV_CLONES void quantize_row(const float *v, uint64_t n, float scale, int32_t zp, float lo, float hi, int32_t *q)
{
    const float magic = 12582912.0f;
    for (uint64_t j = 0; j < n; j++) {
        float t = v[j] / scale;
        t = t < lo ? lo : t;
        t = t > hi ? hi : t;
        t = t == t ? t : 0.0f;
        q[j] = int32_t((t + magic) - magic) + zp;
    }
}

// The sum of n int8 weights (|sum| <= 128 n: fits).
MTIA_QCONV_CLONES int32_t sum_bytes(const int8_t *w, uint64_t n)
{
    int32_t sum = 0;
    for (uint64_t k = 0; k < n; k++) sum += w[k];
    return sum;
}

// A task's im2col buffer: K lanes x up to this many bytes of pixels.
constexpr uint64_t kTileBytes = 512 << 10;
constexpr uint64_t kMaxTilePixels = 256;

class Int8MatmulKernel final : public Kernel {
public:
    explicit Int8MatmulKernel(const mtia_op &op) : act_(op)
    {
        const Desc &x = op.in[0], &y = op.out;
        gemm_ = op.opcode == MTIA_OP_GEMM;
        if (gemm_) {
            k_ = x.dims[x.ndim - 1];
            pixels_ = elems(x) / k_;
            mg_ = m_ = y.dims[y.ndim - 1];
            ms_ = 1;
            ps_ = m_;
            trans_b_ = op.attrs[MTIA_GEMM_TRANS_B];
        } else {
            conv_shape(op);
        }
        mb_ = div_up(mg_, kQdotM);
        // Sized for int16 pairs (byte quads take half).
        const uint64_t fit = kTileBytes / (div_up(k_, 2) * 4) / kQdotN * kQdotN;
        tile_ = std::min(round_up(pixels_, kQdotN), std::clamp<uint64_t>(fit, kQdotN, kMaxTilePixels));
        tiles_ = div_up(pixels_, tile_);
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const Qdot dot = qdot_kernel();
        return dot.k_per_lane == 4 ? run_as<4>(op, arena, ex, dot.fn) : run_as<2>(op, arena, ex, dot.fn);
    }

private:
    // What a run's tasks share.
    struct Run {
        const mtia_op &op;
        uint8_t *arena;
        QdotFn dot;
        uint64_t kl;          // K lanes
        const void *xpad;     // CONV: the padded image
        const int32_t *wp;    // packed weights
        const int32_t *wsum;  // per channel (of all groups): sum of its weights
        int32_t xzp;          // x's zero point as the micro-kernel sees x (u8 quads: + 128 for I8)
        bool quads;
        // CONV with C/groups a multiple of L: K ordered (kernel tap, channel)
        // and the padded image channel-interleaved ([C/L][D][H][W][L]), so
        // that a lane of the im2col is one 4-byte load (a row: a copy).
        bool interleaved;
    };

    template <unsigned L>
    bool run_as(const mtia_op &op, uint8_t *arena, Exec &ex, QdotFn dot)
    {
        using E = typename Lanes<L>::Elem;
        const uint64_t threads = std::max(1, omp_get_max_threads());
        const uint64_t kl = div_up(k_, L);
        // Runs of channel blocks: enough tasks for every thread to take a few
        // (a small image), each at most a chunk of work.
        const uint64_t per_image = groups_ * tiles_;
        uint64_t runs = threads > 1 ? std::min(div_up(4 * threads, per_image), div_up(mb_, 4)) : 1;
        uint64_t run_blocks = div_up(mb_, std::max<uint64_t>(runs, 1));
        const uint64_t block_work = tile_ * k_ * kQdotM, chunk = chunk_work();
        run_blocks = std::max<uint64_t>(1, std::min(run_blocks, chunk / block_work));
        runs = div_up(mb_, run_blocks);
        const uint64_t tasks = per_image * runs;
        const uint64_t per_chunk = std::max<uint64_t>(1, chunk / (block_work * run_blocks));

        const uint64_t wlanes = groups_ * mb_ * kl * kQdotM;
        // Interleaving saves im2col work (pixels x K per group) and costs a
        // transposition of the weights (channels x K): worth it when the
        // image has more pixels than a group has channels.
        const bool interleaved = !gemm_ && cg_ % L == 0 && images_ * pixels_ >= mg_;
        std::unique_lock<std::mutex> hold;  // keeps reused weights valid
        const int32_t *wp = packed_weights<L>(op, arena, ex, kl, interleaved, &hold);
        const int32_t *wsum = wp + wlanes;
        int32_t *xt = reinterpret_cast<int32_t *>(ex.scratch(Exec::kScratchSrc, threads * kl * tile_ * 4));
        E *xpad = nullptr;
        if (!gemm_) xpad = reinterpret_cast<E *>(ex.scratch(Exec::kScratchDst, c_ * plane_ * sizeof(E)));
        const Desc &x = op.in[0];
        const int32_t xzp = x.zero_point + (L == 4 && x.dtype == MTIA_DTYPE_I8 ? 128 : 0);
        const Run r{op, arena, dot, kl, xpad, wp, wsum, xzp, L == 4, interleaved};
        for (uint64_t n = 0; n < images_; n++) {
            if (!gemm_) pad_image<L>(arena + x.offset + n * c_ * d_ * h_ * w_, x, interleaved, xpad);
            for (uint64_t t0 = 0; t0 < tasks; t0 += per_chunk) {
                const int64_t t1 = int64_t(std::min(tasks, t0 + per_chunk));
#pragma omp parallel for schedule(dynamic) if (t1 - int64_t(t0) > 1)
                for (int64_t t = int64_t(t0); t < t1; t++) {
                    int32_t *buf = xt + uint64_t(omp_get_thread_num()) * kl * tile_;
                    const uint64_t g = uint64_t(t) / (tiles_ * runs), tile = uint64_t(t) / runs % tiles_;
                    const uint64_t q = uint64_t(t) % runs;
                    run_task<L>(r, n, g, tile, q * run_blocks, std::min(mb_, (q + 1) * run_blocks), buf);
                }
                const bool last = n + 1 == images_ && uint64_t(t1) == tasks;
                if (!last && ex.stopped()) return false;
            }
        }
        return true;
    }

    void conv_shape(const mtia_op &op)
    {
        const Desc &x = op.in[0], &w = op.in[1], &y = op.out;
        const uint32_t *a = op.attrs;
        const bool three = x.ndim == 5;
        const unsigned s = three ? 1 : 0;  // first of H, W in dims[2..]
        images_ = x.dims[0];
        c_ = x.dims[1];
        m_ = y.dims[1];
        groups_ = a[MTIA_CONV_GROUPS];
        mg_ = m_ / groups_;
        cg_ = w.dims[1];
        d_ = three ? x.dims[2] : 1;
        h_ = x.dims[2 + s];
        w_ = x.dims[3 + s];
        const uint64_t kd = three ? w.dims[2] : 1, kh = w.dims[2 + s], kw = w.dims[3 + s];
        const uint64_t pf = three ? a[MTIA_CONV_PAD_FRONT] : 0, pb = three ? a[MTIA_CONV_PAD_BACK] : 0;
        const uint64_t dd = three ? a[MTIA_CONV_DIL_D] : 1;
        pad_d_ = pf;
        pad_h_ = a[MTIA_CONV_PAD_T];
        pad_w_ = a[MTIA_CONV_PAD_L];
        dp_ = d_ + pf + pb;
        hp_ = h_ + a[MTIA_CONV_PAD_T] + a[MTIA_CONV_PAD_B];
        wp_ = w_ + a[MTIA_CONV_PAD_L] + a[MTIA_CONV_PAD_R];
        plane_ = dp_ * hp_ * wp_;
        od_ = three ? y.dims[2] : 1;
        oh_ = y.dims[2 + s];
        ow_ = y.dims[3 + s];
        sd_ = three ? a[MTIA_CONV_STRIDE_D] : 1;
        sh_ = a[MTIA_CONV_STRIDE_H];
        sw_ = a[MTIA_CONV_STRIDE_W];
        pixels_ = od_ * oh_ * ow_;
        k_ = cg_ * kd * kh * kw;
        ms_ = pixels_;
        ps_ = 1;
        // Each kernel tap's element in a padded channel, and each k's in a
        // padded image, from the output position's corner.
        taps_ = kd * kh * kw;
        spatial_.resize(taps_);
        uint64_t t = 0;
        for (uint64_t z = 0; z < kd; z++)
            for (uint64_t i = 0; i < kh; i++)
                for (uint64_t j = 0; j < kw; j++)
                    spatial_[t++] = (z * dd * hp_ + i * a[MTIA_CONV_DIL_H]) * wp_ + j * a[MTIA_CONV_DIL_W];
        tap_.resize(k_);
        for (uint64_t k = 0; k < k_; k++) tap_[k] = k / taps_ * plane_ + spatial_[k % taps_];
    }

    // x as the micro-kernel's element: x - zp (pairs) or x as u8 (quads).
    template <unsigned L>
    static typename Lanes<L>::Elem elem(uint8_t v, bool i8, int32_t zp)
    {
        if constexpr (L == 2) return int16_t((i8 ? int32_t(int8_t(v)) : int32_t(v)) - zp);
        return uint8_t(i8 ? v ^ 0x80 : v);
    }

    // One image (all channels) as micro-kernel elements inside pads that
    // stand for the real 0 (0 as pairs, the zero point as quads); channel c
    // at c's plane, or interleaved: element c % L of block c / L's.
    template <unsigned L>
    void pad_image(const uint8_t *src, const Desc &x, bool interleaved, typename Lanes<L>::Elem *dst) const
    {
        using E = typename Lanes<L>::Elem;
        const bool i8 = x.dtype == MTIA_DTYPE_I8;
        const int32_t zp = x.zero_point;
        const E pad = L == 2 ? E(0) : E(zp + (i8 ? 128 : 0));
        const uint64_t es = interleaved ? L : 1;  // element stride
        std::fill(dst, dst + c_ * plane_, pad);
#pragma omp parallel for schedule(static) if (c_ * plane_ >= (1 << 16))
        for (uint64_t c = 0; c < c_; c++) {
            E *o = interleaved ? dst + c / L * plane_ * L + c % L : dst + c * plane_;
            for (uint64_t z = 0; z < d_; z++)
                for (uint64_t i = 0; i < h_; i++) {
                    const uint8_t *row = src + ((c * d_ + z) * h_ + i) * w_;
                    E *r = o + (((z + pad_d_) * hp_ + i + pad_h_) * wp_ + pad_w_) * es;
                    if (i8)
                        for (uint64_t j = 0; j < w_; j++) r[j * es] = elem<L>(row[j], true, zp);
                    else
                        for (uint64_t j = 0; j < w_; j++) r[j * es] = elem<L>(row[j], false, zp);
                }
        }
    }

    // The packed weights (pack_weights) of @op's weights in @arena: reused
    // while those bytes are unchanged, else packed again (into scratch when
    // no cache can keep them); valid while @hold is held.
    template <unsigned L>
    const int32_t *packed_weights(const mtia_op &op, const uint8_t *arena, Exec &ex, uint64_t kl, bool interleaved,
                                  std::unique_lock<std::mutex> *hold)
    {
        const uint64_t wlanes = groups_ * mb_ * kl * kQdotM;
        const size_t out = (wlanes + groups_ * mb_ * kQdotM) * sizeof(int32_t);
        auto pack = [&](const void *from, void *to) {
            int32_t *o = static_cast<int32_t *>(to);
            pack_weights<L>(static_cast<const int8_t *>(from), kl, interleaved, o, o + wlanes);
        };
        const uint8_t *w = arena + op.in[1].offset;
        if (DerivedCache *dc = caches_[L == 4].for_source(w))
            if (const void *c = dc->get(w, bytes(op.in[1]), out, ex, pack, hold))
                return static_cast<const int32_t *>(c);
        void *buf = ex.scratch(Exec::kScratchWeights, out);
        pack(w, buf);
        return static_cast<const int32_t *>(buf);
    }

    // [group][channel block][K lane][8 channels] lanes of weights @wt, and
    // each channel's sum of weights. A channel's K weights are a row of W (CONV,
    // TRANS_B), copied into a row where they are not one: a column of B
    // (stride N), W's row transposed to (tap, channel) when interleaved,
    // zeros for a block's channels beyond M.
    template <unsigned L>
    void pack_weights(const int8_t *wt, uint64_t kl, bool interleaved, int32_t *wp, int32_t *wsum) const
    {
        const int64_t blocks = int64_t(groups_ * mb_);
        const uint64_t full = k_ / L;
        const bool column = gemm_ && !trans_b_;
#pragma omp parallel for schedule(static) if (groups_ * mb_ * kl * kQdotM >= (1 << 16))
        for (int64_t b = 0; b < blocks; b++) {
            const uint64_t g = uint64_t(b) / mb_, m0 = uint64_t(b) % mb_ * kQdotM;
            const unsigned valid = unsigned(std::min<uint64_t>(kQdotM, mg_ - m0));
            static thread_local std::vector<int8_t> tmp;  // kept: large K would mmap per block
            const bool copy = interleaved || column || valid < kQdotM;
            if (copy) tmp.assign(kQdotM * k_, 0);
            const int8_t *rows[kQdotM];
            for (unsigned i = 0; i < kQdotM; i++) {
                const int8_t *w = gemm_ ? wt + (m0 + i) * k_ : wt + (g * mg_ + m0 + i) * k_;
                int8_t *t = copy ? tmp.data() + i * k_ : nullptr;
                rows[i] = i < valid && !column && !interleaved ? w : t;
                if (i < valid && interleaved)
                    for (uint64_t c = 0; c < cg_; c++)
                        for (uint64_t j = 0; j < taps_; j++) t[j * cg_ + c] = w[c * taps_ + j];
            }
            if (column)
                for (uint64_t k = 0; k < k_; k++)
                    for (unsigned i = 0; i < valid; i++) tmp[i * k_ + k] = wt[k * m_ + m0 + i];
            int32_t *o = wp + uint64_t(b) * kl * kQdotM;
            for (unsigned i = 0; i < kQdotM; i++) wsum[uint64_t(b) * kQdotM + i] = sum_bytes(rows[i], k_);
            for (uint64_t l = 0; l < full; l++)
                for (unsigned i = 0; i < kQdotM; i++) o[l * kQdotM + i] = pack_lane<L>(rows[i] + l * L);
            if (full < kl)  // the last lane, zeros beyond K
                for (unsigned i = 0; i < kQdotM; i++) {
                    int32_t v[L] = {};
                    for (unsigned e = 0; full * L + e < k_; e++) v[e] = rows[i][full * L + e];
                    o[full * kQdotM + i] = int32_t(Lanes<L>::pack(v));
                }
        }
    }

    // L consecutive int8 weights as a lane.
    template <unsigned L>
    static int32_t pack_lane(const int8_t *w)
    {
        if constexpr (L == 4) {
            int32_t v;
            std::memcpy(&v, w, 4);  // s8 quads are the bytes as they are
            return v;
        }
        const int32_t v[2] = {w[0], w[1]};
        return int32_t(Lanes<2>::pack(v));
    }

    // Pixels [p0, p0 + np) of group g as [K lane][tp] (tp = np rounded up
    // to the micro-kernel's width; the extra pixels 0).
    template <unsigned L>
    void im2col(const Run &r, uint64_t g, uint64_t p0, uint64_t np, uint64_t tp, int32_t *buf) const
    {
        using E = typename Lanes<L>::Elem;
        if (gemm_) {
            const Desc &x = r.op.in[0];
            const uint8_t *a = r.arena + x.offset + p0 * k_;
            const bool i8 = x.dtype == MTIA_DTYPE_I8;
            const uint64_t full = k_ / L;
            for (uint64_t q = 0; q < np; q++) {
                const uint8_t *row = a + q * k_;
                if constexpr (L == 4) {  // u8 quads: the bytes, I8 with the sign bit flipped
                    const uint32_t flip = i8 ? 0x80808080u : 0;
                    for (uint64_t l = 0; l < full; l++) {
                        uint32_t v;
                        std::memcpy(&v, row + l * 4, 4);
                        buf[l * tp + q] = int32_t(v ^ flip);
                    }
                } else {
                    for (uint64_t l = 0; l < full; l++) {
                        const int32_t v[2] = {elem<2>(row[2 * l], i8, x.zero_point),
                                              elem<2>(row[2 * l + 1], i8, x.zero_point)};
                        buf[l * tp + q] = int32_t(Lanes<2>::pack(v));
                    }
                }
                if (full < r.kl) {  // the last lane; k beyond K: any value (its weights are 0)
                    int32_t v[L] = {};
                    for (unsigned e = 0; full * L + e < k_; e++) v[e] = elem<L>(row[full * L + e], i8, x.zero_point);
                    buf[full * tp + q] = int32_t(Lanes<L>::pack(v));
                }
            }
        } else {
            // Runs of one output row: (offset of its first pixel's corner, length).
            struct Seg {
                uint64_t at, len;
            };
            Seg segs[kMaxTilePixels];
            unsigned ns = 0;
            for (uint64_t p = p0; p < p0 + np;) {
                const uint64_t ox = p % ow_, oy = p / ow_ % oh_, oz = p / (ow_ * oh_);
                const uint64_t len = std::min(ow_ - ox, p0 + np - p);
                segs[ns++] = {(oz * sd_ * hp_ + oy * sh_) * wp_ + ox * sw_, len};
                p += len;
            }
            const E *base = static_cast<const E *>(r.xpad) + g * cg_ * plane_;
            if (r.interleaved) {  // lane (tap, channel block): 4 bytes at a padded position
                const uint64_t blocks = cg_ / L;
                for (uint64_t l = 0; l < r.kl; l++) {
                    const E *src = base + (l % blocks * plane_ + spatial_[l / blocks]) * L;
                    uint32_t *o = reinterpret_cast<uint32_t *>(buf + l * tp);
                    for (unsigned s = 0; s < ns; s++) {
                        const E *a = src + segs[s].at * L;
                        if (sw_ == 1) {
                            std::memcpy(o, a, segs[s].len * 4);
                        } else {
                            for (uint64_t i = 0; i < segs[s].len; i++) std::memcpy(o + i, a + i * sw_ * L, 4);
                        }
                        o += segs[s].len;
                    }
                }
                for (uint64_t l = 0; l < r.kl; l++) std::fill(buf + l * tp + np, buf + (l + 1) * tp, 0);
                return;
            }
            for (uint64_t l = 0; l < r.kl; l++) {
                // k beyond K: any element (its weights are 0), here K's last.
                const E *src[L];
                for (unsigned e = 0; e < L; e++) src[e] = base + tap_[std::min(l * L + e, k_ - 1)];
                uint32_t *o = reinterpret_cast<uint32_t *>(buf + l * tp);
                for (unsigned s = 0; s < ns; s++) {
                    const E *a[L];
                    for (unsigned e = 0; e < L; e++) a[e] = src[e] + segs[s].at;
                    const uint64_t len = segs[s].len;
                    if (sw_ == 1)
                        gather_row<L, true>(a, len, 1, o);
                    else
                        gather_row<L, false>(a, len, sw_, o);
                    o += len;
                }
            }
        }
        for (uint64_t l = 0; l < r.kl; l++) std::fill(buf + l * tp + np, buf + (l + 1) * tp, 0);
    }

    // o[i] = the lane of a[0..L)[i * step] (kUnit: step 1, a loop that
    // vectorises).
    template <unsigned L, bool kUnit>
    static void gather_row(const typename Lanes<L>::Elem *const *a, uint64_t len, uint64_t step, uint32_t *o)
    {
        if constexpr (kUnit && L == 2) return gather_pairs(a[0], a[1], len, o);
        if constexpr (kUnit && L == 4) return gather_quads(a[0], a[1], a[2], a[3], len, o);
        for (uint64_t i = 0; i < len; i++) {
            int32_t v[L];
            for (unsigned e = 0; e < L; e++) v[e] = a[e][i * step];
            o[i] = Lanes<L>::pack(v);
        }
    }

    template <unsigned L>
    void run_task(const Run &r, uint64_t n, uint64_t g, uint64_t tile, uint64_t mb0, uint64_t mb1, int32_t *buf) const
    {
        const uint64_t p0 = tile * tile_, np = std::min(tile_, pixels_ - p0), tp = round_up(np, kQdotN);
        im2col<L>(r, g, p0, np, tp, buf);
        alignas(64) int32_t acc[kQdotM * kQdotN];
        for (uint64_t mb = mb0; mb < mb1; mb++) {
            const int32_t *w = r.wp + (g * mb_ + mb) * r.kl * kQdotM;
            for (uint64_t pb = 0; pb < np; pb += kQdotN) {
                r.dot(w, buf + pb, tp, r.kl, acc);
                epilogue(r, n, g, mb, p0 + pb, std::min<uint64_t>(kQdotN, np - pb), acc);
            }
        }
    }

    // y = (float)acc * (x.scale * scale[m]) + bias[m], act, out: channel
    // block mb of group g (its channels < mg), pixels p0 .. p0 + np of
    // image n. Plain loops the compiler vectorises (per output element this
    // is as much work as a few hundred multiply-accumulates); a GEMM's
    // block is stored a row (8 channels) at a time, not a column at a time
    // N elements apart (4 KiB strides thrash the L1's sets).
    void epilogue(const Run &r, uint64_t n, uint64_t g, uint64_t mb, uint64_t p0, uint64_t np, const int32_t *acc) const
    {
        const Desc &y = r.op.out;
        const float xs = f32(r.op.in[0].scale);
        const float *sb = ptr(r.arena, r.op.in[2]);
        const uint64_t m0 = mb * kQdotM, cm = std::min<uint64_t>(kQdotM, mg_ - m0);
        const bool quant = mtia_dtype_is_quant(y.dtype);
        const float ys = f32(y.scale);
        const int32_t yz = y.zero_point;
        const float ylo = float(mtia_quant_min(y.dtype) - yz), yhi = float(mtia_quant_max(y.dtype) - yz);
        alignas(64) float v[kQdotM][kQdotN];
        alignas(64) int32_t q[kQdotM][kQdotN];
        for (unsigned i = 0; i < cm; i++) {
            const uint64_t m = g * mg_ + m0 + i;
            const float s = xs * sb[m], b = sb[m_ + m];
            // The zero point's share of byte quads, wrapping: the true sum fits.
            const uint32_t share = r.quads ? uint32_t(r.xzp) * uint32_t(r.wsum[(g * mb_ + mb) * kQdotM + i]) : 0;
            const bool fused = act_.kind == MTIA_ACT_RELU || act_.kind == MTIA_ACT_CLIP;
            scale_row(acc + i * kQdotN, share, s, b, fused ? act_.kind : uint8_t(MTIA_ACT_NONE), act_.lo, act_.hi, np,
                      v[i]);
            if (!fused) act_.apply(v[i], v[i], np);
            if (quant) quantize_row(v[i], np, ys, yz, ylo, yhi, q[i]);
        }
        const uint64_t at = n * m_ * pixels_ + (g * mg_ + m0) * ms_ + p0 * ps_;
        uint8_t *o8 = r.arena + y.offset + at;
        float *o32 = ptr(r.arena, y) + at;
        if (ps_ == 1) {  // CONV: a channel's pixels contiguous
            for (unsigned i = 0; i < cm; i++)
                if (quant)
                    for (uint64_t j = 0; j < np; j++) o8[i * ms_ + j] = uint8_t(q[i][j]);
                else
                    std::memcpy(o32 + i * ms_, v[i], np * 4);
        } else {  // GEMM: a row's channels contiguous
            for (uint64_t j = 0; j < np; j++)
                for (unsigned i = 0; i < cm; i++)
                    if (quant)
                        o8[j * ps_ + i] = uint8_t(q[i][j]);
                    else
                        o32[j * ps_ + i] = v[i][j];
        }
    }

    Act act_;
    bool gemm_ = false, trans_b_ = false;
    // Images, groups, channels (all, per group), input channels (all, per
    // group), K, channel blocks per group.
    uint64_t images_ = 1, groups_ = 1, m_ = 0, mg_ = 0, c_ = 0, cg_ = 0, k_ = 0, mb_ = 0;
    // Pixels per image and group, per tile, tiles; out strides per channel and pixel.
    uint64_t pixels_ = 0, tile_ = 0, tiles_ = 0, ms_ = 0, ps_ = 0;
    // CONV: input dims, padded dims (and a padded channel's size), leading
    // pads, output dims, strides; each k's offset in a padded image.
    uint64_t d_ = 1, h_ = 1, w_ = 1, dp_ = 1, hp_ = 1, wp_ = 1, plane_ = 1, pad_d_ = 0, pad_h_ = 0, pad_w_ = 0;
    uint64_t od_ = 1, oh_ = 1, ow_ = 1, sd_ = 1, sh_ = 1, sw_ = 1;
    std::vector<uint64_t> tap_, spatial_;
    DerivedCaches caches_[2];  // packed weights: int16 pairs, byte quads
    uint64_t taps_ = 1;        // kernel elements
};

}  // namespace

std::unique_ptr<Kernel> make_int8_matmul(const mtia_op &op) { return std::make_unique<Int8MatmulKernel>(op); }

}  // namespace compute
}  // namespace mtia
