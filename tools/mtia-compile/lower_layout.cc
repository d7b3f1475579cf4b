// SPDX-License-Identifier: MIT
// Lowering of data-movement ops: views (no op), Transpose, Concat (one
// COPY_INTO per input), Split/Slice/Gather (SLICE, or a view when the slice
// is one contiguous, aligned block), Expand and Tile (EXPAND).
#include <algorithm>

#include "errors.h"
#include "lower_internal.h"
#include "mtia/mtia_model.h"
#include "node_util.h"

namespace mtia::compiler {

void Lowerer::view() { bind(n_->output(0), tensor(n_->input(0))); }

void Lowerer::transpose()
{
    const Shape xs = dev_shape(shape(n_->input(0)), "input");
    const int64_t r = static_cast<int64_t>(shape(n_->input(0)).size());
    std::vector<int64_t> perm = attr_ints(*n_, "perm");
    if (perm.empty())
        for (int64_t k = r; k-- > 0;) perm.push_back(k);
    std::vector<int64_t> sorted = perm;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t k = 0; k < static_cast<int64_t>(sorted.size()); ++k)
        if (sorted[k] != k || static_cast<int64_t>(perm.size()) != r)
            bad_input(label() + ": perm is not a permutation of the dims");
    int x = tensor(n_->input(0));
    if (r <= 1) return bind(n_->output(0), x);
    // Moving only size-1 dims keeps the memory order: a view.
    int64_t last = -1;
    bool order_kept = true;
    for (int64_t p : perm)
        if (xs[p] != 1) {
            order_kept &= p > last;
            last = p;
        }
    if (order_kept) return bind(n_->output(0), x);
    Shape os(r);
    std::vector<uint32_t> attrs;
    for (int64_t k = 0; k < r; ++k) {
        os[k] = xs[perm[k]];
        attrs.push_back(static_cast<uint32_t>(perm[k]));
    }
    int out = new_activation(n_->output(0), os);
    emit(MTIA_OP_TRANSPOSE, {x}, out, attrs, 0);
    bind(n_->output(0), out);
}

void Lowerer::concat()
{
    const Shape os = dev_shape(shape(n_->output(0)), "output");
    const int64_t r = static_cast<int64_t>(shape(n_->output(0)).size());
    if (r == 0) bad_input(label() + ": cannot concatenate scalars");
    const int64_t axis = norm_axis(attr_i(*n_, "axis", 0), r, label());
    int out = new_activation(n_->output(0), os);
    int64_t start = 0;
    for (const auto &v : n_->input()) {
        const Shape &s = shape(v);
        if (static_cast<int64_t>(s.size()) != r) bad_input(label() + ": inputs differ in rank");
        if (s[axis] == 0) continue;
        emit(MTIA_OP_COPY_INTO, {tensor(v)}, out, {static_cast<uint32_t>(axis), static_cast<uint32_t>(start)}, 0);
        start += s[axis];
    }
    if (start != os[axis]) internal_error(label() + ": inputs do not fill the output");
    bind(n_->output(0), out);
}

int Lowerer::slice_or_view(int t, int64_t axis, int64_t start, int64_t size, const std::string &name)
{
    const Shape &s = d_.tensors[t].shape;
    if (start == 0 && size == s[axis]) return t;
    Shape os = s;
    os[axis] = size;
    int64_t outer = 1, inner = 1;
    for (int64_t k = 0; k < static_cast<int64_t>(s.size()); ++k)
        if (k < axis)
            outer *= s[k];
        else if (k > axis)
            inner *= s[k];
    const uint64_t off = static_cast<uint64_t>(start * inner) * 4;
    if (outer == 1 && (d_.offset_in_root(t) + off) % MTIA_MODEL_TENSOR_ALIGN == 0) return d_.add_view(t, os, off, name);
    int out = new_activation(name, os);
    emit(MTIA_OP_SLICE, {t}, out, {static_cast<uint32_t>(axis), static_cast<uint32_t>(start)}, 0);
    return out;
}

// ONNX Slice with a step other than 1 along @axis: the clamping rules of
// the spec (positive steps clamp to [0, d], negative ones to [-1, d-1]),
// then one SLICE with START = the first index read and STEP.
int Lowerer::stepped_slice(int t, int64_t axis, int64_t start, int64_t end, int64_t step, const std::string &name)
{
    const int64_t d = d_.tensors[t].shape[axis];
    if (step < INT32_MIN || step > INT32_MAX) unsupported_here("step " + std::to_string(step) + " beyond 32 bits");
    auto clamp = [&](int64_t v, int64_t lo, int64_t hi) {
        if (v < 0) v += d;
        return std::min(std::max(v, lo), hi);
    };
    int64_t lo, n;
    if (step > 0) {
        lo = clamp(start, 0, d);
        const int64_t hi = clamp(end, 0, d);
        n = hi > lo ? (hi - lo + step - 1) / step : 0;
    } else {
        lo = clamp(start, -1, d - 1);
        // An end below -d means "through index 0".
        const int64_t hi = end < -d ? -1 : clamp(end, -1, d - 1);
        n = lo > hi ? (lo - hi + (-step) - 1) / (-step) : 0;
    }
    if (n <= 0) unsupported_here("empty slice");
    if (n == 1) return slice_or_view(t, axis, lo, 1, name);
    Shape os = d_.tensors[t].shape;
    os[axis] = n;
    int out = new_activation(name, os);
    emit(MTIA_OP_SLICE, {t}, out,
         {static_cast<uint32_t>(axis), static_cast<uint32_t>(lo), static_cast<uint32_t>(static_cast<int32_t>(step))},
         0);
    return out;
}

// Expand, and Tile whose repeated dims are all 1 (the same broadcast copy):
// one EXPAND to the output's shape, the input given its rank by leading 1s.
void Lowerer::expand()
{
    const Shape os = dev_shape(shape(n_->output(0)), "output");
    Shape xs = shape(n_->input(0));
    if (xs.size() > os.size()) bad_input(label() + ": input has a higher rank than the output");
    while (xs.size() < os.size()) xs.insert(xs.begin(), 1);
    const int x = operand(n_->input(0), xs);
    if (xs == os) return bind(n_->output(0), x);
    // EXPAND copies float32: a bool or integer mask goes through float
    // (exact for 0/1 and ids below 2^24).
    const uint8_t dt = d_.tensors[x].dtype;
    int t = cast_tensor(x, MTIA_DTYPE_F32);
    // Tile of a dim d > 1 by r, one dim at a time: the input viewed as
    // (before, 1, d, after) broadcasts to (before, r, d, after), which is the
    // tiled dim r * d in row-major order.
    Shape cur = xs;
    for (size_t k = 0; k < os.size(); ++k) {
        if (xs[k] == os[k] || xs[k] == 1) continue;
        if (n_->op_type() != "Tile" || os[k] % xs[k] != 0)
            bad_input(label() + ": output dim " + std::to_string(os[k]) + " is not a multiple of the input's " +
                      std::to_string(xs[k]));
        int64_t before = 1, after = 1;
        for (size_t j = 0; j < cur.size(); ++j) (j < k ? before : after) *= j == k ? 1 : cur[j];
        const Shape big = {before, os[k] / xs[k], xs[k], after};
        const int tiled = new_activation(n_->output(0) + ".tile" + std::to_string(k), big);
        emit(MTIA_OP_EXPAND, {as_shape(t, {before, 1, xs[k], after})}, tiled, {}, numel(big, "tile"));
        cur[k] = os[k];
        t = as_shape(tiled, cur);
    }
    if (cur != os) {
        const int out = new_activation(n_->output(0) + (dt == MTIA_DTYPE_F32 ? "" : ".f32"), os);
        emit(MTIA_OP_EXPAND, {t}, out, {}, numel(os, "expand"));
        t = out;
    }
    bind(n_->output(0), cast_tensor(t, dt));
}

void Lowerer::split()
{
    const Shape xs = dev_shape(shape(n_->input(0)), "input");
    const int64_t r = static_cast<int64_t>(shape(n_->input(0)).size());
    if (r == 0) bad_input(label() + ": input is a scalar");
    const int64_t axis = norm_axis(attr_i(*n_, "axis", 0), r, label());
    int x = tensor(n_->input(0));
    int64_t start = 0;
    for (int k = 0; k < n_->output_size(); ++k) {
        const std::string &o = n_->output(k);
        const int64_t size = o.empty() ? 0 : shape(o)[axis];
        if (!o.empty()) bind(o, slice_or_view(x, axis, start, size, o));
        start += size;
    }
}

void Lowerer::slice()
{
    const Shape xs = dev_shape(shape(n_->input(0)), "input");
    const int64_t r = static_cast<int64_t>(shape(n_->input(0)).size());
    if (r == 0) bad_input(label() + ": input is a scalar");
    std::vector<int64_t> starts, ends, axes, steps;
    auto const_input = [&](int k) {
        const std::string v = input_name(*n_, k);
        if (v.empty()) return std::vector<int64_t>{};
        if (!g_.is_const(v)) unsupported_here("starts/ends/axes/steps must be constant");
        return g_.cst(v).ints();
    };
    if (g_.opset < 10) {
        starts = attr_ints(*n_, "starts");
        ends = attr_ints(*n_, "ends");
        axes = attr_ints(*n_, "axes");
    } else {
        starts = const_input(1);
        ends = const_input(2);
        axes = const_input(3);
        steps = const_input(4);
    }
    if (axes.empty())
        for (size_t k = 0; k < starts.size(); ++k) axes.push_back(static_cast<int64_t>(k));
    if (steps.empty()) steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
        bad_input(label() + ": starts/ends/axes/steps differ in length");
    int t = tensor(n_->input(0));
    for (size_t k = 0; k < starts.size(); ++k) {
        const int64_t a = norm_axis(axes[k], r, label()), d = xs[a];
        const int64_t step = steps[k];
        const std::string name = n_->output(0) + (k + 1 < starts.size() ? ".part" : "");
        if (step == 0) bad_input(label() + ": step 0");
        if (step != 1) {
            t = stepped_slice(t, a, starts[k], ends[k], step, name);
            continue;
        }
        int64_t lo = starts[k] < 0 ? std::max<int64_t>(starts[k] + d, 0) : std::min(starts[k], d);
        int64_t hi = ends[k] < 0 ? std::max<int64_t>(ends[k] + d, 0) : std::min(ends[k], d);
        if (hi <= lo) unsupported_here("empty slice");
        t = slice_or_view(t, a, lo, hi - lo, name);
    }
    bind(n_->output(0), t);
}

// Gather with constant indices that pick one index or a contiguous range.
void Lowerer::gather()
{
    const std::string idx = input_name(*n_, 1);
    if (!g_.is_const(idx)) return gather_ids();
    const Shape xs = dev_shape(shape(n_->input(0)), "input");
    const int64_t r = static_cast<int64_t>(shape(n_->input(0)).size());
    if (r == 0) bad_input(label() + ": input is a scalar");
    const int64_t axis = norm_axis(attr_i(*n_, "axis", 0), r, label());
    const ConstTensor &c = g_.cst(idx);
    std::vector<int64_t> v = c.ints();
    if (v.empty() || c.shape.size() > 1) return gather_ids();
    for (auto &i : v) {
        if (i < -xs[axis] || i >= xs[axis]) bad_input(label() + ": index " + std::to_string(i) + " out of range");
        if (i < 0) i += xs[axis];
    }
    for (size_t k = 1; k < v.size(); ++k)
        if (v[k] != v[0] + static_cast<int64_t>(k)) return gather_ids();  // e.g. DLRM's lower triangle
    const int64_t size = static_cast<int64_t>(v.size());
    bind(n_->output(0), slice_or_view(tensor(n_->input(0)), axis, v[0], size, n_->output(0)));
}

}  // namespace mtia::compiler
