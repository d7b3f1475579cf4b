// SPDX-License-Identifier: MIT
#include "ptq.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "errors.h"
#include "host_exec.h"
#include "mtia/mtia_quant.h"
#include "quant_fuse.h"

namespace mtia::compiler {

namespace {

// Float storages (roots) to quantize: what int8-capable ops read as in[0]
// and write, but never a graph output's (outputs keep their float type).
std::vector<int> storages_to_quantize(const DevGraph &d)
{
    std::set<int> outputs;
    for (int t : d.outputs) outputs.insert(d.root(t));
    std::vector<int> roots;
    auto add = [&](int t) {
        const int r = d.root(t);
        const DevTensor &x = d.tensors[r];
        if (x.dtype != MTIA_DTYPE_F32 || x.kind == TensorKind::Weight || outputs.count(r)) return;
        if (std::find(roots.begin(), roots.end(), r) == roots.end()) roots.push_back(r);
    };
    for (const DevOp &op : d.ops) {
        if (!int8_capable(d, op)) continue;
        add(op.in[0]);
        add(op.out);
    }
    return roots;
}

// The int8 scale and zero point that cover [lo, hi] (which contains 0).
void int8_params(float lo, float hi, float *scale, int32_t *zero_point)
{
    const float span = hi - lo;
    *scale = span > 0.0f ? span / 255.0f : 1.0f;
    const float z = std::nearbyint(-128.0f - lo / *scale);
    *zero_point = static_cast<int32_t>(std::min(127.0f, std::max(-128.0f, z)));
}

// Runs the float program (every storage its own bytes) over the set:
// ranges of @roots, and the outputs.
std::vector<TensorRange> observe(const DevGraph &d, const std::vector<int> &roots, PtqState &st,
                                 CalibrationMethod method)
{
    DevGraph f = d;
    const ArenaLayout layout = place_tensors(f, false);
    HostProgram host(f, layout);
    std::vector<TensorRange> ranges(roots.size());
    for (int pass = 0; pass < (needs_histogram(method) ? 2 : 1); ++pass) {
        for (size_t r = 0; r < st.set.runs.size(); ++r) {
            for (size_t k = 0; k < f.inputs.size(); ++k) host.set_input(k, st.set.runs[r][k].data());
            try {
                host.run();
            } catch (const CompileError &e) {
                fail(e.kind(), "--calibrate: run " + std::to_string(r) + ": " + e.what());
            }
            for (size_t i = 0; i < roots.size(); ++i) {
                const std::vector<float> v = host.floats(roots[i]);
                if (pass == 1) {
                    ranges[i].add_histogram(v.data(), v.size());
                } else if (!ranges[i].add_minmax(v.data(), v.size())) {
                    fail(ErrorKind::kUsage, "--calibrate: run " + std::to_string(r) + ": '" + f.tensors[roots[i]].name +
                                                "' holds a NaN or an infinity: no range to quantize it to");
                }
            }
            if (pass == 1) continue;
            std::vector<std::vector<float>> outs;
            for (int t : f.outputs) {
                const uint8_t dt = f.tensors[t].dtype;
                outs.push_back(mtia_dtype_is_float(dt) || mtia_dtype_is_quant(dt) ? host.floats(t)
                                                                                  : std::vector<float>{});
            }
            st.float_outputs.push_back(std::move(outs));
        }
    }
    return ranges;
}

// Storage @r becomes a quantize CAST into int8 with @scale/@zp and a
// dequantize CAST back, placed after r's last writer; every op reading r
// (or a view of it) reads the dequantized copy (the same view of it).
void insert_qdq(DevGraph &d, int r, float scale, int32_t zp)
{
    const std::string name = d.tensors[r].name;
    DevTensor q;
    q.name = name + ".int8";
    q.shape = d.tensors[r].shape;
    q.dtype = MTIA_DTYPE_I8;
    q.scale = scale;
    q.zero_point = zp;
    const int qt = d.add_tensor(std::move(q));
    DevTensor dq;
    dq.name = name + ".dq";
    dq.shape = d.tensors[r].shape;
    const int dqt = d.add_tensor(std::move(dq));
    size_t at = 0;  // after the last writer
    for (size_t i = 0; i < d.ops.size(); ++i)
        if (d.root(d.ops[i].out) == r) at = i + 1;
    for (size_t i = at; i < d.ops.size(); ++i)
        for (int &t : d.ops[i].in) {
            if (d.root(t) != r) continue;
            t = t == r ? dqt : d.add_view(dqt, d.tensors[t].shape, d.offset_in_root(t), d.tensors[t].name + ".dq");
        }
    const uint64_t n = d.tensors[r].bytes() / 4;
    DevOp quant, dequant;
    quant.kind = dequant.kind = MTIA_OP_CAST;
    quant.name = dequant.name = name + " (int8)";
    quant.in = {r};
    quant.out = qt;
    dequant.in = {qt};
    dequant.out = dqt;
    quant.flops = dequant.flops = n;
    d.ops.insert(d.ops.begin() + static_cast<std::ptrdiff_t>(at), {quant, dequant});
}

}  // namespace

std::optional<PtqOptions> parse_quantize_options(const std::string &quantize, const std::string &calibration,
                                                 const std::string &method)
{
    if (quantize.empty()) {
        if (!calibration.empty() || !method.empty())
            fail(ErrorKind::kUsage, "--calibrate and --calibration-method go with --quantize int8");
        return std::nullopt;
    }
    if (quantize != "int8") fail(ErrorKind::kUsage, "--quantize '" + quantize + "': the only choice is int8");
    if (calibration.empty())
        fail(ErrorKind::kUsage, "--quantize int8 needs --calibrate FILE.npz (representative inputs)");
    return PtqOptions{calibration, method.empty() ? CalibrationMethod::kMinMax : parse_calibration_method(method)};
}

PtqState quantize_int8(DevGraph &d, const PtqOptions &opts)
{
    PtqState st;
    st.set = load_calibration(opts.calibration, d);
    st.report.method = calibration_method_name(opts.method);
    st.report.runs = st.set.runs.size();
    const std::vector<int> roots = storages_to_quantize(d);
    if (roots.empty()) return st;  // nothing runs int8: the summary's int8 ops say so
    const std::vector<TensorRange> ranges = observe(d, roots, st, opts.method);
    for (size_t i = 0; i < roots.size(); ++i) {
        float lo, hi, scale;
        int32_t zp;
        ranges[i].range(opts.method, &lo, &hi);
        int8_params(lo, hi, &scale, &zp);
        insert_qdq(d, roots[i], scale, zp);
    }
    st.report.tensors = static_cast<int>(roots.size());
    return st;
}

void measure_int8(const DevGraph &d, const ArenaLayout &layout, PtqState &st)
{
    HostProgram host(d, layout);
    std::vector<Summary::Calibration::Output> &outs = st.report.outputs;
    outs.clear();
    for (size_t k = 0; k < d.outputs.size(); ++k) outs.push_back({d.tensors[d.outputs[k]].name});
    std::vector<uint64_t> rows(outs.size(), 0), agree(outs.size(), 0);
    for (size_t r = 0; r < st.set.runs.size(); ++r) {
        for (size_t k = 0; k < d.inputs.size(); ++k) host.set_input(k, st.set.runs[r][k].data());
        host.run();
        for (size_t k = 0; k < d.outputs.size(); ++k) {
            const std::vector<float> &ref = st.float_outputs[r][k];
            if (ref.empty()) continue;  // an integer output
            const std::vector<float> got = host.floats(d.outputs[k]);
            for (size_t i = 0; i < ref.size(); ++i) {
                outs[k].max_abs_error = std::max(outs[k].max_abs_error, std::fabs(double(got[i]) - ref[i]));
                outs[k].max_abs_ref = std::max(outs[k].max_abs_ref, std::fabs(double(ref[i])));
            }
            // A classifier's (N, C) scores: does each row's best class stay?
            const Shape &s = d.tensors[d.outputs[k]].shape;
            if (s.size() != 2 || s[1] < 2) continue;
            const size_t c = static_cast<size_t>(s[1]);
            for (size_t i = 0; i + c <= ref.size(); i += c) {
                const auto a = std::max_element(ref.begin() + i, ref.begin() + i + c) - ref.begin();
                const auto b = std::max_element(got.begin() + i, got.begin() + i + c) - got.begin();
                ++rows[k];
                agree[k] += a == b;
            }
        }
    }
    for (size_t k = 0; k < outs.size(); ++k)
        outs[k].top1 = rows[k] ? static_cast<double>(agree[k]) / static_cast<double>(rows[k]) : -1.0;
}

}  // namespace mtia::compiler
