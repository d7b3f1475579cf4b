// SPDX-License-Identifier: MIT
// The Open Inference Protocol v2 over HTTP/REST (cpp-httplib): health,
// server and model metadata, infer (JSON tensors and the binary tensor data
// extension), the model repository extension (index, load, unload) and
// /metrics. Each infer request is parsed and validated here, queued on its
// model version's RequestQueue and answered when its batch completes; the
// handler thread blocks meanwhile (the server's thread pool bounds the
// concurrency). The request path itself is serve_infer's, shared with the
// gRPC front end. Errors are {"error": "..."} with 400/404/429/503/504.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include <httplib.h>

#include "serve_infer.h"

namespace mtia_serve {

class HttpFrontend {
public:
    HttpFrontend(Repository &repo, Metrics &metrics, int threads);
    /// Binds host:port; false (errno set) if it cannot.
    bool bind(const std::string &host, int port);
    /// Serves until stop(); run in its own thread.
    void serve();
    /// Stops listening; returns once serve() can return.
    void stop() { server_.stop(); }
    /// Its request path: draining (infer and ready answer 503) and drain counts.
    InferPath &path() { return path_; }

private:
    void routes();
    void infer(const httplib::Request &req, httplib::Response &res, const std::string &model, int64_t version);

    Repository &repo_;
    Metrics &metrics_;
    httplib::Server server_;
    InferPath path_;
};

}  // namespace mtia_serve
