// SPDX-License-Identifier: MIT
// 4 KiB O_DIRECT reads at queue depth 1 from a block device, in a loop:
//   nvme_qd1 /dev/nvme0n1 [count]
// prints "nvme_qd1 reads N p50_us X p99_us Y" (host clock around pread).
#include <fcntl.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: nvme_qd1 DEVICE [count]\n");
        return 2;
    }
    int count = argc > 2 ? std::atoi(argv[2]) : 2000;
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    if (fd < 0) {
        std::perror(argv[1]);
        return 1;
    }
    unsigned long long bytes = 0;
    if (ioctl(fd, BLKGETSIZE64, &bytes) != 0 || bytes < 4096) {
        std::perror("BLKGETSIZE64");
        return 1;
    }
    void *buf = nullptr;
    if (posix_memalign(&buf, 4096, 4096) != 0) return 1;
    std::mt19937_64 rng(1);
    const unsigned long long blocks = bytes / 4096;
    std::vector<double> us;
    us.reserve(count);
    for (int i = -50; i < count; i++) {  // 50 untimed warm-up reads
        off_t off = static_cast<off_t>(rng() % blocks) * 4096;
        auto t0 = std::chrono::steady_clock::now();
        if (pread(fd, buf, 4096, off) != 4096) {
            std::perror("pread");
            return 1;
        }
        double t = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
        if (i >= 0) us.push_back(t);
    }
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) { return us[std::min(us.size() - 1, static_cast<size_t>(p / 100 * us.size()))]; };
    std::printf("nvme_qd1 reads %d p50_us %.1f p99_us %.1f\n", count, pct(50), pct(99));
    free(buf);
    close(fd);
    return 0;
}
