// SPDX-License-Identifier: MIT
// The statistics extension's model selection and response (serve_stats.h).
#include "serve_stats.h"

#include "serve_infer.h"

namespace mtia_serve {

Status model_statistics(Repository &repo, Metrics &metrics, const std::string &model, const std::string &version,
                        nlohmann::json &out, std::string &err)
{
    out = {{"model_stats", nlohmann::json::array()}};
    auto &list = out["model_stats"];
    if (model.empty()) {
        if (!version.empty()) {
            err = "a version needs a model name";
            return Status::BadRequest;
        }
        for (const auto &e : repo.index(true))
            list.push_back(metrics.stats_json(e["name"].get<std::string>(), e["version"].get<std::string>()));
        return Status::Ok;
    }
    const int64_t v = parse_version(version);
    if (v < 0) {
        err = "bad version";
        return Status::BadRequest;
    }
    Status s;
    VersionPtr m = repo.find(model, v, s, err);
    if (!m) return s;
    if (v > 0) {
        list.push_back(metrics.stats_json(m->name(), std::to_string(m->version())));
        return Status::Ok;
    }
    for (int64_t each : repo.versions(model)) list.push_back(metrics.stats_json(model, std::to_string(each)));
    return Status::Ok;
}

}  // namespace mtia_serve
