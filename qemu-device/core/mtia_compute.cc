// SPDX-License-Identifier: MIT
// The compute engine's C ABI (mtia_compute.h): validate, then run each op
// through a kernel prepared for its shape. Kernels are cached by everything
// in the descriptor except tensor offsets (so a model's program reuses its
// oneDNN primitives run after run); they hold no arena data.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>

#include "mtia_compute.h"
#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

// ---- Exec ----------------------------------------------------------------------

namespace {

// Scratch buffers between runs: per slot, the few largest recently used
// (one per device running at once, bounded).
class ScratchPool {
public:
    Exec::Buffer take(unsigned slot)
    {
        std::lock_guard<std::mutex> l(mu_);
        auto &v = free_[slot];
        if (v.empty()) return {};
        Exec::Buffer b = std::move(v.back());
        v.pop_back();
        return b;
    }
    void give(unsigned slot, Exec::Buffer b)
    {
        if (!b.p) return;
        std::lock_guard<std::mutex> l(mu_);
        auto &v = free_[slot];
        v.push_back(std::move(b));
        std::sort(v.begin(), v.end(), [](const Exec::Buffer &x, const Exec::Buffer &y) { return x.size < y.size; });
        if (v.size() > kKeep) v.erase(v.begin());  // drop the smallest
    }

private:
    static constexpr size_t kKeep = 2;
    std::mutex mu_;
    std::vector<Exec::Buffer> free_[Exec::kScratchSlots];
};

ScratchPool &pool()
{
    static ScratchPool *p = new ScratchPool;  // never destroyed: QEMU threads at exit
    return *p;
}

}  // namespace

Exec::~Exec()
{
    for (unsigned i = 0; i < kScratchSlots; i++) pool().give(i, std::move(scratch_[i]));
}

uint8_t *Exec::scratch(unsigned slot, size_t n)
{
    Buffer &b = scratch_[slot];
    if (!taken_[slot]) {
        b = pool().take(slot);
        taken_[slot] = true;
    }
    if (n > b.size) {
        b = Buffer();  // free before allocating the larger one
        const size_t size = (n + 4095) & ~size_t{4095};
        b.p.reset(static_cast<uint8_t *>(std::aligned_alloc(64, size)));
        if (!b.p) throw std::bad_alloc();
        b.size = size;
    }
    return b.p.get();
}

void *Exec::dnnl_stream()
{
    if (!stream_) stream_ = std::make_shared<dnnl::stream>(cpu_engine());
    return stream_.get();
}

// ---- the scalar activation ----------------------------------------------------

float act_scalar(uint8_t kind, float x)
{
    constexpr float kSqrt1_2 = 0.70710678118654752f, kSqrt2Pi = 0.79788456080286536f;
    switch (kind) {
        case MTIA_ACT_EXP:
            return std::exp(x);
        case MTIA_ACT_LOG:
            return std::log(x);
        case MTIA_ACT_SQRT:
            return std::sqrt(x);
        case MTIA_ACT_RECIPROCAL:
            return 1.0f / x;
        case MTIA_ACT_NEG:
            return -x;
        case MTIA_ACT_ABS:
            return std::fabs(x);
        case MTIA_ACT_GELU_ERF:
            return 0.5f * x * (1.0f + std::erf(x * kSqrt1_2));
        case MTIA_ACT_GELU_TANH:
            return 0.5f * x * (1.0f + std::tanh(kSqrt2Pi * (x + 0.044715f * x * x * x)));
        case MTIA_ACT_ERF:
            return std::erf(x);
        default:  // the kinds Act::apply runs itself
            return x;
    }
}

void Act::apply(float *dst, const float *src, uint64_t n) const
{
    switch (kind) {
        case MTIA_ACT_NONE:
            if (dst != src) std::memmove(dst, src, n * 4);
            return;
        case MTIA_ACT_RELU:
            for (uint64_t i = 0; i < n; i++) dst[i] = src[i] > 0 ? src[i] : 0.0f;
            return;
        case MTIA_ACT_CLIP:
            for (uint64_t i = 0; i < n; i++) dst[i] = std::min(std::max(src[i], lo), hi);
            return;
        case MTIA_ACT_SIGMOID:
            for (uint64_t i = 0; i < n; i++) dst[i] = 1.0f / (1.0f + std::exp(-src[i]));
            return;
        case MTIA_ACT_TANH:
            for (uint64_t i = 0; i < n; i++) dst[i] = std::tanh(src[i]);
            return;
        default:
            for (uint64_t i = 0; i < n; i++) dst[i] = act_scalar(kind, src[i]);
            return;
    }
}

uint64_t chunk_work()
{
    const char *e = std::getenv("MTIA_COMPUTE_CHUNK_WORK");
    const uint64_t v = e ? std::strtoull(e, nullptr, 0) : 0;
    return v && v < kChunkWork ? v : kChunkWork;
}

namespace {

// ---- kernel cache ----------------------------------------------------------------

// Everything that shapes a kernel: the descriptor without tensor offsets.
std::string kernel_key(const mtia_op &op)
{
    mtia_op k = op;
    for (auto &t : k.in) t.offset = 0;
    k.out.offset = 0;
    return std::string(reinterpret_cast<const char *>(&k), sizeof(k));
}

// @weights_kept: as make_conv's (false for the op inside a widening kernel
// that copies its weights into scratch).
std::unique_ptr<Kernel> build(const mtia_op &op, bool weights_kept)
{
    if (is_int8_matmul(op)) return make_int8_matmul(op);
    if (is_int_matmul(op)) return make_int_matmul(op);
    if (needs_widening(op)) return make_widened(build(widened_op(op), widening_keeps_weights(op)));
    switch (op.opcode) {
        case MTIA_OP_CONV:
            return make_conv(op, weights_kept);
        case MTIA_OP_GEMM:
            return make_gemm(op);
        case MTIA_OP_BINARY:
            if (op.in[0].dtype == MTIA_DTYPE_I32 || op.in[0].dtype == MTIA_DTYPE_I64) return make_int_binary(op);
            return is_compare(op.attrs[MTIA_BINARY_KIND]) ? make_compare(op) : make_binary(op);
        case MTIA_OP_ACT:
            return make_act(op);
        case MTIA_OP_POOL:
            return make_pool(op);
        case MTIA_OP_SOFTMAX:
            return make_softmax(op);
        case MTIA_OP_TRANSPOSE:
            return make_transpose(op);
        case MTIA_OP_COPY_INTO:
            return make_copy_into(op);
        case MTIA_OP_GATHER:
            return make_gather(op);
        case MTIA_OP_EMBEDDING_BAG:
            return make_embedding_bag(op);
        case MTIA_OP_CAST:
            return make_cast(op);
        case MTIA_OP_PAD:
            return make_pad(op);
        case MTIA_OP_CONV_TRANSPOSE:
            return make_conv_transpose(op);
        case MTIA_OP_RESIZE:
            return make_resize(op);
        default:
            return make_slice(op);
        case MTIA_OP_WHERE:
            return make_where(op);
        case MTIA_OP_REDUCE:
            return make_reduce(op);
        case MTIA_OP_LAYERNORM:
            return make_layernorm(op);
        case MTIA_OP_EXPAND:
            return make_expand(op);
    }
}

// Least-recently-used cache of kernels, shared by every device and thread.
class KernelCache {
public:
    std::shared_ptr<Kernel> get(const mtia_op &op)
    {
        std::string key = kernel_key(op);
        {
            std::lock_guard<std::mutex> l(mu_);
            auto it = map_.find(key);
            if (it != map_.end()) {
                lru_.splice(lru_.begin(), lru_, it->second.second);
                return it->second.first;
            }
        }
        std::shared_ptr<Kernel> k(build(op, true));  // outside the lock: may be slow
        std::lock_guard<std::mutex> l(mu_);
        auto it = map_.find(key);
        if (it != map_.end()) return it->second.first;  // another thread won
        lru_.push_front(key);
        map_.emplace(std::move(key), std::make_pair(k, lru_.begin()));
        while (map_.size() > kCapacity) {
            map_.erase(lru_.back());
            lru_.pop_back();
        }
        return k;
    }

    void clear()
    {
        std::lock_guard<std::mutex> l(mu_);
        map_.clear();
        lru_.clear();
    }

private:
    static constexpr size_t kCapacity = 2048;
    std::mutex mu_;
    std::list<std::string> lru_;
    std::unordered_map<std::string, std::pair<std::shared_ptr<Kernel>, std::list<std::string>::iterator>> map_;
};

KernelCache &cache()
{
    static KernelCache *c = new KernelCache;  // never destroyed: used at exit by QEMU threads
    return *c;
}

Grid grid_of(const mtia_compute_grid *g)
{
    Grid r;
    if (g) {
        r.rows = std::max<uint32_t>(g->pe_rows, 1);
        r.cols = std::max<uint32_t>(g->pe_cols, 1);
    }
    return r;
}

}  // namespace

}  // namespace compute
}  // namespace mtia

using namespace mtia::compute;

extern "C" void mtia_compute_drop_kernels(void) { cache().clear(); }

extern "C" uint16_t mtia_compute_validate(const struct mtia_op *ops, uint32_t n_ops, uint64_t arena_bytes,
                                          uint32_t *bad_op)
{
    uint32_t dummy;
    if (!bad_op) bad_op = &dummy;
    *bad_op = 0;
    if (!ops || n_ops == 0) return MTIA_CQE_BAD_PROGRAM;
    for (uint32_t i = 0; i < n_ops; i++) {
        if (check_op(ops[i], arena_bytes)) {
            *bad_op = i;
            return MTIA_CQE_BAD_PROGRAM;
        }
    }
    return MTIA_CQE_OK;
}

extern "C" uint16_t mtia_compute_run_tracked(const struct mtia_compute_grid *grid, const struct mtia_op *ops,
                                             uint32_t n_ops, uint8_t *arena, uint64_t arena_bytes,
                                             int (*should_stop)(void *), void *opaque,
                                             const struct mtia_compute_profile *prof,
                                             const struct mtia_compute_tracker *tracker, uint64_t *result)
{
    uint64_t dummy;
    if (!result) result = &dummy;
    *result = 0;
    const uint64_t t_start = prof ? prof->clock_ns(prof->opaque) : 0;
    uint32_t bad;
    if (mtia_compute_validate(ops, n_ops, arena ? arena_bytes : 0, &bad) != MTIA_CQE_OK) {
        *result = bad;
        return MTIA_CQE_BAD_PROGRAM;
    }
    const Grid g = grid_of(grid);
    Exec ex(should_stop, opaque);
    ex.track(tracker, arena, arena_bytes);
    uint64_t ns = 0;
    for (uint32_t i = 0; i < n_ops; i++) {
        if (ex.stopped()) return MTIA_CQE_ABORTED;
        // An op ends at the poll after it: the device paces the op's work to
        // its engine clock there (mtia_pacer.h).
        if (prof && i) prof->ops[i - 1].end_ns = prof->clock_ns(prof->opaque);
        const uint64_t t0 = prof ? prof->clock_ns(prof->opaque) : 0;
        const mtia_op op = logical_op(ops[i]);
        // The op's output is (maybe partly) written however it ends.
        struct Mark {
            const mtia_compute_tracker *t;
            const mtia_tensor_desc &out;
            ~Mark()
            {
                if (t) t->wrote(t->opaque, out.offset, bytes(out));
            }
        } mark{tracker, ops[i].out};
        try {
            if (!cache().get(op)->run(op, arena, ex)) return MTIA_CQE_ABORTED;
        } catch (const BadIndex &) {
            *result = i;  // the op wrote nothing; the ops before it did
            return MTIA_CQE_BAD_INDEX;
        } catch (const std::exception &e) {
            // Only host resource exhaustion gets here (every valid op has a kernel).
            std::fprintf(stderr, "mtia compute: op %u (opcode %u) failed: %s\n", i, ops[i].opcode, e.what());
            *result = i;
            return MTIA_CQE_BAD_PROGRAM;
        }
        const uint64_t t = op_ns(g, op);
        ns = ns > UINT64_MAX - t ? UINT64_MAX : ns + t;
        if (prof) {
            mtia_op_profile &r = prof->ops[i];
            r.start_ns = t0;  // end_ns: after the poll that follows the op
            r.model_ns = t;
            r.bytes = mtia_compute_op_bytes(&ops[i]);
        }
    }
    // One more poll after the last op, for its pacing; every op has run, so
    // a stop asked for now changes nothing.
    (void)ex.stopped();
    if (prof) prof->ops[n_ops - 1].end_ns = prof->clock_ns(prof->opaque);
    if (prof) {
        mtia_profile_header &h = *prof->header;
        h.magic = MTIA_PROFILE_MAGIC;
        h.n_ops = n_ops;
        h.start_ns = t_start;
        h.end_ns = n_ops ? prof->ops[n_ops - 1].end_ns : t_start;
        h.model_ns = ns;
    }
    *result = ns;
    return MTIA_CQE_OK;
}

extern "C" uint16_t mtia_compute_run_profiled(const struct mtia_compute_grid *grid, const struct mtia_op *ops,
                                              uint32_t n_ops, uint8_t *arena, uint64_t arena_bytes,
                                              int (*should_stop)(void *), void *opaque,
                                              const struct mtia_compute_profile *prof, uint64_t *result)
{
    return mtia_compute_run_tracked(grid, ops, n_ops, arena, arena_bytes, should_stop, opaque, prof, nullptr, result);
}

extern "C" uint16_t mtia_compute_run_grid(const struct mtia_compute_grid *grid, const struct mtia_op *ops,
                                          uint32_t n_ops, uint8_t *arena, uint64_t arena_bytes,
                                          int (*should_stop)(void *), void *opaque, uint64_t *result)
{
    return mtia_compute_run_tracked(grid, ops, n_ops, arena, arena_bytes, should_stop, opaque, nullptr, nullptr,
                                    result);
}

extern "C" uint64_t mtia_compute_op_bytes(const struct mtia_op *op)
{
    uint64_t b = bytes(op->out);
    if (op->flags & MTIA_OP_F_ACCUM) b = b > UINT64_MAX / 2 ? UINT64_MAX : 2 * b;  // out is read too
    for (unsigned k = 0; k < op->n_in; k++) {
        const uint64_t x = bytes(op->in[k]);
        b = b > UINT64_MAX - x ? UINT64_MAX : b + x;
    }
    return b;
}

extern "C" uint64_t mtia_compute_op_ns(const struct mtia_compute_grid *grid, const struct mtia_op *op)
{
    return op_ns(grid_of(grid), logical_op(*op));
}

extern "C" uint16_t mtia_compute_run(const struct mtia_op *ops, uint32_t n_ops, uint8_t *arena, uint64_t arena_bytes,
                                     int (*should_stop)(void *), void *opaque, uint64_t *result)
{
    return mtia_compute_run_grid(nullptr, ops, n_ops, arena, arena_bytes, should_stop, opaque, result);
}
