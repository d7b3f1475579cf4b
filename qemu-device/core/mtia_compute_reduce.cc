// SPDX-License-Identifier: MIT
// REDUCE: sum, mean, max or min of in[0] over any set of axes (a bitmask),
// the reduced dims kept as 1. A loop over the input in order with a double
// accumulator per output element: the result is the same on every host ISA
// (no reassociation by vector width) and exact enough for LayerNorm's
// decomposed statistics. (Outputs whose double accumulators would pass the
// scratch bound accumulate in f32 in the output.)
#include <algorithm>
#include <cmath>

#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

class ReduceKernel final : public Kernel {
public:
    explicit ReduceKernel(const mtia_op &op) : kind_(op.attrs[MTIA_REDUCE_KIND]), act_(op)
    {
        broadcast_strides(op.out, op.in[0], st_);  // out indexed by in's coordinates
        count_ = double(elems(op.in[0])) / double(elems(op.out));
    }
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const uint64_t n_out = elems(op.out);
        float *y = ptr(arena, op.out);
        // A double accumulator per output element while that fits the
        // scratch bound; beyond it (huge outputs) the output itself, in f32.
        if (n_out * sizeof(double) <= kMaxScratchBytes)
            reduce(op, ptr(arena, op.in[0]), reinterpret_cast<double *>(ex.scratch(Exec::kScratchDst, n_out * 8)), y);
        else
            reduce(op, ptr(arena, op.in[0]), y, y);
        act_.apply(y, y, n_out);
        return true;
    }

private:
    template <class T>
    void reduce(const mtia_op &op, const float *px, T *acc, float *y) const
    {
        const mtia_tensor_desc &x = op.in[0];
        const uint64_t n_out = elems(op.out), n_in = elems(x);
        const T init = kind_ == MTIA_REDUCE_MAX ? -INFINITY : kind_ == MTIA_REDUCE_MIN ? INFINITY : 0;
        std::fill(acc, acc + n_out, init);
        // Odometer over in's coordinates, tracking the output offset.
        uint64_t idx[MTIA_MAX_DIMS] = {}, o = 0;
        for (uint64_t i = 0; i < n_in; i++) {
            const T v = px[i];
            switch (kind_) {
                case MTIA_REDUCE_MAX:  // NaN propagates, as in PyTorch
                    if (v > acc[o] || std::isnan(v)) acc[o] = v;
                    break;
                case MTIA_REDUCE_MIN:
                    if (v < acc[o] || std::isnan(v)) acc[o] = v;
                    break;
                default:
                    acc[o] += v;
                    break;
            }
            for (unsigned d = x.ndim; d-- > 0;) {
                o += st_[d];
                if (++idx[d] < x.dims[d]) break;
                o -= st_[d] * x.dims[d];
                idx[d] = 0;
            }
        }
        const T scale = kind_ == MTIA_REDUCE_MEAN ? T(1.0 / count_) : T(1);
        for (uint64_t j = 0; j < n_out; j++) y[j] = float(acc[j] * scale);
    }

    uint32_t kind_;
    Act act_;
    uint64_t st_[MTIA_MAX_DIMS] = {};
    double count_ = 1;
};

}  // namespace

std::unique_ptr<Kernel> make_reduce(const mtia_op &op) { return std::make_unique<ReduceKernel>(op); }

}  // namespace compute
}  // namespace mtia
