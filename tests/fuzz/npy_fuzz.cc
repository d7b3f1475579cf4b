// SPDX-License-Identifier: MIT
// libFuzzer target npy: mtia-run's (and mtia-compile's) NumPy readers,
// tools/mtia-run/npy.h parse_npy and npz.h parse_npz, over every input.
//
// A bad file must end in NpyError; any other exception escapes and is a
// crash. An array that parses holds product(shape) elements and survives
// format_npy -> parse_npy unchanged (what mtia-run writes it reads back).
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "npy.h"
#include "npz.h"

namespace {

using mtia::run::NpyArray;
using mtia::run::NpyError;

void check_array(const NpyArray &a)
{
    uint64_t n = 1;
    for (uint64_t d : a.shape) n *= d;  // parse_npy refused any overflow
    FUZZ_CHECK(a.data.size() == n * mtia::run::npy_size(a.type), "data size is not product(shape) elements");
    const std::string img = mtia::run::format_npy(a.shape, a.data.data(), a.type);
    NpyArray b;
    try {
        b = mtia::run::parse_npy(img.data(), img.size(), "round trip");
    } catch (const NpyError &e) {
        FUZZ_CHECK(false, e.what());
    }
    FUZZ_CHECK(b.shape == a.shape && b.type == a.type && b.data == a.data, "format_npy -> parse_npy changed it");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try {
        check_array(mtia::run::parse_npy(data, size, "fuzz.npy"));
    } catch (const NpyError &) {
    }
    try {
        for (const auto &kv : mtia::run::parse_npz(data, size, "fuzz.npz")) check_array(kv.second);
    } catch (const NpyError &) {
    }
    return 0;
}
