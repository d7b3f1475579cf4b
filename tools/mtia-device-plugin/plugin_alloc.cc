// SPDX-License-Identifier: MIT
// Allocate and GetPreferredAllocation answers (plugin_alloc.h). The
// preference is greedy: each step takes the available device closest to
// those already chosen (same parent bridge, else same NUMA node), ties by
// the kubelet's order, which is good enough for the handful of devices a
// node has and is easy to predict.
#include "plugin_alloc.h"

#include <algorithm>
#include <map>

namespace mtia::dp {

namespace {

const PluginDevice *lookup(const std::vector<PluginDevice> &devices, const std::string &id)
{
    auto it = std::find_if(devices.begin(), devices.end(), [&](const PluginDevice &d) { return d.id == id; });
    return it == devices.end() ? nullptr : &*it;
}

bool contains(const std::vector<std::string> &v, const std::string &s)
{
    return std::find(v.begin(), v.end(), s) != v.end();
}

// 2: shares a parent bridge with one of @chosen; 1: a NUMA node; 0: neither.
int closeness(const PluginDevice &d, const std::vector<const PluginDevice *> &chosen)
{
    int best = 0;
    for (const PluginDevice *c : chosen) {
        if (!d.parent.empty() && d.parent == c->parent) return 2;
        if (d.numa_node >= 0 && d.numa_node == c->numa_node) best = 1;
    }
    return best;
}

}  // namespace

std::string allocate_container(const std::vector<PluginDevice> &devices, const std::vector<std::string> &ids,
                               ContainerDevices *out)
{
    *out = {};
    if (ids.empty()) return "no device IDs in the container request";
    std::vector<std::string> seen;
    for (const auto &id : ids) {
        const PluginDevice *d = lookup(devices, id);
        if (!d) return "unknown device ID '" + id + "'";
        if (contains(seen, id)) return "device ID '" + id + "' requested twice";
        if (d->dev_path.empty()) return "device " + id + " (" + d->bus_id + ") has no accel node: " + d->reason;
        seen.push_back(id);
        out->host_paths.push_back(d->dev_path);
        out->container_paths.push_back("/dev/accel/" + d->dev_path.substr(d->dev_path.rfind('/') + 1));
        out->visible_devices += (out->visible_devices.empty() ? "" : ",") + id;
    }
    return {};
}

std::string preferred_allocation(const std::vector<PluginDevice> &devices, const std::vector<std::string> &available,
                                 const std::vector<std::string> &must_include, int size, std::vector<std::string> *out)
{
    out->clear();
    std::vector<const PluginDevice *> pool;
    for (const auto &id : available) {
        const PluginDevice *d = lookup(devices, id);
        if (!d) return "unknown device ID '" + id + "' in available_deviceIDs";
        if (std::find(pool.begin(), pool.end(), d) == pool.end()) pool.push_back(d);
    }
    if (size <= 0 || static_cast<size_t>(size) > pool.size()) {
        return "allocation_size " + std::to_string(size) + " out of range 1.." + std::to_string(pool.size());
    }
    std::vector<const PluginDevice *> chosen;
    for (const auto &id : must_include) {
        auto it = std::find_if(pool.begin(), pool.end(), [&](const PluginDevice *d) { return d->id == id; });
        if (it == pool.end()) return "must_include device '" + id + "' is not in available_deviceIDs";
        if (std::find(chosen.begin(), chosen.end(), *it) == chosen.end()) chosen.push_back(*it);
    }
    if (chosen.size() > static_cast<size_t>(size)) {
        return std::to_string(chosen.size()) + " must_include devices exceed allocation_size " + std::to_string(size);
    }
    auto remaining = [&] {
        std::vector<const PluginDevice *> r;
        for (const PluginDevice *d : pool) {
            if (std::find(chosen.begin(), chosen.end(), d) == chosen.end()) r.push_back(d);
        }
        return r;
    };
    if (chosen.empty()) {
        // Seed: a device of the largest bridge group, ties by NUMA group size.
        std::map<std::string, int> by_parent;
        std::map<int, int> by_numa;
        for (const PluginDevice *d : pool) {
            by_parent[d->parent]++;
            by_numa[d->numa_node]++;
        }
        const PluginDevice *seed = nullptr;
        auto weight = [&](const PluginDevice *d) {
            int p = d->parent.empty() ? 1 : by_parent[d->parent];
            int n = d->numa_node < 0 ? 1 : by_numa[d->numa_node];
            return p * 1000 + n;
        };
        for (const PluginDevice *d : pool) {
            if (!seed || weight(d) > weight(seed)) seed = d;
        }
        chosen.push_back(seed);
    }
    while (chosen.size() < static_cast<size_t>(size)) {
        const PluginDevice *best = nullptr;
        int best_score = -1;
        for (const PluginDevice *d : remaining()) {
            int s = closeness(*d, chosen);
            if (s > best_score) {
                best = d;
                best_score = s;
            }
        }
        chosen.push_back(best);
    }
    for (const PluginDevice *d : chosen) out->push_back(d->id);
    return {};
}

}  // namespace mtia::dp
