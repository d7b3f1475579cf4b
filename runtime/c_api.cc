// SPDX-License-Identifier: MIT
// The C API over the C++ runtime: exceptions become mtia_status codes and the
// detail goes to mtia_last_error().
//
// C handles are not pointers to objects: each is an id (never reused, low
// bits say the kind) looked up in a registry, so a freed, destroyed or bogus
// handle gives MTIA_ERROR_INVALID_HANDLE instead of a use-after-free.
#include <atomic>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <unordered_map>
#include <utility>

#include "mtia/mtia_spec.h"
#include "runtime_internal.h"

// One numbering of element types: the C API's mtia_dtype, mtia::DType and the
// spec's MTIA_DTYPE_* (which the model format's DType also uses).
static_assert(MTIA_DTYPE_FLOAT32 == MTIA_DTYPE_F32 && int(mtia::DType::F32) == MTIA_DTYPE_F32, "F32");
static_assert(MTIA_DTYPE_FLOAT16 == MTIA_DTYPE_F16 && int(mtia::DType::F16) == MTIA_DTYPE_F16, "F16");
static_assert(MTIA_DTYPE_BFLOAT16 == MTIA_DTYPE_BF16 && int(mtia::DType::BF16) == MTIA_DTYPE_BF16, "BF16");
static_assert(MTIA_DTYPE_INT32 == MTIA_DTYPE_I32 && int(mtia::DType::I32) == MTIA_DTYPE_I32, "I32");
static_assert(MTIA_DTYPE_INT64 == MTIA_DTYPE_I64 && int(mtia::DType::I64) == MTIA_DTYPE_I64, "I64");
static_assert(MTIA_DTYPE_BOOLEAN == MTIA_DTYPE_BOOL && int(mtia::DType::Bool) == MTIA_DTYPE_BOOL, "BOOL");
static_assert(MTIA_DTYPE_INT8 == MTIA_DTYPE_I8 && int(mtia::DType::I8) == MTIA_DTYPE_I8, "I8");
static_assert(MTIA_DTYPE_UINT8 == MTIA_DTYPE_U8 && int(mtia::DType::U8) == MTIA_DTYPE_U8, "U8");

namespace {

enum Kind : uintptr_t { kDevice = 1, kBuffer = 2, kStream = 3, kEvent = 4, kModel = 5 };

struct Registry {
    std::mutex mu;
    uintptr_t next = 1;
    std::unordered_map<uintptr_t, std::shared_ptr<void>> objs;
};

Registry &registry()
{
    static Registry *r = new Registry;  // never destroyed: handles may outlive static destruction
    return *r;
}

template <typename T>
uintptr_t reg_add(Kind kind, std::shared_ptr<T> obj)
{
    auto &r = registry();
    std::lock_guard<std::mutex> l(r.mu);
    uintptr_t id = (r.next++ << 4) | kind;
    r.objs.emplace(id, std::move(obj));
    return id;
}

const char *kind_name(Kind k)
{
    switch (k) {
        case kDevice:
            return "device";
        case kBuffer:
            return "buffer";
        case kStream:
            return "stream";
        case kEvent:
            return "event";
        case kModel:
            return "model";
    }
    return "object";
}

template <typename T>
std::shared_ptr<T> reg_get(Kind kind, const void *h, bool remove = false)
{
    const uintptr_t id = reinterpret_cast<uintptr_t>(h);
    const std::string what = std::string(kind_name(kind));
    if (!h) throw mtia::Error(MTIA_ERROR_INVALID_ARGUMENT, what + " is NULL");
    if ((id & 15) != kind) throw mtia::Error(MTIA_ERROR_INVALID_HANDLE, "not a valid " + what + " handle");
    auto &r = registry();
    std::lock_guard<std::mutex> l(r.mu);
    auto it = r.objs.find(id);
    if (it == r.objs.end()) {
        throw mtia::Error(MTIA_ERROR_INVALID_HANDLE,
                          what + " handle is not valid (already freed/destroyed/closed, or never created)");
    }
    auto p = std::static_pointer_cast<T>(it->second);
    if (remove) r.objs.erase(it);
    return p;
}

template <typename F>
mtia_status guarded(F &&f)
{
    return mtia::c_guarded(std::forward<F>(f));
}

mtia_status invalid(const char *what)
{
    mtia::set_last_error(what);
    return MTIA_ERROR_INVALID_ARGUMENT;
}

template <size_t N>
void copy_str(char (&dst)[N], const std::string &src)
{
    std::snprintf(dst, N, "%s", src.c_str());
}

}  // namespace

namespace mtia::detail {

// The first libmtia's struct ended where zero_point begins: it is filled
// as far as it goes.
bool tensor_info_size_ok(uint32_t size)
{
    return size == sizeof(mtia_tensor_info) || size == offsetof(mtia_tensor_info, zero_point);
}

void fill_tensor_info(const TensorInfo &t, mtia_tensor_info *info)
{
    const uint32_t size = info->struct_size;
    if (!tensor_info_size_ok(size))
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "info->struct_size must be sizeof(mtia_tensor_info)");
    mtia_tensor_info out{};
    out.struct_size = size;
    out.dtype = static_cast<uint32_t>(t.dtype);
    out.ndim = static_cast<uint32_t>(t.shape.size());
    for (size_t d = 0; d < t.shape.size() && d < MTIA_TENSOR_MAX_DIMS; d++) out.dims[d] = t.shape[d];
    out.scale = t.scale;
    out.bytes = t.bytes;
    copy_str(out.name, t.name);
    out.zero_point = t.zero_point;
    std::memcpy(info, &out, size);
}

}  // namespace mtia::detail

extern "C" {

mtia_status mtia_device_count(int *count)
{
    if (!count) {
        return invalid("count is NULL");
    }
    return guarded([&] { *count = mtia::device_count(); });
}

mtia_status mtia_device_open(int index, mtia_device **device)
{
    if (!device) {
        return invalid("device is NULL");
    }
    *device = nullptr;
    return guarded([&] {
        auto d = std::make_shared<mtia::Device>(mtia::Device::open(index));
        *device = reinterpret_cast<mtia_device *>(reg_add(kDevice, std::move(d)));
    });
}

mtia_status mtia_device_open_by_id(const char *id, mtia_device **device)
{
    if (!device || !id) return invalid("id or device is NULL");
    *device = nullptr;
    return guarded([&] {
        auto d = std::make_shared<mtia::Device>(mtia::Device::open(std::string(id)));
        *device = reinterpret_cast<mtia_device *>(reg_add(kDevice, std::move(d)));
    });
}

mtia_status mtia_device_synchronize(mtia_device *device)
{
    return guarded([&] { reg_get<mtia::Device>(kDevice, device)->synchronize(); });
}

mtia_status mtia_device_default_stream(mtia_device *device, mtia_stream **stream)
{
    if (!stream) return invalid("stream is NULL");
    *stream = nullptr;
    return guarded([&] {
        auto s = std::make_shared<mtia::Stream>(reg_get<mtia::Device>(kDevice, device)->default_stream());
        *stream = reinterpret_cast<mtia_stream *>(reg_add(kStream, std::move(s)));
    });
}

mtia_status mtia_device_memory_info(const mtia_device *device, mtia_memory_info *info)
{
    if (!info) return invalid("info is NULL");
    if (info->struct_size < sizeof(mtia_memory_info))
        return invalid("info->struct_size must be sizeof(mtia_memory_info)");
    return guarded([&] {
        const mtia::MemoryInfo m = reg_get<mtia::Device>(kDevice, device)->memory_info();
        mtia_memory_info out{};
        out.struct_size = sizeof(out);
        out.total_bytes = m.total_bytes;
        out.free_bytes = m.free_bytes;
        out.allocated_bytes = m.allocated_bytes;
        out.peak_bytes = m.peak_bytes;
        out.allocations = m.allocations;
        *info = out;
    });
}

mtia_status mtia_device_reset_peak_memory(mtia_device *device)
{
    return guarded([&] { reg_get<mtia::Device>(kDevice, device)->reset_peak_memory(); });
}

mtia_status mtia_device_close(mtia_device *device)
{
    if (!device) return MTIA_SUCCESS;
    return guarded([&] { reg_get<mtia::Device>(kDevice, device, true)->close(); });
}

mtia_status mtia_device_get_info(const mtia_device *device, mtia_device_info *info)
{
    if (!device || !info) {
        return invalid("device or info is NULL");
    }
    std::shared_ptr<mtia::Device> dev;
    if (mtia_status st = guarded([&] { dev = reg_get<mtia::Device>(kDevice, device); })) {
        return st;
    }
    // Fill only as much as the caller's (possibly older) struct holds.
    if (info->struct_size < offsetof(mtia_device_info, msix_vectors) + sizeof(info->msix_vectors) ||
        info->struct_size > sizeof(mtia_device_info)) {
        return invalid("info->struct_size must be sizeof(mtia_device_info)");
    }
    const mtia::DeviceInfo &d = dev->info();
    const uint32_t size = info->struct_size;
    mtia_device_info out{};
    out.struct_size = size;
    out.index = d.index;
    copy_str(out.name, d.name);
    copy_str(out.node, d.node);
    copy_str(out.pci_bus_id, d.pci_bus_id);
    copy_str(out.driver_version, d.driver_version);
    out.chip_id = d.chip_id;
    out.revision = d.revision;
    out.if_version_major = d.if_version_major;
    out.if_version_minor = d.if_version_minor;
    out.pe_rows = d.pe_rows;
    out.pe_cols = d.pe_cols;
    out.sram_bytes = d.sram_bytes;
    out.devmem_bytes = d.devmem_bytes;
    out.fw_version = d.fw_version;
    out.msix_vectors = d.msix_vectors;
    copy_str(out.serial, d.serial);
    std::memcpy(info, &out, size);
    return MTIA_SUCCESS;
}

// ---- buffers -----------------------------------------------------------------

mtia_status mtia_buffer_create(mtia_device *device, size_t size, mtia_placement placement, mtia_buffer **buffer)
{
    if (!buffer) return invalid("buffer is NULL");
    *buffer = nullptr;
    return guarded([&] {
        auto dev = reg_get<mtia::Device>(kDevice, device);
        auto b = std::make_shared<mtia::Buffer>(*dev, size, static_cast<mtia::Placement>(placement));
        *buffer = reinterpret_cast<mtia_buffer *>(reg_add(kBuffer, std::move(b)));
    });
}

mtia_status mtia_buffer_free(mtia_buffer *buffer)
{
    if (!buffer) return MTIA_SUCCESS;
    return guarded([&] { reg_get<mtia::Buffer>(kBuffer, buffer, true); });
}

mtia_status mtia_buffer_size(const mtia_buffer *buffer, size_t *size)
{
    if (!size) return invalid("size is NULL");
    return guarded([&] { *size = reg_get<mtia::Buffer>(kBuffer, buffer)->size(); });
}

mtia_status mtia_buffer_placement(const mtia_buffer *buffer, mtia_placement *placement)
{
    if (!placement) return invalid("placement is NULL");
    return guarded(
        [&] { *placement = static_cast<mtia_placement>(reg_get<mtia::Buffer>(kBuffer, buffer)->placement()); });
}

mtia_status mtia_buffer_map(mtia_buffer *buffer, void **ptr)
{
    if (!ptr) return invalid("ptr is NULL");
    *ptr = nullptr;
    return guarded([&] {
        auto b = reg_get<mtia::Buffer>(kBuffer, buffer);
        *ptr = b->map();
    });
}

// ---- streams -----------------------------------------------------------------

mtia_status mtia_stream_create(mtia_device *device, mtia_priority priority, mtia_stream **stream)
{
    if (!stream) return invalid("stream is NULL");
    *stream = nullptr;
    return guarded([&] {
        auto dev = reg_get<mtia::Device>(kDevice, device);
        auto s = std::make_shared<mtia::Stream>(*dev, static_cast<mtia::Priority>(priority));
        *stream = reinterpret_cast<mtia_stream *>(reg_add(kStream, std::move(s)));
    });
}

mtia_status mtia_stream_destroy(mtia_stream *stream)
{
    if (!stream) return MTIA_SUCCESS;
    // The handle goes first, so the stream is freed whatever its work
    // reports; a closed device has no work left to wait for.
    return guarded([&] {
        auto s = reg_get<mtia::Stream>(kStream, stream, true);
        bool open = false;
        mtia::detail::if_open(s->state()->dev, [&](int) { open = true; });
        if (open) s->synchronize();
    });
}

mtia_status mtia_stream_copy(mtia_stream *stream, mtia_buffer *dst, size_t dst_offset, mtia_buffer *src,
                             size_t src_offset, size_t len)
{
    return guarded([&] {
        auto s = reg_get<mtia::Stream>(kStream, stream);
        auto d = reg_get<mtia::Buffer>(kBuffer, dst);
        auto sr = reg_get<mtia::Buffer>(kBuffer, src);
        s->copy(*d, dst_offset, *sr, src_offset, len);
    });
}

mtia_status mtia_stream_fill(mtia_stream *stream, mtia_buffer *dst, size_t offset, size_t len, uint8_t value)
{
    return guarded([&] {
        auto s = reg_get<mtia::Stream>(kStream, stream);
        s->fill(*reg_get<mtia::Buffer>(kBuffer, dst), offset, len, value);
    });
}

mtia_status mtia_stream_fill64(mtia_stream *stream, mtia_buffer *dst, size_t offset, size_t len, uint64_t pattern)
{
    return guarded([&] {
        auto s = reg_get<mtia::Stream>(kStream, stream);
        s->fill64(*reg_get<mtia::Buffer>(kBuffer, dst), offset, len, pattern);
    });
}

mtia_status mtia_stream_record(mtia_stream *stream, mtia_event *event)
{
    return guarded([&] {
        auto s = reg_get<mtia::Stream>(kStream, stream);
        s->record(*reg_get<mtia::Event>(kEvent, event));
    });
}

mtia_status mtia_stream_wait_event(mtia_stream *stream, mtia_event *event)
{
    return guarded([&] {
        auto s = reg_get<mtia::Stream>(kStream, stream);
        s->wait(*reg_get<mtia::Event>(kEvent, event));
    });
}

mtia_status mtia_stream_flush(mtia_stream *stream)
{
    return guarded([&] { reg_get<mtia::Stream>(kStream, stream)->flush(); });
}

mtia_status mtia_stream_synchronize(mtia_stream *stream)
{
    return guarded([&] { reg_get<mtia::Stream>(kStream, stream)->synchronize(); });
}

mtia_status mtia_stream_query(mtia_stream *stream, int *done)
{
    if (!done) return invalid("done is NULL");
    return guarded([&] { *done = reg_get<mtia::Stream>(kStream, stream)->query() ? 1 : 0; });
}

mtia_status mtia_stream_copy_from_host(mtia_stream *stream, mtia_buffer *dst, size_t dst_offset, const void *src,
                                       size_t len)
{
    return guarded([&] {
        auto s = reg_get<mtia::Stream>(kStream, stream);
        s->copy_from_host(*reg_get<mtia::Buffer>(kBuffer, dst), dst_offset, src, len);
    });
}

mtia_status mtia_stream_copy_to_host(mtia_stream *stream, void *dst, mtia_buffer *src, size_t src_offset, size_t len)
{
    return guarded([&] {
        auto s = reg_get<mtia::Stream>(kStream, stream);
        s->copy_to_host(dst, *reg_get<mtia::Buffer>(kBuffer, src), src_offset, len);
    });
}

// ---- events ------------------------------------------------------------------

mtia_status mtia_event_create(mtia_device *device, mtia_event **event)
{
    if (!event) return invalid("event is NULL");
    *event = nullptr;
    return guarded([&] {
        auto dev = reg_get<mtia::Device>(kDevice, device);
        auto e = std::make_shared<mtia::Event>(*dev);
        *event = reinterpret_cast<mtia_event *>(reg_add(kEvent, std::move(e)));
    });
}

mtia_status mtia_event_destroy(mtia_event *event)
{
    if (!event) return MTIA_SUCCESS;
    return guarded([&] { reg_get<mtia::Event>(kEvent, event, true); });
}

mtia_status mtia_event_query(mtia_event *event, int *done)
{
    if (!done) return invalid("done is NULL");
    return guarded([&] { *done = reg_get<mtia::Event>(kEvent, event)->query() ? 1 : 0; });
}

mtia_status mtia_event_wait(mtia_event *event, int64_t timeout_ms)
{
    return guarded([&] {
        if (!reg_get<mtia::Event>(kEvent, event)->wait(timeout_ms)) {
            throw mtia::Error(MTIA_ERROR_TIMEOUT, "event not complete after " + std::to_string(timeout_ms) + " ms");
        }
    });
}

mtia_status mtia_event_elapsed_ms(mtia_event *start, mtia_event *end, double *ms)
{
    if (!ms) return invalid("ms is NULL");
    return guarded([&] {
        auto a = reg_get<mtia::Event>(kEvent, start);
        auto b = reg_get<mtia::Event>(kEvent, end);
        *ms = mtia::Event::elapsed_ms(*a, *b);
    });
}

mtia_status mtia_event_device_estimate_ns(mtia_event *event, uint64_t *ns)
{
    if (!ns) return invalid("ns is NULL");
    return guarded([&] { *ns = reg_get<mtia::Event>(kEvent, event)->device_estimate_ns(); });
}

// ---- models ------------------------------------------------------------------

mtia_status mtia_model_load_file(mtia_device *device, const char *path, mtia_model **model)
{
    if (!model || !path) return invalid("path or model is NULL");
    *model = nullptr;
    return guarded([&] {
        auto dev = reg_get<mtia::Device>(kDevice, device);
        auto m = std::make_shared<mtia::Model>(mtia::Model::load_file(*dev, path));
        *model = reinterpret_cast<mtia_model *>(reg_add(kModel, std::move(m)));
    });
}

mtia_status mtia_model_load_memory(mtia_device *device, const void *data, size_t size, mtia_model **model)
{
    if (!model || !data) return invalid("data or model is NULL");
    *model = nullptr;
    return guarded([&] {
        auto dev = reg_get<mtia::Device>(kDevice, device);
        auto m = std::make_shared<mtia::Model>(mtia::Model::load_memory(*dev, data, size));
        *model = reinterpret_cast<mtia_model *>(reg_add(kModel, std::move(m)));
    });
}

mtia_status mtia_model_free(mtia_model *model)
{
    if (!model) return MTIA_SUCCESS;
    return guarded([&] { reg_get<mtia::Model>(kModel, model, true); });
}

mtia_status mtia_model_num_inputs(const mtia_model *model, size_t *count)
{
    if (!count) return invalid("count is NULL");
    return guarded([&] { *count = reg_get<mtia::Model>(kModel, model)->inputs().size(); });
}

mtia_status mtia_model_num_outputs(const mtia_model *model, size_t *count)
{
    if (!count) return invalid("count is NULL");
    return guarded([&] { *count = reg_get<mtia::Model>(kModel, model)->outputs().size(); });
}

// A model's input or output `index`; INVALID_ARGUMENT past the last.
static const mtia::TensorInfo &tensor_at(const mtia::Model &m, size_t index, bool input)
{
    const auto &v = input ? m.inputs() : m.outputs();
    if (index >= v.size()) {
        throw mtia::Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(input ? "input" : "output") + " index " +
                                                           std::to_string(index) + " out of range (model has " +
                                                           std::to_string(v.size()) + ")");
    }
    return v[index];
}

static mtia_status tensor_info(const mtia_model *model, size_t index, mtia_tensor_info *info, bool input)
{
    if (!info) return invalid("info is NULL");
    if (!mtia::detail::tensor_info_size_ok(info->struct_size))
        return invalid("info->struct_size must be sizeof(mtia_tensor_info)");
    return guarded([&] {
        auto m = reg_get<mtia::Model>(kModel, model);  // held: t refers into it
        mtia::detail::fill_tensor_info(tensor_at(*m, index, input), info);
    });
}

mtia_status mtia_model_input_info(const mtia_model *model, size_t index, mtia_tensor_info *info)
{
    return tensor_info(model, index, info, true);
}

mtia_status mtia_model_output_info(const mtia_model *model, size_t index, mtia_tensor_info *info)
{
    return tensor_info(model, index, info, false);
}

mtia_status mtia_model_run(mtia_model *model, const void *const *inputs, const size_t *input_bytes, size_t n_inputs,
                           void *const *outputs, const size_t *output_bytes, size_t n_outputs)
{
    if ((n_inputs && (!inputs || !input_bytes)) || (n_outputs && (!outputs || !output_bytes))) {
        return invalid("inputs/outputs or their sizes are NULL");
    }
    return guarded([&] {
        auto m = reg_get<mtia::Model>(kModel, model);
        std::vector<mtia::HostInput> in(n_inputs);
        std::vector<mtia::HostOutput> out(n_outputs);
        for (size_t i = 0; i < n_inputs; i++) in[i] = {inputs[i], input_bytes[i]};
        for (size_t i = 0; i < n_outputs; i++) out[i] = {outputs[i], output_bytes[i]};
        m->run(in, out);
    });
}

mtia_status mtia_model_device_estimate_ns(mtia_model *model, uint64_t *ns)
{
    if (!ns) return invalid("ns is NULL");
    return guarded([&] { *ns = reg_get<mtia::Model>(kModel, model)->device_estimate_ns(); });
}

mtia_status mtia_model_set_profiling(mtia_model *model, int on)
{
    return guarded([&] { reg_get<mtia::Model>(kModel, model)->set_profiling(on != 0); });
}

mtia_status mtia_model_write_profile(mtia_model *model, const char *path)
{
    if (!path) return invalid("path is NULL");
    return guarded([&] { mtia::write_chrome_trace(path, {reg_get<mtia::Model>(kModel, model)->profile()}); });
}

mtia_status mtia_model_run_async(mtia_model *model, mtia_stream *stream, mtia_buffer *const *inputs,
                                 const size_t *input_offsets, size_t n_inputs, mtia_buffer *const *outputs,
                                 const size_t *output_offsets, size_t n_outputs)
{
    if ((n_inputs && (!inputs || !input_offsets)) || (n_outputs && (!outputs || !output_offsets))) {
        return invalid("inputs/outputs or their offsets are NULL");
    }
    return guarded([&] {
        auto m = reg_get<mtia::Model>(kModel, model);
        auto s = reg_get<mtia::Stream>(kStream, stream);
        // Hold the buffers for the call; the job keeps them alive after it.
        std::vector<std::shared_ptr<mtia::Buffer>> held;
        std::vector<mtia::BufferTensor> in(n_inputs), out(n_outputs);
        for (size_t i = 0; i < n_inputs; i++) {
            held.push_back(reg_get<mtia::Buffer>(kBuffer, inputs[i]));
            in[i] = {held.back().get(), input_offsets[i]};
        }
        for (size_t i = 0; i < n_outputs; i++) {
            held.push_back(reg_get<mtia::Buffer>(kBuffer, outputs[i]));
            out[i] = {held.back().get(), output_offsets[i]};
        }
        m->run_async(*s, in, out);
    });
}

mtia_status mtia_model_batch_buckets(const mtia_model *model, uint32_t *buckets, size_t *count)
{
    if (!count) return invalid("count is NULL");
    if (*count && !buckets) return invalid("buckets is NULL");
    return guarded([&] {
        const auto &b = reg_get<mtia::Model>(kModel, model)->batch_buckets();
        for (size_t k = 0; k < b.size() && k < *count; k++) buckets[k] = b[k];
        *count = b.size();
    });
}

mtia_status mtia_model_compute_dtypes(const mtia_model *model, uint32_t *dtypes, size_t *count)
{
    if (!count) return invalid("count is NULL");
    if (*count && !dtypes) return invalid("dtypes is NULL");
    return guarded([&] {
        const auto &d = reg_get<mtia::Model>(kModel, model)->compute_dtypes();
        for (size_t k = 0; k < d.size() && k < *count; k++) dtypes[k] = static_cast<uint32_t>(d[k]);
        *count = d.size();
    });
}

static mtia_status batch_axis(const mtia_model *model, size_t index, int32_t *axis, bool input)
{
    if (!axis) return invalid("axis is NULL");
    return guarded([&] { *axis = tensor_at(*reg_get<mtia::Model>(kModel, model), index, input).batch_axis; });
}

mtia_status mtia_model_input_batch_axis(const mtia_model *model, size_t index, int32_t *axis)
{
    return batch_axis(model, index, axis, true);
}

mtia_status mtia_model_output_batch_axis(const mtia_model *model, size_t index, int32_t *axis)
{
    return batch_axis(model, index, axis, false);
}

}  // extern "C"
