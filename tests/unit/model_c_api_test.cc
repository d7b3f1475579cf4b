// SPDX-License-Identifier: MIT
// The model C API without a device: NULL and bogus handles and arguments
// give clear errors, and the new status code has a name.
#include <gtest/gtest.h>

#include <string>

#include "mtia/mtia.h"

namespace {

mtia_model *bogus_model(uintptr_t v) { return reinterpret_cast<mtia_model *>(v); }

TEST(ModelCApi, StatusName)
{
    EXPECT_STREQ(mtia_status_name(MTIA_ERROR_INVALID_MODEL), "MTIA_ERROR_INVALID_MODEL");
    EXPECT_NE(std::string(mtia_status_string(MTIA_ERROR_INVALID_MODEL)).find("model"), std::string::npos);
}

TEST(ModelCApi, NullArguments)
{
    EXPECT_EQ(mtia_model_free(nullptr), MTIA_SUCCESS);
    mtia_model *m = bogus_model(0x1235);
    EXPECT_EQ(mtia_model_load_file(nullptr, "x.mtia", &m), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(m, nullptr);  // cleared on failure
    EXPECT_EQ(mtia_model_load_file(nullptr, nullptr, &m), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_load_memory(nullptr, "abc", 3, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_load_memory(nullptr, nullptr, 3, &m), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_num_inputs(nullptr, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    size_t n = 0;
    EXPECT_EQ(mtia_model_num_inputs(nullptr, &n), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("model is NULL"), std::string::npos) << mtia_last_error();
    mtia_tensor_info info{};
    EXPECT_EQ(mtia_model_input_info(nullptr, 0, &info), MTIA_ERROR_INVALID_ARGUMENT);  // struct_size 0
    EXPECT_NE(std::string(mtia_last_error()).find("struct_size"), std::string::npos);
    EXPECT_EQ(mtia_model_run(nullptr, nullptr, nullptr, 1, nullptr, nullptr, 0), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_run_async(nullptr, nullptr, nullptr, nullptr, 0, nullptr, nullptr, 1),
              MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_set_profiling(nullptr, 1), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_write_profile(nullptr, "p.json"), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_write_profile(bogus_model(0x775), nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("path is NULL"), std::string::npos) << mtia_last_error();
    EXPECT_EQ(mtia_model_batch_buckets(bogus_model(0x775), nullptr, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("count is NULL"), std::string::npos) << mtia_last_error();
    n = 4;
    EXPECT_EQ(mtia_model_batch_buckets(bogus_model(0x775), nullptr, &n), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("buckets is NULL"), std::string::npos) << mtia_last_error();
    n = 0;
    EXPECT_EQ(mtia_model_compute_dtypes(bogus_model(0x775), nullptr, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("count is NULL"), std::string::npos) << mtia_last_error();
    n = 2;
    EXPECT_EQ(mtia_model_compute_dtypes(bogus_model(0x775), nullptr, &n), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("dtypes is NULL"), std::string::npos) << mtia_last_error();
    EXPECT_EQ(mtia_model_input_batch_axis(bogus_model(0x775), 0, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_model_output_batch_axis(bogus_model(0x775), 0, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(mtia_last_error()).find("axis is NULL"), std::string::npos) << mtia_last_error();
    int32_t axis = 0;
    EXPECT_EQ(mtia_model_input_batch_axis(nullptr, 0, &axis), MTIA_ERROR_INVALID_ARGUMENT);
}

TEST(ModelCApi, BogusHandles)
{
    size_t n = 0;
    EXPECT_EQ(mtia_model_num_outputs(bogus_model(0x12345675), &n), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_NE(std::string(mtia_last_error()).find("model handle is not valid"), std::string::npos) << mtia_last_error();
    // A handle of another kind (a buffer's low bits).
    EXPECT_EQ(mtia_model_free(bogus_model(0x12345672)), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_NE(std::string(mtia_last_error()).find("not a valid model handle"), std::string::npos);
    mtia_tensor_info info{};
    info.struct_size = sizeof(info);
    EXPECT_EQ(mtia_model_output_info(bogus_model(0x775), 0, &info), MTIA_ERROR_INVALID_HANDLE);
    mtia_model *m = nullptr;
    EXPECT_EQ(mtia_model_load_memory(reinterpret_cast<mtia_device *>(0x7771), "abcdefgh", 8, &m),
              MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_model_run(bogus_model(0x775), nullptr, nullptr, 0, nullptr, nullptr, 0), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_model_set_profiling(bogus_model(0x775), 1), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_model_write_profile(bogus_model(0x775), "p.json"), MTIA_ERROR_INVALID_HANDLE);
    size_t count = 0;
    EXPECT_EQ(mtia_model_batch_buckets(bogus_model(0x775), nullptr, &count), MTIA_ERROR_INVALID_HANDLE);
    count = 0;
    EXPECT_EQ(mtia_model_compute_dtypes(bogus_model(0x775), nullptr, &count), MTIA_ERROR_INVALID_HANDLE);
    int32_t axis = 0;
    EXPECT_EQ(mtia_model_output_batch_axis(bogus_model(0x775), 0, &axis), MTIA_ERROR_INVALID_HANDLE);
}

}  // namespace
