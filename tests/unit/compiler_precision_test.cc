// SPDX-License-Identifier: MIT
// mtia-compile --dtype fp16|bf16 (precision.h): models of make_models.py
// compiled in 16 bits run on the compute engine within a stated tolerance of
// the same model in float32, with float32 inputs and outputs, about half the
// weight bytes, and the sensitive ops (softmax, layer norm, reductions,
// embedding bags) reported in f32; the pass's CASTs on a small graph; bad
// --dtype values.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "compiler_test_util.h"
#include "errors.h"
#include "precision.h"

namespace mtia::compiler::testing {
namespace {

struct Case {
    std::string model;
    const char *dtype;
};

std::string case_name(const ::testing::TestParamInfo<Case> &i) { return i.param.model + "_" + i.param.dtype; }

class PrecisionModels : public ::testing::TestWithParam<Case> {};

// Largest |a - b| over max(1, largest |b|): the error relative to the
// output's scale.
float scaled_err(const std::vector<float> &a, const std::vector<float> &b)
{
    float scale = 1.0f;
    for (float v : b) scale = std::max(scale, std::fabs(v));
    return max_abs_diff(a, b) / scale;
}

TEST_P(PrecisionModels, MatchFloat32WithinTolerance)
{
    const std::string dir = models_dir();
    if (dir.empty()) GTEST_SKIP() << "test models not generated (tests/models/make_models.py --out build/models)";
    nlohmann::json e;
    for (const auto &m : nlohmann::json::parse(std::ifstream(dir + "/manifest.json")))
        if (m["name"] == GetParam().model) e = m;
    if (e.is_null()) GTEST_SKIP() << GetParam().model << " is not in the generated set";
    const std::string onnx = dir + "/" + e["onnx"].get<std::string>();
    std::vector<std::vector<float>> inputs;
    for (const auto &in : e["inputs"]) inputs.push_back(load_npy(dir + "/" + in["file"].get<std::string>()).data);

    CompileResult f32, half;
    ASSERT_NO_THROW(f32 = compile_file(onnx, {}));
    CompileOptions o;
    o.dtype = parse_dtype_option(GetParam().dtype);
    ASSERT_NO_THROW(half = compile_file(onnx, o));
    const auto want = run_on_host(f32.bytes, inputs), got = run_on_host(half.bytes, inputs);
    ASSERT_EQ(got.size(), want.size());
    // bf16 keeps 8 significant bits, fp16 11: errors of a few roundings
    // through the net, relative to the output's scale.
    const float tol = o.dtype == MTIA_DTYPE_BF16 ? 3e-2f : 5e-3f;
    for (size_t k = 0; k < got.size(); ++k) {
        const float err = scaled_err(got[k], want[k]);
        EXPECT_LE(err, tol) << "output " << k;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.3g", err);
        RecordProperty("scaled_err_" + std::to_string(k), buf);
    }

    // Inputs and outputs keep their types; the 16-bit ops are reported and
    // the sensitive ones are not among them; the weights shrink.
    const Summary &s = half.summary;
    for (size_t k = 0; k < s.inputs.size(); ++k) EXPECT_EQ(s.inputs[k].dtype, f32.summary.inputs[k].dtype);
    for (size_t k = 0; k < s.outputs.size(); ++k) EXPECT_EQ(s.outputs[k].dtype, f32.summary.outputs[k].dtype);
    const std::string label = GetParam().dtype;
    ASSERT_TRUE(s.precision.count(label)) << "no op runs in " << label;
    for (const char *k : {"Softmax", "LayerNorm", "Reduce", "EmbeddingBag"})
        EXPECT_FALSE(s.precision.at(label).count(k)) << k << " in " << label;
    if (f32.summary.weights_bytes > (1 << 20)) {
        EXPECT_LT(s.weights_bytes, f32.summary.weights_bytes * 6 / 10);
    }
}

INSTANTIATE_TEST_SUITE_P(Models, PrecisionModels,
                         ::testing::Values(Case{"convbnrelu", "bf16"}, Case{"convbnrelu", "fp16"},
                                           Case{"branches", "bf16"}, Case{"shufflesplit", "fp16"}, Case{"mlp", "bf16"},
                                           Case{"lngelu", "fp16"}, Case{"encoder_mask", "bf16"},
                                           Case{"encoder_mask", "fp16"}, Case{"bert_mask", "bf16"},
                                           Case{"dlrm", "bf16"}, Case{"dlrm_bag", "fp16"}, Case{"seghead", "bf16"},
                                           Case{"resnet18", "bf16"}, Case{"resnet18", "fp16"},
                                           Case{"mobilenet_v2", "bf16"}),
                         case_name);

// Conv -> Softmax -> output: the conv computes in bf16 on a cast input,
// the softmax in f32 on a cast of the conv's output; the weights are bf16.
TEST(Precision, CastsWherePrecisionsMeet)
{
    OnnxBuilder b;
    b.input("x", {1, 3, 8, 8}).init_rand("w", {4, 3, 3, 3}).init_rand("bias", {4}).output("y");
    b.node("Conv", {"x", "w", "bias"}, {"c"});
    auto &sm = b.node("Softmax", {"c"}, {"y"});
    attr(sm, "axis", int64_t{1});
    CompileOptions o;
    o.dtype = MTIA_DTYPE_BF16;
    CompileResult r;
    ASSERT_NO_THROW(r = compile_model(b.model(), "", o));
    const DevGraph &d = r.program;
    std::vector<std::string> kinds;
    for (const auto &op : d.ops) kinds.push_back(op_kind_name(op.kind));
    EXPECT_EQ(kinds, (std::vector<std::string>{"Cast", "Conv", "Cast", "Softmax"}));
    EXPECT_EQ(d.tensors[d.ops[1].in[0]].dtype, MTIA_DTYPE_BF16);
    EXPECT_EQ(d.tensors[d.ops[1].in[1]].dtype, MTIA_DTYPE_BF16);  // the weights
    EXPECT_EQ(d.tensors[d.ops[1].out].dtype, MTIA_DTYPE_BF16);
    EXPECT_EQ(d.tensors[d.ops[3].in[0]].dtype, MTIA_DTYPE_F32);
    EXPECT_EQ(r.summary.passes.at("precision casts added"), 2);
    EXPECT_EQ(r.summary.precision.at("bf16").at("Conv"), 1);
    EXPECT_EQ(r.summary.precision.at("f32").at("Softmax"), 1);

    const auto x = random_floats(3 * 8 * 8, 3);
    CompileResult f;
    ASSERT_NO_THROW(f = compile_model(b.model(), "", {}));
    const auto got = run_on_host(r.bytes, {x}), want = run_on_host(f.bytes, {x});
    ASSERT_EQ(got.size(), 1u);
    EXPECT_LE(scaled_err(got[0], want[0]), 2e-2f);
}

TEST(Precision, BadDtypeIsAUsageError)
{
    EXPECT_EQ(parse_dtype_option("bf16"), MTIA_DTYPE_BF16);
    EXPECT_EQ(parse_dtype_option("float16"), MTIA_DTYPE_F16);
    EXPECT_EQ(parse_dtype_option("fp32"), 0);
    try {
        parse_dtype_option("int4");
        FAIL() << "int4 accepted";
    } catch (const CompileError &e) {
        EXPECT_EQ(e.kind(), ErrorKind::kUsage);
        EXPECT_NE(std::string(e.what()).find("fp16 or bf16"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace mtia::compiler::testing
