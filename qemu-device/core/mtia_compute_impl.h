// SPDX-License-Identifier: MIT
// Internals of the PE-grid compute engine (mtia_compute.h, docs/compute.md),
// shared by its files: validation (mtia_compute_validate.cc), work and timing
// (mtia_compute_timing.cc), the run loop and kernel cache (mtia_compute.cc)
// and the op kernels (mtia_compute_{conv,deconv,gemm,eltwise,pool,move,pad}.cc).
#ifndef MTIA_COMPUTE_IMPL_H
#define MTIA_COMPUTE_IMPL_H

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "mtia/mtia_spec.h"

namespace mtia {
namespace compute {

static_assert(sizeof(mtia_tensor_desc) == 40, "struct mtia_tensor_desc layout");
static_assert(sizeof(mtia_op) == MTIA_OP_BYTES, "struct mtia_op layout");

// Work an op is allowed per "item" (an output channel plane of one image for
// CONV/POOL, a row of a GEMM output; the whole op otherwise): a bound on how
// long the device can be busy without polling for an abort. Ops are run in
// chunks of items of at most kChunkWork each (at least one item), with the
// abort polled between chunks.
constexpr uint64_t kMaxItemWork = 1ull << 34;  // multiply-accumulates / window taps
constexpr uint64_t kChunkWork = 1ull << 31;
// The chunk size kernels are built with: kChunkWork, or less when the
// environment says MTIA_COMPUTE_CHUNK_WORK=n (tests: chunking of small ops).
uint64_t chunk_work();
// Largest scratch buffer a kernel asks for (reordered activations or
// weights): host memory the device may take beyond the guest's arena.
constexpr uint64_t kMaxScratchBytes = 256ull << 20;

inline float f32(uint32_t bits)
{
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

inline uint64_t elems(const mtia_tensor_desc &t)
{
    uint64_t n = 1;
    for (unsigned i = 0; i < t.ndim; i++) n *= t.dims[i];
    return n;  // validated tensors: fits, and * 4 fits
}
inline uint64_t bytes(const mtia_tensor_desc &t) { return elems(t) * 4; }
inline float *ptr(uint8_t *arena, const mtia_tensor_desc &t) { return reinterpret_cast<float *>(arena + t.offset); }

// ---- validation (mtia_compute_validate.cc) ---------------------------------
// nullptr if @op is valid against an arena of @arena_bytes, else why not.
const char *check_op(const mtia_op &op, uint64_t arena_bytes);

// ---- work and timing (mtia_compute_timing.cc) ------------------------------
struct Work {
    uint64_t items;      // independent units the op may be chunked into (>= 1)
    uint64_t item_work;  // MACs (CONV, GEMM), window taps (POOL) or elements, per item
    double flops;        // arithmetic, for the timing model
    double bytes;        // tensor bytes read + written, for the timing model
};
Work op_work(const mtia_op &op);  // op valid
struct Grid {
    uint32_t rows = MTIA_DEFAULT_PE_ROWS, cols = MTIA_DEFAULT_PE_COLS;
};
uint64_t op_ns(const Grid &g, const mtia_op &op);  // op valid

// ---- execution ---------------------------------------------------------------
// What a kernel runs with: the abort poll, a scratch buffer, the oneDNN
// stream (opaque here: see mtia_compute_dnnl.h).
class Exec {
public:
    Exec(int (*should_stop)(void *), void *opaque) : stop_(should_stop), opaque_(opaque) {}
    ~Exec();  // gives the scratch buffers back to the pool
    Exec(const Exec &) = delete;
    Exec &operator=(const Exec &) = delete;
    bool stopped() { return stop_ && stop_(opaque_) != 0; }
    // Scratch memory: at least @n bytes, 64-byte aligned, valid until the
    // next call for the same @slot. kScratchDnnl is oneDNN's scratchpad.
    // Buffers come from a process-wide pool that keeps them between runs (a
    // fresh allocation per run costs a page fault per 4 KiB).
    enum { kScratchDnnl, kScratchWeights, kScratchSrc, kScratchDst, kScratchSlots };
    uint8_t *scratch(unsigned slot, size_t n);
    void *dnnl_stream();  // dnnl::stream *, created on first use

    struct Free {
        void operator()(uint8_t *p) const { std::free(p); }
    };
    struct Buffer {
        std::unique_ptr<uint8_t, Free> p;
        size_t size = 0;
    };

private:
    int (*stop_)(void *);
    void *opaque_;
    Buffer scratch_[kScratchSlots];
    bool taken_[kScratchSlots] = {};
    std::shared_ptr<void> stream_;
};

// A prepared op: built once per op shape (everything but tensor offsets),
// then run on any arena. Kernels keep no arena-derived data between runs.
class Kernel {
public:
    virtual ~Kernel() = default;
    // false: should_stop fired between chunks (the op is partly done).
    virtual bool run(const mtia_op &op, uint8_t *arena, Exec &ex) = 0;
};

// Builders, one per opcode (op valid).
std::unique_ptr<Kernel> make_conv(const mtia_op &op);
std::unique_ptr<Kernel> make_gemm(const mtia_op &op);
std::unique_ptr<Kernel> make_binary(const mtia_op &op);
std::unique_ptr<Kernel> make_act(const mtia_op &op);
std::unique_ptr<Kernel> make_pool(const mtia_op &op);
std::unique_ptr<Kernel> make_softmax(const mtia_op &op);
std::unique_ptr<Kernel> make_transpose(const mtia_op &op);
std::unique_ptr<Kernel> make_copy_into(const mtia_op &op);
std::unique_ptr<Kernel> make_slice(const mtia_op &op);
std::unique_ptr<Kernel> make_pad(const mtia_op &op);
std::unique_ptr<Kernel> make_conv_transpose(const mtia_op &op);

// dst (shape @dd) = src (shape @sd, broadcastable to @dd: same rank, dims
// equal or 1), for each element of dst.
void broadcast_copy(const mtia_tensor_desc &sd, const float *src, const mtia_tensor_desc &dd, float *dst);

// The scalar fused activation (for kernels that do not run it in oneDNN).
struct Act {
    uint8_t kind = MTIA_ACT_NONE;
    float lo = 0, hi = 0;
    explicit Act(const mtia_op &op) : kind(op.act), lo(f32(op.act_min)), hi(f32(op.act_max)) {}
    // dst[i] = act(src[i]); dst may equal src.
    void apply(float *dst, const float *src, uint64_t n) const;
};

}  // namespace compute
}  // namespace mtia

#endif  // MTIA_COMPUTE_IMPL_H
