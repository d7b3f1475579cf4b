// SPDX-License-Identifier: MIT
// What mtia-compile reports about a compiled model (text or JSON).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "const_tensor.h"

namespace mtia::compiler {

struct Summary {
    struct Io {
        std::string name;
        Shape shape;
        std::string dtype = "f32";  // f32, i32, i64, bool
    };
    struct Bucket {
        uint32_t batch = 0;
        uint64_t arena_size = 0;
        uint64_t flops = 0;
    };
    std::string model;            // graph name
    std::vector<Bucket> buckets;  // --batch-buckets, ascending; the rest describes the last
    int opset = 0;
    std::vector<Io> inputs, outputs;
    std::map<std::string, int> onnx_ops;     // input model's nodes by op type
    std::map<std::string, int> lowered_ops;  // device ops before activation fusion
    std::map<std::string, int> device_ops;   // final program, e.g. "Conv+Relu"
    std::map<std::string, int> passes;       // rewrites per pass
    int64_t parameters = 0;                  // weight elements
    uint64_t weights_bytes = 0;
    uint64_t activations_peak = 0;   // planned activation region
    uint64_t activations_total = 0;  // without reuse
    uint64_t arena_size = 0;
    uint64_t flops = 0;
    size_t tensors = 0;
    size_t file_bytes = 0;
    // --dtype: device ops by the precision they compute in ("bf16" or "fp16",
    // "f32") and kind; empty without --dtype.
    std::map<std::string, std::map<std::string, int>> precision;
    // --quantize int8 (ptq.h): how it was calibrated and what it costs,
    // measured on the calibration runs against the float program.
    struct Calibration {
        struct Output {
            std::string name;
            double max_abs_error = 0.0;  // |int8 - float| over every run
            double max_abs_ref = 0.0;    // the float outputs' largest |value|
            double top1 = -1.0;          // (N, C) outputs: rows whose argmax agrees; -1 otherwise
        };
        std::string method;  // minmax, percentile, entropy
        uint64_t runs = 0;
        int tensors = 0;  // activations given int8 parameters
        std::vector<Output> outputs;
    };
    std::optional<Calibration> calibration;

    nlohmann::json to_json() const;
    std::string to_text() const;
};

}  // namespace mtia::compiler
