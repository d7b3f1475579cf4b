// SPDX-License-Identifier: MIT
// Model repository scanning, loading and lookup (serve_repository.h).
#include "serve_repository.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "serve_runner.h"

namespace fs = std::filesystem;

namespace mtia_serve {

namespace {

// A version directory's number: all digits, > 0; 0 otherwise.
int64_t version_number(const std::string &s)
{
    if (s.empty() || s.size() > 18 || !std::all_of(s.begin(), s.end(), ::isdigit)) return 0;
    return std::stoll(s);
}

std::string shape_text(const std::vector<int64_t> &s)
{
    std::string o = "[";
    for (size_t i = 0; i < s.size(); i++) o += (i ? "," : "") + std::to_string(s[i]);
    return o + "]";
}

}  // namespace

ModelVersion::ModelVersion(std::string name, int64_t version, const ModelConfig &config, const std::string &path,
                           const std::vector<const mtia::Device *> &devices, Metrics &metrics)
    : name_(std::move(name)), version_(version)
{
    std::vector<mtia::Model> models;
    for (const auto &d : devices)
        for (uint32_t i = 0; i < config.instances_per_device; i++) models.push_back(mtia::Model::load_file(*d, path));
    inputs_ = models.front().inputs();
    outputs_ = models.front().outputs();
    buckets_ = models.front().batch_buckets();
    // A coalescing model's batch is in samples (dim 0), at most its largest
    // bucket; any other's in requests, each run by run_batch.
    coalesce_ = coalesces(models.front());
    uint32_t max_batch = config.max_batch;
    if (coalesce_) {
        if (max_batch == 0 || max_batch > buckets_.back()) max_batch = buckets_.back();
    } else if (max_batch == 0) {
        max_batch = 8;
    }
    if (!config.dynamic_batching) max_batch = 1;
    queue_ = std::make_unique<RequestQueue>(config.queue_capacity, max_batch,
                                            std::chrono::microseconds(config.max_queue_delay_us));
    const std::string v = std::to_string(version_);
    for (auto &m : models)
        batchers_.push_back(
            std::make_unique<Batcher>(*queue_, std::make_unique<ModelRunner>(std::move(m)),
                                      [&metrics, n = name_, v](uint32_t samples, const BatchTimes &t, bool ok) {
                                          metrics.batch(n, v, samples, t, ok);
                                      }));
}

ModelVersion::~ModelVersion() { close_and_join(); }

void ModelVersion::close_and_join()
{
    queue_->close();
    batchers_.clear();
}

nlohmann::json ModelVersion::metadata(const std::vector<int64_t> &versions) const
{
    auto tensors = [&](const std::vector<mtia::TensorInfo> &ts) {
        nlohmann::json a = nlohmann::json::array();
        for (const auto &t : ts) {
            nlohmann::json shape = nlohmann::json::array();
            for (size_t i = 0; i < t.shape.size(); i++)
                shape.push_back(i == 0 && t.batch_axis == 0 ? -1 : static_cast<int64_t>(t.shape[i]));
            a.push_back({{"name", t.name}, {"datatype", datatype_name(t.dtype)}, {"shape", shape}});
        }
        return a;
    };
    nlohmann::json vs = nlohmann::json::array();
    for (int64_t v : versions) vs.push_back(std::to_string(v));
    return {{"name", name_},
            {"versions", vs},
            {"platform", "mtia"},
            {"inputs", tensors(inputs_)},
            {"outputs", tensors(outputs_)}};
}

Status ModelVersion::prepare(Request &r, std::string &err) const
{
    std::vector<Tensor> ordered(inputs_.size());
    std::vector<bool> seen(inputs_.size(), false);
    for (auto &t : r.inputs) {
        size_t i = 0;
        while (i < inputs_.size() && inputs_[i].name != t.name) i++;
        if (i == inputs_.size()) {
            err = "unexpected inference input '" + t.name + "' for model '" + name_ + "'";
            return Status::BadRequest;
        }
        if (seen[i]) {
            err = "input '" + t.name + "' is given twice";
            return Status::BadRequest;
        }
        seen[i] = true;
        ordered[i] = std::move(t);
    }
    int64_t samples = -1;
    for (size_t i = 0; i < inputs_.size(); i++) {
        const auto &info = inputs_[i];
        const Tensor &t = ordered[i];
        if (!seen[i]) {
            err = "expected input '" + info.name + "' for model '" + name_ + "'";
            return Status::BadRequest;
        }
        if (t.dtype != info.dtype) {
            err = "input '" + info.name + "' has datatype " + datatype_name(t.dtype) + ", the model takes " +
                  datatype_name(info.dtype);
            return Status::BadRequest;
        }
        std::vector<int64_t> want(info.shape.begin(), info.shape.end());
        const bool batched = info.batch_axis == 0 && !buckets_.empty();
        bool ok = t.shape.size() == want.size() &&
                  std::equal(t.shape.begin() + (batched ? 1 : 0), t.shape.end(), want.begin() + (batched ? 1 : 0));
        if (ok && batched) {
            ok = t.shape[0] >= 1 && t.shape[0] <= static_cast<int64_t>(buckets_.back()) &&
                 (samples < 0 || samples == t.shape[0]);
            samples = t.shape[0];
        }
        if (!ok) {
            if (batched) want[0] = -1;
            err = "input '" + info.name + "' has shape " + shape_text(t.shape) + ", the model takes " +
                  shape_text(want) +
                  (batched ? " (dim 0 the same batch of 1.." + std::to_string(buckets_.back()) + " for every input)"
                           : "");
            return Status::BadRequest;
        }
    }
    r.inputs = std::move(ordered);
    r.samples = samples > 0 && coalesce_ ? static_cast<uint32_t>(samples) : 1;
    return Status::Ok;
}

Repository::Repository(std::string dir, Metrics &metrics) : dir_(std::move(dir)), metrics_(metrics) {}

std::vector<std::string> Repository::model_dirs()
{
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(dir_, ec))
        if (e.is_directory()) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::vector<const mtia::Device *> Repository::devices_for_locked(const ModelConfig &config)
{
    std::vector<int> idx = config.devices;
    if (idx.empty())
        for (int i = 0; i < mtia::device_count(); i++) idx.push_back(i);
    if (idx.empty()) throw std::runtime_error("no mtia device visible");
    std::vector<const mtia::Device *> out;
    for (int i : idx) {
        auto it = devices_.find(i);
        if (it == devices_.end()) it = devices_.emplace(i, mtia::Device::open(i)).first;
        out.push_back(&it->second);
    }
    return out;
}

std::map<int64_t, VersionPtr> Repository::build(const std::string &name)
{
    const fs::path mdir = fs::path(dir_) / name;
    ModelConfig config;
    if (fs::exists(mdir / "config.json")) {
        std::ifstream f(mdir / "config.json");
        std::stringstream ss;
        ss << f.rdbuf();
        config = parse_model_config(ss.str());
    }
    std::vector<int64_t> found;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(mdir, ec)) {
        const int64_t v = version_number(e.path().filename().string());
        if (v > 0 && fs::exists(e.path() / "model.mtia")) found.push_back(v);
    }
    std::sort(found.begin(), found.end());
    if (found.empty()) throw std::runtime_error("no VERSION/model.mtia in " + mdir.string());
    std::vector<int64_t> serve;
    if (config.all_versions) {
        serve = found;
    } else if (!config.versions.empty()) {
        for (int64_t v : config.versions) {
            if (!std::binary_search(found.begin(), found.end(), v))
                throw std::runtime_error("config.json lists version " + std::to_string(v) + ", not in " +
                                         mdir.string());
            serve.push_back(v);
        }
    } else {
        serve.push_back(found.back());
    }
    std::vector<const mtia::Device *> devices;
    {
        std::lock_guard<std::mutex> lock(mu_);
        devices = devices_for_locked(config);
    }
    std::map<int64_t, VersionPtr> out;
    for (int64_t v : serve)
        out[v] = std::make_shared<ModelVersion>(name, v, config, (mdir / std::to_string(v) / "model.mtia").string(),
                                                devices, metrics_);
    return out;
}

void Repository::load_all()
{
    for (const auto &name : model_dirs()) {
        std::string err;
        if (load(name, err) != Status::Ok) std::cerr << "mtia-serve: model '" << name << "': " << err << "\n";
    }
}

Status Repository::load(const std::string &name, std::string &err)
{
    std::lock_guard<std::mutex> load_lock(load_mu_);
    if (name.empty() || name.find('/') != std::string::npos || name == "." || name == ".." ||
        !fs::is_directory(fs::path(dir_) / name)) {
        err = "no model '" + name + "' in the repository";
        return Status::NotFound;
    }
    std::map<int64_t, VersionPtr> fresh;
    try {
        fresh = build(name);
    } catch (const std::exception &e) {
        err = "failed to load '" + name + "': " + e.what();
        std::lock_guard<std::mutex> lock(mu_);
        models_[name].reason = e.what();
        return Status::BadRequest;
    }
    std::map<int64_t, VersionPtr> old;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (draining_) {
            err = "the server is shutting down";
            return Status::Unavailable;
        }
        Entry &e = models_[name];
        old.swap(e.versions);
        e.versions = std::move(fresh);
        e.reason.clear();
    }
    for (auto &[v, p] : old) p->queue().close();  // the last holder joins its batchers
    return Status::Ok;
}

Status Repository::unload(const std::string &name, std::string &err)
{
    std::lock_guard<std::mutex> load_lock(load_mu_);
    std::map<int64_t, VersionPtr> old;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = models_.find(name);
        if (it == models_.end() || it->second.versions.empty()) {
            err = "model '" + name + "' is not loaded";
            return Status::NotFound;
        }
        old.swap(it->second.versions);
        it->second.reason = "unloaded";
    }
    for (auto &[v, p] : old) p->queue().close();
    return Status::Ok;
}

VersionPtr Repository::find(const std::string &name, int64_t version, Status &status, std::string &err)
{
    std::lock_guard<std::mutex> lock(mu_);
    auto it = models_.find(name);
    if (it == models_.end() || it->second.versions.empty()) {
        status = Status::NotFound;
        err = "unknown model: '" + name + "'" + (it != models_.end() ? " (" + it->second.reason + ")" : "");
        return nullptr;
    }
    const auto &vs = it->second.versions;
    auto v = version == 0 ? std::prev(vs.end()) : vs.find(version);
    if (v == vs.end()) {
        status = Status::NotFound;
        err = "model '" + name + "' has no version " + std::to_string(version) + " loaded";
        return nullptr;
    }
    status = Status::Ok;
    return v->second;
}

std::vector<int64_t> Repository::versions(const std::string &name)
{
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<int64_t> out;
    auto it = models_.find(name);
    if (it != models_.end())
        for (const auto &[v, p] : it->second.versions) out.push_back(v);
    return out;
}

nlohmann::json Repository::index(bool ready_only)
{
    const auto dirs = model_dirs();
    std::lock_guard<std::mutex> lock(mu_);
    nlohmann::json a = nlohmann::json::array();
    for (const auto &name : dirs) {
        auto it = models_.find(name);
        if (it != models_.end() && !it->second.versions.empty()) {
            for (const auto &[v, p] : it->second.versions)
                a.push_back({{"name", name}, {"version", std::to_string(v)}, {"state", "READY"}, {"reason", ""}});
        } else if (!ready_only) {
            a.push_back({{"name", name},
                         {"state", "UNAVAILABLE"},
                         {"reason", it != models_.end() ? it->second.reason : "not loaded"}});
        }
    }
    return a;
}

void Repository::drain()
{
    std::vector<VersionPtr> all;
    {
        std::lock_guard<std::mutex> lock(mu_);
        draining_ = true;
        for (const auto &[n, e] : models_)
            for (const auto &[v, p] : e.versions) all.push_back(p);
    }
    for (auto &p : all) p->close_and_join();
}

bool Repository::draining()
{
    std::lock_guard<std::mutex> lock(mu_);
    return draining_;
}

}  // namespace mtia_serve
