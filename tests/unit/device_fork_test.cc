// SPDX-License-Identifier: MIT
// The device core with mtia_core_config.defer_threads (QEMU: x-fork-safe),
// as QEMU's generic-fuzz uses it: the core is created, the process forks, and
// the child drives the device. A child has none of its parent's threads, so
// the core must not have started any before its first BAR0 access.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "mtia/mtia_spec.h"
#include "mtia_core.h"

namespace {

// The device's threads: the queue engine's workers and the telemetry thread.
constexpr int kDeviceThreads = MTIA_NUM_QUEUES + 1;

int thread_count()
{
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    int n = 0;
    while (dirent *e = readdir(d))
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

uint32_t rd(mtia_core *core, uint64_t off) { return static_cast<uint32_t>(mtia_core_mmio_read(core, off, 4)); }

mtia_core *deferred_core()
{
    mtia_core_config cfg;
    mtia_core_config_default(&cfg);
    cfg.devmem_bytes = 16u << 20;
    cfg.defer_threads = 1;
    return mtia_core_new(&cfg, nullptr, nullptr);
}

// What a forked child checks; its exit status says which check failed.
enum ChildResult { kChildOk = 0, kBadMagic = 10, kBadThreads, kNoTelemetry };

ChildResult child_drives_device(mtia_core *core)
{
    if (rd(core, MTIA_REG_MAGIC) != MTIA_MAGIC_VALUE) return kBadMagic;
    // The forking thread and the device's threads, started here: the child
    // inherited none of the parent's.
    if (thread_count() != 1 + kDeviceThreads) return kBadThreads;
    // The telemetry thread runs in the child: energy accumulates.
    const uint32_t e0 = rd(core, MTIA_REG_TEL_ENERGY_LO);
    for (int i = 0; i < 100; i++) {
        std::this_thread::sleep_for(std::chrono::milliseconds(MTIA_TEL_SAMPLE_MS / 4));
        if (rd(core, MTIA_REG_TEL_ENERGY_LO) != e0) return kChildOk;
    }
    return kNoTelemetry;
}

// Waits up to 30 s for @pid; kills it after that. Its exit status, or -1.
int wait_child(pid_t pid)
{
    int status = 0;
    for (int i = 0; i < 3000; i++) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return -1;
}

TEST(CoreForkSafe, NoThreadsBeforeTheFirstBar0Access)
{
    const int before = thread_count();
    mtia_core *core = deferred_core();
    ASSERT_NE(core, nullptr);
    EXPECT_EQ(thread_count(), before);
    mtia_core_reset(core);  // a machine reset is no BAR0 access
    EXPECT_EQ(thread_count(), before);
    EXPECT_EQ(rd(core, MTIA_REG_MAGIC), MTIA_MAGIC_VALUE);
    EXPECT_EQ(thread_count(), before + kDeviceThreads);
    EXPECT_EQ(rd(core, MTIA_REG_SCRATCH), 0u);  // started once
    EXPECT_EQ(thread_count(), before + kDeviceThreads);
    mtia_core_free(core);
    EXPECT_EQ(thread_count(), before);
}

TEST(CoreForkSafe, FreeWithoutEverStartingThreads)
{
    mtia_core *core = deferred_core();
    ASSERT_NE(core, nullptr);
    mtia_core_reset(core);
    mtia_core_free(core);  // joins nothing it never started
}

TEST(CoreForkSafe, ForkedChildRunsTheDevice)
{
    mtia_core *core = deferred_core();
    ASSERT_NE(core, nullptr);
    const int threads = thread_count();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) _exit(child_drives_device(core));
    EXPECT_EQ(wait_child(pid), kChildOk);
    // The parent's device is untouched by the child and still works.
    EXPECT_EQ(thread_count(), threads);
    EXPECT_EQ(rd(core, MTIA_REG_MAGIC), MTIA_MAGIC_VALUE);
    mtia_core_free(core);
}

}  // namespace
