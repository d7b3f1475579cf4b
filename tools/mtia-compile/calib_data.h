// SPDX-License-Identifier: MIT
// --calibrate FILE.npz: representative inputs for post-training
// quantization (ptq.h). One array per graph input, named after it (or
// numpy.savez's positional arr_0, arr_1, ... in input order), of the
// input's dtype; each array gives S runs, the same S for every input:
//   shape (S, *input shape): run r is the array's r-th entry;
//   the input's rank, dims after the first equal and dim 0 a multiple
//   k * B of the input's B: run r is rows [r*B, (r+1)*B).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dev_graph.h"

namespace mtia::compiler {

struct CalibrationSet {
    // runs[r][k]: graph input k's bytes in run r (its dtype and size).
    std::vector<std::vector<std::vector<uint8_t>>> runs;
};

// Reads @path for the inputs of @d; throws CompileError (kUsage) naming the
// file and the array for anything that does not fit.
CalibrationSet load_calibration(const std::string &path, const DevGraph &d);

}  // namespace mtia::compiler
