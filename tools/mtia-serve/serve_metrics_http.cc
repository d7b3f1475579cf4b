// SPDX-License-Identifier: MIT
// The metrics-only HTTP endpoint (serve_metrics_http.h).
#include "serve_metrics_http.h"

namespace mtia_serve {

void serve_metrics(Metrics &metrics, httplib::Response &res)
{
    res.set_content(metrics.render(), "text/plain; version=0.0.4");
}

MetricsEndpoint::MetricsEndpoint(Metrics &metrics)
{
    server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
    server_.Get("/metrics",
                [&metrics](const httplib::Request &, httplib::Response &res) { serve_metrics(metrics, res); });
}

}  // namespace mtia_serve
