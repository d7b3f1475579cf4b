// SPDX-License-Identifier: MIT
// The device's op rules (mtia_spec.h, "Compute (PE grid)") checked on the
// lowered program before it is written: the shapes, ranks and attributes
// each opcode accepts. A failure here is a compiler bug or a model the
// device cannot run; the error names the op's ONNX node and the rule.
#pragma once

#include <string>

#include "dev_graph.h"

namespace mtia::compiler {

// Empty string if op is valid, else why not.
std::string check_op(const DevGraph &d, const DevOp &op);
// Throws CompileError (kInternal) for the first invalid op.
void check_program(const DevGraph &d);

}  // namespace mtia::compiler
