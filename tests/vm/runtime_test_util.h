// SPDX-License-Identifier: MIT
// Helpers the runtime_vm_tests files share (runtime_stream_test.cc,
// runtime_direct_test.cc).
#ifndef MTIA_VM_RUNTIME_TEST_UTIL_H
#define MTIA_VM_RUNTIME_TEST_UTIL_H

#include <cstdlib>
#include <fstream>
#include <string>

#include "mtia/mtia.hpp"

namespace rtest {

// The driver's sysfs attribute <leaf> of a device (.../device/mtia/<leaf>),
// first line, "" if unreadable.
inline std::string sysfs(const mtia::Device &d, const char *leaf)
{
    std::ifstream f("/sys/bus/pci/devices/" + d.info().pci_bus_id + "/mtia/" + leaf);
    std::string v;
    std::getline(f, v);
    return v;
}

// With the device MMU streams take direct queues (docs/runtime.md).
inline bool has_mmu(const mtia::Device &d) { return sysfs(d, "mmu") == "on"; }

// Streams made while one lives use the ioctl path (MTIA_DIRECT_QUEUES=0).
struct IoctlPathOnly {
    IoctlPathOnly() { setenv("MTIA_DIRECT_QUEUES", "0", 1); }
    ~IoctlPathOnly() { unsetenv("MTIA_DIRECT_QUEUES"); }
};

}  // namespace rtest

#endif  // MTIA_VM_RUNTIME_TEST_UTIL_H
