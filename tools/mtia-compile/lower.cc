// SPDX-License-Identifier: MIT
// Lowering driver: node dispatch, ONNX value -> device tensor bookkeeping,
// graph inputs and outputs.
#include "lower.h"

#include <algorithm>

#include "errors.h"
#include "fold_eval.h"
#include "loop_embedding_bag.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

const std::set<std::string> &lowered_op_types()
{
    static const std::set<std::string> ops = {"Conv",
                                              "Gemm",
                                              "MatMul",
                                              "Add",
                                              "Sub",
                                              "Mul",
                                              "Div",
                                              "Relu",
                                              "Sigmoid",
                                              "Tanh",
                                              "Clip",
                                              "MaxPool",
                                              "AveragePool",
                                              "GlobalAveragePool",
                                              "GlobalMaxPool",
                                              "ReduceMean",
                                              "ReduceMax",
                                              "Softmax",
                                              "Transpose",
                                              "Reshape",
                                              "Flatten",
                                              "Squeeze",
                                              "Unsqueeze",
                                              "Identity",
                                              "Dropout",
                                              "Concat",
                                              "Split",
                                              "Slice",
                                              "Gather",
                                              "Cast",
                                              "Exp",
                                              "Log",
                                              "Sqrt",
                                              "Reciprocal",
                                              "Erf",
                                              "Abs",
                                              "Gelu",
                                              "Pow",
                                              "Max",
                                              "Min",
                                              "ReduceSum",
                                              "ReduceMin",
                                              "LogSoftmax",
                                              "LayerNormalization",
                                              "Expand",
                                              "Tile",
                                              "ConvTranspose",
                                              "Resize",
                                              "Upsample",
                                              "Equal",
                                              "Less",
                                              "Greater",
                                              "Not",
                                              "Where",
                                              "QuantizeLinear",
                                              "DequantizeLinear",
                                              "MatMulInteger",
                                              "ConvInteger",
                                              "DynamicQuantizeLinear"};
    return ops;
}

// Ops the graph passes rewrite into lowered ones before lowering.
static const std::set<std::string> &rewritten_op_types()
{
    static const std::set<std::string> ops = {"BatchNormalization",
                                              "Pad",
                                              "HardSigmoid",
                                              "HardSwish",
                                              "LeakyRelu",
                                              "Neg",
                                              "Pow",
                                              "Sum",
                                              "Mean",
                                              "ReduceL1",
                                              "ReduceL2",
                                              "ReduceSumSquare",
                                              "ReduceLogSum",
                                              "ReduceLogSumExp",
                                              "Softsign",
                                              "PRelu",
                                              "DepthToSpace",
                                              "SpaceToDepth",
                                              "InstanceNormalization",
                                              "QLinearConv",
                                              "QLinearMatMul"};
    return ops;
}

std::set<std::string> claimed_op_types()
{
    std::set<std::string> ops = lowered_op_types();
    ops.insert(rewritten_op_types().begin(), rewritten_op_types().end());
    return ops;
}

bool is_supported_op(const std::string &op)
{
    static const std::set<std::string> compile_time = {"Constant", "Shape", "Size"};
    return lowered_op_types().count(op) || rewritten_op_types().count(op) || compile_time.count(op) ||
           is_foldable_op(op);
}

DevGraph lower_graph(const Graph &g)
{
    DevGraph d;
    d.name = g.name;
    Lowerer(g, d).run();
    return d;
}

std::string Lowerer::label() const { return node_label(*n_); }

void Lowerer::unsupported_here(const std::string &why) const { unsupported(label() + ": " + why); }

Shape Lowerer::dev_shape(const Shape &s, const std::string &what) const
{
    if (s.empty()) return {1};
    if (s.size() > MTIA_MAX_DIMS)
        unsupported((n_ ? label() + ": " : "") + what + " has rank " + std::to_string(s.size()) + " (device: at most " +
                    std::to_string(MTIA_MAX_DIMS) + ")");
    for (int64_t v : s)
        if (v < 1 || v > UINT32_MAX)
            unsupported((n_ ? label() + ": " : "") + what + " has shape " + shape_str(s) +
                        " (empty tensors are not supported)");
    return s;
}

int Lowerer::tensor(const std::string &value)
{
    auto it = map_.find(value);
    if (it != map_.end()) return it->second;
    if (!g_.is_const(value)) internal_error(label() + ": value '" + value + "' used before it is computed");
    const ConstTensor &c = g_.cst(value);
    // An int64 constant is an I64 weight (integer arithmetic's operands;
    // device_rules.cc refuses it where an op computes float32).
    if (c.dtype == onnx::TensorProto::INT64) return index_weight(value);
    if (c.dtype != onnx::TensorProto::FLOAT && !c.is_float())
        unsupported(label() + ": constant '" + value + "' of type " + dtype_name(c.dtype) + " is used as device data");
    DevTensor t;
    t.name = value;
    t.shape = dev_shape(c.shape, "constant '" + value + "'");
    t.kind = TensorKind::Weight;
    t.data = g_.value(value).cst;
    int id = d_.add_tensor(std::move(t));
    map_[value] = id;
    return id;
}

int Lowerer::as_shape(int t, const Shape &shape)
{
    if (d_.tensors[t].shape == shape) return t;
    Shape s = shape;
    if (numel(s, "view") != numel(d_.tensors[t].shape, "view"))
        internal_error(label() + ": cannot view " + shape_str(d_.tensors[t].shape) + " as " + shape_str(shape));
    return d_.add_view(t, s, 0, d_.tensors[t].name + "." + shape_str(shape));
}

int Lowerer::new_activation(const std::string &name, const Shape &shape, uint8_t dtype)
{
    DevTensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = dev_shape(shape, "'" + name + "'");
    return d_.add_tensor(std::move(t));
}

void Lowerer::bind(const std::string &value, int t)
{
    Shape want = dev_shape(shape(value), "output '" + value + "'");
    // ONNX inference does not check everything (e.g. Reshape's element
    // count): a disagreement means an inconsistent model.
    if (numel(want, value) != numel(d_.tensors[t].shape, value))
        bad_input(label() + ": inconsistent model: the op computes " + shape_str(d_.tensors[t].shape) + " for '" +
                  value + "', ONNX shape inference says " + shape_str(want));
    if (d_.tensors[t].shape != want) {
        t = d_.add_view(t, want, 0, value);
    }
    map_[value] = t;
}

int Lowerer::emit(uint16_t kind, std::vector<int> in, int out, std::vector<uint32_t> attrs, uint64_t flops)
{
    DevOp op;
    op.kind = kind;
    op.name = n_->name().empty() ? (n_->output_size() ? n_->output(0) : n_->op_type()) : n_->name();
    op.in = std::move(in);
    op.out = out;
    op.attrs = std::move(attrs);
    op.flops = flops;
    d_.ops.push_back(std::move(op));
    return static_cast<int>(d_.ops.size()) - 1;
}

void Lowerer::lower_node()
{
    const std::string &op = n_->op_type();
    if (op == "Conv" || op == "ConvInteger") return conv();
    if (op == "DynamicQuantizeLinear") return dynamic_quantize_linear();
    if (op == "MaxPool" || op == "AveragePool" || op == "GlobalAveragePool" || op == "GlobalMaxPool") return pool();
    if (op == "ReduceMean" || op == "ReduceMax" || op == "ReduceSum" || op == "ReduceMin") return reduce();
    if (op == "Cast") return cast();
    if (op == "QuantizeLinear") return quantize_linear();
    if (op == "DequantizeLinear") return dequantize_linear();
    if (op == "Gemm") return gemm();
    if (op == "MatMul" || op == "MatMulInteger") return matmul();
    if (op == "Add" || op == "Sub" || op == "Mul" || op == "Div" || op == "Pow" || op == "Max" || op == "Min")
        return binary();
    if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "Clip" || op == "Exp" || op == "Log" || op == "Sqrt" ||
        op == "Reciprocal" || op == "Erf" || op == "Abs" || op == "Neg" || op == "Gelu")
        return activation();
    if (op == "Softmax" || op == "LogSoftmax") return softmax();
    if (op == "LayerNormalization") return layernorm();
    if (op == "Expand" || op == "Tile") return expand();
    if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Identity" ||
        op == "Dropout")
        return view();
    if (op == "Transpose") return transpose();
    if (op == "Concat") return concat();
    if (op == "Split") return split();
    if (op == "Slice") return slice();
    if (op == "Gather") return gather();
    if (op == "Equal" || op == "Less" || op == "Greater") return compare();
    if (op == "Not") return logical_not();
    if (op == "Where") return where();
    if (op == "EmbeddingBag" && n_->domain() == kMtiaDomain) return embedding_bag_loop();
    if (op == "Pad") return pad();
    if (op == "ConvTranspose") return conv_transpose();
    if (op == "Resize" || op == "Upsample") return resize();
    if (is_supported_op(op))
        unsupported_here("only supported when it can be computed at compile time (its inputs are not constant)");
    unsupported_here("unsupported op");
}

void Lowerer::run()
{
    for (const auto &in : g_.inputs) {
        DevTensor t;
        t.name = in;
        t.shape = dev_shape(g_.value(in).shape, "graph input '" + in + "'");
        t.kind = TensorKind::Input;
        t.dtype = mtia_dtype_of(g_.value(in).dtype);
        int id = d_.add_tensor(std::move(t));
        map_[in] = id;
        d_.inputs.push_back(id);
    }
    for (const auto &n : g_.nodes) {
        n_ = &n;
        if (fused_.count(&n)) continue;
        for (int k = 1; k < n.output_size(); ++k)
            if (!n.output(k).empty() && g_.use_count(n.output(k)) > 0 && n.op_type() != "Split" &&
                n.op_type() != "DynamicQuantizeLinear")
                unsupported_here("output " + std::to_string(k) + " ('" + n.output(k) +
                                 "') is used; only the first is supported");
        lower_node();
    }
    n_ = nullptr;
    bind_outputs();
}

// Graph outputs are activation-region tensors written by an op. An output
// that is a graph input or a constant gets a copy (ACT NONE), and so does
// one overlapping an earlier output other than exactly (readers copy
// outputs out as independent buffers).
void Lowerer::bind_outputs()
{
    struct Placed {
        int root;
        uint64_t begin, end;
    };
    std::vector<Placed> placed;
    std::set<int> used;
    for (const auto &o : g_.outputs) {
        // A rank-0 output would come back as shape (1): refused rather than
        // returned in another shape (the format's tensors have 1..6 dims).
        if (g_.value(o).shape.empty())
            unsupported("graph output '" + o + "' is a scalar (rank 0); the device's tensors have 1..6 dims");
        onnx::NodeProto fake;
        fake.set_op_type("output");
        fake.set_name(o);
        n_ = &fake;
        int t = tensor(o);
        const int r = d_.root(t);
        const TensorKind rk = d_.tensors[r].kind;
        const uint64_t b = d_.offset_in_root(t), e = b + d_.tensors[t].bytes();
        bool overlaps = used.count(t) > 0;
        for (const auto &p : placed)
            overlaps |= p.root == r && b < p.end && p.begin < e && !(p.begin == b && p.end == e);
        if (rk == TensorKind::Input || rk == TensorKind::Weight || overlaps) {
            int c = new_activation(o, d_.tensors[t].shape);
            emit(MTIA_OP_ACT, {t}, c, {}, numel(d_.tensors[c].shape, o));
            d_.ops.back().name = o + ".copy";
            t = c;
        }
        d_.tensors[t].kind = TensorKind::Output;
        used.insert(t);
        placed.push_back({d_.root(t), d_.offset_in_root(t), d_.offset_in_root(t) + d_.tensors[t].bytes()});
        d_.outputs.push_back(t);
    }
    n_ = nullptr;
}

}  // namespace mtia::compiler
