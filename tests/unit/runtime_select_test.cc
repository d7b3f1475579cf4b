// SPDX-License-Identifier: MIT
// MTIA_VISIBLE_DEVICES parsing (no device needed) and the argument checks of
// the runtime calls added for CUDA-style use: memory info, query, host
// copies, default stream, device synchronize, open by id.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "mtia/mtia.h"
#include "runtime_internal.h"

namespace {

using mtia::detail::visible_positions;
using V = std::vector<size_t>;

const std::vector<std::string> kSerials = {"4d544941000000aa", "4d544941000000bb", "4d544941000000cc"};

TEST(VisibleDevices, UnsetMeansAllInOrder) { EXPECT_EQ(visible_positions(kSerials, nullptr), (V{0, 1, 2})); }

TEST(VisibleDevices, IndicesInTheOrderGiven)
{
    EXPECT_EQ(visible_positions(kSerials, "2,0"), (V{2, 0}));
    EXPECT_EQ(visible_positions(kSerials, "1"), (V{1}));
    EXPECT_EQ(visible_positions(kSerials, " 0 , 2 "), (V{0, 2}));
}

TEST(VisibleDevices, SerialsCaseInsensitiveAndMixed)
{
    EXPECT_EQ(visible_positions(kSerials, "4D544941000000CC,0"), (V{2, 0}));
}

TEST(VisibleDevices, InvalidEntryEndsTheList)
{
    EXPECT_EQ(visible_positions(kSerials, "1,7,0"), (V{1}));
    EXPECT_EQ(visible_positions(kSerials, "0,nope,1"), (V{0}));
    EXPECT_EQ(visible_positions(kSerials, "0,,1"), (V{0}));
    EXPECT_EQ(visible_positions(kSerials, "1,1,2"), (V{1}));  // repeated
    EXPECT_EQ(visible_positions(kSerials, "-1"), V{});
    EXPECT_EQ(visible_positions(kSerials, "99999999999999999999"), V{});
    EXPECT_EQ(visible_positions(kSerials, ""), V{});
    EXPECT_EQ(visible_positions({}, "0"), V{});
    EXPECT_EQ(visible_positions({"", ""}, ",0"), V{});  // empty serials match nothing
}

TEST(NewCalls, ArgumentChecksWithoutADevice)
{
    int done = 0;
    mtia_memory_info mi{};
    mi.struct_size = sizeof(mi);
    EXPECT_EQ(mtia_device_memory_info(nullptr, &mi), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_device_memory_info(reinterpret_cast<mtia_device *>(0x51), &mi), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_device_memory_info(nullptr, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_device_reset_peak_memory(reinterpret_cast<mtia_device *>(0x51)), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_device_synchronize(nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_device_synchronize(reinterpret_cast<mtia_device *>(0x32)), MTIA_ERROR_INVALID_HANDLE);
    mtia_stream *s = reinterpret_cast<mtia_stream *>(0x1);
    EXPECT_EQ(mtia_device_default_stream(reinterpret_cast<mtia_device *>(0x51), &s), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(s, nullptr);
    EXPECT_EQ(mtia_device_default_stream(nullptr, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_stream_query(reinterpret_cast<mtia_stream *>(0x53), &done), MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_stream_query(nullptr, nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    char buf[4];
    EXPECT_EQ(mtia_stream_copy_from_host(reinterpret_cast<mtia_stream *>(0x53), nullptr, 0, buf, 4),
              MTIA_ERROR_INVALID_HANDLE);
    EXPECT_EQ(mtia_stream_copy_to_host(nullptr, buf, nullptr, 0, 4), MTIA_ERROR_INVALID_ARGUMENT);
    mtia_device *d = reinterpret_cast<mtia_device *>(0x1);
    EXPECT_EQ(mtia_device_open_by_id(nullptr, &d), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_EQ(mtia_device_open_by_id("0", nullptr), MTIA_ERROR_INVALID_ARGUMENT);
    EXPECT_STRNE(mtia_last_error(), "");
}

TEST(NewCalls, StatusNamesAreDistinct)
{
    std::set<std::string> names, strings;
    for (int s = MTIA_SUCCESS; s >= MTIA_STATUS_LAST; s--) {
        names.insert(mtia_status_name(static_cast<mtia_status>(s)));
        strings.insert(mtia_status_string(static_cast<mtia_status>(s)));
    }
    EXPECT_EQ(names.size(), static_cast<size_t>(1 - MTIA_STATUS_LAST));
    EXPECT_EQ(strings.size(), static_cast<size_t>(1 - MTIA_STATUS_LAST));
}

}  // namespace
