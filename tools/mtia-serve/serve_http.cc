// SPDX-License-Identifier: MIT
// HTTP/REST endpoints (serve_http.h). Binary tensor data (Triton's extension):
// the request's JSON is the body's first Inference-Header-Content-Length
// bytes, each input with parameters.binary_data_size takes that many bytes
// of the rest in input order; outputs asked for with parameters.binary_data
// (or the request's binary_data_output) are appended the same way to the
// response, whose header then carries the JSON's length.
#include "serve_http.h"

#include <chrono>
#include <stdexcept>

namespace mtia_serve {

namespace {

const char *kJson = "application/json";

// Each outcome's HTTP status and its metrics label.
struct Outcome {
    Status status;
    int http;
    const char *label;
};
constexpr Outcome kOutcomes[] = {
    {Status::Ok, 200, "success"},      {Status::BadRequest, 400, "bad_request"},  {Status::NotFound, 404, "not_found"},
    {Status::Full, 429, "queue_full"}, {Status::Unavailable, 503, "unavailable"}, {Status::Timeout, 504, "timeout"},
    {Status::Internal, 500, "error"},
};

const Outcome &outcome(Status s)
{
    for (const auto &o : kOutcomes)
        if (o.status == s) return o;
    return kOutcomes[6];
}

int http_status(Status s) { return outcome(s).http; }

const char *status_label(Status s) { return outcome(s).label; }

void error(httplib::Response &res, int status, const std::string &msg)
{
    res.status = status;
    res.set_content(nlohmann::json{{"error", msg}}.dump(), kJson);
}

// 0 for an absent version ("the latest"), -1 if not a version number.
int64_t parse_version(const httplib::Match &m, size_t group)
{
    if (m.size() <= group || !m[group].matched || m[group].length() == 0) return 0;
    const std::string s = m[group].str();
    if (s.size() > 18) return -1;
    const int64_t v = std::stoll(s);
    return v > 0 ? v : -1;
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
        const int64_t n = element_count(t.shape);
        if (n < 0 || n > (int64_t(1) << 32)) throw std::invalid_argument(what + "'shape' is too large");
        const size_t bytes = static_cast<size_t>(n) * mtia::dtype_size(t.dtype);
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

}  // namespace

HttpFrontend::HttpFrontend(Repository &repo, Metrics &metrics, int threads) : repo_(repo), metrics_(metrics)
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
    server_.Get("/v2/health/ready",
                [this](const httplib::Request &, httplib::Response &res) { res.status = draining_ ? 503 : 200; });
    server_.Get("/v2", [](const httplib::Request &, httplib::Response &res) {
        res.set_content(nlohmann::json{{"name", "mtia-serve"},
                                       {"version", MTIA_SERVE_VERSION},
                                       {"extensions", {"binary_tensor_data", "model_repository", "statistics"}}}
                            .dump(),
                        kJson);
    });
    server_.Get(R"(/v2/models/([^/]+)(?:/versions/([0-9]+))?/ready)",
                [this](const httplib::Request &req, httplib::Response &res) {
                    Status s;
                    std::string err;
                    const int64_t v = parse_version(req.matches, 2);
                    if (v < 0) return error(res, 400, "bad version");
                    if (!repo_.find(req.matches[1], v, s, err)) return error(res, http_status(s), err);
                    res.status = draining_ ? 503 : 200;
                });
    server_.Get(R"(/v2/models/([^/]+)(?:/versions/([0-9]+))?)",
                [this](const httplib::Request &req, httplib::Response &res) {
                    Status s;
                    std::string err;
                    const int64_t v = parse_version(req.matches, 2);
                    if (v < 0) return error(res, 400, "bad version");
                    VersionPtr m = repo_.find(req.matches[1], v, s, err);
                    if (!m) return error(res, http_status(s), err);
                    res.set_content(m->metadata(repo_.versions(m->name())).dump(), kJson);
                });
    server_.Post(R"(/v2/models/([^/]+)(?:/versions/([0-9]+))?/infer)",
                 [this](const httplib::Request &req, httplib::Response &res) {
                     const int64_t v = parse_version(req.matches, 2);
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
        if (draining_) return error(res, 503, "the server is shutting down");
        std::string err;
        const Status s = req.matches[2] == "load" ? repo_.load(req.matches[1], err) : repo_.unload(req.matches[1], err);
        if (s != Status::Ok) return error(res, http_status(s), err);
        res.status = 200;
    });
    server_.Get("/metrics", [this](const httplib::Request &, httplib::Response &res) {
        res.set_content(metrics_.render(), "text/plain; version=0.0.4");
    });
}

void HttpFrontend::infer(const httplib::Request &req, httplib::Response &res, const std::string &model, int64_t version)
{
    const auto start = Clock::now();
    struct InFlight {
        std::atomic<int> &n;
        explicit InFlight(std::atomic<int> &c) : n(c) { n++; }
        ~InFlight() { n--; }
    } in_flight(in_flight_);
    Status s = Status::Ok;
    std::string err;
    VersionPtr m = repo_.find(model, version, s, err);
    if (!m) return error(res, http_status(s), err);
    const std::string vname = std::to_string(m->version());
    auto finish = [&](Status st, const std::string &msg, double queue_s) {
        metrics_.request(m->name(), vname, status_label(st),
                         std::chrono::duration<double>(Clock::now() - start).count(), queue_s);
        if (st != Status::Ok) error(res, http_status(st), msg);
    };
    if (draining_) return finish(Status::Unavailable, "the server is shutting down", -1);

    // The JSON header, and the binary section after it.
    size_t json_len = req.body.size();
    if (req.has_header("Inference-Header-Content-Length")) {
        const std::string h = req.get_header_value("Inference-Header-Content-Length");
        char *end = nullptr;
        const unsigned long long n = std::strtoull(h.c_str(), &end, 10);
        if (h.empty() || *end || n > req.body.size())
            return finish(Status::BadRequest, "bad Inference-Header-Content-Length", -1);
        json_len = n;
    }
    const nlohmann::json j = nlohmann::json::parse(req.body.begin(), req.body.begin() + json_len, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return finish(Status::BadRequest, "malformed JSON request", -1);

    auto r = std::make_shared<Request>();
    try {
        r->inputs = parse_inputs(j, req.body.substr(json_len));
    } catch (const std::exception &e) {
        return finish(Status::BadRequest, e.what(), -1);
    }
    // Requested outputs (all if none), and which go binary.
    const bool all_binary = j.contains("parameters") && bool_param(j, "binary_data_output");
    std::vector<std::pair<std::string, bool>> wanted;
    if (j.contains("outputs")) {
        if (!j["outputs"].is_array()) return finish(Status::BadRequest, "'outputs' is not an array", -1);
        for (const auto &o : j["outputs"]) {
            if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
                return finish(Status::BadRequest, "an output has no 'name'", -1);
            const std::string name = o["name"].get<std::string>();
            bool known = false;
            for (const auto &t : m->outputs()) known |= t.name == name;
            if (!known) return finish(Status::BadRequest, "unexpected inference output '" + name + "'", -1);
            wanted.emplace_back(name, all_binary || bool_param(o, "binary_data"));
        }
    } else {
        for (const auto &t : m->outputs()) wanted.emplace_back(t.name, all_binary);
    }
    if (j.contains("parameters") && j["parameters"].is_object() && j["parameters"].contains("timeout")) {
        const auto &t = j["parameters"]["timeout"];
        if (!t.is_number_unsigned()) return finish(Status::BadRequest, "'timeout' is not microseconds", -1);
        r->deadline = start + std::chrono::microseconds(t.get<uint64_t>());
    }
    if ((s = m->prepare(*r, err)) != Status::Ok) return finish(s, err, -1);

    // Queue it; a reload may have closed this version's queue just now.
    for (int tries = 0; (s = m->queue().push(r)) == Status::Unavailable && tries < 3 && !draining_; tries++) {
        VersionPtr again = repo_.find(model, version, s, err);
        if (!again) return finish(s, err, -1);
        m = std::move(again);
    }
    if (s == Status::Full) return finish(s, "the model's queue is full", -1);
    if (s != Status::Ok) return finish(s, "the model is unloading or the server is shutting down", -1);
    accepted_++;
    if (r->deadline != Clock::time_point::max() && r->finished.wait_until(r->deadline) == std::future_status::timeout &&
        m->queue().cancel(r)) {
        answered_++;
        return finish(Status::Timeout, "request timed out in the queue", -1);
    }
    r->finished.wait();
    answered_++;
    if (r->status != Status::Ok)
        return finish(r->status, r->error, r->status == Status::Timeout ? -1 : r->queue_seconds);

    nlohmann::json out = {{"model_name", m->name()}, {"model_version", vname}, {"outputs", nlohmann::json::array()}};
    if (j.contains("id")) out["id"] = j["id"];
    std::string binary;
    for (const auto &[name, bin] : wanted)
        for (const auto &t : r->outputs) {
            if (t.name != name) continue;
            nlohmann::json o = {{"name", t.name}, {"datatype", datatype_name(t.dtype)}, {"shape", t.shape}};
            if (bin) {
                o["parameters"] = {{"binary_data_size", t.data.size()}};
                binary.append(t.data.begin(), t.data.end());
            } else {
                o["data"] = tensor_data_to_json(t);
            }
            out["outputs"].push_back(std::move(o));
        }
    const std::string header = out.dump();
    if (binary.empty()) {
        res.set_content(header, kJson);
    } else {
        res.set_header("Inference-Header-Content-Length", std::to_string(header.size()));
        res.set_content(header + binary, "application/octet-stream");
    }
    succeeded_++;
    finish(Status::Ok, "", r->queue_seconds);
}

}  // namespace mtia_serve
