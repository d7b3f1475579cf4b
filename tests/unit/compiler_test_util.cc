// SPDX-License-Identifier: MIT
#include "compiler_test_util.h"

#include <cmath>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <sys/stat.h>

#include <gtest/gtest.h>
#include <zlib.h>

#include "model_loader.h"
#include "mtia_compute.h"
#include "npy.h"

namespace mtia::compiler::testing {

OnnxBuilder::OnnxBuilder(int opset)
{
    m_.set_ir_version(8);
    m_.set_producer_name("compiler_tests");
    auto *o = m_.add_opset_import();
    o->set_domain("");
    o->set_version(opset);
    m_.mutable_graph()->set_name("test");
}

OnnxBuilder &OnnxBuilder::input(const std::string &name, const std::vector<int64_t> &shape, int32_t dtype)
{
    auto *vi = m_.mutable_graph()->add_input();
    vi->set_name(name);
    auto *tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(dtype);
    auto *s = tt->mutable_shape();
    for (int64_t d : shape) {
        if (d < 0)
            s->add_dim()->set_dim_param("N");
        else
            s->add_dim()->set_dim_value(d);
    }
    return *this;
}

OnnxBuilder &OnnxBuilder::output(const std::string &name)
{
    auto *vi = m_.mutable_graph()->add_output();
    vi->set_name(name);
    vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
    return *this;
}

OnnxBuilder &OnnxBuilder::init(const std::string &name, const std::vector<int64_t> &shape, const std::vector<float> &v)
{
    auto *t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : shape) t->add_dims(d);
    for (float x : v) t->add_float_data(x);
    return *this;
}

OnnxBuilder &OnnxBuilder::init_i64(const std::string &name, const std::vector<int64_t> &shape,
                                   const std::vector<int64_t> &v)
{
    auto *t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    for (int64_t d : shape) t->add_dims(d);
    for (int64_t x : v) t->add_int64_data(x);
    return *this;
}

OnnxBuilder &OnnxBuilder::init_int(const std::string &name, const std::vector<int64_t> &shape,
                                   const std::vector<int32_t> &v, int32_t dtype)
{
    auto *t = m_.mutable_graph()->add_initializer();
    t->set_name(name);
    t->set_data_type(dtype);
    for (int64_t d : shape) t->add_dims(d);
    for (int32_t x : v) t->add_int32_data(x);
    return *this;
}

OnnxBuilder &OnnxBuilder::init_rand(const std::string &name, const std::vector<int64_t> &shape)
{
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    return init(name, shape, random_floats(n, static_cast<uint32_t>(std::hash<std::string>()(name))));
}

onnx::NodeProto &OnnxBuilder::node(const std::string &op, const std::vector<std::string> &in,
                                   const std::vector<std::string> &out, const std::string &name)
{
    auto *n = m_.mutable_graph()->add_node();
    n->set_op_type(op);
    n->set_name(name.empty() ? op + "_" + std::to_string(m_.graph().node_size()) : name);
    for (const auto &i : in) n->add_input(i);
    for (const auto &o : out) n->add_output(o);
    return *n;
}

static onnx::AttributeProto *new_attr(onnx::NodeProto &n, const std::string &name,
                                      onnx::AttributeProto::AttributeType t)
{
    auto *a = n.add_attribute();
    a->set_name(name);
    a->set_type(t);
    return a;
}
void attr(onnx::NodeProto &n, const std::string &name, int64_t v)
{
    new_attr(n, name, onnx::AttributeProto::INT)->set_i(v);
}
void attr(onnx::NodeProto &n, const std::string &name, float v)
{
    new_attr(n, name, onnx::AttributeProto::FLOAT)->set_f(v);
}
void attr(onnx::NodeProto &n, const std::string &name, const std::vector<int64_t> &v)
{
    auto *a = new_attr(n, name, onnx::AttributeProto::INTS);
    for (int64_t x : v) a->add_ints(x);
}
void attr(onnx::NodeProto &n, const std::string &name, const std::string &v)
{
    new_attr(n, name, onnx::AttributeProto::STRING)->set_s(v);
}

std::vector<float> random_floats(size_t n, uint32_t seed)
{
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::vector<float> v(n);
    for (auto &x : v) x = u(rng);
    return v;
}

Array load_npy(const std::string &path)
{
    mtia::run::NpyArray n = mtia::run::read_npy(path);
    // Integer arrays (ids) keep their bytes, in floats' storage (ids_input).
    std::vector<float> v((n.data.size() + 3) / 4);
    std::memcpy(v.data(), n.data.data(), n.data.size());
    return {std::vector<int64_t>(n.shape.begin(), n.shape.end()), std::move(v)};
}

std::vector<float> ids_input(const std::vector<int64_t> &ids)
{
    std::vector<float> v(ids.size() * 2);
    std::memcpy(v.data(), ids.data(), ids.size() * 8);
    return v;
}

std::string models_dir()
{
    const char *env = std::getenv("MTIA_TEST_MODELS");
    std::string dir = env && *env ? env : MTIA_TEST_MODELS_DIR;
    struct stat st;
    return stat((dir + "/manifest.json").c_str(), &st) == 0 ? dir : "";
}

namespace {

void put16(std::string &s, uint32_t v)
{
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>(v >> 8 & 0xff);
}
void put32(std::string &s, uint32_t v)
{
    put16(s, v & 0xffff);
    put16(s, v >> 16);
}

std::string raw_deflate(const std::string &in)
{
    z_stream z{};
    EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
    std::string out(deflateBound(&z, in.size()), '\0');
    z.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    z.next_out = reinterpret_cast<Bytef *>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
    out.resize(z.total_out);
    deflateEnd(&z);
    return out;
}

}  // namespace

std::string npz_bytes(const std::vector<std::pair<std::string, std::string>> &members, bool deflated)
{
    std::string body, dir;
    for (const auto &[name, data] : members) {
        const std::string packed = deflated ? raw_deflate(data) : data;
        const uint32_t crc = static_cast<uint32_t>(
            crc32(0, reinterpret_cast<const Bytef *>(data.data()), static_cast<uInt>(data.size())));
        const uint32_t at = static_cast<uint32_t>(body.size());
        put32(body, 0x04034b50);
        put16(body, 20), put16(body, 0), put16(body, deflated ? 8 : 0), put16(body, 0), put16(body, 0);
        put32(body, crc), put32(body, static_cast<uint32_t>(packed.size())),
            put32(body, static_cast<uint32_t>(data.size()));
        put16(body, static_cast<uint32_t>(name.size())), put16(body, 0);
        body += name + packed;
        put32(dir, 0x02014b50);
        put16(dir, 20), put16(dir, 20), put16(dir, 0), put16(dir, deflated ? 8 : 0), put16(dir, 0), put16(dir, 0);
        put32(dir, crc), put32(dir, static_cast<uint32_t>(packed.size())),
            put32(dir, static_cast<uint32_t>(data.size()));
        put16(dir, static_cast<uint32_t>(name.size())), put16(dir, 0), put16(dir, 0), put16(dir, 0), put16(dir, 0);
        put32(dir, 0), put32(dir, at);
        dir += name;
    }
    std::string end;
    put32(end, 0x06054b50);
    put16(end, 0), put16(end, 0), put16(end, static_cast<uint32_t>(members.size()));
    put16(end, static_cast<uint32_t>(members.size()));
    put32(end, static_cast<uint32_t>(dir.size())), put32(end, static_cast<uint32_t>(body.size())), put16(end, 0);
    return body + dir + end;
}

std::vector<std::vector<float>> run_on_host(const std::string &bytes, const std::vector<std::vector<float>> &inputs,
                                            uint64_t *device_ns, uint16_t *status)
{
    // libmtia's reader: the checks and the Op -> struct mtia_op lowering the
    // runtime applies. It wants an 8-byte aligned buffer.
    std::vector<uint64_t> aligned((bytes.size() + 7) / 8);
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    mtia::detail::ParsedModel m;
    try {
        m = mtia::detail::parse_model(aligned.data(), bytes.size());
    } catch (const std::exception &e) {
        ADD_FAILURE() << "libmtia refuses the model: " << e.what();
        return {};
    }
    std::vector<uint8_t> arena(m.arena_size, 0xA5);  // garbage: nothing may rely on zeroed memory
    std::memcpy(arena.data(), m.weights, m.weights_size);
    if (inputs.size() != m.inputs.size()) {
        ADD_FAILURE() << "model has " << m.inputs.size() << " inputs, got " << inputs.size();
        return {};
    }
    for (size_t k = 0; k < inputs.size(); ++k) {
        const auto &io = m.inputs[k];
        if (io.info.bytes != inputs[k].size() * 4) {
            ADD_FAILURE() << "input " << k << " has " << inputs[k].size() << " floats, the model wants "
                          << io.info.bytes / 4;
            return {};
        }
        std::memcpy(arena.data() + io.offset, inputs[k].data(), io.info.bytes);
    }
    uint64_t result = 0;
    uint16_t st = mtia_compute_run(m.program.data(), static_cast<uint32_t>(m.program.size()), arena.data(),
                                   arena.size(), nullptr, nullptr, &result);
    if (status) *status = st;
    if (st != MTIA_CQE_OK) {
        if (status) return {};
        ADD_FAILURE() << "mtia_compute_run status " << st << " result " << result << " ("
                      << (st == MTIA_CQE_BAD_PROGRAM && result < m.op_names.size() ? m.op_names[result] : "") << ")";
        return {};
    }
    if (device_ns) *device_ns = result;
    std::vector<std::vector<float>> outs;
    for (const auto &io : m.outputs) {
        std::vector<float> v((io.info.bytes + 3) / 4);
        std::memcpy(v.data(), arena.data() + io.offset, io.info.bytes);
        outs.push_back(std::move(v));
    }
    return outs;
}

float max_abs_diff(const std::vector<float> &a, const std::vector<float> &b)
{
    if (a.size() != b.size()) return INFINITY;
    float m = 0;
    for (size_t k = 0; k < a.size(); ++k) {
        float d = std::fabs(a[k] - b[k]);
        if (!(d <= m)) m = d;  // NaN propagates as the max
    }
    return m;
}

}  // namespace mtia::compiler::testing
