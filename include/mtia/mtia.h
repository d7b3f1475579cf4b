/* SPDX-License-Identifier: MIT */
/**
 * @file mtia.h
 * libmtia C API: the stable interface to mtia-open accelerators.
 *
 * Every call returns an mtia_status; MTIA_SUCCESS is 0 and errors are
 * negative. mtia_last_error() gives a one-line detail of the calling
 * thread's last failure. Structs passed out carry a struct_size that the
 * caller sets, so they can grow without breaking old binaries.
 */
#ifndef MTIA_MTIA_H
#define MTIA_MTIA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MTIA_RUNTIME_VERSION_MAJOR 0 /**< libmtia's version these headers are of: major */
#define MTIA_RUNTIME_VERSION_MINOR 1 /**< minor */
#define MTIA_RUNTIME_VERSION_PATCH 0 /**< patch */

/** What every call returns: MTIA_SUCCESS or a negative error. */
typedef enum mtia_status {
    MTIA_SUCCESS = 0,                    /**< the call did what it says */
    MTIA_ERROR_INVALID_ARGUMENT = -1,    /**< NULL pointer, bad index, bad size */
    MTIA_ERROR_NO_DEVICE = -2,           /**< no mtia device (or index out of range) */
    MTIA_ERROR_NO_DRIVER = -3,           /**< device present but the mtia driver is not bound */
    MTIA_ERROR_PERMISSION = -4,          /**< the device node cannot be opened: permissions */
    MTIA_ERROR_IO = -5,                  /**< the kernel driver returned an error */
    MTIA_ERROR_VERSION = -6,             /**< driver/runtime interface mismatch */
    MTIA_ERROR_OUT_OF_MEMORY = -7,       /**< host or device memory exhausted */
    MTIA_ERROR_INTERNAL = -8,            /**< a libmtia bug: please report it */
    MTIA_ERROR_TIMEOUT = -9,             /**< a wait with a timeout expired first */
    MTIA_ERROR_INVALID_HANDLE = -10,     /**< freed/destroyed handle, or its device was closed */
    MTIA_ERROR_INVALID_MODEL = -11,      /**< model file corrupt, malformed or of another format version */
    MTIA_ERROR_INDEX_OUT_OF_RANGE = -12, /**< a run's ids/indices input holds a value outside its table */
    MTIA_ERROR_NOT_SUPPORTED = -13,      /**< the driver does not report this value (mtia_mgmt.h) */
    MTIA_ERROR_INSUFFICIENT_SIZE = -14,  /**< an output buffer is too small; the size needed is returned */
} mtia_status;

/** The last (most negative) status code, for iterating over all of them. */
#define MTIA_STATUS_LAST MTIA_ERROR_INSUFFICIENT_SIZE

/** Name of a status, e.g. "MTIA_ERROR_NO_DEVICE". */
const char *mtia_status_name(mtia_status status);
/** What a status means, in words. */
const char *mtia_status_string(mtia_status status);
/** Detail of the calling thread's last failure; "" if none. */
const char *mtia_last_error(void);

/** The version of the libmtia that is running (may be newer than the headers). */
void mtia_runtime_version(int *major, int *minor, int *patch);

/** Number of mtia devices driven by the mtia driver (0 is not an error). */
mtia_status mtia_device_count(int *count);

/** An open device (a handle; see mtia_device_open). */
typedef struct mtia_device mtia_device;

/** Opens the index-th visible mtia device (MTIA_ERROR_NO_DEVICE if there is
 * none). $MTIA_VISIBLE_DEVICES, a comma list of physical indices or serials,
 * selects and orders the visible devices; an entry naming no device (or one
 * already listed) ends the list, like CUDA_VISIBLE_DEVICES. mtia_device_count
 * counts the visible devices. */
mtia_status mtia_device_open(int index, mtia_device **device);
/** Opens a visible device by id: a runtime index ("0"), a PCI bus id
 * ("0000:00:03.0" or "00:03.0") or a serial (case-insensitive);
 * MTIA_ERROR_NO_DEVICE if none matches. */
mtia_status mtia_device_open_by_id(const char *id, mtia_device **device);
/** Closing NULL is allowed and does nothing. */
mtia_status mtia_device_close(mtia_device *device);

/** Properties of an open device (mtia_device_get_info). */
typedef struct mtia_device_info {
    uint32_t struct_size;      /**< caller sets sizeof(mtia_device_info) */
    int32_t index;             /**< runtime device index */
    char name[64];             /**< marketing name, e.g. "MTIA v1 (emulated)" */
    char node[64];             /**< /dev/accel/accelN */
    char pci_bus_id[32];       /**< 0000:00:03.0 */
    char driver_version[32];   /**< "0.1.0" */
    uint32_t chip_id;          /**< MTIA_CHIP_ID_* */
    uint32_t revision;         /**< chip revision */
    uint32_t if_version_major; /**< device interface version, major */
    uint32_t if_version_minor; /**< device interface version, minor */
    uint32_t pe_rows;          /**< PE grid rows */
    uint32_t pe_cols;          /**< PE grid columns */
    uint64_t sram_bytes;       /**< on-chip SRAM */
    uint64_t devmem_bytes;     /**< device memory */
    uint32_t fw_version;       /**< 0: no firmware */
    uint32_t msix_vectors;     /**< MSI-X vectors the device has */
    char serial[32];           /**< board serial, 16 hex digits; "" if unknown */
} mtia_device_info;

/** Fills info (info->struct_size set by the caller). */
mtia_status mtia_device_get_info(const mtia_device *device, mtia_device_info *info);

/** Device memory as this process sees it (mtia_device_memory_info), like
 * cudaMemGetInfo plus torch.cuda.memory_stats's counters. */
typedef struct mtia_memory_info {
    uint32_t struct_size;     /**< caller sets sizeof(mtia_memory_info) */
    uint32_t pad;             /**< zero */
    uint64_t total_bytes;     /**< device memory buffers can take (less the firmware reserve) */
    uint64_t free_bytes;      /**< not in any buffer of any process */
    uint64_t allocated_bytes; /**< in this process's live device buffers (page-rounded) */
    uint64_t peak_bytes;      /**< most allocated_bytes since start or mtia_device_reset_peak_memory */
    uint64_t allocations;     /**< this process's live device buffers */
} mtia_memory_info;

/** Fills info (info->struct_size set by the caller). */
mtia_status mtia_device_memory_info(const mtia_device *device, mtia_memory_info *info);
/** Starts the peak count afresh at the bytes allocated now. */
mtia_status mtia_device_reset_peak_memory(mtia_device *device);

/* ---- Buffers, streams, events ---------------------------------------------
 * Handles are validated: a handle that was freed/destroyed (or never valid)
 * gives MTIA_ERROR_INVALID_HANDLE, never a crash, and so does any use of an
 * object whose device was closed with mtia_device_close(). Objects keep
 * their device's file open, so they may be freed in any order.
 * Out-of-range sizes and offsets give MTIA_ERROR_INVALID_ARGUMENT before
 * anything is submitted. A command that fails on the device makes the next
 * mtia_stream_synchronize()/mtia_event_wait() of that work return
 * MTIA_ERROR_IO, with the completion status in mtia_last_error(); work
 * cancelled by a device reset gives MTIA_ERROR_IO ("cancelled").
 * See docs/runtime.md.
 */
typedef struct mtia_buffer mtia_buffer; /**< memory the device reaches (a GEM BO) */
typedef struct mtia_stream mtia_stream; /**< an in-order queue of device work */
typedef struct mtia_event mtia_event;   /**< a point in a stream's work, with a device timestamp */

/** Where a buffer lives. */
typedef enum mtia_placement {
    MTIA_PLACEMENT_HOST = 0,   /**< host memory the device reaches by DMA */
    MTIA_PLACEMENT_DEVICE = 1, /**< device memory (BAR2), also mappable */
} mtia_placement;

/** A stream's scheduling class. */
typedef enum mtia_priority {
    MTIA_PRIORITY_LOW = 0,    /**< runs after NORMAL and HIGH work */
    MTIA_PRIORITY_NORMAL = 1, /**< the default */
    MTIA_PRIORITY_HIGH = 2,   /**< runs first */
} mtia_priority;

/** A buffer of size bytes (> 0) on device, in host or device memory. */
mtia_status mtia_buffer_create(mtia_device *device, size_t size, mtia_placement placement, mtia_buffer **buffer);
/** Freeing NULL does nothing. Work already queued on it still completes. */
mtia_status mtia_buffer_free(mtia_buffer *buffer);
/** The size asked for at creation. */
mtia_status mtia_buffer_size(const mtia_buffer *buffer, size_t *size);
/** Host or device memory. */
mtia_status mtia_buffer_placement(const mtia_buffer *buffer, mtia_placement *placement);
/** CPU pointer to the buffer (mapped on first call, unmapped when freed). */
mtia_status mtia_buffer_map(mtia_buffer *buffer, void **ptr);

/** An in-order queue of device work. Operations are asynchronous: they are
 * queued and submitted in batches (see mtia_stream_flush). */
mtia_status mtia_stream_create(mtia_device *device, mtia_priority priority, mtia_stream **stream);
/** Waits for the stream's submitted and queued work (as
 * mtia_stream_synchronize), then destroys it. Returns the first failure of
 * that work (MTIA_ERROR_IO) but destroys the stream either way; after
 * mtia_device_close there is nothing to wait for. NULL does nothing. */
mtia_status mtia_stream_destroy(mtia_stream *stream);
/** Copies len bytes from src at src_offset to dst at dst_offset. */
mtia_status mtia_stream_copy(mtia_stream *stream, mtia_buffer *dst, size_t dst_offset, mtia_buffer *src,
                             size_t src_offset, size_t len);
/** Sets len bytes to value. */
mtia_status mtia_stream_fill(mtia_stream *stream, mtia_buffer *dst, size_t offset, size_t len, uint8_t value);
/** Repeats the 8-byte little-endian pattern; len must be a multiple of 8. */
mtia_status mtia_stream_fill64(mtia_stream *stream, mtia_buffer *dst, size_t offset, size_t len, uint64_t pattern);
/** Records event after all earlier work of the stream (submits the batch). */
mtia_status mtia_stream_record(mtia_stream *stream, mtia_event *event);
/** Later work of the stream waits for the event's last recorded work. */
mtia_status mtia_stream_wait_event(mtia_stream *stream, mtia_event *event);
/** Submits the queued operations without waiting. */
mtia_status mtia_stream_flush(mtia_stream *stream);
/** Submits and waits for all of the stream's work; reports device errors. */
mtia_status mtia_stream_synchronize(mtia_stream *stream);
/** Never blocks: submits the queued operations and sets *done = 1 if all of
 * the stream's work has completed, else 0. MTIA_ERROR_IO (as
 * mtia_stream_synchronize) if completed work failed. */
mtia_status mtia_stream_query(mtia_stream *stream, int *done);
/** Copies len bytes from plain host memory at src to dst at dst_offset,
 * staged through pinned host buffers in chunks, in stream order. Returns once
 * src has been read; the copy completes with the stream's work. */
mtia_status mtia_stream_copy_from_host(mtia_stream *stream, mtia_buffer *dst, size_t dst_offset, const void *src,
                                       size_t len);
/** Copies len bytes of src at src_offset to plain host memory at dst after
 * the stream's earlier work; returns when dst holds them. */
mtia_status mtia_stream_copy_to_host(mtia_stream *stream, void *dst, mtia_buffer *src, size_t src_offset, size_t len);
/** Waits for the work of every stream of this process on the device
 * (including models' runs); MTIA_ERROR_IO for the first failure. */
mtia_status mtia_device_synchronize(mtia_device *device);
/** The device's default stream, made on first use: every call returns a new
 * handle to the same stream, to be released with mtia_stream_destroy (which
 * waits for the stream's work; the stream itself lives until the device is
 * closed). */
mtia_status mtia_device_default_stream(mtia_device *device, mtia_stream **stream);

/** A new event of device, not yet recorded. */
mtia_status mtia_event_create(mtia_device *device, mtia_event **event);
/** Destroying NULL does nothing. */
mtia_status mtia_event_destroy(mtia_event *event);
/** *done = 1 if the recorded work completed (or the event was never recorded). */
mtia_status mtia_event_query(mtia_event *event, int *done);
/** timeout_ms < 0 waits forever; MTIA_ERROR_TIMEOUT if it expires. */
mtia_status mtia_event_wait(mtia_event *event, int64_t timeout_ms);
/** Device time between two completed events, in milliseconds. */
mtia_status mtia_event_elapsed_ms(mtia_event *start, mtia_event *end, double *ms);
/** The device's estimate (timing model) of the compute time of the job the
 * event was recorded into, in ns (0 without compute). Waits for the event. */
mtia_status mtia_event_device_estimate_ns(mtia_event *event, uint64_t *ns);

/* ---- Models ----------------------------------------------------------------
 * A compiled model (.mtia, from mtia-compile) loaded on a device. Loading
 * checks the whole file; a corrupt, truncated or hostile one gives
 * MTIA_ERROR_INVALID_MODEL with the reason in mtia_last_error(). A file that
 * cannot be read gives MTIA_ERROR_INVALID_ARGUMENT.
 * Every run is one device job (copy inputs in, compute, copy outputs out).
 * Runs of one model from several threads or streams are serialised on the
 * device (they share the model's arena). See docs/models.md.
 */
typedef struct mtia_model mtia_model; /**< a compiled model loaded on a device */

/** Element type of a model tensor. */
typedef enum mtia_dtype {
    MTIA_DTYPE_FLOAT32 = 1,  /**< IEEE-754 binary32 */
    MTIA_DTYPE_FLOAT16 = 2,  /**< IEEE-754 binary16 */
    MTIA_DTYPE_BFLOAT16 = 3, /**< bfloat16 (the top half of a binary32) */
    MTIA_DTYPE_INT8 = 4,     /**< quantized int8_t: real = (q - zero_point) * scale (mtia_tensor_info) */
    MTIA_DTYPE_INT32 = 5,    /**< int32_t (ids, offsets, lengths) */
    MTIA_DTYPE_INT64 = 6,    /**< int64_t (ids: ONNX/PyTorch's index type) */
    MTIA_DTYPE_BOOLEAN = 7,  /**< one byte, 0 or 1 (not _BOOL: mtia_spec.h has that macro) */
    MTIA_DTYPE_UINT8 = 8,    /**< quantized uint8_t, as INT8 */
} mtia_dtype;

#define MTIA_TENSOR_MAX_DIMS 6 /**< most dimensions a model tensor has */

/** A model input or output (mtia_model_input_info): dense, row-major.
 * A quantized (INT8/UINT8) tensor's element q is the real value
 * (q - zero_point) * scale, rounded as include/mtia/mtia_quant.h says.
 * scale took the place of a zero pad word and zero_point was appended:
 * struct_size may be the size without zero_point and what follows it
 * (offsetof(mtia_tensor_info, zero_point), 176 bytes: the first libmtia's
 * struct), which gets everything but those. */
typedef struct mtia_tensor_info {
    uint32_t struct_size;                /**< caller sets sizeof(mtia_tensor_info) */
    uint32_t dtype;                      /**< mtia_dtype */
    uint32_t ndim;                       /**< 1..MTIA_TENSOR_MAX_DIMS */
    uint32_t dims[MTIA_TENSOR_MAX_DIMS]; /**< dims[0..ndim), each >= 1 */
    float scale;                         /**< INT8/UINT8: finite, > 0; other types 0 */
    uint64_t bytes;                      /**< product(dims) * dtype size */
    char name[128];                      /**< truncated if longer */
    int32_t zero_point;                  /**< INT8: -128..127, UINT8: 0..255; other types 0 */
    uint32_t reserved;                   /**< zero */
} mtia_tensor_info;

/** Loads the .mtia file at path onto device. */
mtia_status mtia_model_load_file(mtia_device *device, const char *path, mtia_model **model);
/** The data is not referenced after the call returns. */
mtia_status mtia_model_load_memory(mtia_device *device, const void *data, size_t size, mtia_model **model);
/** Freeing NULL does nothing. Queued runs still complete. */
mtia_status mtia_model_free(mtia_model *model);
/** Number of inputs. */
mtia_status mtia_model_num_inputs(const mtia_model *model, size_t *count);
/** Number of outputs. */
mtia_status mtia_model_num_outputs(const mtia_model *model, size_t *count);
/** Input index's name, type, shape and quantization (info->struct_size set by the caller). */
mtia_status mtia_model_input_info(const mtia_model *model, size_t index, mtia_tensor_info *info);
/** Output index's name, type and shape (info->struct_size set by the caller). */
mtia_status mtia_model_output_info(const mtia_model *model, size_t index, mtia_tensor_info *info);
/** Runs one inference and waits for it. inputs[i] holds input_bytes[i] bytes,
 * which must equal input i's bytes; likewise for the outputs. */
mtia_status mtia_model_run(mtia_model *model, const void *const *inputs, const size_t *input_bytes, size_t n_inputs,
                           void *const *outputs, const size_t *output_bytes, size_t n_outputs);
/** Queues one inference on stream (submitted at once): input i is read from
 * inputs[i] at input_offsets[i], output j written to outputs[j] at
 * output_offsets[j]. The buffers must stay untouched until the stream is
 * synchronized or an event recorded after it completes; device errors are
 * reported there. */
mtia_status mtia_model_run_async(mtia_model *model, mtia_stream *stream, mtia_buffer *const *inputs,
                                 const size_t *input_offsets, size_t n_inputs, mtia_buffer *const *outputs,
                                 const size_t *output_offsets, size_t n_outputs);
/** The device's estimate (timing model) of one inference's compute time, in
 * ns, from the model's latest run (waits for it); 0 before any run. */
mtia_status mtia_model_device_estimate_ns(mtia_model *model, uint64_t *ns);

/** Profiling (docs/models.md "Profiling"): while on (on != 0), each run of
 * the model records per-op device times, the timing model's estimates and
 * bytes moved; off (the default) costs nothing. */
mtia_status mtia_model_set_profiling(mtia_model *model, int on);
/** Writes the profile of the model's latest run (waits for it) to path as
 * Chrome trace-event JSON (Perfetto, chrome://tracing).
 * MTIA_ERROR_INVALID_ARGUMENT if that run was not profiled (or none ran) or
 * path cannot be written; MTIA_ERROR_IO if the run failed. */
mtia_status mtia_model_write_profile(mtia_model *model, const char *path);

/** The model's batch buckets (mtia-compile --batch-buckets), ascending: on
 * entry *count is the room in buckets (may be 0 with buckets NULL), on
 * return the number of buckets (0: compiled without), of which
 * min(room, number) are written. mtia_model_run takes any batch up to the
 * largest (docs/runtime.md "Batch buckets"); input/output infos describe
 * the largest. */
mtia_status mtia_model_batch_buckets(const mtia_model *model, uint32_t *buckets, size_t *count);
/** The float and quantized dtypes (mtia_dtype) the model's program's
 * tensors use (weights, activations, inputs, outputs), ascending: FLOAT32
 * alone for a float32 model, FLOAT32 and BFLOAT16 for one compiled with
 * mtia-compile --dtype bf16, FLOAT32 and INT8 for a quantized one. On entry *count is the room in dtypes (may be 0 with
 * dtypes NULL), on return their number, of which min(room, number) are
 * written (as mtia_model_batch_buckets). */
mtia_status mtia_model_compute_dtypes(const mtia_model *model, uint32_t *dtypes, size_t *count);
/** Input index's batch axis: 0 if its dim 0 is the batch, -1 if it is not
 * batched (or the model has no buckets). */
mtia_status mtia_model_input_batch_axis(const mtia_model *model, size_t index, int32_t *axis);
/** Output index's batch axis, as mtia_model_input_batch_axis. */
mtia_status mtia_model_output_batch_axis(const mtia_model *model, size_t index, int32_t *axis);

#ifdef __cplusplus
}
#endif

#endif /* MTIA_MTIA_H */
