// SPDX-License-Identifier: MIT
// The Open Inference Protocol v2 over HTTP/REST (cpp-httplib): health,
// server and model metadata, infer (JSON tensors and the binary tensor data
// extension), the model repository extension (index, load, unload) and
// /metrics. Each infer request is parsed and validated here, queued on its
// model version's RequestQueue and answered when its batch completes; the
// handler thread blocks meanwhile (the server's thread pool bounds the
// concurrency). Errors are {"error": "..."} with 400/404/429/503/504.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <httplib.h>

#include "serve_metrics.h"
#include "serve_repository.h"

namespace mtia_serve {

class HttpFrontend {
public:
    HttpFrontend(Repository &repo, Metrics &metrics, int threads);
    /// Binds host:port; false (errno set) if it cannot.
    bool bind(const std::string &host, int port);
    /// Serves until stop(); run in its own thread.
    void serve();
    /// From now on infer and ready answer 503.
    void start_draining() { draining_ = true; }
    /// Infer requests whose handler has not returned yet.
    int in_flight() const { return in_flight_; }
    /// Stops listening; returns once serve() can return.
    void stop() { server_.stop(); }
    uint64_t accepted() const { return accepted_; }    ///< infer requests queued
    uint64_t answered() const { return answered_; }    ///< of those, answered
    uint64_t succeeded() const { return succeeded_; }  ///< of those, answered 200

private:
    void routes();
    void infer(const httplib::Request &req, httplib::Response &res, const std::string &model, int64_t version);

    Repository &repo_;
    Metrics &metrics_;
    httplib::Server server_;
    std::atomic<bool> draining_{false};
    std::atomic<int> in_flight_{0};
    std::atomic<uint64_t> accepted_{0}, answered_{0}, succeeded_{0};
};

}  // namespace mtia_serve
