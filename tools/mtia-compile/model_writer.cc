// SPDX-License-Identifier: MIT
#include "model_writer.h"

#include <cstdio>
#include <fstream>
#include <map>

#include "errors.h"
#include "mtia/mtia_model.h"
#include "mtia/mtia_model_generated.h"

namespace mtia::compiler {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the weights image is written in host order");

std::string serialize_model(const DevGraph &d, const ArenaLayout &layout, uint64_t flops, const std::string &producer)
{
    namespace fb = mtia::model;
    if (layout.weights.size() > (size_t{1} << 31) - (size_t{64} << 20))
        unsupported("the weights (" + std::to_string(layout.weights.size() >> 20) +
                    " MiB) do not fit a .mtia file (FlatBuffers: under 2 GiB)");
    flatbuffers::FlatBufferBuilder fbb(layout.weights.size() + (1 << 20));
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

    std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
    for (int t : order) {
        const DevTensor &x = d.tensors[t];
        std::vector<uint32_t> shape(x.shape.begin(), x.shape.end());
        tensors.push_back(fb::CreateTensorDirect(fbb, x.name.c_str(), static_cast<fb::TensorKind>(x.kind),
                                                 static_cast<fb::DType>(x.dtype), &shape, x.offset, x.bytes()));
    }
    std::vector<flatbuffers::Offset<fb::Op>> ops;
    for (const auto &op : d.ops) {
        std::vector<uint32_t> in;
        for (int t : op.in) in.push_back(index.at(t));
        ops.push_back(fb::CreateOpDirect(fbb, static_cast<fb::OpKind>(op.kind), op.name.c_str(), &in, index.at(op.out),
                                         static_cast<fb::Activation>(op.act), op.act_min, op.act_max, &op.attrs));
    }
    std::vector<uint32_t> inputs, outputs;
    for (int t : d.inputs) inputs.push_back(index.at(t));
    for (int t : d.outputs) outputs.push_back(index.at(t));
    auto root = fb::CreateModelDirect(fbb, MTIA_MODEL_FORMAT_VERSION, d.name.c_str(), producer.c_str(), &tensors, &ops,
                                      &inputs, &outputs, layout.arena_size, &layout.weights, flops);
    fb::FinishModelBuffer(fbb, root);
    return std::string(reinterpret_cast<const char *>(fbb.GetBufferPointer()), fbb.GetSize());
}

void write_file(const std::string &path, const std::string &bytes)
{
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
