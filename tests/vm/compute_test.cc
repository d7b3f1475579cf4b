// SPDX-License-Identifier: MIT
// In-VM: COMPUTE jobs against the driver with raw ioctls (libdrm): a tensor
// arena in a device BO (inputs uploaded through its mapping), programs of
// struct mtia_op in host or device BOs, results checked against the naive
// references of tests/unit/compute_ref.h; a bad program fails its job with
// MTIA_CQE_BAD_PROGRAM and nothing else; arenas in host BOs and ranges
// outside their BOs are refused by SUBMIT; RESIZE over random shapes and
// modes (compute_ref_resize.h); integer BINARY over random shapes
// (compute_ref_int.h). Runs on the first mtia device.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xf86drm.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <vector>

#include "compute_ref.h"
#include "compute_ref_int.h"
#include "compute_ref_resize.h"
#include "mtia/mtia.hpp"
#include "mtia/mtia_spec.h"
#include "uapi/drm/mtia_accel.h"

namespace {

constexpr uint64_t kSec = 1000000000ull;
constexpr uint64_t kArena = 1ull << 20;

int ioctl_err(int fd, unsigned long req, void *arg) { return drmIoctl(fd, req, arg) ? errno : 0; }

struct Bo {
    uint32_t handle = 0;
    uint64_t size = 0;
    uint8_t *map = nullptr;
};

// A conv + relu (3x3, stride 1, pad 1, bias) feeding a GEMM (FC), with
// inputs and reference outputs: the small network every test runs.
struct Net {
    cref::Arena a{kArena};
    mtia_tensor_desc x, w, b, c, fw, fb, y;
    std::vector<mtia_op> prog;
    std::vector<float> want_c, want_y;
    Net()
    {
        std::mt19937 rng(23);
        x = a.alloc({2, 3, 12, 12});
        w = a.alloc({8, 3, 3, 3});
        b = a.alloc({8});
        c = a.alloc({2, 8, 12, 12});
        fw = a.alloc({10, 1152});
        fb = a.alloc({1, 10});
        y = a.alloc({2, 10});
        for (auto t : {x, w, b, fw, fb}) a.fill_random(t, rng);
        prog = {cref::op(MTIA_OP_CONV, {x, w, b}, c, {1, 1, 1, 1, 1, 1, 1, 1, 1}, MTIA_ACT_RELU),
                cref::op(MTIA_OP_GEMM, {cref::tensor(c.offset, {2, 1152}), fw, fb}, y,
                         {0, 1, cref::bits(1), cref::bits(1)})};
        const auto bv = a.get(b), fbv = a.get(fb);
        want_c = cref::conv(a.get(x), {2, 3, 12, 12}, a.get(w), {8, 3, 3, 3}, &bv, {2, 8, 12, 12}, prog[0]);
        want_y = cref::gemm(want_c, {2, 1152}, a.get(fw), {10, 1152}, &fbv, {1, 10}, {2, 10}, prog[1]);
    }
    uint64_t bytes() const { return prog.size() * sizeof(mtia_op); }
};

void expect_close(const float *got, const std::vector<float> &want, const char *what)
{
    size_t bad = 0;
    for (size_t i = 0; i < want.size(); i++)
        if (std::fabs(got[i] - want[i]) > 1e-4 * (1 + std::fabs(want[i])) && bad++ < 5)
            ADD_FAILURE() << what << "[" << i << "] = " << got[i] << ", want " << want[i];
    EXPECT_EQ(bad, 0u) << what;
}

class ComputeTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        auto nodes = mtia::device_nodes();
        ASSERT_FALSE(nodes.empty()) << "no mtia accel device";
        fd = open(nodes.front().c_str(), O_RDWR | O_CLOEXEC);
        ASSERT_GE(fd, 0);
        drm_mtia_queue_create qc{};
        qc.priority = MTIA_QUEUE_PRIO_NORMAL;
        ASSERT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_QUEUE_CREATE, &qc));
        q = qc.queue_id;
        arena = bo(kArena, MTIA_BO_DEVICE);
        prog = bo(64 << 10, MTIA_BO_HOST);
        ASSERT_TRUE(arena.map && prog.map);
    }
    void TearDown() override
    {
        for (Bo &b : bos) {
            if (b.map) munmap(b.map, b.size);
            drm_gem_close gc{};
            gc.handle = b.handle;
            drmIoctl(fd, DRM_IOCTL_GEM_CLOSE, &gc);
        }
        if (fd >= 0) close(fd);
    }

    Bo bo(uint64_t size, uint32_t placement)
    {
        Bo b;
        drm_mtia_bo_create c{};
        c.size = size;
        c.placement = placement;
        EXPECT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_BO_CREATE, &c));
        drm_mtia_bo_info i{};
        i.handle = c.handle;
        EXPECT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_BO_INFO, &i));
        b.handle = c.handle;
        b.size = i.size;
        void *p = mmap(nullptr, i.size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, i.mmap_offset);
        EXPECT_NE(MAP_FAILED, p);
        b.map = p == MAP_FAILED ? nullptr : static_cast<uint8_t *>(p);
        bos.push_back(b);
        return b;
    }

    // A COMPUTE command: program in job BO @pbo at @poff (@len bytes), arena
    // in job BO @abo at @aoff (@abytes).
    static drm_mtia_cmd compute(uint32_t pbo, uint64_t poff, uint64_t len, uint32_t abo, uint64_t aoff, uint64_t abytes)
    {
        drm_mtia_cmd c{};
        c.opcode = MTIA_CMD_COMPUTE;
        c.src_bo = pbo;
        c.src_offset = poff;
        c.len = len;
        c.dst_bo = abo;
        c.dst_offset = aoff;
        c.value = abytes;
        return c;
    }

    int submit(const std::vector<drm_mtia_cmd> &cmds, const std::vector<uint32_t> &handles, uint64_t *seq)
    {
        drm_mtia_submit s{};
        s.cmds = reinterpret_cast<uintptr_t>(cmds.data());
        s.cmd_count = static_cast<uint32_t>(cmds.size());
        s.bo_handles = reinterpret_cast<uintptr_t>(handles.data());
        s.bo_count = static_cast<uint32_t>(handles.size());
        s.queue_id = q;
        const int err = ioctl_err(fd, DRM_IOCTL_MTIA_SUBMIT, &s);
        if (!err && seq) *seq = s.seqno;
        return err;
    }
    // Job status after waiting; *cqe = its first failing CQE status, and
    // device_ns the device's estimate of its COMPUTE time.
    int32_t wait(uint64_t seq, uint32_t *cqe = nullptr)
    {
        drm_mtia_wait w{};
        w.queue_id = q;
        w.seqno = seq;
        w.timeout_ns = 60 * kSec;
        w.device_ns = 12345;  // an output: whatever comes in is overwritten
        EXPECT_EQ(0, ioctl_err(fd, DRM_IOCTL_MTIA_WAIT, &w));
        if (cqe) *cqe = w.cqe_status;
        device_ns = w.device_ns;
        return w.status;
    }
    uint64_t device_ns = 0;
    int32_t run(const std::vector<drm_mtia_cmd> &cmds, const std::vector<uint32_t> &handles, uint32_t *cqe = nullptr)
    {
        uint64_t seq = 0;
        const int err = submit(cmds, handles, &seq);
        EXPECT_EQ(0, err);
        return err ? -1000 - err : wait(seq, cqe);
    }

    // Uploads the net's arena and program (at @poff of the program BO).
    void upload(const Net &n, uint64_t poff = 0)
    {
        std::memcpy(arena.map, n.a.mem.data(), kArena);
        std::memcpy(prog.map + poff, n.prog.data(), n.bytes());
    }
    const float *at(const mtia_tensor_desc &t) const { return reinterpret_cast<const float *>(arena.map + t.offset); }

    int fd = -1;
    uint32_t q = 0;
    Bo arena, prog;
    std::vector<Bo> bos;
};

TEST_F(ComputeTest, ConvReluThenGemmFromAHostBoProgram)
{
    Net n;
    upload(n, 512);
    uint32_t cqe = 99;
    EXPECT_EQ(0, run({compute(1, 512, n.bytes(), 0, 0, kArena)}, {arena.handle, prog.handle}, &cqe));
    EXPECT_EQ(0u, cqe);
    expect_close(at(n.c), n.want_c, "conv+relu");
    expect_close(at(n.y), n.want_y, "gemm");
    // WAIT reports the timing model's estimate for the COMPUTE command,
    // twice as much for the program run twice, and none for a job without.
    const uint64_t once = device_ns;
    EXPECT_GT(once, 0u);
    EXPECT_EQ(0, run({compute(1, 512, n.bytes(), 0, 0, kArena), compute(1, 512, n.bytes(), 0, 0, kArena)},
                     {arena.handle, prog.handle}));
    EXPECT_EQ(2 * once, device_ns);
    drm_mtia_cmd nop{};
    nop.opcode = MTIA_CMD_NOP;
    EXPECT_EQ(0, run({nop}, {}));
    EXPECT_EQ(0u, device_ns);
}

// The program in device memory, the arena at an offset of a larger BO, and
// the same job run twice in a row with new inputs in between.
TEST_F(ComputeTest, ProgramInADeviceBoArenaAtAnOffset)
{
    Net n;
    Bo big = bo(4 * kArena, MTIA_BO_DEVICE);
    Bo dprog = bo(4096, MTIA_BO_DEVICE);
    ASSERT_TRUE(big.map && dprog.map);
    std::memcpy(big.map + kArena, n.a.mem.data(), kArena);
    std::memcpy(dprog.map, n.prog.data(), n.bytes());
    const std::vector<drm_mtia_cmd> job{compute(1, 0, n.bytes(), 0, kArena, 2 * kArena)};
    ASSERT_EQ(0, run(job, {big.handle, dprog.handle}));
    expect_close(reinterpret_cast<float *>(big.map + kArena + n.y.offset), n.want_y, "gemm");
    // New input and weights: the device must not reuse anything derived from
    // the old ones.
    Net m;
    std::mt19937 rng(99);
    m.a.fill_random(m.x, rng);
    m.a.at(m.w)[7] += 1.0f;  // and one weight
    const auto bv = m.a.get(m.b), fbv = m.a.get(m.fb);
    const auto cv =
        cref::conv(m.a.get(m.x), {2, 3, 12, 12}, m.a.get(m.w), {8, 3, 3, 3}, &bv, {2, 8, 12, 12}, m.prog[0]);
    const auto yv = cref::gemm(cv, {2, 1152}, m.a.get(m.fw), {10, 1152}, &fbv, {1, 10}, {2, 10}, m.prog[1]);
    std::memcpy(big.map + kArena, m.a.mem.data(), kArena);
    ASSERT_EQ(0, run(job, {big.handle, dprog.handle}));
    expect_close(reinterpret_cast<float *>(big.map + kArena + n.y.offset), yv, "gemm, new input");
}

// A bad program fails its own job with BAD_PROGRAM (no op of it runs) and
// nothing else: the next job on the queue and a good command after it in
// another job succeed.
TEST_F(ComputeTest, BadProgramFailsOnlyItsJob)
{
    Net n;
    upload(n);
    mtia_op bad = n.prog[1];
    bad.out.offset = kArena;  // outside the arena
    std::memcpy(prog.map + 4096, n.prog.data(), sizeof(mtia_op));
    std::memcpy(prog.map + 4096 + sizeof(mtia_op), &bad, sizeof(bad));
    std::memset(arena.map + n.c.offset, 0, n.want_c.size() * 4);
    uint64_t s1 = 0, s2 = 0;
    ASSERT_EQ(0, submit({compute(1, 4096, 2 * sizeof(mtia_op), 0, 0, kArena)}, {arena.handle, prog.handle}, &s1));
    ASSERT_EQ(0, submit({compute(1, 0, n.bytes(), 0, 0, kArena)}, {arena.handle, prog.handle}, &s2));
    uint32_t cqe = 0;
    EXPECT_EQ(-EIO, wait(s1, &cqe));
    EXPECT_EQ(uint32_t(MTIA_CQE_BAD_PROGRAM), cqe);
    EXPECT_EQ(0, wait(s2, &cqe));
    EXPECT_EQ(0u, cqe);
    expect_close(at(n.y), n.want_y, "the next job");
    // Garbage as a program.
    std::mt19937 rng(5);
    for (int i = 0; i < 8192; i++) prog.map[8192 + i] = static_cast<uint8_t>(rng());
    EXPECT_EQ(-EIO, run({compute(1, 8192, 8192, 0, 0, kArena)}, {arena.handle, prog.handle}, &cqe));
    EXPECT_EQ(uint32_t(MTIA_CQE_BAD_PROGRAM), cqe);
    // A bad program first in a job fails the job; its cqe is that one.
    drm_mtia_cmd fill{};
    fill.opcode = MTIA_CMD_FILL;
    fill.dst_bo = 1;
    fill.len = 64;
    fill.value = 0x5a;
    fill.dst_offset = 60000;
    EXPECT_EQ(-EIO, run({compute(1, 8192, 256, 0, 0, kArena), fill}, {arena.handle, prog.handle}, &cqe));
    EXPECT_EQ(uint32_t(MTIA_CQE_BAD_PROGRAM), cqe);
    EXPECT_EQ(0, run({fill}, {arena.handle, prog.handle}));
    EXPECT_EQ(0x5a, prog.map[60063]);
}

// RESIZE through the driver: one job of 60 resizes over random shapes,
// modes, coordinate transformations, scales and sizes, each checked
// against the naive reference (NEAREST exactly: it is a copy).
TEST_F(ComputeTest, ResizeRandomShapesAndModes)
{
    std::mt19937 rng(41);
    auto rnd = [&](uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); };
    const float kScales[] = {0.5f, 0.6f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 4.0f};
    cref::Arena a{kArena};
    std::vector<mtia_op> ops;
    while (ops.size() < 60) {
        const uint32_t nd = rnd(2, 5), sp = rnd(1, std::min(3u, nd)), mode = rnd(0, 2);
        cref::Dims xd, yd;
        std::vector<uint32_t> at = {mode,
                                    rnd(0, 4),
                                    mode == MTIA_RESIZE_NEAREST ? rnd(0, 3) : 0,
                                    mode == MTIA_RESIZE_CUBIC ? cref::bits(-0.75f) : 0u,
                                    mode != MTIA_RESIZE_NEAREST ? rnd(0, 1) : 0u,
                                    sp};
        for (uint32_t i = 0; i < nd - sp; i++) {
            xd.push_back(rnd(1, 3));
            yd.push_back(xd.back());
        }
        for (uint32_t i = 0; i < sp; i++) {
            xd.push_back(rnd(1, sp == 3 ? 5 : 9));
            const float s = rnd(0, 1) ? kScales[rnd(0, 7)] : 0.0f;  // 0: sizes
            yd.push_back(s ? std::max<uint32_t>(1, uint32_t(xd.back() * s)) : rnd(1, sp == 3 ? 7 : 12));
            at.push_back(s && std::fabs(yd.back() - xd.back() * double(s)) < 1 ? cref::bits(s) : 0u);
        }
        if (a.used + (cref::count(xd) + cref::count(yd)) * 4 + 128 > kArena) break;
        const mtia_tensor_desc x = a.alloc(xd), y = a.alloc(yd);
        a.fill_random(x, rng);
        ops.push_back(cref::op(MTIA_OP_RESIZE, {x}, y, at));
    }
    ASSERT_GE(ops.size(), 40u);
    std::memcpy(arena.map, a.mem.data(), kArena);
    std::memcpy(prog.map, ops.data(), ops.size() * sizeof(mtia_op));
    uint32_t cqe = 99;
    ASSERT_EQ(0, run({compute(1, 0, ops.size() * sizeof(mtia_op), 0, 0, kArena)}, {arena.handle, prog.handle}, &cqe));
    EXPECT_EQ(0u, cqe);
    EXPECT_GT(device_ns, 1000 * ops.size());  // the timing model: at least a launch per op
    for (size_t k = 0; k < ops.size(); k++) {
        const mtia_op &o = ops[k];
        const std::vector<float> want = cref::resize(a.get(o.in[0]), o);
        const std::string what =
            "op " + std::to_string(k) + " mode " + std::to_string(o.attrs[0]) + " coord " + std::to_string(o.attrs[1]);
        if (o.attrs[MTIA_RESIZE_MODE] == MTIA_RESIZE_NEAREST)
            EXPECT_EQ(0, std::memcmp(at(o.out), want.data(), want.size() * 4)) << what;
        else
            expect_close(at(o.out), want, what.c_str());
    }
}

// Integer BINARY (ADD..MIN on I32 and I64) over random broadcast shapes and
// values that wrap, divide by zero and take negative powers: one program of
// 14 ops run by the device, checked against tests/unit/compute_ref_int.h.
template <class T>
void int_ops(std::mt19937 &rng, cref::Arena &a, uint8_t dtype, std::vector<mtia_op> &prog,
             std::vector<std::vector<T>> &want)
{
    for (uint32_t kind = MTIA_BINARY_ADD; kind <= MTIA_BINARY_MIN; kind++) {
        cref::Dims yd(std::uniform_int_distribution<int>(1, 4)(rng)), xd, zd;
        for (auto &d : yd) d = std::uniform_int_distribution<uint32_t>(1, 6)(rng);
        xd = zd = yd;
        for (auto &d : kind % 2 ? zd : xd)
            if (rng() % 3 == 0) d = 1;
        const auto x = a.alloc(xd, dtype), z = a.alloc(zd, dtype), y = a.alloc(yd, dtype);
        std::vector<T> xv(cref::count(xd)), zv(cref::count(zd)), yv(cref::count(yd));
        for (auto &v : xv) v = cref::int_value<T>(rng, kind);
        for (auto &v : zv) v = cref::int_value<T>(rng, kind);
        std::memcpy(a.data() + x.offset, xv.data(), xv.size() * sizeof(T));
        std::memcpy(a.data() + z.offset, zv.data(), zv.size() * sizeof(T));
        for (size_t i = 0; i < yv.size(); i++) {
            const auto c = cref::coords(i, yd);
            yv[i] = cref::int_binary<T>(kind, xv[cref::bindex(c, xd)], zv[cref::bindex(c, zd)]);
        }
        prog.push_back(cref::op(MTIA_OP_BINARY, {x, z}, y, {kind}));
        want.push_back(yv);
    }
}

template <class T>
size_t int_mismatches(const uint8_t *arena, const mtia_op &op, const std::vector<T> &want)
{
    std::vector<T> got(want.size());
    std::memcpy(got.data(), arena + op.out.offset, got.size() * sizeof(T));
    size_t bad = 0;
    for (size_t i = 0; i < want.size(); i++) bad += got[i] != want[i];
    return bad;
}

TEST_F(ComputeTest, IntegerBinaryRandomShapes)
{
    for (uint32_t seed = 1; seed <= 4; seed++) {
        std::mt19937 rng(seed);
        cref::Arena a{kArena};
        std::vector<mtia_op> ops;
        std::vector<std::vector<int32_t>> w32;
        std::vector<std::vector<int64_t>> w64;
        int_ops<int32_t>(rng, a, MTIA_DTYPE_I32, ops, w32);
        int_ops<int64_t>(rng, a, MTIA_DTYPE_I64, ops, w64);
        std::memcpy(arena.map, a.mem.data(), kArena);
        std::memcpy(prog.map, ops.data(), ops.size() * sizeof(mtia_op));
        uint32_t cqe = 99;
        ASSERT_EQ(0,
                  run({compute(1, 0, ops.size() * sizeof(mtia_op), 0, 0, kArena)}, {arena.handle, prog.handle}, &cqe));
        EXPECT_EQ(0u, cqe);
        for (size_t k = 0; k < ops.size(); k++) {
            const size_t bad = k < w32.size() ? int_mismatches(arena.map, ops[k], w32[k])
                                              : int_mismatches(arena.map, ops[k], w64[k - w32.size()]);
            EXPECT_EQ(0u, bad) << "seed " << seed << " op " << k << " kind " << ops[k].attrs[0];
        }
    }
}

TEST_F(ComputeTest, SubmitRefusesBadRanges)
{
    Net n;
    upload(n);
    Bo host_arena = bo(kArena, MTIA_BO_HOST);
    const std::vector<uint32_t> h{arena.handle, prog.handle, host_arena.handle};
    const uint64_t len = n.bytes();
    uint64_t seq;
    // The arena must be a device BO.
    EXPECT_EQ(EINVAL, submit({compute(1, 0, len, 2, 0, kArena)}, h, &seq));
    // Program range outside its BO, or wrapping.
    EXPECT_EQ(EINVAL, submit({compute(1, prog.size - 256, len, 0, 0, kArena)}, h, &seq));
    EXPECT_EQ(EINVAL, submit({compute(1, UINT64_MAX - 255, len, 0, 0, kArena)}, h, &seq));
    // Arena range outside its BO, or wrapping.
    EXPECT_EQ(EINVAL, submit({compute(1, 0, len, 0, 4096, kArena)}, h, &seq));
    EXPECT_EQ(EINVAL, submit({compute(1, 0, len, 0, 1, UINT64_MAX)}, h, &seq));
    // len: 0, not a multiple of MTIA_OP_BYTES, over MTIA_MAX_PROGRAM_OPS; arena 0; flags.
    EXPECT_EQ(EINVAL, submit({compute(1, 0, 0, 0, 0, kArena)}, h, &seq));
    EXPECT_EQ(EINVAL, submit({compute(1, 0, 300, 0, 0, kArena)}, h, &seq));
    EXPECT_EQ(EINVAL, submit({compute(1, 0, (MTIA_MAX_PROGRAM_OPS + 1ull) * 256, 0, 0, kArena)}, h, &seq));
    EXPECT_EQ(EINVAL, submit({compute(1, 0, len, 0, 0, 0)}, h, &seq));
    drm_mtia_cmd c = compute(1, 0, len, 0, 0, kArena);
    c.flags = 1;
    EXPECT_EQ(EINVAL, submit({c}, h, &seq));
    // BO index out of the job's list.
    EXPECT_EQ(EINVAL, submit({compute(3, 0, len, 0, 0, kArena)}, h, &seq));
    // The same command with good ranges runs.
    EXPECT_EQ(0, run({compute(1, 0, len, 0, 0, kArena)}, h));
    expect_close(at(n.y), n.want_y, "gemm");
}

// A program longer than the driver's job timeout (5 s): the driver resets
// the device, which stops the program between two ops; the job is
// cancelled and the next one runs normally.
TEST_F(ComputeTest, ProgramOverTheJobTimeoutIsStoppedByTheReset)
{
    constexpr uint32_t kOps = MTIA_MAX_PROGRAM_OPS;
    Bo big = bo(8ull << 20, MTIA_BO_DEVICE), lprog = bo(uint64_t{kOps} * sizeof(mtia_op), MTIA_BO_HOST);
    ASSERT_TRUE(lprog.map);
    const auto x = cref::tensor(0, {2, 64, 56, 56}), w = cref::tensor(4ull << 20, {64, 64, 3, 3});
    const auto y = cref::tensor(5ull << 20, {2, 64, 56, 56});
    // 231 M MACs per op, the spec's maximum of ops: minutes on any host.
    const mtia_op conv = cref::op(MTIA_OP_CONV, {x, w}, y, {1, 1, 1, 1, 1, 1, 1, 1, 1});
    for (uint32_t i = 0; i < kOps; i++) std::memcpy(lprog.map + i * sizeof(mtia_op), &conv, sizeof(conv));
    const auto t0 = std::chrono::steady_clock::now();
    uint32_t cqe = 0;
    EXPECT_EQ(-ECANCELED,
              run({compute(1, 0, uint64_t{kOps} * sizeof(mtia_op), 0, 0, big.size)}, {big.handle, lprog.handle}, &cqe));
    // The timeout and the reset, not the program's end (a hang guard: a
    // loaded host may stretch the reset).
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(120));
    Net n;
    upload(n);
    EXPECT_EQ(0, run({compute(1, 0, n.bytes(), 0, 0, kArena)}, {arena.handle, prog.handle}));
    expect_close(at(n.y), n.want_y, "gemm after the reset");
}

}  // namespace
