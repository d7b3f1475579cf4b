// SPDX-License-Identifier: MIT
/// @file compiler.hpp
/// The ONNX -> .mtia compiler as a library (libmtia-compiler): what
/// mtia-compile does, in memory, with the same options and the same errors.
/// Link with -lmtia-compiler (CMake: find_package(mtia), target
/// mtia::compiler).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace mtia {

/// What compile_onnx() takes besides the model: mtia-compile's options.
struct CompileOptions {
    /// Fixes graph inputs' shapes (mtia-compile --input-shape NAME=DIMS):
    /// name -> the full static shape. Naming no input is a Usage error.
    std::map<std::string, std::vector<int64_t>> input_shapes;
    /// The model's name in the .mtia file; "" keeps the ONNX graph's name.
    std::string name;
    /// Directory of external tensor data files; "" refuses external data
    /// (in-memory models normally have none).
    std::string external_data_dir;
    /// Batch buckets (mtia-compile --batch-buckets): one program per batch
    /// size, ascending, sharing one weights image; dim 0 of the batched
    /// inputs is set to each. Empty: one program at the graph's shapes.
    std::vector<uint32_t> batch_buckets;
    /// Reduced precision (mtia-compile --dtype): "fp16" or "bf16" computes
    /// in 16 bits where that is safe; "" or "fp32": float32 throughout.
    std::string dtype;
    /// Post-training quantization (mtia-compile --quantize): "int8"
    /// quantizes a float model, calibrated on `calibration`; "" keeps it.
    std::string quantize;
    /// With quantize: a NumPy .npz of representative inputs
    /// (mtia-compile --calibrate: one array per graph input, named after it).
    std::string calibration;
    /// With quantize: "minmax" (default, ""), "percentile" or "entropy"
    /// (mtia-compile --calibration-method).
    std::string calibration_method;
};

/// Every failure compile_onnx() reports; what() is mtia-compile's message,
/// naming the node, op or value at fault (e.g. "node 'cs' (CumSum):
/// unsupported op").
class CompileError : public std::runtime_error {
public:
    /// What went wrong; the values are mtia-compile's exit codes.
    enum class Kind : int {
        Internal = 1,    ///< a compiler bug
        Usage = 2,       ///< bad options (an input_shapes entry naming no input, ...)
        BadInput = 3,    ///< the bytes are not a valid ONNX model
        Unsupported = 4  ///< valid ONNX the device cannot run (op, dtype, dynamic shape)
    };
    /// An error of a kind with mtia-compile's message.
    CompileError(Kind kind, const std::string &message);
    ~CompileError() override;
    /// The kind (mtia-compile's exit code).
    Kind kind() const noexcept { return kind_; }

private:
    Kind kind_;
};

/// Compiles an ONNX model (protobuf bytes) to a .mtia image, as mtia-compile
/// does for a file. Throws CompileError.
std::string compile_onnx(const void *onnx, size_t size, const CompileOptions &options = {});
/// compile_onnx() over a string of bytes.
std::string compile_onnx(const std::string &onnx, const CompileOptions &options = {});
/// compile_onnx() that also returns mtia-compile's summary (--summary-json) as JSON text.
std::string compile_onnx(const std::string &onnx, const CompileOptions &options, std::string *summary_json);
/// The compiler's version ("0.1.0"), the producer recorded in .mtia files.
std::string compiler_version();

}  // namespace mtia
