// SPDX-License-Identifier: MIT
// REDUCE: sum, mean, max or min of in[0] over any set of axes (a bitmask),
// the reduced dims kept as 1. A loop over the input in order with a double
// accumulator per output element: the result is the same on every host ISA
// (no reassociation by vector width) and exact enough for LayerNorm's
// decomposed statistics.
#include <algorithm>
#include <vector>

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
        const mtia_tensor_desc &x = op.in[0];
        const uint64_t n_out = elems(op.out);
        auto *acc = reinterpret_cast<double *>(ex.scratch(Exec::kScratchDst, n_out * sizeof(double)));
        const float *px = ptr(arena, x);
        const bool extreme = kind_ == MTIA_REDUCE_MAX || kind_ == MTIA_REDUCE_MIN;
        std::fill(acc, acc + n_out, 0.0);
        std::vector<bool> seen(extreme ? n_out : 0);
        // Odometer over in's coordinates, tracking the output offset.
        uint64_t idx[MTIA_MAX_DIMS] = {}, o = 0;
        const uint64_t n_in = elems(x);
        for (uint64_t i = 0; i < n_in; i++) {
            const double v = px[i];
            if (!extreme) {
                acc[o] += v;
            } else if (!seen[o]) {
                acc[o] = v;
                seen[o] = true;
            } else {
                acc[o] = kind_ == MTIA_REDUCE_MAX ? std::max(acc[o], v) : std::min(acc[o], v);
            }
            for (unsigned d = x.ndim; d-- > 0;) {
                o += st_[d];
                if (++idx[d] < x.dims[d]) break;
                o -= st_[d] * x.dims[d];
                idx[d] = 0;
            }
        }
        float *y = ptr(arena, op.out);
        const double scale = kind_ == MTIA_REDUCE_MEAN ? 1.0 / count_ : 1.0;
        for (uint64_t j = 0; j < n_out; j++) y[j] = float(acc[j] * scale);
        act_.apply(y, y, n_out);
        return true;
    }

private:
    uint32_t kind_;
    Act act_;
    uint64_t st_[MTIA_MAX_DIMS] = {};
    double count_ = 1;
};

}  // namespace

std::unique_ptr<Kernel> make_reduce(const mtia_op &op) { return std::make_unique<ReduceKernel>(op); }

}  // namespace compute
}  // namespace mtia
