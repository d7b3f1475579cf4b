// SPDX-License-Identifier: MIT
// Model tensor types <-> .npy arrays and the --convert conversions
// (npy_convert.h). Element loops over mtia_fp16.h's scalar conversions and
// libmtia's mtia::quantize/dequantize (mtia_quant.h): the same rounding as
// the device and mtia-compile on every host.
#include "npy_convert.h"

#include <cstdio>
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
        case DType::I8:
            return NpyType::I8;
        case DType::U8:
            return NpyType::U8;
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
        case NpyType::I8:
            return "int8";
        case NpyType::U8:
            return "uint8";
        case NpyType::F32:
            break;
    }
    return "float32";
}

const char *model_numpy_name(mtia::DType t) { return t == DType::BF16 ? "bfloat16" : numpy_name(npy_type(t)); }

std::string quant_str(const mtia::TensorInfo &t)
{
    if (!mtia::is_quantized(t.dtype)) return "";
    char s[64];
    std::snprintf(s, sizeof(s), ", scale %.9g, zero point %d", static_cast<double>(t.scale), t.zero_point);
    return s;
}

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
        case NpyType::U8:
            return p[i];
        case NpyType::I8:
            return static_cast<int8_t>(p[i]);
        case NpyType::F16:
        case NpyType::F32:
            break;
    }
    return load_f32(p, t, i);
}

std::vector<uint8_t> input_bytes(const NpyArray &a, const mtia::TensorInfo &info, bool convert, const std::string &path,
                                 const std::string &label)
{
    const DType to = info.dtype;
    if (a.type == npy_type(to) && to != DType::BF16) return a.data;
    const bool quant = mtia::is_quantized(to);
    const bool floats = is_float(a.type) && (is_float(to) || quant);
    if (floats && convert) {
        const size_t n = a.data.size() / npy_size(a.type);
        std::vector<float> f(n);
        for (size_t i = 0; i < n; i++) f[i] = load_f32(a.data.data(), a.type, i);
        return from_f32(f.data(), n, info);
    }
    std::string msg =
        path + ": dtype " + numpy_name(a.type) + ", but " + label + " is " + model_numpy_name(to) + quant_str(info);
    if (floats && to == DType::BF16)
        msg += " (NumPy has no bfloat16: give a float32 .npy with --convert, rounded to nearest even)";
    else if (floats && quant)
        msg += std::string(" (give --convert to quantize ") + numpy_name(a.type) + " with its scale and zero point)";
    else if (floats)
        msg += std::string(" (give --convert to convert ") + numpy_name(a.type) + " to " + model_numpy_name(to) +
               (to == DType::F32 ? ", exactly)" : ", rounded to nearest even)");
    else if (convert)
        msg += " (--convert converts only float arrays, to float or quantized inputs)";
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

std::vector<double> output_values(const std::vector<uint8_t> &npy_data, const mtia::TensorInfo &t)
{
    const NpyType type = npy_type(t.dtype);
    std::vector<double> r(npy_data.size() / npy_size(type));
    if (mtia::is_quantized(t.dtype)) {
        std::vector<float> f(r.size());
        mtia::dequantize(t, npy_data.data(), f.size(), f.data());
        for (size_t i = 0; i < r.size(); i++) r[i] = f[i];
        return r;
    }
    for (size_t i = 0; i < r.size(); i++) r[i] = npy_element(npy_data.data(), type, i);
    return r;
}

std::vector<uint8_t> from_f32(const float *v, size_t n, const mtia::TensorInfo &to)
{
    std::vector<uint8_t> out(n * mtia::dtype_size(to.dtype));
    if (mtia::is_quantized(to.dtype)) {
        mtia::quantize(to, v, n, out.data());
        return out;
    }
    for (size_t i = 0; i < n; i++) store(out.data(), to.dtype, i, v[i]);
    return out;
}

}  // namespace mtia::run
