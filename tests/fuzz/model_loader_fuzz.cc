// SPDX-License-Identifier: MIT
// libFuzzer target model_loader: a .mtia file as libmtia reads it
// (runtime/model_loader.h parse_model), then what happens to a parsed
// model before a job runs: the device's validation of every program
// (mtia_compute_validate; the runtime uploads what the loader accepts) and,
// for a program the device accepts, describe_bad_ids over host inputs (the
// message of a run the device failed with MTIA_CQE_BAD_INDEX).
//
// A bad file must end in mtia::Error(MTIA_ERROR_INVALID_MODEL); any other
// exception escapes and is a crash. A parsed model is held to the
// loader's promises: inputs, outputs and tensors inside the arena, the
// weights image inside the file, one name per op, buckets ascending.
#include <cstdint>
#include <cstring>
#include <vector>

#include "bad_ids.h"
#include "fuzz_check.h"
#include "model_loader.h"
#include "mtia_compute.h"

namespace {

using mtia::detail::ModelIo;
using mtia::detail::ParsedModel;
using mtia::detail::ParsedProgram;

// Host inputs handed to describe_bad_ids: at most this many bytes in all.
constexpr uint64_t kMaxHostBytes = 1 << 20;

void check_io(const std::vector<ModelIo> &ios, uint64_t arena)
{
    for (const ModelIo &io : ios) {
        FUZZ_CHECK(io.offset <= arena && io.info.bytes <= arena - io.offset, "model input/output outside the arena");
        FUZZ_CHECK(!io.info.shape.empty(), "model input/output without a shape");
    }
}

void check_program(const ParsedProgram &p, const uint8_t *data, size_t size)
{
    FUZZ_CHECK(!p.program.empty() && p.program.size() <= MTIA_MAX_PROGRAM_OPS, "program size out of range");
    FUZZ_CHECK(p.op_names.size() == p.program.size() && p.op_nodes.size() == p.program.size() &&
                   p.op_kinds.size() == p.program.size(),
               "op names do not match the program");
    FUZZ_CHECK(p.arena_size > 0 && p.arena_size <= MTIA_MAX_DEVMEM_BYTES, "arena size out of range");
    FUZZ_CHECK(!p.outputs.empty(), "a program without outputs");
    check_io(p.inputs, p.arena_size);
    check_io(p.outputs, p.arena_size);

    uint32_t bad_op = 0;
    const auto n = static_cast<uint32_t>(p.program.size());
    const uint16_t st = mtia_compute_validate(p.program.data(), n, p.arena_size, &bad_op);
    FUZZ_CHECK(st == MTIA_CQE_OK || (st == MTIA_CQE_BAD_PROGRAM && bad_op < n), "validation status or bad op");
    if (st != MTIA_CQE_OK) return;

    // A run failed with BAD_INDEX: the message without and with host inputs
    // (their bytes: the fuzz input repeated, so ids take any value).
    (void)mtia::detail::describe_bad_ids(p.program, p.op_names, p.inputs, {});
    uint64_t total = 0;
    for (const ModelIo &io : p.inputs) total += io.info.bytes;
    if (total > kMaxHostBytes) return;
    std::vector<std::vector<uint8_t>> host;
    std::vector<const void *> ptrs;
    for (const ModelIo &io : p.inputs) {
        std::vector<uint8_t> b(io.info.bytes);
        for (size_t i = 0; i < b.size(); i++) b[i] = data[i % size];
        host.push_back(std::move(b));
        ptrs.push_back(host.back().data());
    }
    (void)mtia::detail::describe_bad_ids(p.program, p.op_names, p.inputs, ptrs);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    // parse_model wants an 8-byte aligned buffer, as load_file gives it.
    std::vector<uint64_t> buf(size / 8 + 1);
    if (size) std::memcpy(buf.data(), data, size);
    ParsedModel m;
    try {
        m = mtia::detail::parse_model(buf.data(), size);
    } catch (const mtia::Error &e) {
        FUZZ_CHECK(e.status() == MTIA_ERROR_INVALID_MODEL, "parse_model threw an Error that is not INVALID_MODEL");
        return 0;
    }
    const auto *base = reinterpret_cast<const uint8_t *>(buf.data());
    FUZZ_CHECK(m.weights_size <= m.arena_size, "weights image larger than the arena");
    FUZZ_CHECK(!m.weights_size || (m.weights >= base && m.weights + m.weights_size <= base + size),
               "weights image outside the file");
    check_program(m, data, size);
    uint32_t prev = 0;
    for (const ParsedProgram &b : m.buckets) {
        FUZZ_CHECK(b.batch > prev, "buckets not ascending");
        prev = b.batch;
        FUZZ_CHECK(b.inputs.size() == m.inputs.size() && b.outputs.size() == m.outputs.size(),
                   "a bucket's inputs/outputs differ in number from the model's");
        check_program(b, data, size);
    }
    return 0;
}
