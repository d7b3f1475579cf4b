// SPDX-License-Identifier: MIT
// Activation ranges for post-training quantization (ptq.h) from the values a
// tensor takes over the calibration runs (--calibration-method):
//   minmax     the smallest and largest value seen;
//   percentile clipped to the 99.99th percentile of |x| (outliers saturate);
//   entropy    clipped where the 128-level quantized histogram of |x| is
//              closest to the original in KL divergence (TensorRT's
//              calibration; Migacz, "8-bit Inference with TensorRT", 2017).
// The last two histogram |x| into 2048 bins over [0, max|x|], which a first
// pass over the runs finds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace mtia::compiler {

enum class CalibrationMethod { kMinMax, kPercentile, kEntropy };

// "minmax", "percentile", "entropy"; throws CompileError (kUsage) otherwise.
CalibrationMethod parse_calibration_method(const std::string &s);
const char *calibration_method_name(CalibrationMethod m);
bool needs_histogram(CalibrationMethod m);

constexpr int kHistogramBins = 2048;
constexpr int kEntropyLevels = 128;
constexpr double kPercentile = 99.99;

class TensorRange {
public:
    // First pass: every value (false if one is NaN or infinite).
    bool add_minmax(const float *v, size_t n);
    // Second pass (after every add_minmax): |x| into the histogram.
    void add_histogram(const float *v, size_t n);
    // [lo, hi] to quantize to, containing 0 (a zero must be exact).
    void range(CalibrationMethod m, float *lo, float *hi) const;

private:
    float min_ = 0.0f, max_ = 0.0f;
    std::vector<uint64_t> hist_;
};

// |x| thresholds from a histogram of kHistogramBins bins of @width
// (bin b holds [b, b+1) * width): the bin edge below which @percent of the
// values lie, and the entropy method's.
float percentile_threshold(const std::vector<uint64_t> &hist, float width, double percent);
float entropy_threshold(const std::vector<uint64_t> &hist, float width, int levels = kEntropyLevels);

}  // namespace mtia::compiler
