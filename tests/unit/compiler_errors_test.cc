// SPDX-License-Identifier: MIT
// Bad input gives a CompileError of the right kind whose message names the
// culprit, never a crash: unsupported ops, dynamic shapes, non-float data,
// truncated, garbage and randomly corrupted files; and the CLI's exit codes.
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "compiler_test_util.h"
#include "onnx_loader.h"

namespace mtia::compiler::testing {
namespace {

// The CompileError compile_model throws for m (fails the test if none).
CompileError error_of(const onnx::ModelProto &m, const CompileOptions &opts = {})
{
    try {
        compile_model(m, ".", opts);
    } catch (const CompileError &e) {
        return e;
    }
    ADD_FAILURE() << "compiled without error";
    return CompileError(ErrorKind::kInternal, "");
}

OnnxBuilder small_cnn()
{
    OnnxBuilder b;
    b.input("x", {1, 3, 8, 8}).output("y").init_rand("w", {4, 3, 3, 3}).init_rand("fc", {4, 2});
    b.node("Conv", {"x", "w"}, {"c"}, "Conv_0");
    b.node("Relu", {"c"}, {"r"}, "Relu_1");
    b.node("GlobalAveragePool", {"r"}, {"p"}, "Pool_2");
    attr(b.node("Flatten", {"p"}, {"f"}, "Flatten_3"), "axis", int64_t{1});
    b.node("MatMul", {"f", "fc"}, {"y"}, "MatMul_4");
    return b;
}

TEST(CompilerErrors, UnsupportedOpNamesTheNode)
{
    OnnxBuilder b;
    b.input("boxes", {1, 4, 4}).input("scores", {1, 1, 4}).output("y");
    b.node("NonMaxSuppression", {"boxes", "scores"}, {"y"}, "Conv_12");
    CompileError e = error_of(b.model());
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("node 'Conv_12' (op NonMaxSuppression): unsupported op"), std::string::npos)
        << e.what();
}

TEST(CompilerErrors, SupportedOpWithUnsupportedAttributesNamesTheNode)
{
    OnnxBuilder b;
    b.input("x", {1, 8}).output("y").init_i64("pads", {4}, {0, 1, 0, 1});
    attr(b.node("Pad", {"x", "pads"}, {"y"}, "Pad_7"), "mode", std::string("wrap"));
    CompileError e = error_of(b.model());
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("node 'Pad_7' (op Pad): mode 'wrap' is not supported"), std::string::npos)
        << e.what();
}

TEST(CompilerErrors, DynamicShapeNeedsInputShape)
{
    OnnxBuilder b;
    b.input("x", {-1, 16}).output("y");
    b.node("Relu", {"x"}, {"y"});
    CompileError e = error_of(b.model());
    EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("graph input 'x' dim 0 is dynamic"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--input-shape x="), std::string::npos) << e.what();

    CompileOptions fixed;
    fixed.input_shapes["x"] = {4, 16};
    CompileResult r = compile_model(b.model(), ".", fixed);
    EXPECT_EQ(r.summary.inputs[0].shape, (Shape{4, 16}));

    CompileOptions wrong;
    wrong.input_shapes["x"] = {4, 17};
    EXPECT_EQ(error_of(b.model(), wrong).kind(), ErrorKind::kUsage);  // dim 1 is fixed to 16
    CompileOptions unknown;
    unknown.input_shapes["nope"] = {1};
    EXPECT_EQ(error_of(b.model(), unknown).kind(), ErrorKind::kUsage);
}

TEST(CompilerErrors, BatchCanBeChangedOnAStaticModel)
{
    OnnxBuilder b = small_cnn();
    CompileOptions o;
    o.input_shapes["x"] = {3, 3, 8, 8};
    // A static model's dims are fixed: changing them is refused.
    EXPECT_EQ(error_of(b.model(), o).kind(), ErrorKind::kUsage);
}

TEST(CompilerErrors, NonFloatDataIsRefused)
{
    {
        OnnxBuilder b;
        b.input("ids", {1, 4}, onnx::TensorProto::INT16).output("y");
        b.node("Identity", {"ids"}, {"y"});
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
        EXPECT_NE(std::string(e.what()).find("graph input 'ids' has element type INT16"), std::string::npos)
            << e.what();
    }
    {
        OnnxBuilder b;  // int8 data is quantized: it needs a DequantizeLinear's scale
        b.input("q", {1, 4}, onnx::TensorProto::INT8).output("y");
        b.node("Identity", {"q"}, {"y"});
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
        EXPECT_NE(std::string(e.what()).find("'q' is int8 without a scale"), std::string::npos) << e.what();
    }
    {
        // An 8-bit input nothing reads (the fuzzer's: it became a quantized
        // tensor without a scale, which libmtia refuses to load).
        OnnxBuilder b;
        b.input("u", {1}, onnx::TensorProto::UINT8).input("x", {2, 3}).output("y");
        b.node("Relu", {"x"}, {"y"});
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
        EXPECT_NE(std::string(e.what()).find("'u' is uint8 without a scale"), std::string::npos) << e.what();
    }
    {
        OnnxBuilder b;
        b.input("x", {1, 4}, onnx::TensorProto::DOUBLE).output("y");
        b.node("Relu", {"x"}, {"y"});
        EXPECT_EQ(error_of(b.model()).kind(), ErrorKind::kUnsupported);
    }
    {
        OnnxBuilder b;  // a computed integer tensor into a float op
        b.input("x", {1, 4}).output("y");
        auto &c = b.node("Cast", {"x"}, {"i"}, "Cast_3");
        attr(c, "to", int64_t{onnx::TensorProto::INT32});
        b.node("Relu", {"i"}, {"y"}, "Relu_4");
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
        EXPECT_NE(std::string(e.what()).find("Relu_4"), std::string::npos) << e.what();
    }
}

TEST(CompilerErrors, InvalidGraphsAreBadInput)
{
    {
        OnnxBuilder b;  // Conv without weights
        b.input("x", {1, 3, 8, 8}).output("y");
        b.node("Conv", {"x"}, {"y"}, "Conv_bad");
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
        EXPECT_NE(std::string(e.what()).find("Conv_bad"), std::string::npos) << e.what();
    }
    {
        OnnxBuilder b;  // uses a value nobody defines
        b.input("x", {1, 4}).output("y");
        b.node("Add", {"x", "ghost"}, {"y"}, "Add_1");
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
        EXPECT_NE(std::string(e.what()).find("'ghost'"), std::string::npos) << e.what();
    }
    {
        OnnxBuilder b;  // shapes that do not broadcast
        b.input("x", {1, 4}).input("z", {1, 5}).output("y");
        b.node("Add", {"x", "z"}, {"y"}, "Add_2");
        EXPECT_EQ(error_of(b.model()).kind(), ErrorKind::kBadInput);
    }
    {
        OnnxBuilder b(18);  // opset newer than implemented
        b.input("x", {1, 4}).output("y");
        b.node("Relu", {"x"}, {"y"});
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
        EXPECT_NE(std::string(e.what()).find("opset 18"), std::string::npos) << e.what();
    }
    for (float ratio : {0.5f, 0.0f}) {  // Dropout in training mode is random unless ratio is 0
        OnnxBuilder b;
        b.input("x", {1, 4}).output("y").init("ratio", {}, {ratio});
        auto &t = *b.mutable_model().mutable_graph()->add_initializer();
        t.set_name("training");
        t.set_data_type(onnx::TensorProto::BOOL);
        t.add_int32_data(1);
        b.node("Relu", {"x"}, {"r"});
        b.node("Dropout", {"r", "ratio", "training"}, {"y"});
        if (ratio == 0.0f) {
            EXPECT_NO_THROW(compile_model(b.model(), ".", {}));
            continue;
        }
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kUnsupported);
        EXPECT_NE(std::string(e.what()).find("training_mode true"), std::string::npos) << e.what();
    }
    {
        // Too old, and invalid for its opset (opset 1's Upsample requires
        // height_scale): ONNX's checker refuses it before the converter,
        // which trusts the graph it is given.
        OnnxBuilder b(5);
        b.input("x", {1, 1, 2, 2}).output("y");
        attr(b.node("Upsample", {"x"}, {"y"}), "mode", std::string("nearest"));
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
        EXPECT_NE(std::string(e.what()).find("fails ONNX's checker"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("height_scale"), std::string::npos) << e.what();
    }
    {
        OnnxBuilder b;  // initializer with the wrong number of values
        b.input("x", {1, 4}).output("y").init("k", {2, 4}, {1, 2, 3});
        b.node("Add", {"x", "k"}, {"y"});
        CompileError e = error_of(b.model());
        EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
        EXPECT_NE(std::string(e.what()).find("tensor 'k'"), std::string::npos) << e.what();
    }
}

TEST(CompilerErrors, TruncatedGarbageAndEmptyFilesAreBadInput)
{
    const std::string good = small_cnn().bytes();
    ASSERT_NO_THROW(compile_model(parse_onnx(good, "good"), ".", {}));
    // Every truncation is refused cleanly (most do not parse; the rest are
    // incomplete models).
    for (size_t len = 0; len < good.size(); len += 7) {
        try {
            compile_model(parse_onnx(good.substr(0, len), "truncated"), ".", {});
            ADD_FAILURE() << "a model truncated to " << len << " of " << good.size() << " bytes compiled";
        } catch (const CompileError &e) {
            EXPECT_NE(e.kind(), ErrorKind::kInternal) << len << ": " << e.what();
        }
    }
    std::mt19937 rng(3);
    for (int k = 0; k < 50; ++k) {
        std::string junk(1 + rng() % 4000, '\0');
        for (auto &c : junk) c = static_cast<char>(rng());
        try {
            compile_model(parse_onnx(junk, "garbage"), ".", {});
            ADD_FAILURE() << "garbage compiled";
        } catch (const CompileError &e) {
            EXPECT_EQ(e.kind(), ErrorKind::kBadInput) << e.what();
        }
    }
    try {
        load_onnx_file("/nonexistent/model.onnx");
        ADD_FAILURE();
    } catch (const CompileError &e) {
        EXPECT_EQ(e.kind(), ErrorKind::kBadInput);
        EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
    }
}

TEST(CompilerErrors, RandomlyCorruptedModelsNeverCrash)
{
    std::string good = small_cnn().bytes();
    if (const char *path = std::getenv("MTIA_FUZZ_MODEL")) {  // by hand: fuzz another model
        std::ifstream f(path, std::ios::binary);
        good.assign(std::istreambuf_iterator<char>(f), {});
    }
    const char *seed = std::getenv("MTIA_FUZZ_SEED");
    std::mt19937 rng(seed ? static_cast<uint32_t>(std::atoi(seed)) : 11u);
    int compiled = 0, refused = 0;
    const char *env = std::getenv("MTIA_FUZZ_ITERS");  // longer runs by hand
    const int iters = env ? std::atoi(env) : 400;
    for (int k = 0; k < iters; ++k) {
        std::string bad = good;
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] = static_cast<char>(rng());
        try {
            CompileResult r = compile_model(parse_onnx(bad, "corrupt"), ".", {});
            // If it compiled, what it wrote must be a valid model.
            std::vector<std::vector<float>> in;
            for (int t : r.program.inputs) in.push_back(random_floats(r.program.tensors[t].bytes() / 4, 1));
            ASSERT_EQ(run_on_host(r.bytes, in).size(), r.program.outputs.size()) << "iteration " << k;
            ++compiled;
        } catch (const CompileError &e) {
            EXPECT_NE(e.kind(), ErrorKind::kInternal) << "iteration " << k << ": " << e.what();
            ++refused;
        }
    }
    // (A large model's corruptions mostly land in weights and compile.)
    if (!std::getenv("MTIA_FUZZ_MODEL")) {
        EXPECT_GT(refused, 0);
    }
    RecordProperty("compiled", compiled);
}

// ---- the command line ------------------------------------------------------
struct CliRun {
    int code;
    std::string out;
};

CliRun cli(const std::string &args)
{
    const std::string cmd = std::string(MTIA_COMPILE_BIN) + " " + args + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    CliRun r{-1, ""};
    if (!p) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
    int st = pclose(p);
    r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

class CompilerCli : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/mtia-compile-test.XXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir_ = tmpl;
    }
    void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }
    std::string write(const std::string &name, const std::string &bytes)
    {
        std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
        return dir_ + "/" + name;
    }
    std::string dir_;
};

TEST_F(CompilerCli, ExitCodesAndOutputs)
{
    const std::string model = write("cnn.onnx", small_cnn().bytes());
    CliRun ok = cli(model + " -o " + dir_ + "/cnn.mtia --summary-json " + dir_ + "/s.json");
    EXPECT_EQ(ok.code, 0) << ok.out;
    EXPECT_NE(ok.out.find("after fusion"), std::string::npos) << ok.out;
    struct stat st;
    EXPECT_EQ(stat((dir_ + "/cnn.mtia").c_str(), &st), 0);
    std::ifstream js(dir_ + "/s.json");
    nlohmann::json j = nlohmann::json::parse(js);
    EXPECT_EQ(j["device_op_kinds"]["Conv+Relu"], 1);

    CliRun quiet = cli("-q " + model);  // default output beside the model
    EXPECT_EQ(quiet.code, 0);
    EXPECT_EQ(quiet.out, "");
    EXPECT_EQ(stat((dir_ + "/cnn.mtia").c_str(), &st), 0);

    EXPECT_EQ(cli("").code, 2);
    EXPECT_EQ(cli(model + " --bogus").code, 2);
    EXPECT_EQ(cli(model + " --input-shape x=1xZ").code, 2);
    EXPECT_EQ(cli(model + " --input-shape nope=1x2").code, 2);
    CliRun missing = cli(dir_ + "/missing.onnx");
    EXPECT_EQ(missing.code, 3);
    EXPECT_NE(missing.out.find("cannot open"), std::string::npos);
    EXPECT_EQ(cli(write("junk.onnx", "this is not a model")).code, 3);
    EXPECT_EQ(cli(write("half.onnx", small_cnn().bytes().substr(0, 100))).code, 3);

    OnnxBuilder nms;
    nms.input("b", {1, 4, 4}).input("s", {1, 1, 4}).output("y");
    nms.node("NonMaxSuppression", {"b", "s"}, {"y"}, "NMS_3");
    CliRun un = cli(write("nms.onnx", nms.bytes()));
    EXPECT_EQ(un.code, 4);
    EXPECT_NE(un.out.find("node 'NMS_3' (op NonMaxSuppression): unsupported op"), std::string::npos) << un.out;

    EXPECT_EQ(cli(model + " -o /nonexistent-dir/x.mtia").code, 5);
}

// -o /dev/null (or any node that is not a regular file) is written in place:
// the usual write-beside-and-rename would replace the node with a regular
// file. A FIFO stands in for /dev/null so that a regression cannot break the
// host's /dev/null.
TEST_F(CompilerCli, OutputThatIsNotARegularFileIsWrittenInPlace)
{
    const std::string model = write("cnn.onnx", small_cnn().bytes());
    const std::string fifo = dir_ + "/out.fifo";
    ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
    // Our own write end keeps the reader from seeing end of file before the
    // compiler opens the FIFO, and from waiting forever if it never does.
    int hold = open(fifo.c_str(), O_RDWR);
    int rd = open(fifo.c_str(), O_RDONLY);
    ASSERT_GE(hold, 0);
    ASSERT_GE(rd, 0);
    std::string got;
    std::thread reader([&] {
        char buf[65536];
        ssize_t n;
        while ((n = read(rd, buf, sizeof buf)) > 0) got.append(buf, static_cast<size_t>(n));
    });
    CliRun r = cli("-q " + model + " -o " + fifo);
    close(hold);
    reader.join();
    close(rd);
    EXPECT_EQ(r.code, 0) << r.out;
    struct stat st;
    ASSERT_EQ(stat(fifo.c_str(), &st), 0);
    EXPECT_TRUE(S_ISFIFO(st.st_mode)) << "the FIFO was replaced";
    EXPECT_EQ(stat((fifo + ".tmp").c_str(), &st), -1);
    ASSERT_GE(got.size(), 8u);
    EXPECT_EQ(got.substr(4, 4), "MTIM") << "not a .mtia model";
}

// --quantize int8 takes its calibration set with it (compiler_ptq_test.cc
// runs it); the options alone, or another precision, are usage errors.
TEST_F(CompilerCli, QuantizeOptionsGoTogether)
{
    const std::string model = write("cnn.onnx", small_cnn().bytes());
    auto usage = [&](const std::string &args, const std::string &want) {
        CliRun r = cli(model + " " + args);
        EXPECT_EQ(r.code, 2) << args << ": " << r.out;
        EXPECT_NE(r.out.find(want), std::string::npos) << args << ": " << r.out;
    };
    usage("--quantize int8", "--quantize int8 needs --calibrate FILE.npz");
    usage("--quantize int4 --calibrate c.npz", "--quantize 'int4': the only choice is int8");
    usage("--calibrate c.npz", "--calibrate and --calibration-method go with --quantize int8");
    usage("--calibration-method entropy", "--calibrate and --calibration-method go with --quantize int8");
    usage("--quantize int8 --calibrate c.npz --calibration-method kl", "want minmax, percentile or entropy");
    usage("--quantize int8 --calibrate " + dir_ + "/missing.npz", "--calibrate: " + dir_ + "/missing.npz: cannot open");
}

TEST_F(CompilerCli, InputShapeFixesADynamicBatch)
{
    OnnxBuilder b;
    b.input("x", {-1, 3, 8, 8}).output("y").init_rand("w", {2, 3, 1, 1});
    b.node("Conv", {"x", "w"}, {"y"});
    const std::string model = write("dyn.onnx", b.bytes());
    CliRun r = cli(model);
    EXPECT_EQ(r.code, 4);
    EXPECT_NE(r.out.find("--input-shape x="), std::string::npos) << r.out;
    r = cli(model + " --input-shape x=5x3x8x8 --summary-json -");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("\"shape\": [\n        5,"), std::string::npos) << r.out;
}

// Reshape's shape fed as a graph input: bound at compile time from a .npy
// or an ONNX TensorProto (.pb) file; mismatches are usage errors.
TEST_F(CompilerCli, ConstantInputBindsAParameterInput)
{
    OnnxBuilder b;
    b.input("x", {2, 6}).input("shape", {2}, onnx::TensorProto::INT64).output("y");
    b.node("Reshape", {"x", "shape"}, {"r"});
    b.node("Relu", {"r"}, {"y"});
    const std::string model = write("reshape.onnx", b.bytes());
    EXPECT_EQ(cli(model).code, 4);  // an int64 runtime input

    const int64_t dims[2] = {3, 4};
    const std::string hdr = "{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }";
    std::string npy = std::string("\x93NUMPY\x01\x00", 8);
    std::string h = hdr + std::string(128 - 10 - hdr.size() - 1, ' ') + "\n";
    npy += std::string(1, static_cast<char>(h.size())) + std::string(1, '\0') + h;
    npy += std::string(reinterpret_cast<const char *>(dims), sizeof(dims));
    CliRun r = cli(model + " --constant-input shape=" + write("shape.npy", npy) + " --summary-json -");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("\"shape\": [\n        3,\n        4\n"), std::string::npos) << r.out;

    onnx::TensorProto t;
    t.set_data_type(onnx::TensorProto::INT64);
    t.add_dims(2);
    t.add_int64_data(4);
    t.add_int64_data(3);
    r = cli(model + " --constant-input shape=" + write("shape.pb", t.SerializeAsString()) + " --summary-json -");
    EXPECT_EQ(r.code, 0) << r.out;
    EXPECT_NE(r.out.find("\"shape\": [\n        4,\n        3\n"), std::string::npos) << r.out;

    EXPECT_EQ(cli(model + " --constant-input nope=" + dir_ + "/shape.npy").code, 2);     // no such input
    EXPECT_EQ(cli(model + " --constant-input x=" + dir_ + "/shape.npy").code, 2);        // float input, int64 value
    EXPECT_EQ(cli(model + " --constant-input shape=" + dir_ + "/missing.npy").code, 2);  // no file
    EXPECT_EQ(cli(model + " --constant-input shape=" + write("short.npy", npy.substr(0, npy.size() - 3))).code, 2);
    EXPECT_EQ(cli(model + " --constant-input shape").code, 2);
}

}  // namespace
}  // namespace mtia::compiler::testing
