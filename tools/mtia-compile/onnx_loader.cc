// SPDX-License-Identifier: MIT
#include "onnx_loader.h"

#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include <google/protobuf/io/coded_stream.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>
#include <onnx/version_converter/convert.h>

#include "dev_graph.h"
#include "errors.h"
#include "node_util.h"

namespace mtia::compiler {

onnx::ModelProto parse_onnx(const std::string &bytes, const std::string &what)
{
    onnx::ModelProto m;
    google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t *>(bytes.data()),
                                              static_cast<int>(std::min<size_t>(bytes.size(), INT32_MAX)));
    in.SetTotalBytesLimit(INT32_MAX);
    if (bytes.empty() || !m.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
        bad_input(what + ": not an ONNX model (protobuf parse failed: truncated or not ONNX)");
    if (!m.has_graph() || m.graph().node_size() == 0)
        bad_input(what + ": not an ONNX model (no graph or an empty graph)");
    if (m.ir_version() < 3)
        bad_input(what + ": ONNX IR version " + std::to_string(m.ir_version()) + " is too old (need >= 3)");
    return m;
}

onnx::ModelProto load_onnx_file(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) bad_input(path + ": cannot open");
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) bad_input(path + ": read error");
    return parse_onnx(ss.str(), path);
}

void upgrade_opset(onnx::ModelProto &m)
{
    int opset = -1;
    for (const auto &o : m.opset_import())
        if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
    if (opset < 1 || opset >= kMinOpset) return;  // none (default_opset says so) or current
    // ONNX's converter trusts the graph: one whose output no node produces,
    // or a node with too few inputs, crashes it (libonnx 1.12; found by
    // fuzzing). ONNX's checker holds every node to its schema first (node
    // by node: its whole-model check also wants shapes on the graph's
    // inputs and outputs, which a valid model may leave out).
    check_structure(m);
    try {
        onnx::checker::CheckerContext ctx;
        ctx.set_ir_version(static_cast<int>(m.ir_version()));
        std::unordered_map<std::string, int> opsets;
        for (const auto &o : m.opset_import()) opsets[o.domain()] = static_cast<int>(o.version());
        ctx.set_opset_imports(opsets);
        onnx::checker::LexicalScopeContext scope;
        for (const auto &n : m.graph().node()) onnx::checker::check_node(n, ctx, scope);
    } catch (const std::exception &e) {
        bad_input("opset " + std::to_string(opset) +
                  " model fails ONNX's checker, so it cannot be upgraded: " + e.what());
    }
    try {
        onnx::shape_inference::InferShapes(m);  // some adapters need input shapes
        m = onnx::version_conversion::ConvertVersion(m, kUpgradeOpset);
    } catch (const std::exception &e) {
        unsupported("opset " + std::to_string(opset) + ": ONNX's version converter cannot upgrade it to opset " +
                    std::to_string(kUpgradeOpset) + " (" + e.what() + ")");
    }
}

int default_opset(const onnx::ModelProto &m)
{
    int opset = -1;
    for (const auto &o : m.opset_import())
        if (o.domain().empty() || o.domain() == "ai.onnx") opset = static_cast<int>(o.version());
    if (opset < 0) bad_input("model imports no default-domain (ai.onnx) opset");
    if (opset < kMinOpset || opset > kMaxOpset)
        unsupported("opset " + std::to_string(opset) + " is not supported (supported: " + std::to_string(kMinOpset) +
                    ".." + std::to_string(kMaxOpset) + ")");
    return opset;
}

void check_structure(const onnx::ModelProto &m)
{
    const auto &g = m.graph();
    std::set<std::string> defined;
    for (const auto &t : g.initializer()) defined.insert(t.name());
    for (const auto &t : g.sparse_initializer()) {
        (void)t;
        unsupported("sparse initializers are not supported");
    }
    for (const auto &i : g.input()) {
        if (i.name().empty()) bad_input("a graph input has no name");
        defined.insert(i.name());
    }
    for (const auto &n : g.node()) {
        const std::string label = node_label(n);
        if (!n.domain().empty() && n.domain() != "ai.onnx")
            unsupported(label + ": custom domain '" + n.domain() + "' is not supported");
        for (const auto &in : n.input())
            if (!in.empty() && !defined.count(in))
                bad_input(label + ": input '" + in +
                          "' is not defined before the node (graph not in topological order?)");
        for (const auto &out : n.output()) {
            if (out.empty()) continue;
            if (!defined.insert(out).second) bad_input(label + ": output '" + out + "' is defined twice");
        }
    }
    if (g.output_size() == 0) bad_input("the graph has no outputs");
    for (const auto &o : g.output())
        if (!defined.count(o.name())) bad_input("graph output '" + o.name() + "' is not produced by the graph");
}

Shape parse_shape(const std::string &text)
{
    Shape s;
    std::stringstream ss(text);
    std::string tok;
    while (std::getline(ss, tok, 'x')) {
        size_t used = 0;
        long long v = -1;
        try {
            v = std::stoll(tok, &used);
        } catch (const std::exception &) {
        }
        if (used != tok.size() || tok.empty() || v < 1 || v > (1ll << 31))
            fail(ErrorKind::kUsage, "bad shape '" + text + "' (want e.g. 1x3x224x224, dims >= 1)");
        s.push_back(v);
    }
    if (s.empty()) fail(ErrorKind::kUsage, "empty shape");
    return s;
}

const std::set<int32_t> &claimed_input_types()
{
    static const std::set<int32_t> types = [] {  // those with a device dtype
        std::set<int32_t> t;
        for (int32_t d = onnx::TensorProto::DataType_MIN; d <= onnx::TensorProto::DataType_MAX; ++d)
            if (mtia_dtype_of(d)) t.insert(d);
        return t;
    }();
    return types;
}

void apply_input_shapes(onnx::ModelProto &m, const std::map<std::string, Shape> &shapes)
{
    auto *g = m.mutable_graph();
    std::set<std::string> inits;
    for (const auto &t : g->initializer()) inits.insert(t.name());
    std::set<std::string> names;
    for (const auto &in : g->input()) names.insert(in.name());
    for (const auto &kv : shapes)
        if (!names.count(kv.first)) fail(ErrorKind::kUsage, "--input-shape: the model has no input '" + kv.first + "'");
    std::set<std::string> seen;
    for (auto &in : *g->mutable_input()) {
        auto it = shapes.find(in.name());
        if (inits.count(in.name()) && it == shapes.end()) continue;  // a weight listed as an input
        if (!in.type().has_tensor_type()) unsupported("graph input '" + in.name() + "' is not a tensor");
        auto *tt = in.mutable_type()->mutable_tensor_type();
        if (!claimed_input_types().count(tt->elem_type()))
            unsupported("graph input '" + in.name() + "' has element type " + dtype_name(tt->elem_type()) +
                        "; the device takes float32, int32, int64 and bool inputs");
        if (it != shapes.end()) {
            seen.insert(in.name());
            const Shape &want = it->second;
            if (tt->has_shape() && tt->shape().dim_size() != static_cast<int>(want.size()))
                fail(ErrorKind::kUsage, "--input-shape " + in.name() + "=" + shape_str(want) +
                                            ": the model's input has rank " + std::to_string(tt->shape().dim_size()));
            for (int k = 0; tt->has_shape() && k < tt->shape().dim_size(); ++k) {
                const auto &d = tt->shape().dim(k);
                if (d.has_dim_value() && d.dim_value() != want[k])
                    fail(ErrorKind::kUsage, "--input-shape " + in.name() + "=" + shape_str(want) + ": dim " +
                                                std::to_string(k) + " is fixed to " + std::to_string(d.dim_value()) +
                                                " by the model");
            }
            tt->mutable_shape()->clear_dim();
            for (int64_t d : want) tt->mutable_shape()->add_dim()->set_dim_value(d);
            inits.erase(in.name());
        }
        if (!tt->has_shape())
            unsupported("graph input '" + in.name() + "' has no shape; give one with --input-shape " + in.name() +
                        "=...");
        for (int k = 0; k < tt->shape().dim_size(); ++k) {
            const auto &d = tt->shape().dim(k);
            if (!d.has_dim_value() || d.dim_value() < 1)
                unsupported("graph input '" + in.name() + "' dim " + std::to_string(k) + " is dynamic ('" +
                            d.dim_param() + "'); fix it with --input-shape " + in.name() + "=<dims, e.g. 1x3x224x224>");
        }
    }
    // An initializer overridden by --input-shape becomes a real input.
    for (int k = g->initializer_size(); k-- > 0;)
        if (seen.count(g->initializer(k).name())) g->mutable_initializer()->DeleteSubrange(k, 1);
}

}  // namespace mtia::compiler
