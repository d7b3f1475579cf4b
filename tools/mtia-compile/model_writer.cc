// SPDX-License-Identifier: MIT
#include "model_writer.h"

#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "errors.h"
#include "mtia/mtia_model.h"
#include "mtia/mtia_model_generated.h"

namespace mtia::compiler {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the weights image is written in host order");

namespace {

namespace fb = mtia::model;

// One program's tables, built into fbb (before the table that holds them).
struct ProgramTables {
    std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
    std::vector<flatbuffers::Offset<fb::Op>> ops;
    std::vector<uint32_t> inputs, outputs;
};

ProgramTables build_program(flatbuffers::FlatBufferBuilder &fbb, const DevGraph &d, const std::vector<bool> &batched_in,
                            const std::vector<bool> &batched_out)
{
    std::map<int, uint32_t> index;
    std::vector<int> order;
    auto use = [&](int t) {
        if (!index.count(t)) {
            index[t] = static_cast<uint32_t>(order.size());
            order.push_back(t);
        }
        return index[t];
    };
    for (int t : d.inputs) use(t);
    for (const auto &op : d.ops) {
        for (int t : op.in) use(t);
        use(op.out);
    }
    for (int t : d.outputs) use(t);
    std::map<int, int8_t> batch_axis;
    for (size_t k = 0; k < batched_in.size() && k < d.inputs.size(); ++k)
        if (batched_in[k]) batch_axis[d.inputs[k]] = 0;
    for (size_t k = 0; k < batched_out.size() && k < d.outputs.size(); ++k)
        if (batched_out[k]) batch_axis[d.outputs[k]] = 0;

    ProgramTables p;
    for (int t : order) {
        const DevTensor &x = d.tensors[t];
        std::vector<uint32_t> shape(x.shape.begin(), x.shape.end());
        const auto axis = batch_axis.count(t) ? batch_axis[t] : int8_t{-1};
        p.tensors.push_back(fb::CreateTensorDirect(fbb, x.name.c_str(), static_cast<fb::TensorKind>(x.kind),
                                                   static_cast<fb::DType>(x.dtype), &shape, x.offset, x.bytes(), axis,
                                                   x.scale, x.zero_point));
    }
    for (const auto &op : d.ops) {
        std::vector<uint32_t> in;
        for (int t : op.in) in.push_back(index.at(t));
        p.ops.push_back(fb::CreateOpDirect(fbb, static_cast<fb::OpKind>(op.kind), op.name.c_str(), &in,
                                           index.at(op.out), static_cast<fb::Activation>(op.act), op.act_min,
                                           op.act_max, &op.attrs, op.flags));
    }
    for (int t : d.inputs) p.inputs.push_back(index.at(t));
    for (int t : d.outputs) p.outputs.push_back(index.at(t));
    return p;
}

void check_weights_size(size_t bytes)
{
    if (bytes > (size_t{1} << 31) - (size_t{64} << 20))
        unsupported("the weights (" + std::to_string(bytes >> 20) +
                    " MiB) do not fit a .mtia file (FlatBuffers: under 2 GiB)");
}

std::string finish(flatbuffers::FlatBufferBuilder &fbb, flatbuffers::Offset<fb::Model> root)
{
    fb::FinishModelBuffer(fbb, root);
    return std::string(reinterpret_cast<const char *>(fbb.GetBufferPointer()), fbb.GetSize());
}

// 2.0 only when some op has flags (mtia_model.h): 1.x readers read the rest.
uint32_t format_version(const std::vector<const DevGraph *> &graphs)
{
    for (const DevGraph *d : graphs)
        for (const DevOp &op : d->ops)
            if (op.flags) return MTIA_MODEL_FORMAT_VERSION;
    return MTIA_MODEL_FORMAT_V1;
}

}  // namespace

std::string serialize_model(const DevGraph &d, const ArenaLayout &layout, uint64_t flops, const std::string &producer)
{
    check_weights_size(layout.weights.size());
    flatbuffers::FlatBufferBuilder fbb(layout.weights.size() + (1 << 20));
    ProgramTables p = build_program(fbb, d, {}, {});
    auto root = fb::CreateModelDirect(fbb, format_version({&d}), d.name.c_str(), producer.c_str(), &p.tensors, &p.ops,
                                      &p.inputs, &p.outputs, layout.arena_size, &layout.weights, flops);
    return finish(fbb, root);
}

std::string serialize_buckets(const std::vector<BucketProgram> &programs, const std::vector<uint8_t> &weights,
                              const std::vector<bool> &batched_in, const std::vector<bool> &batched_out,
                              const std::string &producer)
{
    if (programs.empty()) internal_error("no bucket programs to write");
    check_weights_size(weights.size());
    flatbuffers::FlatBufferBuilder fbb(weights.size() + (2 << 20));
    std::vector<flatbuffers::Offset<fb::Program>> progs;
    // The top level shares the largest program's vectors (no second copy).
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Tensor>>> top_tensors;
    flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Op>>> top_ops;
    flatbuffers::Offset<flatbuffers::Vector<uint32_t>> top_in, top_out;
    for (const auto &b : programs) {
        ProgramTables p = build_program(fbb, *b.graph, batched_in, batched_out);
        top_tensors = fbb.CreateVector(p.tensors);
        top_ops = fbb.CreateVector(p.ops);
        top_in = fbb.CreateVector(p.inputs);
        top_out = fbb.CreateVector(p.outputs);
        progs.push_back(fb::CreateProgram(fbb, b.batch, top_tensors, top_ops, top_in, top_out, b.arena_size, b.flops));
    }
    const BucketProgram &top = programs.back();
    auto progs_vec = fbb.CreateVector(progs);
    auto name = fbb.CreateString(top.graph->name);
    auto prod = fbb.CreateString(producer);
    fbb.ForceVectorAlignment(weights.size(), sizeof(uint8_t), 64);
    auto w = fbb.CreateVector(weights);
    std::vector<const DevGraph *> graphs;
    for (const auto &b : programs) graphs.push_back(b.graph);
    auto root = fb::CreateModel(fbb, format_version(graphs), name, prod, top_tensors, top_ops, top_in, top_out,
                                top.arena_size, w, top.flops, progs_vec);
    return finish(fbb, root);
}

// A regular file is written beside itself and renamed into place, so a failed
// write never leaves half a model. Anything else that exists (/dev/null,
// /dev/stdout, a FIFO) is written in place: renaming over it would replace
// the device node with a regular file.
void write_file(const std::string &path, const std::string &bytes)
{
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        std::ofstream f(path, std::ios::binary);
        if (!f) fail(ErrorKind::kOutput, path + ": cannot open the output");
        f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        f.flush();
        if (!f) fail(ErrorKind::kOutput, path + ": write failed");
        return;
    }
    const std::string tmp = path + ".tmp";
    {
        std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
        if (!f) fail(ErrorKind::kOutput, path + ": cannot create the output file");
        f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        f.flush();
        if (!f) {
            std::remove(tmp.c_str());
            fail(ErrorKind::kOutput, path + ": write failed");
        }
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        fail(ErrorKind::kOutput, path + ": cannot rename the output into place");
    }
}

}  // namespace mtia::compiler
