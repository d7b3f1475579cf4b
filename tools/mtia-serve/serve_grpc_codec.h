// SPDX-License-Identifier: MIT
// The Open Inference Protocol's gRPC messages (grpc_predict_v2.proto) to and
// from mtia-serve's protocol-neutral request path (serve_infer.h), and its
// outcomes to gRPC status codes. Device-free, so unit-tested.
//
// Input tensors come either all as raw_input_contents (row-major bytes, as
// Triton's clients send them) or each as typed InferTensorContents: FP32 in
// fp32_contents, INT8/INT32 in int_contents, UINT8 in uint_contents, INT64
// in int64_contents, BOOL in bool_contents; FP16 and BF16 only raw (the
// protocol has no field for them). A response answers in the request's
// form: raw if the request was raw or an output is FP16/BF16, typed
// otherwise.
#pragma once

#include <chrono>

#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "grpc_predict_v2.pb.h"
#include "serve_infer.h"

namespace mtia_serve {

/// The gRPC status code of an outcome: NOT_FOUND, INVALID_ARGUMENT,
/// RESOURCE_EXHAUSTED, UNAVAILABLE, DEADLINE_EXCEEDED, INTERNAL.
grpc::StatusCode grpc_code(Status s);

/// The request's inputs, requested outputs and "timeout" parameter into
/// call; throws std::invalid_argument saying what is malformed.
void decode_infer(const inference::ModelInferRequest &req, InferCall &call);
/// r's outputs (r.status Ok) as req's response.
void encode_infer(const inference::ModelInferRequest &req, const InferResult &r, inference::ModelInferResponse *res);

/// A model's metadata (ModelVersion::metadata()'s JSON) as the response.
void encode_metadata(const nlohmann::json &meta, inference::ModelMetadataResponse *res);
/// The repository index (Repository::index()'s JSON) as the response.
void encode_index(const nlohmann::json &index, inference::RepositoryIndexResponse *res);

/// A $stats_model_response (serve_stats.h's JSON) as the response.
void encode_statistics(const nlohmann::json &stats, inference::ModelStatisticsResponse *res);

/// A gRPC deadline (system clock; its max: none) on the steady clock.
Clock::time_point steady_deadline(std::chrono::system_clock::time_point deadline);

}  // namespace mtia_serve
