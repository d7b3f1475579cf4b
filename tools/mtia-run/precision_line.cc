// SPDX-License-Identifier: MIT
// mtia-run's precision report (precision_line.h).
#include "precision_line.h"

#include <algorithm>

namespace mtia::run {

std::string precision(const std::vector<mtia::DType> &compute_dtypes)
{
    std::string p;  // "+bf16..."
    bool f32 = false, int8 = false;
    for (mtia::DType t : compute_dtypes) {
        if (t == mtia::DType::F32)
            f32 = true;
        else if (mtia::is_quantized(t))
            int8 = true;  // U8 activations are the int8 path too (mtia_spec.h)
        else
            p += "+" + std::string(dtype_name(t));
    }
    if (int8) return "int8" + p;
    return !p.empty() ? p.substr(1) : f32 ? "f32" : "int";
}

std::string io_dtypes(const std::vector<mtia::TensorInfo> &ts)
{
    std::vector<mtia::DType> seen;
    std::string s;
    for (const auto &t : ts) {
        if (std::find(seen.begin(), seen.end(), t.dtype) != seen.end()) continue;
        seen.push_back(t.dtype);
        s += (s.empty() ? "" : ",") + std::string(dtype_name(t.dtype));
    }
    return s.empty() ? "none" : s;
}

std::string precision_line(const std::vector<mtia::DType> &compute_dtypes, const std::vector<mtia::TensorInfo> &inputs,
                           const std::vector<mtia::TensorInfo> &outputs)
{
    const std::string in = io_dtypes(inputs), out = io_dtypes(outputs);
    return precision(compute_dtypes) +
           (in == out ? " (inputs/outputs " + in + ")" : " (inputs " + in + ", outputs " + out + ")");
}

}  // namespace mtia::run
