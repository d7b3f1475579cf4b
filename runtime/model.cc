// SPDX-License-Identifier: MIT
// Models on a device: upload at load, then one job per inference.
//
// Device memory: one device BO for the arena (weights image at its start,
// copied in once at load; activations after it) and one for the program
// (struct mtia_op[], copied in once). An inference is one job of
// COPY input -> arena (per input), COMPUTE, COPY arena -> output (per
// output), TIMESTAMP (the job's event). run()/run_batch() stage host memory
// through two host BOs ("slots", so one request's inputs are staged while
// the previous one runs); run_async() copies straight from/to the caller's
// buffers.
//
// Profiling (set_profiling): the arena BO has room for the device's
// profile after the arena (MTIA_PROFILE_BYTES(ops), the COMPUTE's tail
// with MTIA_CMD_F_PROFILE); a profiled job COPYs it to the profile host BO,
// one region per job event (the two slots' and run_async's four), and
// profile() reads the latest job's region once it is done.
//
// Serialisation: every job of a model waits for the model's previous job
// (the event recorded after it: free on the same stream, which is in order;
// a cross-stream wait otherwise), since all jobs share the arena. The model
// lock `mu` orders the enqueueing; `sync_mu` owns the staging slots.
#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include "bad_ids.h"
#include "model_loader.h"
#include "runtime_internal.h"

namespace mtia {

namespace detail {

struct ModelState {
    std::string name, producer;
    uint64_t arena_size = 0, weights_size = 0, flops = 0;
    size_t n_ops = 0;
    std::vector<std::string> op_nodes, op_kinds, op_names;
    std::vector<mtia_op> ops;  // the program, to name the input of a bad id
    std::vector<ModelIo> in, out;
    std::vector<TensorInfo> in_info, out_info;
    Buffer arena, program;
    Stream stream;  // run() and run_batch()

    struct Slot {
        Buffer staging;  // inputs, then outputs, each 64-byte aligned
        Event done;      // recorded after the slot's job
        bool busy = false;
    };
    std::vector<uint64_t> in_stage, out_stage;  // offsets in a slot's staging
    Slot slots[2];
    std::mutex sync_mu;

    std::mutex mu;
    Event async_done[4];  // run_async()'s job events, used round robin
    unsigned async_next = 0;
    Event *last = nullptr;  // recorded after the model's latest job

    // Profiling; under mu. Jobs are numbered by their event: 0, 1 the
    // slots', 2.. run_async's.
    static constexpr unsigned kJobEvents = 2 + 4;
    bool profiling = false;
    uint64_t prof_bytes = 0;  // MTIA_PROFILE_BYTES(n_ops)
    Buffer prof_host;         // kJobEvents regions of prof_bytes
    struct JobProfile {
        bool profiled = false;
        uint64_t submit_ns = 0, done_ns = 0;  // host clock
    } jobs[kJobEvents];
    unsigned last_job = 0;
};

}  // namespace detail

namespace {

constexpr uint64_t kStageAlign = 64;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

uint64_t host_ns()
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
            .count());
}

const std::shared_ptr<detail::ModelState> &live(const std::shared_ptr<detail::ModelState> &s)
{
    if (!s) throw Error(MTIA_ERROR_INVALID_HANDLE, "model has been freed (or was never loaded)");
    return s;
}

// A tensor's bytes in a BO, as a job operand.
struct Operand {
    std::shared_ptr<detail::BufferState> bo;
    uint64_t offset;
};

drm_mtia_cmd copy_cmd(detail::StreamState &s, const Operand &dst, const Operand &src, uint64_t len)
{
    drm_mtia_cmd c{};
    c.opcode = MTIA_CMD_COPY;
    c.len = len;
    c.src_bo = detail::bo_index(s, src.bo);
    c.src_offset = src.offset;
    c.dst_bo = detail::bo_index(s, dst.bo);
    c.dst_offset = dst.offset;
    return c;
}

// Queues one inference on stream and submits it as one job (with done's
// TIMESTAMP and fence), after the model's previous job; job is done's
// number (ModelState::jobs). Caller holds m.mu.
void enqueue(detail::ModelState &m, Stream &stream, const std::vector<Operand> &ins, const std::vector<Operand> &outs,
             Event &done, unsigned job)
{
    const auto &s = stream.state();
    if (m.last) stream.wait(*m.last);  // a no-op if it is on this stream
    const bool prof = m.profiling;
    const size_t ncmds = ins.size() + outs.size() + 2 + prof, nbos = ins.size() + outs.size() + 3 + prof;
    for (;;) {
        {
            detail::DeviceUse use(s->dev, "model run");
            std::lock_guard<std::mutex> l(s->mu);
            if (s->cmds.size() + ncmds <= MTIA_MAX_CMDS_PER_JOB && s->bos.size() + nbos <= MTIA_MAX_BOS_PER_JOB) {
                const Operand arena{m.arena.state(), 0};
                for (size_t i = 0; i < ins.size(); i++) {
                    s->cmds.push_back(copy_cmd(*s, {arena.bo, m.in[i].offset}, ins[i], m.in[i].info.bytes));
                    s->batch_bytes += m.in[i].info.bytes;
                }
                drm_mtia_cmd c{};
                c.opcode = MTIA_CMD_COMPUTE;
                c.src_bo = detail::bo_index(*s, m.program.state());
                c.src_offset = 0;
                c.len = m.n_ops * MTIA_OP_BYTES;
                c.dst_bo = detail::bo_index(*s, arena.bo);
                c.dst_offset = 0;
                c.value = m.arena_size;
                if (prof) {  // the arena's tail: the profile, copied out below
                    c.flags = MTIA_CMD_F_PROFILE;
                    c.value += m.prof_bytes;
                }
                s->cmds.push_back(c);
                if (prof) {
                    s->cmds.push_back(copy_cmd(*s, {m.prof_host.state(), job * m.prof_bytes}, {arena.bo, m.arena_size},
                                               m.prof_bytes));
                }
                for (size_t i = 0; i < outs.size(); i++) {
                    s->cmds.push_back(copy_cmd(*s, outs[i], {arena.bo, m.out[i].offset}, m.out[i].info.bytes));
                    s->batch_bytes += m.out[i].info.bytes;
                }
                break;
            }
        }
        stream.flush();  // the caller's queued work leaves no room: submit it first
    }
    m.jobs[job] = {prof, host_ns(), 0};
    stream.record(done);  // appends the TIMESTAMP and submits the job
    m.last = &done;
    m.last_job = job;
}

// Adds the model and request to a device error (the stream's message has the
// job and CQE status).
[[noreturn]] void rethrow_run_error(const detail::ModelState &m, size_t req, size_t nreq, const Error &e)
{
    std::string msg = "model '" + m.name + "'";
    if (nreq > 1) msg += " request " + std::to_string(req);
    msg += ": " + std::string(e.what());
    throw Error(e.status(), msg);
}

void check_count(size_t got, size_t want, const char *what)
{
    if (got != want) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT,
                    "model takes " + std::to_string(want) + " " + what + "(s), got " + std::to_string(got));
    }
}

const char *dtype_name(DType t)
{
    switch (t) {
        case DType::F32:
            return "f32";
        case DType::I32:
            return "i32";
        case DType::I64:
            return "i64";
        case DType::Bool:
            return "bool";
    }
    return "?";
}

void check_bytes(size_t got, const detail::ModelIo &io, const char *what, size_t i, bool null)
{
    if (null) throw Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(what) + " " + std::to_string(i) + " is NULL");
    if (got != io.info.bytes) {
        std::string shape;
        for (uint32_t d : io.info.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(what) + " " + std::to_string(i) + " '" + io.info.name +
                                                     "' has " + std::to_string(got) + " bytes, the model's " + shape +
                                                     " " + dtype_name(io.info.dtype) + " tensor has " +
                                                     std::to_string(io.info.bytes));
    }
}

std::shared_ptr<detail::ModelState> make_model(const Device &dev, const detail::ParsedModel &p);

}  // namespace

// ---- loading ----------------------------------------------------------------

Model Model::load_memory(const Device &device, const void *data, size_t size)
{
    if (!data) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "model data is NULL");
    if (reinterpret_cast<uintptr_t>(data) % 8 == 0) return Model(make_model(device, detail::parse_model(data, size)));
    // FlatBuffers reads scalars in place: give it an aligned copy.
    std::vector<uint64_t> copy(size / 8 + 1);
    std::memcpy(copy.data(), data, size);
    return Model(make_model(device, detail::parse_model(copy.data(), size)));
}

Model Model::load_file(const Device &device, const std::string &path)
{
    auto fail = [&](const std::string &why) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "cannot read model '" + path + "': " + why);
    };
    std::unique_ptr<FILE, int (*)(FILE *)> f(std::fopen(path.c_str(), "rb"), std::fclose);
    if (!f) fail(std::strerror(errno));
    struct stat st {};
    if (fstat(fileno(f.get()), &st) != 0) fail(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) fail("not a regular file");
    const auto size = static_cast<size_t>(st.st_size);
    std::vector<uint64_t> buf(size / 8 + 1);
    if (size && std::fread(buf.data(), 1, size, f.get()) != size) fail("short read");
    return Model(make_model(device, detail::parse_model(buf.data(), size)));
}

namespace {

std::shared_ptr<detail::ModelState> make_model(const Device &dev, const detail::ParsedModel &p)
{
    auto m = std::make_shared<detail::ModelState>();
    m->name = p.name;
    m->producer = p.producer;
    m->arena_size = p.arena_size;
    m->weights_size = p.weights_size;
    m->flops = p.flops;
    m->n_ops = p.program.size();
    m->op_nodes = p.op_nodes;
    m->op_kinds = p.op_kinds;
    m->op_names = p.op_names;
    m->ops = p.program;
    m->prof_bytes = MTIA_PROFILE_BYTES(m->n_ops);
    m->in = p.inputs;
    m->out = p.outputs;
    for (auto &io : m->in) m->in_info.push_back(io.info);
    for (auto &io : m->out) m->out_info.push_back(io.info);

    // The arena BO holds the profile tail too (32 bytes per op: not worth
    // a word in the messages), so that profiling needs no reload.
    const uint64_t arena_bo = p.arena_size + m->prof_bytes;
    const std::string needs =
        "model '" + p.name + "' needs " + std::to_string(p.arena_size) + " bytes of device memory for its arena";
    if (p.arena_size > dev.info().devmem_bytes) {
        throw Error(MTIA_ERROR_OUT_OF_MEMORY, needs + ", more than " + dev.info().node + " has (" +
                                                  std::to_string(dev.info().devmem_bytes) + ")");
    }
    try {
        m->arena = Buffer(dev, arena_bo, Placement::Device);
    } catch (const Error &e) {
        // EINVAL from BO_CREATE: over the driver's limit for one device BO.
        throw Error(e.status() == MTIA_ERROR_INVALID_ARGUMENT ? MTIA_ERROR_OUT_OF_MEMORY : e.status(),
                    needs + ": " + e.what());
    }
    const size_t prog_bytes = p.program.size() * sizeof(mtia_op);
    m->program = Buffer(dev, prog_bytes, Placement::Device);
    m->stream = Stream(dev, Priority::Normal);

    // Weights and program go up once through one host staging BO.
    const uint64_t prog_at = align_up(p.weights_size, kStageAlign);
    {
        Buffer up(dev, prog_at + prog_bytes, Placement::Host);
        auto *u = up.map_as<uint8_t>();
        if (p.weights_size) std::memcpy(u, p.weights, p.weights_size);
        std::memcpy(u + prog_at, p.program.data(), prog_bytes);
        if (p.weights_size) m->stream.copy(m->arena, 0, up, 0, p.weights_size);
        m->stream.copy(m->program, 0, up, prog_at, prog_bytes);
        m->stream.synchronize();
    }

    uint64_t at = 0;
    for (auto &io : m->in) {
        m->in_stage.push_back(at);
        at = align_up(at + io.info.bytes, kStageAlign);
    }
    for (auto &io : m->out) {
        m->out_stage.push_back(at);
        at = align_up(at + io.info.bytes, kStageAlign);
    }
    for (auto &slot : m->slots) {
        slot.staging = Buffer(dev, at ? at : kStageAlign, Placement::Host);
        slot.staging.map();
        slot.done = Event(dev);
    }
    for (auto &e : m->async_done) e = Event(dev);
    m->prof_host = Buffer(dev, m->prof_bytes * detail::ModelState::kJobEvents, Placement::Host);
    m->prof_host.map();

    return m;
}

}  // namespace

// ---- accessors ----------------------------------------------------------------

const std::string &Model::name() const { return live(state_)->name; }
const std::string &Model::producer() const { return live(state_)->producer; }
const std::vector<TensorInfo> &Model::inputs() const { return live(state_)->in_info; }
const std::vector<TensorInfo> &Model::outputs() const { return live(state_)->out_info; }
size_t Model::num_ops() const { return live(state_)->n_ops; }
uint64_t Model::arena_bytes() const { return live(state_)->arena_size; }
uint64_t Model::weight_bytes() const { return live(state_)->weights_size; }
uint64_t Model::flops() const { return live(state_)->flops; }

uint64_t Model::device_estimate_ns()
{
    auto &m = live(state_);
    Event *last;
    {
        std::lock_guard<std::mutex> l(m->mu);
        last = m->last;
    }
    return last ? last->device_estimate_ns() : 0;
}

// ---- profiling ----------------------------------------------------------------

void Model::set_profiling(bool on)
{
    auto &m = live(state_);
    std::lock_guard<std::mutex> l(m->mu);
    m->profiling = on;
}

bool Model::profiling() const
{
    auto &m = live(state_);
    std::lock_guard<std::mutex> l(m->mu);
    return m->profiling;
}

RunProfile Model::profile()
{
    auto &m = *live(state_);
    Event *last;
    unsigned job;
    {
        std::lock_guard<std::mutex> l(m.mu);
        last = m.last;
        job = m.last_job;
        if (!last || !m.jobs[job].profiled) {
            throw Error(MTIA_ERROR_INVALID_ARGUMENT,
                        "model '" + m.name +
                            "': " + (last ? "its latest run was not profiled (set_profiling)" : "has not run yet"));
        }
    }
    try {
        last->synchronize();
    } catch (const Error &e) {
        rethrow_run_error(m, 0, 1, e);
    }
    const uint64_t seen = host_ns();
    RunProfile r;
    r.model = m.name;
    {
        std::lock_guard<std::mutex> l(m.mu);
        auto &j = m.jobs[job];
        if (!j.done_ns) j.done_ns = seen;  // run_async: first seen done now
        r.host_submit_ns = j.submit_ns;
        r.host_done_ns = j.done_ns;
    }
    const auto *p = m.prof_host.map_as<const uint8_t>() + job * m.prof_bytes;
    mtia_profile_header h;
    std::memcpy(&h, p, sizeof(h));
    if (h.magic != MTIA_PROFILE_MAGIC || h.n_ops != m.n_ops) {
        throw Error(MTIA_ERROR_IO, "model '" + m.name + "': the device wrote no profile (magic " +
                                       std::to_string(h.magic) + ", " + std::to_string(h.n_ops) + " ops)");
    }
    r.device_start_ns = h.start_ns;
    r.device_end_ns = h.end_ns;
    r.model_ns = h.model_ns;
    r.ops.resize(m.n_ops);
    for (size_t i = 0; i < m.n_ops; i++) {
        mtia_op_profile o;
        std::memcpy(&o, p + sizeof(h) + i * sizeof(o), sizeof(o));
        r.ops[i] = {m.op_nodes[i], m.op_kinds[i], o.start_ns, o.end_ns, o.model_ns, o.bytes};
    }
    return r;
}

// ---- running ------------------------------------------------------------------

void Model::run(const std::vector<HostInput> &inputs, const std::vector<HostOutput> &outputs)
{
    run_batch({inputs}, {outputs});
}

void Model::run_batch(const std::vector<std::vector<HostInput>> &inputs,
                      const std::vector<std::vector<HostOutput>> &outputs)
{
    auto &m = *live(state_);
    if (inputs.size() != outputs.size()) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "run_batch: " + std::to_string(inputs.size()) + " input sets but " +
                                                     std::to_string(outputs.size()) + " output sets");
    }
    const size_t n = inputs.size();
    for (size_t r = 0; r < n; r++) {
        check_count(inputs[r].size(), m.in.size(), "input");
        check_count(outputs[r].size(), m.out.size(), "output");
        for (size_t i = 0; i < m.in.size(); i++)
            check_bytes(inputs[r][i].bytes, m.in[i], "input", i, !inputs[r][i].data);
        for (size_t i = 0; i < m.out.size(); i++) {
            check_bytes(outputs[r][i].bytes, m.out[i], "output", i, !outputs[r][i].data);
        }
    }

    std::lock_guard<std::mutex> sl(m.sync_mu);
    constexpr size_t kSlots = sizeof(m.slots) / sizeof(m.slots[0]);
    // Waits for request r and copies its outputs to the caller.
    auto finish = [&](size_t r) {
        auto &slot = m.slots[r % kSlots];
        slot.busy = false;
        try {
            slot.done.synchronize();
        } catch (const Error &e) {
            if (e.status() != MTIA_ERROR_INDEX_OUT_OF_RANGE) rethrow_run_error(m, r, n, e);
            std::vector<const void *> host;
            for (const auto &in : inputs[r]) host.push_back(in.data);
            rethrow_run_error(m, r, n, Error(e.status(), detail::describe_bad_ids(m.ops, m.op_names, m.in, host)));
        }
        {
            const uint64_t t = host_ns();
            std::lock_guard<std::mutex> l(m.mu);
            m.jobs[r % kSlots].done_ns = t;
        }
        const auto *st = slot.staging.map_as<const uint8_t>();
        for (size_t i = 0; i < m.out.size(); i++)
            std::memcpy(outputs[r][i].data, st + m.out_stage[i], outputs[r][i].bytes);
    };
    size_t finished = 0;
    try {
        for (size_t r = 0; r < n; r++) {
            if (r >= kSlots) finish(finished++);
            auto &slot = m.slots[r % kSlots];
            auto *st = slot.staging.map_as<uint8_t>();
            for (size_t i = 0; i < m.in.size(); i++)
                std::memcpy(st + m.in_stage[i], inputs[r][i].data, inputs[r][i].bytes);
            std::vector<Operand> ins, outs;
            for (uint64_t off : m.in_stage) ins.push_back({slot.staging.state(), off});
            for (uint64_t off : m.out_stage) outs.push_back({slot.staging.state(), off});
            std::lock_guard<std::mutex> l(m.mu);
            enqueue(m, m.stream, ins, outs, slot.done, static_cast<unsigned>(r % kSlots));
            slot.busy = true;
        }
        while (finished < n) finish(finished++);
    } catch (...) {
        // Leave no job using a slot behind.
        for (auto &slot : m.slots) {
            if (!slot.busy) continue;
            slot.busy = false;
            try {
                slot.done.synchronize();
            } catch (const Error &) {
            }
        }
        throw;
    }
}

void Model::run_async(Stream &stream, const std::vector<BufferTensor> &inputs, const std::vector<BufferTensor> &outputs)
{
    auto &m = *live(state_);
    const auto &s = stream.state();
    if (!s) throw Error(MTIA_ERROR_INVALID_HANDLE, "stream has been destroyed (or was never created)");
    if (s->dev != m.arena.state()->dev) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "run_async: the stream belongs to another device than the model");
    }
    check_count(inputs.size(), m.in.size(), "input");
    check_count(outputs.size(), m.out.size(), "output");
    auto operand = [&](const BufferTensor &t, const detail::ModelIo &io, const char *what, size_t i) {
        if (!t.buffer || !t.buffer->state()) {
            throw Error(t.buffer ? MTIA_ERROR_INVALID_HANDLE : MTIA_ERROR_INVALID_ARGUMENT,
                        std::string(what) + " " + std::to_string(i) + ": buffer is " + (t.buffer ? "freed" : "NULL"));
        }
        const auto &b = t.buffer->state();
        if (b->dev != s->dev) {
            throw Error(MTIA_ERROR_INVALID_ARGUMENT,
                        std::string(what) + " " + std::to_string(i) + ": buffer belongs to another device");
        }
        if (t.offset > b->size || io.info.bytes > b->size - t.offset) {
            throw Error(MTIA_ERROR_INVALID_ARGUMENT, std::string(what) + " " + std::to_string(i) + " '" + io.info.name +
                                                         "': " + std::to_string(io.info.bytes) + " bytes at offset " +
                                                         std::to_string(t.offset) + " do not fit the buffer of " +
                                                         std::to_string(b->size) + " bytes");
        }
        return Operand{b, t.offset};
    };
    std::vector<Operand> ins, outs;
    for (size_t i = 0; i < inputs.size(); i++) ins.push_back(operand(inputs[i], m.in[i], "input", i));
    for (size_t i = 0; i < outputs.size(); i++) outs.push_back(operand(outputs[i], m.out[i], "output", i));
    std::lock_guard<std::mutex> l(m.mu);
    const unsigned k = m.async_next++ % (sizeof(m.async_done) / sizeof(m.async_done[0]));
    enqueue(m, stream, ins, outs, m.async_done[k], 2 + k);
}

}  // namespace mtia
