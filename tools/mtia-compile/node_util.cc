// SPDX-License-Identifier: MIT
#include "node_util.h"

#include "errors.h"

namespace mtia::compiler {

std::string node_label(const onnx::NodeProto &n)
{
    std::string name = n.name();
    if (name.empty() && n.output_size() > 0) name = "<" + n.output(0) + ">";
    return "node '" + name + "' (op " + n.op_type() + ")";
}

const onnx::AttributeProto *find_attr(const onnx::NodeProto &n, const std::string &name)
{
    for (const auto &a : n.attribute())
        if (a.name() == name) return &a;
    return nullptr;
}

int64_t attr_i(const onnx::NodeProto &n, const std::string &name, int64_t dflt)
{
    const auto *a = find_attr(n, name);
    return a ? a->i() : dflt;
}

float attr_f(const onnx::NodeProto &n, const std::string &name, float dflt)
{
    const auto *a = find_attr(n, name);
    return a ? a->f() : dflt;
}

std::string attr_s(const onnx::NodeProto &n, const std::string &name, const std::string &dflt)
{
    const auto *a = find_attr(n, name);
    return a ? a->s() : dflt;
}

std::vector<int64_t> attr_ints(const onnx::NodeProto &n, const std::string &name, const std::vector<int64_t> &dflt)
{
    const auto *a = find_attr(n, name);
    if (!a) return dflt;
    return {a->ints().begin(), a->ints().end()};
}

std::string input_name(const onnx::NodeProto &n, int k) { return k < n.input_size() ? n.input(k) : std::string(); }

Shape broadcast_shapes(const Shape &a, const Shape &b, const std::string &where)
{
    Shape out(std::max(a.size(), b.size()), 1);
    for (size_t k = 0; k < out.size(); ++k) {
        int64_t da = k < out.size() - a.size() ? 1 : a[k - (out.size() - a.size())];
        int64_t db = k < out.size() - b.size() ? 1 : b[k - (out.size() - b.size())];
        if (da != db && da != 1 && db != 1)
            bad_input(where + ": shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
        out[k] = da == 1 ? db : da;
    }
    return out;
}

std::vector<int64_t> broadcast_strides(const Shape &shape, const Shape &out)
{
    std::vector<int64_t> st(out.size(), 0);
    int64_t s = 1;
    for (size_t k = shape.size(); k-- > 0;) {
        size_t o = k + (out.size() - shape.size());
        st[o] = shape[k] == 1 ? 0 : s;
        s *= shape[k];
    }
    return st;
}

int64_t norm_axis(int64_t axis, int64_t rank, const std::string &where)
{
    if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
        bad_input(where + ": axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
    return axis < 0 ? axis + rank : axis;
}

void check_dropout_is_identity(const onnx::NodeProto &n, const ConstTensor *ratio, const ConstTensor *training_mode,
                               bool training_known)
{
    if (!training_known) unsupported(node_label(n) + ": training_mode is not a constant");
    if (!training_mode || training_mode->size() != 1 || training_mode->at(0) == 0) return;
    const double r = ratio && ratio->size() == 1 ? ratio->at(0) : 0.5;
    if (r != 0)
        unsupported(node_label(n) + ": Dropout with training_mode true (ratio " + std::to_string(r) +
                    ") is random, not an inference op; export the model in eval mode");
}

}  // namespace mtia::compiler
