// SPDX-License-Identifier: MIT
#include "summary.h"

#include <cstdio>
#include <sstream>

namespace mtia::compiler {

namespace {

int total(const std::map<std::string, int> &m)
{
    int n = 0;
    for (const auto &kv : m) n += kv.second;
    return n;
}

std::string human_bytes(uint64_t b)
{
    char buf[64];
    if (b >= (1ull << 20))
        std::snprintf(buf, sizeof buf, "%.2f MiB", b / 1048576.0);
    else if (b >= 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", b / 1024.0);
    else
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
    return buf;
}

std::string counts(const std::map<std::string, int> &m)
{
    std::string s;
    for (const auto &kv : m) s += (s.empty() ? "" : ", ") + kv.first + " " + std::to_string(kv.second);
    return s;
}

nlohmann::json io_json(const std::vector<Summary::Io> &v)
{
    nlohmann::json j = nlohmann::json::array();
    for (const auto &io : v) j.push_back({{"name", io.name}, {"shape", io.shape}, {"dtype", io.dtype}});
    return j;
}

nlohmann::json calibration_json(const Summary::Calibration &c)
{
    nlohmann::json outs = nlohmann::json::array();
    for (const auto &o : c.outputs) {
        nlohmann::json j = {{"name", o.name}, {"max_abs_error", o.max_abs_error}, {"max_abs_ref", o.max_abs_ref}};
        j["top1_agreement"] = o.top1 >= 0 ? nlohmann::json(o.top1) : nlohmann::json(nullptr);
        outs.push_back(j);
    }
    return {{"method", c.method}, {"runs", c.runs}, {"tensors", c.tensors}, {"outputs", outs}};
}

}  // namespace

nlohmann::json Summary::to_json() const
{
    nlohmann::json b = nlohmann::json::array();
    for (const auto &k : buckets) b.push_back({{"batch", k.batch}, {"arena_bytes", k.arena_size}, {"flops", k.flops}});
    nlohmann::json j = {{"model", model},
                        {"batch_buckets", b},
                        {"opset", opset},
                        {"inputs", io_json(inputs)},
                        {"outputs", io_json(outputs)},
                        {"onnx_nodes", total(onnx_ops)},
                        {"onnx_ops", onnx_ops},
                        {"device_ops_before_fusion", total(lowered_ops)},
                        {"lowered_ops", lowered_ops},
                        {"device_ops", total(device_ops)},
                        {"device_op_kinds", device_ops},
                        {"passes", passes},
                        {"precision", precision},
                        {"parameters", parameters},
                        {"weights_bytes", weights_bytes},
                        {"activations_peak_bytes", activations_peak},
                        {"activations_no_reuse_bytes", activations_total},
                        {"arena_bytes", arena_size},
                        {"flops", flops},
                        {"tensors", tensors},
                        {"file_bytes", file_bytes}};
    j["calibration"] = calibration ? calibration_json(*calibration) : nlohmann::json(nullptr);
    return j;
}

std::string Summary::to_text() const
{
    std::ostringstream o;
    auto ios = [&](const char *what, const std::vector<Io> &v) {
        for (const auto &io : v)
            o << "  " << what << " " << io.name << " " << shape_str(io.shape) << " " << io.dtype << "\n";
    };
    o << "model " << model << " (opset " << opset << ")\n";
    ios("input ", inputs);
    ios("output", outputs);
    o << "ONNX nodes       " << total(onnx_ops) << ": " << counts(onnx_ops) << "\n";
    std::map<std::string, int> applied;
    for (const auto &kv : passes)
        if (kv.second) applied.insert(kv);
    o << "passes           " << (applied.empty() ? "none applied" : counts(applied)) << "\n";
    o << "device ops       " << total(lowered_ops) << " before fusion: " << counts(lowered_ops) << "\n";
    o << "                 " << total(device_ops) << " after fusion:  " << counts(device_ops) << "\n";
    for (const auto &kv : precision)
        o << "  in " << kv.first << std::string(kv.first.size() < 4 ? 4 - kv.first.size() : 0, ' ') << "       "
          << total(kv.second) << ": " << counts(kv.second) << "\n";
    char buf[256];
    std::snprintf(buf, sizeof buf, "parameters       %lld (%s of weights)\n", static_cast<long long>(parameters),
                  human_bytes(weights_bytes).c_str());
    o << buf;
    std::snprintf(buf, sizeof buf, "activations      %s peak (%s without reuse)\n",
                  human_bytes(activations_peak).c_str(), human_bytes(activations_total).c_str());
    o << buf;
    o << "arena            " << human_bytes(arena_size) << " (" << arena_size << " bytes)\n";
    if (!buckets.empty()) {
        o << "batch buckets    " << buckets.size() << ":";
        for (const auto &k : buckets) o << " " << k.batch << " (arena " << human_bytes(k.arena_size) << ")";
        o << "\n";
    }
    if (flops >= 100000000)
        std::snprintf(buf, sizeof buf, "FLOPs            %.3f G\n", flops / 1e9);
    else
        std::snprintf(buf, sizeof buf, "FLOPs            %.3f M\n", flops / 1e6);
    o << buf;
    if (calibration) {
        const Calibration &c = *calibration;
        o << "int8 calibration " << c.method << ", " << c.runs << " runs, " << c.tensors
          << " activations quantized; against float32 on them:\n";
        for (const auto &out : c.outputs) {
            std::snprintf(buf, sizeof buf, "  output %s: max abs error %.4g (largest |float32| %.4g)", out.name.c_str(),
                          out.max_abs_error, out.max_abs_ref);
            o << buf;
            if (out.top1 >= 0) {
                std::snprintf(buf, sizeof buf, ", top-1 agreement %.2f%%", 100.0 * out.top1);
                o << buf;
            }
            o << "\n";
        }
    }
    o << "file             " << human_bytes(file_bytes) << ", " << tensors << " tensors\n";
    return o.str();
}

}  // namespace mtia::compiler
