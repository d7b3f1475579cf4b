// SPDX-License-Identifier: MIT
// gRPC messages <-> the request path, status codes (serve_grpc_codec.h).
#include "serve_grpc_codec.h"

#include <cstring>
#include <stdexcept>

namespace mtia_serve {

namespace {

std::invalid_argument bad_input(const Tensor &t, const std::string &what)
{
    return std::invalid_argument("input '" + t.name + "': " + what);
}

// Copies n elements of a repeated field whose element type is the tensor's.
template <typename Field>
void copy_same(const Field &f, Tensor &t, size_t n)
{
    if (n) std::memcpy(t.data.data(), f.data(), n * sizeof(f.Get(0)));
}

// Narrows each element of f into t's type, range-checked as REST data is.
template <typename T, typename Field>
void copy_narrow(const Field &f, Tensor &t, int64_t lo, int64_t hi)
{
    for (int i = 0; i < f.size(); i++) {
        const int64_t v = static_cast<int64_t>(f.Get(i));
        if (v < lo || v > hi)
            throw bad_input(t, std::string("a ") + datatype_name(t.dtype) + " element is out of range");
        const T x = static_cast<T>(v);
        std::memcpy(t.data.data() + i * sizeof(T), &x, sizeof(T));
    }
}

// t.data from the typed contents field its datatype travels in.
void from_contents(const inference::InferTensorContents &c, Tensor &t)
{
    const size_t n = tensor_bytes(t) / mtia::dtype_size(t.dtype);
    // Allocates only once the field holds that many elements: the shape
    // alone may claim gigabytes.
    auto count = [&](int have, const char *field) {
        if (static_cast<size_t>(have) != n)
            throw bad_input(t, std::string(field) + " has " + std::to_string(have) + " elements, the shape says " +
                                   std::to_string(n));
        t.data.assign(n * mtia::dtype_size(t.dtype), 0);
    };
    switch (t.dtype) {
        case mtia::DType::F32:
            count(c.fp32_contents_size(), "fp32_contents");
            return copy_same(c.fp32_contents(), t, n);
        case mtia::DType::I64:
            count(c.int64_contents_size(), "int64_contents");
            return copy_same(c.int64_contents(), t, n);
        case mtia::DType::I32:
            count(c.int_contents_size(), "int_contents");
            return copy_same(c.int_contents(), t, n);
        case mtia::DType::I8:
            count(c.int_contents_size(), "int_contents");
            return copy_narrow<int8_t>(c.int_contents(), t, -128, 127);
        case mtia::DType::U8:
            count(c.uint_contents_size(), "uint_contents");
            return copy_narrow<uint8_t>(c.uint_contents(), t, 0, 255);
        case mtia::DType::Bool:
            count(c.bool_contents_size(), "bool_contents");
            return copy_narrow<uint8_t>(c.bool_contents(), t, 0, 1);
        case mtia::DType::F16:
        case mtia::DType::BF16:
            break;
    }
    throw bad_input(t, std::string(datatype_name(t.dtype)) + " data travels only in raw_input_contents");
}

// Appends n elements of t to a repeated field of its own element type.
template <typename Field>
void append_same(const Tensor &t, Field *f, size_t n)
{
    f->Resize(static_cast<int>(n), {});
    if (n) std::memcpy(f->mutable_data(), t.data.data(), t.data.size());
}

// Appends each element of t (of type T) to a wider repeated field.
template <typename T, typename Field>
void append_wide(const Tensor &t, Field *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        T x;
        std::memcpy(&x, t.data.data() + i * sizeof(T), sizeof(T));
        f->Add(x);
    }
}

// t's elements into the typed contents field of its datatype (not FP16/BF16).
void to_contents(const Tensor &t, inference::InferTensorContents *c)
{
    const size_t n = t.data.size() / mtia::dtype_size(t.dtype);
    switch (t.dtype) {
        case mtia::DType::F32:
            return append_same(t, c->mutable_fp32_contents(), n);
        case mtia::DType::I64:
            return append_same(t, c->mutable_int64_contents(), n);
        case mtia::DType::I32:
            return append_same(t, c->mutable_int_contents(), n);
        case mtia::DType::I8:
            return append_wide<int8_t>(t, c->mutable_int_contents(), n);
        case mtia::DType::U8:
            return append_wide<uint8_t>(t, c->mutable_uint_contents(), n);
        case mtia::DType::Bool:
            return append_wide<uint8_t>(t, c->mutable_bool_contents(), n);
        case mtia::DType::F16:
        case mtia::DType::BF16:
            break;
    }
}

bool raw_only(mtia::DType t) { return t == mtia::DType::F16 || t == mtia::DType::BF16; }

void add_tensors(const nlohmann::json &ts,
                 google::protobuf::RepeatedPtrField<inference::ModelMetadataResponse::TensorMetadata> *out)
{
    for (const auto &t : ts) {
        auto *m = out->Add();
        m->set_name(t["name"].get<std::string>());
        m->set_datatype(t["datatype"].get<std::string>());
        for (const auto &d : t["shape"]) m->add_shape(d.get<int64_t>());
    }
}

}  // namespace

grpc::StatusCode grpc_code(Status s)
{
    switch (s) {
        case Status::Ok:
            return grpc::StatusCode::OK;
        case Status::BadRequest:
            return grpc::StatusCode::INVALID_ARGUMENT;
        case Status::NotFound:
            return grpc::StatusCode::NOT_FOUND;
        case Status::Full:
            return grpc::StatusCode::RESOURCE_EXHAUSTED;
        case Status::Unavailable:
            return grpc::StatusCode::UNAVAILABLE;
        case Status::Timeout:
            return grpc::StatusCode::DEADLINE_EXCEEDED;
        case Status::Internal:
            break;
    }
    return grpc::StatusCode::INTERNAL;
}

void decode_infer(const inference::ModelInferRequest &req, InferCall &call)
{
    const bool raw = req.raw_input_contents_size() > 0;
    if (raw && req.raw_input_contents_size() != req.inputs_size())
        throw std::invalid_argument("raw_input_contents holds " + std::to_string(req.raw_input_contents_size()) +
                                    " tensors, the request has " + std::to_string(req.inputs_size()) + " inputs");
    for (int i = 0; i < req.inputs_size(); i++) {
        const auto &in = req.inputs(i);
        if (in.name().empty()) throw std::invalid_argument("an input has no 'name'");
        Tensor t;
        t.name = in.name();
        if (!parse_datatype(in.datatype(), &t.dtype)) throw bad_input(t, "missing or unsupported 'datatype'");
        for (int64_t d : in.shape()) {
            if (d < 0) throw bad_input(t, "'shape' holds a negative dim");
            t.shape.push_back(d);
        }
        if (raw) {
            if (in.has_contents()) throw bad_input(t, "contents given as well as raw_input_contents");
            const std::string &b = req.raw_input_contents(i);
            const size_t want = tensor_bytes(t);
            if (b.size() != want)
                throw bad_input(t, "raw_input_contents holds " + std::to_string(b.size()) + " bytes, its shape and " +
                                       "datatype take " + std::to_string(want));
            t.data.assign(b.begin(), b.end());
        } else {
            from_contents(in.contents(), t);
        }
        call.inputs.push_back(std::move(t));
    }
    for (const auto &o : req.outputs()) call.outputs.push_back(o.name());
    const auto it = req.parameters().find("timeout");
    if (it != req.parameters().end()) {
        if (it->second.parameter_choice_case() != inference::InferParameter::kInt64Param ||
            it->second.int64_param() < 0)
            throw std::invalid_argument("'timeout' is not microseconds");
        call.timeout_us = static_cast<uint64_t>(it->second.int64_param());
    }
}

void encode_infer(const inference::ModelInferRequest &req, const InferResult &r, inference::ModelInferResponse *res)
{
    res->set_model_name(r.model);
    res->set_model_version(std::to_string(r.version));
    res->set_id(req.id());
    bool raw = req.raw_input_contents_size() > 0;
    for (const auto &t : r.outputs) raw |= raw_only(t.dtype);
    for (const auto &t : r.outputs) {
        auto *o = res->add_outputs();
        o->set_name(t.name);
        o->set_datatype(datatype_name(t.dtype));
        for (int64_t d : t.shape) o->add_shape(d);
        if (raw)
            res->add_raw_output_contents(t.data.data(), t.data.size());
        else
            to_contents(t, o->mutable_contents());
    }
}

void encode_metadata(const nlohmann::json &meta, inference::ModelMetadataResponse *res)
{
    res->set_name(meta["name"].get<std::string>());
    for (const auto &v : meta["versions"]) res->add_versions(v.get<std::string>());
    res->set_platform(meta["platform"].get<std::string>());
    add_tensors(meta["inputs"], res->mutable_inputs());
    add_tensors(meta["outputs"], res->mutable_outputs());
}

void encode_index(const nlohmann::json &index, inference::RepositoryIndexResponse *res)
{
    for (const auto &e : index) {
        auto *m = res->add_models();
        m->set_name(e["name"].get<std::string>());
        if (e.contains("version")) m->set_version(e["version"].get<std::string>());
        m->set_state(e["state"].get<std::string>());
        m->set_reason(e.value("reason", ""));
    }
}

namespace {

void encode_duration(const nlohmann::json &j, inference::StatisticDuration *d)
{
    d->set_count(j["count"].get<uint64_t>());
    d->set_ns(j["ns"].get<uint64_t>());
}

}  // namespace

void encode_statistics(const nlohmann::json &stats, inference::ModelStatisticsResponse *res)
{
    for (const auto &j : stats["model_stats"]) {
        auto *m = res->add_model_stats();
        m->set_name(j["name"].get<std::string>());
        m->set_version(j["version"].get<std::string>());
        m->set_last_inference(j["last_inference"].get<uint64_t>());
        m->set_inference_count(j["inference_count"].get<uint64_t>());
        m->set_execution_count(j["execution_count"].get<uint64_t>());
        const auto &in = j["inference_stats"];
        auto *is = m->mutable_inference_stats();
        encode_duration(in["success"], is->mutable_success());
        encode_duration(in["fail"], is->mutable_fail());
        encode_duration(in["queue"], is->mutable_queue());
        encode_duration(in["compute_input"], is->mutable_compute_input());
        encode_duration(in["compute_infer"], is->mutable_compute_infer());
        encode_duration(in["compute_output"], is->mutable_compute_output());
        for (const auto &b : j["batch_stats"]) {
            auto *bs = m->add_batch_stats();
            bs->set_batch_size(b["batch_size"].get<uint64_t>());
            encode_duration(b["compute_input"], bs->mutable_compute_input());
            encode_duration(b["compute_infer"], bs->mutable_compute_infer());
            encode_duration(b["compute_output"], bs->mutable_compute_output());
        }
    }
}

Clock::time_point steady_deadline(std::chrono::system_clock::time_point deadline)
{
    const auto left = deadline - std::chrono::system_clock::now();
    // gRPC's "no deadline" is the clock's max; a year is as good as none.
    if (left > std::chrono::hours(24 * 365)) return Clock::time_point::max();
    return Clock::now() + std::chrono::duration_cast<Clock::duration>(left);
}

}  // namespace mtia_serve
