// SPDX-License-Identifier: MIT
// The Runner of one model instance (a libmtia Model on one device). A model
// compiled with batch buckets whose inputs are all batched runs a batch as
// ONE Model::run() of the requests' inputs concatenated along dim 0 (libmtia
// picks the smallest bucket that fits and pads), its outputs split back per
// request. Any other model runs the batch's requests as one Model::run_batch()
// (request i+1's inputs staged while i runs). Each run reports its host
// phases (input concatenation, output split) to the batcher, which counts
// the rest as the device run (the statistics' compute_input/infer/output).
#pragma once

#include "mtia/mtia.hpp"
#include "serve_batcher.h"

namespace mtia_serve {

/// True if batches of m's requests can be concatenated into one run.
bool coalesces(const mtia::Model &m);
/// Samples per bucket of a batched tensor (its bytes over the largest bucket).
size_t bytes_per_sample(const mtia::Model &m, const mtia::TensorInfo &t);

class ModelRunner : public Runner {
public:
    explicit ModelRunner(mtia::Model model);
    void run(const std::vector<RequestPtr> &batch) override;

private:
    void run_concatenated(const std::vector<RequestPtr> &batch);
    void run_each(const std::vector<RequestPtr> &batch);
    mtia::Model model_;
    bool coalesce_;
};

}  // namespace mtia_serve
