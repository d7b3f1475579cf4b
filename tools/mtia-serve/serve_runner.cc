// SPDX-License-Identifier: MIT
// libmtia runs of a batch (serve_runner.h).
#include "serve_runner.h"

namespace mtia_serve {

namespace {

std::vector<int64_t> tail_dims(const mtia::TensorInfo &t)
{
    return std::vector<int64_t>(t.shape.begin() + 1, t.shape.end());
}

}  // namespace

bool coalesces(const mtia::Model &m)
{
    if (m.batch_buckets().empty()) return false;
    for (const auto &t : m.inputs())
        if (t.batch_axis != 0) return false;
    for (const auto &t : m.outputs())
        if (t.batch_axis != 0) return false;
    return true;
}

size_t bytes_per_sample(const mtia::Model &m, const mtia::TensorInfo &t)
{
    return m.batch_buckets().empty() || t.batch_axis != 0 ? t.bytes : t.bytes / m.batch_buckets().back();
}

ModelRunner::ModelRunner(mtia::Model model) : model_(std::move(model)), coalesce_(coalesces(model_)) {}

void ModelRunner::run(const std::vector<RequestPtr> &batch)
{
    host_ = {};  // a run that throws early reports no host time
    if (coalesce_)
        run_concatenated(batch);
    else
        run_each(batch);
}

void ModelRunner::run_concatenated(const std::vector<RequestPtr> &batch)
{
    const auto t0 = Clock::now();
    size_t samples = 0;
    for (const auto &r : batch) samples += r->samples;
    std::vector<std::vector<uint8_t>> in, out;
    std::vector<mtia::HostInput> hin;
    std::vector<mtia::HostOutput> hout;
    for (size_t i = 0; i < model_.inputs().size(); i++) {
        in.push_back(concat_dim0(batch, i));
        hin.push_back({in.back().data(), in.back().size()});
    }
    for (const auto &t : model_.outputs()) out.emplace_back(samples * bytes_per_sample(model_, t));
    for (auto &o : out) hout.push_back({o.data(), o.size()});
    const auto t1 = Clock::now();
    host_ = {std::chrono::duration<double>(t1 - t0).count(), 0};
    model_.run(hin, hout);
    const auto t2 = Clock::now();
    for (size_t i = 0; i < out.size(); i++) {
        const auto &t = model_.outputs()[i];
        split_dim0(batch, out[i].data(), bytes_per_sample(model_, t), t.name, t.dtype, tail_dims(t));
    }
    host_.output = std::chrono::duration<double>(Clock::now() - t2).count();
}

void ModelRunner::run_each(const std::vector<RequestPtr> &batch)
{
    const auto t0 = Clock::now();
    std::vector<std::vector<mtia::HostInput>> hin(batch.size());
    std::vector<std::vector<mtia::HostOutput>> hout(batch.size());
    for (size_t b = 0; b < batch.size(); b++) {
        Request &r = *batch[b];
        // Dim 0 of the batched inputs (any bucket's model: run() picks the bucket).
        uint32_t rows = 1;
        for (size_t i = 0; i < r.inputs.size(); i++) {
            hin[b].push_back({r.inputs[i].data.data(), r.inputs[i].data.size()});
            if (model_.inputs()[i].batch_axis == 0) rows = static_cast<uint32_t>(r.inputs[i].shape[0]);
        }
        r.outputs.clear();
        for (const auto &info : model_.outputs()) {
            Tensor t;
            t.name = info.name;
            t.dtype = info.dtype;
            if (info.batch_axis == 0 && !model_.batch_buckets().empty()) {
                t.shape.push_back(rows);
                for (auto d : tail_dims(info)) t.shape.push_back(d);
                t.data.resize(rows * bytes_per_sample(model_, info));
            } else {
                t.shape.assign(info.shape.begin(), info.shape.end());
                t.data.resize(info.bytes);
            }
            r.outputs.push_back(std::move(t));
        }
        for (auto &t : r.outputs) hout[b].push_back({t.data.data(), t.data.size()});
    }
    // Outputs land in the requests' own tensors: no host time after the run.
    host_ = {std::chrono::duration<double>(Clock::now() - t0).count(), 0};
    model_.run_batch(hin, hout);
}

}  // namespace mtia_serve
