// SPDX-License-Identifier: MIT
// Model tensor types <-> .npy arrays and the --convert float conversions
// (npy_convert.h). Element loops over mtia_fp16.h's scalar conversions:
// the same rounding as the device and mtia-compile on every host.
#include "npy_convert.h"

#include <cstring>

#include "mtia/mtia_fp16.h"

namespace mtia::run {

namespace {

bool is_float(NpyType t) { return t == NpyType::F32 || t == NpyType::F16; }
bool is_float(mtia::DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16; }

float load_f32(const uint8_t *p, NpyType t, size_t i)
{
    if (t == NpyType::F16) {
        uint16_t h;
        std::memcpy(&h, p + i * 2, 2);
        return mtia_f16_to_f32(h);
    }
    float v;
    std::memcpy(&v, p + i * 4, 4);
    return v;
}

void store(uint8_t *p, mtia::DType t, size_t i, float v)
{
    uint16_t h;
    switch (t) {
        case DType::F16:
            h = mtia_f32_to_f16(v);
            break;
        case DType::BF16:
            h = mtia_f32_to_bf16(v);
            break;
        default:
            std::memcpy(p + i * 4, &v, 4);
            return;
    }
    std::memcpy(p + i * 2, &h, 2);
}

}  // namespace

NpyType npy_type(mtia::DType t)
{
    switch (t) {
        case DType::I32:
            return NpyType::I32;
        case DType::I64:
            return NpyType::I64;
        case DType::Bool:
            return NpyType::Bool;
        case DType::F16:
            return NpyType::F16;
        case DType::F32:
        case DType::BF16:
            break;
    }
    return NpyType::F32;
}

const char *numpy_name(NpyType t)
{
    switch (t) {
        case NpyType::I32:
            return "int32";
        case NpyType::I64:
            return "int64";
        case NpyType::Bool:
            return "bool";
        case NpyType::F16:
            return "float16";
        case NpyType::F32:
            break;
    }
    return "float32";
}

const char *model_numpy_name(mtia::DType t) { return t == DType::BF16 ? "bfloat16" : numpy_name(npy_type(t)); }

double npy_element(const uint8_t *p, NpyType t, size_t i)
{
    switch (t) {
        case NpyType::I32: {
            int32_t v;
            std::memcpy(&v, p + i * 4, 4);
            return v;
        }
        case NpyType::I64: {
            int64_t v;
            std::memcpy(&v, p + i * 8, 8);
            return double(v);
        }
        case NpyType::Bool:
            return p[i];
        case NpyType::F16:
        case NpyType::F32:
            break;
    }
    return load_f32(p, t, i);
}

std::vector<uint8_t> input_bytes(const NpyArray &a, mtia::DType to, bool convert, const std::string &path,
                                 const std::string &label)
{
    if (a.type == npy_type(to) && to != DType::BF16) return a.data;
    const bool floats = is_float(a.type) && is_float(to);
    if (floats && convert) {
        const size_t n = a.data.size() / npy_size(a.type);
        std::vector<uint8_t> out(n * (to == DType::F32 ? 4 : 2));
        for (size_t i = 0; i < n; i++) store(out.data(), to, i, load_f32(a.data.data(), a.type, i));
        return out;
    }
    std::string msg = path + ": dtype " + numpy_name(a.type) + ", but " + label + " is " + model_numpy_name(to);
    if (floats && to == DType::BF16)
        msg += " (NumPy has no bfloat16: give a float32 .npy with --convert, rounded to nearest even)";
    else if (floats)
        msg += std::string(" (give --convert to convert ") + numpy_name(a.type) + " to " + model_numpy_name(to) +
               (to == DType::F32 ? ", exactly)" : ", rounded to nearest even)");
    else if (convert)
        msg += " (--convert converts only between float types)";
    throw NpyError(msg);
}

std::vector<uint8_t> output_bytes(const std::vector<uint8_t> &data, mtia::DType from)
{
    if (from != DType::BF16) return data;
    const size_t n = data.size() / 2;
    std::vector<uint8_t> out(n * 4);
    for (size_t i = 0; i < n; i++) {
        uint16_t h;
        std::memcpy(&h, data.data() + i * 2, 2);
        const float v = mtia_bf16_to_f32(h);
        std::memcpy(out.data() + i * 4, &v, 4);
    }
    return out;
}

std::vector<uint8_t> from_f32(const float *v, size_t n, mtia::DType to)
{
    std::vector<uint8_t> out(n * (to == DType::F32 ? 4 : 2));
    for (size_t i = 0; i < n; i++) store(out.data(), to, i, v[i]);
    return out;
}

}  // namespace mtia::run
