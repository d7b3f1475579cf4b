// SPDX-License-Identifier: MIT
// Lowering of elementwise ops (BINARY, ACT) and Softmax / LogSoftmax.
#include <limits>
#include <map>

#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

namespace {

// s with leading 1s to rank r.
Shape with_rank(Shape s, size_t r)
{
    while (s.size() < r) s.insert(s.begin(), 1);
    return s;
}

float clip_bound(const Graph &g, const onnx::NodeProto &n, int input, const char *attr, float dflt)
{
    if (g.opset < 11) return attr_f(n, attr, dflt);
    const std::string v = input_name(n, input);
    if (v.empty()) return dflt;
    if (!g.is_const(v) || g.cst(v).size() != 1) unsupported(node_label(n) + ": Clip bounds must be constant scalars");
    return static_cast<float>(g.cst(v).at(0));
}

}  // namespace

void Lowerer::binary()
{
    const std::string &op = n_->op_type();
    if ((op == "Max" || op == "Min") && n_->input_size() != 2)
        unsupported_here(std::to_string(n_->input_size()) + " inputs (only 2 are supported)");
    const Shape os = dev_shape(shape(n_->output(0)), "output");
    std::vector<int> in;
    for (int k = 0; k < 2; ++k) {
        Shape s = with_rank(shape(n_->input(k)), os.size());
        if (s.size() != os.size())
            bad_input(label() + ": input " + shape_str(s) + " has a higher rank than the output");
        in.push_back(operand(n_->input(k), s));
    }
    // Integer data is computed as integers (device_rules.cc checks that both
    // inputs have one dtype). Pow alone mixes types (ONNX T and T1): a float
    // side makes it a float power, an int32/int64 exponent takes the base's type.
    const uint8_t dx = d_.tensors[in[0]].dtype, dy = d_.tensors[in[1]].dtype;
    uint8_t dt = dx;
    bool narrow = false;  // a float power of an integer base, cast back to it
    if (op == "Pow" && dx != dy) {
        if (dx == MTIA_DTYPE_F32 || dy == MTIA_DTYPE_F32) {
            for (int &t : in) t = cast_to(t, MTIA_DTYPE_F32);
            narrow = dx != MTIA_DTYPE_F32;
            dt = MTIA_DTYPE_F32;
        } else {
            in[1] = cast_to(in[1], dx);
        }
    }
    const uint32_t kind = op == "Add"   ? MTIA_BINARY_ADD
                          : op == "Sub" ? MTIA_BINARY_SUB
                          : op == "Mul" ? MTIA_BINARY_MUL
                          : op == "Div" ? MTIA_BINARY_DIV
                          : op == "Pow" ? MTIA_BINARY_POW
                          : op == "Max" ? MTIA_BINARY_MAX
                                        : MTIA_BINARY_MIN;
    int out = new_activation(narrow ? n_->output(0) + ".float" : n_->output(0), os, dt);
    emit(MTIA_OP_BINARY, in, out, {kind}, numel(os, "binary"));
    bind(n_->output(0), narrow ? cast_to(out, dx) : out);
}

int Lowerer::cast_to(int t, uint8_t dtype)
{
    if (d_.tensors[t].dtype == dtype) return t;
    const Shape s = d_.tensors[t].shape;
    const int out = new_activation(d_.tensors[t].name + ".cast", s, dtype);
    emit(MTIA_OP_CAST, {t}, out, {}, numel(s, "cast"));
    return out;
}

void Lowerer::activation()
{
    const std::string &op = n_->op_type();
    static const std::map<std::string, uint8_t> kinds = {{"Relu", MTIA_ACT_RELU}, {"Sigmoid", MTIA_ACT_SIGMOID},
                                                         {"Tanh", MTIA_ACT_TANH}, {"Clip", MTIA_ACT_CLIP},
                                                         {"Exp", MTIA_ACT_EXP},   {"Log", MTIA_ACT_LOG},
                                                         {"Sqrt", MTIA_ACT_SQRT}, {"Abs", MTIA_ACT_ABS},
                                                         {"Neg", MTIA_ACT_NEG},   {"Reciprocal", MTIA_ACT_RECIPROCAL},
                                                         {"Erf", MTIA_ACT_ERF}};
    uint8_t act = kinds.count(op) ? kinds.at(op) : MTIA_ACT_GELU_ERF;
    if (op == "Gelu") {  // ONNX Gelu (opset 20) and the compiler's fused Gelu (passes_transformer.cc)
        const std::string approx = attr_s(*n_, "approximate", "none");
        if (approx != "none" && approx != "tanh") bad_input(label() + ": approximate '" + approx + "'");
        act = approx == "tanh" ? MTIA_ACT_GELU_TANH : MTIA_ACT_GELU_ERF;
    }
    const float inf = std::numeric_limits<float>::infinity();
    float lo = 0.0f, hi = 0.0f;
    if (act == MTIA_ACT_CLIP) {
        lo = clip_bound(g_, *n_, 1, "min", -inf);
        hi = clip_bound(g_, *n_, 2, "max", inf);
        if (!(lo <= hi)) bad_input(label() + ": Clip min > max");
        if (lo == 0.0f && hi == inf) act = MTIA_ACT_RELU, lo = hi = 0.0f;
    }
    int x = tensor(n_->input(0));
    int out = new_activation(n_->output(0), d_.tensors[x].shape);
    int id = emit(MTIA_OP_ACT, {x}, out, {}, numel(d_.tensors[x].shape, "act"));
    d_.ops[id].act = act;
    d_.ops[id].act_min = lo;
    d_.ops[id].act_max = hi;
    bind(n_->output(0), out);
}

// Softmax: opset >= 13 along one axis (default -1); before 13 over the
// input flattened to 2-D at axis (default 1), i.e. axis 1 of that view.
void Lowerer::softmax()
{
    const Shape xs = dev_shape(shape(n_->input(0)), "input");
    const int64_t r = static_cast<int64_t>(shape(n_->input(0)).size());
    int x = tensor(n_->input(0));
    int64_t axis;
    if (g_.opset >= 13) {
        axis = norm_axis(attr_i(*n_, "axis", -1), std::max<int64_t>(r, 1), label());
    } else {
        const int64_t a = norm_axis(attr_i(*n_, "axis", 1), std::max<int64_t>(r, 1), label());
        int64_t outer = 1, inner = 1;
        for (int64_t k = 0; k < r; ++k) (k < a ? outer : inner) *= xs[k];
        x = as_shape(x, {outer, inner});
        axis = 1;
    }
    int out = new_activation(n_->output(0), d_.tensors[x].shape);
    const uint32_t log = n_->op_type() == "LogSoftmax" ? 1 : 0;
    emit(MTIA_OP_SOFTMAX, {x}, out, {static_cast<uint32_t>(axis), log}, 3ull * numel(d_.tensors[x].shape, "softmax"));
    bind(n_->output(0), out);
}

}  // namespace mtia::compiler
