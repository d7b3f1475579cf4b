// SPDX-License-Identifier: MIT
// async_model: a compiled model (.mtia, from mtia-compile) run asynchronously
// on two streams, with libmtia's C++ API.
//
// run_async() queues one inference as one job that reads its inputs from and
// writes its outputs to Buffers, with no host copy; it returns at once. Runs
// of one model are serialised on the device (they share its arena), so two
// streams here overlap the host's work (filling the next inputs, checking
// outputs) with the device's, not two inferences with each other.
//
//   c++ -std=c++17 async_model.cpp $(pkg-config --cflags --libs mtia) -o async_model
//   ./async_model model.mtia [device-index] [runs-per-stream]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <mtia/mtia.hpp>

namespace {

// One stream's buffers: every input and output of the model, host-mapped.
struct Lane {
    mtia::Stream stream;
    std::vector<mtia::Buffer> in, out;
    mtia::Event done;
};

void fill_inputs(Lane &lane, const mtia::Model &model, int seed)
{
    for (size_t i = 0; i < model.inputs().size(); i++) {
        float *x = lane.in[i].map_as<float>();
        for (size_t k = 0; k < model.inputs()[i].bytes / sizeof(float); k++)
            x[k] = std::sin(0.001f * static_cast<float>(k) + static_cast<float>(seed));
    }
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s model.mtia [device-index] [runs-per-stream]\n", argv[0]);
        return 2;
    }
    const int index = argc > 2 ? std::atoi(argv[2]) : 0;
    const int runs = argc > 3 ? std::max(1, std::atoi(argv[3])) : 4;
    try {
        mtia::Device dev = mtia::Device::open(index);
        mtia::Model model = mtia::Model::load_file(dev, argv[1]);
        std::printf("%s: %zu ops, %zu input(s), %zu output(s) on %s\n", model.name().c_str(), model.num_ops(),
                    model.inputs().size(), model.outputs().size(), dev.info().pci_bus_id.c_str());

        Lane lanes[2];
        for (Lane &l : lanes) {
            l.stream = mtia::Stream(dev);
            l.done = mtia::Event(dev);
            for (const auto &t : model.inputs()) l.in.emplace_back(dev, t.bytes, mtia::Placement::Host);
            for (const auto &t : model.outputs()) l.out.emplace_back(dev, t.bytes, mtia::Placement::Host);
        }

        // The same inputs on both lanes must give the same outputs.
        float first = 0;
        for (int r = 0; r < runs; r++) {
            for (Lane &l : lanes) {
                l.done.synchronize();  // this lane's previous run has finished with its buffers
                fill_inputs(l, model, r);
                std::vector<mtia::BufferTensor> in, out;
                for (auto &b : l.in) in.push_back({&b, 0});
                for (auto &b : l.out) out.push_back({&b, 0});
                model.run_async(l.stream, in, out);
                l.stream.record(l.done);
            }
            for (Lane &l : lanes) l.done.synchronize();
            const float *a = lanes[0].out[0].map_as<float>(), *b = lanes[1].out[0].map_as<float>();
            if (std::memcmp(a, b, model.outputs()[0].bytes) != 0) {
                std::fprintf(stderr, "async_model: run %d: the two streams' outputs differ\n", r);
                return 1;
            }
            if (r == 0) first = a[0];
        }
        std::printf(
            "async_model: %d runs on each of 2 streams, outputs agree; output[0][0] = %g; device "
            "estimate %.3f ms per inference\n",
            runs, first, model.device_estimate_ns() / 1e6);
    } catch (const mtia::Error &e) {
        std::fprintf(stderr, "async_model: %s (%s)\n", e.what(), mtia_status_name(e.status()));
        return 1;
    }
    return 0;
}
