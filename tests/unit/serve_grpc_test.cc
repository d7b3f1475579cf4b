// SPDX-License-Identifier: MIT
// mtia-serve's gRPC front end without a device: the message <-> tensor
// codec (typed and raw contents, every error), the status code of each
// outcome, deadlines, the request path's pure parts (versions, requested
// outputs), and the service itself over a real grpc++ channel on a
// repository whose only model cannot load (health, metadata, NOT_FOUND,
// INVALID_ARGUMENT, the repository RPCs, statistics, UNAVAILABLE while
// draining).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "serve_grpc.h"
#include "serve_grpc_codec.h"

using namespace mtia_serve;
namespace fs = std::filesystem;

namespace {

inference::ModelInferRequest::InferInputTensor *add_input(inference::ModelInferRequest &req, const std::string &name,
                                                          const std::string &datatype, std::vector<int64_t> shape)
{
    auto *in = req.add_inputs();
    in->set_name(name);
    in->set_datatype(datatype);
    for (int64_t d : shape) in->add_shape(d);
    return in;
}

// decode_infer's std::invalid_argument text ("" if it succeeds).
std::string decode_error(const inference::ModelInferRequest &req)
{
    InferCall call;
    try {
        decode_infer(req, call);
    } catch (const std::invalid_argument &e) {
        return e.what();
    }
    return "";
}

template <typename T>
std::vector<T> values(const Tensor &t)
{
    std::vector<T> v(t.data.size() / sizeof(T));
    std::memcpy(v.data(), t.data.data(), t.data.size());
    return v;
}

Tensor tensor(const std::string &name, mtia::DType dtype, std::vector<int64_t> shape, std::vector<uint8_t> data)
{
    Tensor t;
    t.name = name;
    t.dtype = dtype;
    t.shape = std::move(shape);
    t.data = std::move(data);
    return t;
}

}  // namespace

TEST(ServeGrpcCodec, StatusCodes)
{
    EXPECT_EQ(grpc_code(Status::Ok), grpc::StatusCode::OK);
    EXPECT_EQ(grpc_code(Status::BadRequest), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(grpc_code(Status::NotFound), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(grpc_code(Status::Full), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_EQ(grpc_code(Status::Unavailable), grpc::StatusCode::UNAVAILABLE);
    EXPECT_EQ(grpc_code(Status::Timeout), grpc::StatusCode::DEADLINE_EXCEEDED);
    EXPECT_EQ(grpc_code(Status::Internal), grpc::StatusCode::INTERNAL);
}

TEST(ServeGrpcCodec, TypedContentsEveryDatatype)
{
    inference::ModelInferRequest req;
    auto *f = add_input(req, "f", "FP32", {2, 2});
    for (float x : {1.0f, -2.5f, 3.0f, 4.0f}) f->mutable_contents()->add_fp32_contents(x);
    auto *l = add_input(req, "l", "INT64", {2});
    l->mutable_contents()->add_int64_contents(-9000000000);
    l->mutable_contents()->add_int64_contents(7);
    auto *i8 = add_input(req, "i8", "INT8", {2});
    i8->mutable_contents()->add_int_contents(-128);
    i8->mutable_contents()->add_int_contents(127);
    auto *u8 = add_input(req, "u8", "UINT8", {1});
    u8->mutable_contents()->add_uint_contents(255);
    auto *b = add_input(req, "b", "BOOL", {2});
    b->mutable_contents()->add_bool_contents(true);
    b->mutable_contents()->add_bool_contents(false);
    add_input(req, "scalar", "INT32", {})->mutable_contents()->add_int_contents(-5);
    req.add_outputs()->set_name("y");
    (*req.mutable_parameters())["timeout"].set_int64_param(1500);

    InferCall call;
    decode_infer(req, call);
    ASSERT_EQ(call.inputs.size(), 6u);
    EXPECT_EQ(call.inputs[0].shape, (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(values<float>(call.inputs[0]), (std::vector<float>{1.0f, -2.5f, 3.0f, 4.0f}));
    EXPECT_EQ(values<int64_t>(call.inputs[1]), (std::vector<int64_t>{-9000000000, 7}));
    EXPECT_EQ(values<int8_t>(call.inputs[2]), (std::vector<int8_t>{-128, 127}));
    EXPECT_EQ(values<uint8_t>(call.inputs[3]), (std::vector<uint8_t>{255}));
    EXPECT_EQ(values<uint8_t>(call.inputs[4]), (std::vector<uint8_t>{1, 0}));
    EXPECT_EQ(values<int32_t>(call.inputs[5]), (std::vector<int32_t>{-5}));
    EXPECT_EQ(call.outputs, (std::vector<std::string>{"y"}));
    ASSERT_TRUE(call.timeout_us.has_value());
    EXPECT_EQ(*call.timeout_us, 1500u);
}

TEST(ServeGrpcCodec, RawContents)
{
    inference::ModelInferRequest req;
    add_input(req, "x", "FP16", {3});
    add_input(req, "y", "INT64", {1});
    req.add_raw_input_contents(std::string("\x01\x02\x03\x04\x05\x06", 6));
    const int64_t y = 42;
    req.add_raw_input_contents(std::string(reinterpret_cast<const char *>(&y), 8));
    InferCall call;
    decode_infer(req, call);
    ASSERT_EQ(call.inputs.size(), 2u);
    EXPECT_EQ(call.inputs[0].data, (std::vector<uint8_t>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(values<int64_t>(call.inputs[1]), (std::vector<int64_t>{42}));
    EXPECT_FALSE(call.timeout_us.has_value());
    EXPECT_TRUE(call.outputs.empty());
}

TEST(ServeGrpcCodec, DecodeErrorsSayWhatIsWrong)
{
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "FP32", {2})->mutable_contents()->add_fp32_contents(1);
        EXPECT_EQ(decode_error(req), "input 'x': fp32_contents has 1 elements, the shape says 2");
    }
    {
        // A shape claiming 16 GiB with no data: refused before any allocation.
        inference::ModelInferRequest req;
        add_input(req, "x", "FP32", {1 << 16, 1 << 16});
        EXPECT_EQ(decode_error(req), "input 'x': fp32_contents has 0 elements, the shape says 4294967296");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "INT64", {1})->mutable_contents()->add_fp32_contents(1);
        EXPECT_EQ(decode_error(req), "input 'x': int64_contents has 0 elements, the shape says 1");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "INT8", {1})->mutable_contents()->add_int_contents(300);
        EXPECT_EQ(decode_error(req), "input 'x': a INT8 element is out of range");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "FP16", {1})->mutable_contents()->add_fp32_contents(1);
        EXPECT_EQ(decode_error(req), "input 'x': FP16 data travels only in raw_input_contents");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "FP64", {1});
        EXPECT_EQ(decode_error(req), "input 'x': missing or unsupported 'datatype'");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "FP32", {2, -1});
        EXPECT_EQ(decode_error(req), "input 'x': 'shape' holds a negative dim");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "FP32", {1 << 20, 1 << 20});
        EXPECT_EQ(decode_error(req), "input 'x': 'shape' is too large");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "", "FP32", {1});
        EXPECT_EQ(decode_error(req), "an input has no 'name'");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "FP32", {1});
        add_input(req, "y", "FP32", {1});
        req.add_raw_input_contents(std::string(4, '\0'));
        EXPECT_EQ(decode_error(req), "raw_input_contents holds 1 tensors, the request has 2 inputs");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "FP32", {2});
        req.add_raw_input_contents(std::string(4, '\0'));
        EXPECT_EQ(decode_error(req), "input 'x': raw_input_contents holds 4 bytes, its shape and datatype take 8");
    }
    {
        inference::ModelInferRequest req;
        add_input(req, "x", "FP32", {1})->mutable_contents()->add_fp32_contents(1);
        req.add_raw_input_contents(std::string(4, '\0'));
        EXPECT_EQ(decode_error(req), "input 'x': contents given as well as raw_input_contents");
    }
    for (bool as_string : {true, false}) {
        inference::ModelInferRequest req;
        auto &p = (*req.mutable_parameters())["timeout"];
        if (as_string)
            p.set_string_param("1s");
        else
            p.set_int64_param(-1);
        EXPECT_EQ(decode_error(req), "'timeout' is not microseconds");
    }
}

TEST(ServeGrpcCodec, EncodeAnswersInTheRequestsForm)
{
    InferResult r;
    r.model = "m";
    r.version = 3;
    const float y[2] = {0.5f, -1.0f};
    std::vector<uint8_t> yb(8);
    std::memcpy(yb.data(), y, 8);
    r.outputs.push_back(tensor("y", mtia::DType::F32, {1, 2}, yb));
    r.outputs.push_back(tensor("k", mtia::DType::I8, {2}, {0xff, 0x05}));

    inference::ModelInferRequest typed;
    typed.set_id("req-7");
    inference::ModelInferResponse res;
    encode_infer(typed, r, &res);
    EXPECT_EQ(res.model_name(), "m");
    EXPECT_EQ(res.model_version(), "3");
    EXPECT_EQ(res.id(), "req-7");
    ASSERT_EQ(res.outputs_size(), 2);
    EXPECT_EQ(res.raw_output_contents_size(), 0);
    EXPECT_EQ(res.outputs(0).datatype(), "FP32");
    EXPECT_EQ(res.outputs(0).shape_size(), 2);
    ASSERT_EQ(res.outputs(0).contents().fp32_contents_size(), 2);
    EXPECT_EQ(res.outputs(0).contents().fp32_contents(1), -1.0f);
    ASSERT_EQ(res.outputs(1).contents().int_contents_size(), 2);
    EXPECT_EQ(res.outputs(1).contents().int_contents(0), -1);  // sign-extended

    inference::ModelInferRequest raw;
    raw.add_raw_input_contents("x");
    res.Clear();
    encode_infer(raw, r, &res);
    ASSERT_EQ(res.raw_output_contents_size(), 2);
    EXPECT_EQ(res.raw_output_contents(0), std::string(reinterpret_cast<const char *>(y), 8));
    EXPECT_FALSE(res.outputs(0).has_contents());

    // FP16 has no typed field: the whole response goes raw.
    r.outputs.push_back(tensor("h", mtia::DType::F16, {1}, {0x00, 0x3c}));
    res.Clear();
    encode_infer(typed, r, &res);
    EXPECT_EQ(res.raw_output_contents_size(), 3);
}

TEST(ServeGrpcCodec, MetadataAndIndex)
{
    const auto meta = nlohmann::json::parse(R"({"name": "dlrm", "versions": ["1", "2"], "platform": "mtia",
        "inputs": [{"name": "input0", "datatype": "FP32", "shape": [-1, 13]}],
        "outputs": [{"name": "output0", "datatype": "FP32", "shape": [-1, 1]}]})");
    inference::ModelMetadataResponse m;
    encode_metadata(meta, &m);
    EXPECT_EQ(m.name(), "dlrm");
    ASSERT_EQ(m.versions_size(), 2);
    EXPECT_EQ(m.versions(1), "2");
    EXPECT_EQ(m.platform(), "mtia");
    ASSERT_EQ(m.inputs_size(), 1);
    EXPECT_EQ(m.inputs(0).shape(0), -1);
    EXPECT_EQ(m.inputs(0).shape(1), 13);
    EXPECT_EQ(m.outputs(0).name(), "output0");

    const auto index = nlohmann::json::parse(R"([{"name": "a", "version": "1", "state": "READY", "reason": ""},
        {"name": "b", "state": "UNAVAILABLE", "reason": "unloaded"}])");
    inference::RepositoryIndexResponse ix;
    encode_index(index, &ix);
    ASSERT_EQ(ix.models_size(), 2);
    EXPECT_EQ(ix.models(0).version(), "1");
    EXPECT_EQ(ix.models(1).version(), "");
    EXPECT_EQ(ix.models(1).state(), "UNAVAILABLE");
    EXPECT_EQ(ix.models(1).reason(), "unloaded");
}

// Metrics' $model_stat JSON as ModelStatistics, field by field.
TEST(ServeGrpcCodec, Statistics)
{
    Metrics m;
    for (int i = 0; i < 3; i++) m.request("dlrm", "2", "success", 0.002, 0.0005, 2, {0.0001, 0.001, 0.0003});
    m.request("dlrm", "2", "timeout", 0.01, -1);
    m.batch("dlrm", "2", 4, {0.0001, 0.001, 0.0003});
    m.batch("dlrm", "2", 2, {0.0001, 0.001, 0.0003});
    const nlohmann::json j = {{"model_stats", {m.stats_json("dlrm", "2"), m.stats_json("resnet18", "1")}}};
    inference::ModelStatisticsResponse res;
    encode_statistics(j, &res);
    ASSERT_EQ(res.model_stats_size(), 2);
    const auto &s = res.model_stats(0);
    EXPECT_EQ(s.name(), "dlrm");
    EXPECT_EQ(s.version(), "2");
    EXPECT_EQ(s.last_inference(), m.stats("dlrm", "2").last_inference_ms);
    EXPECT_GT(s.last_inference(), 0u);
    EXPECT_EQ(s.inference_count(), 6u);
    EXPECT_EQ(s.execution_count(), 2u);
    EXPECT_EQ(s.inference_stats().success().count(), 3u);
    EXPECT_EQ(s.inference_stats().success().ns(), 6000000u);
    EXPECT_EQ(s.inference_stats().fail().count(), 1u);
    EXPECT_EQ(s.inference_stats().fail().ns(), 10000000u);
    EXPECT_EQ(s.inference_stats().queue().ns(), 1500000u);
    EXPECT_EQ(s.inference_stats().compute_input().ns(), 300000u);
    EXPECT_EQ(s.inference_stats().compute_infer().ns(), 3000000u);
    EXPECT_EQ(s.inference_stats().compute_output().count(), 3u);
    EXPECT_EQ(s.inference_stats().compute_output().ns(), 900000u);
    ASSERT_EQ(s.batch_stats_size(), 2);
    EXPECT_EQ(s.batch_stats(0).batch_size(), 2u);  // ascending
    EXPECT_EQ(s.batch_stats(1).batch_size(), 4u);
    EXPECT_EQ(s.batch_stats(1).compute_infer().count(), 1u);
    EXPECT_EQ(s.batch_stats(1).compute_infer().ns(), 1000000u);
    EXPECT_EQ(s.batch_stats(1).compute_input().ns(), 100000u);
    EXPECT_EQ(s.batch_stats(1).compute_output().ns(), 300000u);
    const auto &z = res.model_stats(1);
    EXPECT_EQ(z.name(), "resnet18");
    EXPECT_EQ(z.last_inference(), 0u);
    EXPECT_EQ(z.inference_stats().success().count(), 0u);
    EXPECT_EQ(z.batch_stats_size(), 0);
}

TEST(ServeInferPath, DeadlinesVersionsOutputs)
{
    const auto t0 = Clock::now();
    const auto none = Clock::time_point::max();
    EXPECT_EQ(request_deadline(t0, std::nullopt, none), none);
    EXPECT_EQ(request_deadline(t0, 5000, none), t0 + std::chrono::milliseconds(5));
    // The transport's deadline wins when it is sooner, and only then.
    EXPECT_EQ(request_deadline(t0, 5000, t0 + std::chrono::milliseconds(2)), t0 + std::chrono::milliseconds(2));
    EXPECT_EQ(request_deadline(t0, 5000, t0 + std::chrono::seconds(2)), t0 + std::chrono::milliseconds(5));
    EXPECT_EQ(request_deadline(t0, UINT64_MAX, none), none);

    EXPECT_EQ(steady_deadline(std::chrono::system_clock::time_point::max()), none);
    const auto d = steady_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    EXPECT_GT(d, Clock::now() + std::chrono::milliseconds(1500));
    EXPECT_LE(d, Clock::now() + std::chrono::seconds(2));

    EXPECT_EQ(parse_version(""), 0);
    EXPECT_EQ(parse_version("12"), 12);
    EXPECT_EQ(parse_version("0"), -1);
    EXPECT_EQ(parse_version("v1"), -1);
    EXPECT_EQ(parse_version("99999999999999999999"), -1);

    std::vector<mtia::TensorInfo> outs(2);
    outs[0].name = "a";
    outs[1].name = "b";
    EXPECT_EQ(select_outputs(outs, {}), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(select_outputs(outs, {"b"}), (std::vector<std::string>{"b"}));
    try {
        select_outputs(outs, {"b", "zz"});
        FAIL() << "an unknown output was accepted";
    } catch (const std::invalid_argument &e) {
        EXPECT_STREQ(e.what(), "unexpected inference output 'zz'");
    }
    EXPECT_STREQ(status_label(Status::Full), "queue_full");
    EXPECT_STREQ(status_label(Status::Timeout), "timeout");
}

// The service over a real channel, on a repository whose one model cannot
// load (a corrupt file, and no device on the build host anyway).
class ServeGrpcService : public ::testing::Test {
protected:
    void SetUp() override
    {
        dir_ = fs::temp_directory_path() / ("serve_grpc_test." + std::to_string(getpid()));
        fs::create_directories(dir_ / "broken" / "1");
        std::ofstream(dir_ / "broken" / "1" / "model.mtia") << "not a model";
        repo_ = std::make_unique<Repository>(dir_.string(), metrics_);
        repo_->load_all();
        front_ = std::make_unique<GrpcFrontend>(*repo_, metrics_);
        port_ = front_->start("127.0.0.1", 0);
        ASSERT_GT(port_, 0);
        stub_ = inference::GRPCInferenceService::NewStub(
            grpc::CreateChannel("127.0.0.1:" + std::to_string(port_), grpc::InsecureChannelCredentials()));
    }
    void TearDown() override
    {
        front_->stop();
        fs::remove_all(dir_);
    }
    template <typename Req, typename Res, typename Call>
    grpc::Status call(Call method, const Req &req, Res *res)
    {
        grpc::ClientContext ctx;
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
        return ((*stub_).*method)(&ctx, req, res);
    }

    fs::path dir_;
    int port_ = 0;
    Metrics metrics_;
    std::unique_ptr<Repository> repo_;
    std::unique_ptr<GrpcFrontend> front_;
    std::unique_ptr<inference::GRPCInferenceService::Stub> stub_;
};

TEST_F(ServeGrpcService, HealthAndServerMetadata)
{
    using Stub = inference::GRPCInferenceService::Stub;
    inference::ServerLiveResponse live;
    ASSERT_TRUE(call(&Stub::ServerLive, inference::ServerLiveRequest(), &live).ok());
    EXPECT_TRUE(live.live());
    inference::ServerReadyResponse ready;
    ASSERT_TRUE(call(&Stub::ServerReady, inference::ServerReadyRequest(), &ready).ok());
    EXPECT_TRUE(ready.ready());
    inference::ServerMetadataResponse meta;
    ASSERT_TRUE(call(&Stub::ServerMetadata, inference::ServerMetadataRequest(), &meta).ok());
    EXPECT_EQ(meta.name(), "mtia-serve");
    EXPECT_EQ(meta.version(), MTIA_SERVE_VERSION);
    EXPECT_NE(std::find(meta.extensions().begin(), meta.extensions().end(), "model_repository"),
              meta.extensions().end());
}

TEST_F(ServeGrpcService, UnknownModelsAndBadVersions)
{
    using Stub = inference::GRPCInferenceService::Stub;
    inference::ModelInferRequest req;
    req.set_model_name("nope");
    inference::ModelInferResponse res;
    grpc::Status s = call(&Stub::ModelInfer, req, &res);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), "unknown model: 'nope'");
    req.set_model_name("broken");  // in the repository, not loaded: the reason is given
    s = call(&Stub::ModelInfer, req, &res);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_NE(s.error_message().find("unknown model: 'broken' ("), std::string::npos) << s.error_message();
    req.set_model_version("x1");
    EXPECT_EQ(call(&Stub::ModelInfer, req, &res).error_code(), grpc::StatusCode::INVALID_ARGUMENT);

    inference::ModelReadyRequest rr;
    rr.set_name("nope");
    inference::ModelReadyResponse rres;
    EXPECT_EQ(call(&Stub::ModelReady, rr, &rres).error_code(), grpc::StatusCode::NOT_FOUND);
    inference::ModelMetadataRequest mr;
    mr.set_name("broken");
    inference::ModelMetadataResponse mres;
    EXPECT_EQ(call(&Stub::ModelMetadata, mr, &mres).error_code(), grpc::StatusCode::NOT_FOUND);
}

// The statistics extension is advertised and served: no model loaded, so
// all-models statistics are an empty list; a model that is not loaded is
// NOT_FOUND as for every other RPC, a malformed version INVALID_ARGUMENT.
TEST_F(ServeGrpcService, ModelStatistics)
{
    using Stub = inference::GRPCInferenceService::Stub;
    inference::ServerMetadataResponse meta;
    ASSERT_TRUE(call(&Stub::ServerMetadata, inference::ServerMetadataRequest(), &meta).ok());
    EXPECT_NE(std::find(meta.extensions().begin(), meta.extensions().end(), "statistics"), meta.extensions().end());
    inference::ModelStatisticsRequest req;
    inference::ModelStatisticsResponse res;
    grpc::Status s = call(&Stub::ModelStatistics, req, &res);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(res.model_stats_size(), 0);
    req.set_name("nope");
    s = call(&Stub::ModelStatistics, req, &res);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), "unknown model: 'nope'");
    req.set_name("broken");
    EXPECT_EQ(call(&Stub::ModelStatistics, req, &res).error_code(), grpc::StatusCode::NOT_FOUND);
    req.set_version("x1");
    EXPECT_EQ(call(&Stub::ModelStatistics, req, &res).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    req.set_name("");
    req.set_version("1");
    EXPECT_EQ(call(&Stub::ModelStatistics, req, &res).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ServeGrpcService, RepositoryRpcs)
{
    using Stub = inference::GRPCInferenceService::Stub;
    inference::RepositoryIndexRequest ir;
    inference::RepositoryIndexResponse index;
    ASSERT_TRUE(call(&Stub::RepositoryIndex, ir, &index).ok());
    ASSERT_EQ(index.models_size(), 1);
    EXPECT_EQ(index.models(0).name(), "broken");
    EXPECT_EQ(index.models(0).state(), "UNAVAILABLE");
    EXPECT_FALSE(index.models(0).reason().empty());
    ir.set_ready(true);
    index.Clear();
    ASSERT_TRUE(call(&Stub::RepositoryIndex, ir, &index).ok());
    EXPECT_EQ(index.models_size(), 0);

    inference::RepositoryModelLoadRequest load;
    inference::RepositoryModelLoadResponse lres;
    load.set_model_name("broken");
    grpc::Status s = call(&Stub::RepositoryModelLoad, load, &lres);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_NE(s.error_message().find("failed to load 'broken'"), std::string::npos) << s.error_message();
    load.set_model_name("../etc");
    EXPECT_EQ(call(&Stub::RepositoryModelLoad, load, &lres).error_code(), grpc::StatusCode::NOT_FOUND);
    inference::RepositoryModelUnloadRequest unload;
    inference::RepositoryModelUnloadResponse ures;
    unload.set_model_name("broken");
    s = call(&Stub::RepositoryModelUnload, unload, &ures);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), "model 'broken' is not loaded");
}

TEST_F(ServeGrpcService, DrainingRefuses)
{
    using Stub = inference::GRPCInferenceService::Stub;
    front_->path().start_draining();
    inference::ServerReadyResponse ready;
    ASSERT_TRUE(call(&Stub::ServerReady, inference::ServerReadyRequest(), &ready).ok());
    EXPECT_FALSE(ready.ready());
    inference::RepositoryModelLoadRequest load;
    inference::RepositoryModelLoadResponse lres;
    load.set_model_name("broken");
    EXPECT_EQ(call(&Stub::RepositoryModelLoad, load, &lres).error_code(), grpc::StatusCode::UNAVAILABLE);
    inference::ServerLiveResponse live;
    EXPECT_TRUE(call(&Stub::ServerLive, inference::ServerLiveRequest(), &live).ok());
}

TEST_F(ServeGrpcService, PortInUseIsAnError)
{
    GrpcFrontend second(*repo_, metrics_);
    EXPECT_EQ(second.start("127.0.0.1", port_), 0);  // not a share of the first one's port
}
