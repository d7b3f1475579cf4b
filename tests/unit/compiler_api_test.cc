// SPDX-License-Identifier: MIT
// libmtia-compiler's public API (include/mtia/compiler.hpp): ONNX bytes in
// memory to a .mtia image, the CLI's options, and the CLI's errors as
// mtia::CompileError of the same kind and message.
#include <gtest/gtest.h>

#include "compiler.h"
#include "compiler_test_util.h"
#include "mtia/compiler.hpp"

namespace mtia::compiler::testing {
namespace {

std::string mlp_bytes()
{
    OnnxBuilder b;
    b.input("x", {2, 8}).output("y").init_rand("w1", {8, 16}).init_rand("w2", {16, 4});
    b.node("MatMul", {"x", "w1"}, {"h"}, "fc1");
    b.node("Relu", {"h"}, {"r"}, "relu");
    b.node("MatMul", {"r", "w2"}, {"y"}, "fc2");
    return b.model().SerializeAsString();
}

mtia::CompileError error_of(const std::string &bytes, const mtia::CompileOptions &opts = {})
{
    try {
        mtia::compile_onnx(bytes, opts);
    } catch (const mtia::CompileError &e) {
        return e;
    }
    ADD_FAILURE() << "compiled without error";
    return mtia::CompileError(mtia::CompileError::Kind::Internal, "");
}

TEST(CompilerApi, SameImageAsTheCompilerCore)
{
    const std::string onnx = mlp_bytes();
    mtia::CompileOptions o;
    o.name = "mlp";
    const std::string image = mtia::compile_onnx(onnx, o);
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromString(onnx));
    m.mutable_graph()->set_name("mlp");
    EXPECT_EQ(image, compile_model(m, "", {}).bytes);
    EXPECT_EQ(mtia::compile_onnx(onnx.data(), onnx.size(), o), image);
    std::string summary;
    mtia::compile_onnx(onnx, o, &summary);
    EXPECT_NE(summary.find("\"model\": \"mlp\""), std::string::npos) << summary;
    EXPECT_EQ(mtia::compiler_version(), compiler_version());
}

TEST(CompilerApi, InputShapesAsTheCli)
{
    OnnxBuilder b;
    b.input("x", {-1, 8}).output("y").init_rand("w", {8, 4});
    b.node("MatMul", {"x", "w"}, {"y"}, "fc");
    const std::string onnx = b.model().SerializeAsString();
    EXPECT_EQ(error_of(onnx).kind(), mtia::CompileError::Kind::Unsupported);  // dynamic batch
    mtia::CompileOptions o;
    o.input_shapes["x"] = {3, 8};
    EXPECT_FALSE(mtia::compile_onnx(onnx, o).empty());
    o.input_shapes["nope"] = {1};
    EXPECT_EQ(error_of(onnx, o).kind(), mtia::CompileError::Kind::Usage);
}

TEST(CompilerApi, ErrorsNameTheNodeAndOp)
{
    OnnxBuilder b;
    b.input("x", {1, 8}).output("y").init_i64("axis", {}, {1});
    b.node("CumSum", {"x", "axis"}, {"y"}, "cs_7");
    mtia::CompileError e = error_of(b.model().SerializeAsString());
    EXPECT_EQ(e.kind(), mtia::CompileError::Kind::Unsupported);
    EXPECT_NE(std::string(e.what()).find("node 'cs_7' (op CumSum): unsupported op"), std::string::npos) << e.what();
}

TEST(CompilerApi, BadBytesAreBadInput)
{
    const std::string good = mlp_bytes();
    EXPECT_EQ(error_of("").kind(), mtia::CompileError::Kind::BadInput);
    EXPECT_EQ(error_of("not an onnx model at all").kind(), mtia::CompileError::Kind::BadInput);
    for (size_t n : {size_t{1}, good.size() / 3, good.size() - 1}) {
        const auto k = error_of(good.substr(0, n)).kind();
        EXPECT_TRUE(k == mtia::CompileError::Kind::BadInput || k == mtia::CompileError::Kind::Unsupported) << n;
    }
    EXPECT_THROW(mtia::compile_onnx(nullptr, 4), mtia::CompileError);
}

TEST(CompilerApi, ExternalDataNeedsADirectory)
{
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromString(mlp_bytes()));
    auto *w = m.mutable_graph()->mutable_initializer(0);
    w->clear_raw_data();
    w->set_data_location(onnx::TensorProto::EXTERNAL);
    auto *loc = w->add_external_data();
    loc->set_key("location");
    loc->set_value("../../etc/passwd");
    mtia::CompileError e = error_of(m.SerializeAsString());
    EXPECT_EQ(e.kind(), mtia::CompileError::Kind::BadInput);
    EXPECT_NE(std::string(e.what()).find("external_data_dir"), std::string::npos) << e.what();
}

}  // namespace
}  // namespace mtia::compiler::testing
