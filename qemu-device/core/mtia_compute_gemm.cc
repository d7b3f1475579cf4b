// SPDX-License-Identifier: MIT
// GEMM: oneDNN matmul. Batch dims are flattened into one when every batched
// tensor has out's batch dims (a 2-D A or B is broadcast over them); when a
// batch dim of A or B is 1 under a larger one of out (NumPy broadcasting,
// attention's Q.K^T), each output matrix is its own product of the A and B
// matrices its batch coordinates pick.
// Transposes are strides of the operand's memory descriptor; alpha is the
// output scale; beta * C is a "sum" post-op over out after C has been
// broadcast into it (skipped when out is C itself); the activation follows.
// Large products run in chunks of batches or rows of out.
#include <map>

#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;

class GemmKernel final : public Kernel {
public:
    explicit GemmKernel(const mtia_op &op)
    {
        const uint64_t chunk = chunk_work();
        const mtia_tensor_desc &a = op.in[0], &b = op.in[1], &y = op.out;
        ta_ = op.attrs[MTIA_GEMM_TRANS_A];
        tb_ = op.attrs[MTIA_GEMM_TRANS_B];
        m_ = y.dims[y.ndim - 2];
        n_ = y.dims[y.ndim - 1];
        k_ = a.dims[a.ndim - (ta_ ? 2 : 1)];
        batch_ = elems(y) / (m_ * n_);
        a_batched_ = a.ndim == y.ndim && batch_ > 1;
        b_batched_ = b.ndim == y.ndim && batch_ > 1;
        for (unsigned i = 0; i + 2 < y.ndim; i++)
            if ((a_batched_ && a.dims[i] != y.dims[i]) || (b_batched_ && b.dims[i] != y.dims[i])) bcast_ = true;
        if (a_batched_) batch_strides(a, y, ast_);
        if (b_batched_) batch_strides(b, y, bst_);
        alpha_ = f32(op.attrs[MTIA_GEMM_ALPHA]);
        const float beta = f32(op.attrs[MTIA_GEMM_BETA]);
        use_c_ = op.n_in == 3 && beta != 0.0f;

        const uint64_t nk = n_ * k_;  // validated: <= 2^36
        if (m_ <= chunk / nk && !bcast_) {
            rows_ = m_;
            batches_ = std::max<uint64_t>(1, std::min<uint64_t>(batch_, chunk / (m_ * nk)));
        } else {
            batches_ = 1;
            rows_ = std::max<uint64_t>(1, std::min<uint64_t>(m_, chunk / nk));
        }
        dnnl::post_ops po;
        if (use_c_) po.append_sum(beta);
        if (op.act != MTIA_ACT_NONE) {
            dnnl::algorithm alg;
            float al, be;
            act_algorithm(op, &alg, &al, &be);
            po.append_eltwise(1.0f, alg, al, be);
        }
        attr_ = make_attr(po);
        if (alpha_ != 1.0f) attr_.set_output_scales(0, {alpha_});
        for (uint64_t b0 = 0; b0 < batch_; b0 += batches_)
            for (uint64_t r0 = 0; r0 < m_; r0 += rows_) prim(std::min(batches_, batch_ - b0), std::min(rows_, m_ - r0));
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const float *a = ptr(arena, op.in[0]), *b = ptr(arena, op.in[1]);
        float *y = ptr(arena, op.out);
        if (use_c_ && op.in[2].offset != op.out.offset) broadcast_copy(op.in[2], ptr(arena, op.in[2]), op.out, y);
        bool first = true;
        for (uint64_t b0 = 0; b0 < batch_; b0 += batches_) {
            for (uint64_t r0 = 0; r0 < m_; r0 += rows_) {
                if (!first && ex.stopped()) return false;
                first = false;
                const Prim &p = prim(std::min(batches_, batch_ - b0), std::min(rows_, m_ - r0));
                // Row r of op(A) starts at r * K, or at r when A is transposed.
                const uint64_t ai = bcast_ ? matrix_of(ast_, op.out, b0) : b0;
                const uint64_t bi = bcast_ ? matrix_of(bst_, op.out, b0) : b0;
                const float *pa = a + (a_batched_ ? ai * m_ * k_ : 0) + r0 * (ta_ ? 1 : k_);
                const float *pb = b + (b_batched_ ? bi * k_ * n_ : 0);
                float *py = y + b0 * m_ * n_ + r0 * n_;
                execute(ex, p.mm, p.pd,
                        {{DNNL_ARG_SRC, mem(p.pd.src_desc(), const_cast<float *>(pa))},
                         {DNNL_ARG_WEIGHTS, mem(p.pd.weights_desc(), const_cast<float *>(pb))},
                         {DNNL_ARG_DST, mem(p.pd.dst_desc(), py)}});
            }
        }
        return true;
    }

private:
    struct Prim {
        dnnl::matmul::primitive_desc pd;
        dnnl::matmul mm;
    };

    // The matmul of @nb batches x @nr rows, built on first use.
    const Prim &prim(uint64_t nb, uint64_t nr)
    {
        auto it = prims_.find({nb, nr});
        if (it != prims_.end()) return it->second;
        const memory::dim B = nb, M = nr, N = n_, K = k_;
        const memory::dim sm = m_ * k_, sn = k_ * n_;  // full matrices' batch strides
        const memory::desc a_md({a_batched_ ? B : 1, M, K}, memory::data_type::f32,
                                memory::dims{sm, ta_ ? 1 : K, ta_ ? memory::dim(m_) : 1});
        const memory::desc b_md({b_batched_ ? B : 1, K, N}, memory::data_type::f32,
                                memory::dims{sn, tb_ ? 1 : N, tb_ ? K : 1});
        const memory::desc y_md({B, M, N}, memory::data_type::f32, memory::dims{memory::dim(m_) * N, N, 1});
        const dnnl::matmul::desc d(a_md, b_md, y_md);
        Prim p;
        p.pd = dnnl::matmul::primitive_desc(d, attr_, cpu_engine());
        p.mm = dnnl::matmul(p.pd);
        return prims_.emplace(std::make_pair(nb, nr), std::move(p)).first->second;
    }

    // Matrix strides of a batched operand over out's batch dims (0 where it
    // broadcasts), and the operand's matrix for out's matrix @bt.
    static void batch_strides(const mtia_tensor_desc &t, const mtia_tensor_desc &y, uint64_t st[MTIA_MAX_DIMS])
    {
        uint64_t s = 1;
        for (unsigned i = y.ndim - 2; i-- > 0;) {
            st[i] = t.dims[i] == y.dims[i] ? s : 0;
            s *= t.dims[i];
        }
    }
    static uint64_t matrix_of(const uint64_t st[MTIA_MAX_DIMS], const mtia_tensor_desc &y, uint64_t bt)
    {
        uint64_t m = 0;
        for (unsigned i = y.ndim - 2; i-- > 0;) {
            m += (bt % y.dims[i]) * st[i];
            bt /= y.dims[i];
        }
        return m;
    }

    bool ta_ = false, tb_ = false, a_batched_ = false, b_batched_ = false, use_c_ = false, bcast_ = false;
    uint64_t ast_[MTIA_MAX_DIMS] = {}, bst_[MTIA_MAX_DIMS] = {};
    uint64_t m_ = 0, n_ = 0, k_ = 0, batch_ = 1, batches_ = 1, rows_ = 1;
    float alpha_ = 1.0f;
    dnnl::primitive_attr attr_;
    std::map<std::pair<uint64_t, uint64_t>, Prim> prims_;
};

}  // namespace

std::unique_ptr<Kernel> make_gemm(const mtia_op &op) { return std::make_unique<GemmKernel>(op); }

}  // namespace compute
}  // namespace mtia
