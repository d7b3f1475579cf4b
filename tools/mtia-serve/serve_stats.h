// SPDX-License-Identifier: MIT
// Triton's statistics extension, shared by both front ends (REST: GET
// v2/models[/NAME[/versions/V]]/stats, gRPC: ModelStatistics): which loaded
// model versions a request names, and their statistics as Triton's
// $stats_model_response JSON ({"model_stats": [$model_stat, ...]}, each
// from Metrics::stats_json, the counters /metrics renders too). No name:
// every loaded version of every model; a name: every loaded version of it,
// or the one version given.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "serve_metrics.h"
#include "serve_repository.h"

namespace mtia_serve {

/// The statistics of model (empty: every model) at version text (empty:
/// every loaded version) into out. NotFound for a model or version that is
/// not loaded, BadRequest for a malformed version or one without a model;
/// err says which.
Status model_statistics(Repository &repo, Metrics &metrics, const std::string &model, const std::string &version,
                        nlohmann::json &out, std::string &err);

}  // namespace mtia_serve
