// SPDX-License-Identifier: MIT
// The DevicePlugin gRPC service the kubelet calls on the plugin's socket,
// and DeviceHub, the device list it serves: the poller publishes a new list
// when something changed and every open ListAndWatch stream sends it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <vector>

#include "deviceplugin_v1beta1.grpc.pb.h"
#include "plugin_health.h"

namespace mtia::dp {

// Health strings of the API (k8s.io/kubelet .../v1beta1/constants.go).
constexpr const char *kHealthy = "Healthy";
constexpr const char *kUnhealthy = "Unhealthy";

class DeviceHub {
public:
    // Replaces the list; wakes every stream to send it.
    void publish(std::vector<PluginDevice> devices);
    std::vector<PluginDevice> devices() const;
    // Ends every open ListAndWatch stream (the server is going away).
    void end_streams();

    // Serves one ListAndWatch stream until the client goes, a write fails or
    // end_streams(): the current list at once, then each new one.
    grpc::Status stream(grpc::ServerContext *ctx, grpc::ServerWriter<v1beta1::ListAndWatchResponse> *writer);

private:
    mutable std::mutex mu_;  // Protects devices_, version_, epoch_.
    std::condition_variable cv_;
    std::vector<PluginDevice> devices_;
    uint64_t version_ = 0;  // publish() count
    uint64_t epoch_ = 0;    // end_streams() count
};

// The kubelet's message for @devices.
v1beta1::ListAndWatchResponse to_list_response(const std::vector<PluginDevice> &devices);

class PluginService final : public v1beta1::DevicePlugin::Service {
public:
    explicit PluginService(DeviceHub &hub) : hub_(hub) {}

    grpc::Status GetDevicePluginOptions(grpc::ServerContext *, const v1beta1::Empty *,
                                        v1beta1::DevicePluginOptions *out) override;
    grpc::Status ListAndWatch(grpc::ServerContext *ctx, const v1beta1::Empty *,
                              grpc::ServerWriter<v1beta1::ListAndWatchResponse> *writer) override;
    grpc::Status GetPreferredAllocation(grpc::ServerContext *, const v1beta1::PreferredAllocationRequest *req,
                                        v1beta1::PreferredAllocationResponse *out) override;
    grpc::Status Allocate(grpc::ServerContext *, const v1beta1::AllocateRequest *req,
                          v1beta1::AllocateResponse *out) override;
    grpc::Status PreStartContainer(grpc::ServerContext *, const v1beta1::PreStartContainerRequest *,
                                   v1beta1::PreStartContainerResponse *) override;

    // What we register with (and GetDevicePluginOptions returns).
    static v1beta1::DevicePluginOptions options();

private:
    DeviceHub &hub_;
};

}  // namespace mtia::dp
