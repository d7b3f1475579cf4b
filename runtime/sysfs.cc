// SPDX-License-Identifier: MIT
// What sysfs says about an accel node: its driver and PCI address. Reading
// sysfs needs no permission on the node itself.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>

#include <climits>
#include <cstdlib>
#include <fstream>

#include "mtia/mtia_spec.h"

#include "runtime_internal.h"

namespace mtia {

namespace {

// /sys/dev/char/M:m/device/<leaf> resolved; "" if @node is not a char device.
std::string sysfs_device_path(const std::string &node, const char *leaf)
{
    struct stat st;
    if (stat(node.c_str(), &st) != 0 || !S_ISCHR(st.st_mode)) {
        return {};
    }
    std::string link = "/sys/dev/char/" + std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev)) +
                       "/device" + leaf;
    char resolved[PATH_MAX];
    if (!realpath(link.c_str(), resolved)) {
        return {};
    }
    return resolved;
}

std::string basename_of(const std::string &path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string sysfs_driver_of(const std::string &node)
{
    auto path = sysfs_device_path(node, "/driver");
    return path.empty() ? std::string{} : basename_of(path);
}

std::string sysfs_pci_bus_id(const std::string &node)
{
    auto path = sysfs_device_path(node, "");
    return path.empty() ? std::string{} : basename_of(path);
}

std::string sysfs_mtia_attr(const std::string &node, const char *leaf)
{
    auto path = sysfs_device_path(node, (std::string("/mtia/") + leaf).c_str());
    if (path.empty()) return {};
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    return f || f.eof() ? line : std::string{};
}

int sysfs_count_mtia_pci()
{
    const char *env = std::getenv("MTIA_SYSFS_PCI_DIR");
    std::string dir = env && *env ? env : "/sys/bus/pci/devices";
    DIR *d = opendir(dir.c_str());
    if (!d) {
        return 0;
    }
    auto read_hex = [&](const std::string &path) {
        std::ifstream f(path);
        unsigned long v = 0;
        f >> std::hex >> v;
        return f ? v : ~0ul;
    };
    int n = 0;
    while (dirent *e = readdir(d)) {
        if (e->d_name[0] == '.') {
            continue;
        }
        std::string base = dir + "/" + e->d_name;
        if (read_hex(base + "/vendor") == MTIA_PCI_VENDOR_ID && read_hex(base + "/device") == MTIA_PCI_DEVICE_ID) {
            n++;
        }
    }
    closedir(d);
    return n;
}

}  // namespace mtia
