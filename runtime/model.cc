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
// Batch buckets (a file with Model.programs): every bucket's program is a
// device BO of its own; they share the arena (sized for the largest, whose
// weights image is the one all programs read). run()/run_batch() take the
// batch n from the host inputs' sizes, run the smallest bucket >= n with the
// batched inputs padded by repeating their last sample (valid ids and
// offsets, unlike zeros) and copy back the first n samples of the batched
// outputs; run_async() picks the bucket whose sizes the buffers have.
//
// Serialisation: every job of a model waits for the model's previous job
// (the event recorded after it: free on the same stream, which is in order;
// a cross-stream wait otherwise), since all jobs share the arena. The model
// lock `mu` orders the enqueueing; `sync_mu` owns the staging slots.
#include <sys/stat.h>

#include <algorithm>
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

// One program: the model's only one, or one batch bucket's.
struct ModelProgram {
    uint32_t batch = 0;  // 0: not bucketed
    uint64_t arena_size = 0, flops = 0;
    size_t n_ops = 0;
    std::vector<std::string> op_nodes, op_kinds, op_names;
    std::vector<mtia_op> ops;  // the program, to name the input of a bad id
    std::vector<ModelIo> in, out;
    std::vector<DType> compute_dtypes;
    Buffer program;
    uint64_t prof_bytes = 0;  // MTIA_PROFILE_BYTES(n_ops)
};

struct ModelState {
    std::string name, producer;
    uint64_t weights_size = 0;
    std::vector<ModelProgram> progs;  // ascending batch; the last is the largest
    std::vector<uint32_t> buckets;    // their batches (empty if not bucketed)
    std::vector<TensorInfo> in_info, out_info;
    Buffer arena;
    Stream stream;  // run() and run_batch()
    const ModelProgram &top() const { return progs.back(); }

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
    uint64_t prof_bytes = 0;  // the largest program's MTIA_PROFILE_BYTES
    Buffer prof_host;         // kJobEvents regions of prof_bytes
    struct JobProfile {
        bool profiled = false;
        uint64_t submit_ns = 0, done_ns = 0;  // host clock
        const ModelProgram *prog = nullptr;   // the program it ran
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
void enqueue(detail::ModelState &m, const detail::ModelProgram &p, Stream &stream, const std::vector<Operand> &ins,
             const std::vector<Operand> &outs, Event &done, unsigned job)
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
                    s->cmds.push_back(copy_cmd(*s, {arena.bo, p.in[i].offset}, ins[i], p.in[i].info.bytes));
                    s->batch_bytes += p.in[i].info.bytes;
                }
                drm_mtia_cmd c{};
                c.opcode = MTIA_CMD_COMPUTE;
                c.src_bo = detail::bo_index(*s, p.program.state());
                c.src_offset = 0;
                c.len = p.n_ops * MTIA_OP_BYTES;
                c.dst_bo = detail::bo_index(*s, arena.bo);
                c.dst_offset = 0;
                c.value = p.arena_size;
                if (prof) {  // the arena's tail: the profile, copied out below
                    c.flags = MTIA_CMD_F_PROFILE;
                    c.value += p.prof_bytes;
                }
                s->cmds.push_back(c);
                if (prof) {
                    s->cmds.push_back(copy_cmd(*s, {m.prof_host.state(), job * m.prof_bytes}, {arena.bo, p.arena_size},
                                               p.prof_bytes));
                }
                for (size_t i = 0; i < outs.size(); i++) {
                    s->cmds.push_back(copy_cmd(*s, outs[i], {arena.bo, p.out[i].offset}, p.out[i].info.bytes));
                    s->batch_bytes += p.out[i].info.bytes;
                }
                break;
            }
        }
        stream.flush();  // the caller's queued work leaves no room: submit it first
    }
    m.jobs[job] = {prof, host_ns(), 0, &p};
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

std::string bucket_list(const std::vector<uint32_t> &b)
{
    std::string s;
    for (uint32_t x : b) s += (s.empty() ? "" : ",") + std::to_string(x);
    return s;
}

// A host request's program and batch (0 for a model without buckets).
struct HostRequest {
    const detail::ModelProgram *prog = nullptr;
    size_t n = 0;
};

// Checks a host request's sizes; for a bucketed model, the batch n from the
// batched inputs' sizes and the smallest bucket >= n.
HostRequest pick_program(const detail::ModelState &m, const std::vector<HostInput> &in,
                         const std::vector<HostOutput> &out)
{
    const detail::ModelProgram &top = m.top();
    if (m.buckets.empty()) {
        for (size_t i = 0; i < top.in.size(); i++) check_bytes(in[i].bytes, top.in[i], "input", i, !in[i].data);
        for (size_t i = 0; i < top.out.size(); i++) check_bytes(out[i].bytes, top.out[i], "output", i, !out[i].data);
        return {&top, 0};
    }
    size_t n = 0, first = 0;
    for (size_t i = 0; i < top.in.size(); i++) {
        const auto &io = top.in[i];
        if (io.info.batch_axis != 0) {
            check_bytes(in[i].bytes, io, "input", i, !in[i].data);
            continue;
        }
        if (!in[i].data) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "input " + std::to_string(i) + " is NULL");
        const size_t per = io.info.bytes / top.batch;
        const std::string label = "input " + std::to_string(i) + " '" + io.info.name + "'";
        if (in[i].bytes == 0 || in[i].bytes % per) {
            throw Error(MTIA_ERROR_INVALID_ARGUMENT, label + " has " + std::to_string(in[i].bytes) +
                                                         " bytes, not a whole number (>= 1) of its " +
                                                         std::to_string(per) + "-byte samples");
        }
        const size_t ni = in[i].bytes / per;
        if (n && ni != n) {
            throw Error(MTIA_ERROR_INVALID_ARGUMENT, label + " has a batch of " + std::to_string(ni) + ", input " +
                                                         std::to_string(first) + " '" + top.in[first].info.name +
                                                         "' one of " + std::to_string(n));
        }
        if (!n) first = i;
        n = ni;
        if (n > top.batch) {
            throw Error(MTIA_ERROR_INVALID_ARGUMENT,
                        label + " has a batch of " + std::to_string(n) + ", more than the largest of the model's " +
                            "batch buckets (" + bucket_list(m.buckets) +
                            "): split the request into batches of at most " + std::to_string(top.batch));
        }
    }
    const detail::ModelProgram *prog = &top;
    for (const auto &p : m.progs) {
        if (p.batch >= n) {
            prog = &p;
            break;
        }
    }
    for (size_t i = 0; i < top.out.size(); i++) {
        const auto &io = top.out[i];
        if (io.info.batch_axis != 0) {
            check_bytes(out[i].bytes, io, "output", i, !out[i].data);
            continue;
        }
        if (!out[i].data) throw Error(MTIA_ERROR_INVALID_ARGUMENT, "output " + std::to_string(i) + " is NULL");
        const size_t want = io.info.bytes / top.batch * n;
        if (out[i].bytes != want) {
            throw Error(MTIA_ERROR_INVALID_ARGUMENT, "output " + std::to_string(i) + " '" + io.info.name + "' has " +
                                                         std::to_string(out[i].bytes) + " bytes, a batch of " +
                                                         std::to_string(n) + " needs " + std::to_string(want));
        }
    }
    return {prog, n};
}

// Copies a request's input i into staging: a batched input's n samples,
// then its last sample repeated up to the bucket's batch.
void stage_input(uint8_t *dst, const HostInput &in, const detail::ModelIo &io, uint32_t batch)
{
    std::memcpy(dst, in.data, in.bytes);
    if (io.info.batch_axis != 0 || !batch) return;
    const size_t per = io.info.bytes / batch;
    const auto *last = dst + in.bytes - per;
    for (size_t at = in.bytes; at < io.info.bytes; at += per) std::memcpy(dst + at, last, per);
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

detail::ModelProgram program_of(const Device &dev, const detail::ParsedProgram &p)
{
    detail::ModelProgram r;
    r.batch = p.batch;
    r.arena_size = p.arena_size;
    r.flops = p.flops;
    r.n_ops = p.program.size();
    r.op_nodes = p.op_nodes;
    r.op_kinds = p.op_kinds;
    r.op_names = p.op_names;
    r.ops = p.program;
    r.in = p.inputs;
    r.out = p.outputs;
    r.compute_dtypes = p.compute_dtypes;
    r.prof_bytes = MTIA_PROFILE_BYTES(r.n_ops);
    r.program = Buffer(dev, r.n_ops * sizeof(mtia_op), Placement::Device);
    return r;
}

std::shared_ptr<detail::ModelState> make_model(const Device &dev, const detail::ParsedModel &p)
{
    auto m = std::make_shared<detail::ModelState>();
    m->name = p.name;
    m->producer = p.producer;
    m->weights_size = p.weights_size;
    // The arena holds any bucket's program and its profile tail (32 bytes
    // per op: not worth a word in the messages), so profiling needs no reload.
    uint64_t arena_size = p.arena_size, arena_bo = p.arena_size + MTIA_PROFILE_BYTES(p.program.size());
    for (const auto &b : p.buckets) {
        arena_size = std::max(arena_size, b.arena_size);
        arena_bo = std::max(arena_bo, b.arena_size + MTIA_PROFILE_BYTES(b.program.size()));
    }
    const std::string needs =
        "model '" + p.name + "' needs " + std::to_string(arena_size) + " bytes of device memory for its arena";
    if (arena_size > dev.info().devmem_bytes) {
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
    if (p.buckets.empty()) m->progs.push_back(program_of(dev, p));
    for (const auto &b : p.buckets) {
        m->progs.push_back(program_of(dev, b));
        m->buckets.push_back(b.batch);
    }
    for (const auto &prog : m->progs) m->prof_bytes = std::max(m->prof_bytes, prog.prof_bytes);
    for (auto &io : m->top().in) m->in_info.push_back(io.info);
    for (auto &io : m->top().out) m->out_info.push_back(io.info);
    m->stream = Stream(dev, Priority::Normal);

    // Weights and programs go up once through one host staging BO.
    {
        uint64_t at = align_up(p.weights_size, kStageAlign);
        std::vector<uint64_t> prog_at;
        for (const auto &prog : m->progs) {
            prog_at.push_back(at);
            at = align_up(at + prog.n_ops * sizeof(mtia_op), kStageAlign);
        }
        Buffer up(dev, at, Placement::Host);
        auto *u = up.map_as<uint8_t>();
        if (p.weights_size) std::memcpy(u, p.weights, p.weights_size);
        if (p.weights_size) m->stream.copy(m->arena, 0, up, 0, p.weights_size);
        for (size_t k = 0; k < m->progs.size(); k++) {
            auto &prog = m->progs[k];
            const size_t bytes = prog.n_ops * sizeof(mtia_op);
            std::memcpy(u + prog_at[k], prog.ops.data(), bytes);
            m->stream.copy(prog.program, 0, up, prog_at[k], bytes);
        }
        m->stream.synchronize();
    }

    // Staging for the largest program's I/O holds any bucket's.
    uint64_t at = 0;
    for (auto &io : m->top().in) {
        m->in_stage.push_back(at);
        at = align_up(at + io.info.bytes, kStageAlign);
    }
    for (auto &io : m->top().out) {
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
size_t Model::num_ops() const { return live(state_)->top().n_ops; }
uint64_t Model::arena_bytes() const { return live(state_)->top().arena_size; }
uint64_t Model::weight_bytes() const { return live(state_)->weights_size; }
uint64_t Model::flops() const { return live(state_)->top().flops; }
const std::vector<uint32_t> &Model::batch_buckets() const { return live(state_)->buckets; }
const std::vector<DType> &Model::compute_dtypes() const { return live(state_)->top().compute_dtypes; }

uint32_t Model::last_batch() const
{
    auto &m = live(state_);
    std::lock_guard<std::mutex> l(m->mu);
    return m->last ? m->jobs[m->last_job].prog->batch : 0;
}

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
    const detail::ModelProgram &prog = *m.jobs[job].prog;
    const auto *p = m.prof_host.map_as<const uint8_t>() + job * m.prof_bytes;
    mtia_profile_header h;
    std::memcpy(&h, p, sizeof(h));
    if (h.magic != MTIA_PROFILE_MAGIC || h.n_ops != prog.n_ops) {
        throw Error(MTIA_ERROR_IO, "model '" + m.name + "': the device wrote no profile (magic " +
                                       std::to_string(h.magic) + ", " + std::to_string(h.n_ops) + " ops)");
    }
    r.device_start_ns = h.start_ns;
    r.device_end_ns = h.end_ns;
    r.model_ns = h.model_ns;
    r.throttle_ns = h.throttle_ns;
    r.ops.resize(prog.n_ops);
    for (size_t i = 0; i < prog.n_ops; i++) {
        mtia_op_profile o;
        std::memcpy(&o, p + sizeof(h) + i * sizeof(o), sizeof(o));
        r.ops[i] = {prog.op_nodes[i], prog.op_kinds[i], o.start_ns, o.end_ns, o.model_ns, o.bytes};
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
    std::vector<HostRequest> req(n);
    for (size_t r = 0; r < n; r++) {
        check_count(inputs[r].size(), m.top().in.size(), "input");
        check_count(outputs[r].size(), m.top().out.size(), "output");
        req[r] = pick_program(m, inputs[r], outputs[r]);
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
            std::vector<const void *> host;  // the staged (padded) inputs: the program's sizes
            for (uint64_t off : m.in_stage) host.push_back(slot.staging.map_as<const uint8_t>() + off);
            const auto &p = *req[r].prog;
            rethrow_run_error(m, r, n, Error(e.status(), detail::describe_bad_ids(p.ops, p.op_names, p.in, host)));
        }
        {
            const uint64_t t = host_ns();
            std::lock_guard<std::mutex> l(m.mu);
            m.jobs[r % kSlots].done_ns = t;
        }
        const auto *st = slot.staging.map_as<const uint8_t>();
        for (size_t i = 0; i < outputs[r].size(); i++)
            std::memcpy(outputs[r][i].data, st + m.out_stage[i], outputs[r][i].bytes);
    };
    size_t finished = 0;
    try {
        for (size_t r = 0; r < n; r++) {
            if (r >= kSlots) finish(finished++);
            auto &slot = m.slots[r % kSlots];
            auto *st = slot.staging.map_as<uint8_t>();
            const auto &p = *req[r].prog;
            for (size_t i = 0; i < p.in.size(); i++) stage_input(st + m.in_stage[i], inputs[r][i], p.in[i], p.batch);
            std::vector<Operand> ins, outs;
            for (uint64_t off : m.in_stage) ins.push_back({slot.staging.state(), off});
            for (uint64_t off : m.out_stage) outs.push_back({slot.staging.state(), off});
            std::lock_guard<std::mutex> l(m.mu);
            enqueue(m, p, m.stream, ins, outs, slot.done, static_cast<unsigned>(r % kSlots));
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

namespace {

// run_async's program: the only one, or the bucket whose batched inputs'
// sizes are exactly the bytes from each buffer's offset to its end.
const detail::ModelProgram &async_program(const detail::ModelState &m, const std::vector<BufferTensor> &inputs)
{
    if (m.buckets.empty()) return m.top();
    size_t batched = m.top().in.size();
    for (size_t i = 0; i < m.top().in.size(); i++) {
        if (m.top().in[i].info.batch_axis == 0) {
            batched = i;
            break;
        }
    }
    const BufferTensor &t = inputs[batched];
    if (!t.buffer || !t.buffer->state()) return m.top();  // the operand check names it
    const auto &io = m.top().in[batched].info;
    const size_t have =
        t.buffer && t.buffer->state() && t.offset <= t.buffer->state()->size ? t.buffer->state()->size - t.offset : 0;
    for (const auto &p : m.progs)
        if (p.in[batched].info.bytes == have) return p;
    throw Error(MTIA_ERROR_INVALID_ARGUMENT,
                "run_async: input " + std::to_string(batched) + " '" + io.name + "' has " + std::to_string(have) +
                    " bytes from its offset to the buffer's end, no batch bucket's size (" +
                    std::to_string(io.bytes / m.top().batch) + " bytes per sample, buckets " + bucket_list(m.buckets) +
                    "): run_async needs buffers sized for a bucket exactly");
}

}  // namespace

void Model::run_async(Stream &stream, const std::vector<BufferTensor> &inputs, const std::vector<BufferTensor> &outputs)
{
    auto &m = *live(state_);
    const auto &s = stream.state();
    if (!s) throw Error(MTIA_ERROR_INVALID_HANDLE, "stream has been destroyed (or was never created)");
    if (s->dev != m.arena.state()->dev) {
        throw Error(MTIA_ERROR_INVALID_ARGUMENT, "run_async: the stream belongs to another device than the model");
    }
    check_count(inputs.size(), m.top().in.size(), "input");
    check_count(outputs.size(), m.top().out.size(), "output");
    const detail::ModelProgram &p = async_program(m, inputs);
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
    for (size_t i = 0; i < inputs.size(); i++) ins.push_back(operand(inputs[i], p.in[i], "input", i));
    for (size_t i = 0; i < outputs.size(); i++) outs.push_back(operand(outputs[i], p.out[i], "output", i));
    std::lock_guard<std::mutex> l(m.mu);
    const unsigned k = m.async_next++ % (sizeof(m.async_done) / sizeof(m.async_done[0]));
    enqueue(m, p, stream, ins, outs, m.async_done[k], 2 + k);
}

}  // namespace mtia
