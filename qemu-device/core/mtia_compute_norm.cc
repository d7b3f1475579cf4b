// SPDX-License-Identifier: MIT
// LAYERNORM: oneDNN layer_normalization over the trailing dims from AXIS,
// seen as a 2-D (rows, C) tensor (C = product of those dims), with the
// optional scale and bias as oneDNN's scale/shift of C elements. The fused
// activation (oneDNN's layer norm takes no post-ops) runs afterwards.
#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

namespace {

using dnnl::memory;

class LayerNormKernel final : public Kernel {
public:
    explicit LayerNormKernel(const mtia_op &op) : act_(op)
    {
        const mtia_tensor_desc &x = op.in[0];
        memory::dim c = 1;
        for (unsigned i = op.attrs[MTIA_LAYERNORM_AXIS]; i < x.ndim; i++) c *= x.dims[i];
        const memory::dim rows = static_cast<memory::dim>(elems(x)) / c;
        auto flags = dnnl::normalization_flags::none;
        if (op.n_in >= 2) flags |= dnnl::normalization_flags::use_scale;
        if (op.n_in >= 3) flags |= dnnl::normalization_flags::use_shift;
        const dnnl::layer_normalization_forward::desc d(dnnl::prop_kind::forward_inference, plain_desc({rows, c}),
                                                        f32(op.attrs[MTIA_LAYERNORM_EPSILON]), flags);
        pd_ = dnnl::layer_normalization_forward::primitive_desc(d, make_attr(), cpu_engine());
        c_md_ = plain_desc({c});
        prim_ = dnnl::layer_normalization_forward(pd_);
    }
    bool run(const mtia_op &op, uint8_t *arena, Exec &ex) override
    {
        float *y = ptr(arena, op.out);
        std::unordered_map<int, memory> args{{DNNL_ARG_SRC, mem(pd_.src_desc(), ptr(arena, op.in[0]))},
                                             {DNNL_ARG_DST, mem(pd_.dst_desc(), y)}};
        if (op.n_in >= 2) args.emplace(DNNL_ARG_SCALE, mem(c_md_, ptr(arena, op.in[1])));
        if (op.n_in >= 3) args.emplace(DNNL_ARG_SHIFT, mem(c_md_, ptr(arena, op.in[2])));
        // Per-row statistics, when the implementation wants them as memory.
        const memory::desc mean = pd_.mean_desc(), var = pd_.variance_desc();
        if (mean.get_size()) args.emplace(DNNL_ARG_MEAN, mem(mean, ex.scratch(Exec::kScratchSrc, mean.get_size())));
        if (var.get_size())
            args.emplace(DNNL_ARG_VARIANCE, mem(var, ex.scratch(Exec::kScratchWeights, var.get_size())));
        execute(ex, prim_, pd_, std::move(args));
        act_.apply(y, y, elems(op.out));
        return true;
    }

private:
    Act act_;
    memory::desc c_md_;  // scale, bias
    dnnl::layer_normalization_forward::primitive_desc pd_;
    dnnl::layer_normalization_forward prim_;
};

}  // namespace

std::unique_ptr<Kernel> make_layernorm(const mtia_op &op) { return std::make_unique<LayerNormKernel>(op); }

}  // namespace compute
}  // namespace mtia
