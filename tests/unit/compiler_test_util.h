// SPDX-License-Identifier: MIT
// Helpers for the compiler's tests: tiny ONNX graphs built in C++, .npy
// files, the generated test-model set (tests/models/make_models.py), and a
// host run of a compiled model on the compute engine.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <onnx/onnx_pb.h>

#include "compiler.h"

namespace mtia::compiler::testing {

// ---- ONNX graph builder ---------------------------------------------------
class OnnxBuilder {
public:
    explicit OnnxBuilder(int opset = 13);
    // Adds a float graph input; a dim < 0 is dynamic (dim_param "N").
    OnnxBuilder &input(const std::string &name, const std::vector<int64_t> &shape,
                       int32_t dtype = onnx::TensorProto::FLOAT);
    OnnxBuilder &output(const std::string &name);
    OnnxBuilder &init(const std::string &name, const std::vector<int64_t> &shape, const std::vector<float> &v);
    OnnxBuilder &init_i64(const std::string &name, const std::vector<int64_t> &shape, const std::vector<int64_t> &v);
    // An INT8, UINT8 or INT32 initializer (ONNX keeps them in int32_data).
    OnnxBuilder &init_int(const std::string &name, const std::vector<int64_t> &shape, const std::vector<int32_t> &v,
                          int32_t dtype);
    // Random initializer (uniform [-1, 1), seeded by name).
    OnnxBuilder &init_rand(const std::string &name, const std::vector<int64_t> &shape);
    onnx::NodeProto &node(const std::string &op, const std::vector<std::string> &in,
                          const std::vector<std::string> &out, const std::string &name = "");
    const onnx::ModelProto &model() const { return m_; }
    onnx::ModelProto &mutable_model() { return m_; }
    std::string bytes() const { return m_.SerializeAsString(); }

private:
    onnx::ModelProto m_;
};

void attr(onnx::NodeProto &n, const std::string &name, int64_t v);
void attr(onnx::NodeProto &n, const std::string &name, float v);
void attr(onnx::NodeProto &n, const std::string &name, const std::vector<int64_t> &v);
void attr(onnx::NodeProto &n, const std::string &name, const std::string &v);

// ---- data -----------------------------------------------------------------
struct Array {
    std::vector<int64_t> shape;
    std::vector<float> data;
};
// mtia-run's reader; throws. An integer array's bytes are kept as they are
// (run_on_host takes them so).
Array load_npy(const std::string &path);
std::vector<float> random_floats(size_t n, uint32_t seed);
// A NumPy .npz image of (member name, bytes) members: stored as numpy.savez
// writes them, or deflated as savez_compressed does.
std::string npz_bytes(const std::vector<std::pair<std::string, std::string>> &members, bool deflated = false);

// ---- test models ----------------------------------------------------------
// The directory make_models.py wrote (MTIA_TEST_MODELS or build/models), or
// "" if its manifest.json is missing.
std::string models_dir();

// ---- host execution of a compiled model ------------------------------------
// Reads the .mtia bytes with libmtia's loader (its checks, its lowering of
// each Op to struct mtia_op), loads the weights and inputs into a host
// arena, runs mtia_compute_run and returns the outputs (F32 outputs'
// values; others' bytes). With @status, a failed run stores the CQE status
// there and returns {} instead of failing the test. Fails the calling test (ADD_FAILURE) and returns {} on error.
std::vector<std::vector<float>> run_on_host(const std::string &mtia_bytes,
                                            const std::vector<std::vector<float>> &inputs,
                                            uint64_t *device_ns = nullptr, uint16_t *status = nullptr);
// An int64 (ids) input for run_on_host: its bytes in floats' storage.
std::vector<float> ids_input(const std::vector<int64_t> &ids);

// Reference interpreter of a small ONNX model is not needed: expected
// results come from PyTorch (.npy) or are computed in the test.
float max_abs_diff(const std::vector<float> &a, const std::vector<float> &b);

}  // namespace mtia::compiler::testing
