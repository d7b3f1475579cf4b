// SPDX-License-Identifier: MIT
// QuantizeLinear and DequantizeLinear of activations (QDQ models; those of
// constants were folded, quant_linear.h): a CAST into a quantized tensor that
// carries the pair's scale and zero point, and a CAST back to float32.
// quant_fuse.h later lets the neighbouring ops read and write the quantized
// tensors directly.
#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"
#include "quant_linear.h"

namespace mtia::compiler {

namespace {

// The node's per-tensor parameters; they must be constants.
QuantParams node_params(const Graph &g, const onnx::NodeProto &n)
{
    const std::string s = input_name(n, 1), zp = input_name(n, 2);
    if (!g.is_const(s) || (!zp.empty() && !g.is_const(zp)))
        unsupported(node_label(n) + ": scale and zero point must be constants");
    return per_tensor_params(n, g.cst(s), zp.empty() ? nullptr : &g.cst(zp));
}

}  // namespace

void Lowerer::quantize_linear()
{
    const QuantParams p = node_params(g_, *n_);
    const int x = tensor(n_->input(0));
    if (d_.tensors[x].dtype != MTIA_DTYPE_F32) unsupported_here("QuantizeLinear of a tensor that is not float32");
    const int out = new_activation(n_->output(0), shape(n_->input(0)), mtia_dtype_of(p.onnx_dtype));
    d_.tensors[out].scale = p.scale;
    d_.tensors[out].zero_point = p.zero_point;
    emit(MTIA_OP_CAST, {x}, out, {}, d_.tensors[x].bytes() / 4);
    bind(n_->output(0), out);
}

void Lowerer::dequantize_linear()
{
    const QuantParams p = node_params(g_, *n_);
    const int x = tensor(n_->input(0));
    DevTensor &q = d_.tensors[x];
    if (q.dtype != mtia_dtype_of(p.onnx_dtype))
        unsupported_here("DequantizeLinear of a tensor that is not " + dtype_name(p.onnx_dtype));
    // A graph input's parameters are those it is read with; a computed
    // tensor's are those it was written with, and must agree.
    const int r = d_.root(x);
    if (d_.tensors[r].kind == TensorKind::Input && d_.tensors[r].scale == 0.0f) {
        for (auto &t : d_.tensors)
            if (d_.root(static_cast<int>(&t - d_.tensors.data())) == r) t.scale = p.scale, t.zero_point = p.zero_point;
    } else if (q.scale != p.scale || q.zero_point != p.zero_point) {
        unsupported_here("'" + n_->input(0) + "' is dequantized with other parameters than it was quantized with");
    }
    const int out = new_activation(n_->output(0), shape(n_->input(0)));
    emit(MTIA_OP_CAST, {x}, out, {}, d_.tensors[x].bytes());
    bind(n_->output(0), out);
}

}  // namespace mtia::compiler
