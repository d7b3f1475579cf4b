// SPDX-License-Identifier: MIT
#include "calib_data.h"

#include <algorithm>
#include <map>

#include "errors.h"
#include "npz.h"

namespace mtia::compiler {

namespace {

using run::NpyArray;
using run::NpyType;

// The .npy type of each model dtype NumPy has (BF16 has none) and its name.
struct NpyOf {
    uint8_t dtype;
    NpyType npy;
    const char *name;
};
constexpr NpyOf kNpyTypes[] = {{MTIA_DTYPE_F32, NpyType::F32, "float32"}, {MTIA_DTYPE_F16, NpyType::F16, "float16"},
                               {MTIA_DTYPE_I32, NpyType::I32, "int32"},   {MTIA_DTYPE_I64, NpyType::I64, "int64"},
                               {MTIA_DTYPE_BOOL, NpyType::Bool, "bool"},  {MTIA_DTYPE_I8, NpyType::I8, "int8"},
                               {MTIA_DTYPE_U8, NpyType::U8, "uint8"}};

const NpyOf *npy_of(uint8_t dtype)
{
    for (const NpyOf &t : kNpyTypes)
        if (t.dtype == dtype) return &t;
    return nullptr;
}

std::string dims_str(const std::vector<uint64_t> &s)
{
    std::string r = "(";
    for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + (s.size() == 1 ? ",)" : ")");
}

// How many runs @a holds for input @t (see calib_data.h); -1 if its shape fits neither form.
int64_t runs_in(const NpyArray &a, const DevTensor &t)
{
    const std::vector<uint64_t> want(t.shape.begin(), t.shape.end());
    const auto &s = a.shape;
    if (s.size() == want.size() + 1 && std::equal(want.begin(), want.end(), s.begin() + 1))
        return static_cast<int64_t>(s[0]);
    if (s.size() == want.size() && !s.empty() && std::equal(want.begin() + 1, want.end(), s.begin() + 1) &&
        s[0] % want[0] == 0)
        return static_cast<int64_t>(s[0] / want[0]);
    return -1;
}

}  // namespace

CalibrationSet load_calibration(const std::string &path, const DevGraph &d)
{
    std::vector<std::pair<std::string, NpyArray>> arrays;
    try {
        arrays = run::read_npz(path);
    } catch (const run::NpyError &e) {
        fail(ErrorKind::kUsage, std::string("--calibrate: ") + e.what());
    }
    const std::string what = "--calibrate " + path + ": ";
    std::string names;
    for (int t : d.inputs) names += (names.empty() ? "'" : ", '") + d.tensors[t].name + "'";
    // By name, or else by position (numpy.savez(file, a, b) names them arr_0, arr_1).
    std::map<std::string, const NpyArray *> by_name;
    for (const auto &kv : arrays) by_name[kv.first] = &kv.second;
    bool positional = arrays.size() == d.inputs.size();
    for (size_t k = 0; k < arrays.size() && positional; ++k)
        positional = arrays[k].first == "arr_" + std::to_string(k) && !by_name.count(d.tensors[d.inputs[k]].name);
    std::vector<const NpyArray *> chosen;
    for (size_t k = 0; k < d.inputs.size(); ++k) {
        const std::string &name = d.tensors[d.inputs[k]].name;
        if (positional) {
            chosen.push_back(&arrays[k].second);
        } else if (by_name.count(name)) {
            chosen.push_back(by_name[name]);
        } else {
            fail(ErrorKind::kUsage, what + "no array named '" + name + "' (the model's inputs: " + names + ")");
        }
    }
    if (!positional)
        for (const auto &kv : arrays) {
            bool known = false;
            for (int t : d.inputs) known |= d.tensors[t].name == kv.first;
            if (!known)
                fail(ErrorKind::kUsage, what + "array '" + kv.first + "' is no input of the model (" + names + ")");
        }

    CalibrationSet set;
    uint64_t n_runs = 0;
    for (size_t k = 0; k < d.inputs.size(); ++k) {
        const DevTensor &t = d.tensors[d.inputs[k]];
        const NpyArray &a = *chosen[k];
        const std::string label = what + "array for input '" + t.name + "' ";
        const NpyOf *want = npy_of(t.dtype);
        if (!want) fail(ErrorKind::kUsage, label + ": the input is bfloat16, which NumPy has no type for");
        if (a.type != want->npy)
            fail(ErrorKind::kUsage, label + "is " + run::npy_descr(a.type) + ", the input is " + want->name);
        const int64_t runs = runs_in(a, t);
        const std::vector<uint64_t> shape(t.shape.begin(), t.shape.end());
        if (runs < 0)
            fail(ErrorKind::kUsage, label + "has shape " + dims_str(a.shape) + "; the input is " + dims_str(shape) +
                                        ": give (S, " + dims_str(shape).substr(1) +
                                        " for S runs, or dim 0 a multiple of " + std::to_string(shape[0]));
        if (k > 0 && static_cast<uint64_t>(runs) != n_runs)
            fail(ErrorKind::kUsage, label + "holds " + std::to_string(runs) + " runs, the array for '" +
                                        d.tensors[d.inputs[0]].name + "' " + std::to_string(n_runs));
        n_runs = static_cast<uint64_t>(runs);
    }
    if (n_runs == 0) fail(ErrorKind::kUsage, what + "no samples (every array is empty)");
    set.runs.assign(n_runs, std::vector<std::vector<uint8_t>>(d.inputs.size()));
    for (size_t k = 0; k < d.inputs.size(); ++k) {
        const uint64_t bytes = d.tensors[d.inputs[k]].bytes();
        for (uint64_t r = 0; r < n_runs; ++r) {
            const uint8_t *src = chosen[k]->data.data() + r * bytes;
            set.runs[r][k].assign(src, src + bytes);
        }
    }
    return set;
}

}  // namespace mtia::compiler
