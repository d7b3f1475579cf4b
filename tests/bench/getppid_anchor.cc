// SPDX-License-Identifier: MIT
// Prints the cost of one getppid() system call on this (guest) kernel: the
// scale against which in-VM latencies are read.
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

int main()
{
    constexpr int kCalls = 200000;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kCalls; i++) {
        syscall(SYS_getppid);
    }
    auto ns = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0);
    std::printf("%.1f\n", ns.count() / kCalls);
    return 0;
}
