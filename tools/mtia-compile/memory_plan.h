// SPDX-License-Identifier: MIT
// Static memory plan. The arena is [weights | activations]: weights packed
// from offset 0, then every activation/input/output storage placed by its
// lifetime so storages never live at the same time share bytes.
// Placement is greedy by size with best fit (largest first, each into the
// smallest gap left by the already-placed storages it overlaps in time).
#pragma once

#include <cstdint>
#include <vector>

#include "dev_graph.h"

namespace mtia::compiler {

// A storage live over time steps [first, last] (inclusive).
struct LiveRange {
    uint64_t size = 0;
    int first = 0, last = 0;
};

// Offsets (multiples of align) for ranges; *peak = end of the highest one.
std::vector<uint64_t> plan_offsets(const std::vector<LiveRange> &ranges, uint64_t align, uint64_t *peak);
// True if no two ranges overlapping in time overlap in [offset, offset+size).
bool plan_is_valid(const std::vector<LiveRange> &ranges, const std::vector<uint64_t> &offsets);

struct ArenaLayout {
    uint64_t weights_bytes = 0;      // image size (64-aligned)
    int64_t weight_elements = 0;     // parameters
    uint64_t activations_peak = 0;   // bytes of the activation region
    uint64_t activations_total = 0;  // sum of all activation storages (no reuse)
    uint64_t arena_size = 0;
    std::vector<uint8_t> weights;  // the image
};

// Sets every tensor's offset (views: root offset + their offset in it).
// Time steps: graph inputs are written at step 0, op i runs at step i + 1,
// graph outputs are read at step ops + 1. Without @reuse every storage has
// bytes of its own (calibration reads every tensor after a run, on the host,
// so the device's memory size does not limit it).
ArenaLayout place_tensors(DevGraph &d, bool reuse = true);

}  // namespace mtia::compiler
