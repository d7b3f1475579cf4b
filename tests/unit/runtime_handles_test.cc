// SPDX-License-Identifier: MIT
// C API handle validation without a device: NULL, bogus and wrong-kind
// handles give clear errors instead of crashes.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "mtia/mtia.h"
#include "mtia/mtia.hpp"

namespace {

template <typename T>
T *bogus(uintptr_t v)
{
    return reinterpret_cast<T *>(v);
}

TEST(Handles, BogusHandlesAreInvalidHandle)
{
    size_t size = 0;
    EXPECT_EQ(mtia_buffer_size(bogus<mtia_buffer>(0x12345672), &size), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_NE(std::string(mtia_last_error()).find("buffer handle is not valid"), std::string::npos)
        << mtia_last_error();
    // Wrong kind of handle (the low bits of a handle say its kind).
    EXPECT_EQ(mtia_buffer_size(bogus<mtia_buffer>(0x12345673), &size), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_NE(std::string(mtia_last_error()).find("not a valid buffer handle"), std::string::npos);
    EXPECT_EQ(mtia_stream_synchronize(bogus<mtia_stream>(0x7773)), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_event_wait(bogus<mtia_event>(0x7774), 0), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_device_close(bogus<mtia_device>(0x7771)), MTIA_ERROR_INVALID_HANDLE);
    mtia_device_info info{};
    info.struct_size = sizeof(info);
    EXPECT_EQ(mtia_device_get_info(bogus<mtia_device>(0x7771), &info), MTIA_ERROR_INVALID_HANDLE);
    mtia_buffer *b = nullptr;
    EXPECT_EQ(mtia_buffer_create(bogus<mtia_device>(0x7771), 4096, MTIA_PLACEMENT_HOST, &b), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(b, nullptr);
}

TEST(Handles, NullArguments)
{
    EXPECT_EQ(mtia_buffer_free(nullptr), MTIA_SUCCESS);
    EXPECT_EQ(mtia_stream_destroy(nullptr), MTIA_SUCCESS);
    EXPECT_EQ(mtia_event_destroy(nullptr), MTIA_SUCCESS);
    EXPECT_EQ(mtia_buffer_create(nullptr, 1, MTIA_PLACEMENT_HOST, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    mtia_buffer *b = nullptr;
    EXPECT_EQ(mtia_buffer_create(nullptr, 1, MTIA_PLACEMENT_HOST, &b), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_stream_copy(nullptr, nullptr, 0, nullptr, 0, 1), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_event_query(nullptr, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
}

TEST(Handles, DefaultConstructedCxxObjectsThrowInvalidHandle)
{
    mtia::Buffer b;
    mtia::Stream s;
    mtia::Event e;
    EXPECT_FALSE(b);
    try {
        (void)b.size();
        FAIL();
    } catch (const mtia::Error &err) {
        EXPECT_EQ(err.status(), MTIA_ERROR_INVALID_HANDLE);
    }
    try {
        s.synchronize();
        FAIL();
    } catch (const mtia::Error &err) {
        EXPECT_EQ(err.status(), MTIA_ERROR_INVALID_HANDLE);
    }
    try {
        e.query();
        FAIL();
    } catch (const mtia::Error &err) {
        EXPECT_EQ(err.status(), MTIA_ERROR_INVALID_HANDLE);
    }
}

}  // namespace
