// SPDX-License-Identifier: MIT
// oneDNN glue shared by the compute kernels: the CPU engine, plain
// (dense row-major) memory descriptors of arena tensors, fused activations
// as post-ops, and primitive execution with a user-managed scratchpad (so
// kernels may run concurrently on different threads).
#ifndef MTIA_COMPUTE_DNNL_H
#define MTIA_COMPUTE_DNNL_H

#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

#include "mtia_compute_impl.h"

namespace mtia {
namespace compute {

dnnl::engine &cpu_engine();
inline dnnl::stream &stream_of(Exec &ex) { return *static_cast<dnnl::stream *>(ex.dnnl_stream()); }

// Dims of a tensor descriptor (first @nd of them, or all).
dnnl::memory::dims dims_of(const mtia_tensor_desc &t);
// Dense row-major f32 descriptor of @dims.
dnnl::memory::desc plain_desc(const dnnl::memory::dims &dims);
// An f32 descriptor of @dims in the layout a primitive prefers (tag::any).
inline dnnl::memory::desc any_desc(const dnnl::memory::dims &dims)
{
    return dnnl::memory::desc(dims, dnnl::memory::data_type::f32, dnnl::memory::format_tag::any);
}

// How a 2-D CONV/POOL's X or out is stored (MTIA_OP_F_*: plain NCHW,
// channels-last, or nChw16c blocks), from @op's flags.
enum class Storage { kPlain, kNhwc, kBlk16 };
Storage storage_of(const mtia_op &op, bool in);

// A 4-D f32 tensor of @dims (NCHW order) as stored in the arena: plain;
// channels-last with @c_total channels per pixel (more than dims[1] when it
// is a run of a larger tensor's channels); or nChw16c (a run of whole
// blocks of a larger tensor is itself one, so @c_total is not needed).
dnnl::memory::desc stored_desc(const dnnl::memory::dims &dims, Storage s, dnnl::memory::dim c_total);

// The op's fused activation as oneDNN post-ops (empty for NONE), after a
// sum into the destination's old contents if @sum_first (CONV's ACCUM).
dnnl::post_ops act_post_ops(const mtia_op &op, bool sum_first = false);
// Attributes every kernel uses: user scratchpad, and @po.
dnnl::primitive_attr make_attr(const dnnl::post_ops &po = dnnl::post_ops());
// oneDNN's algorithm for an activation kind that is not NONE, with its
// alpha/beta.
void act_algorithm(const mtia_op &op, dnnl::algorithm *alg, float *alpha, float *beta);

// Runs @p with @args plus a scratchpad of @pd's size from @ex, and waits.
void execute(Exec &ex, const dnnl::primitive &p, const dnnl::primitive_desc_base &pd,
             std::unordered_map<int, dnnl::memory> args);

// A memory object of @md over arena (or scratch) memory @p.
inline dnnl::memory mem(const dnnl::memory::desc &md, void *p) { return dnnl::memory(md, cpu_engine(), p); }

}  // namespace compute
}  // namespace mtia

#endif  // MTIA_COMPUTE_DNNL_H
