// SPDX-License-Identifier: MIT
// PAD: ONNX Pad (constant, reflect, edge; negative pads crop) as a loop
// kernel: one pass over the output row by row (rows of the last dim), each
// row's input row found from its coordinates (or none: the constant), its
// middle copied and its pads filled element by element; the abort polled
// between chunks of rows. The fused activation runs on the written row.
#include <algorithm>

#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

namespace {

// Input coordinate of output coordinate @o along a dim whose cropped input
// is [lo, lo + n) of the input, padded by @pad (>= 0) before it; -1: the
// constant. NumPy's reflect repeats the mirror for pads past the extent.
int64_t source(int64_t o, int64_t lo, int64_t n, int64_t pad, uint32_t mode)
{
    int64_t j = o - pad;  // relative to the cropped input
    if (j < 0 || j >= n) {
        if (mode == MTIA_PAD_CONSTANT) return -1;
        if (mode == MTIA_PAD_EDGE || n == 1) {
            j = std::clamp<int64_t>(j, 0, n - 1);
        } else {
            const int64_t period = 2 * (n - 1);
            j %= period;
            if (j < 0) j += period;
            if (j >= n) j = period - j;
        }
    }
    return lo + j;
}

class PadKernel final : public Kernel {
public:
    explicit PadKernel(const mtia_op &op) : act_(op)
    {
        const mtia_tensor_desc &x = op.in[0], &y = op.out;
        mode_ = op.attrs[MTIA_PAD_MODE];
        nd_ = y.ndim;
        value_ = f32(op.attrs[MTIA_PAD_VALUE]);
        for (unsigned i = 0; i < nd_; i++) {
            const int64_t in = x.dims[i], out = y.dims[i];
            const int64_t b = static_cast<int32_t>(op.attrs[MTIA_PAD_BEGIN + i]), e = out - in - b;
            Dim &d = dims_[i];
            d.in = in;
            d.lo = std::max<int64_t>(0, -b);
            d.n = in - d.lo - std::max<int64_t>(0, -e);  // validated >= 1
            d.pad = std::max<int64_t>(0, b);
        }
        rows_per_chunk_ = std::max<uint64_t>(1, chunk_work() / y.dims[nd_ - 1]);
    }

    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        const float *x = ptr(arena, op.in[0]);
        float *y = ptr(arena, op.out);
        const uint64_t row = op.out.dims[nd_ - 1], rows = elems(op.out) / row;
        const Dim &last = dims_[nd_ - 1];
        // The last dim's copied middle: out [pad, pad + n) = in [lo, lo + n).
        const uint64_t mid_end = std::min<uint64_t>(row, last.pad + last.n);
        uint64_t c[MTIA_MAX_DIMS] = {};  // output coordinate of the row
        for (uint64_t r = 0; r < rows; r++) {
            if (r && r % rows_per_chunk_ == 0 && ex.stopped()) return false;
            // The input row, or none when a leading coordinate is the constant.
            int64_t base = 0;
            bool constant = false;
            for (unsigned i = 0; i + 1 < nd_; i++) {
                const int64_t s = source(c[i], dims_[i].lo, dims_[i].n, dims_[i].pad, mode_);
                constant = constant || s < 0;
                base = base * dims_[i].in + (s < 0 ? 0 : s);
            }
            const float *in = x + base * last.in;
            float *out = y + r * row;
            if (constant) {
                std::fill(out, out + row, value_);
            } else {
                for (uint64_t k = 0; k < uint64_t(last.pad) && k < row; k++) out[k] = at(in, k, last);
                if (uint64_t(last.pad) < mid_end)
                    std::copy(in + last.lo, in + last.lo + (mid_end - last.pad), out + last.pad);
                for (uint64_t k = mid_end; k < row; k++) out[k] = at(in, k, last);
            }
            act_.apply(out, out, row);
            for (unsigned i = nd_ - 1; i-- > 0;) {  // next row
                if (++c[i] < op.out.dims[i]) break;
                c[i] = 0;
            }
        }
        return true;
    }

private:
    struct Dim {
        int64_t in = 1, lo = 0, n = 1, pad = 0;  // input extent, cropped input [lo, lo + n), pad before it
    };

    float at(const float *in, uint64_t k, const Dim &d) const
    {
        const int64_t s = source(int64_t(k), d.lo, d.n, d.pad, mode_);
        return s < 0 ? value_ : in[s];
    }

    Act act_;
    uint32_t mode_ = MTIA_PAD_CONSTANT;
    unsigned nd_ = 1;
    float value_ = 0;
    Dim dims_[MTIA_MAX_DIMS];
    uint64_t rows_per_chunk_ = 1;
};

}  // namespace

std::unique_ptr<Kernel> make_pad(const mtia_op &op) { return std::make_unique<PadKernel>(op); }

}  // namespace compute
}  // namespace mtia
