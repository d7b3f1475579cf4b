// SPDX-License-Identifier: MIT
// describe_bad_ids() (runtime/bad_ids.cc): after a run failed with
// MTIA_CQE_BAD_INDEX, the message names the model input that held the id
// outside its table (GATHER's indices, EMBEDDING_BAG's ids or offsets), or
// the inputs feeding ids when the host copy cannot tell (run_async).
#include <gtest/gtest.h>

#include "bad_ids.h"

namespace {

using mtia::detail::describe_bad_ids;
using mtia::detail::ModelIo;

mtia_tensor_desc desc(uint64_t offset, uint8_t dtype, std::vector<uint32_t> dims)
{
    mtia_tensor_desc t{};
    t.offset = offset;
    t.dtype = dtype;
    t.ndim = uint8_t(dims.size());
    for (size_t i = 0; i < dims.size(); i++) t.dims[i] = dims[i];
    return t;
}

ModelIo io(const std::string &name, uint64_t offset, uint64_t bytes)
{
    ModelIo r;
    r.info.name = name;
    r.info.bytes = bytes;
    r.offset = offset;
    return r;
}

// Model: input 0 'dense' (F32), input 1 'ids' (2 tables x B 2 x bag 2, I64)
// into an EMBEDDING_BAG of tables of 10 and 20 rows; input 2 'tok' (I32, 3)
// into a GATHER of a 7-row table.
struct Model {
    std::vector<mtia_op> program;
    std::vector<std::string> names{"op 0 (EmbeddingBag 'bag')", "op 1 (Gather 'emb')"};
    std::vector<ModelIo> inputs{io("dense", 0, 64), io("ids", 64, 64), io("tok", 128, 12)};
    Model()
    {
        mtia_op bag{};
        bag.opcode = MTIA_OP_EMBEDDING_BAG;
        bag.n_in = 2;
        bag.in[0] = desc(4096, MTIA_DTYPE_F32, {30, 4});
        bag.in[1] = desc(64, MTIA_DTYPE_I64, {2, 2, 2});
        bag.out = desc(8192, MTIA_DTYPE_F32, {2, 8});
        const uint32_t a[] = {MTIA_EMBEDDING_BAG_SUM, 2, 2, 0, 10, 20};
        std::copy(a, a + 6, bag.attrs);
        mtia_op g{};
        g.opcode = MTIA_OP_GATHER;
        g.n_in = 2;
        g.in[0] = desc(16384, MTIA_DTYPE_F32, {7, 4});
        g.in[1] = desc(128, MTIA_DTYPE_I32, {3});
        g.out = desc(20000, MTIA_DTYPE_F32, {3, 4});
        program = {bag, g};
    }
};

TEST(ModelBadIds, NamesTheInputAndTheTable)
{
    Model m;
    const float dense[16] = {};
    int64_t ids[8] = {1, 2, 3, 9, 0, 19, 20, 4};  // table 0: 1, 2, 3, 9; table 1 (20 rows): 0, 19, 20, 4
    const int32_t tok[3] = {0, -7, 6};
    std::vector<const void *> host{dense, ids, tok};
    EXPECT_EQ(describe_bad_ids(m.program, m.names, m.inputs, host),
              "input 1 'ids' holds 20, outside [0, 20) (table 1) in op 0 (EmbeddingBag 'bag')");
    ids[6] = 4;
    ids[1] = 10;  // table 0 has 10 rows
    EXPECT_EQ(describe_bad_ids(m.program, m.names, m.inputs, host),
              "input 1 'ids' holds 10, outside [0, 10) (table 0) in op 0 (EmbeddingBag 'bag')");
    ids[1] = 2;
    const int32_t bad_tok[3] = {0, -8, 6};  // -8 < -7
    host[2] = bad_tok;
    EXPECT_EQ(describe_bad_ids(m.program, m.names, m.inputs, host),
              "input 2 'tok' holds -8, outside [-7, 7) in op 1 (Gather 'emb')");
    host[2] = tok;
    // Nothing bad in the host copy (or no host copy): the inputs feeding ids.
    EXPECT_EQ(describe_bad_ids(m.program, m.names, m.inputs, host),
              "an id is outside its table; ids come from input 1 'ids', input 2 'tok'");
    EXPECT_EQ(describe_bad_ids(m.program, m.names, m.inputs, {}),
              "an id is outside its table; ids come from input 1 'ids', input 2 'tok'");
}

TEST(ModelBadIds, NamesBadOffsets)
{
    Model m;
    mtia_op &bag = m.program[0];
    bag.n_in = 3;
    bag.in[1] = desc(64, MTIA_DTYPE_I64, {8});
    bag.in[2] = desc(192, MTIA_DTYPE_I64, {4});
    bag.attrs[MTIA_EMBEDDING_BAG_BAG_SIZE] = 0;
    m.inputs.push_back(io("offsets", 192, 32));
    const float dense[16] = {};
    const int64_t ids[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const int64_t off[4] = {0, 3, 2, 6};  // decreasing
    const int32_t tok[3] = {0, 1, 2};
    EXPECT_EQ(describe_bad_ids(m.program, m.names, m.inputs, {dense, ids, tok, off}),
              "input 3 'offsets' (offsets) holds 2 at 2: offsets must start at 0, not decrease and end <= 8 in op 0 "
              "(EmbeddingBag 'bag')");
}

}  // namespace
