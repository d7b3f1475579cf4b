// SPDX-License-Identifier: MIT
// The Open Inference Protocol v2 over gRPC (grpc_predict_v2.proto, Triton's
// GRPCInferenceService on grpc++'s synchronous server): health, server and
// model metadata, ModelInfer, the model repository RPCs and ModelStatistics
// (serve_stats.h). A thin layer:
// serve_grpc_codec turns the messages into the request path that the REST
// front end uses too (serve_infer.h), whose outcome becomes the status code
// (NOT_FOUND, INVALID_ARGUMENT, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED,
// UNAVAILABLE). The client's deadline bounds the request's time in the queue
// as its "timeout" parameter does. Each RPC holds one server thread while
// its request waits for its batch.
#pragma once

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "grpc_predict_v2.grpc.pb.h"
#include "serve_infer.h"

namespace mtia_serve {

class GrpcFrontend final : public inference::GRPCInferenceService::Service {
public:
    GrpcFrontend(Repository &repo, Metrics &metrics) : repo_(repo), metrics_(metrics), path_(repo, metrics) {}
    /// Listens on address:port and serves from grpc++'s threads; the port it
    /// got (port 0: any free one), or 0 if it cannot listen there.
    int start(const std::string &address, int port);
    /// Waits for the RPCs in progress to return (their requests already
    /// answered by the drained batchers), refuses new ones and stops.
    void stop();
    /// Its request path: draining (ModelInfer UNAVAILABLE) and drain counts.
    InferPath &path() { return path_; }

    grpc::Status ServerLive(grpc::ServerContext *, const inference::ServerLiveRequest *,
                            inference::ServerLiveResponse *res) override;
    grpc::Status ServerReady(grpc::ServerContext *, const inference::ServerReadyRequest *,
                             inference::ServerReadyResponse *res) override;
    grpc::Status ModelReady(grpc::ServerContext *, const inference::ModelReadyRequest *req,
                            inference::ModelReadyResponse *res) override;
    grpc::Status ServerMetadata(grpc::ServerContext *, const inference::ServerMetadataRequest *,
                                inference::ServerMetadataResponse *res) override;
    grpc::Status ModelMetadata(grpc::ServerContext *, const inference::ModelMetadataRequest *req,
                               inference::ModelMetadataResponse *res) override;
    grpc::Status ModelInfer(grpc::ServerContext *ctx, const inference::ModelInferRequest *req,
                            inference::ModelInferResponse *res) override;
    grpc::Status RepositoryIndex(grpc::ServerContext *, const inference::RepositoryIndexRequest *req,
                                 inference::RepositoryIndexResponse *res) override;
    grpc::Status RepositoryModelLoad(grpc::ServerContext *, const inference::RepositoryModelLoadRequest *req,
                                     inference::RepositoryModelLoadResponse *) override;
    grpc::Status RepositoryModelUnload(grpc::ServerContext *, const inference::RepositoryModelUnloadRequest *req,
                                       inference::RepositoryModelUnloadResponse *) override;
    grpc::Status ModelStatistics(grpc::ServerContext *, const inference::ModelStatisticsRequest *req,
                                 inference::ModelStatisticsResponse *res) override;

private:
    /// NAME at version text (empty: the latest), or null with the status to return.
    VersionPtr find(const std::string &name, const std::string &version, grpc::Status &status);

    Repository &repo_;
    Metrics &metrics_;
    InferPath path_;
    std::unique_ptr<grpc::Server> server_;
};

}  // namespace mtia_serve
