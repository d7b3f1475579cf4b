// SPDX-License-Identifier: MIT
// A placed program run on the host by the device's own compute engine
// (qemu-device/core/mtia_compute.h): calibration (calibrate.h) sees exactly
// the values the device computes, on any host ISA.
#pragma once

#include <cstdint>
#include <vector>

#include "dev_graph.h"
#include "memory_plan.h"
#include "mtia/mtia_spec.h"

namespace mtia::compiler {

class HostProgram {
public:
    // @d placed by place_tensors into @layout; @d must outlive this.
    HostProgram(const DevGraph &d, const ArenaLayout &layout);

    // Graph input k: bytes of its dtype and size (checked by the caller).
    void set_input(size_t k, const uint8_t *data);
    // Runs every op. An index outside its table throws CompileError
    // (kUsage) naming the op: calibration data are user input. Any other
    // failure is the compiler's (kInternal).
    void run();
    // Tensor t's values as float32 (F16/BF16 widened, I8/U8 dequantized).
    std::vector<float> floats(int t) const;

private:
    const DevGraph &d_;
    std::vector<mtia_op> ops_;
    std::vector<uint8_t> arena_;
};

}  // namespace mtia::compiler
