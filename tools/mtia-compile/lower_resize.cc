// SPDX-License-Identifier: MIT
// Lowering of ONNX Resize (opsets 10, 11, 13) and Upsample (7, 9) to the
// device's RESIZE: constant scales or sizes, the modes and coordinate
// transformations of mtia_spec.h. Upsample and Resize-10 predate the
// coordinate attributes: they are asymmetric, nearest rounding down (ONNX's
// Upsample example, PyTorch's nearest; onnxruntime agrees when upsampling,
// and rounds up when downsampling, so nearest downsampling there is
// refused). The device resizes the trailing 1..3 dims; dims before them must
// be unchanged (N and C of an image), and a Resize changing nothing is a view.
#include <cmath>

#include "errors.h"
#include "lower_internal.h"
#include "node_util.h"

namespace mtia::compiler {

namespace {

uint32_t coord_mode(const std::string &m, const std::string &label)
{
    if (m == "half_pixel") return MTIA_RESIZE_HALF_PIXEL;
    if (m == "pytorch_half_pixel") return MTIA_RESIZE_PYTORCH_HALF_PIXEL;
    if (m == "align_corners") return MTIA_RESIZE_ALIGN_CORNERS;
    if (m == "asymmetric") return MTIA_RESIZE_ASYMMETRIC;
    if (m == "tf_half_pixel_for_nn") return MTIA_RESIZE_TF_HALF_PIXEL_FOR_NN;
    if (m == "tf_crop_and_resize")
        unsupported(label + ": coordinate_transformation_mode tf_crop_and_resize (a crop by roi) is not supported");
    bad_input(label + ": unknown coordinate_transformation_mode '" + m + "'");
}

uint32_t nearest_mode(const std::string &m, const std::string &label)
{
    if (m == "round_prefer_floor") return MTIA_RESIZE_ROUND_PREFER_FLOOR;
    if (m == "round_prefer_ceil") return MTIA_RESIZE_ROUND_PREFER_CEIL;
    if (m == "floor") return MTIA_RESIZE_FLOOR;
    if (m == "ceil") return MTIA_RESIZE_CEIL;
    bad_input(label + ": unknown nearest_mode '" + m + "'");
}

}  // namespace

void Lowerer::resize()
{
    const bool upsample = n_->op_type() == "Upsample";
    const bool legacy = upsample || g_.opset < 11;  // no coordinate attributes
    const Shape xs = shape(n_->input(0));
    const size_t r = xs.size();

    // Scales (float, per dim) or sizes, constants.
    std::vector<float> scales;
    std::vector<int64_t> sizes;
    auto constant = [&](int k, const char *what) -> const ConstTensor * {
        const std::string v = input_name(*n_, k);
        if (v.empty()) return nullptr;
        if (!g_.is_const(v)) unsupported_here(std::string(what) + " must be constant");
        const ConstTensor &c = g_.cst(v);
        return c.size() ? &c : nullptr;  // an empty tensor stands for "not given"
    };
    if (upsample && g_.opset < 9) {
        if (const auto *a = find_attr(*n_, "scales")) scales.assign(a->floats().begin(), a->floats().end());
    } else {
        const ConstTensor *sc = constant(legacy ? 1 : 2, "scales");
        const ConstTensor *sz = legacy ? nullptr : constant(3, "sizes");
        if (sc && sz) bad_input(label() + ": only one of scales and sizes may be given");
        if (sc) {
            if (!sc->is_float()) bad_input(label() + ": scales must be float");
            scales = sc->f;
        }
        if (sz) sizes = sz->ints();
    }
    if (scales.empty() && sizes.empty()) bad_input(label() + ": neither scales nor sizes given");
    if (r == 0 || scales.size() + sizes.size() != r)
        bad_input(label() + ": " + std::to_string(scales.size() + sizes.size()) + " scales or sizes for rank " +
                  std::to_string(r));
    // Checked before the output's shape is read: ONNX's inference leaves
    // it unknown (or negative) for these.
    for (size_t k = 0; k < scales.size(); ++k) {
        const float s = scales[k];
        if (!std::isfinite(s) || !(s > 0)) bad_input(label() + ": scale " + std::to_string(s) + " is not > 0");
        if (static_cast<double>(xs[k]) * s >= static_cast<double>(kMaxElements))
            unsupported_here("scale " + std::to_string(s) + " makes dim " + std::to_string(k) + " over 2^28");
    }
    for (int64_t z : sizes) {
        if (z < 0) bad_input(label() + ": size " + std::to_string(z) + " is negative");
        if (z == 0) unsupported_here("a size of 0 (empty tensors are not supported)");
    }
    const Shape os = shape(n_->output(0));
    if (os.size() != r) bad_input(label() + ": output rank differs from the input's");

    uint32_t mode, coord = MTIA_RESIZE_ASYMMETRIC, nearest = MTIA_RESIZE_FLOOR;
    const std::string m = attr_s(*n_, "mode", "nearest");
    if (m == "nearest")
        mode = MTIA_RESIZE_NEAREST;
    else if (m == "linear" || (legacy && m == "bilinear"))
        mode = MTIA_RESIZE_LINEAR;
    else if (m == "cubic" && !legacy)
        mode = MTIA_RESIZE_CUBIC;
    else
        bad_input(label() + ": unknown mode '" + m + "'");
    float cubic_a = 0;
    bool exclude = false;
    if (!legacy) {
        coord = coord_mode(attr_s(*n_, "coordinate_transformation_mode", "half_pixel"), label());
        nearest =
            mode == MTIA_RESIZE_NEAREST ? nearest_mode(attr_s(*n_, "nearest_mode", "round_prefer_floor"), label()) : 0;
        if (mode == MTIA_RESIZE_CUBIC) cubic_a = attr_f(*n_, "cubic_coeff_a", -0.75f);
        exclude = attr_i(*n_, "exclude_outside", 0) != 0;
        if (!std::isfinite(cubic_a)) bad_input(label() + ": cubic_coeff_a is not finite");
        if (exclude && mode == MTIA_RESIZE_NEAREST) unsupported_here("exclude_outside with mode nearest");
    } else if (mode != MTIA_RESIZE_NEAREST) {
        nearest = 0;
    }

    // Per dim: the scale's bits (0: sizes), the output size, and whether
    // the dim is left as it is.
    std::vector<uint32_t> bits(r, 0);
    std::vector<bool> same(r);
    for (size_t k = 0; k < r; ++k) {
        const double n = static_cast<double>(xs[k]);
        if (!scales.empty()) {
            const float s = scales[k];
            if (upsample && s < 1) bad_input(label() + ": Upsample scales must be >= 1");
            if (legacy && s < 1 && mode == MTIA_RESIZE_NEAREST)
                unsupported_here(
                    "nearest downsampling before opset 11 (its rounding is undefined: export at opset "
                    ">= 11)");
            // ONNX's shape inference floors n*s in float, its reference in
            // double: the device takes either (within 1 of n*s).
            if (!(std::fabs(static_cast<double>(os[k]) - n * static_cast<double>(s)) < 1))
                bad_input(label() + ": output dim " + std::to_string(k) + " is " + std::to_string(os[k]) +
                          ", not floor(" + std::to_string(xs[k]) + " * " + std::to_string(s) + ")");
            bits[k] = f32_bits(s);
            same[k] = s == 1.0f;
        } else {
            if (sizes[k] != os[k]) bad_input(label() + ": sizes disagree with the inferred output shape");
            same[k] = sizes[k] == xs[k];
        }
        if (os[k] < 1) unsupported_here("output dim " + std::to_string(k) + " is empty");
        // x + .5 rounds up to x + 1 there: not the identity even at scale 1.
        if (coord == MTIA_RESIZE_TF_HALF_PIXEL_FOR_NN && xs[k] > 1 &&
            (mode != MTIA_RESIZE_NEAREST || nearest == MTIA_RESIZE_ROUND_PREFER_CEIL || nearest == MTIA_RESIZE_CEIL))
            same[k] = false;
        if (xs[k] == 1 && os[k] == 1) same[k] = true;  // every tap reads the one element
    }
    size_t first = 0;
    while (first < r && same[first]) ++first;
    if (first == r) return bind(n_->output(0), tensor(n_->input(0)));
    const size_t sp = r - first;
    if (sp > MTIA_RESIZE_MAX_SPATIAL)
        unsupported_here("resizes dim " + std::to_string(first) + " of " + shape_str(xs) +
                         ": the device resizes at most the 3 trailing dims (the dims before them, e.g. N and C, "
                         "must keep their size)");
    const uint64_t per = mode == MTIA_RESIZE_NEAREST ? 1 : mode == MTIA_RESIZE_LINEAR ? 2 : 4;
    uint64_t taps = 0, out_elems = 1, tap_product = 1;
    for (size_t k = first; k < r; ++k) {
        taps += per * static_cast<uint64_t>(os[k]);
        tap_product *= per;
    }
    for (int64_t d : os) out_elems *= static_cast<uint64_t>(d);
    if (taps > MTIA_RESIZE_MAX_TAPS)
        unsupported_here("output " + shape_str(os) + " is too long for the device's resize tables");

    std::vector<uint32_t> attrs = {mode,
                                   coord,
                                   nearest,
                                   mode == MTIA_RESIZE_CUBIC ? f32_bits(cubic_a) : 0u,
                                   exclude ? 1u : 0u,
                                   static_cast<uint32_t>(sp)};
    for (size_t k = first; k < r; ++k) attrs.push_back(bits[k]);
    const int out = new_activation(n_->output(0), dev_shape(os, "output"));
    emit(MTIA_OP_RESIZE, {tensor(n_->input(0))}, out, attrs,
         mode == MTIA_RESIZE_NEAREST ? 0 : 2 * out_elems * tap_product);
    bind(n_->output(0), out);
}

}  // namespace mtia::compiler
