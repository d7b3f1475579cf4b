// SPDX-License-Identifier: MIT
// The request path both front ends (serve_http: REST, serve_grpc: gRPC)
// share: one infer request from the model lookup to its outputs. A front end
// decodes its protocol's message into an InferCall (tensors, requested
// outputs, timeout); the path looks the model up, validates (the same error
// texts whatever the protocol), queues the request on the model's batcher
// (full queue: at once), waits for its batch or its deadline (the request's
// timeout or the transport's, whichever is sooner), records the metrics and
// hands back an InferResult for the front end to encode. Each front end
// owns one InferPath: its draining flag and its drain counts.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "serve_batcher.h"
#include "serve_metrics.h"
#include "serve_repository.h"

namespace mtia_serve {

/// The server's name and protocol extensions (server metadata, both protocols).
extern const char *const kServerName;
const std::vector<std::string> &server_extensions();

/// The metrics label of an outcome ("success", "queue_full", ...).
const char *status_label(Status s);
/// A version as the protocols carry it ("" or "3"): 0 for none (the latest
/// loaded), -1 if it is not a positive number.
int64_t parse_version(const std::string &text);

/// What a front end decoded from one infer request.
struct InferCall {
    std::vector<Tensor> inputs;          ///< any order; validated by the path
    std::vector<std::string> outputs;    ///< requested names; empty: every output
    std::optional<uint64_t> timeout_us;  ///< the request's "timeout" parameter
};

/// How one infer request ended.
struct InferResult {
    Status status = Status::Ok;
    std::string error;
    std::string model;            ///< the model that ran ("" if none was found)
    int64_t version = 0;          ///< the version that ran
    std::vector<Tensor> outputs;  ///< in the requested order
};

/// The deadline of a request that arrived at start: its timeout parameter's
/// or the transport's (Clock::time_point::max() for none), the sooner.
Clock::time_point request_deadline(Clock::time_point start, std::optional<uint64_t> timeout_us,
                                   Clock::time_point transport_deadline);
/// The outputs to return, in order: `requested`, each one of `outputs`, or
/// every output when none is requested. Throws std::invalid_argument naming
/// an unknown one.
std::vector<std::string> select_outputs(const std::vector<mtia::TensorInfo> &outputs,
                                        const std::vector<std::string> &requested);

class InferPath {
public:
    /// Fills an InferCall from the front end's message; throws
    /// std::invalid_argument saying what is malformed (a BadRequest).
    using Decode = std::function<void(InferCall &)>;

    InferPath(Repository &repo, Metrics &metrics) : repo_(repo), metrics_(metrics) {}
    /// Runs one request for model (version 0: the latest). decode runs once
    /// the model is found, so a malformed request is counted against it.
    InferResult infer(const std::string &model, int64_t version, Clock::time_point transport_deadline,
                      const Decode &decode);

    /// From now on infer() answers Unavailable.
    void start_draining() { draining_ = true; }
    bool draining() const { return draining_; }
    int in_flight() const { return in_flight_; }       ///< infer() calls not returned yet
    uint64_t accepted() const { return accepted_; }    ///< requests queued
    uint64_t answered() const { return answered_; }    ///< of those, answered
    uint64_t succeeded() const { return succeeded_; }  ///< of those, answered Ok

private:
    /// Queues r on m (or on the version a reload put in its place).
    Status enqueue(VersionPtr &m, const std::string &model, int64_t version, const RequestPtr &r, std::string &err);

    Repository &repo_;
    Metrics &metrics_;
    std::atomic<bool> draining_{false};
    std::atomic<int> in_flight_{0};
    std::atomic<uint64_t> accepted_{0}, answered_{0}, succeeded_{0};
};

}  // namespace mtia_serve
