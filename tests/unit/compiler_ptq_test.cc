// SPDX-License-Identifier: MIT
// Post-training quantization (--quantize int8 --calibrate, ptq.h): .npz
// calibration sets (stored and deflated members, corrupt ones refused), the
// range methods, the int8 program it makes, and its accuracy report checked
// against host runs of the float and int8 models.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <unistd.h>

#include "calib_stats.h"
#include "compiler_test_util.h"
#include "errors.h"
#include "mtia/compiler.hpp"
#include "npz.h"

using namespace mtia::compiler;
using namespace mtia::compiler::testing;

namespace {

std::string npy(const std::vector<uint64_t> &shape, const std::vector<float> &v)
{
    return mtia::run::format_npy(shape, v.data());
}

std::string write_temp(const std::string &bytes)
{
    char path[] = "/tmp/mtia-ptq-XXXXXX";
    const int fd = mkstemp(path);
    EXPECT_GE(fd, 0);
    close(fd);
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
}

// x (1, 3, 12, 12) -> Conv 3x3 -> Relu -> Conv 3x3 (+ the first's output)
// -> Relu -> GlobalAveragePool -> Flatten -> Gemm (10 classes) -> y.
OnnxBuilder float_net()
{
    OnnxBuilder b;
    b.input("x", {1, 3, 12, 12}).output("y");
    b.init_rand("w1", {8, 3, 3, 3}).init_rand("b1", {8}).init_rand("w2", {8, 8, 3, 3}).init_rand("b2", {8});
    b.init_rand("g", {10, 8}).init_rand("gb", {10});
    attr(b.node("Conv", {"x", "w1", "b1"}, {"c1"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
    b.node("Relu", {"c1"}, {"r1"});
    attr(b.node("Conv", {"r1", "w2", "b2"}, {"c2"}), "pads", std::vector<int64_t>{1, 1, 1, 1});
    b.node("Add", {"c2", "r1"}, {"s"});
    b.node("Relu", {"s"}, {"r2"});
    b.node("GlobalAveragePool", {"r2"}, {"p"});
    b.node("Flatten", {"p"}, {"f"});
    attr(b.node("Gemm", {"f", "g", "gb"}, {"y"}), "transB", int64_t{1});
    return b;
}

// @runs inputs for float_net, (runs, 1, 3, 12, 12).
std::vector<float> calibration_inputs(size_t runs, uint32_t seed)
{
    std::vector<float> v = random_floats(runs * 3 * 12 * 12, seed);
    for (float &x : v) x *= 2.0f;
    return v;
}

CompileOptions ptq_options(const std::string &npz, CalibrationMethod m = CalibrationMethod::kMinMax)
{
    CompileOptions o;
    o.quantize = PtqOptions{npz, m};
    return o;
}

std::string compile_error(const OnnxBuilder &b, const CompileOptions &o, ErrorKind *kind = nullptr)
{
    try {
        compile_model(b.model(), "", o);
    } catch (const CompileError &e) {
        if (kind) *kind = e.kind();
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Npz, StoredAndDeflatedMembersReadBack)
{
    const std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f}, b = random_floats(1000, 5);
    for (bool deflated : {false, true}) {
        const std::string z = npz_bytes({{"a.npy", npy({2, 3}, a)}, {"arr_1.npy", npy({1000}, b)}}, deflated);
        const auto got = mtia::run::parse_npz(z.data(), z.size(), "t.npz");
        ASSERT_EQ(got.size(), 2u);
        EXPECT_EQ(got[0].first, "a");
        EXPECT_EQ(got[1].first, "arr_1");
        EXPECT_EQ(got[0].second.shape, (std::vector<uint64_t>{2, 3}));
        EXPECT_EQ(std::vector<float>(got[0].second.f32(), got[0].second.f32() + 6), a);
        EXPECT_EQ(std::vector<float>(got[1].second.f32(), got[1].second.f32() + 1000), b);
    }
}

TEST(Npz, DamagedArchivesAreRefused)
{
    const std::string good = npz_bytes({{"a.npy", npy({4}, {1, 2, 3, 4})}}, true);
    auto error = [](const std::string &z) -> std::string {
        try {
            mtia::run::parse_npz(z.data(), z.size(), "t.npz");
        } catch (const mtia::run::NpyError &e) {
            return e.what();
        }
        return "";
    };
    std::string flipped = good;
    flipped[40] ^= 0x55;  // inside the deflated data
    EXPECT_NE(error(flipped), "");
    std::string crc = good;
    crc[14] ^= 1;  // the local header's CRC is not read; the directory's is
    EXPECT_EQ(error(crc), "");
    const size_t dir = good.find("PK\x01\x02");
    ASSERT_NE(dir, std::string::npos);
    std::string dir_crc = good;
    dir_crc[dir + 16] ^= 1;
    EXPECT_NE(error(dir_crc).find("CRC-32 mismatch"), std::string::npos) << error(dir_crc);
    EXPECT_NE(error(good.substr(0, good.size() - 5)).find("no ZIP end-of-directory"), std::string::npos);
    EXPECT_NE(error(good.substr(10)), "");
    EXPECT_NE(error("hello").find("too short"), std::string::npos);
    const std::string txt = npz_bytes({{"a.txt", "hello"}}, false);
    EXPECT_NE(error(txt).find("is not a .npy"), std::string::npos) << error(txt);
    std::string huge = good;  // the directory claims 4 GB for a few bytes of deflate data
    huge[dir + 24] = huge[dir + 25] = huge[dir + 26] = huge[dir + 27] = '\xfe';
    EXPECT_NE(error(huge).find("implausible size"), std::string::npos) << error(huge);
    const std::string junk = npz_bytes({{"a.npy", "not an array"}}, false);
    EXPECT_NE(error(junk).find("t.npz: a.npy"), std::string::npos) << error(junk);
}

TEST(CalibStats, MethodsClipOutliers)
{
    std::vector<float> v = random_floats(20000, 9);  // [-1, 1)
    v[123] = 50.0f;                                  // one outlier
    float lo, hi;
    for (auto m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile, CalibrationMethod::kEntropy}) {
        TensorRange r;
        ASSERT_TRUE(r.add_minmax(v.data(), v.size()));
        if (needs_histogram(m)) r.add_histogram(v.data(), v.size());
        r.range(m, &lo, &hi);
        EXPECT_LE(lo, 0.0f);
        EXPECT_GE(hi, 0.0f);
        if (m == CalibrationMethod::kMinMax) {
            EXPECT_EQ(hi, 50.0f);
            EXPECT_LT(lo, -0.99f);
        } else if (m == CalibrationMethod::kPercentile) {  // the outlier saturates
            EXPECT_GT(hi, 0.9f);
            EXPECT_LT(hi, 1.1f);
            EXPECT_LT(lo, -0.9f);
        } else {  // at least 128 of the 2048 bins over [0, 50]: 3.125
            EXPECT_GE(hi, 3.125f);
            EXPECT_LT(hi, 5.0f);
            EXPECT_LT(lo, -0.99f);
        }
    }
    TensorRange bad;
    const float nan[2] = {1.0f, NAN};
    EXPECT_FALSE(bad.add_minmax(nan, 2));
}

TEST(CalibStats, Thresholds)
{
    std::vector<uint64_t> h(kHistogramBins, 0);
    for (int b = 0; b < 512; ++b) h[static_cast<size_t>(b)] = 100;
    h[2000] = 1;  // far outlier
    // Half of the 51201 values lie below bin 256's upper edge (257 bins of 0.5).
    EXPECT_FLOAT_EQ(percentile_threshold(h, 0.5f, 50.0), 128.5f);
    EXPECT_FLOAT_EQ(percentile_threshold(h, 0.5f, 100.0), 1000.5f);
    // |x| of a Laplace distribution (scale 100 bins): its 99.99th percentile
    // is at bin 921; entropy clips it harder, well inside the range.
    std::vector<uint64_t> e(kHistogramBins);
    for (int b = 0; b < kHistogramBins; ++b)
        e[static_cast<size_t>(b)] = static_cast<uint64_t>(1e6 * std::exp(-b / 100.0));
    EXPECT_NEAR(percentile_threshold(e, 1.0f, 99.99), 921.0f, 5.0f);
    const float t = entropy_threshold(e, 1.0f);
    EXPECT_GT(t, 300.0f);
    EXPECT_LT(t, 921.0f);
    std::vector<uint64_t> flat(kHistogramBins, 7);  // nothing to clip
    EXPECT_GE(entropy_threshold(flat, 1.0f), 2000.0f);
}

TEST(CompilerPtq, FloatNetRunsInt8WithTheReportedError)
{
    const size_t runs = 12, n = 3 * 12 * 12;
    const std::vector<float> calib = calibration_inputs(runs, 21);
    const std::string path = write_temp(npz_bytes({{"x.npy", npy({runs, 1, 3, 12, 12}, calib)}}, false));
    const OnnxBuilder b = float_net();
    // The float program as calibration ran it: before channels-last planning
    // (which changes the last bits of what oneDNN sums).
    CompileOptions as_calibrated;
    as_calibrated.channels_last = false;
    const CompileResult f = compile_model(b.model(), "", as_calibrated);
    for (auto m : {CalibrationMethod::kMinMax, CalibrationMethod::kPercentile, CalibrationMethod::kEntropy}) {
        SCOPED_TRACE(calibration_method_name(m));
        const CompileResult q = compile_model(b.model(), "", ptq_options(path, m));
        // Both Convs and the Gemm run int8; the float32 input is quantized
        // once; the output stays float32.
        EXPECT_EQ(q.summary.passes.at("int8 ops"), 3);
        const DevGraph &d = q.program;
        int casts = 0;
        for (const auto &op : d.ops) {
            if (op.kind == MTIA_OP_CAST) ++casts;
            if (op.kind == MTIA_OP_CONV || op.kind == MTIA_OP_GEMM) {
                EXPECT_EQ(d.tensors[op.in[0]].dtype, MTIA_DTYPE_I8) << op.name;
                EXPECT_EQ(d.tensors[op.in[1]].dtype, MTIA_DTYPE_I8) << op.name;
            }
        }
        EXPECT_EQ(casts, 1);
        EXPECT_EQ(d.tensors[d.outputs[0]].dtype, MTIA_DTYPE_F32);
        ASSERT_TRUE(q.summary.calibration.has_value());
        const auto &c = *q.summary.calibration;
        EXPECT_EQ(c.method, calibration_method_name(m));
        EXPECT_EQ(c.runs, runs);
        EXPECT_EQ(c.tensors, 4);  // x, the two convolutions' outputs, the pooled features
        ASSERT_EQ(c.outputs.size(), 1u);
        // The report is what the two models compute on the runs.
        double err = 0, ref_max = 0;
        uint64_t agree = 0;
        for (size_t r = 0; r < runs; ++r) {
            const std::vector<float> x(calib.begin() + static_cast<long>(r * n),
                                       calib.begin() + static_cast<long>((r + 1) * n));
            const auto yf = run_on_host(f.bytes, {x}), yq = run_on_host(q.bytes, {x});
            ASSERT_EQ(yf.size(), 1u);
            ASSERT_EQ(yq.size(), 1u);
            for (size_t i = 0; i < yf[0].size(); ++i) {
                err = std::max(err, std::fabs(double(yq[0][i]) - yf[0][i]));
                ref_max = std::max(ref_max, std::fabs(double(yf[0][i])));
            }
            agree += std::max_element(yf[0].begin(), yf[0].end()) ==
                     yf[0].begin() + (std::max_element(yq[0].begin(), yq[0].end()) - yq[0].begin());
        }
        EXPECT_DOUBLE_EQ(c.outputs[0].max_abs_error, err);
        EXPECT_DOUBLE_EQ(c.outputs[0].max_abs_ref, ref_max);
        EXPECT_DOUBLE_EQ(c.outputs[0].top1, static_cast<double>(agree) / runs);
        EXPECT_GT(err, 0.0);             // it is int8
        EXPECT_LT(err, 0.05 * ref_max);  // and close
        const std::string text = q.summary.to_text();
        EXPECT_NE(text.find(std::string("int8 calibration ") + calibration_method_name(m) + ", 12 runs"),
                  std::string::npos)
            << text;
        EXPECT_EQ(q.summary.to_json()["calibration"]["runs"], runs);
    }
    std::remove(path.c_str());
}

TEST(CompilerPtq, CalibrationSetForms)
{
    const OnnxBuilder b = float_net();
    const std::vector<float> calib = calibration_inputs(4, 3);
    // (k * B, ...) with B = 1, positional arr_0, deflated: the same 4 runs.
    const std::string a = write_temp(npz_bytes({{"x.npy", npy({4, 1, 3, 12, 12}, calib)}}, false));
    const std::string c = write_temp(npz_bytes({{"arr_0.npy", npy({4, 3, 12, 12}, calib)}}, true));
    const CompileResult ra = compile_model(b.model(), "", ptq_options(a)),
                        rc = compile_model(b.model(), "", ptq_options(c));
    EXPECT_EQ(rc.summary.calibration->runs, 4u);
    EXPECT_EQ(ra.bytes, rc.bytes);
    std::remove(a.c_str());
    std::remove(c.c_str());
}

TEST(CompilerPtq, BadCalibrationDataIsAUsageError)
{
    const OnnxBuilder b = float_net();
    auto expect = [&](const std::string &npz, const std::string &want) {
        const std::string path = write_temp(npz);
        ErrorKind kind = ErrorKind::kInternal;
        const std::string e = compile_error(b, ptq_options(path), &kind);
        EXPECT_NE(e.find(want), std::string::npos) << e;
        EXPECT_EQ(kind, ErrorKind::kUsage) << e;
        std::remove(path.c_str());
    };
    const std::vector<float> one = calibration_inputs(1, 4);
    expect(npz_bytes({{"z.npy", npy({1, 3, 12, 12}, one)}}, false), "no array named 'x' (the model's inputs: 'x')");
    expect(npz_bytes({{"x.npy", npy({1, 3, 12, 12}, one)}, {"w.npy", npy({1}, {1})}}, false),
           "array 'w' is no input of the model");
    expect(npz_bytes({{"x.npy", npy({3, 12, 12}, std::vector<float>(one.begin(), one.begin() + 432))}}, false),
           "has shape (3, 12, 12); the input is (1, 3, 12, 12): give (S, 1, 3, 12, 12) for S runs");
    const std::vector<int32_t> ints(432, 1);
    expect(npz_bytes({{"x.npy", mtia::run::format_npy({1, 3, 12, 12}, ints.data(), mtia::run::NpyType::I32)}}, false),
           "is <i4, the input is float32");
    std::vector<float> nan = one;
    nan[7] = NAN;
    expect(npz_bytes({{"x.npy", npy({1, 3, 12, 12}, nan)}}, false), "holds a NaN or an infinity");
    expect("not a zip", "--calibrate: ");
    ErrorKind kind = ErrorKind::kInternal;
    EXPECT_NE(compile_error(b, ptq_options("/nonexistent.npz"), &kind).find("cannot open"), std::string::npos);
    CompileOptions both = ptq_options("/nonexistent.npz");
    both.dtype = MTIA_DTYPE_BF16;
    EXPECT_NE(compile_error(b, both, &kind).find("--quantize int8 and --dtype together"), std::string::npos);
    EXPECT_EQ(kind, ErrorKind::kUsage);
}

// libmtia-compiler's options (and so Python's mtia.compile_onnx) are the CLI's.
TEST(CompilerPtq, LibraryApiAsTheCli)
{
    const OnnxBuilder b = float_net();
    const std::vector<float> calib = calibration_inputs(3, 8);
    const std::string path = write_temp(npz_bytes({{"x.npy", npy({3, 1, 3, 12, 12}, calib)}}, true));
    mtia::CompileOptions o;
    o.name = b.model().graph().name();
    o.quantize = "int8";
    o.calibration = path;
    o.calibration_method = "percentile";
    std::string summary;
    const std::string image = mtia::compile_onnx(b.bytes(), o, &summary);
    EXPECT_EQ(image, compile_model(b.model(), "", ptq_options(path, CalibrationMethod::kPercentile)).bytes);
    EXPECT_NE(summary.find("\"method\": \"percentile\""), std::string::npos) << summary;
    auto kind_of = [&](const mtia::CompileOptions &opts) {
        try {
            mtia::compile_onnx(b.bytes(), opts);
        } catch (const mtia::CompileError &e) {
            return e.kind();
        }
        return mtia::CompileError::Kind::Internal;
    };
    mtia::CompileOptions no_calib;
    no_calib.quantize = "int8";
    EXPECT_EQ(kind_of(no_calib), mtia::CompileError::Kind::Usage);
    mtia::CompileOptions no_quant;
    no_quant.calibration = path;
    EXPECT_EQ(kind_of(no_quant), mtia::CompileError::Kind::Usage);
    std::remove(path.c_str());
}
