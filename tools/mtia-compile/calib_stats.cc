// SPDX-License-Identifier: MIT
#include "calib_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "errors.h"

namespace mtia::compiler {

CalibrationMethod parse_calibration_method(const std::string &s)
{
    if (s == "minmax") return CalibrationMethod::kMinMax;
    if (s == "percentile") return CalibrationMethod::kPercentile;
    if (s == "entropy") return CalibrationMethod::kEntropy;
    fail(ErrorKind::kUsage, "--calibration-method '" + s + "': want minmax, percentile or entropy");
}

const char *calibration_method_name(CalibrationMethod m)
{
    return m == CalibrationMethod::kMinMax ? "minmax" : m == CalibrationMethod::kPercentile ? "percentile" : "entropy";
}

bool needs_histogram(CalibrationMethod m) { return m != CalibrationMethod::kMinMax; }

bool TensorRange::add_minmax(const float *v, size_t n)
{
    float lo = min_, hi = max_;
    bool finite = true;
    for (size_t i = 0; i < n; ++i) {
        finite &= std::isfinite(v[i]);
        lo = std::min(lo, v[i]);
        hi = std::max(hi, v[i]);
    }
    min_ = lo;
    max_ = hi;
    return finite;
}

void TensorRange::add_histogram(const float *v, size_t n)
{
    if (hist_.empty()) hist_.assign(kHistogramBins, 0);
    const float amax = std::max(-min_, max_);
    if (amax <= 0.0f) return;
    const float per = kHistogramBins / amax;
    for (size_t i = 0; i < n; ++i) {
        const int b = static_cast<int>(std::fabs(v[i]) * per);
        ++hist_[static_cast<size_t>(std::min(b, kHistogramBins - 1))];
    }
}

void TensorRange::range(CalibrationMethod m, float *lo, float *hi) const
{
    *lo = min_;
    *hi = max_;
    const float amax = std::max(-min_, max_);
    if (m == CalibrationMethod::kMinMax || amax <= 0.0f || hist_.empty()) return;
    const float width = amax / kHistogramBins;
    const float t = m == CalibrationMethod::kPercentile ? percentile_threshold(hist_, width, kPercentile)
                                                        : entropy_threshold(hist_, width);
    *lo = std::max(min_, -t);
    *hi = std::min(max_, t);
}

float percentile_threshold(const std::vector<uint64_t> &hist, float width, double percent)
{
    uint64_t total = 0;
    for (uint64_t c : hist) total += c;
    const double want = total * (percent / 100.0);
    uint64_t seen = 0;
    for (size_t b = 0; b < hist.size(); ++b) {
        seen += hist[b];
        if (seen >= want) return static_cast<float>(b + 1) * width;
    }
    return static_cast<float>(hist.size()) * width;
}

// For each candidate threshold i: P is the histogram's bins [0, i) with
// every value past them clipped into bin i - 1; Q is bins [0, i) alone
// merged into @levels groups and spread back evenly over each group's
// non-empty bins. Clipping too much puts mass in P's last bin that Q lacks;
// clipping too little leaves each level too coarse. The threshold is the i
// minimising KL(P || Q), each normalised, a bin where Q is 0 but P is not
// counted as Q = 1e-4 (onnxruntime's smoothing) so that clipping a few
// outliers into an empty bin costs little rather than infinitely much.
// Bin 0 counts as bin 1 (NVIDIA's pytorch-quantization does the same): the
// exact zeros a ReLU writes are a spike that would otherwise make every
// wide group look costly and the threshold far too small.
float entropy_threshold(const std::vector<uint64_t> &counts, float width, int levels)
{
    const int n = static_cast<int>(counts.size());
    if (n <= levels) return static_cast<float>(n) * width;
    std::vector<uint64_t> hist = counts;
    hist[0] = hist[1];
    auto h = [&](int b) { return static_cast<double>(hist[static_cast<size_t>(b)]); };
    std::vector<double> tail(static_cast<size_t>(n) + 1, 0.0);  // tail[i] = sum of hist[i..n)
    for (int b = n - 1; b >= 0; --b) tail[static_cast<size_t>(b)] = tail[static_cast<size_t>(b) + 1] + h(b);
    const double total = tail[0];
    if (total == 0.0) return static_cast<float>(n) * width;
    double best = std::numeric_limits<double>::infinity();
    int best_i = n;
    std::vector<double> q(static_cast<size_t>(n));
    for (int i = levels; i <= n; ++i) {
        const double q_total = total - tail[static_cast<size_t>(i)];  // P keeps every value, Q those below i
        if (q_total == 0.0) continue;
        for (int g = 0; g < levels; ++g) {  // group g: bins [i*g/levels, i*(g+1)/levels)
            const int a = static_cast<int>(static_cast<int64_t>(i) * g / levels);
            const int e = static_cast<int>(static_cast<int64_t>(i) * (g + 1) / levels);
            double sum = 0.0;
            int nonzero = 0;
            for (int b = a; b < e; ++b) {
                sum += h(b);
                nonzero += hist[static_cast<size_t>(b)] != 0;
            }
            for (int b = a; b < e; ++b) q[static_cast<size_t>(b)] = h(b) != 0.0 ? sum / nonzero : 0.0;
        }
        double kl = 0.0;
        for (int b = 0; b < i && kl < best; ++b) {
            const double p = h(b) + (b == i - 1 ? tail[static_cast<size_t>(i)] : 0.0);
            if (p == 0.0) continue;
            const double qb = q[static_cast<size_t>(b)] != 0.0 ? q[static_cast<size_t>(b)] / q_total : 1e-4;
            kl += (p / total) * std::log((p / total) / qb);
        }
        if (kl < best) {
            best = kl;
            best_i = i;
        }
    }
    return static_cast<float>(best_i) * width;
}

}  // namespace mtia::compiler
