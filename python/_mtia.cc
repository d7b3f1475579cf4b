// SPDX-License-Identifier: MIT
// Python bindings of libmtia's C++ API (module mtia._mtia; python/mtia/ is
// the package users import). Thin by design: every object wraps the C++
// handle of the same name, every error is mtia.Error carrying the runtime's
// status and message, and long waits release the GIL.
//
// NumPy: a Buffer exposes its mapped memory through the buffer protocol
// (np.asarray(buf) and memoryview(buf) are views, no copy; the view keeps
// the Buffer alive). Model.run() takes NumPy arrays, checks dtype, shape and
// layout against the model before anything runs, and returns new arrays;
// bfloat16 tensors, which NumPy lacks, are float32 arrays on this side.
// Quantized (I8/U8) tensors are int8/uint8 arrays of the raw q; run(...,
// convert=True) takes float arrays for float and quantized inputs as
// mtia-run --convert does (rounded, or quantized with the input's scale and
// zero point: mtia::quantize), and quantize()/dequantize() convert arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "mtia/compiler.hpp"
#include "mtia/mtia.hpp"
#include "mtia/mtia_fp16.h"

namespace py = pybind11;

namespace mtia::python {
namespace {

py::object g_error;          // mtia.Error (a RuntimeError with .status, .status_name)
py::object g_compile_error;  // mtia.CompileError (a ValueError with .kind)

// NumPy dtype of a model tensor type as Python sees it. NumPy has no
// bfloat16: a BF16 tensor is float32 on the Python side (inputs rounded to
// nearest even, outputs widened exactly, with mtia_fp16.h's conversions).
py::dtype numpy_dtype(DType t)
{
    switch (t) {
        case DType::F32:
        case DType::BF16:
            return py::dtype::of<float>();
        case DType::I32:
            return py::dtype::of<int32_t>();
        case DType::I64:
            return py::dtype::of<int64_t>();
        case DType::Bool:
            return py::dtype::of<bool>();
        case DType::F16:
            return py::dtype("float16");
        case DType::I8:
            return py::dtype::of<int8_t>();
        case DType::U8:
            return py::dtype::of<uint8_t>();
    }
    throw Error(MTIA_ERROR_INTERNAL, "tensor dtype " + std::to_string(static_cast<int>(t)) + " has no NumPy type");
}

std::string shape_str(const std::vector<ssize_t> &s)
{
    std::string r = "(";
    for (size_t i = 0; i < s.size(); i++) r += (i ? ", " : "") + std::to_string(s[i]);
    return r + (s.size() == 1 ? ",)" : ")");
}

bool is_float_array(const py::array &a)
{
    return a.dtype().is(py::dtype::of<float>()) || a.dtype().is(py::dtype("float16"));
}

bool takes_reals(DType t) { return t == DType::F32 || t == DType::F16 || t == DType::BF16 || is_quantized(t); }

// ", scale 0.5, zero point 128" for a quantized tensor.
std::string quant_str(const TensorInfo &t)
{
    if (!is_quantized(t.dtype)) return "";
    char s[64];
    std::snprintf(s, sizeof(s), ", scale %.9g, zero point %d", static_cast<double>(t.scale), t.zero_point);
    return s;
}

// What a dtype mismatch of input t says it takes.
std::string takes(const TensorInfo &t)
{
    if (t.dtype == DType::BF16) return "bfloat16, given as float32 (rounded to nearest even; NumPy has no bfloat16)";
    std::string s = py::str(numpy_dtype(t.dtype)).cast<std::string>() + quant_str(t);
    if (takes_reals(t.dtype))
        s += is_quantized(t.dtype) ? " (convert=True quantizes a float array with them)"
                                   : " (convert=True converts a float array)";
    return s;
}

// Checks a run's inputs against the model: count, dtype (with convert a
// float array for a float or quantized input), shape, C order. A mismatch
// is a ValueError naming the input. A bucketed model's batched inputs may
// have any dim 0 (libmtia checks it against the buckets); returns that
// batch (0 for a model without buckets).
size_t check_inputs(const Model &m, const std::vector<py::array> &in, bool convert)
{
    size_t batch = 0;
    const auto &info = m.inputs();
    if (in.size() != info.size()) {
        throw py::value_error("model takes " + std::to_string(info.size()) + " input(s), got " +
                              std::to_string(in.size()));
    }
    for (size_t i = 0; i < in.size(); i++) {
        const auto &t = info[i];
        std::vector<ssize_t> want(t.shape.begin(), t.shape.end());
        std::vector<ssize_t> got(in[i].shape(), in[i].shape() + in[i].ndim());
        if (t.batch_axis == 0 && !got.empty() && got.size() == want.size()) {
            want[0] = got[0];
            batch = static_cast<size_t>(got[0]);
        }
        const bool converted = convert && is_float_array(in[i]) && takes_reals(t.dtype);
        if (!in[i].dtype().is(numpy_dtype(t.dtype)) && !converted) {
            throw py::value_error("input " + std::to_string(i) + " ('" + t.name + "'): dtype " +
                                  py::str(in[i].dtype()).cast<std::string>() + ", the model takes " + takes(t));
        }
        if (got != want) {
            throw py::value_error("input " + std::to_string(i) + " ('" + t.name + "'): shape " + shape_str(got) +
                                  ", the model takes " + shape_str(want));
        }
        if (!(in[i].flags() & py::array::c_style)) {
            throw py::value_error("input " + std::to_string(i) + " ('" + t.name +
                                  "') is not C-contiguous (use numpy.ascontiguousarray)");
        }
    }
    return batch;
}

// Float values (a float32 array, or any float array cast exactly) -> the
// bytes of float or quantized tensor t: rounded to nearest even to F16/BF16
// (mtia_fp16.h), quantized with t's parameters (mtia::quantize).
std::vector<uint8_t> from_reals(const py::array &a, const TensorInfo &t)
{
    const auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(a);
    const size_t n = static_cast<size_t>(f.size());
    std::vector<uint8_t> out(n * dtype_size(t.dtype));
    const float *x = f.data();
    if (is_quantized(t.dtype)) {
        quantize(t, x, n, out.data());
    } else if (t.dtype == DType::F32) {
        std::memcpy(out.data(), x, n * 4);
    } else {
        for (size_t k = 0; k < n; k++) {
            const uint16_t h = t.dtype == DType::F16 ? mtia_f32_to_f16(x[k]) : mtia_f32_to_bf16(x[k]);
            std::memcpy(out.data() + k * 2, &h, 2);
        }
    }
    return out;
}

py::list run_model(Model &m, const std::vector<py::array> &in, bool convert)
{
    const size_t batch = check_inputs(m, in, convert);
    // BF16 tensors and converted inputs go through host copies in the
    // model's type; BF16 outputs are widened from 16-bit copies.
    std::vector<std::vector<uint8_t>> conv_in(in.size());
    std::vector<std::vector<uint16_t>> bf_out(m.outputs().size());
    std::vector<HostInput> hin;
    for (size_t i = 0; i < in.size(); i++) {
        const auto &a = in[i];
        const TensorInfo &t = m.inputs()[i];
        if (t.dtype != DType::BF16 && a.dtype().is(numpy_dtype(t.dtype))) {
            hin.push_back({a.data(), static_cast<size_t>(a.nbytes())});
            continue;
        }
        conv_in[i] = from_reals(a, t);
        hin.push_back({conv_in[i].data(), conv_in[i].size()});
    }
    std::vector<py::array> out;
    std::vector<HostOutput> hout;
    for (size_t i = 0; i < m.outputs().size(); i++) {
        const auto &t = m.outputs()[i];
        std::vector<ssize_t> shape(t.shape.begin(), t.shape.end());
        if (t.batch_axis == 0 && batch) shape[0] = static_cast<ssize_t>(batch);  // the request's batch
        out.emplace_back(numpy_dtype(t.dtype), shape);
        if (t.dtype == DType::BF16) {
            bf_out[i].resize(static_cast<size_t>(out.back().size()));
            hout.push_back({bf_out[i].data(), bf_out[i].size() * 2});
        } else {
            hout.push_back({out.back().mutable_data(), static_cast<size_t>(out.back().nbytes())});
        }
    }
    {
        py::gil_scoped_release nogil;
        m.run(hin, hout);
    }
    py::list r;
    for (size_t i = 0; i < out.size(); i++) {
        if (!bf_out[i].empty()) {
            auto *f = static_cast<float *>(out[i].mutable_data());
            for (size_t k = 0; k < bf_out[i].size(); k++) f[k] = mtia_bf16_to_f32(bf_out[i][k]);
        }
        r.append(out[i]);
    }
    return r;
}

py::dict tensor_info(const TensorInfo &t)
{
    py::dict d;
    d["name"] = t.name;
    d["dtype"] = numpy_dtype(t.dtype);       // what run() takes/returns (float32 for bf16)
    d["model_dtype"] = dtype_name(t.dtype);  // the tensor's type on the device: "f32", "f16", "bf16", "i8", ...
    d["scale"] = t.scale;                    // I8/U8: real = (q - zero_point) * scale; else 0
    d["zero_point"] = t.zero_point;
    d["shape"] = py::tuple(py::cast(t.shape));
    d["bytes"] = t.bytes;
    d["batch_axis"] = t.batch_axis;
    return d;
}

void bind_device(py::module_ &m)
{
    py::class_<DeviceInfo>(m, "DeviceInfo", "Properties of a device (Device.info).")
        .def_readonly("index", &DeviceInfo::index)
        .def_readonly("name", &DeviceInfo::name)
        .def_readonly("node", &DeviceInfo::node)
        .def_readonly("pci_bus_id", &DeviceInfo::pci_bus_id)
        .def_readonly("driver_version", &DeviceInfo::driver_version)
        .def_readonly("chip_id", &DeviceInfo::chip_id)
        .def_readonly("revision", &DeviceInfo::revision)
        .def_readonly("pe_rows", &DeviceInfo::pe_rows)
        .def_readonly("pe_cols", &DeviceInfo::pe_cols)
        .def_readonly("sram_bytes", &DeviceInfo::sram_bytes)
        .def_readonly("devmem_bytes", &DeviceInfo::devmem_bytes)
        .def_readonly("fw_version", &DeviceInfo::fw_version)
        .def_readonly("serial", &DeviceInfo::serial)
        .def("__repr__", [](const DeviceInfo &i) {
            return "<mtia.DeviceInfo " + std::to_string(i.index) + ": " + i.name + " at " + i.pci_bus_id + ">";
        });

    py::class_<MemoryInfo>(m, "MemoryInfo", "Device memory as this process sees it (Device.memory_info()).")
        .def_readonly("total_bytes", &MemoryInfo::total_bytes)
        .def_readonly("free_bytes", &MemoryInfo::free_bytes)
        .def_readonly("allocated_bytes", &MemoryInfo::allocated_bytes, "this process's live device buffers")
        .def_readonly("peak_bytes", &MemoryInfo::peak_bytes, "most allocated_bytes since start or reset")
        .def_readonly("allocations", &MemoryInfo::allocations, "number of this process's live device buffers")
        .def("__repr__", [](const MemoryInfo &i) {
            return "<mtia.MemoryInfo free " + std::to_string(i.free_bytes) + " of " + std::to_string(i.total_bytes) +
                   ", allocated " + std::to_string(i.allocated_bytes) + ", peak " + std::to_string(i.peak_bytes) + ">";
        });

    py::class_<Device>(m, "Device",
                       "An open mtia device: Device(index) or Device('0000:00:03.0' / serial / '1') opens it.")
        .def(py::init([](int index) { return Device::open(index); }), py::arg("index") = 0)
        .def(py::init([](const std::string &id) { return Device::open(id); }), py::arg("id"))
        .def_static("open_node", &Device::open_node, py::arg("node"), py::arg("index") = -1)
        .def_property_readonly("info", &Device::info)
        .def_property_readonly("is_open", &Device::is_open)
        .def("close", &Device::close, "Closes the device now; its objects then raise mtia.Error.")
        .def("synchronize", &Device::synchronize, py::call_guard<py::gil_scoped_release>(),
             "Waits for every stream of this process on the device; raises mtia.Error for a failed job.")
        .def("default_stream", &Device::default_stream, "The device's default stream (the same one every call).")
        .def("memory_info", &Device::memory_info, "Free/total device memory and this process's allocated/peak.")
        .def("reset_peak_memory", &Device::reset_peak_memory, "Starts the peak afresh at what is allocated now.")
        .def("__enter__", [](Device &d) -> Device & { return d; })
        .def("__exit__", [](Device &d, py::args) { d.close(); })
        .def("__repr__", [](const Device &d) {
            return "<mtia.Device " + std::to_string(d.info().index) + " " + d.info().pci_bus_id +
                   (d.is_open() ? "" : " (closed)") + ">";
        });
    m.def("device_count", &device_count, "Number of visible mtia devices (MTIA_VISIBLE_DEVICES applied).");
    m.def("device_nodes", &device_nodes, "Every accel node driven by the mtia driver, in minor order.");
    m.def("visible_device_nodes", &visible_device_nodes, "The nodes this process uses, in runtime index order.");
    m.def(
        "status_name", [](int s) { return std::string(mtia_status_name(static_cast<mtia_status>(s))); },
        py::arg("status"), "Name of an mtia_status, e.g. 'MTIA_ERROR_NO_DEVICE'.");
    m.def(
        "status_string", [](int s) { return std::string(mtia_status_string(static_cast<mtia_status>(s))); },
        py::arg("status"), "What an mtia_status means, in words.");
}

void bind_memory(py::module_ &m)
{
    py::enum_<Placement>(m, "Placement").value("HOST", Placement::Host).value("DEVICE", Placement::Device);
    py::enum_<Priority>(m, "Priority")
        .value("LOW", Priority::Low)
        .value("NORMAL", Priority::Normal)
        .value("HIGH", Priority::High);

    py::class_<Buffer>(m, "Buffer", py::buffer_protocol(),
                       "Memory the device reaches: host (DMA) or device memory. Supports the buffer "
                       "protocol: numpy.asarray(buf) is a uint8 view, no copy.")
        .def(py::init([](const Device &d, size_t size, Placement p) { return Buffer(d, size, p); }), py::arg("device"),
             py::arg("size"), py::arg("placement") = Placement::Device)
        .def_property_readonly("size", &Buffer::size)
        .def_property_readonly("placement", &Buffer::placement)
        .def("free", &Buffer::free, "Drops the buffer now; queued work using it still completes.")
        .def("__len__", &Buffer::size)
        .def_buffer([](Buffer &b) {
            return py::buffer_info(b.map(), 1, py::format_descriptor<uint8_t>::format(), 1,
                                   {static_cast<ssize_t>(b.size())}, {1});
        });
}

// A C-contiguous view of a bytes-like object: pointer and byte length.
py::buffer_info contiguous(const py::buffer &b, bool writable, const char *what)
{
    py::buffer_info i = b.request(writable);
    ssize_t expect = i.itemsize;
    for (ssize_t d = i.ndim - 1; d >= 0; d--) {
        if (i.strides[d] != expect && i.shape[d] > 1) {
            throw py::value_error(std::string(what) + " is not C-contiguous (use numpy.ascontiguousarray)");
        }
        expect *= i.shape[d];
    }
    return i;
}

void copy_from_host(Stream &s, Buffer &dst, size_t dst_offset, const py::buffer &src)
{
    py::buffer_info i = contiguous(src, false, "src");
    const size_t len = static_cast<size_t>(i.size * i.itemsize);
    py::gil_scoped_release nogil;
    s.copy_from_host(dst, dst_offset, i.ptr, len);
}

void copy_to_host(Stream &s, const py::buffer &dst, const Buffer &src, size_t src_offset)
{
    py::buffer_info i = contiguous(dst, true, "dst");
    const size_t len = static_cast<size_t>(i.size * i.itemsize);
    py::gil_scoped_release nogil;
    s.copy_to_host(i.ptr, src, src_offset, len);
}

void bind_streams(py::module_ &m)
{
    py::class_<Event>(m, "Event", "A point in a stream's work, with a device timestamp.")
        .def(py::init<const Device &>(), py::arg("device"))
        .def("query", &Event::query, "True if the recorded work is done; never blocks.")
        .def("wait", &Event::wait, py::arg("timeout_ms") = -1, py::call_guard<py::gil_scoped_release>(),
             "Waits (timeout_ms < 0: forever); False on timeout. Raises mtia.Error if the work failed.")
        .def("synchronize", &Event::synchronize, py::call_guard<py::gil_scoped_release>())
        .def_property_readonly("recorded", &Event::recorded)
        .def("elapsed_ms", &Event::elapsed_ms, py::arg("end"), py::call_guard<py::gil_scoped_release>(),
             "Device time from this event to end, in ms (both recorded; waits).")
        .def("device_estimate_ns", &Event::device_estimate_ns, py::call_guard<py::gil_scoped_release>());

    py::class_<Stream>(m, "Stream", "An in-order device queue; operations are asynchronous.")
        .def(py::init<const Device &, Priority>(), py::arg("device"), py::arg("priority") = Priority::Normal)
        .def("copy", &Stream::copy, py::arg("dst"), py::arg("dst_offset"), py::arg("src"), py::arg("src_offset"),
             py::arg("size"))
        .def("fill", &Stream::fill, py::arg("dst"), py::arg("offset"), py::arg("size"), py::arg("value"))
        .def("record", &Stream::record, py::arg("event"))
        .def("wait_event", &Stream::wait, py::arg("event"), "Later work of this stream waits for event.")
        .def("flush", &Stream::flush)
        .def("synchronize", &Stream::synchronize, py::call_guard<py::gil_scoped_release>(),
             "Waits for all submitted work; raises mtia.Error for a failed job.")
        .def("query", &Stream::query, "True if all of the stream's work is done; never blocks.")
        .def("copy_from_host", &copy_from_host, py::arg("dst"), py::arg("dst_offset"), py::arg("src"),
             "Copies a contiguous bytes-like object (bytes, NumPy array, memoryview) into dst at dst_offset, "
             "staged through pinned buffers; returns once src has been read.")
        .def("copy_to_host", &copy_to_host, py::arg("dst"), py::arg("src"), py::arg("src_offset"),
             "Fills a writable contiguous bytes-like object from src at src_offset after the stream's earlier "
             "work; returns when it is filled.")
        .def_property_readonly("queue_id", &Stream::queue_id)
        .def_property_readonly("priority", &Stream::priority);
}

void bind_model(py::module_ &m)
{
    py::class_<Model>(m, "Model", "A compiled model (.mtia, from mtia-compile) loaded on a device.")
        .def(py::init([](const Device &d, const std::string &path) { return Model::load_file(d, path); }),
             py::arg("device"), py::arg("path"))
        .def_static(
            "from_bytes",
            [](const Device &d, py::bytes data) {
                std::string_view v(data);
                return Model::load_memory(d, v.data(), v.size());
            },
            py::arg("device"), py::arg("data"))
        .def_property_readonly("name", &Model::name)
        .def_property_readonly("inputs",
                               [](const Model &mo) {
                                   py::list l;
                                   for (const auto &t : mo.inputs()) l.append(tensor_info(t));
                                   return l;
                               })
        .def_property_readonly("outputs",
                               [](const Model &mo) {
                                   py::list l;
                                   for (const auto &t : mo.outputs()) l.append(tensor_info(t));
                                   return l;
                               })
        .def_property_readonly("batch_buckets", &Model::batch_buckets,
                               "The batch buckets (mtia-compile --batch-buckets), ascending; [] without. run() "
                               "takes any batch up to the largest; inputs/outputs describe the largest "
                               "(batch_axis 0 on the batched ones).")
        .def_property_readonly("last_batch", &Model::last_batch, "The bucket the latest run used (0: none).")
        .def_property_readonly(
            "compute_dtypes",
            [](const Model &mo) {
                py::list l;
                for (DType t : mo.compute_dtypes()) l.append(dtype_name(t));
                return l;
            },
            "The float and quantized types the program's tensors use, ascending: ['f32'] for a float32 model, "
            "['f32', 'bf16'] for one compiled with dtype='bf16', ['f32', 'i8'] for a quantized one.")
        .def_property_readonly("num_ops", &Model::num_ops)
        .def_property_readonly("flops", &Model::flops)
        .def("run", &run_model, py::arg("inputs"), py::arg("convert") = false,
             "Runs one inference on NumPy arrays (the model's dtypes and shapes, C order; float16 for f16 "
             "tensors, float32 for bf16 ones, rounded to nearest even on the way in and widened exactly on "
             "the way out; int8/uint8 for quantized ones, the raw q) and returns the outputs as new arrays. "
             "convert=True also takes a float32/float16 array for any float or quantized input, rounded to its "
             "type or quantized with its scale and zero point (as mtia-run --convert). With batch buckets, the "
             "batched inputs' dim 0 is any batch up to the largest bucket and the batched outputs have that "
             "batch.")
        .def(
            "run_async",
            [](Model &mo, Stream &s, std::vector<Buffer *> in, std::vector<Buffer *> out) {
                std::vector<BufferTensor> bi, bo;
                for (auto *b : in) bi.push_back({b, 0});
                for (auto *b : out) bo.push_back({b, 0});
                mo.run_async(s, bi, bo);
            },
            py::arg("stream"), py::arg("inputs"), py::arg("outputs"),
            "Queues one inference on stream reading each input from and writing each output to the start of "
            "a Buffer; record an Event after it to wait.")
        .def("device_estimate_ns", &Model::device_estimate_ns, py::call_guard<py::gil_scoped_release>());
}

// The quantized type a NumPy dtype stands for (int8 -> I8, uint8 -> U8).
DType quant_dtype(const py::dtype &dt, const char *what)
{
    if (dt.is(py::dtype::of<int8_t>())) return DType::I8;
    if (dt.is(py::dtype::of<uint8_t>())) return DType::U8;
    throw py::value_error(std::string(what) + ": dtype " + py::str(py::handle(dt)).cast<std::string>() +
                          " (int8 or uint8)");
}

TensorInfo quant_info(DType t, float scale, int32_t zero_point)
{
    TensorInfo i;
    i.name = "array";
    i.dtype = t;
    i.scale = scale;
    i.zero_point = zero_point;
    return i;
}

py::array quantize_py(const py::array &x, float scale, int32_t zero_point, const py::object &dtype)
{
    const TensorInfo t = quant_info(quant_dtype(py::dtype::from_args(dtype), "quantize"), scale, zero_point);
    const auto f = py::array_t<float, py::array::c_style | py::array::forcecast>::ensure(x);
    if (!f)
        throw py::value_error("quantize: the values are not float (dtype " + py::str(x.dtype()).cast<std::string>() +
                              ")");
    py::array out(numpy_dtype(t.dtype), std::vector<ssize_t>(f.shape(), f.shape() + f.ndim()));
    quantize(t, f.data(), static_cast<size_t>(f.size()), out.mutable_data());
    return out;
}

py::array dequantize_py(const py::array &q, float scale, int32_t zero_point)
{
    const TensorInfo t = quant_info(quant_dtype(q.dtype(), "dequantize"), scale, zero_point);
    const py::array c = py::array::ensure(q, py::array::c_style);
    py::array_t<float> out(std::vector<ssize_t>(c.shape(), c.shape() + c.ndim()));
    dequantize(t, c.data(), static_cast<size_t>(c.size()), out.mutable_data());
    return out;
}

void bind_quant(py::module_ &m)
{
    m.def("quantize", &quantize_py, py::arg("x"), py::arg("scale"), py::arg("zero_point"),
          py::arg("dtype") = py::dtype::of<int8_t>(),
          "Real values (a float array) -> an int8 or uint8 array: x / scale rounded half to even, plus "
          "zero_point, saturated (include/mtia/mtia_quant.h, the device's rule; NaN -> zero_point). For a "
          "quantized input: quantize(x, info['scale'], info['zero_point'], info['dtype']).");
    m.def("dequantize", &dequantize_py, py::arg("q"), py::arg("scale"), py::arg("zero_point"),
          "An int8 or uint8 array -> its real values, float32: (q - zero_point) * scale. For a quantized "
          "output: dequantize(y, info['scale'], info['zero_point']).");
}

const char *compile_error_kind(CompileError::Kind k)
{
    switch (k) {
        case CompileError::Kind::Usage:
            return "usage";
        case CompileError::Kind::BadInput:
            return "bad_input";
        case CompileError::Kind::Unsupported:
            return "unsupported";
        case CompileError::Kind::Internal:
            break;
    }
    return "internal";
}

py::bytes compile_onnx_py(const py::bytes &data, const py::object &input_shapes, const std::string &name,
                          const py::object &batch_buckets, const std::string &dtype, const std::string &quantize,
                          const py::object &calibration, const std::string &calibration_method)
{
    CompileOptions opts;
    opts.name = name;
    opts.dtype = dtype;
    opts.quantize = quantize;
    // A path (str or os.PathLike).
    if (!calibration.is_none())
        opts.calibration = py::module_::import("os").attr("fspath")(calibration).cast<std::string>();
    opts.calibration_method = calibration_method;
    if (!batch_buckets.is_none()) {
        opts.batch_buckets = batch_buckets.cast<std::vector<uint32_t>>();
        // [] would mean "no buckets" to the library: asking for none is an error here.
        if (opts.batch_buckets.empty())
            throw CompileError(CompileError::Kind::Usage, "--batch-buckets: the list is empty");
    }
    if (!input_shapes.is_none()) {
        for (auto item : input_shapes.cast<py::dict>()) {
            opts.input_shapes[item.first.cast<std::string>()] = item.second.cast<std::vector<int64_t>>();
        }
    }
    std::string_view v(data);
    std::string out;
    {
        py::gil_scoped_release nogil;
        out = compile_onnx(v.data(), v.size(), opts);
    }
    return py::bytes(out);
}

void bind_compiler(py::module_ &m)
{
    m.def("compile_onnx", &compile_onnx_py, py::arg("data"), py::arg("input_shapes") = py::none(), py::arg("name") = "",
          py::arg("batch_buckets") = py::none(), py::arg("dtype") = "", py::arg("quantize") = "",
          py::arg("calibration") = py::none(), py::arg("calibration_method") = "",
          "Compiles an ONNX model (bytes) to a .mtia image (bytes), as mtia-compile does. input_shapes: "
          "{input name: dims} fixing inputs' shapes; name: the model's name ('' keeps the graph's); "
          "batch_buckets: ascending batch sizes, one program each (mtia-compile --batch-buckets); dtype: 'fp16' or "
          "'bf16' computes in 16 bits where safe (mtia-compile --dtype); quantize: 'int8' quantizes a float model "
          "calibrated on calibration, the path of a NumPy .npz of representative inputs, with calibration_method "
          "'minmax' (default), 'percentile' or 'entropy' (mtia-compile --quantize, --calibrate, "
          "--calibration-method). Raises mtia.CompileError naming the node and op (or value) at fault.");
    m.def("compiler_version", &compiler_version, "The compiler's version, as in .mtia files' producer.");
}

}  // namespace
}  // namespace mtia::python

PYBIND11_MODULE(_mtia, m)
{
    using namespace mtia::python;
    m.doc() = "libmtia bindings; import mtia, not this module.";
    g_error = py::module_::import("mtia._error").attr("Error");
    g_compile_error = py::module_::import("mtia._error").attr("CompileError");
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const mtia::Error &e) {
            py::object exc = g_error(e.what(), static_cast<int>(e.status()), mtia_status_name(e.status()));
            PyErr_SetObject(g_error.ptr(), exc.ptr());
        } catch (const mtia::CompileError &e) {
            py::object exc = g_compile_error(e.what(), compile_error_kind(e.kind()));
            PyErr_SetObject(g_compile_error.ptr(), exc.ptr());
        }
    });
    int ma = 0, mi = 0, pa = 0;
    mtia_runtime_version(&ma, &mi, &pa);
    m.attr("runtime_version") = py::make_tuple(ma, mi, pa);
    bind_device(m);
    bind_memory(m);
    bind_streams(m);
    bind_model(m);
    bind_quant(m);
    bind_compiler(m);
}
