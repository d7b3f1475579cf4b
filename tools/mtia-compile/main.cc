// SPDX-License-Identifier: MIT
// mtia-compile: ONNX model -> .mtia compiled model (docs/mtia-compile.md).
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "buckets.h"
#include "compiler.h"
#include "constant_inputs.h"
#include "lower.h"
#include "model_writer.h"
#include "onnx_loader.h"
#include "precision.h"

using namespace mtia::compiler;

int main(int argc, char **argv)
{
    CLI::App app{"mtia-compile: compile an ONNX model (float32, static shapes) to an mtia-open .mtia model"};
    std::string input, output, summary_json, buckets;
    std::vector<std::string> shapes, constants;
    bool quiet = false, list_ops = false, list_types = false;
    app.add_option("model", input, "ONNX model file");
    app.add_flag("--list-ops", list_ops,
                 "print the ONNX op types compiled for the device on runtime data, one per line, and exit");
    app.add_flag("--list-input-types", list_types,
                 "print the ONNX element types a graph input may have, one per line, and exit");
    app.add_option("-o,--output", output, "output .mtia file (default: the model's name with .mtia)");
    app.add_option("--input-shape", shapes, "fix an input's shape, e.g. input=1x3x224x224 (repeatable)");
    app.add_option("--constant-input", constants,
                   "bind an input to a value at compile time, e.g. shape=shape.npy (.npy, or an ONNX TensorProto "
                   ".pb; repeatable)");
    auto *bucket_opt =
        app.add_option("--batch-buckets", buckets,
                       "one program per batch size sharing the weights, e.g. 1,8,32,128 (dim 0 of the batched inputs; "
                       "libmtia pads a request to the smallest that fits)");
    std::string dtype;
    app.add_option("--dtype", dtype,
                   "compute in fp16 or bf16 where that is safe (softmax, layer norm, reductions, embedding bags and "
                   "the model's inputs and outputs stay fp32); fp32 (default) throughout");
    std::string layout = "auto";
    app.add_option("--layout", layout,
                   "activation layouts: auto (default: tensors between convolutions stored channels-last, or in "
                   "oneDNN's nChw16c blocks where every op around them takes those), nhwc (channels-last only) or "
                   "nchw (every tensor plain NCHW)")
        ->check(CLI::IsMember({"auto", "nhwc", "nchw"}));
    bool no_fuse_residual = false;
    app.add_flag("--no-fuse-residual", no_fuse_residual,
                 "keep residual adds as ops of their own (default: an add of a convolution's result is done by the "
                 "convolution, into the other operand's memory)");
    std::string quantize, calibrate, method;
    auto *quantize_opt = app.add_option(
        "--quantize", quantize,
        "int8: static post-training quantization of a float model, calibrated on --calibrate's inputs (convolutions "
        "and matrix products in int8 with per-channel weights)");
    auto *calibrate_opt = app.add_option(
        "--calibrate", calibrate,
        "representative inputs for --quantize: a NumPy .npz with one array per model input (named after it), "
        "(S, *input shape) for S runs");
    auto *method_opt = app.add_option("--calibration-method", method,
                                      "activation ranges for --quantize: minmax (default), percentile (99.99th of "
                                      "|x|) or entropy (least KL divergence, as TensorRT)");
    app.add_option("--summary-json", summary_json, "write the summary as JSON to this file ('-' for stdout)");
    app.add_flag("-q,--quiet", quiet, "print nothing but errors");
    app.set_version_flag("--version", "mtia-compile " + compiler_version());
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        int rc = app.exit(e);
        return rc == 0 ? 0 : static_cast<int>(ErrorKind::kUsage);
    }
    if (list_ops || list_types) {
        if (list_ops)
            for (const auto &op : claimed_op_types()) std::cout << op << "\n";
        if (list_types)
            for (int32_t t : claimed_input_types()) std::cout << dtype_name(t) << "\n";
        return 0;
    }
    if (input.empty()) {
        std::cerr << "mtia-compile: error: an ONNX model is required (see --help)\n";
        return static_cast<int>(ErrorKind::kUsage);
    }

    try {
        CompileOptions opts;
        for (const auto &s : shapes) {
            auto eq = s.rfind('=');
            if (eq == std::string::npos || eq == 0)
                fail(ErrorKind::kUsage, "--input-shape '" + s + "': want NAME=DIMS, e.g. input=1x3x224x224");
            opts.input_shapes[s.substr(0, eq)] = parse_shape(s.substr(eq + 1));
        }
        for (const auto &s : constants) {
            auto eq = s.find('=');
            if (eq == std::string::npos || eq == 0)
                fail(ErrorKind::kUsage, "--constant-input '" + s + "': want NAME=FILE, e.g. shape=shape.npy");
            opts.constant_inputs[s.substr(0, eq)] = read_constant_input(s.substr(eq + 1));
        }
        if (bucket_opt->count()) opts.batch_buckets = parse_buckets(buckets);
        if (!dtype.empty()) opts.dtype = parse_dtype_option(dtype);
        opts.channels_last = layout != "nchw";
        opts.blocked = layout == "auto";
        opts.fuse_residual_adds = !no_fuse_residual;
        if (quantize_opt->count() && quantize.empty())
            fail(ErrorKind::kUsage, "--quantize '': the only choice is int8");
        if (calibrate_opt->count() && calibrate.empty()) fail(ErrorKind::kUsage, "--calibrate: an empty path");
        if (method_opt->count() && method.empty()) fail(ErrorKind::kUsage, "--calibration-method: empty");
        opts.quantize = parse_quantize_options(quantize, calibrate, method);
        if (output.empty()) {
            auto dot = input.rfind('.'), slash = input.rfind('/');
            output = (dot != std::string::npos && (slash == std::string::npos || dot > slash) ? input.substr(0, dot)
                                                                                              : input) +
                     ".mtia";
        }
        CompileResult r = compile_file(input, opts);
        write_file(output, r.bytes);
        if (!quiet) std::cout << r.summary.to_text() << "wrote " << output << "\n";
        if (!summary_json.empty()) {
            std::string text = r.summary.to_json().dump(2) + "\n";
            if (summary_json == "-") {
                std::cout << text;
            } else {
                std::ofstream f(summary_json);
                f << text;
                if (!f) fail(ErrorKind::kOutput, summary_json + ": cannot write the summary");
            }
        }
        return 0;
    } catch (const CompileError &e) {
        std::cerr << "mtia-compile: error: " << e.what() << "\n";
        return e.exit_code();
    } catch (const std::bad_alloc &) {
        std::cerr << "mtia-compile: error: out of memory (model too large?)\n";
        return static_cast<int>(ErrorKind::kUnsupported);
    } catch (const std::exception &e) {
        std::cerr << "mtia-compile: internal error: " << e.what() << "\n";
        return static_cast<int>(ErrorKind::kInternal);
    }
}
