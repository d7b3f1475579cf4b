// SPDX-License-Identifier: MIT
// The device's compute thread (qemu-device/core/mtia_compute_thread.h):
// every program runs on one thread, not the caller's, so oneDNN has one
// OpenMP team whichever queue worker asks; results and exceptions come back.
#include <gtest/gtest.h>
#include <pthread.h>

#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mtia_compute_thread.h"

namespace {

TEST(ComputeThread, RunsEveryCallersWorkOnItsOneThread)
{
    mtia::ComputeThread ct;
    std::thread::id first;
    ASSERT_EQ(7, ct.run([&] {
        first = std::this_thread::get_id();
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof(name));
        EXPECT_STREQ("mtia-compute", name);
        return uint16_t{7};
    }));
    EXPECT_NE(first, std::this_thread::get_id());
    // Callers on other threads (the queue workers), one at a time as the PE
    // grid lets them: the same thread runs them all.
    std::vector<std::thread::id> seen(4);
    for (int i = 0; i < 4; i++) {
        std::thread([&, i] { ct.run([&] { return seen[i] = std::this_thread::get_id(), uint16_t{0}; }); }).join();
    }
    for (const auto &id : seen) EXPECT_EQ(first, id);
}

TEST(ComputeThread, ExceptionsReachTheCaller)
{
    mtia::ComputeThread ct;
    EXPECT_THROW(ct.run([]() -> uint16_t { throw std::runtime_error("bad op"); }), std::runtime_error);
    EXPECT_EQ(3, ct.run([] { return uint16_t{3}; }));  // and it goes on
}

TEST(ComputeThread, NeverStartedJoinsNothing)
{
    mtia::ComputeThread ct;  // fork-safe: no thread until the first run()
}

}  // namespace
