// SPDX-License-Identifier: MIT
// --quantize int8 --calibrate FILE.npz (docs/mtia-compile.md, "Post-training
// quantization"): static post-training quantization of a float model. The
// float program runs on the host's copy of the device's compute engine over
// the calibration runs (calib_data.h); every activation a CONV or GEMM with
// constant weights reads, and each one's output, gets a per-tensor int8
// scale and zero point from its range (calib_stats.h), as a quantize/
// dequantize CAST pair - the QDQ form a pre-quantized model lowers to - so
// fuse_quantized (quant_fuse.h) then makes those ops the device's
// per-channel int8 ones with the requantization in their epilogue, and
// the ops around them read and write int8. After placement, the quantized
// program runs over the same inputs and its outputs are compared with the
// float program's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "calib_data.h"
#include "calib_stats.h"
#include "dev_graph.h"
#include "memory_plan.h"
#include "summary.h"

namespace mtia::compiler {

struct PtqOptions {
    std::string calibration;  // .npz path
    CalibrationMethod method = CalibrationMethod::kMinMax;
};

// --quantize, --calibrate, --calibration-method ("" where not given):
// nullopt without any; the options, or CompileError (kUsage) saying what is
// missing or wrong.
std::optional<PtqOptions> parse_quantize_options(const std::string &quantize, const std::string &calibration,
                                                 const std::string &method);

// What the second half needs from the first.
struct PtqState {
    CalibrationSet set;
    std::vector<std::vector<std::vector<float>>> float_outputs;  // [run][output k]
    Summary::Calibration report;
};

// On the lowered, fused float program (before fuse_quantized): calibrates
// and inserts the CAST pairs. Throws CompileError for bad calibration data.
PtqState quantize_int8(DevGraph &d, const PtqOptions &opts);

// On the final placed program: fills state.report's per-output errors.
void measure_int8(const DevGraph &d, const ArenaLayout &layout, PtqState &state);

}  // namespace mtia::compiler
