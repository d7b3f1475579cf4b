// SPDX-License-Identifier: MIT
/// @file mtia.hpp
/// libmtia C++ API. Errors are thrown as mtia::Error carrying the same
/// mtia_status codes the C API returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "mtia/mtia.h"

/// libmtia's C++ API: devices, buffers, streams, events and models.
namespace mtia {

/// Every failure the C++ API reports: what() is the one-line detail, status()
/// the mtia_status the C API would return.
class Error : public std::runtime_error {
public:
    /// An error with its status and detail message.
    Error(mtia_status status, const std::string &detail);
    /// The mtia_status code (negative).
    mtia_status status() const noexcept { return status_; }

private:
    mtia_status status_;
};

/// Properties of an open device (Device::info()); see mtia_device_info.
struct DeviceInfo {
    int index = -1;                 ///< runtime device index
    std::string name;               ///< marketing name, e.g. "MTIA v1 (emulated)"
    std::string node;               ///< /dev/accel/accelN
    std::string pci_bus_id;         ///< e.g. 0000:00:03.0
    std::string driver_version;     ///< the mtia driver's version, e.g. "0.1.0"
    uint32_t chip_id = 0;           ///< MTIA_CHIP_ID_* (see chip_name())
    uint32_t revision = 0;          ///< chip revision
    uint32_t if_version_major = 0;  ///< device interface version, major
    uint32_t if_version_minor = 0;  ///< device interface version, minor
    uint32_t pe_rows = 0;           ///< PE grid rows
    uint32_t pe_cols = 0;           ///< PE grid columns
    uint64_t sram_bytes = 0;        ///< on-chip SRAM
    uint64_t devmem_bytes = 0;      ///< device memory
    uint32_t fw_version = 0;        ///< running firmware, MTIA_FW_VERSION(); 0: none
    uint32_t msix_vectors = 0;      ///< MSI-X vectors the device has
    std::string serial;             ///< board serial (16 hex digits, sysfs); "" if unknown
};

/// Device memory as seen by this process (Device::memory_info()), like
/// cudaMemGetInfo plus torch.cuda.memory_stats's allocated/peak counters.
struct MemoryInfo {
    uint64_t total_bytes = 0;      ///< device memory buffers can take (sysfs mem_total; less the firmware reserve)
    uint64_t free_bytes = 0;       ///< not in any buffer of any process (total - mem_used)
    uint64_t allocated_bytes = 0;  ///< in this process's live device buffers (page-rounded)
    uint64_t peak_bytes = 0;       ///< most allocated_bytes since start or reset_peak_memory()
    uint64_t allocations = 0;      ///< this process's live device buffers
};

/// Directory searched for accel nodes: $MTIA_ACCEL_DIR or /dev/accel.
std::string accel_dir();

/// Device nodes driven by the mtia driver, in accel minor order.
std::vector<std::string> device_nodes();
/// The device nodes this process uses, in runtime index order: all of
/// device_nodes(), or those $MTIA_VISIBLE_DEVICES names. That is a comma
/// list of physical indices (positions in device_nodes()) or serials, in the
/// order given; like CUDA_VISIBLE_DEVICES an entry that names no device (or
/// one already listed) ends the list; set but empty: no device.
std::vector<std::string> visible_device_nodes();
/// Number of devices this process sees (visible_device_nodes().size()); 0 is
/// not an error.
int device_count();
/// The board serial of the device behind an accel node (sysfs), "" if unknown.
std::string device_serial(const std::string &node);

class Stream;

/// @cond INTERNAL

namespace detail {
struct DeviceState;
struct BufferState;
struct StreamState;
struct EventState;
struct ModelState;
}  // namespace detail
/// @endcond

/// Device, Buffer, Stream and Event are handles with shared ownership of the
/// device's open file: objects may be destroyed in any order. After
/// Device::close() every operation on the device or on an object made from
/// it throws Error(MTIA_ERROR_INVALID_HANDLE, "... device closed").
class Device {
public:
    /// Opens the index-th visible mtia device (visible_device_nodes()); throws
    /// Error(MTIA_ERROR_NO_DEVICE, ...) if there is none.
    static Device open(int index);
    /// Opens a visible device by id: a runtime index ("1"), a PCI bus id
    /// ("0000:00:03.0" or "00:03.0") or a serial (case-insensitive); throws
    /// Error(MTIA_ERROR_NO_DEVICE) if none matches.
    static Device open(const std::string &id);
    /// Opens a node by path; throws if it is not driven by the mtia driver.
    static Device open_node(const std::string &node, int index = -1);

    ///@{
    /// Handles move (the device stays open in the moved-to object) and do
    /// not copy; the destructor closes the device unless others still use it.
    Device(Device &&) noexcept;
    Device &operator=(Device &&) noexcept;
    ~Device();
    ///@}

    /// The device's properties, read when it was opened.
    const DeviceInfo &info() const noexcept { return info_; }
    /// The DRM fd; -1 once closed.
    int fd() const noexcept;
    /// False once close() ran.
    bool is_open() const noexcept;
    /// Closes the device now (waits for operations running in other threads);
    /// idempotent. The kernel frees this file's buffers and queues.
    void close() noexcept;

    /// Waits for the work of every stream this process made on this open
    /// device (Streams, the default stream, models' runs); throws
    /// Error(MTIA_ERROR_IO) for the first failed job after waiting for all.
    void synchronize();
    /// The device's default stream (Priority::Normal), made on first use and
    /// shared by every caller of this Device: each call returns a handle to
    /// the same stream. It lives until the Device is closed or destroyed.
    Stream default_stream();
    /// Free/total device memory (driver sysfs) and this process's allocated
    /// and peak device-buffer bytes on this device (counted by libmtia).
    MemoryInfo memory_info() const;
    /// Starts peak_bytes afresh at the bytes allocated now.
    void reset_peak_memory();

    /// @cond INTERNAL
    const std::shared_ptr<detail::DeviceState> &state() const noexcept { return state_; }
    /// @endcond

private:
    Device(int fd, DeviceInfo info);

    std::shared_ptr<detail::DeviceState> state_;
    DeviceInfo info_;
    std::shared_ptr<detail::StreamState> default_stream_;
};

/// Where a Buffer lives (mtia_placement).
enum class Placement {
    Host = 0,   ///< host memory the device reaches by DMA
    Device = 1  ///< device memory (BAR2), also mappable
};
/// A Stream's scheduling class (mtia_priority).
enum class Priority {
    Low = 0,     ///< runs after Normal and High work
    Normal = 1,  ///< the default
    High = 2     ///< runs first
};

/// A buffer object (GEM BO) in host or device memory.
class Buffer {
public:
    /// An empty handle (operator bool() is false).
    Buffer() = default;
    /// size > 0; rounded up to the page size by the driver, but size() and all
    /// bounds checks use the size asked for.
    Buffer(const Device &device, size_t size, Placement placement = Placement::Device);
    ///@{
    /// Handles move and do not copy; the BO goes when the last handle and
    /// the last queued work using it are gone.
    Buffer(Buffer &&) noexcept = default;
    Buffer &operator=(Buffer &&) noexcept = default;
    ~Buffer() = default;
    ///@}

    /// Bytes asked for at creation.
    size_t size() const;
    /// Host or device memory.
    Placement placement() const;
    /// CPU pointer (mmap of the BO, made on first call; valid until freed).
    void *map();
    /// map() as a T pointer.
    template <typename T>
    T *map_as()
    {
        return static_cast<T *>(map());
    }
    /// The GEM handle (for raw ioctls on the device's fd).
    uint32_t handle() const;
    uint64_t devmem_offset() const;  ///< for device buffers
    /// Drops this handle; the BO goes once queued work using it is done.
    void free() noexcept { state_.reset(); }
    /// True unless empty or freed.
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }

    /// @cond INTERNAL
    Buffer(const std::shared_ptr<detail::DeviceState> &device, size_t size, Placement placement);
    const std::shared_ptr<detail::BufferState> &state() const noexcept { return state_; }
    /// @endcond

private:
    std::shared_ptr<detail::BufferState> state_;
};

/// A point in a stream's work: a syncobj (the job's fence) plus a device
/// timestamp written by the job.
class Event {
public:
    /// An empty handle.
    Event() = default;
    /// A new event of device, not yet recorded.
    explicit Event(const Device &device);
    ///@{
    /// Handles move and do not copy.
    Event(Event &&) noexcept = default;
    Event &operator=(Event &&) noexcept = default;
    ~Event() = default;
    ///@}

    /// true if the recorded work completed (or nothing was recorded); throws
    /// Error(MTIA_ERROR_IO) if it failed on the device. Never blocks.
    bool query();
    /// Waits up to timeout_ms (< 0: forever); false on timeout; throws like query().
    bool wait(int64_t timeout_ms = -1);
    /// wait() without a timeout.
    void synchronize() { wait(-1); }
    /// True once Stream::record() recorded it.
    bool recorded() const;
    /// Device time (ns) the event's TIMESTAMP command wrote; waits for it.
    uint64_t timestamp_ns();
    /// Device time from start to end in ms; both must be recorded. Waits.
    static double elapsed_ms(Event &start, Event &end);
    /// The device's estimate (its timing model, MTIA v1 figures scaled to
    /// the PE grid) of the compute time of the job the event was recorded
    /// into, ns; 0 if that job ran no compute program. Waits.
    uint64_t device_estimate_ns();

    /// @cond INTERNAL
    explicit Event(const std::shared_ptr<detail::DeviceState> &device);
    const std::shared_ptr<detail::EventState> &state() const noexcept { return state_; }
    /// @endcond

private:
    std::shared_ptr<detail::EventState> state_;
};

/// An in-order device queue. copy/fill are queued on the host and submitted
/// as one job (SUBMIT) at flush(), record(), wait(), synchronize(), or when
/// the batch is full (see docs/runtime.md).
class Stream {
public:
    /// An empty handle.
    Stream() = default;
    /// A new queue on device (a driver queue of the priority's class).
    explicit Stream(const Device &device, Priority priority = Priority::Normal);
    ///@{
    /// Handles move and do not copy. The destructor submits queued ops and
    /// destroys the queue (submitted work still completes).
    Stream(Stream &&) noexcept = default;
    Stream &operator=(Stream &&) noexcept = default;
    ~Stream() = default;
    ///@}

    /// Copies len bytes from src at src_offset to dst at dst_offset (any
    /// placements: pinned host Buffers to/from device ones included).
    void copy(Buffer &dst, size_t dst_offset, const Buffer &src, size_t src_offset, size_t len);
    /// Copies len bytes from plain (pageable) host memory at src to dst at
    /// dst_offset, staged through pinned host buffers in chunks, in stream
    /// order. Returns once src has been read (src may then be reused); the
    /// copy itself completes with the stream's work.
    void copy_from_host(Buffer &dst, size_t dst_offset, const void *src, size_t len);
    /// Copies len bytes of src at src_offset to plain host memory at dst,
    /// after the stream's earlier work, staged in chunks; returns when dst
    /// holds them (it waits, like cudaMemcpy to pageable memory).
    void copy_to_host(void *dst, const Buffer &src, size_t src_offset, size_t len);
    /// Sets len bytes of dst at offset to value.
    void fill(Buffer &dst, size_t offset, size_t len, uint8_t value);
    /// len % 8 == 0; the pattern is stored little-endian.
    void fill64(Buffer &dst, size_t offset, size_t len, uint64_t pattern);
    /// A job with one NOP command (submitted at once); for latency tests.
    void nop();
    /// Records event after all earlier work of the stream (submits the batch).
    void record(Event &event);
    /// Later work of the stream waits for event's last recorded work.
    void wait(const Event &event);
    /// Submits the queued ops as one job now.
    void flush();
    /// Waits for all submitted work; throws Error(MTIA_ERROR_IO) for the first
    /// failed job since the last synchronize.
    void synchronize();
    /// Never blocks: submits the queued ops and returns true if all of the
    /// stream's work has completed. Throws like synchronize() (and clears the
    /// error) if a completed job failed.
    bool query();
    /// The driver's queue id.
    uint32_t queue_id() const;
    /// The priority it was created with.
    Priority priority() const;
    /// Jobs submitted so far (for tests and tools).
    uint64_t jobs_submitted() const;

    /// @cond INTERNAL
    explicit Stream(std::shared_ptr<detail::StreamState> state) : state_(std::move(state)) {}
    const std::shared_ptr<detail::StreamState> &state() const noexcept { return state_; }
    /// @endcond

private:
    std::shared_ptr<detail::StreamState> state_;
};

// ---- Models (docs/models.md) --------------------------------------------------

/// Element type of a model tensor (mtia_dtype).
enum class DType {
    F32 = 1,   ///< IEEE-754 binary32
    F16 = 2,   ///< IEEE-754 binary16
    BF16 = 3,  ///< bfloat16 (the top half of a binary32)
    I8 = 4,    ///< quantized int8_t: TensorInfo::scale and zero_point give its real values
    I32 = 5,   ///< int32_t (ids, offsets, lengths)
    I64 = 6,   ///< int64_t (ids: ONNX/PyTorch's index type)
    Bool = 7,  ///< one byte, 0 or 1
    U8 = 8,    ///< quantized uint8_t, as I8
};

/// The model format's name of a type: "f32", "f16", "bf16", "i8", "i32",
/// "i64", "bool" or "u8".
const char *dtype_name(DType t);
/// Bytes per element of t (4, 2 or 1; 8 for I64).
size_t dtype_size(DType t);
/// True for the quantized types, I8 and U8.
bool is_quantized(DType t);

/// A model input or output: dense, row-major.
struct TensorInfo {
    std::string name;             ///< the ONNX value name
    DType dtype = DType::F32;     ///< element type
    std::vector<uint32_t> shape;  ///< 1..6 dims, each >= 1
    size_t bytes = 0;             ///< product(shape) * dtype size
    /// 0 if dim 0 is the batch (a model compiled with batch buckets:
    /// Model::batch_buckets()), -1 if the tensor is not batched.
    int batch_axis = -1;
    /// A quantized (I8/U8) tensor's element q is the real value
    /// (q - zero_point) * scale (quantize(), dequantize()); scale > 0 and
    /// zero_point in the type's range. 0 and 0 for the other types.
    float scale = 0;
    int32_t zero_point = 0;  ///< see scale
};

/// Real values -> the n elements of quantized tensor t (I8 or U8, scale > 0)
/// at q: x / scale rounded half to even, plus zero_point, saturated to the
/// type's range, NaN -> zero_point (include/mtia/mtia_quant.h, the device's
/// and mtia-compile's rule). Throws Error(INVALID_ARGUMENT) if t is not
/// quantized or has no scale.
void quantize(const TensorInfo &t, const float *x, size_t n, void *q);
/// The real values of the n elements of quantized tensor t at q:
/// (q - zero_point) * scale in float32. Throws as quantize().
void dequantize(const TensorInfo &t, const void *q, size_t n, float *x);

/// Host memory of one input (run() copies it in) or one output (run() fills it);
/// bytes must be the tensor's TensorInfo::bytes.
struct HostInput {
    const void *data = nullptr;  ///< the input's bytes
    size_t bytes = 0;            ///< their number
};
/// Host memory run() writes one output to; bytes must be its TensorInfo::bytes.
struct HostOutput {
    void *data = nullptr;  ///< where the output goes
    size_t bytes = 0;      ///< room there
};
/// A tensor's bytes in a Buffer (host or device), for run_async().
struct BufferTensor {
    Buffer *buffer = nullptr;  ///< the buffer holding the tensor
    size_t offset = 0;         ///< its byte offset in the buffer
};

/// The profile of one run of a model (Model::set_profiling, docs/models.md
/// "Profiling"). Device times are on the device clock (TIMESTAMP's, ns);
/// host times on the host's steady clock (CLOCK_MONOTONIC, ns).
struct OpProfile {
    std::string name;              ///< the op's node name in the model
    std::string type;              ///< its kind: "Conv", "Gemm", "Binary", ...
    uint64_t device_start_ns = 0;  ///< device clock
    uint64_t device_end_ns = 0;    ///< device clock
    uint64_t model_ns = 0;         ///< the timing model's MTIA v1 estimate
    uint64_t bytes = 0;            ///< bytes the op reads + writes
};
/// One profiled run of a model: host and device spans and its ops.
struct RunProfile {
    std::string model;             ///< the model's name
    uint64_t host_submit_ns = 0;   ///< the job was submitted (host clock)
    uint64_t host_done_ns = 0;     ///< the runtime saw it complete (host clock)
    uint64_t device_start_ns = 0;  ///< the program's span on the device clock
    uint64_t device_end_ns = 0;    ///< its end
    uint64_t model_ns = 0;         ///< the timing model's estimate of the program
    uint64_t throttle_ns = 0;      ///< of the device span: held for a lowered engine clock
    std::vector<OpProfile> ops;    ///< one per op, in program order
};

/// Writes runs as Chrome trace-event JSON (Perfetto's UI, chrome://tracing):
/// per run a host span (submit to done), the device's program span with one
/// span per op (aligned to the host span's start) and the timing model's
/// spans laid end to end. Throws Error(INVALID_ARGUMENT) if path cannot be
/// written.
void write_chrome_trace(std::ostream &out, const std::vector<RunProfile> &runs);
/// write_chrome_trace() into the file at path.
void write_chrome_trace(const std::string &path, const std::vector<RunProfile> &runs);

/// A compiled model (.mtia, written by mtia-compile) loaded on a device: its
/// arena (weights image + activations) in one device-memory buffer and its
/// program of struct mtia_op in another. Loading checks every index, offset
/// and size of the file: a corrupt or hostile file throws
/// Error(MTIA_ERROR_INVALID_MODEL) saying what is wrong.
///
/// One inference is one job: COPY the inputs into the arena, COMPUTE, COPY
/// the outputs out. All runs of a Model (from any thread, on any stream) are
/// serialised on the device, because they share the arena: each run's job
/// waits for the model's previous one. Model methods are thread-safe.
class Model {
public:
    /// An empty handle.
    Model() = default;
    /// Loads the .mtia file at path onto device.
    static Model load_file(const Device &device, const std::string &path);
    /// Loads a .mtia image from memory (not referenced after the call).
    static Model load_memory(const Device &device, const void *data, size_t size);
    ///@{
    /// Handles move and do not copy; queued runs complete after the last
    /// handle is gone.
    Model(Model &&) noexcept = default;
    Model &operator=(Model &&) noexcept = default;
    ~Model() = default;
    ///@}

    /// The model's name (from the ONNX graph).
    const std::string &name() const;
    /// What produced the file (mtia-compile's version).
    const std::string &producer() const;
    /// The inputs, in order.
    const std::vector<TensorInfo> &inputs() const;
    /// The outputs, in order.
    const std::vector<TensorInfo> &outputs() const;
    /// Ops in the device program.
    size_t num_ops() const;
    uint64_t arena_bytes() const;  ///< device memory the arena takes
    /// Bytes of weights in the arena image.
    uint64_t weight_bytes() const;
    uint64_t flops() const;  ///< per inference, from the compiler
    /// The batch buckets (mtia-compile --batch-buckets), ascending; empty
    /// for a model compiled without. inputs()/outputs() describe the
    /// largest bucket, with TensorInfo::batch_axis 0 on the batched ones.
    const std::vector<uint32_t> &batch_buckets() const;
    /// The float and quantized dtypes the program's tensors use (weights,
    /// activations, inputs, outputs), ascending: {F32} for a float32 model,
    /// {F32, BF16} for one compiled with mtia-compile --dtype bf16 (float32
    /// inputs and outputs cast at the edges), {F32, I8} for a quantized one;
    /// empty if it has none (integers and bool only).
    const std::vector<DType> &compute_dtypes() const;
    /// The bucket the model's latest run used (0: none yet, or no buckets).
    uint32_t last_batch() const;
    /// The device's estimate (timing model) of one inference's compute time,
    /// ns, from the latest run (waits for it); 0 before any run.
    uint64_t device_estimate_ns();

    /// Profiling: while on, each run's device program records per-op device
    /// times, model estimates and bytes (MTIA_CMD_F_PROFILE), copied back
    /// to the host with the outputs. No reload needed; off costs nothing.
    void set_profiling(bool on);
    /// Whether profiling is on.
    bool profiling() const;
    /// The profile of the model's latest run (waits for it). Throws
    /// Error(INVALID_ARGUMENT) if that run was not profiled (or none ran),
    /// Error(IO) if it failed.
    RunProfile profile();

    /// Runs one inference and waits for it. Throws Error(INVALID_ARGUMENT) for
    /// a wrong number or size of inputs/outputs, Error(IO) if the device
    /// failed the job (then the outputs are unspecified). With batch buckets,
    /// the batched inputs hold any batch n up to the largest bucket (their
    /// bytes / bytes per sample, the same n for all) and the batched outputs
    /// n samples: the smallest bucket >= n runs, the inputs padded with
    /// copies of their last sample; a larger n is INVALID_ARGUMENT (split it).
    void run(const std::vector<HostInput> &inputs, const std::vector<HostOutput> &outputs);
    /// Runs inputs.size() requests back to back: request i+1's inputs are
    /// staged while request i runs (two staging buffers). Waits for all.
    void run_batch(const std::vector<std::vector<HostInput>> &inputs,
                   const std::vector<std::vector<HostOutput>> &outputs);
    /// Queues one inference on stream as one job (submitted at once) reading
    /// the inputs from and writing the outputs to buffers, which must stay
    /// untouched until the work completes (stream.synchronize() or an event
    /// recorded after it). No host copy is made. With batch buckets, the
    /// bucket is the one whose size the first batched input's buffer has
    /// from its offset to its end; any other size is INVALID_ARGUMENT.
    void run_async(Stream &stream, const std::vector<BufferTensor> &inputs, const std::vector<BufferTensor> &outputs);

    /// True unless empty.
    explicit operator bool() const noexcept { return static_cast<bool>(state_); }
    /// @cond INTERNAL
    const std::shared_ptr<detail::ModelState> &state() const noexcept { return state_; }
    /// @endcond

private:
    explicit Model(std::shared_ptr<detail::ModelState> state) : state_(std::move(state)) {}
    std::shared_ptr<detail::ModelState> state_;
};

/// "MTIA v1 (emulated)" for a known chip id, "MTIA (chip 0x..)" otherwise.
std::string chip_name(uint32_t chip_id);

}  // namespace mtia
