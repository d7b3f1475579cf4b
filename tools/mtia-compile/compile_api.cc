// SPDX-License-Identifier: MIT
// libmtia-compiler: the public API (include/mtia/compiler.hpp) over the
// compiler core mtia-compile uses. The same stages, options and messages;
// only the model comes from memory instead of a file. Exported symbols:
// libmtia_compiler.map.
#include "mtia/compiler.hpp"

#include <new>

#include "compiler.h"
#include "onnx_loader.h"
#include "precision.h"

namespace mtia {

namespace {

bool is_external(const onnx::TensorProto &t) { return t.data_location() == onnx::TensorProto::EXTERNAL; }

// External tensor data names files: without a directory to read them from,
// an in-memory model has none to offer, so it is refused before any I/O.
void refuse_external_data(const onnx::ModelProto &m)
{
    for (const auto &t : m.graph().initializer()) {
        if (is_external(t)) {
            compiler::bad_input("initializer '" + t.name() +
                                "' has external data: set CompileOptions::external_data_dir to read it");
        }
    }
    for (const auto &n : m.graph().node()) {
        for (const auto &a : n.attribute()) {
            if (a.has_t() && is_external(a.t())) {
                compiler::bad_input("node '" + n.name() + "' (" + n.op_type() +
                                    "): attribute tensor with external data: set "
                                    "CompileOptions::external_data_dir to read it");
            }
        }
    }
}

}  // namespace

CompileError::CompileError(Kind kind, const std::string &message) : std::runtime_error(message), kind_(kind) {}
CompileError::~CompileError() = default;

std::string compile_onnx(const std::string &onnx, const CompileOptions &options, std::string *summary_json)
{
    try {
        onnx::ModelProto m = compiler::parse_onnx(onnx, "ONNX model");
        if (options.external_data_dir.empty()) refuse_external_data(m);
        if (!options.name.empty()) m.mutable_graph()->set_name(options.name);
        compiler::CompileOptions opts;
        for (const auto &[name, dims] : options.input_shapes) opts.input_shapes[name] = dims;
        opts.batch_buckets = options.batch_buckets;
        if (!options.dtype.empty()) opts.dtype = compiler::parse_dtype_option(options.dtype);
        opts.quantize =
            compiler::parse_quantize_options(options.quantize, options.calibration, options.calibration_method);
        compiler::CompileResult r = compiler::compile_model(std::move(m), options.external_data_dir, opts);
        if (summary_json) *summary_json = r.summary.to_json().dump(2);
        return std::move(r.bytes);
    } catch (const compiler::CompileError &e) {
        throw CompileError(static_cast<CompileError::Kind>(e.exit_code()), e.what());
    } catch (const std::bad_alloc &) {
        throw CompileError(CompileError::Kind::Unsupported, "out of memory (model too large?)");
    } catch (const CompileError &) {
        throw;
    } catch (const std::exception &e) {
        throw CompileError(CompileError::Kind::Internal, std::string("internal error: ") + e.what());
    }
}

std::string compile_onnx(const std::string &onnx, const CompileOptions &options)
{
    return compile_onnx(onnx, options, nullptr);
}

std::string compile_onnx(const void *onnx, size_t size, const CompileOptions &options)
{
    if (!onnx && size) throw CompileError(CompileError::Kind::Usage, "ONNX model pointer is NULL");
    return compile_onnx(std::string(static_cast<const char *>(onnx), size), options, nullptr);
}

std::string compiler_version() { return compiler::compiler_version(); }

}  // namespace mtia
