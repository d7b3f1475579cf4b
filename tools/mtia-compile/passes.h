// SPDX-License-Identifier: MIT
// ONNX-level graph passes, run in this order by the compiler (compiler.cc)
// between import and lowering. Each returns how many rewrites it made.
#pragma once

#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "graph.h"

namespace mtia::compiler {

// Identity and inference-mode Dropout: readers read the input instead
// (kept only when the value is a graph output; lowering makes it a view);
// a used Dropout mask becomes all-true: a 1 broadcast (Expand) cast to bool.
int remove_identities(Graph &g);

// BatchNormalization after a Conv whose output nothing else reads folds
// into the Conv's weights and bias; any other BN becomes a per-channel
// Mul and Add with constants.
int fold_batchnorm(Graph &g);

// Constant-zero Pad of spatial dims merged into the following Conv or
// AveragePool's pads; an all-zero Pad dropped.
int fold_pads(Graph &g);

// Ops without a device opcode rewritten into ones that have one:
// HardSigmoid (Mul, Add, Clip), HardSwish (HardSigmoid, Mul),
// LeakyRelu (Mul, Relu, Add), Neg (Mul), Pow x^1 / x^2 (Identity / Mul),
// Sum (Adds), Mean (Adds, Div), Max/Min of other than 2 inputs (chains),
// LayerNormalization's Mean / InvStdDev outputs (ReduceMean, Sub, Mul,
// Add, Sqrt, Reciprocal), and decompose_onnx_op's. Other Pows stay (BINARY
// POW).
int decompose_ops(Graph &g);

// passes_decompose_onnx.cc: ReduceL1/L2/SumSquare/LogSum/LogSumExp,
// Softsign, PRelu, DepthToSpace, SpaceToDepth, InstanceNormalization ->
// lowered ops; true and `with` filled if n is one of them.
bool decompose_onnx_op(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with);
// QLinearConv / QLinearMatMul into Q/DQ and the float op (passes_qlinear.cc).
bool decompose_qlinear(Graph &g, const onnx::NodeProto &n, std::vector<onnx::NodeProto> &with);

// PyTorch's decomposed LayerNorm (opset < 17) -> LayerNormalization, and
// its GELU (erf and tanh forms) -> Gelu (passes_transformer.cc).
int fuse_transformer_ops(Graph &g);

// MatMul followed by Add of a constant (a Linear layer on >2-D input) ->
// MatMul with the constant as a third (bias) input, lowered to GEMM's C.
int fuse_matmul_bias(Graph &g);

// Nodes none of whose outputs are read.
int remove_dead_nodes(Graph &g);

// Builds a node; name is made unique by the caller's choice of outputs.
onnx::NodeProto make_node(const std::string &op, const std::vector<std::string> &inputs,
                          const std::vector<std::string> &outputs, const std::string &name);
void set_attr_ints(onnx::NodeProto &n, const std::string &name, const std::vector<int64_t> &v);
void set_attr_int(onnx::NodeProto &n, const std::string &name, int64_t v);
void set_attr_float(onnx::NodeProto &n, const std::string &name, float v);
void set_attr_string(onnx::NodeProto &n, const std::string &name, const std::string &v);

}  // namespace mtia::compiler
