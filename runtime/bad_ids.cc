// SPDX-License-Identifier: MIT
// describe_bad_ids(): the rules of GATHER and EMBEDDING_BAG's indices
// (mtia_spec.h) re-checked on the host copy of a failed run's inputs, to
// name the input that broke them.
#include "bad_ids.h"

#include <cstring>

namespace mtia::detail {

namespace {

int64_t at(const void *p, uint8_t dtype, uint64_t i)
{
    const auto *b = static_cast<const uint8_t *>(p);
    if (dtype == MTIA_DTYPE_I64) {
        int64_t v;
        std::memcpy(&v, b + i * 8, 8);
        return v;
    }
    int32_t v;
    std::memcpy(&v, b + i * 4, 4);
    return v;
}

uint64_t count(const mtia_tensor_desc &t)
{
    uint64_t n = 1;
    for (unsigned i = 0; i < t.ndim; i++) n *= t.dims[i];
    return n;
}

// The model input whose bytes are @t, or -1 (an intermediate).
int input_of(const mtia_tensor_desc &t, const std::vector<ModelIo> &inputs)
{
    for (size_t i = 0; i < inputs.size(); i++)
        if (inputs[i].offset == t.offset && inputs[i].info.bytes == count(t) * mtia_dtype_size(t.dtype))
            return static_cast<int>(i);
    return -1;
}

std::string input_label(const std::vector<ModelIo> &inputs, int i)
{
    return "input " + std::to_string(i) + " '" + inputs[size_t(i)].info.name + "'";
}

std::string outside(int64_t v, int64_t lo, int64_t hi)
{
    return " holds " + std::to_string(v) + ", outside [" + std::to_string(lo) + ", " + std::to_string(hi) + ")";
}

// Why @op's indices (in host memory where they are model inputs) are bad, or "".
std::string check(const mtia_op &op, const std::vector<ModelIo> &inputs, const std::vector<const void *> &host)
{
    const int ix = input_of(op.in[1], inputs);
    if (op.opcode == MTIA_OP_GATHER) {
        if (ix < 0 || host.empty()) return "";
        const int64_t s = op.in[0].dims[op.attrs[MTIA_GATHER_AXIS]];
        for (uint64_t j = 0; j < count(op.in[1]); j++) {
            const int64_t v = at(host[size_t(ix)], op.in[1].dtype, j);
            if (v < -s || v >= s) return input_label(inputs, ix) + outside(v, -s, s);
        }
        return "";
    }
    // EMBEDDING_BAG: offsets first (they place the ids in their tables).
    const uint32_t *a = op.attrs;
    const uint64_t l = a[MTIA_EMBEDDING_BAG_BAG_SIZE], n = count(op.in[1]);
    const uint64_t bags = uint64_t{a[MTIA_EMBEDDING_BAG_TABLES]} * op.out.dims[0];
    const int io = l ? -1 : input_of(op.in[2], inputs);
    if (!l && (io < 0 || host.empty())) return "";
    auto offset = [&](uint64_t k) -> int64_t {
        if (l) return int64_t(k * l);
        return k < count(op.in[2]) ? at(host[size_t(io)], op.in[2].dtype, k) : int64_t(n);
    };
    for (uint64_t k = 0, prev = 0; k <= bags; k++) {
        const int64_t v = offset(k);
        if ((k == 0 && v != 0) || v < int64_t(prev) || v > int64_t(n)) {
            return input_label(inputs, io) + " (offsets) holds " + std::to_string(v) + " at " + std::to_string(k) +
                   ": offsets must start at 0, not decrease and end <= " + std::to_string(n);
        }
        prev = uint64_t(v);
    }
    if (ix < 0 || host.empty()) return "";
    for (uint64_t t = 0; t < a[MTIA_EMBEDDING_BAG_TABLES]; t++) {
        const int64_t rows = a[MTIA_EMBEDDING_BAG_ROWS + t];
        for (int64_t i = offset(t * op.out.dims[0]); i < offset((t + 1) * op.out.dims[0]); i++) {
            const int64_t v = at(host[size_t(ix)], op.in[1].dtype, uint64_t(i));
            if (v < 0 || v >= rows)
                return input_label(inputs, ix) + outside(v, 0, rows) + " (table " + std::to_string(t) + ")";
        }
    }
    return "";
}

}  // namespace

std::string describe_bad_ids(const std::vector<mtia_op> &program, const std::vector<std::string> &op_names,
                             const std::vector<ModelIo> &inputs, const std::vector<const void *> &host)
{
    std::string feeders;
    for (size_t k = 0; k < program.size(); k++) {
        const mtia_op &op = program[k];
        if (op.opcode != MTIA_OP_GATHER && op.opcode != MTIA_OP_EMBEDDING_BAG) continue;
        const std::string why = check(op, inputs, host);
        if (!why.empty()) return why + " in " + op_names[k];
        for (unsigned j = 1; j < op.n_in; j++) {
            const int i = input_of(op.in[j], inputs);
            if (i < 0 || op.in[j].dtype == MTIA_DTYPE_F32) continue;
            const std::string l = input_label(inputs, i);
            if (feeders.find(l) == std::string::npos) feeders += (feeders.empty() ? "" : ", ") + l;
        }
    }
    return "an id is outside its table; ids come from " + (feeders.empty() ? "computed tensors" : feeders);
}

}  // namespace mtia::detail
