// SPDX-License-Identifier: MIT
#include "const_tensor.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>

#include "errors.h"
#include "mtia/mtia_fp16.h"

namespace mtia::compiler {

using onnx::TensorProto;

int64_t numel(const Shape &shape, const std::string &what)
{
    int64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) bad_input(what + ": negative dimension in shape " + shape_str(shape));
        if (d != 0 && n > kMaxElements / d)
            unsupported(what + ": shape " + shape_str(shape) + " has more than 2^28 elements");
        n *= d;
    }
    return n;
}

std::string shape_str(const Shape &shape)
{
    if (shape.empty()) return "scalar";
    std::string s;
    for (size_t k = 0; k < shape.size(); ++k) s += (k ? "x" : "") + std::to_string(shape[k]);
    return s;
}

std::string dtype_name(int32_t dt)
{
    if (TensorProto::DataType_IsValid(dt)) return TensorProto::DataType_Name(static_cast<TensorProto::DataType>(dt));
    return "dtype " + std::to_string(dt);
}

bool is_float_dtype(int32_t dt)
{
    return dt == TensorProto::FLOAT || dt == TensorProto::DOUBLE || dt == TensorProto::FLOAT16 ||
           dt == TensorProto::BFLOAT16;
}

bool is_int_dtype(int32_t dt)
{
    switch (dt) {
        case TensorProto::INT8:
        case TensorProto::INT16:
        case TensorProto::INT32:
        case TensorProto::INT64:
        case TensorProto::UINT8:
        case TensorProto::UINT16:
        case TensorProto::UINT32:
        case TensorProto::UINT64:
        case TensorProto::BOOL:
            return true;
        default:
            return false;
    }
}

int64_t ConstTensor::int_at(int64_t k) const
{
    if (!is_float()) return i[k];
    double v = f[k];
    if (!(v > -9.2e18 && v < 9.2e18))
        return v > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
    return static_cast<int64_t>(v);
}

std::vector<int64_t> ConstTensor::ints() const
{
    std::vector<int64_t> out(size());
    for (int64_t k = 0; k < size(); ++k) out[k] = int_at(k);
    return out;
}

ConstTensor ConstTensor::floats(Shape shape, std::vector<float> v)
{
    ConstTensor c;
    c.dtype = TensorProto::FLOAT;
    c.shape = std::move(shape);
    c.f = std::move(v);
    return c;
}

ConstTensor ConstTensor::int64s(Shape shape, std::vector<int64_t> v)
{
    ConstTensor c;
    c.dtype = TensorProto::INT64;
    c.shape = std::move(shape);
    c.i = std::move(v);
    return c;
}

ConstTensor ConstTensor::zeros(int32_t dtype, Shape shape)
{
    ConstTensor c;
    c.dtype = dtype;
    int64_t n = numel(shape, "constant");
    c.shape = std::move(shape);
    if (c.is_float())
        c.f.assign(n, 0.0f);
    else
        c.i.assign(n, 0);
    return c;
}

namespace {

size_t elem_bytes(int32_t dt)
{
    switch (dt) {
        case TensorProto::DOUBLE:
        case TensorProto::INT64:
        case TensorProto::UINT64:
            return 8;
        case TensorProto::FLOAT:
        case TensorProto::INT32:
        case TensorProto::UINT32:
            return 4;
        case TensorProto::FLOAT16:
        case TensorProto::BFLOAT16:
        case TensorProto::INT16:
        case TensorProto::UINT16:
            return 2;
        default:
            return 1;
    }
}

// One little-endian element of raw bytes.
template <typename T>
T load(const char *p)
{
    T v;
    std::memcpy(&v, p, sizeof(T));
    return v;
}

void decode_raw(ConstTensor &c, const std::string &raw, int64_t n)
{
    const char *p = raw.data();
    size_t w = elem_bytes(c.dtype);
    for (int64_t k = 0; k < n; ++k, p += w) {
        switch (c.dtype) {
            case TensorProto::FLOAT:
                c.f[k] = load<float>(p);
                break;
            case TensorProto::DOUBLE:
                c.f[k] = static_cast<float>(load<double>(p));
                break;
            case TensorProto::FLOAT16:
                c.f[k] = mtia_f16_to_f32(load<uint16_t>(p));
                break;
            case TensorProto::BFLOAT16:
                c.f[k] = mtia_bf16_to_f32(load<uint16_t>(p));
                break;
            case TensorProto::INT8:
                c.i[k] = load<int8_t>(p);
                break;
            case TensorProto::UINT8:
            case TensorProto::BOOL:
                c.i[k] = load<uint8_t>(p);
                break;
            case TensorProto::INT16:
                c.i[k] = load<int16_t>(p);
                break;
            case TensorProto::UINT16:
                c.i[k] = load<uint16_t>(p);
                break;
            case TensorProto::INT32:
                c.i[k] = load<int32_t>(p);
                break;
            case TensorProto::UINT32:
                c.i[k] = load<uint32_t>(p);
                break;
            case TensorProto::INT64:
                c.i[k] = load<int64_t>(p);
                break;
            case TensorProto::UINT64:
                c.i[k] = static_cast<int64_t>(load<uint64_t>(p));
                break;
        }
    }
}

std::string read_external(const TensorProto &t, const std::string &base_dir, size_t want)
{
    std::string location;
    uint64_t offset = 0, length = want;
    for (const auto &kv : t.external_data()) {
        try {
            if (kv.key() == "location")
                location = kv.value();
            else if (kv.key() == "offset")
                offset = std::stoull(kv.value());
            else if (kv.key() == "length")
                length = std::stoull(kv.value());
        } catch (const std::exception &) {
            bad_input("tensor '" + t.name() + "': bad external_data " + kv.key() + " '" + kv.value() + "'");
        }
    }
    if (location.empty() || location.find("..") != std::string::npos || location[0] == '/')
        bad_input("tensor '" + t.name() + "': external data location '" + location +
                  "' is not a file beside the model");
    if (length != want)
        bad_input("tensor '" + t.name() + "': external data length " + std::to_string(length) +
                  " != " + std::to_string(want));
    std::string path = base_dir.empty() ? location : base_dir + "/" + location;
    std::ifstream in(path, std::ios::binary);
    if (!in) bad_input("tensor '" + t.name() + "': cannot open external data file " + path);
    in.seekg(static_cast<std::streamoff>(offset));
    std::string buf(want, '\0');
    in.read(buf.data(), static_cast<std::streamsize>(want));
    if (static_cast<size_t>(in.gcount()) != want)
        bad_input("tensor '" + t.name() + "': external data file " + path + " is too short");
    return buf;
}

}  // namespace

ConstTensor from_proto(const TensorProto &t, const std::string &base_dir)
{
    const std::string what = "tensor '" + t.name() + "'";
    ConstTensor c;
    c.dtype = t.data_type();
    if (!is_float_dtype(c.dtype) && !is_int_dtype(c.dtype))
        unsupported(what + ": element type " + dtype_name(c.dtype) + " is not supported");
    if (t.has_segment()) unsupported(what + ": segmented tensors are not supported");
    c.shape.assign(t.dims().begin(), t.dims().end());
    const int64_t n = numel(c.shape, what);
    if (c.is_float())
        c.f.resize(n);
    else
        c.i.resize(n);
    const size_t raw_bytes = static_cast<size_t>(n) * elem_bytes(c.dtype);

    if (t.data_location() == TensorProto::EXTERNAL) {
        decode_raw(c, read_external(t, base_dir, raw_bytes), n);
        return c;
    }
    if (t.has_raw_data()) {
        if (t.raw_data().size() != raw_bytes)
            bad_input(what + ": raw_data has " + std::to_string(t.raw_data().size()) + " bytes, shape " +
                      shape_str(c.shape) + " needs " + std::to_string(raw_bytes));
        decode_raw(c, t.raw_data(), n);
        return c;
    }
    auto check = [&](int64_t have) {
        if (have != n)
            bad_input(what + ": has " + std::to_string(have) + " values, shape " + shape_str(c.shape) + " needs " +
                      std::to_string(n));
    };
    switch (c.dtype) {
        case TensorProto::FLOAT:
            check(t.float_data_size());
            for (int64_t k = 0; k < n; ++k) c.f[k] = t.float_data(static_cast<int>(k));
            break;
        case TensorProto::DOUBLE:
            check(t.double_data_size());
            for (int64_t k = 0; k < n; ++k) c.f[k] = static_cast<float>(t.double_data(static_cast<int>(k)));
            break;
        case TensorProto::FLOAT16:
        case TensorProto::BFLOAT16:  // bit patterns in int32_data
            check(t.int32_data_size());
            for (int64_t k = 0; k < n; ++k) {
                auto bits = static_cast<uint16_t>(t.int32_data(static_cast<int>(k)));
                c.f[k] = c.dtype == TensorProto::FLOAT16 ? mtia_f16_to_f32(bits) : mtia_bf16_to_f32(bits);
            }
            break;
        case TensorProto::INT64:
            check(t.int64_data_size());
            for (int64_t k = 0; k < n; ++k) c.i[k] = t.int64_data(static_cast<int>(k));
            break;
        case TensorProto::UINT32:
        case TensorProto::UINT64:
            check(t.uint64_data_size());
            for (int64_t k = 0; k < n; ++k) c.i[k] = static_cast<int64_t>(t.uint64_data(static_cast<int>(k)));
            break;
        default:  // the remaining integer types and bool live in int32_data
            check(t.int32_data_size());
            for (int64_t k = 0; k < n; ++k) c.i[k] = t.int32_data(static_cast<int>(k));
            break;
    }
    return c;
}

TensorProto to_proto(const ConstTensor &c, const std::string &name)
{
    TensorProto t;
    t.set_name(name);
    for (int64_t d : c.shape) t.add_dims(d);
    if (c.is_float()) {
        t.set_data_type(TensorProto::FLOAT);
        t.set_raw_data(std::string(reinterpret_cast<const char *>(c.f.data()), c.f.size() * sizeof(float)));
    } else {
        // Keep bool and int32 as they were: consumers' type constraints expect them.
        if (c.dtype == TensorProto::BOOL) {
            t.set_data_type(TensorProto::BOOL);
            std::string raw(c.i.size(), '\0');
            for (size_t k = 0; k < c.i.size(); ++k) raw[k] = c.i[k] ? 1 : 0;
            t.set_raw_data(raw);
        } else if (c.dtype == TensorProto::INT32) {
            t.set_data_type(TensorProto::INT32);
            std::vector<int32_t> v(c.i.begin(), c.i.end());
            t.set_raw_data(std::string(reinterpret_cast<const char *>(v.data()), v.size() * sizeof(int32_t)));
        } else {
            t.set_data_type(TensorProto::INT64);
            t.set_raw_data(std::string(reinterpret_cast<const char *>(c.i.data()), c.i.size() * sizeof(int64_t)));
        }
    }
    return t;
}

}  // namespace mtia::compiler
