// SPDX-License-Identifier: MIT
// Registrar (plugin_registrar.h). The kubelet dials our endpoint as soon as
// Register succeeds, so the server is up before we register. A kubelet that
// restarted has forgotten us and will not dial an old socket again, so each
// new kubelet.sock gets a new server on a freshly created socket (which
// also ends the old kubelet's ListAndWatch streams) before registering.
#include "plugin_registrar.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace mtia::dp {

namespace {

constexpr const char *kApiVersion = "v1beta1";  // constants.go Version
constexpr auto kRegisterTimeout = std::chrono::seconds(5);

std::string basename_of(const std::string &path) { return path.substr(path.rfind('/') + 1); }

}  // namespace

SocketId socket_id(const std::string &path)
{
    struct stat st;
    if (stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) return {};
    return {st.st_ino, static_cast<int64_t>(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec};
}

bool Registrar::own_socket_intact() const { return server_ && socket_ && socket_id(cfg_.socket_path) == socket_; }

void Registrar::stop_server()
{
    if (!server_) return;
    hub_.end_streams();
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
    server_->Wait();
    server_.reset();
    if (socket_ && socket_id(cfg_.socket_path) == socket_) unlink(cfg_.socket_path.c_str());
    socket_ = {};
}

bool Registrar::start_server()
{
    stop_server();
    unlink(cfg_.socket_path.c_str());  // a stale socket of an earlier run
    grpc::ServerBuilder b;
    b.AddListeningPort("unix:" + cfg_.socket_path, grpc::InsecureServerCredentials());
    b.RegisterService(&service_);
    server_ = b.BuildAndStart();
    socket_ = socket_id(cfg_.socket_path);
    if (!server_ || !socket_) {
        std::string err = "cannot serve on " + cfg_.socket_path;
        if (err != last_error_) std::fprintf(stderr, "mtia-device-plugin: %s\n", err.c_str());
        last_error_ = err;
        stop_server();
        return false;
    }
    std::fprintf(stderr, "mtia-device-plugin: serving DevicePlugin on %s\n", cfg_.socket_path.c_str());
    return true;
}

std::string Registrar::register_once() const
{
    auto channel = grpc::CreateChannel("unix:" + cfg_.kubelet_socket, grpc::InsecureChannelCredentials());
    auto stub = v1beta1::Registration::NewStub(channel);
    v1beta1::RegisterRequest req;
    req.set_version(kApiVersion);
    req.set_endpoint(basename_of(cfg_.socket_path));
    req.set_resource_name(cfg_.resource_name);
    *req.mutable_options() = PluginService::options();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + kRegisterTimeout);
    v1beta1::Empty resp;
    grpc::Status s = stub->Register(&ctx, req, &resp);
    if (s.ok()) return {};
    return "Register with " + cfg_.kubelet_socket + " failed: " + s.error_message() + " (gRPC status " +
           std::to_string(s.error_code()) + ")";
}

void Registrar::tick()
{
    const SocketId kubelet = socket_id(cfg_.kubelet_socket);
    if (!kubelet) {
        const std::string err = "no kubelet socket " + cfg_.kubelet_socket + ": waiting for the kubelet";
        if (err != last_error_) std::fprintf(stderr, "mtia-device-plugin: %s\n", err.c_str());
        last_error_ = err;
        registered_ = false;
        return;
    }
    if (registered_ && kubelet == kubelet_ && own_socket_intact()) return;
    if (registered_) {
        std::fprintf(stderr, "mtia-device-plugin: %s: registering again\n",
                     kubelet != kubelet_ ? "the kubelet restarted (new kubelet.sock)" : "our socket was removed");
        registered_ = false;
    }
    // A server that never got registered is reused; a registered one is not.
    if ((!own_socket_intact() || kubelet != kubelet_) && !start_server()) return;
    kubelet_ = kubelet;
    std::string err = register_once();
    if (!err.empty()) {
        if (err != last_error_) std::fprintf(stderr, "mtia-device-plugin: %s; retrying\n", err.c_str());
        last_error_ = err;
        return;
    }
    registered_ = true;
    last_error_.clear();
    std::fprintf(stderr, "mtia-device-plugin: registered %s as endpoint %s (API %s) with %s\n",
                 cfg_.resource_name.c_str(), basename_of(cfg_.socket_path).c_str(), kApiVersion,
                 cfg_.kubelet_socket.c_str());
}

}  // namespace mtia::dp
