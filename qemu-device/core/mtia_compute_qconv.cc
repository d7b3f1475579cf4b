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
// GEMM's columns) over K. Per image, a CONV's input is copied once as int16
// x - zero point with its pads materialised as 0 (a pad stands for the real
// 0); weights are packed per run as int16 pairs of K, 8 channels a block.
// Tasks are (group, tile of pixels, run of channel blocks): a task lays its
// tile out as K pairs x pixels (im2col) in its thread's buffer and runs the
// 8 x 32 micro-kernel (mtia_compute_qdot.cc) over it, each block's
// epilogue writing the output directly. Tasks run in chunks of at most
// chunk_work() multiply-accumulates, OpenMP threads sharing a chunk, the
// abort polled between chunks. Integer sums do not depend on the order or
// the ISA, and the epilogue is scalar F32 (built without FMA contraction:
// cmake/compute.cmake), so every host gives the same bits.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "mtia/mtia_quant.h"
#include "mtia_compute_impl.h"
#include "mtia_compute_qdot.h"

namespace mtia {
namespace compute {

namespace {

using Desc = mtia_tensor_desc;

uint64_t round_up(uint64_t a, uint64_t b) { return (a + b - 1) / b * b; }
uint64_t div_up(uint64_t a, uint64_t b) { return (a + b - 1) / b; }

// Two int16s of K, the lower k in the low half (vpmaddwd's pairs).
inline uint32_t pack(int32_t lo, int32_t hi) { return uint32_t(uint16_t(lo)) | uint32_t(uint16_t(hi)) << 16; }

// A task's im2col buffer: K pairs x up to this many bytes of pixels.
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
        kh_ = div_up(k_, 2);
        mb_ = div_up(mg_, kQdotM);
        const uint64_t fit = kTileBytes / (kh_ * 4) / kQdotN * kQdotN;
        tile_ = std::min(round_up(pixels_, kQdotN), std::clamp<uint64_t>(fit, kQdotN, kMaxTilePixels));
        tiles_ = div_up(pixels_, tile_);
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const QdotFn dot = qdot_kernel();
        const uint64_t threads = std::max(1, omp_get_max_threads());
        // Runs of channel blocks: enough tasks for every thread to take a few
        // (a small image), each at most a chunk of work.
        const uint64_t per_image = groups_ * tiles_;
        uint64_t runs = std::min(div_up(4 * threads, per_image), div_up(mb_, 4));
        uint64_t run_blocks = div_up(mb_, std::max<uint64_t>(runs, 1));
        const uint64_t block_work = tile_ * k_ * kQdotM, chunk = chunk_work();
        run_blocks = std::max<uint64_t>(1, std::min(run_blocks, chunk / block_work));
        runs = div_up(mb_, run_blocks);
        const uint64_t tasks = per_image * runs;
        const uint64_t per_chunk = std::max<uint64_t>(1, chunk / (block_work * run_blocks));

        int32_t *wp = reinterpret_cast<int32_t *>(
            ex.scratch(Exec::kScratchWeights, groups_ * mb_ * kh_ * kQdotM * sizeof(int32_t)));
        pack_weights(op, arena, wp);
        int32_t *xt = reinterpret_cast<int32_t *>(ex.scratch(Exec::kScratchSrc, threads * kh_ * tile_ * 4));
        int16_t *xpad = nullptr;
        if (!gemm_) xpad = reinterpret_cast<int16_t *>(ex.scratch(Exec::kScratchDst, c_ * plane_ * 2));
        const Desc &x = op.in[0];
        const int32_t zp = x.zero_point;
        for (uint64_t n = 0; n < images_; n++) {
            if (!gemm_) pad_image(arena + x.offset + n * c_ * d_ * h_ * w_, x.dtype, zp, xpad);
            for (uint64_t t0 = 0; t0 < tasks; t0 += per_chunk) {
                const int64_t t1 = int64_t(std::min(tasks, t0 + per_chunk));
#pragma omp parallel for schedule(dynamic) if (t1 - int64_t(t0) > 1)
                for (int64_t t = int64_t(t0); t < t1; t++) {
                    int32_t *buf = xt + uint64_t(omp_get_thread_num()) * kh_ * tile_;
                    const uint64_t g = uint64_t(t) / (tiles_ * runs), tile = uint64_t(t) / runs % tiles_;
                    const uint64_t r = uint64_t(t) % runs;
                    run_task(op, arena, n, g, tile, r * run_blocks, std::min(mb_, (r + 1) * run_blocks), xpad, wp, buf,
                             dot);
                }
                const bool last = n + 1 == images_ && uint64_t(t1) == tasks;
                if (!last && ex.stopped()) return false;
            }
        }
        return true;
    }

private:
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
        // Each k's element in a padded image, from the output position's corner.
        tap_.resize(k_);
        uint64_t k = 0;
        for (uint64_t c = 0; c < cg_; c++)
            for (uint64_t z = 0; z < kd; z++)
                for (uint64_t i = 0; i < kh; i++)
                    for (uint64_t j = 0; j < kw; j++)
                        tap_[k++] = c * plane_ + (z * dd * hp_ + i * a[MTIA_CONV_DIL_H]) * wp_ + j * a[MTIA_CONV_DIL_W];
    }

    // One image (all channels) as int16 x - zero point inside zero pads.
    void pad_image(const uint8_t *src, uint8_t dtype, int32_t zp, int16_t *dst) const
    {
        const bool u8 = dtype == MTIA_DTYPE_U8;
#pragma omp parallel for schedule(static) if (c_ * plane_ >= (1 << 16))
        for (uint64_t c = 0; c < c_; c++) {
            int16_t *o = dst + c * plane_;
            std::fill(o, o + plane_, int16_t(0));
            for (uint64_t z = 0; z < d_; z++)
                for (uint64_t i = 0; i < h_; i++) {
                    const uint8_t *row = src + ((c * d_ + z) * h_ + i) * w_;
                    int16_t *r = o + ((z + pad_d_) * hp_ + i + pad_h_) * wp_ + pad_w_;
                    if (u8)
                        for (uint64_t j = 0; j < w_; j++) r[j] = int16_t(row[j] - zp);
                    else
                        for (uint64_t j = 0; j < w_; j++) r[j] = int16_t(int8_t(row[j]) - zp);
                }
        }
    }

    // Weight of output channel m (within group g) at k, as an int.
    int32_t weight(const int8_t *wt, uint64_t g, uint64_t m, uint64_t k) const
    {
        if (m >= mg_ || k >= k_) return 0;
        if (!gemm_) return wt[(g * mg_ + m) * k_ + k];
        return trans_b_ ? wt[m * k_ + k] : wt[k * m_ + m];
    }

    // [group][channel block][K pair][8 channels] pairs of int16 weights.
    void pack_weights(const mtia_op &op, const uint8_t *arena, int32_t *wp) const
    {
        const int8_t *wt = reinterpret_cast<const int8_t *>(arena + op.in[1].offset);
        const int64_t blocks = int64_t(groups_ * mb_);
#pragma omp parallel for schedule(static) if (groups_ * mb_ * kh_ * kQdotM >= (1 << 16))
        for (int64_t b = 0; b < blocks; b++) {
            const uint64_t g = uint64_t(b) / mb_, m0 = uint64_t(b) % mb_ * kQdotM;
            int32_t *o = wp + uint64_t(b) * kh_ * kQdotM;
            for (uint64_t kp = 0; kp < kh_; kp++)
                for (unsigned i = 0; i < kQdotM; i++)
                    o[kp * kQdotM + i] =
                        int32_t(pack(weight(wt, g, m0 + i, 2 * kp), weight(wt, g, m0 + i, 2 * kp + 1)));
        }
    }

    // Pixels [p0, p0 + np) of group g as [K pair][tp] (tp = np rounded up to
    // the micro-kernel's width; the extra pixels 0).
    void im2col(const mtia_op &op, const uint8_t *arena, uint64_t g, uint64_t p0, uint64_t np, uint64_t tp,
                const int16_t *xpad, int32_t *buf) const
    {
        if (gemm_) {
            const Desc &x = op.in[0];
            const uint8_t *a = arena + x.offset + p0 * k_;
            const int32_t zp = x.zero_point;
            const bool u8 = x.dtype == MTIA_DTYPE_U8;
            for (uint64_t q = 0; q < np; q++) {
                const uint8_t *row = a + q * k_;
                for (uint64_t kp = 0; kp < kh_; kp++) {
                    const uint64_t k = 2 * kp;
                    const int32_t v0 = (u8 ? int32_t(row[k]) : int32_t(int8_t(row[k]))) - zp;
                    const int32_t v1 = k + 1 < k_ ? (u8 ? int32_t(row[k + 1]) : int32_t(int8_t(row[k + 1]))) - zp : 0;
                    buf[kp * tp + q] = int32_t(pack(v0, v1));
                }
            }
        } else {
            // Runs of one output row: (offset of its first pixel's corner, length).
            struct Run {
                uint64_t at, len;
            };
            Run runs[kMaxTilePixels];
            unsigned nr = 0;
            for (uint64_t p = p0; p < p0 + np;) {
                const uint64_t ox = p % ow_, oy = p / ow_ % oh_, oz = p / (ow_ * oh_);
                const uint64_t len = std::min(ow_ - ox, p0 + np - p);
                runs[nr++] = {(oz * sd_ * hp_ + oy * sh_) * wp_ + ox * sw_, len};
                p += len;
            }
            const int16_t *base = xpad + g * cg_ * plane_;
            for (uint64_t kp = 0; kp < kh_; kp++) {
                const int16_t *s0 = base + tap_[2 * kp];
                const int16_t *s1 = 2 * kp + 1 < k_ ? base + tap_[2 * kp + 1] : nullptr;
                uint32_t *o = reinterpret_cast<uint32_t *>(buf + kp * tp);
                for (unsigned r = 0; r < nr; r++) {
                    const int16_t *a = s0 + runs[r].at, *b = s1 ? s1 + runs[r].at : nullptr;
                    const uint64_t len = runs[r].len;
                    if (b && sw_ == 1)
                        for (uint64_t i = 0; i < len; i++) o[i] = pack(a[i], b[i]);
                    else if (b)
                        for (uint64_t i = 0; i < len; i++) o[i] = pack(a[i * sw_], b[i * sw_]);
                    else
                        for (uint64_t i = 0; i < len; i++) o[i] = pack(a[i * sw_], 0);
                    o += len;
                }
            }
        }
        for (uint64_t kp = 0; kp < kh_; kp++) std::fill(buf + kp * tp + np, buf + (kp + 1) * tp, 0);
    }

    void run_task(const mtia_op &op, uint8_t *arena, uint64_t n, uint64_t g, uint64_t tile, uint64_t mb0, uint64_t mb1,
                  const int16_t *xpad, const int32_t *wp, int32_t *buf, QdotFn dot) const
    {
        const uint64_t p0 = tile * tile_, np = std::min(tile_, pixels_ - p0), tp = round_up(np, kQdotN);
        im2col(op, arena, g, p0, np, tp, xpad, buf);
        alignas(64) int32_t acc[kQdotM * kQdotN];
        for (uint64_t mb = mb0; mb < mb1; mb++) {
            const int32_t *w = wp + (g * mb_ + mb) * kh_ * kQdotM;
            for (uint64_t pb = 0; pb < np; pb += kQdotN) {
                dot(w, buf + pb, tp, kh_, acc);
                epilogue(op, arena, n, g, mb * kQdotM, p0 + pb, std::min<uint64_t>(kQdotN, np - pb), acc);
            }
        }
    }

    // y = (float)acc * (x.scale * scale[m]) + bias[m], act, out: channels
    // m0.. of group g (those < mg), pixels p0 .. p0 + np of image n.
    void epilogue(const mtia_op &op, uint8_t *arena, uint64_t n, uint64_t g, uint64_t m0, uint64_t p0, uint64_t np,
                  const int32_t *acc) const
    {
        const Desc &y = op.out;
        const float xs = f32(op.in[0].scale);
        const float *sb = ptr(arena, op.in[2]);
        const uint64_t img = n * m_ * pixels_;
        const bool quant = mtia_dtype_is_quant(y.dtype);
        const float ys = f32(y.scale);
        const int32_t yz = y.zero_point, lo = mtia_quant_min(y.dtype), hi = mtia_quant_max(y.dtype);
        float v[kQdotN];
        for (unsigned i = 0; i < kQdotM && m0 + i < mg_; i++) {
            const uint64_t m = g * mg_ + m0 + i;
            const float s = xs * sb[m], b = sb[m_ + m];
            for (uint64_t j = 0; j < np; j++) v[j] = float(acc[i * kQdotN + j]) * s + b;
            act_.apply(v, v, np);
            const uint64_t at = img + m * ms_ + p0 * ps_;
            if (quant) {
                uint8_t *o = arena + y.offset + at;
                for (uint64_t j = 0; j < np; j++) o[j * ps_] = uint8_t(mtia_quantize(v[j], ys, yz, lo, hi));
            } else {
                float *o = ptr(arena, y) + at;
                for (uint64_t j = 0; j < np; j++) o[j * ps_] = v[j];
            }
        }
    }

    Act act_;
    bool gemm_ = false, trans_b_ = false;
    // Images, groups, channels (all, per group), input channels (all, per
    // group), K (and its pairs), channel blocks per group.
    uint64_t images_ = 1, groups_ = 1, m_ = 0, mg_ = 0, c_ = 0, cg_ = 0, k_ = 0, kh_ = 0, mb_ = 0;
    // Pixels per image and group, per tile, tiles; out strides per channel and pixel.
    uint64_t pixels_ = 0, tile_ = 0, tiles_ = 0, ms_ = 0, ps_ = 0;
    // CONV: input dims, padded dims (and a padded channel's size), leading
    // pads, output dims, strides; each k's offset in a padded image.
    uint64_t d_ = 1, h_ = 1, w_ = 1, dp_ = 1, hp_ = 1, wp_ = 1, plane_ = 1, pad_d_ = 0, pad_h_ = 0, pad_w_ = 0;
    uint64_t od_ = 1, oh_ = 1, ow_ = 1, sd_ = 1, sh_ = 1, sw_ = 1;
    std::vector<uint64_t> tap_;
};

}  // namespace

std::unique_ptr<Kernel> make_int8_matmul(const mtia_op &op) { return std::make_unique<Int8MatmulKernel>(op); }

}  // namespace compute
}  // namespace mtia
