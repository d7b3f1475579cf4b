// SPDX-License-Identifier: MIT
// Lowering of LayerNormalization (ONNX opset 17, and the node the compiler's
// fusion of PyTorch's decomposed opset-13 form builds) to LAYERNORM: the
// normalised dims are axis..rank-1, scale and bias are viewed as those dims.
#include <limits>

#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

void Lowerer::layernorm()
{
    const Shape xs = dev_shape(shape(n_->input(0)), "input");
    const int64_t r = static_cast<int64_t>(xs.size());
    const int64_t axis = norm_axis(attr_i(*n_, "axis", -1), r, label());
    const float eps = attr_f(*n_, "epsilon", 1e-5f);
    if (!(eps > 0.0f) || eps == std::numeric_limits<float>::infinity())
        bad_input(label() + ": epsilon " + std::to_string(eps) + " (the device needs a finite epsilon > 0)");
    const Shape tail(xs.begin() + axis, xs.end());
    std::vector<int> in = {tensor(n_->input(0))};
    for (int k = 1; k <= 2; ++k) {
        const std::string v = input_name(*n_, k);
        if (v.empty()) {
            if (k == 2) break;
            internal_error(label() + ": no scale");
        }
        if (numel(shape(v), v) != numel(tail, "normalised dims"))
            unsupported_here((k == 1 ? "scale " : "bias ") + shape_str(shape(v)) +
                             " is not one value per normalised element " + shape_str(tail));
        in.push_back(operand(v, tail));
    }
    int out = new_activation(n_->output(0), xs);
    emit(MTIA_OP_LAYERNORM, in, out, {static_cast<uint32_t>(axis), f32_bits(eps)}, 8ull * numel(xs, "layernorm"));
    bind(n_->output(0), out);
}

}  // namespace mtia::compiler
