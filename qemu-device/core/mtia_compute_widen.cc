// SPDX-License-Identifier: MIT
// F16 and BF16 ops by widening (docs/compute.md, "Reduced precision"): an op
// whose float type is F16 or BF16 runs its F32 kernel on F32 copies of its
// tensors in scratch memory, and its output is rounded back to 16 bits once.
// The arithmetic is therefore the F32 kernel's: products of 16-bit values are
// exact in F32, sums accumulate in F32, and the one rounding (nearest even,
// mtia_fp16.h) does not depend on the host's ISA. Plain loops convert
// (threaded when large); the matrix work stays in oneDNN.
#include <algorithm>

#include "mtia/mtia_fp16.h"
#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

bool is_half(uint8_t dtype) { return dtype == MTIA_DTYPE_F16 || dtype == MTIA_DTYPE_BF16; }

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

void widen(const uint8_t *src, uint8_t dtype, float *dst, uint64_t n)
{
    if (dtype == MTIA_DTYPE_F16)
        widen_as<mtia_f16_to_f32>(src, dst, n);
    else
        widen_as<mtia_bf16_to_f32>(src, dst, n);
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
        // offset, F32 where the op has F16/BF16, its own bytes otherwise.
        mtia_op w = widened(op);
        uint64_t at = 0;
        auto place = [&at](mtia_tensor_desc &t) {
            t.offset = at;
            at += (bytes(t) + 63) & ~uint64_t{63};
        };
        for (unsigned k = 0; k < w.n_in; k++) place(w.in[k]);
        place(w.out);
        uint8_t *s = ex.scratch(Exec::kScratchWiden, at);
        for (unsigned k = 0; k < op.n_in; k++) load(op.in[k], arena, w.in[k], s);
        // COPY_INTO writes a part of its output: the rest must survive.
        if (op.opcode == MTIA_OP_COPY_INTO) load(op.out, arena, w.out, s);
        if (!inner_->run(w, s, ex)) return false;
        const float *y = reinterpret_cast<const float *>(s + w.out.offset);
        if (is_half(op.out.dtype))
            narrow(y, op.out.dtype, arena + op.out.offset, elems(op.out));
        else
            std::memcpy(arena + op.out.offset, y, bytes(op.out));
        return true;
    }

    // @op with every F16/BF16 tensor F32.
    static mtia_op widened(const mtia_op &op)
    {
        mtia_op w = op;
        for (unsigned k = 0; k < w.n_in; k++)
            if (is_half(w.in[k].dtype)) w.in[k].dtype = MTIA_DTYPE_F32;
        if (is_half(w.out.dtype)) w.out.dtype = MTIA_DTYPE_F32;
        return w;
    }

private:
    // Arena tensor @t into scratch at @ws's offset (F32 if t is F16/BF16).
    static void load(const mtia_tensor_desc &t, const uint8_t *arena, const mtia_tensor_desc &ws, uint8_t *s)
    {
        if (is_half(t.dtype))
            widen(arena + t.offset, t.dtype, reinterpret_cast<float *>(s + ws.offset), elems(t));
        else
            std::memcpy(s + ws.offset, arena + t.offset, bytes(t));
    }

    std::unique_ptr<Kernel> inner_;
};

}  // namespace

bool needs_widening(const mtia_op &op)
{
    if (op.opcode == MTIA_OP_GATHER || op.opcode == MTIA_OP_EMBEDDING_BAG || op.opcode == MTIA_OP_CAST) return false;
    return is_half(op.out.dtype) || (op.n_in && is_half(op.in[0].dtype));
}

mtia_op widened_op(const mtia_op &op) { return WidenKernel::widened(op); }

std::unique_ptr<Kernel> make_widened(std::unique_ptr<Kernel> inner)
{
    return std::make_unique<WidenKernel>(std::move(inner));
}

}  // namespace compute
}  // namespace mtia
