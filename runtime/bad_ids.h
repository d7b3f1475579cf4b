// SPDX-License-Identifier: MIT
// Names the model input behind a run that failed with MTIA_CQE_BAD_INDEX (an
// id outside its table): the device reports only the status, so the runtime
// traces the index tensors of the model's GATHER and EMBEDDING_BAG ops back
// to model inputs and, when it has the run's host inputs, finds the bad id.
#pragma once

#include <string>
#include <vector>

#include "model_loader.h"

namespace mtia::detail {

// "input 1 'ids' holds 5000, outside [0, 4000) of op 3 (EmbeddingBag 'emb')"
// when @host (the run's inputs, one per model input) shows it; else the
// inputs that feed ids to those ops. @host may be empty (run_async).
std::string describe_bad_ids(const std::vector<mtia_op> &program, const std::vector<std::string> &op_names,
                             const std::vector<ModelIo> &inputs, const std::vector<const void *> &host);

}  // namespace mtia::detail
