// SPDX-License-Identifier: MIT
// A served model's config: DIR/NAME/config.json (docs/serving.md), every key
// optional. Parsed strictly (unknown keys and wrong types are errors naming
// the key) so a typo does not silently fall back to a default.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mtia_serve {

/// What DIR/NAME/config.json says; defaults when absent.
struct ModelConfig {
    /// Samples one device run takes (dim 0 summed over coalesced requests);
    /// 0: the model's largest batch bucket (1 run per request for a model
    /// without buckets, which run_batch coalesces instead).
    uint32_t max_batch = 0;
    /// How long the first queued request waits for others to join its batch.
    uint64_t max_queue_delay_us = 1000;
    /// Requests queued (not yet running) before new ones get 429.
    uint32_t queue_capacity = 64;
    /// Model instances (each its own libmtia Model and batcher thread) per device.
    uint32_t instances_per_device = 1;
    /// Runtime device indices; empty: every visible device.
    std::vector<int> devices;
    /// Versions served: empty means the latest only; or the listed ones.
    std::vector<int64_t> versions;
    /// "all" in config: every version directory.
    bool all_versions = false;
    /// Whether dynamic batching is on (false: each request runs alone).
    bool dynamic_batching = true;
};

/// Parses config.json's text; throws std::invalid_argument naming the key.
ModelConfig parse_model_config(const std::string &text);

}  // namespace mtia_serve
