// SPDX-License-Identifier: MIT
// Internals of the PE-grid compute engine (mtia_compute.h, docs/compute.md),
// shared by its files: validation (mtia_compute_validate.cc), work and timing
// (mtia_compute_timing.cc), the run loop and kernel cache (mtia_compute.cc)
// and the op kernels (mtia_compute_{conv,deconv,gemm,eltwise,pool,move,pad,
// resize,select,reduce,norm,embed,cast}.cc), F16/BF16 and quantized
// tensors by widening (mtia_compute_widen.cc), the int8 CONV/GEMM
// (mtia_compute_qconv.cc, its micro-kernel mtia_compute_qdot.cc), the
// integer CONV/GEMM (mtia_compute_imatmul.cc).
#ifndef MTIA_COMPUTE_IMPL_H
#define MTIA_COMPUTE_IMPL_H

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "mtia/mtia_spec.h"
#include "mtia_compute.h"

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
    return n;  // validated tensors: fits, and * 8 fits
}
inline uint64_t bytes(const mtia_tensor_desc &t) { return elems(t) * mtia_dtype_size(t.dtype); }
inline float *ptr(uint8_t *arena, const mtia_tensor_desc &t) { return reinterpret_cast<float *>(arena + t.offset); }
inline uint8_t *bool_ptr(uint8_t *arena, const mtia_tensor_desc &t) { return arena + t.offset; }

// @op with its channels-last and blocked tensors' dims put back in NCHW
// order (flags kept): validation, timing and kernels read shapes in one
// order, and only CONV and POOL kernels look at the flags (they give oneDNN
// the stored layout). Offsets, and so the bytes an op touches, do not
// change. Validation has checked the flagged tensors' ranks first.
inline mtia_op logical_op(const mtia_op &op)
{
    mtia_op r = op;
    const auto from_nhwc = [](mtia_tensor_desc &t) {
        const uint32_t c = t.dims[3];
        t.dims[3] = t.dims[2];
        t.dims[2] = t.dims[1];
        t.dims[1] = c;
    };
    const auto from_blk16 = [](mtia_tensor_desc &t) {  // (N, C/16, H, W, 16)
        t.dims[1] *= t.dims[4];
        t.dims[4] = 0;
        t.ndim = 4;
    };
    if ((op.flags & MTIA_OP_F_IN_NHWC) && r.in[0].ndim == 4) from_nhwc(r.in[0]);
    if ((op.flags & MTIA_OP_F_OUT_NHWC) && r.out.ndim == 4) from_nhwc(r.out);
    if ((op.flags & MTIA_OP_F_IN_BLK16) && r.in[0].ndim == 5) from_blk16(r.in[0]);
    if ((op.flags & MTIA_OP_F_OUT_BLK16) && r.out.ndim == 5) from_blk16(r.out);
    return r;
}

// Element strides of @in when indexed by @out's coordinates: 0 on broadcast
// dims (in has out's ndim, each dim equal to out's or 1).
inline void broadcast_strides(const mtia_tensor_desc &in, const mtia_tensor_desc &out, uint64_t st[MTIA_MAX_DIMS])
{
    uint64_t s = 1;
    for (unsigned i = out.ndim; i-- > 0;) {
        st[i] = in.dims[i] == out.dims[i] ? s : 0;
        s *= in.dims[i];
    }
}

// Calls fn(out_row, in_row_offsets[k], in_inner_stride[k], n) for each row of
// @out (its last dim), with element offsets of the @nin (<= 3) broadcast
// inputs' matching rows.
template <class Fn>
void for_each_row(const mtia_tensor_desc &out, const mtia_tensor_desc *const *ins, unsigned nin, Fn fn)
{
    uint64_t st[MTIA_OP_MAX_IN][MTIA_MAX_DIMS] = {};
    for (unsigned k = 0; k < nin; k++) broadcast_strides(*ins[k], out, st[k]);
    const unsigned last = out.ndim - 1;
    const uint64_t n = out.dims[last], rows = elems(out) / n;
    uint64_t idx[MTIA_MAX_DIMS] = {}, off[MTIA_OP_MAX_IN] = {};
    const uint64_t inner[MTIA_OP_MAX_IN] = {st[0][last], st[1][last], st[2][last]};
    for (uint64_t r = 0; r < rows; r++) {
        fn(r * n, off, inner, n);
        for (unsigned d = last; d-- > 0;) {  // next row: odometer over dims [0, last)
            for (unsigned k = 0; k < nin; k++) off[k] += st[k][d];
            if (++idx[d] < out.dims[d]) break;
            for (unsigned k = 0; k < nin; k++) off[k] -= st[k][d] * out.dims[d];
            idx[d] = 0;
        }
    }
}

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
    // kScratchWiden holds an F16/BF16 op's F32 tensors (mtia_compute_widen.cc).
    enum { kScratchDnnl, kScratchWeights, kScratchSrc, kScratchDst, kScratchWiden, kScratchSlots };
    uint8_t *scratch(unsigned slot, size_t n);
    void *dnnl_stream();  // dnnl::stream *, created on first use
    // The run's arena and its write tracker (nullptr: untracked).
    void track(const mtia_compute_tracker *t, const uint8_t *arena, uint64_t arena_bytes)
    {
        tracker_ = t;
        arena_ = arena;
        arena_bytes_ = arena_bytes;
    }
    // The tracker of [p, p + n) if it lies in the tracked arena, else
    // nullptr (untracked, or scratch such as widened F16 tensors).
    const mtia_compute_tracker *tracker_of(const void *p, uint64_t n) const
    {
        const auto a = reinterpret_cast<uintptr_t>(arena_), q = reinterpret_cast<uintptr_t>(p);
        return tracker_ && q >= a && q - a <= arena_bytes_ && n <= arena_bytes_ - (q - a) ? tracker_ : nullptr;
    }
    uint64_t arena_offset(const void *p) const { return static_cast<const uint8_t *>(p) - arena_; }

    // A widened CONV's 16-bit weights, left in the arena by the widening
    // kernel (mtia_compute_widen.cc) for the CONV kernel, which derives its
    // weights from them there (reused while they are unchanged, as F32
    // weights are) and widens them into @f32 only when it needs them plain.
    struct HalfWeights {
        const uint8_t *src;  // in the arena
        uint8_t dtype;       // MTIA_DTYPE_F16 or _BF16
        uint64_t n;          // elements
        float *f32;          // scratch for the F32 copy
    };
    const HalfWeights *half_weights() const { return half_weights_; }
    void set_half_weights(const HalfWeights *h) { half_weights_ = h; }

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
    const mtia_compute_tracker *tracker_ = nullptr;
    const uint8_t *arena_ = nullptr;
    uint64_t arena_bytes_ = 0;
    const HalfWeights *half_weights_ = nullptr;
};

// A prepared op: built once per op shape (everything but tensor offsets),
// then run on any arena. Kernels keep no arena-derived data between runs.
class Kernel {
public:
    virtual ~Kernel() = default;
    // false: should_stop fired between chunks (the op is partly done).
    virtual bool run(const mtia_op &op, uint8_t *arena, Exec &ex) = 0;
};

// F16/BF16 ops and generic ops on quantized tensors (mtia_compute_widen.cc):
// true if @op has an F16, BF16, I8 or U8 tensor its kernel converts (then
// its kernel is make_widened(the kernel of widened_op(op)), which runs on F32
// copies of its tensors, dequantized, and rounds or quantizes its output once).
bool needs_widening(const mtia_op &op);
mtia_op widened_op(const mtia_op &op);
std::unique_ptr<Kernel> make_widened(std::unique_ptr<Kernel> inner);
// Whether the widening kernel of @op leaves its weights in the arena for
// the CONV kernel (Exec::HalfWeights: a CONV with F16/BF16 weights).
bool widening_keeps_weights(const mtia_op &op);
// @n F16/BF16 (@dtype) values at @src as F32 into @dst, exactly.
void widen(const uint8_t *src, uint8_t dtype, float *dst, uint64_t n);

// The per-channel int8 CONV/GEMM (mtia_spec.h, "Reduced precision"): W/B
// I8 with scale and zero point 0. Its own kernel (mtia_compute_qconv.cc):
// exact int32 dot products, the spec's epilogue.
inline bool is_int8_matmul(const mtia_op &op)
{
    return (op.opcode == MTIA_OP_CONV || op.opcode == MTIA_OP_GEMM) && op.n_in >= 2 &&
           op.in[1].dtype == MTIA_DTYPE_I8 && op.in[1].scale == 0 && op.in[1].zero_point == 0;
}
std::unique_ptr<Kernel> make_int8_matmul(const mtia_op &op);

// Integer CONV/GEMM (mtia_spec.h, "Opcodes"): I32 in[0], in[1] and out,
// exact wrapping int32 sums (mtia_compute_imatmul.cc).
inline bool is_int_matmul(const mtia_op &op)
{
    return (op.opcode == MTIA_OP_CONV || op.opcode == MTIA_OP_GEMM) && op.in[0].dtype == MTIA_DTYPE_I32;
}
std::unique_ptr<Kernel> make_int_matmul(const mtia_op &op);

// Builders, one per opcode (op valid). @weights_kept: the weights CONV
// derives its own from stay where they are between runs (false under
// make_widened when it copies them into scratch, shared by every op of
// the shape; true when it leaves 16-bit weights in the arena).
std::unique_ptr<Kernel> make_conv(const mtia_op &op, bool weights_kept);
std::unique_ptr<Kernel> make_gemm(const mtia_op &op);
std::unique_ptr<Kernel> make_binary(const mtia_op &op);
std::unique_ptr<Kernel> make_act(const mtia_op &op);
std::unique_ptr<Kernel> make_pool(const mtia_op &op);
std::unique_ptr<Kernel> make_softmax(const mtia_op &op);
std::unique_ptr<Kernel> make_transpose(const mtia_op &op);
std::unique_ptr<Kernel> make_copy_into(const mtia_op &op);
std::unique_ptr<Kernel> make_slice(const mtia_op &op);
std::unique_ptr<Kernel> make_expand(const mtia_op &op);
std::unique_ptr<Kernel> make_where(const mtia_op &op);
std::unique_ptr<Kernel> make_compare(const mtia_op &op);     // BINARY EQUAL/LESS/GREATER
std::unique_ptr<Kernel> make_int_binary(const mtia_op &op);  // BINARY ADD..GREATER on I32/I64
std::unique_ptr<Kernel> make_reduce(const mtia_op &op);
std::unique_ptr<Kernel> make_layernorm(const mtia_op &op);

// SLICE's step (attr 0 means 1).
inline int32_t slice_step(const mtia_op &op)
{
    const int32_t s = static_cast<int32_t>(op.attrs[MTIA_SLICE_STEP]);
    return s ? s : 1;
}

inline bool is_compare(uint32_t binary_kind)
{
    return binary_kind >= MTIA_BINARY_EQUAL && binary_kind <= MTIA_BINARY_GREATER;
}
std::unique_ptr<Kernel> make_gather(const mtia_op &op);
std::unique_ptr<Kernel> make_embedding_bag(const mtia_op &op);
std::unique_ptr<Kernel> make_cast(const mtia_op &op);

// Thrown by a kernel that finds an index outside its table (GATHER,
// EMBEDDING_BAG) before it writes anything: the job's MTIA_CQE_BAD_INDEX.
struct BadIndex {};
std::unique_ptr<Kernel> make_pad(const mtia_op &op);
std::unique_ptr<Kernel> make_conv_transpose(const mtia_op &op);
std::unique_ptr<Kernel> make_resize(const mtia_op &op);

// dst (shape @dd) = src (shape @sd, broadcastable to @dd: same rank, dims
// equal or 1), for each element of dst.
void broadcast_copy(const mtia_tensor_desc &sd, const float *src, const mtia_tensor_desc &dd, float *dst);

// act(x) for the kinds beyond RELU/CLIP/SIGMOID/TANH (EXP .. ERF).
float act_scalar(uint8_t kind, float x);

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
