// SPDX-License-Identifier: MIT
#include "buckets.h"

#include <cstring>
#include <set>
#include <tuple>

#include "model_writer.h"
#include "mtia/mtia_model.h"

namespace mtia::compiler {

namespace {

std::string list_str(const std::vector<uint32_t> &v)
{
    std::string s;
    for (uint32_t b : v) s += (s.empty() ? "" : ",") + std::to_string(b);
    return s;
}

bool is_weight_input(const onnx::GraphProto &g, const std::string &name)
{
    for (const auto &t : g.initializer())
        if (t.name() == name) return true;
    return false;
}

// A graph input the program takes at run time (not a weight listed as an
// input, nor bound by --constant-input).
bool is_runtime_input(const onnx::GraphProto &g, const std::string &name, const CompileOptions &opts)
{
    if (opts.constant_inputs.count(name)) return false;
    return !is_weight_input(g, name) || opts.input_shapes.count(name);
}

// Which graph inputs carry the batch in dim 0 (see buckets.h).
std::vector<bool> batched_inputs(const onnx::ModelProto &m, const CompileOptions &opts)
{
    const auto &g = m.graph();
    std::vector<bool> symbolic(g.input_size(), false), ranked(g.input_size(), false);
    std::set<std::string> params;
    bool any = false;
    for (int k = 0; k < g.input_size(); ++k) {
        const auto &in = g.input(k);
        if (!is_runtime_input(g, in.name(), opts)) continue;
        const auto &tt = in.type().tensor_type();
        const auto given = opts.input_shapes.find(in.name());
        ranked[k] =
            given != opts.input_shapes.end() ? !given->second.empty() : tt.has_shape() && tt.shape().dim_size() > 0;
        if (tt.has_shape() && tt.shape().dim_size() > 0 && !tt.shape().dim(0).has_dim_value()) {
            symbolic[k] = any = true;
            params.insert(tt.shape().dim(0).dim_param());
        }
    }
    if (params.size() > 1) {
        std::string names;
        for (const auto &p : params) names += (names.empty() ? "'" : ", '") + p + "'";
        unsupported("--batch-buckets: the inputs' dim 0 has several symbolic names (" + names +
                    "): fix the ones that are not the batch with --input-shape");
    }
    std::vector<bool> batched(g.input_size(), false);
    bool some = false;
    for (int k = 0; k < g.input_size(); ++k) some |= batched[k] = any ? symbolic[k] : ranked[k];
    if (!some) unsupported("--batch-buckets: no model input has a batch dim (dim 0)");
    return batched;
}

// The model with the batched inputs' dim 0 set to batch.
onnx::ModelProto at_batch(const onnx::ModelProto &m, const std::vector<bool> &batched, uint32_t batch,
                          CompileOptions *opts)
{
    onnx::ModelProto r = m;
    auto *g = r.mutable_graph();
    for (int k = 0; k < g->input_size(); ++k) {
        if (!batched[k]) continue;
        auto *in = g->mutable_input(k);
        auto it = opts->input_shapes.find(in->name());
        if (it != opts->input_shapes.end()) it->second[0] = batch;
        auto *tt = in->mutable_type()->mutable_tensor_type();
        if (tt->has_shape() && tt->shape().dim_size() > 0) tt->mutable_shape()->mutable_dim(0)->set_dim_value(batch);
    }
    opts->batch_buckets.clear();
    return r;
}

CompileResult compile_at(const onnx::ModelProto &m, const std::vector<bool> &batched, uint32_t batch,
                         const std::string &base_dir, const CompileOptions &opts)
{
    CompileOptions o = opts;
    onnx::ModelProto mb = at_batch(m, batched, batch, &o);
    try {
        return compile_program(std::move(mb), base_dir, o);
    } catch (const CompileError &e) {
        fail(e.kind(), "batch bucket " + std::to_string(batch) + ": " + e.what());
    }
}

// Weight tensors (name, offset, bytes) in the order the planner put them.
std::vector<std::tuple<std::string, uint64_t, uint64_t>> weight_layout(const DevGraph &d)
{
    std::vector<std::tuple<std::string, uint64_t, uint64_t>> w;
    for (const auto &t : d.tensors)
        if (t.kind == TensorKind::Weight && !t.is_view()) w.emplace_back(t.name, t.offset, t.bytes());
    return w;
}

void check_same_weights(const CompileResult &a, uint32_t ba, const CompileResult &b, uint32_t bb)
{
    const std::string what =
        "batch buckets " + std::to_string(ba) + " and " + std::to_string(bb) + " lower to different weights";
    const auto wa = weight_layout(a.program), wb = weight_layout(b.program);
    for (size_t k = 0; k < std::min(wa.size(), wb.size()); ++k) {
        if (wa[k] != wb[k] ||
            std::memcmp(a.layout.weights.data() + std::get<1>(wa[k]), b.layout.weights.data() + std::get<1>(wb[k]),
                        std::min(std::get<2>(wa[k]), std::get<2>(wb[k]))) != 0)
            unsupported(what + " (weight '" + std::get<0>(wa[k]) + "' " + std::to_string(std::get<2>(wa[k])) + " vs '" +
                        std::get<0>(wb[k]) + "' " + std::to_string(std::get<2>(wb[k])) +
                        " bytes): a constant depends on the batch size; export the model with a dynamic batch "
                        "axis and batch-independent constants");
    }
    if (wa.size() != wb.size() || a.layout.weights != b.layout.weights)
        unsupported(what + " (" + std::to_string(wa.size()) + " vs " + std::to_string(wb.size()) +
                    " weight tensors): a constant depends on the batch size");
}

// Batched outputs from the programs at two batch sizes b1 < b2.
std::vector<bool> batched_outputs(const CompileResult &r1, uint32_t b1, const CompileResult &r2, uint32_t b2)
{
    const DevGraph &d1 = r1.program, &d2 = r2.program;
    std::vector<bool> out(d1.outputs.size(), false);
    for (size_t k = 0; k < d1.outputs.size(); ++k) {
        const Shape &s1 = d1.tensors[d1.outputs[k]].shape, &s2 = d2.tensors[d2.outputs[k]].shape;
        const std::string &name = r1.summary.outputs[k].name;
        const bool follows = s1.size() == s2.size() && !s1.empty() && s1[0] == b1 && s2[0] == b2 &&
                             Shape(s1.begin() + 1, s1.end()) == Shape(s2.begin() + 1, s2.end());
        if (s1 == s2)
            unsupported("--batch-buckets: output '" + name + "' has shape " + shape_str(s1) + " at batch " +
                        std::to_string(b1) + " and " + std::to_string(b2) +
                        ": an output that does not carry the batch cannot be computed from padded inputs");
        if (!follows)
            unsupported("--batch-buckets: output '" + name + "' has shape " + shape_str(s1) + " at batch " +
                        std::to_string(b1) + " but " + shape_str(s2) + " at batch " + std::to_string(b2) +
                        ": its dim 0 is not the batch");
        out[k] = true;
    }
    return out;
}

}  // namespace

void check_buckets(const std::vector<uint32_t> &b)
{
    if (b.empty()) fail(ErrorKind::kUsage, "--batch-buckets: the list is empty");
    if (b.size() > MTIA_MODEL_MAX_BUCKETS)
        fail(ErrorKind::kUsage,
             "--batch-buckets " + list_str(b) + ": at most " + std::to_string(MTIA_MODEL_MAX_BUCKETS) + " buckets");
    for (size_t k = 0; k < b.size(); ++k) {
        if (b[k] == 0) fail(ErrorKind::kUsage, "--batch-buckets " + list_str(b) + ": a bucket of 0");
        if (k && b[k] <= b[k - 1])
            fail(ErrorKind::kUsage, "--batch-buckets " + list_str(b) + ": " +
                                        (b[k] == b[k - 1] ? "bucket " + std::to_string(b[k]) + " is listed twice"
                                                          : std::string("not in ascending order")));
    }
}

std::vector<uint32_t> parse_buckets(const std::string &text)
{
    std::vector<uint32_t> b;
    size_t at = 0;
    while (at <= text.size()) {
        const size_t comma = std::min(text.find(',', at), text.size());
        const std::string item = text.substr(at, comma - at);
        if (item.empty() || item.size() > 9 || item.find_first_not_of("0123456789") != std::string::npos)
            fail(ErrorKind::kUsage, "--batch-buckets '" + text + "': want sizes like 1,8,32");
        b.push_back(static_cast<uint32_t>(std::stoul(item)));
        at = comma + 1;
    }
    check_buckets(b);
    return b;
}

CompileResult compile_buckets(onnx::ModelProto model, const std::string &base_dir, const CompileOptions &opts)
{
    const std::vector<uint32_t> &buckets = opts.batch_buckets;
    check_buckets(buckets);
    const std::vector<bool> in_batched = batched_inputs(model, opts);
    std::vector<CompileResult> res;
    for (uint32_t b : buckets) res.push_back(compile_at(model, in_batched, b, base_dir, opts));
    for (size_t k = 1; k < res.size(); ++k) check_same_weights(res[0], buckets[0], res[k], buckets[k]);
    const uint32_t b2 = buckets.size() > 1 ? buckets[1] : buckets[0] + 1;
    const std::vector<bool> out_batched =
        buckets.size() > 1 ? batched_outputs(res[0], buckets[0], res[1], b2)
                           : batched_outputs(res[0], buckets[0], compile_at(model, in_batched, b2, base_dir, opts), b2);

    // Per program input (the graph's runtime inputs, in order).
    std::vector<bool> prog_in;
    for (int k = 0; k < model.graph().input_size(); ++k)
        if (is_runtime_input(model.graph(), model.graph().input(k).name(), opts)) prog_in.push_back(in_batched[k]);
    if (prog_in.size() != res[0].program.inputs.size())
        internal_error("bucket programs have " + std::to_string(res[0].program.inputs.size()) + " inputs, the graph " +
                       std::to_string(prog_in.size()));

    std::vector<BucketProgram> progs;
    for (size_t k = 0; k < res.size(); ++k) {
        progs.push_back({buckets[k], &res[k].program, res[k].layout.arena_size, res[k].summary.flops});
        res.back().summary.buckets.push_back({buckets[k], res[k].layout.arena_size, res[k].summary.flops});
    }
    CompileResult &top = res.back();
    top.bytes =
        serialize_buckets(progs, top.layout.weights, prog_in, out_batched, "mtia-compile " + compiler_version());
    top.summary.file_bytes = top.bytes.size();
    return std::move(top);
}

}  // namespace mtia::compiler
