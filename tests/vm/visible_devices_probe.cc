// SPDX-License-Identifier: MIT
// Prints the devices libmtia gives this process, one line each: runtime
// index, node, serial (Device::open, so the node really opens). What
// tests/vm/test-device-plugin.sh runs with the MTIA_VISIBLE_DEVICES the
// device plugin's Allocate returned. Exit 1 if a device fails to open.
#include <cstdio>

#include "mtia/mtia.hpp"

int main()
{
    try {
        int n = mtia::device_count();
        for (int i = 0; i < n; i++) {
            mtia::Device d = mtia::Device::open(i);
            std::printf("%d %s %s\n", i, d.info().node.c_str(), d.info().serial.c_str());
        }
        std::printf("%d visible\n", n);
    } catch (const mtia::Error &e) {
        std::fprintf(stderr, "visible_devices_probe: %s\n", e.what());
        return 1;
    }
    return 0;
}
