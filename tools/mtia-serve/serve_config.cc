// SPDX-License-Identifier: MIT
// config.json parsing (serve_config.h).
#include "serve_config.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

namespace mtia_serve {

namespace {

uint64_t get_uint(const nlohmann::json &v, const std::string &key, uint64_t lo, uint64_t hi)
{
    if (!v.is_number_unsigned() || v.get<uint64_t>() < lo || v.get<uint64_t>() > hi)
        throw std::invalid_argument("config.json: '" + key + "' must be an integer in " + std::to_string(lo) + ".." +
                                    std::to_string(hi));
    return v.get<uint64_t>();
}

}  // namespace

ModelConfig parse_model_config(const std::string &text)
{
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &e) {
        throw std::invalid_argument(std::string("config.json: not JSON: ") + e.what());
    }
    if (!j.is_object()) throw std::invalid_argument("config.json: not a JSON object");
    ModelConfig c;
    for (const auto &[key, v] : j.items()) {
        if (key == "max_batch") {
            c.max_batch = static_cast<uint32_t>(get_uint(v, key, 0, 1u << 16));
        } else if (key == "max_queue_delay_us") {
            c.max_queue_delay_us = get_uint(v, key, 0, 10'000'000);
        } else if (key == "queue_capacity") {
            c.queue_capacity = static_cast<uint32_t>(get_uint(v, key, 1, 1u << 20));
        } else if (key == "instances_per_device") {
            c.instances_per_device = static_cast<uint32_t>(get_uint(v, key, 1, 64));
        } else if (key == "dynamic_batching") {
            if (!v.is_boolean()) throw std::invalid_argument("config.json: 'dynamic_batching' must be true or false");
            c.dynamic_batching = v.get<bool>();
        } else if (key == "devices") {
            if (!v.is_array() || v.empty())
                throw std::invalid_argument("config.json: 'devices' must be a non-empty array of device indices");
            for (const auto &d : v) c.devices.push_back(static_cast<int>(get_uint(d, "devices[]", 0, 255)));
        } else if (key == "versions") {
            if (v.is_string() && v.get<std::string>() == "all") {
                c.all_versions = true;
            } else if (v.is_string() && v.get<std::string>() == "latest") {
                c.all_versions = false;
            } else if (v.is_array() && !v.empty()) {
                for (const auto &n : v)
                    c.versions.push_back(static_cast<int64_t>(get_uint(n, "versions[]", 1, INT64_MAX)));
            } else {
                throw std::invalid_argument("config.json: 'versions' must be \"latest\", \"all\" or a non-empty array");
            }
        } else {
            throw std::invalid_argument("config.json: unknown key '" + key + "'");
        }
    }
    return c;
}

}  // namespace mtia_serve
