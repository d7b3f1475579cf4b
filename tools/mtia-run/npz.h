// SPDX-License-Identifier: MIT
// NumPy .npz archives (numpy.savez and savez_compressed): a ZIP file of
// .npy members, stored or deflated. Read whole, every member checked
// (CRC-32, sizes, the .npy inside); anything else is refused with a
// message naming the archive and the member.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "npy.h"

namespace mtia::run {

// The members in archive order, named without ".npy" (savez's positional
// arrays are "arr_0", "arr_1", ...). Throws NpyError.
std::vector<std::pair<std::string, NpyArray>> parse_npz(const void *bytes, size_t size, const std::string &what);
std::vector<std::pair<std::string, NpyArray>> read_npz(const std::string &path);

}  // namespace mtia::run
