// SPDX-License-Identifier: MIT
// libFuzzer target onnx_import: mtia-compile's whole pipeline on ONNX
// bytes through the compiler library's API (include/mtia/compiler.hpp
// compile_onnx): protobuf parse, opset upgrade, structure checks, constant
// folding, graph passes, lowering, precision, layout and memory planning,
// model_writer. Nothing of it needs a device.
//
// The reduced-precision option follows from the input's size (size % 3:
// float32, fp16, bf16), so the precision pass is fuzzed too and an input
// reproduces alone.
// Properties: a failure is a CompileError that is not Internal (that kind
// is "a compiler bug"); a compiled model is one libmtia's loader accepts
// (runtime/model_loader.h) and whose programs the device validates.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_check.h"
#include "model_loader.h"
#include "mtia/compiler.hpp"
#include "mtia_compute.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const kDtypes[] = {"", "fp16", "bf16"};
    mtia::CompileOptions opts;
    opts.dtype = kDtypes[size % 3];
    std::string out;
    try {
        out = mtia::compile_onnx(data, size, opts);
    } catch (const mtia::CompileError &e) {
        if (e.kind() == mtia::CompileError::Kind::Internal) FUZZ_CHECK(false, e.what());
        return 0;
    }
    std::vector<uint64_t> buf(out.size() / 8 + 1);
    std::memcpy(buf.data(), out.data(), out.size());
    mtia::detail::ParsedModel m;
    try {
        m = mtia::detail::parse_model(buf.data(), out.size());
    } catch (const mtia::Error &e) {
        FUZZ_CHECK(false, (std::string("libmtia refuses the compiler's output: ") + e.what()).c_str());
    }
    uint32_t bad_op = 0;
    FUZZ_CHECK(mtia_compute_validate(m.program.data(), static_cast<uint32_t>(m.program.size()), m.arena_size,
                                     &bad_op) == MTIA_CQE_OK,
               "the device refuses the compiler's program");
    return 0;
}
