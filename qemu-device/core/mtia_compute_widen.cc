// SPDX-License-Identifier: MIT
// F16, BF16 and quantized (I8/U8) tensors of generic ops by widening
// (docs/compute.md, "Reduced precision", "Quantized tensors"): the op runs
// its F32 kernel on F32 copies of its tensors in scratch memory (16-bit
// floats widened exactly, quantized ones dequantized; a CONV's 16-bit
// weights are widened by the CONV kernel itself, once while unchanged), and
// its output is rounded back to 16 bits, or quantized, once. The arithmetic
// is therefore the F32 kernel's, and the one rounding (nearest even,
// mtia_fp16.h and mtia_quant.h) does not depend on the host's ISA.
// Dequantizing and quantizing again with the same parameters gives back
// every value, so the ops that only move values copy quantized tensors
// exactly. Plain loops convert (threaded when large); the matrix work stays
// in oneDNN.
#include <algorithm>

#include "mtia/mtia_fp16.h"
#include "mtia/mtia_quant.h"
#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

bool is_half(uint8_t dtype) { return dtype == MTIA_DTYPE_F16 || dtype == MTIA_DTYPE_BF16; }
// Tensors the F32 kernel sees as F32 copies.
bool converted(uint8_t dtype) { return is_half(dtype) || mtia_dtype_is_quant(dtype); }

// Conversions of whole tensors: one loop per format (so it vectorises) and
// split between the OpenMP team when large (a layer's weights each run).
constexpr uint64_t kMinParallel = 1 << 16;

template <float (*F)(uint16_t)>
void widen_as(const uint8_t *src, float *dst, uint64_t n)
{
#pragma omp parallel for schedule(static) if (n >= kMinParallel)
    for (uint64_t i = 0; i < n; i++) {
        uint16_t h;
        std::memcpy(&h, src + i * 2, 2);
        dst[i] = F(h);
    }
}

template <uint16_t (*F)(float)>
void narrow_as(const float *src, uint8_t *dst, uint64_t n)
{
#pragma omp parallel for schedule(static) if (n >= kMinParallel)
    for (uint64_t i = 0; i < n; i++) {
        const uint16_t h = F(src[i]);
        std::memcpy(dst + i * 2, &h, 2);
    }
}

template <typename Q>
void dequantize_as(const Q *src, float *dst, uint64_t n, float scale, int32_t zp)
{
#pragma omp parallel for schedule(static) if (n >= kMinParallel)
    for (uint64_t i = 0; i < n; i++) dst[i] = mtia_dequantize(src[i], scale, zp);
}

template <typename Q>
void quantize_as(const float *src, Q *dst, uint64_t n, float scale, int32_t zp, int32_t lo, int32_t hi)
{
#pragma omp parallel for schedule(static) if (n >= kMinParallel)
    for (uint64_t i = 0; i < n; i++) dst[i] = Q(mtia_quantize(src[i], scale, zp, lo, hi));
}

void dequantize(const mtia_tensor_desc &t, const uint8_t *src, float *dst)
{
    const float s = f32(t.scale);
    if (t.dtype == MTIA_DTYPE_U8)
        dequantize_as(src, dst, elems(t), s, t.zero_point);
    else
        dequantize_as(reinterpret_cast<const int8_t *>(src), dst, elems(t), s, t.zero_point);
}

void quantize(const float *src, const mtia_tensor_desc &t, uint8_t *dst)
{
    const float s = f32(t.scale);
    const int32_t lo = mtia_quant_min(t.dtype), hi = mtia_quant_max(t.dtype);
    if (t.dtype == MTIA_DTYPE_U8)
        quantize_as(src, dst, elems(t), s, t.zero_point, lo, hi);
    else
        quantize_as(src, reinterpret_cast<int8_t *>(dst), elems(t), s, t.zero_point, lo, hi);
}

void narrow(const float *src, uint8_t dtype, uint8_t *dst, uint64_t n)
{
    if (dtype == MTIA_DTYPE_F16)
        narrow_as<mtia_f32_to_f16>(src, dst, n);
    else
        narrow_as<mtia_f32_to_bf16>(src, dst, n);
}

class WidenKernel final : public Kernel {
public:
    explicit WidenKernel(std::unique_ptr<Kernel> inner) : inner_(std::move(inner)) {}

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        // Scratch: each tensor (inputs, then the output) at a 64-byte aligned
        // offset, F32 where the op has F16/BF16/I8/U8, its own bytes otherwise.
        mtia_op w = widened(op);
        uint64_t at = 0;
        auto place = [&at](mtia_tensor_desc &t) {
            t.offset = at;
            at += (bytes(t) + 63) & ~uint64_t{63};
        };
        for (unsigned k = 0; k < w.n_in; k++) place(w.in[k]);
        place(w.out);
        uint8_t *s = ex.scratch(Exec::kScratchWiden, at);
        // A CONV's 16-bit weights stay in the arena: the CONV kernel derives
        // its weights from them, once while they are unchanged, instead of
        // from a copy widened here every run.
        const bool keep_w = widening_keeps_weights(op);
        for (unsigned k = 0; k < op.n_in; k++)
            if (!(keep_w && k == 1)) load(op.in[k], arena, w.in[k], s);
        // COPY_INTO writes a part of its output: the rest must survive.
        if (op.opcode == MTIA_OP_COPY_INTO) load(op.out, arena, w.out, s);
        struct Lend {  // the weights' source, for the inner run only
            Exec &ex;
            ~Lend() { ex.set_half_weights(nullptr); }
        } lend{ex};
        Exec::HalfWeights hw{};
        if (keep_w) {
            hw = {arena + op.in[1].offset, op.in[1].dtype, elems(op.in[1]),
                  reinterpret_cast<float *>(s + w.in[1].offset)};
            ex.set_half_weights(&hw);
        }
        if (!inner_->run(w, s, ex)) return false;
        const float *y = reinterpret_cast<const float *>(s + w.out.offset);
        if (is_half(op.out.dtype))
            narrow(y, op.out.dtype, arena + op.out.offset, elems(op.out));
        else if (mtia_dtype_is_quant(op.out.dtype))
            quantize(y, op.out, arena + op.out.offset);
        else
            std::memcpy(arena + op.out.offset, y, bytes(op.out));
        return true;
    }

    // @op with every F16/BF16/I8/U8 tensor F32.
    static mtia_op widened(const mtia_op &op)
    {
        mtia_op w = op;
        auto f32_of = [](mtia_tensor_desc &t) {
            if (!converted(t.dtype)) return;
            t.dtype = MTIA_DTYPE_F32;
            t.scale = 0;
            t.zero_point = 0;
        };
        for (unsigned k = 0; k < w.n_in; k++) f32_of(w.in[k]);
        f32_of(w.out);
        return w;
    }

private:
    // Arena tensor @t into scratch at @ws's offset (F32 if t is F16/BF16/I8/U8).
    static void load(const mtia_tensor_desc &t, const uint8_t *arena, const mtia_tensor_desc &ws, uint8_t *s)
    {
        if (is_half(t.dtype))
            widen(arena + t.offset, t.dtype, reinterpret_cast<float *>(s + ws.offset), elems(t));
        else if (mtia_dtype_is_quant(t.dtype))
            dequantize(t, arena + t.offset, reinterpret_cast<float *>(s + ws.offset));
        else
            std::memcpy(s + ws.offset, arena + t.offset, bytes(t));
    }

    std::unique_ptr<Kernel> inner_;
};

}  // namespace

void widen(const uint8_t *src, uint8_t dtype, float *dst, uint64_t n)
{
    if (dtype == MTIA_DTYPE_F16)
        widen_as<mtia_f16_to_f32>(src, dst, n);
    else
        widen_as<mtia_bf16_to_f32>(src, dst, n);
}

bool widening_keeps_weights(const mtia_op &op) { return op.opcode == MTIA_OP_CONV && is_half(op.in[1].dtype); }

bool needs_widening(const mtia_op &op)
{
    if (op.opcode == MTIA_OP_GATHER || op.opcode == MTIA_OP_EMBEDDING_BAG || op.opcode == MTIA_OP_CAST) return false;
    if (is_int8_matmul(op)) return false;
    // Any tensor: a quantized one may stand wherever the float type is asked.
    bool any = converted(op.out.dtype);
    for (unsigned k = 0; k < op.n_in; k++) any = any || converted(op.in[k].dtype);
    return any;
}

mtia_op widened_op(const mtia_op &op) { return WidenKernel::widened(op); }

std::unique_ptr<Kernel> make_widened(std::unique_ptr<Kernel> inner)
{
    return std::make_unique<WidenKernel>(std::move(inner));
}

}  // namespace compute
}  // namespace mtia
