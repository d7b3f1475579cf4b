// SPDX-License-Identifier: MIT
// mtia-serve: an Open Inference Protocol (KServe v2) server for .mtia models
// with dynamic batching (docs/serving.md). main() loads the repository,
// serves HTTP from a thread and gRPC from grpc++'s, and waits for
// SIGTERM/SIGINT (blocked in every thread, taken by sigwait here), then
// drains both: new requests get 503 / UNAVAILABLE, queued and running ones
// finish and are answered, and it exits 0.
#include <csignal>
#include <cstring>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>

#include "serve_grpc.h"
#include "serve_http.h"
#include "serve_metrics.h"
#include "serve_metrics_http.h"
#include "serve_repository.h"

int main(int argc, char **argv)
{
    CLI::App app{"mtia-serve: Open Inference Protocol (KServe v2) server for mtia models, with dynamic batching"};
    std::string repo_dir, address = "0.0.0.0", grpc_address = "0.0.0.0";
    int port = 8000, threads = 64, grpc_port = 8001, metrics_port = 0;
    bool allow_grpc = true;
    app.add_option("--model-repository", repo_dir, "directory of NAME/VERSION/model.mtia (+ NAME/config.json)")
        ->required()
        ->check(CLI::ExistingDirectory);
    app.add_option("--http-port", port, "HTTP/REST port (0: any free one, printed)")->check(CLI::Range(0, 65535));
    app.add_option("--http-address", address, "address to listen on");
    app.add_option("--http-threads", threads, "HTTP worker threads (concurrent connections served)")
        ->check(CLI::Range(1, 1024));
    app.add_option("--allow-grpc", allow_grpc, "serve gRPC too (true/false)");
    app.add_option("--grpc-port", grpc_port, "gRPC port (0: any free one, printed)")->check(CLI::Range(0, 65535));
    app.add_option("--grpc-address", grpc_address, "address gRPC listens on");
    app.add_option("--metrics-port", metrics_port, "a port of its own for GET /metrics (on --http-address; 0: none)")
        ->check(CLI::Range(0, 65535));
    app.set_version_flag("--version", MTIA_SERVE_VERSION);
    CLI11_PARSE(app, argc, argv);

    // Every thread started from here on inherits the blocked signals.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
    signal(SIGPIPE, SIG_IGN);

    mtia_serve::Metrics metrics;
    mtia_serve::Repository repo(repo_dir, metrics);
    repo.load_all();
    mtia_serve::HttpFrontend http(repo, metrics, threads);
    if (!http.bind(address, port)) {
        std::cerr << "mtia-serve: cannot listen on " << address << ":" << port << ": " << std::strerror(errno) << "\n";
        return 1;
    }
    mtia_serve::MetricsEndpoint metrics_http(metrics);
    if (metrics_port && !metrics_http.bind(address, metrics_port)) {
        std::cerr << "mtia-serve: cannot listen on " << address << ":" << metrics_port << ": " << std::strerror(errno)
                  << "\n";
        return 1;
    }
    mtia_serve::GrpcFrontend grpc(repo, metrics);
    const int grpc_bound = allow_grpc ? grpc.start(grpc_address, grpc_port) : 0;
    if (allow_grpc && grpc_bound == 0) {
        std::cerr << "mtia-serve: cannot serve gRPC on " << grpc_address << ":" << grpc_port << "\n";
        return 1;
    }
    std::thread metrics_server([&] {
        if (metrics_port) metrics_http.serve();
    });
    std::thread server([&] { http.serve(); });
    std::cerr << "mtia-serve: serving " << repo_dir << " on http://" << address << ":" << port;
    if (allow_grpc) std::cerr << " and grpc://" << grpc_address << ":" << grpc_bound;
    if (metrics_port) std::cerr << ", metrics on http://" << address << ":" << metrics_port << "/metrics";
    std::cerr << std::endl;

    int sig = 0;
    sigwait(&sigs, &sig);
    std::cerr << "mtia-serve: " << strsignal(sig) << ": draining" << std::endl;
    mtia_serve::InferPath &h = http.path(), &g = grpc.path();
    h.start_draining();
    g.start_draining();
    repo.drain();
    // Batchers are done; let the handlers that got their answers return.
    while (h.in_flight() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    http.stop();
    server.join();
    grpc.stop();  // returns once its RPCs have
    metrics_http.stop();
    metrics_server.join();
    std::cerr << "mtia-serve: drained: HTTP " << h.accepted() << " requests accepted, " << h.answered() << " answered, "
              << h.succeeded() << " with 200; gRPC " << g.accepted() << " requests accepted, " << g.answered()
              << " answered, " << g.succeeded() << " OK" << std::endl;
    return h.accepted() == h.answered() && g.accepted() == g.answered() ? 0 : 1;
}
