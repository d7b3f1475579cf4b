// SPDX-License-Identifier: MIT
// The shared infer request path (serve_infer.h).
#include "serve_infer.h"

#include <algorithm>
#include <stdexcept>

namespace mtia_serve {

const char *const kServerName = "mtia-serve";

const std::vector<std::string> &server_extensions()
{
    static const std::vector<std::string> e = {"binary_tensor_data", "model_repository", "statistics"};
    return e;
}

const char *status_label(Status s)
{
    switch (s) {
        case Status::Ok:
            return "success";
        case Status::BadRequest:
            return "bad_request";
        case Status::NotFound:
            return "not_found";
        case Status::Full:
            return "queue_full";
        case Status::Unavailable:
            return "unavailable";
        case Status::Timeout:
            return "timeout";
        case Status::Internal:
            break;
    }
    return "error";
}

int64_t parse_version(const std::string &text)
{
    if (text.empty()) return 0;
    if (text.size() > 18 || !std::all_of(text.begin(), text.end(), ::isdigit)) return -1;
    const int64_t v = std::stoll(text);
    return v > 0 ? v : -1;
}

Clock::time_point request_deadline(Clock::time_point start, std::optional<uint64_t> timeout_us,
                                   Clock::time_point transport_deadline)
{
    Clock::time_point d = Clock::time_point::max();
    // A timeout too large to add is no timeout.
    if (timeout_us && *timeout_us < static_cast<uint64_t>(INT64_MAX / 1000) &&
        std::chrono::microseconds(*timeout_us) < Clock::time_point::max() - start)
        d = start + std::chrono::microseconds(*timeout_us);
    return std::min(d, transport_deadline);
}

std::vector<std::string> select_outputs(const std::vector<mtia::TensorInfo> &outputs,
                                        const std::vector<std::string> &requested)
{
    std::vector<std::string> out;
    for (const auto &name : requested) {
        if (std::none_of(outputs.begin(), outputs.end(), [&](const mtia::TensorInfo &t) { return t.name == name; }))
            throw std::invalid_argument("unexpected inference output '" + name + "'");
        out.push_back(name);
    }
    if (requested.empty())
        for (const auto &t : outputs) out.push_back(t.name);
    return out;
}

Status InferPath::enqueue(VersionPtr &m, const std::string &model, int64_t version, const RequestPtr &r,
                          std::string &err)
{
    // A reload may have closed this version's queue just now: take its successor.
    Status s;
    for (int tries = 0; (s = m->queue().push(r)) == Status::Unavailable && tries < 3 && !draining_; tries++) {
        VersionPtr again = repo_.find(model, version, s, err);
        if (!again) return s;
        m = std::move(again);
    }
    if (s == Status::Full) err = "the model's queue is full";
    if (s == Status::Unavailable) err = "the model is unloading or the server is shutting down";
    return s;
}

InferResult InferPath::infer(const std::string &model, int64_t version, Clock::time_point transport_deadline,
                             const Decode &decode)
{
    const auto start = Clock::now();
    struct InFlight {
        std::atomic<int> &n;
        explicit InFlight(std::atomic<int> &c) : n(c) { n++; }
        ~InFlight() { n--; }
    } in_flight(in_flight_);
    InferResult res;
    VersionPtr m = repo_.find(model, version, res.status, res.error);
    if (!m) return res;
    res.model = m->name();
    res.version = m->version();
    RequestPtr r;
    auto finish = [&](Status st, std::string msg, double queue_s) {
        metrics_.request(res.model, std::to_string(res.version), status_label(st),
                         std::chrono::duration<double>(Clock::now() - start).count(), queue_s, r ? r->samples : 1,
                         r ? r->compute : BatchTimes{});
        res.status = st;
        res.error = std::move(msg);
        return std::move(res);
    };
    if (draining_) return finish(Status::Unavailable, "the server is shutting down", -1);

    InferCall call;
    std::vector<std::string> wanted;
    try {
        decode(call);
        wanted = select_outputs(m->outputs(), call.outputs);
    } catch (const std::invalid_argument &e) {
        return finish(Status::BadRequest, e.what(), -1);
    }
    r = std::make_shared<Request>();
    r->inputs = std::move(call.inputs);
    r->deadline = request_deadline(start, call.timeout_us, transport_deadline);
    std::string err;
    Status s = m->prepare(*r, err);
    if (s != Status::Ok) return finish(s, err, -1);
    if ((s = enqueue(m, model, version, r, err)) != Status::Ok) return finish(s, err, -1);
    res.version = m->version();
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
    for (const auto &name : wanted)
        for (const auto &t : r->outputs)
            if (t.name == name) res.outputs.push_back(t);
    succeeded_++;
    return finish(Status::Ok, "", r->queue_seconds);
}

}  // namespace mtia_serve
