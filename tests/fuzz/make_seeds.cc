// SPDX-License-Identifier: MIT
// Seed inputs that are derived, not committed (tests/fuzz/run-fuzz.sh runs
// this into a target's fresh work corpus):
//   fuzz-seeds programs DIR MODEL.mtia...  compute_validate inputs: every
//       program (the top level and each batch bucket) of compiled models,
//       as the arena size (u64 LE) + its struct mtia_op[]; and programs of
//       the command corpus's copy op (tests/unit/cmd_corpus.h)
//   fuzz-seeds commands DIR                driver_cmd inputs: every case of
//       the command corpus as user space submits it (tests/unit/
//       cmd_corpus_uapi.h), one per file and all in one
// Files are named after what they hold; a model that does not load is
// reported and skipped.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "cmd_corpus_uapi.h"
#include "model_loader.h"

namespace {

void write_file(const std::string &path, const std::string &bytes)
{
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!f) {
        std::fprintf(stderr, "fuzz-seeds: cannot write %s\n", path.c_str());
        std::exit(1);
    }
}

std::string program_bytes(uint64_t arena, const std::vector<mtia_op> &ops)
{
    std::string s(reinterpret_cast<const char *>(&arena), 8);
    s.append(reinterpret_cast<const char *>(ops.data()), ops.size() * sizeof(mtia_op));
    return s;
}

std::string stem(const std::string &path)
{
    std::string s = path.substr(path.find_last_of('/') + 1);
    const size_t dot = s.rfind('.');
    return dot == std::string::npos ? s : s.substr(0, dot);
}

int programs(const std::string &dir, const std::vector<std::string> &models)
{
    for (unsigned n : {1u, 2u, 8u})
        write_file(dir + "/copy_ops_" + std::to_string(n),
                   program_bytes(corpus::kArena, std::vector<mtia_op>(n, corpus::copy_op())));
    for (const std::string &path : models) {
        std::ifstream f(path, std::ios::binary);
        const std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        std::vector<uint64_t> buf(bytes.size() / 8 + 1);
        std::memcpy(buf.data(), bytes.data(), bytes.size());
        try {
            const auto m = mtia::detail::parse_model(buf.data(), bytes.size());
            write_file(dir + "/" + stem(path), program_bytes(m.arena_size, m.program));
            for (const auto &b : m.buckets)
                write_file(dir + "/" + stem(path) + ".b" + std::to_string(b.batch),
                           program_bytes(b.arena_size, b.program));
        } catch (const std::exception &e) {
            std::fprintf(stderr, "fuzz-seeds: skipping %s: %s\n", path.c_str(), e.what());
        }
    }
    return 0;
}

int commands(const std::string &dir)
{
    std::string all(1, static_cast<char>(corpus::kBos));
    unsigned i = 0;
    for (const corpus::Case &k : corpus::cases()) {
        const drm_mtia_cmd u = corpus::to_uapi(k.cmd);
        const std::string one(reinterpret_cast<const char *>(&u), sizeof(u));
        write_file(dir + "/cmd_" + std::to_string(i++), std::string(1, static_cast<char>(corpus::kBos)) + one);
        all += one;
    }
    write_file(dir + "/cmd_all", all);
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    const std::string what = argc > 2 ? argv[1] : "";
    if (what == "programs") return programs(argv[2], std::vector<std::string>(argv + 3, argv + argc));
    if (what == "commands" && argc == 3) return commands(argv[2]);
    std::fprintf(stderr, "usage: fuzz-seeds programs DIR MODEL.mtia... | fuzz-seeds commands DIR\n");
    return 2;
}
