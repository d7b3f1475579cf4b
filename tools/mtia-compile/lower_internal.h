// SPDX-License-Identifier: MIT
// The lowering's shared state, split by concern over lower*.cc.
#pragma once

#include <map>
#include <set>
#include <string>

#include "dev_graph.h"
#include "graph.h"

namespace mtia::compiler {

// One spatial dim of a convolution or pooling window.
struct Window {
    int64_t out = 0;
    int64_t pad_begin = 0, pad_end = 0;  // device pads (ceil_mode folded into pad_end)
    int64_t ceil_extra = 0;              // of pad_end, what ceil_mode added
};

// Output size and device pads for input size `in`, kernel k, stride s,
// dilation d, explicit pads, auto_pad mode; throws naming `label`.
Window window(const std::string &label, const std::string &auto_pad, int64_t in, int64_t k, int64_t s, int64_t d,
              int64_t pad_begin, int64_t pad_end, bool ceil_mode);

class Lowerer {
public:
    Lowerer(const Graph &g, DevGraph &d) : g_(g), d_(d) {}
    void run();

private:
    // lower.cc: tensors and bookkeeping
    Shape dev_shape(const Shape &s, const std::string &what) const;
    int tensor(const std::string &value);     // activation or weight for an ONNX value
    int as_shape(int t, const Shape &shape);  // t, or a view of t with that shape
    int operand(const std::string &value, const Shape &shape) { return as_shape(tensor(value), shape); }
    int new_activation(const std::string &name, const Shape &shape, uint8_t dtype = MTIA_DTYPE_F32);
    void bind(const std::string &value, int t);  // the ONNX value is tensor t (viewed to its shape)
    int emit(uint16_t kind, std::vector<int> in, int out, std::vector<uint32_t> attrs, uint64_t flops);
    const Shape &shape(const std::string &value) const { return g_.shape(value, *n_); }
    std::string label() const;
    bool flag_attr(const std::string &name) const;  // a 0/1 attribute (default 0)
    [[noreturn]] void unsupported_here(const std::string &why) const;
    void lower_node();
    void bind_outputs();

    // lower_compute.cc
    void conv();
    void pool();
    void reduce();
    void reduce_any();  // REDUCE: any kind over any axes
    void gemm();
    void matmul();
    // lower_elementwise.cc
    void binary();
    void activation();
    void softmax();
    int cast_to(int t, uint8_t dtype);  // t, or a CAST of it to dtype
    // lower_layout.cc
    void view();
    void transpose();
    void concat();
    void split();
    void slice();
    void gather();
    int slice_or_view(int t, int64_t axis, int64_t start, int64_t size, const std::string &name);
    int stepped_slice(int t, int64_t axis, int64_t start, int64_t end, int64_t step, const std::string &name);
    void expand();
    // lower_norm.cc
    void layernorm();

    // lower_embed.cc
    void gather_ids();
    int index_weight(const std::string &value);
    void cast();
    void quantize_linear();  // lower_quant.cc
    void dequantize_linear();
    bool embedding_bag(const std::string &table, int ids, int64_t axis);
    void embedding_bag_loop();                      // the EmbeddingBag node of loop_embedding_bag.h
    int embedding_table(const std::string &value);  // a constant table, in the form the model ships it
    int table_rows(int table, int ids, int64_t n, int64_t d, const std::string &name);  // float32 (N, D)
    const onnx::NodeProto *only_reader(const std::string &value) const;
    // lower_mask.cc
    int cast_tensor(int t, uint8_t dtype);  // t, or a CAST of it to dtype
    int float_operand(const std::string &value, const Shape &shape);
    int int_operand(const std::string &value);  // an I32/I64 tensor of value, or -1
    void compare();
    void logical_not();
    void where();
    // lower_vision.cc
    void pad();
    void conv_transpose();
    // lower_resize.cc
    void resize();
    // lower_integer.cc
    int i32_weight(const std::string &name, const Shape &shape, std::vector<int64_t> v);
    int sub_i32(int a, int b, const std::string &name);  // a - b, b broadcast to a
    // The 8-bit @value minus zero point @zp ("" for none; shaped @zshape,
    // which broadcasts to value's device shape), as exact I32.
    int minus_zero_point(const std::string &value, const std::string &zp, const Shape &zshape);
    Shape zero_point_shape(const std::string &zp, size_t rank, int64_t axis, int64_t len, const char *what);
    void dynamic_quantize_linear();

    const Graph &g_;
    DevGraph &d_;
    std::map<std::string, int> map_;  // ONNX value -> tensor
    const onnx::NodeProto *n_ = nullptr;
    std::set<const onnx::NodeProto *> fused_;  // nodes already lowered with an earlier one
    std::map<std::string, int> tables_;        // ONNX value -> its embedding_table()
};

}  // namespace mtia::compiler
