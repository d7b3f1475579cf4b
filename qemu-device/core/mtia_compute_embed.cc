// SPDX-License-Identifier: MIT
// Ids and embeddings: GATHER (ONNX Gather on any axis) and EMBEDDING_BAG
// (table-batched bags, FBGEMM's TBE). Both check every index before they
// write anything: an index outside its table throws BadIndex (the job's
// MTIA_CQE_BAD_INDEX) and no byte outside the table is ever read. Plain
// loops: these ops are memory-bound copies and sums of whole rows (bags are
// prefetched ahead and split between threads: docs/compute.md, "Bag speed").
// Bag tables are F32, F16, BF16 or 8-bit rowwise (each row's I8/U8 values,
// then its F32 scale and bias); every row is pooled in F32.
#include <algorithm>
#include <cmath>
#include <limits>

#include "mtia/mtia_fp16.h"
#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

using Desc = mtia_tensor_desc;

int64_t index_at(const uint8_t *p, uint8_t dtype, uint64_t i)
{
    if (dtype == MTIA_DTYPE_I64) {
        int64_t v;
        std::memcpy(&v, p + i * 8, 8);
        return v;
    }
    int32_t v;
    std::memcpy(&v, p + i * 4, 4);
    return v;
}

uint64_t dims_between(const Desc &t, unsigned from, unsigned to)
{
    uint64_t n = 1;
    for (unsigned i = from; i < to; i++) n *= t.dims[i];
    return n;
}

class GatherKernel final : public Kernel {
public:
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const Desc &x = op.in[0], &ix = op.in[1];
        const unsigned axis = op.attrs[MTIA_GATHER_AXIS];
        const int64_t s = x.dims[axis];
        const uint64_t n = elems(ix), outer = dims_between(x, 0, axis);
        const uint64_t row = dims_between(x, axis + 1, x.ndim) * mtia_dtype_size(x.dtype);
        const uint8_t *ip = arena + ix.offset;
        // Every index first: a bad one fails the op before it writes.
        for (uint64_t j = 0; j < n; j++) {
            const int64_t v = index_at(ip, ix.dtype, j);
            if (v < -s || v >= s) throw BadIndex();
        }
        const uint8_t *src = arena + x.offset;
        uint8_t *dst = arena + op.out.offset;
        const uint64_t chunk = std::max<uint64_t>(1, chunk_work() / std::max<uint64_t>(1, row));
        uint64_t done = 0;
        for (uint64_t o = 0; o < outer; o++) {
            const uint8_t *base = src + o * uint64_t(s) * row;
            for (uint64_t j = 0; j < n; j++, dst += row) {
                const int64_t v = index_at(ip, ix.dtype, j);
                std::memcpy(dst, base + uint64_t(v < 0 ? v + s : v) * row, row);
                if (++done % chunk == 0 && ex.stopped()) return false;
            }
        }
        return true;
    }
};

// The T*B bags, table-major (bag k = t * B + b): ids[begin(k), end(k)).
struct Bags {
    const mtia_op &op;
    const uint8_t *arena;
    uint64_t n, count, l;
    Bags(const mtia_op &o, const uint8_t *a)
        : op(o),
          arena(a),
          n(elems(o.in[1])),
          count(uint64_t{o.attrs[MTIA_EMBEDDING_BAG_TABLES]} * o.out.dims[0]),
          l(o.attrs[MTIA_EMBEDDING_BAG_BAG_SIZE])
    {
    }
    // Offset k of k = 0..count (count: N, unless INCLUDE_LAST gives it).
    int64_t offset(uint64_t k) const
    {
        const Desc &off = op.in[2];
        if (l) return int64_t(k * l);
        return k < elems(off) ? index_at(arena + off.offset, off.dtype, k) : int64_t(n);
    }
    // Offsets start at 0, never decrease and end <= N.
    bool valid() const
    {
        int64_t prev = 0;
        for (uint64_t k = 0; k <= count; k++) {
            const int64_t v = offset(k);
            if ((k == 0 && v != 0) || v < prev || v > int64_t(n)) return false;
            prev = v;
        }
        return true;
    }
};

// Rows a bag kernel starts loading ahead of the one it sums: the ids pick rows
// at random from tables far larger than the caches, so without many loads in
// flight the op waits on memory latency (one row at a time: about 1.5 GB/s).
constexpr int64_t kPrefetchRows = 8;
// Bags below which one thread pools them all (a parallel region costs more).
constexpr uint64_t kMinParallelRows = 2048;

inline void prefetch_row(const uint8_t *r, uint64_t bytes)
{
    for (uint64_t c = 0; c < bytes; c += 64) __builtin_prefetch(r + c);  // a 64-byte line at a time
}

// A table row by element type, made from the row's first byte: F32 as it
// is, F16/BF16 widened exactly, 8-bit rowwise (I8/U8 values, then the
// row's F32 scale and bias) dequantized as the spec says: q * s, then + b.
struct F32Row {
    const float *p;
    F32Row(const uint8_t *r, uint64_t) : p(reinterpret_cast<const float *>(r)) {}
    float operator[](uint64_t c) const { return p[c]; }
};
struct F16Row {
    const uint16_t *p;
    F16Row(const uint8_t *r, uint64_t) : p(reinterpret_cast<const uint16_t *>(r)) {}
    float operator[](uint64_t c) const { return mtia_f16_to_f32(p[c]); }
};
struct BF16Row {
    const uint16_t *p;
    BF16Row(const uint8_t *r, uint64_t) : p(reinterpret_cast<const uint16_t *>(r)) {}
    float operator[](uint64_t c) const { return mtia_bf16_to_f32(p[c]); }
};
template <class Q>
struct RowwiseRow {
    const Q *p;
    float s, b;
    RowwiseRow(const uint8_t *r, uint64_t d) : p(reinterpret_cast<const Q *>(r))
    {
        std::memcpy(&s, r + d, 4);  // unaligned: after the row's d values
        std::memcpy(&b, r + d + 4, 4);
    }
    float operator[](uint64_t c) const { return float(p[c]) * s + b; }
};

class EmbeddingBagKernel final : public Kernel {
public:
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const Desc &tab = op.in[0], &ids = op.in[1], &y = op.out;
        const uint32_t *a = op.attrs;
        const uint32_t t_n = a[MTIA_EMBEDDING_BAG_TABLES];
        const uint64_t b_n = y.dims[0];
        const Bags bags(op, arena);

        // Every bound and id first: a bad one fails the op before it writes.
        if (!bags.valid()) throw BadIndex();
        const uint8_t *base[MTIA_EMBEDDING_BAG_MAX_TABLES];  // table t's first row
        const uint8_t *table = arena + tab.offset;
        const uint64_t row_bytes = uint64_t{tab.dims[1]} * mtia_dtype_size(tab.dtype);
        for (uint32_t t = 0; t < t_n; t++) {
            const int64_t rows = a[MTIA_EMBEDDING_BAG_ROWS + t];
            const int64_t i0 = bags.offset(t * b_n), i1 = bags.offset((t + 1) * b_n);
            for (int64_t i = i0; i < i1; i++) {
                const int64_t v = index_at(arena + ids.offset, ids.dtype, uint64_t(i));
                if (v < 0 || v >= rows) throw BadIndex();
            }
            base[t] = table;
            table += uint64_t(rows) * row_bytes;
        }

        // Bags in chunks (the abort is polled between them); each chunk's bags
        // are split between the threads in contiguous runs, so a thread's ids
        // are contiguous and it can prefetch along them. A bag is pooled by
        // one thread in id order: the result does not depend on the threads.
        const uint64_t count = bags.count;
        const uint64_t per_bag = std::max<uint64_t>(1, uint64_t(bags.n) / std::max<uint64_t>(1, count)) * tab.dims[1];
        const uint64_t chunk = std::max<uint64_t>(1, chunk_work() / per_bag);
        for (uint64_t k0 = 0; k0 < count; k0 += chunk) {
            const int64_t k1 = int64_t(std::min(count, k0 + chunk));
            const bool par = uint64_t(bags.offset(uint64_t(k1)) - bags.offset(k0)) >= kMinParallelRows;
#pragma omp parallel for schedule(static) if (par)
            for (int64_t k = int64_t(k0); k < k1; k++) {
                if (tab.dtype == MTIA_DTYPE_F16)
                    pool<F16Row>(op, arena, bags, base, uint64_t(k));
                else if (tab.dtype == MTIA_DTYPE_BF16)
                    pool<BF16Row>(op, arena, bags, base, uint64_t(k));
                else if (tab.dtype == MTIA_DTYPE_U8)
                    pool<RowwiseRow<uint8_t>>(op, arena, bags, base, uint64_t(k));
                else if (tab.dtype == MTIA_DTYPE_I8)
                    pool<RowwiseRow<int8_t>>(op, arena, bags, base, uint64_t(k));
                else
                    pool<F32Row>(op, arena, bags, base, uint64_t(k));
            }
            if (uint64_t(k1) < count && ex.stopped()) return false;
        }
        return true;
    }

private:
    // Pools bag k (table t = k / B, sample b = k % B) into its output row.
    template <class Row>
    static void pool(const mtia_op &op, uint8_t *arena, const Bags &bags, const uint8_t *const *base, uint64_t k)
    {
        const Desc &tab = op.in[0], &ids = op.in[1], &y = op.out;
        const uint32_t t_n = op.attrs[MTIA_EMBEDDING_BAG_TABLES], mode = op.attrs[MTIA_EMBEDDING_BAG_MODE];
        const uint64_t d = mtia_embedding_bag_dim(tab.dtype, tab.dims[1]), b_n = y.dims[0], t = k / b_n, b = k % b_n;
        const uint64_t row_bytes = uint64_t{tab.dims[1]} * mtia_dtype_size(tab.dtype);
        const uint8_t *ip = arena + ids.offset;
        const float *w = op.n_in == 3 && bags.l ? ptr(arena, op.in[2]) : nullptr;
        const uint8_t *table = base[t];
        const int64_t i0 = bags.offset(k), i1 = bags.offset(k + 1);
        // Prefetch within this bag's table: ids up to its last bag's end.
        const int64_t pend = bags.offset((t + 1) * b_n);
        float *__restrict o = ptr(arena, y) + (b * t_n + t) * d;
        std::fill(o, o + d, 0.0f);  // an empty bag gives zeros
        for (int64_t i = i0; i < i1; i++) {
            if (i + kPrefetchRows < pend)
                prefetch_row(table + uint64_t(index_at(ip, ids.dtype, uint64_t(i + kPrefetchRows))) * row_bytes,
                             row_bytes);
            const Row r(table + uint64_t(index_at(ip, ids.dtype, uint64_t(i))) * row_bytes, d);
            if (mode == MTIA_EMBEDDING_BAG_MAX) {
                if (i == i0)
                    for (uint64_t c = 0; c < d; c++) o[c] = r[c];
                else
                    for (uint64_t c = 0; c < d; c++) o[c] = std::max(o[c], r[c]);
            } else if (w) {
                const float s = w[i];
                for (uint64_t c = 0; c < d; c++) o[c] += s * r[c];
            } else {
                for (uint64_t c = 0; c < d; c++) o[c] += r[c];
            }
        }
        if (mode == MTIA_EMBEDDING_BAG_MEAN && i1 > i0)
            for (uint64_t c = 0; c < d; c++) o[c] /= float(i1 - i0);
    }
};

}  // namespace

std::unique_ptr<Kernel> make_gather(const mtia_op &) { return std::make_unique<GatherKernel>(); }
std::unique_ptr<Kernel> make_embedding_bag(const mtia_op &) { return std::make_unique<EmbeddingBagKernel>(); }

}  // namespace compute
}  // namespace mtia
