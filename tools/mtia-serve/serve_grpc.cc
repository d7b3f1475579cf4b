// SPDX-License-Identifier: MIT
// gRPC endpoints (serve_grpc.h).
#include "serve_grpc.h"

#include <climits>

#include "serve_grpc_codec.h"
#include "serve_stats.h"

namespace mtia_serve {

namespace {

grpc::Status to_grpc(Status s, const std::string &err) { return {grpc_code(s), err}; }

const grpc::Status kDraining{grpc::StatusCode::UNAVAILABLE, "the server is shutting down"};

}  // namespace

int GrpcFrontend::start(const std::string &address, int port)
{
    grpc::ServerBuilder b;
    int bound = 0;
    b.AddListeningPort(address + ":" + std::to_string(port), grpc::InsecureServerCredentials(), &bound);
    b.RegisterService(this);
    // A port another server holds is an error, not a share of its traffic.
    b.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    // A batch of resnet18 images is more than grpc's default 4 MiB.
    b.SetMaxReceiveMessageSize(INT_MAX);
    b.SetMaxSendMessageSize(INT_MAX);
    server_ = b.BuildAndStart();
    return server_ ? bound : 0;
}

void GrpcFrontend::stop()
{
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(10));
}

VersionPtr GrpcFrontend::find(const std::string &name, const std::string &version, grpc::Status &status)
{
    const int64_t v = parse_version(version);
    if (v < 0) {
        status = to_grpc(Status::BadRequest, "bad version");
        return nullptr;
    }
    Status s;
    std::string err;
    VersionPtr m = repo_.find(name, v, s, err);
    if (!m) status = to_grpc(s, err);
    return m;
}

grpc::Status GrpcFrontend::ServerLive(grpc::ServerContext *, const inference::ServerLiveRequest *,
                                      inference::ServerLiveResponse *res)
{
    res->set_live(true);
    return grpc::Status::OK;
}

grpc::Status GrpcFrontend::ServerReady(grpc::ServerContext *, const inference::ServerReadyRequest *,
                                       inference::ServerReadyResponse *res)
{
    res->set_ready(!path_.draining());
    return grpc::Status::OK;
}

grpc::Status GrpcFrontend::ModelReady(grpc::ServerContext *, const inference::ModelReadyRequest *req,
                                      inference::ModelReadyResponse *res)
{
    grpc::Status st;
    if (!find(req->name(), req->version(), st)) return st;
    res->set_ready(!path_.draining());
    return grpc::Status::OK;
}

grpc::Status GrpcFrontend::ServerMetadata(grpc::ServerContext *, const inference::ServerMetadataRequest *,
                                          inference::ServerMetadataResponse *res)
{
    res->set_name(kServerName);
    res->set_version(MTIA_SERVE_VERSION);
    for (const auto &e : server_extensions()) res->add_extensions(e);
    return grpc::Status::OK;
}

grpc::Status GrpcFrontend::ModelMetadata(grpc::ServerContext *, const inference::ModelMetadataRequest *req,
                                         inference::ModelMetadataResponse *res)
{
    grpc::Status st;
    VersionPtr m = find(req->name(), req->version(), st);
    if (!m) return st;
    encode_metadata(m->metadata(repo_.versions(m->name())), res);
    return grpc::Status::OK;
}

grpc::Status GrpcFrontend::ModelInfer(grpc::ServerContext *ctx, const inference::ModelInferRequest *req,
                                      inference::ModelInferResponse *res)
{
    const int64_t v = parse_version(req->model_version());
    if (v < 0) return to_grpc(Status::BadRequest, "bad version");
    const InferResult r = path_.infer(req->model_name(), v, steady_deadline(ctx->deadline()),
                                      [&](InferCall &call) { decode_infer(*req, call); });
    if (r.status != Status::Ok) return to_grpc(r.status, r.error);
    encode_infer(*req, r, res);
    return grpc::Status::OK;
}

grpc::Status GrpcFrontend::RepositoryIndex(grpc::ServerContext *, const inference::RepositoryIndexRequest *req,
                                           inference::RepositoryIndexResponse *res)
{
    encode_index(repo_.index(req->ready()), res);
    return grpc::Status::OK;
}

grpc::Status GrpcFrontend::RepositoryModelLoad(grpc::ServerContext *, const inference::RepositoryModelLoadRequest *req,
                                               inference::RepositoryModelLoadResponse *)
{
    if (path_.draining()) return kDraining;
    std::string err;
    const Status s = repo_.load(req->model_name(), err);
    return s == Status::Ok ? grpc::Status::OK : to_grpc(s, err);
}

grpc::Status GrpcFrontend::RepositoryModelUnload(grpc::ServerContext *,
                                                 const inference::RepositoryModelUnloadRequest *req,
                                                 inference::RepositoryModelUnloadResponse *)
{
    if (path_.draining()) return kDraining;
    std::string err;
    const Status s = repo_.unload(req->model_name(), err);
    return s == Status::Ok ? grpc::Status::OK : to_grpc(s, err);
}

grpc::Status GrpcFrontend::ModelStatistics(grpc::ServerContext *, const inference::ModelStatisticsRequest *req,
                                           inference::ModelStatisticsResponse *res)
{
    nlohmann::json stats;
    std::string err;
    const Status s = model_statistics(repo_, metrics_, req->name(), req->version(), stats, err);
    if (s != Status::Ok) return to_grpc(s, err);
    encode_statistics(stats, res);
    return grpc::Status::OK;
}

}  // namespace mtia_serve
