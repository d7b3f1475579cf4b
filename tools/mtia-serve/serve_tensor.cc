// SPDX-License-Identifier: MIT
// Protocol datatype names and JSON tensor data (serve_tensor.h). Integers
// are range-checked against the tensor's type rather than wrapped, so a
// client's mistake is a 400, not a silently different input.
#include "serve_tensor.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "mtia/mtia_fp16.h"

namespace mtia_serve {

namespace {

struct NameOf {
    mtia::DType type;
    const char *name;
};
constexpr NameOf kNames[] = {
    {mtia::DType::F32, "FP32"},  {mtia::DType::F16, "FP16"},  {mtia::DType::BF16, "BF16"}, {mtia::DType::I8, "INT8"},
    {mtia::DType::I32, "INT32"}, {mtia::DType::I64, "INT64"}, {mtia::DType::Bool, "BOOL"}, {mtia::DType::U8, "UINT8"},
};

// Appends the leaves of a (possibly nested) JSON array to out, row-major.
void flatten(const nlohmann::json &j, std::vector<const nlohmann::json *> &out)
{
    if (!j.is_array()) {
        out.push_back(&j);
        return;
    }
    for (const auto &e : j) flatten(e, out);
}

int64_t as_integer(const nlohmann::json &v, int64_t lo, int64_t hi, const char *type)
{
    if (!v.is_number_integer()) throw std::invalid_argument(std::string("a ") + type + " element is not an integer");
    int64_t x;
    if (v.is_number_unsigned()) {
        const uint64_t u = v.get<uint64_t>();
        if (u > static_cast<uint64_t>(hi))
            throw std::invalid_argument(std::string("a ") + type + " element is out of range");
        x = static_cast<int64_t>(u);
    } else {
        x = v.get<int64_t>();
    }
    if (x < lo || x > hi) throw std::invalid_argument(std::string("a ") + type + " element is out of range");
    return x;
}

float as_float(const nlohmann::json &v)
{
    if (!v.is_number()) throw std::invalid_argument("a floating-point element is not a number");
    return v.get<float>();
}

template <typename T>
void put(std::vector<uint8_t> &d, size_t i, T x)
{
    std::memcpy(d.data() + i * sizeof(T), &x, sizeof(T));
}

template <typename T>
T get(const std::vector<uint8_t> &d, size_t i)
{
    T x;
    std::memcpy(&x, d.data() + i * sizeof(T), sizeof(T));
    return x;
}

}  // namespace

const char *datatype_name(mtia::DType t)
{
    for (const auto &n : kNames)
        if (n.type == t) return n.name;
    return "UNKNOWN";
}

bool parse_datatype(const std::string &name, mtia::DType *out)
{
    for (const auto &n : kNames)
        if (name == n.name) {
            *out = n.type;
            return true;
        }
    return false;
}

int64_t element_count(const std::vector<int64_t> &shape)
{
    int64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) return -1;
        if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
        n *= d;
    }
    return n;
}

size_t tensor_bytes(const Tensor &t)
{
    const int64_t n = element_count(t.shape);
    if (n < 0 || n > (int64_t(1) << 32)) throw std::invalid_argument("input '" + t.name + "': 'shape' is too large");
    return static_cast<size_t>(n) * mtia::dtype_size(t.dtype);
}

void tensor_data_from_json(const nlohmann::json &data, Tensor &t)
{
    if (!data.is_array()) throw std::invalid_argument("'data' is not an array");
    std::vector<const nlohmann::json *> leaves;
    flatten(data, leaves);
    const int64_t n = element_count(t.shape);
    if (n < 0 || static_cast<int64_t>(leaves.size()) != n)
        throw std::invalid_argument("'data' has " + std::to_string(leaves.size()) + " elements, the shape says " +
                                    std::to_string(n));
    t.data.assign(leaves.size() * mtia::dtype_size(t.dtype), 0);
    for (size_t i = 0; i < leaves.size(); i++) {
        const nlohmann::json &v = *leaves[i];
        switch (t.dtype) {
            case mtia::DType::F32:
                put<float>(t.data, i, as_float(v));
                break;
            case mtia::DType::F16:
                put<uint16_t>(t.data, i, mtia_f32_to_f16(as_float(v)));
                break;
            case mtia::DType::BF16:
                put<uint16_t>(t.data, i, mtia_f32_to_bf16(as_float(v)));
                break;
            case mtia::DType::I8:
                put<int8_t>(t.data, i, static_cast<int8_t>(as_integer(v, -128, 127, "INT8")));
                break;
            case mtia::DType::U8:
                put<uint8_t>(t.data, i, static_cast<uint8_t>(as_integer(v, 0, 255, "UINT8")));
                break;
            case mtia::DType::I32:
                put<int32_t>(t.data, i, static_cast<int32_t>(as_integer(v, INT32_MIN, INT32_MAX, "INT32")));
                break;
            case mtia::DType::I64:
                put<int64_t>(t.data, i, as_integer(v, INT64_MIN, INT64_MAX, "INT64"));
                break;
            case mtia::DType::Bool:
                if (!v.is_boolean()) throw std::invalid_argument("a BOOL element is not true or false");
                put<uint8_t>(t.data, i, v.get<bool>() ? 1 : 0);
                break;
        }
    }
}

nlohmann::json tensor_data_to_json(const Tensor &t)
{
    nlohmann::json out = nlohmann::json::array();
    const size_t n = t.data.size() / mtia::dtype_size(t.dtype);
    for (size_t i = 0; i < n; i++) {
        switch (t.dtype) {
            case mtia::DType::F32:
                out.push_back(get<float>(t.data, i));
                break;
            case mtia::DType::F16:
                out.push_back(mtia_f16_to_f32(get<uint16_t>(t.data, i)));
                break;
            case mtia::DType::BF16:
                out.push_back(mtia_bf16_to_f32(get<uint16_t>(t.data, i)));
                break;
            case mtia::DType::I8:
                out.push_back(get<int8_t>(t.data, i));
                break;
            case mtia::DType::U8:
                out.push_back(get<uint8_t>(t.data, i));
                break;
            case mtia::DType::I32:
                out.push_back(get<int32_t>(t.data, i));
                break;
            case mtia::DType::I64:
                out.push_back(get<int64_t>(t.data, i));
                break;
            case mtia::DType::Bool:
                out.push_back(get<uint8_t>(t.data, i) != 0);
                break;
        }
    }
    return out;
}

}  // namespace mtia_serve
