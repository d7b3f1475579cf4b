// SPDX-License-Identifier: MIT
// The DevicePlugin service (plugin_service.h). Handlers run on gRPC's sync
// server threads; each open ListAndWatch stream holds one, waiting on the
// hub's condition variable for the next published list (with a short
// timeout, to notice a client that went away).
#include "plugin_service.h"

#include <chrono>

#include "plugin_alloc.h"

namespace mtia::dp {

void DeviceHub::publish(std::vector<PluginDevice> devices)
{
    {
        std::lock_guard<std::mutex> lk(mu_);
        devices_ = std::move(devices);
        version_++;
    }
    cv_.notify_all();
}

std::vector<PluginDevice> DeviceHub::devices() const
{
    std::lock_guard<std::mutex> lk(mu_);
    return devices_;
}

void DeviceHub::end_streams()
{
    {
        std::lock_guard<std::mutex> lk(mu_);
        epoch_++;
    }
    cv_.notify_all();
}

grpc::Status DeviceHub::stream(grpc::ServerContext *ctx, grpc::ServerWriter<v1beta1::ListAndWatchResponse> *writer)
{
    std::unique_lock<std::mutex> lk(mu_);
    const uint64_t epoch = epoch_;
    bool first = true;
    uint64_t sent = 0;
    for (;;) {
        if (epoch_ != epoch) return grpc::Status::OK;
        if (ctx->IsCancelled()) return grpc::Status::CANCELLED;
        if (first || version_ != sent) {
            auto msg = to_list_response(devices_);
            sent = version_;
            first = false;
            lk.unlock();
            if (!writer->Write(msg)) return grpc::Status::OK;  // the client went away
            lk.lock();
            continue;
        }
        cv_.wait_for(lk, std::chrono::milliseconds(200));
    }
}

v1beta1::ListAndWatchResponse to_list_response(const std::vector<PluginDevice> &devices)
{
    v1beta1::ListAndWatchResponse r;
    for (const auto &d : devices) {
        auto *dev = r.add_devices();
        dev->set_id(d.id);
        dev->set_health(d.healthy ? kHealthy : kUnhealthy);
        if (d.numa_node >= 0) dev->mutable_topology()->add_nodes()->set_id(d.numa_node);
    }
    return r;
}

v1beta1::DevicePluginOptions PluginService::options()
{
    v1beta1::DevicePluginOptions o;
    o.set_pre_start_required(false);
    o.set_get_preferred_allocation_available(true);
    return o;
}

grpc::Status PluginService::GetDevicePluginOptions(grpc::ServerContext *, const v1beta1::Empty *,
                                                   v1beta1::DevicePluginOptions *out)
{
    *out = options();
    return grpc::Status::OK;
}

grpc::Status PluginService::ListAndWatch(grpc::ServerContext *ctx, const v1beta1::Empty *,
                                         grpc::ServerWriter<v1beta1::ListAndWatchResponse> *writer)
{
    return hub_.stream(ctx, writer);
}

grpc::Status PluginService::GetPreferredAllocation(grpc::ServerContext *,
                                                   const v1beta1::PreferredAllocationRequest *req,
                                                   v1beta1::PreferredAllocationResponse *out)
{
    const auto devices = hub_.devices();
    for (const auto &c : req->container_requests()) {
        std::vector<std::string> ids;
        std::string err = preferred_allocation(
            devices, {c.available_deviceids().begin(), c.available_deviceids().end()},
            {c.must_include_deviceids().begin(), c.must_include_deviceids().end()}, c.allocation_size(), &ids);
        if (!err.empty()) return {grpc::StatusCode::INVALID_ARGUMENT, err};
        auto *r = out->add_container_responses();
        for (auto &id : ids) r->add_deviceids(id);
    }
    return grpc::Status::OK;
}

grpc::Status PluginService::Allocate(grpc::ServerContext *, const v1beta1::AllocateRequest *req,
                                     v1beta1::AllocateResponse *out)
{
    const auto devices = hub_.devices();
    for (const auto &c : req->container_requests()) {
        ContainerDevices cd;
        std::string err = allocate_container(devices, {c.devices_ids().begin(), c.devices_ids().end()}, &cd);
        if (!err.empty()) return {grpc::StatusCode::INVALID_ARGUMENT, err};
        auto *r = out->add_container_responses();
        (*r->mutable_envs())[std::string(kVisibleDevicesEnv)] = cd.visible_devices;
        for (size_t i = 0; i < cd.host_paths.size(); i++) {
            auto *spec = r->add_devices();
            spec->set_container_path(cd.container_paths[i]);
            spec->set_host_path(cd.host_paths[i]);
            spec->set_permissions("rw");
        }
    }
    return grpc::Status::OK;
}

grpc::Status PluginService::PreStartContainer(grpc::ServerContext *, const v1beta1::PreStartContainerRequest *,
                                              v1beta1::PreStartContainerResponse *)
{
    return grpc::Status::OK;  // pre_start_required is false: nothing to do
}

}  // namespace mtia::dp
