// SPDX-License-Identifier: MIT
// --constant-input NAME=FILE: a graph input bound to a value at compile
// time. Operators take some parameters as inputs (Reshape's shape, Slice's
// starts/ends, Pad's pads, Clip's bounds, BatchNormalization's statistics);
// a static compiler needs them known, as TensorRT needs shape tensors at
// build time. The bound input becomes an initializer, so every later stage
// sees an ordinary constant. Values come from .npy files (NumPy's format,
// C order) or ONNX TensorProto files (.pb, as ONNX's test data has them).
#include "constant_inputs.h"

#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "errors.h"

namespace mtia::compiler {

namespace {

std::string read_all(const std::string &path)
{
    std::ifstream f(path, std::ios::binary);
    if (!f) fail(ErrorKind::kUsage, "--constant-input: cannot open " + path);
    std::ostringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// NumPy .npy v1-3: magic, version, header length, a Python dict literal,
// then the raw data. Little-endian fixed-size dtypes only.
onnx::TensorProto parse_npy(const std::string &b, const std::string &path)
{
    auto bad = [&](const std::string &why) { fail(ErrorKind::kUsage, "--constant-input " + path + ": " + why); };
    if (b.size() < 10 || b.compare(0, 6, "\x93NUMPY") != 0) bad("not a .npy file");
    const int major = static_cast<unsigned char>(b[6]);
    size_t hlen, start;
    if (major == 1) {
        hlen = static_cast<unsigned char>(b[8]) | static_cast<unsigned char>(b[9]) << 8;
        start = 10;
    } else if (major == 2 || major == 3) {
        if (b.size() < 12) bad("truncated header");
        uint32_t v;
        std::memcpy(&v, b.data() + 8, 4);
        hlen = v;
        start = 12;
    } else {
        bad("unknown .npy version " + std::to_string(major));
    }
    if (hlen > b.size() - start) bad("truncated header");
    const std::string h = b.substr(start, hlen);
    auto field = [&](const std::string &key) {
        auto k = h.find("'" + key + "'");
        if (k == std::string::npos) bad("header has no '" + key + "'");
        auto colon = h.find(':', k);
        auto v = h.find_first_not_of(' ', colon + 1);
        return h.substr(v);
    };
    std::string descr = field("descr");
    if (descr.empty() || descr[0] != '\'') bad("bad descr");
    descr = descr.substr(1, descr.find('\'', 1) - 1);
    if (field("fortran_order").compare(0, 5, "False") != 0) bad("Fortran order is not supported (use C order)");
    std::string shape_txt = field("shape");
    shape_txt = shape_txt.substr(1, shape_txt.find(')') - 1);
    onnx::TensorProto t;
    uint64_t n = 1;
    std::stringstream ss(shape_txt);
    for (std::string d; std::getline(ss, d, ',');) {
        if (d.find_first_not_of(' ') == std::string::npos) continue;
        int64_t v = std::stoll(d);
        if (v < 0) bad("negative dim");
        t.add_dims(v);
        n *= static_cast<uint64_t>(v);
    }
    static const std::map<std::string, std::pair<int32_t, size_t>> types = {
        {"<f4", {onnx::TensorProto::FLOAT, 4}}, {"<f8", {onnx::TensorProto::DOUBLE, 8}},
        {"<i8", {onnx::TensorProto::INT64, 8}}, {"<i4", {onnx::TensorProto::INT32, 4}},
        {"|b1", {onnx::TensorProto::BOOL, 1}},  {"|u1", {onnx::TensorProto::UINT8, 1}},
        {"|i1", {onnx::TensorProto::INT8, 1}}};
    auto ty = types.find(descr);
    if (ty == types.end()) bad("dtype '" + descr + "' is not supported");
    const size_t data = start + hlen, bytes = n * ty->second.second;
    if (n > (1ull << 40) || b.size() - data != bytes)
        bad("holds " + std::to_string(b.size() - data) + " data bytes, its header says " + std::to_string(bytes));
    t.set_data_type(ty->second.first);
    t.set_raw_data(b.substr(data));
    return t;
}

}  // namespace

onnx::TensorProto read_constant_input(const std::string &path)
{
    const std::string b = read_all(path);
    if (path.size() > 3 && path.compare(path.size() - 3, 3, ".pb") == 0) {
        onnx::TensorProto t;
        if (!t.ParseFromString(b)) fail(ErrorKind::kUsage, "--constant-input " + path + ": not an ONNX TensorProto");
        return t;
    }
    return parse_npy(b, path);
}

void bind_constant_inputs(onnx::ModelProto &m, const std::map<std::string, onnx::TensorProto> &values)
{
    auto *g = m.mutable_graph();
    std::set<std::string> bound;
    for (int i = g->input_size() - 1; i >= 0; --i) {
        const auto &in = g->input(i);
        const std::string name = in.name();  // in is deleted below
        auto it = values.find(name);
        if (it == values.end()) continue;
        const auto &tt = in.type().tensor_type();
        const onnx::TensorProto &v = it->second;
        if (tt.elem_type() != v.data_type())
            fail(ErrorKind::kUsage, "--constant-input " + in.name() + ": the value is " + dtype_name(v.data_type()) +
                                        ", the model's input " + dtype_name(tt.elem_type()));
        if (tt.has_shape()) {
            bool ok = tt.shape().dim_size() == v.dims_size();
            for (int k = 0; ok && k < v.dims_size(); ++k)
                ok = !tt.shape().dim(k).has_dim_value() || tt.shape().dim(k).dim_value() == v.dims(k);
            if (!ok)
                fail(ErrorKind::kUsage,
                     "--constant-input " + in.name() + ": the value's shape does not match the " + "model's input");
        }
        for (auto &init : *g->mutable_initializer())  // replaces a default value
            if (init.name() == in.name()) init.Clear();
        onnx::TensorProto *t = g->add_initializer();
        *t = v;
        t->set_name(in.name());
        g->mutable_input()->DeleteSubrange(i, 1);
        bound.insert(name);
    }
    for (const auto &kv : values)
        if (!bound.count(kv.first))
            fail(ErrorKind::kUsage, "--constant-input: the model has no input '" + kv.first + "'");
    // Drop the initializers cleared above (their replacement was appended).
    auto *inits = g->mutable_initializer();
    for (int i = inits->size() - 1; i >= 0; --i)
        if (inits->Get(i).name().empty()) inits->DeleteSubrange(i, 1);
}

}  // namespace mtia::compiler
