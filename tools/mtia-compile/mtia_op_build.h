// SPDX-License-Identifier: MIT
// Reading side of the .mtia format, shared with tests and usable by any
// loader: the validation rules every reader must apply (docs/model-format.md)
// and the "reference lowering" of one model Op to the device's struct mtia_op.
#pragma once

#include <cstddef>
#include <string>

#include "mtia/mtia_model_generated.h"
#include "mtia/mtia_spec.h"

namespace mtia::compiler {

// Verifies a .mtia buffer: FlatBuffers structure, identifier, major format
// version, tensor shapes/sizes/alignment/bounds, op and I/O indices.
// Returns "" if the model is safe to use, else the first problem found.
std::string validate_model_buffer(const void* data, size_t size);

// Fills *out from op (the model must have passed validate_model_buffer).
// Returns "" or why the op does not fit a struct mtia_op.
std::string build_mtia_op(const mtia::model::Model& m, const mtia::model::Op& op, struct mtia_op* out);

}  // namespace mtia::compiler
