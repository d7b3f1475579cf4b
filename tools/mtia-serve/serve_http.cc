// SPDX-License-Identifier: MIT
// HTTP/REST endpoints (serve_http.h). Binary tensor data (Triton's extension):
// the request's JSON is the body's first Inference-Header-Content-Length
// bytes, each input with parameters.binary_data_size takes that many bytes
// of the rest in input order; outputs asked for with parameters.binary_data
// (or the request's binary_data_output) are appended the same way to the
// response, whose header then carries the JSON's length.
#include "serve_http.h"

#include "serve_metrics_http.h"
#include "serve_stats.h"

#include <chrono>
#include <stdexcept>

namespace mtia_serve {

namespace {

const char *kJson = "application/json";

int http_status(Status s)
{
    switch (s) {
        case Status::Ok:
            return 200;
        case Status::BadRequest:
            return 400;
        case Status::NotFound:
            return 404;
        case Status::Full:
            return 429;
        case Status::Unavailable:
            return 503;
        case Status::Timeout:
            return 504;
        case Status::Internal:
            break;
    }
    return 500;
}

void error(httplib::Response &res, int status, const std::string &msg)
{
    res.status = status;
    res.set_content(nlohmann::json{{"error", msg}}.dump(), kJson);
}

// The version in match group `group`: 0 if absent, -1 if not a version number.
int64_t version_of(const httplib::Match &m, size_t group)
{
    return m.size() <= group || !m[group].matched ? 0 : parse_version(m[group].str());
}

bool bool_param(const nlohmann::json &obj, const char *key)
{
    if (!obj.is_object() || !obj.contains("parameters") || !obj["parameters"].is_object()) return false;
    const auto &p = obj["parameters"];
    return p.contains(key) && p[key].is_boolean() && p[key].get<bool>();
}

// The request's tensors from its JSON (and binary section); throws
// std::invalid_argument for anything malformed.
std::vector<Tensor> parse_inputs(const nlohmann::json &j, const std::string &binary)
{
    if (!j.is_object() || !j.contains("inputs") || !j["inputs"].is_array())
        throw std::invalid_argument("the request has no 'inputs' array");
    std::vector<Tensor> out;
    size_t at = 0;
    for (const auto &in : j["inputs"]) {
        if (!in.is_object() || !in.contains("name") || !in["name"].is_string())
            throw std::invalid_argument("an input has no 'name'");
        Tensor t;
        t.name = in["name"].get<std::string>();
        const std::string what = "input '" + t.name + "': ";
        if (!in.contains("datatype") || !in["datatype"].is_string() ||
            !parse_datatype(in["datatype"].get<std::string>(), &t.dtype))
            throw std::invalid_argument(what + "missing or unsupported 'datatype'");
        if (!in.contains("shape") || !in["shape"].is_array()) throw std::invalid_argument(what + "no 'shape' array");
        for (const auto &d : in["shape"]) {
            if (!d.is_number_integer() || d.get<int64_t>() < 0)
                throw std::invalid_argument(what + "'shape' holds a non-integer or negative dim");
            t.shape.push_back(d.get<int64_t>());
        }
        const size_t bytes = tensor_bytes(t);
        const auto &params = in.contains("parameters") ? in["parameters"] : nlohmann::json::object();
        if (params.is_object() && params.contains("binary_data_size")) {
            const auto &b = params["binary_data_size"];
            if (!b.is_number_unsigned() || b.get<uint64_t>() != bytes)
                throw std::invalid_argument(what + "'binary_data_size' is not the " + std::to_string(bytes) +
                                            " bytes its shape and datatype take");
            if (binary.size() - at < bytes)
                throw std::invalid_argument(what + "the binary data is shorter than 'binary_data_size'");
            t.data.assign(binary.begin() + at, binary.begin() + at + bytes);
            at += bytes;
        } else if (in.contains("data")) {
            tensor_data_from_json(in["data"], t);
        } else {
            throw std::invalid_argument(what + "neither 'data' nor 'binary_data_size'");
        }
        out.push_back(std::move(t));
    }
    if (at != binary.size()) throw std::invalid_argument("binary data left over after the inputs");
    return out;
}

// The JSON header and binary section of req, decoded into call; throws
// std::invalid_argument for anything malformed. binary: whether each output
// goes back as binary data (the requested ones in order, or every one).
void decode(const httplib::Request &req, nlohmann::json &j, InferCall &call, std::vector<bool> &binary)
{
    size_t json_len = req.body.size();
    if (req.has_header("Inference-Header-Content-Length")) {
        const std::string h = req.get_header_value("Inference-Header-Content-Length");
        char *end = nullptr;
        const unsigned long long n = std::strtoull(h.c_str(), &end, 10);
        if (h.empty() || *end || n > req.body.size())
            throw std::invalid_argument("bad Inference-Header-Content-Length");
        json_len = n;
    }
    j = nlohmann::json::parse(req.body.begin(), req.body.begin() + json_len, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw std::invalid_argument("malformed JSON request");
    call.inputs = parse_inputs(j, req.body.substr(json_len));
    const bool all_binary = bool_param(j, "binary_data_output");
    if (j.contains("outputs")) {
        if (!j["outputs"].is_array()) throw std::invalid_argument("'outputs' is not an array");
        for (const auto &o : j["outputs"]) {
            if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
                throw std::invalid_argument("an output has no 'name'");
            call.outputs.push_back(o["name"].get<std::string>());
            binary.push_back(all_binary || bool_param(o, "binary_data"));
        }
    }
    if (call.outputs.empty()) binary.push_back(all_binary);  // every output alike
    if (j.contains("parameters") && j["parameters"].is_object() && j["parameters"].contains("timeout")) {
        const auto &t = j["parameters"]["timeout"];
        if (!t.is_number_unsigned()) throw std::invalid_argument("'timeout' is not microseconds");
        call.timeout_us = t.get<uint64_t>();
    }
}

}  // namespace

HttpFrontend::HttpFrontend(Repository &repo, Metrics &metrics, int threads)
    : repo_(repo), metrics_(metrics), path_(repo, metrics)
{
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    // httplib's defaults (5 requests per connection, 5 s timeouts) close
    // busy keep-alive clients under load; a request may wait in a queue.
    server_.set_keep_alive_max_count(1u << 20);
    server_.set_keep_alive_timeout(30);
    server_.set_read_timeout(60);
    server_.set_write_timeout(60);
    routes();
}

bool HttpFrontend::bind(const std::string &host, int port) { return server_.bind_to_port(host.c_str(), port); }

void HttpFrontend::serve() { server_.listen_after_bind(); }

void HttpFrontend::routes()
{
    server_.Get("/v2/health/live", [](const httplib::Request &, httplib::Response &res) { res.status = 200; });
    server_.Get("/v2/health/ready", [this](const httplib::Request &, httplib::Response &res) {
        res.status = path_.draining() ? 503 : 200;
    });
    server_.Get("/v2", [](const httplib::Request &, httplib::Response &res) {
        res.set_content(
            nlohmann::json{{"name", kServerName}, {"version", MTIA_SERVE_VERSION}, {"extensions", server_extensions()}}
                .dump(),
            kJson);
    });
    server_.Get(R"(/v2/models/([^/]+)(?:/versions/([0-9]+))?/ready)",
                [this](const httplib::Request &req, httplib::Response &res) {
                    Status s;
                    std::string err;
                    const int64_t v = version_of(req.matches, 2);
                    if (v < 0) return error(res, 400, "bad version");
                    if (!repo_.find(req.matches[1], v, s, err)) return error(res, http_status(s), err);
                    res.status = path_.draining() ? 503 : 200;
                });
    // Statistics (serve_stats.h): before the metadata route, which would
    // take "stats" for a model name.
    server_.Get(R"(/v2/models(?:/([^/]+)(?:/versions/([^/]+))?)?/stats)",
                [this](const httplib::Request &req, httplib::Response &res) {
                    nlohmann::json out;
                    std::string err;
                    const std::string model = req.matches[1].matched ? req.matches[1].str() : "";
                    const std::string version = req.matches[2].matched ? req.matches[2].str() : "";
                    const Status s = model_statistics(repo_, metrics_, model, version, out, err);
                    if (s != Status::Ok) return error(res, http_status(s), err);
                    res.set_content(out.dump(), kJson);
                });
    server_.Get(R"(/v2/models/([^/]+)(?:/versions/([0-9]+))?)",
                [this](const httplib::Request &req, httplib::Response &res) {
                    Status s;
                    std::string err;
                    const int64_t v = version_of(req.matches, 2);
                    if (v < 0) return error(res, 400, "bad version");
                    VersionPtr m = repo_.find(req.matches[1], v, s, err);
                    if (!m) return error(res, http_status(s), err);
                    res.set_content(m->metadata(repo_.versions(m->name())).dump(), kJson);
                });
    server_.Post(R"(/v2/models/([^/]+)(?:/versions/([0-9]+))?/infer)",
                 [this](const httplib::Request &req, httplib::Response &res) {
                     const int64_t v = version_of(req.matches, 2);
                     if (v < 0) return error(res, 400, "bad version");
                     infer(req, res, req.matches[1], v);
                 });
    server_.Post("/v2/repository/index", [this](const httplib::Request &req, httplib::Response &res) {
        bool ready = false;
        if (!req.body.empty()) {
            const auto j = nlohmann::json::parse(req.body, nullptr, false);
            if (j.is_discarded() || !j.is_object()) return error(res, 400, "malformed JSON");
            ready = j.contains("ready") && j["ready"].is_boolean() && j["ready"].get<bool>();
        }
        res.set_content(repo_.index(ready).dump(), kJson);
    });
    server_.Post(R"(/v2/repository/models/([^/]+)/(load|unload))", [this](const httplib::Request &req,
                                                                          httplib::Response &res) {
        if (path_.draining()) return error(res, 503, "the server is shutting down");
        std::string err;
        const Status s = req.matches[2] == "load" ? repo_.load(req.matches[1], err) : repo_.unload(req.matches[1], err);
        if (s != Status::Ok) return error(res, http_status(s), err);
        res.status = 200;
    });
    server_.Get("/metrics", [this](const httplib::Request &, httplib::Response &res) { serve_metrics(metrics_, res); });
}

void HttpFrontend::infer(const httplib::Request &req, httplib::Response &res, const std::string &model, int64_t version)
{
    nlohmann::json j;
    std::vector<bool> binary;
    const InferResult r =
        path_.infer(model, version, Clock::time_point::max(), [&](InferCall &call) { decode(req, j, call, binary); });
    if (r.status != Status::Ok) return error(res, http_status(r.status), r.error);

    nlohmann::json out = {
        {"model_name", r.model}, {"model_version", std::to_string(r.version)}, {"outputs", nlohmann::json::array()}};
    if (j.contains("id")) out["id"] = j["id"];
    std::string data;
    for (size_t i = 0; i < r.outputs.size(); i++) {
        const Tensor &t = r.outputs[i];
        nlohmann::json o = {{"name", t.name}, {"datatype", datatype_name(t.dtype)}, {"shape", t.shape}};
        if (i < binary.size() ? binary[i] : binary.back()) {
            o["parameters"] = {{"binary_data_size", t.data.size()}};
            data.append(t.data.begin(), t.data.end());
        } else {
            o["data"] = tensor_data_to_json(t);
        }
        out["outputs"].push_back(std::move(o));
    }
    const std::string header = out.dump();
    if (data.empty()) {
        res.set_content(header, kJson);
    } else {
        res.set_header("Inference-Header-Content-Length", std::to_string(header.size()));
        res.set_content(header + data, "application/octet-stream");
    }
}

}  // namespace mtia_serve
