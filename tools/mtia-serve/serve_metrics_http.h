// SPDX-License-Identifier: MIT
// `--metrics-port`: GET /metrics alone on a port of its own (Triton's
// separate metrics port), for a scraper kept apart from inference clients.
// The HTTP front end serves /metrics on its port too.
#pragma once

#include <string>

#include <httplib.h>

#include "serve_metrics.h"

namespace mtia_serve {

class MetricsEndpoint {
public:
    explicit MetricsEndpoint(Metrics &metrics);
    /// Binds host:port; false (errno set) if it cannot.
    bool bind(const std::string &host, int port) { return server_.bind_to_port(host.c_str(), port); }
    /// Serves until stop(); run in its own thread.
    void serve() { server_.listen_after_bind(); }
    void stop() { server_.stop(); }

private:
    httplib::Server server_;
};

/// Answers a GET /metrics with metrics in the text exposition format.
void serve_metrics(Metrics &metrics, httplib::Response &res);

}  // namespace mtia_serve
