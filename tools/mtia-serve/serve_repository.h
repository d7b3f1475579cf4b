// SPDX-License-Identifier: MIT
// The model repository: DIR/NAME/VERSION/model.mtia plus an optional
// DIR/NAME/config.json (serve_config.h, docs/serving.md). A loaded version
// holds, per configured device, instances_per_device libmtia Models each
// with a batcher thread on the version's one request queue. load() (re)reads
// a model's directory and swaps the new versions in; unload() removes them:
// requests already queued or running on the old ones still finish (their
// holders keep them alive), new ones get 404/503. drain() closes every queue
// for a graceful shutdown.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mtia/mtia.hpp"
#include "serve_batcher.h"
#include "serve_config.h"
#include "serve_metrics.h"

namespace mtia_serve {

/// One served version of a model.
class ModelVersion {
public:
    ModelVersion(std::string name, int64_t version, const ModelConfig &config, const std::string &path,
                 const std::vector<const mtia::Device *> &devices, Metrics &metrics);
    ~ModelVersion();  ///< closes the queue, joins the batchers

    const std::string &name() const { return name_; }
    int64_t version() const { return version_; }
    const std::vector<mtia::TensorInfo> &inputs() const { return inputs_; }
    const std::vector<mtia::TensorInfo> &outputs() const { return outputs_; }
    /// The model's metadata (protocol "model metadata" response).
    nlohmann::json metadata(const std::vector<int64_t> &versions) const;
    /// Orders r's inputs as the model's and checks names, types and shapes;
    /// sets r.samples. BadRequest with err saying what is wrong.
    Status prepare(Request &r, std::string &err) const;
    RequestQueue &queue() { return *queue_; }
    /// Refuses new requests and waits for the batchers to finish the queued ones.
    void close_and_join();

private:
    std::string name_;
    int64_t version_;
    std::vector<mtia::TensorInfo> inputs_, outputs_;
    std::vector<uint32_t> buckets_;
    bool coalesce_ = false;  ///< requests' batched inputs concatenate (serve_runner.h)
    std::unique_ptr<RequestQueue> queue_;
    std::vector<std::unique_ptr<Batcher>> batchers_;  // after queue_: destroyed first
};
using VersionPtr = std::shared_ptr<ModelVersion>;

class Repository {
public:
    Repository(std::string dir, Metrics &metrics);
    /// Loads every model directory; errors are logged and kept as the
    /// model's UNAVAILABLE reason.
    void load_all();
    /// (Re)loads NAME from its directory; NotFound or BadRequest with err.
    Status load(const std::string &name, std::string &err);
    /// Unloads NAME; NotFound if it is not loaded.
    Status unload(const std::string &name, std::string &err);
    /// NAME at version (0: the latest loaded); null with status/err if none.
    VersionPtr find(const std::string &name, int64_t version, Status &status, std::string &err);
    /// Loaded version numbers of NAME, ascending.
    std::vector<int64_t> versions(const std::string &name);
    /// The repository index: every model directory with its versions' states.
    nlohmann::json index(bool ready_only);
    /// Closes every queue (new requests 503) and waits until all queued and
    /// running requests finished.
    void drain();
    bool draining();

private:
    struct Entry {
        std::map<int64_t, VersionPtr> versions;
        std::string reason;  ///< why it is not loaded ("" if it is)
    };
    /// Opens (once) and returns the runtime devices config asks for.
    std::vector<const mtia::Device *> devices_for_locked(const ModelConfig &config);
    std::map<int64_t, VersionPtr> build(const std::string &name);
    std::vector<std::string> model_dirs();

    std::string dir_;
    Metrics &metrics_;
    std::mutex load_mu_;  ///< Serialises load/unload (slow: device loads) without blocking find().
    std::mutex mu_;       ///< Protects models_, devices_ and draining_.
    std::map<std::string, Entry> models_;
    std::map<int, mtia::Device> devices_;  // opened once, never closed
    bool draining_ = false;
};

}  // namespace mtia_serve
