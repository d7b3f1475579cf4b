// SPDX-License-Identifier: MIT
// The plugin's side of the kubelet handshake: serving DevicePlugin on our
// own unix socket in the device plugin directory, registering it with the
// kubelet's Registration service on kubelet.sock, and noticing when the
// kubelet restarted (kubelet.sock re-created: a new inode; or our own
// socket deleted, as a starting kubelet clears the directory), so we serve
// a fresh socket and register again. A socket is known by inode and change
// time together: a re-created one may reuse the inode number.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "plugin_service.h"

namespace mtia::dp {

struct RegistrarConfig {
    std::string kubelet_socket;  // .../device-plugins/kubelet.sock
    std::string socket_path;     // ours: <socket dir>/<name>.sock; its basename is the endpoint
    std::string resource_name;   // meta.com/mtia
};

// Which socket file is at a path: {0, 0} if none.
struct SocketId {
    ino_t ino = 0;
    int64_t ctime_ns = 0;
    bool operator==(const SocketId &o) const { return ino == o.ino && ctime_ns == o.ctime_ns; }
    bool operator!=(const SocketId &o) const { return !(*this == o); }
    explicit operator bool() const { return ino != 0; }
};
SocketId socket_id(const std::string &path);

class Registrar {
public:
    Registrar(RegistrarConfig cfg, DeviceHub &hub) : cfg_(std::move(cfg)), service_(hub), hub_(hub) {}
    ~Registrar() { stop_server(); }

    // One step of the handshake, called every poll: (re)starts the server
    // and registers when not registered with the kubelet that owns the
    // current kubelet.sock. Logs what it does and why a step failed.
    void tick();
    bool registered() const { return registered_; }
    // Stops serving and removes our socket (SIGTERM).
    void stop_server();

private:
    bool start_server();
    std::string register_once() const;  // "" or the error
    bool own_socket_intact() const;

    RegistrarConfig cfg_;
    PluginService service_;
    DeviceHub &hub_;
    std::unique_ptr<grpc::Server> server_;
    SocketId socket_;  // our socket while serving
    bool registered_ = false;
    SocketId kubelet_;        // the kubelet.sock we registered with (or are trying to)
    std::string last_error_;  // logged once, not every poll
};

}  // namespace mtia::dp
