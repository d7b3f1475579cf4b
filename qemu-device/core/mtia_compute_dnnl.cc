// SPDX-License-Identifier: MIT
// oneDNN glue for the compute kernels (see mtia_compute_dnnl.h).
#include "mtia_compute_dnnl.h"

namespace mtia {
namespace compute {

dnnl::engine &cpu_engine()
{
    static dnnl::engine *e = new dnnl::engine(dnnl::engine::kind::cpu, 0);  // never destroyed
    return *e;
}

dnnl::memory::dims dims_of(const mtia_tensor_desc &t)
{
    dnnl::memory::dims d(t.ndim);
    for (unsigned i = 0; i < t.ndim; i++) d[i] = t.dims[i];
    return d;
}

Storage storage_of(const mtia_op &op, bool in)
{
    if (op.flags & (in ? MTIA_OP_F_IN_BLK16 : MTIA_OP_F_OUT_BLK16)) return Storage::kBlk16;
    if (op.flags & (in ? MTIA_OP_F_IN_NHWC : MTIA_OP_F_OUT_NHWC)) return Storage::kNhwc;
    return Storage::kPlain;
}

dnnl::memory::desc stored_desc(const dnnl::memory::dims &dims, Storage s, dnnl::memory::dim c_total)
{
    if (s == Storage::kPlain) return plain_desc(dims);
    if (s == Storage::kBlk16)
        return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::nChw16c);
    const dnnl::memory::dim w = dims[3], row = w * c_total;
    return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, dnnl::memory::dims{dims[2] * row, 1, row, c_total});
}

dnnl::memory::desc plain_desc(const dnnl::memory::dims &dims)
{
    dnnl::memory::dims strides(dims.size());
    dnnl::memory::dim s = 1;
    for (size_t i = dims.size(); i-- > 0;) {
        strides[i] = s;
        s *= dims[i];
    }
    return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, strides);
}

void act_algorithm(const mtia_op &op, dnnl::algorithm *alg, float *alpha, float *beta)
{
    *alpha = 0;
    *beta = 0;
    switch (op.act) {
        case MTIA_ACT_RELU:
            *alg = dnnl::algorithm::eltwise_relu;
            break;
        case MTIA_ACT_CLIP:
            *alg = dnnl::algorithm::eltwise_clip_v2;  // min(max(x, alpha), beta)
            *alpha = f32(op.act_min);
            *beta = f32(op.act_max);
            break;
        case MTIA_ACT_SIGMOID:
            *alg = dnnl::algorithm::eltwise_logistic;
            break;
        case MTIA_ACT_EXP:
            *alg = dnnl::algorithm::eltwise_exp;
            break;
        case MTIA_ACT_LOG:
            *alg = dnnl::algorithm::eltwise_log;
            break;
        case MTIA_ACT_SQRT:
            *alg = dnnl::algorithm::eltwise_sqrt;
            break;
        case MTIA_ACT_RECIPROCAL:
            *alg = dnnl::algorithm::eltwise_pow;  // alpha * x^beta
            *alpha = 1.0f;
            *beta = -1.0f;
            break;
        case MTIA_ACT_NEG:
            *alg = dnnl::algorithm::eltwise_linear;  // alpha * x + beta
            *alpha = -1.0f;
            break;
        case MTIA_ACT_ABS:
            *alg = dnnl::algorithm::eltwise_abs;
            break;
        case MTIA_ACT_GELU_ERF:
            *alg = dnnl::algorithm::eltwise_gelu_erf;
            break;
        case MTIA_ACT_GELU_TANH:
            *alg = dnnl::algorithm::eltwise_gelu_tanh;
            break;
        default:  // TANH (ERF has no oneDNN form: validation keeps it off post-ops)
            *alg = dnnl::algorithm::eltwise_tanh;
            break;
    }
}

dnnl::post_ops act_post_ops(const mtia_op &op, bool sum_first)
{
    dnnl::post_ops po;
    if (sum_first) po.append_sum(1.0f);
    if (op.act != MTIA_ACT_NONE) {
        dnnl::algorithm alg;
        float alpha, beta;
        act_algorithm(op, &alg, &alpha, &beta);
        po.append_eltwise(1.0f, alg, alpha, beta);
    }
    return po;
}

dnnl::primitive_attr make_attr(const dnnl::post_ops &po)
{
    dnnl::primitive_attr a;
    a.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    a.set_post_ops(po);
    return a;
}

void execute(Exec &ex, const dnnl::primitive &p, const dnnl::primitive_desc_base &pd,
             std::unordered_map<int, dnnl::memory> args)
{
    const dnnl::memory::desc sd = pd.scratchpad_desc();
    if (sd.get_size()) args.emplace(DNNL_ARG_SCRATCHPAD, mem(sd, ex.scratch(Exec::kScratchDnnl, sd.get_size())));
    dnnl::stream &s = stream_of(ex);
    p.execute(s, args);
    s.wait();
}

}  // namespace compute
}  // namespace mtia
