// SPDX-License-Identifier: MIT
// mtia-run: runs work on an mtia device.
//   mtia-run --bench copy [--device N] [--size BYTES] [--iters N] [--json]
// Modes are chosen by an option (today only --bench); each mode's code lives
// in its own file so models etc. can be added beside it.
//
// Exit codes: 0 ok, 1 usage or runtime error.
#include <CLI/CLI.hpp>
#include <cctype>
#include <iostream>

#include "bench.h"
#include "mtia/mtia.hpp"

namespace {

// "4096", "64K", "256M", "1G" (binary units) -> bytes; throws on garbage.
size_t parse_size(const std::string &s)
{
    size_t pos = 0;
    unsigned long long v = std::stoull(s, &pos);
    std::string suf = s.substr(pos);
    for (auto &c : suf) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (suf == "" || suf == "B") return v;
    if (suf == "K" || suf == "KIB") return v << 10;
    if (suf == "M" || suf == "MIB") return v << 20;
    if (suf == "G" || suf == "GIB") return v << 30;
    throw std::invalid_argument("bad size suffix '" + suf + "'");
}

}  // namespace

int main(int argc, char **argv)
{
    CLI::App app{"mtia-run: run work on an mtia accelerator"};
    std::string bench, size_str = "64M";
    mtia_run::CopyBenchOptions copy;
    app.add_option("--bench", bench, "run a benchmark: copy")->check(CLI::IsMember({"copy"}));
    app.add_option("-d,--device", copy.device, "device index")->check(CLI::NonNegativeNumber);
    app.add_option("--size", size_str, "bytes per copy (K/M/G suffixes), default 64M");
    app.add_option("--iters", copy.iters, "copies per direction (default 8)")->check(CLI::PositiveNumber);
    app.add_option("--nop-iters", copy.nop_iters, "NOP jobs for the latency (default 1000)")
        ->check(CLI::PositiveNumber);
    app.add_flag("--json", copy.json, "machine-readable output");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e) == 0 ? 0 : 1;
    }
    try {
        copy.size = parse_size(size_str);
        if (copy.size == 0) throw std::invalid_argument("size must be > 0");
    } catch (const std::exception &e) {
        std::cerr << "mtia-run: --size " << size_str << ": " << e.what() << "\n";
        return 1;
    }
    if (bench.empty()) {
        std::cerr << "mtia-run: nothing to do (try --bench copy)\n" << app.help();
        return 1;
    }
    try {
        if (bench == "copy") return mtia_run::bench_copy(copy);
    } catch (const mtia::Error &e) {
        std::cerr << "mtia-run: " << mtia_status_name(e.status()) << ": " << e.what() << "\n";
        return 1;
    }
    return 1;
}
