// SPDX-License-Identifier: MIT
// mtia-run: runs work on an mtia device.
//   mtia-run MODEL.mtia --input x.npy [--input ...] [--convert] [--output y.npy ...]
//   mtia-run MODEL.mtia --bench N [--batch-requests B] [--warmup W] [--input ...] [--json]
//   either with --profile trace.json: Chrome trace-event JSON of the runs (Perfetto)
//   mtia-run --bench copy [--size BYTES] [--iters N] [--json]
// Device: --device /dev/accel/accelN, --device N or -i N (index; default 0).
// Each mode's code lives in its own file (bench_copy.cc, run_model.cc).
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

bool all_digits(const std::string &s)
{
    if (s.empty()) return false;
    for (char c : s) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return true;
}

}  // namespace

int main(int argc, char **argv)
{
    CLI::App app{"mtia-run: run a compiled model (.mtia) or a benchmark on an mtia accelerator"};
    int vmaj = 0, vmin = 0, vpatch = 0;
    mtia_runtime_version(&vmaj, &vmin, &vpatch);
    app.set_version_flag(
        "--version", "mtia-run " + std::to_string(vmaj) + "." + std::to_string(vmin) + "." + std::to_string(vpatch));
    std::string bench, size_str = "64M", device;
    int index = -1;
    mtia::run::CopyBenchOptions copy;
    mtia::run::ModelRunOptions model;
    app.add_option("model", model.model, "compiled model (.mtia) to run");
    // One file per --input/--output, so the model path may come after them.
    app.add_option("--input", model.inputs,
                   "input .npy (C order; float32, float16, int32, int64, bool, int8 or uint8, as the model input; a "
                   "bfloat16 input, which NumPy lacks, from float32 with --convert), one per --input, in the "
                   "model's input order")
        ->allow_extra_args(false);
    app.add_flag("--convert", model.convert,
                 "convert a float input .npy to the model input's float type (float32 -> float16/bfloat16 "
                 "rounds to nearest even, float16 -> float32 is exact) or quantize it for an int8/uint8 input "
                 "(with the input's scale and zero point); never between ints and floats");
    app.add_option("--output", model.outputs,
                   "write output .npy files, one per --output, in the model's output order (a bfloat16 output "
                   "as float32, exactly; an int8/uint8 one as it is, the summary shows its real values)")
        ->allow_extra_args(false);
    app.add_option("--bench", bench, "benchmark: N inferences of the model, or 'copy' (DMA and NOP latency)");
    app.add_option("--batch-requests", model.batch_requests, "model benchmark: requests per run_batch (default 1)")
        ->check(CLI::PositiveNumber);
    app.add_option("--warmup", model.warmup, "model benchmark: untimed runs first (default 3)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--profile", model.profile,
                   "write a profile of the runs (per op: device time, MTIA v1 model estimate, bytes) as Chrome "
                   "trace-event JSON, for Perfetto's UI or chrome://tracing; with --bench, of the timed run()s "
                   "(the first " +
                       std::to_string(mtia::run::kMaxProfiledRuns) + ")");
    app.add_option("-d,--device", device, "device node (/dev/accel/accelN) or index");
    app.add_option("-i,--index", index, "device index")->check(CLI::NonNegativeNumber);
    app.add_option("--size", size_str, "copy bench: bytes per copy (K/M/G suffixes), default 64M");
    app.add_option("--iters", copy.iters, "copy bench: copies per direction (default 8)")->check(CLI::PositiveNumber);
    app.add_option("--nop-iters", copy.nop_iters, "copy bench: NOP jobs for the latency (default 1000)")
        ->check(CLI::PositiveNumber);
    app.add_flag("--json", copy.json, "machine-readable output");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        return app.exit(e) == 0 ? 0 : 1;
    }
    mtia::run::DeviceChoice dev;
    if (!device.empty() && index >= 0) {
        std::cerr << "mtia-run: give --device or -i, not both\n";
        return 1;
    }
    if (all_digits(device) && device.size() <= 9) {
        dev.index = std::stoi(device);
    } else if (!device.empty()) {
        dev.node = device;
    } else if (index >= 0) {
        dev.index = index;
    }
    copy.device = model.device = dev;
    model.json = copy.json;

    try {
        if (bench == "copy") {
            if (!model.model.empty() || !model.profile.empty()) {
                std::cerr << "mtia-run: --bench copy takes no model (and no --profile)\n";
                return 1;
            }
            try {
                copy.size = parse_size(size_str);
                if (copy.size == 0) throw std::invalid_argument("size must be > 0");
            } catch (const std::logic_error &e) {  // invalid_argument, out_of_range
                std::cerr << "mtia-run: --size " << size_str << ": " << e.what() << "\n";
                return 1;
            }
            return mtia::run::bench_copy(copy);
        }
        if (model.model.empty()) {
            std::cerr << "mtia-run: nothing to do: give a model (.mtia) or --bench copy\n" << app.help();
            return 1;
        }
        if (!bench.empty()) {
            if (!all_digits(bench) || bench.size() > 9 || std::stoi(bench) == 0) {
                std::cerr << "mtia-run: --bench " << bench << ": give a number of inferences (> 0) or 'copy'\n";
                return 1;
            }
            model.bench = std::stoi(bench);
        }
        return mtia::run::run_model(model);
    } catch (const mtia::Error &e) {
        std::cerr << "mtia-run: " << mtia_status_name(e.status()) << ": " << e.what() << "\n";
        return 1;
    }
}
