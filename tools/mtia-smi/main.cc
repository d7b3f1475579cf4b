// SPDX-License-Identifier: MIT
// mtia-smi: lists mtia devices, like nvidia-smi.
//
// Exit codes: 0 ok, 1 usage or other error, 2 no device, 3 driver not
// loaded, 4 permission denied.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>

#include "smi_format.h"

namespace {

enum Exit { kOk = 0, kError = 1, kNoDevice = 2, kNoDriver = 3, kPermission = 4 };

int fail(int code, const std::string &msg)
{
    std::cerr << "mtia-smi: " << msg << "\n";
    return code;
}

std::string now_string()
{
    char buf[64];
    std::time_t t = std::time(nullptr);
    std::strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", std::localtime(&t));
    return buf;
}

}  // namespace

int main(int argc, char **argv)
{
    CLI::App app{"mtia-smi: monitor and query mtia accelerators"};
    bool json = false, list = false, version = false, query = false;
    int id = -1;
    app.add_flag("--json", json, "print JSON instead of a table");
    app.add_flag("-L,--list-devices", list, "one line per device");
    app.add_flag("-q,--query", query, "every property of each device");
    app.add_option("-i,--id", id, "only this device index")->check(CLI::NonNegativeNumber);
    app.add_flag("--version", version, "print the version and exit");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e) == 0 ? kOk : kError;  // --help is not an error
    }

    if (version) {
        int ma, mi, pa;
        mtia_runtime_version(&ma, &mi, &pa);
        std::printf("mtia-smi %d.%d.%d\n", ma, mi, pa);
        return kOk;
    }

    auto pci = mtia_smi::scan_mtia_pci();
    std::vector<std::string> nodes;
    try {
        nodes = mtia::device_nodes();
    } catch (const std::exception &e) {
        return fail(kError, e.what());
    }
    if (nodes.empty()) {
        if (!pci.empty()) {
            return fail(kNoDriver, std::to_string(pci.size()) +
                                       " MTIA PCI device(s) found but the mtia driver is not "
                                       "loaded (no node in " + mtia::accel_dir() + ")");
        }
        return fail(kNoDevice, "no MTIA devices found");
    }
    if (id >= static_cast<int>(nodes.size())) {
        return fail(kNoDevice, "no device with index " + std::to_string(id) + " (" +
                                   std::to_string(nodes.size()) + " present)");
    }

    std::vector<mtia_smi::SmiDevice> devs;
    for (size_t i = 0; i < nodes.size(); i++) {
        if (id >= 0 && static_cast<size_t>(id) != i) {
            continue;
        }
        try {
            mtia_smi::SmiDevice d{mtia::Device::open_node(nodes[i], static_cast<int>(i)).info(), {}};
            for (const auto &p : pci) {
                if (p.bus_id == d.info.pci_bus_id) {
                    d.pci = p;
                }
            }
            devs.push_back(std::move(d));
        } catch (const mtia::Error &e) {
            return fail(e.status() == MTIA_ERROR_PERMISSION ? kPermission : kError, e.what());
        }
    }

    std::string out;
    if (json) {
        out = mtia_smi::format_json(devs);
    } else if (query) {
        out = mtia_smi::format_detail(devs, now_string());
    } else if (list) {
        out = mtia_smi::format_list(devs);
    } else {
        out = mtia_smi::format_table(devs);
    }
    std::fputs(out.c_str(), stdout);
    return kOk;
}
