// SPDX-License-Identifier: MIT
#include "compiler.h"

#include <set>

#include "buckets.h"
#include "const_fold.h"
#include "constant_inputs.h"
#include "device_rules.h"
#include "fuse.h"
#include "layout_plan.h"
#include "graph.h"
#include "loop_embedding_bag.h"
#include "lower.h"
#include "memory_plan.h"
#include "model_writer.h"
#include "node_util.h"
#include "onnx_loader.h"
#include "passes.h"
#include "quant_fuse.h"
#include "precision.h"

#ifndef MTIA_COMPILE_VERSION
#define MTIA_COMPILE_VERSION "0.0.0"
#endif

namespace mtia::compiler {

std::string compiler_version() { return MTIA_COMPILE_VERSION; }

namespace {

std::map<std::string, int> device_op_counts(const DevGraph &d)
{
    std::map<std::string, int> m;
    for (const auto &op : d.ops) {
        std::string k = op_kind_name(op.kind);
        if (op.act != MTIA_ACT_NONE) k += std::string(op.kind == MTIA_OP_ACT ? ":" : "+") + act_name(op.act);
        ++m[k];
    }
    return m;
}

}  // namespace

CompileResult compile_program(onnx::ModelProto model, const std::string &base_dir, const CompileOptions &opts)
{
    CompileResult res;
    Summary &s = res.summary;
    upgrade_opset(model);
    const int opset = default_opset(model);
    bind_constant_inputs(model, opts.constant_inputs);
    check_structure(model);
    for (const auto &n : model.graph().node()) ++s.onnx_ops[n.op_type()];
    s.passes["embedding-bag loops"] = rewrite_embedding_bag_loops(model, base_dir);
    for (const auto &n : model.graph().node())
        if (n.domain() != kMtiaDomain && !is_supported_op(n.op_type())) unsupported(node_label(n) + ": unsupported op");
    apply_input_shapes(model, opts.input_shapes);
    FoldResult folded = fold_constants(model, opset, base_dir);
    model.mutable_graph()->clear_initializer();  // decoded into folded.constants

    Graph g = import_graph(model, folded, opset);
    s.passes["constants folded"] = folded.folded_nodes;
    s.passes["identities removed"] = remove_identities(g);
    s.passes["pads folded"] = fold_pads(g);
    s.passes["batchnorms folded"] = fold_batchnorm(g);
    s.passes["transformer ops fused"] = fuse_transformer_ops(g);
    s.passes["ops decomposed"] = decompose_ops(g);
    s.passes["matmul biases fused"] = fuse_matmul_bias(g);
    s.passes["dead nodes removed"] = remove_dead_nodes(g);

    res.program = lower_graph(g);
    DevGraph &d = res.program;
    s.lowered_ops = device_op_counts(d);
    count_embedding_tables(d, s.passes);
    s.passes["activations fused"] = fuse_activations(d);
    s.passes["concat copies removed"] = concat_in_place(d);
    std::optional<PtqState> ptq;
    if (opts.quantize) ptq = quantize_int8(d, *opts.quantize);
    const QuantReport q = fuse_quantized(d);
    s.passes["quantize/dequantize casts fused"] = q.casts_removed;
    s.passes["int8 ops"] = q.int8_ops;
    if (opts.dtype) {
        PrecisionReport p = lower_precision(d, opts.dtype);
        s.precision = std::move(p.ops);
        s.passes["precision casts added"] = p.casts;
    }
    check_program(d);
    if (opts.channels_last) {
        const LayoutCounts lc = plan_channels_last(d, opts.blocked);
        s.passes["tensors stored channels-last"] = lc.nhwc;
        s.passes["tensors stored nChw16c"] = lc.blk16;
    }
    if (opts.fuse_residual_adds) s.passes["residual adds fused"] = fuse_residual_adds(d);
    s.device_ops = device_op_counts(d);
    res.layout = place_tensors(d);
    const ArenaLayout &layout = res.layout;
    if (ptq) {
        measure_int8(d, layout, *ptq);
        s.calibration = std::move(ptq->report);
    }

    for (const auto &op : d.ops) s.flops += op.flops;
    s.parameters = layout.weight_elements;

    s.model = g.name;
    s.opset = opset;
    auto dt = [](uint8_t t) -> std::string {
        return t == MTIA_DTYPE_I32    ? "i32"
               : t == MTIA_DTYPE_I64  ? "i64"
               : t == MTIA_DTYPE_BOOL ? "bool"
               : t == MTIA_DTYPE_F16  ? "f16"
               : t == MTIA_DTYPE_BF16 ? "bf16"
                                      : "f32";
    };
    for (int t : d.inputs) s.inputs.push_back({d.tensors[t].name, d.tensors[t].shape, dt(d.tensors[t].dtype)});
    for (size_t k = 0; k < d.outputs.size(); ++k) {
        const DevTensor &t = d.tensors[d.outputs[k]];
        s.outputs.push_back({g.outputs[k], t.shape, dt(t.dtype)});
    }
    s.weights_bytes = layout.weights_bytes;
    s.activations_peak = layout.activations_peak;
    s.activations_total = layout.activations_total;
    s.arena_size = layout.arena_size;
    std::set<int> used;
    for (const auto &op : d.ops) {
        used.insert(op.in.begin(), op.in.end());
        used.insert(op.out);
    }
    used.insert(d.inputs.begin(), d.inputs.end());
    used.insert(d.outputs.begin(), d.outputs.end());
    s.tensors = used.size();
    return res;
}

CompileResult compile_model(onnx::ModelProto model, const std::string &base_dir, const CompileOptions &opts)
{
    if (opts.quantize && opts.dtype)
        fail(ErrorKind::kUsage, "--quantize int8 and --dtype together: the int8 program's other ops stay float32");
    if (opts.quantize && !opts.batch_buckets.empty())
        fail(ErrorKind::kUsage, "--quantize int8 with --batch-buckets is not supported: calibrate one batch size");
    if (!opts.batch_buckets.empty()) return compile_buckets(std::move(model), base_dir, opts);
    CompileResult res = compile_program(std::move(model), base_dir, opts);
    res.bytes = serialize_model(res.program, res.layout, res.summary.flops, "mtia-compile " + compiler_version());
    res.summary.file_bytes = res.bytes.size();
    return res;
}

CompileResult compile_file(const std::string &onnx_path, const CompileOptions &opts)
{
    const size_t slash = onnx_path.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "." : onnx_path.substr(0, slash);
    onnx::ModelProto m = load_onnx_file(onnx_path);
    // Exporters' graph names ("torch_jit", "main_graph") say little: name the
    // model after its file.
    std::string stem = slash == std::string::npos ? onnx_path : onnx_path.substr(slash + 1);
    if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".onnx") == 0) stem.resize(stem.size() - 5);
    m.mutable_graph()->set_name(stem);
    return compile_model(std::move(m), dir, opts);
}

}  // namespace mtia::compiler
