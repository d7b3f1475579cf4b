/* SPDX-License-Identifier: MIT */
/*
 * The PE-grid compute engine (docs/compute.md): runs a program of
 * struct mtia_op descriptors (include/mtia/mtia_spec.h, "Compute") over a
 * tensor arena. A C ABI usable from C and C++: the device's queue engine
 * calls it for MTIA_CMD_COMPUTE, and host tests (the runtime's too) link
 * mtia_device_core and call it directly.
 *
 * Threads: a run executes on the calling thread plus an OpenMP team of
 * worker threads (oneDNN); OMP_NUM_THREADS (default: every CPU) sizes it.
 * Runs from different threads may proceed concurrently (the device
 * serialises its own programs: one PE grid per device).
 */
#ifndef MTIA_COMPUTE_H
#define MTIA_COMPUTE_H

#include <stdint.h>

#include "mtia/mtia_spec.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Checks every op (opcode, dtype, n_in, ranks, shapes consistent per op,
 * attributes, act, reserved/flags zero, every tensor inside
 * [0, arena_bytes) with overflow-safe arithmetic, offsets aligned, no
 * output overlapping an input except the in-place forms docs/compute.md
 * lists, work per batch item bounded). MTIA_CQE_OK, or MTIA_CQE_BAD_PROGRAM
 * with *bad_op = index of the first bad op (n_ops == 0 or ops == NULL is
 * BAD_PROGRAM with *bad_op = 0).
 */
uint16_t mtia_compute_validate(const struct mtia_op *ops, uint32_t n_ops, uint64_t arena_bytes, uint32_t *bad_op);

/*
 * Validates, then runs ops in order on the calling thread + the PE pool.
 * *result: estimated device ns (MTIA_CQE_OK) or bad op index
 * (MTIA_CQE_BAD_PROGRAM; nothing was written). should_stop (may be NULL)
 * is polled before each op, between the chunks of a large op and once
 * after the last op (whose answer no longer matters: the device paces its
 * work there): if it returns non-zero the run stops with MTIA_CQE_ABORTED
 * (*result 0; the arena may be partly written). With a profile, an op ends
 * when the poll after it returns. Timing model for the default 8x8 grid.
 */
uint16_t mtia_compute_run(const struct mtia_op *ops, uint32_t n_ops, uint8_t *arena, uint64_t arena_bytes,
                          int (*should_stop)(void *), void *opaque, uint64_t *result);

/* A PE grid of pe_rows x pe_cols (device properties, 1..64 each). */
struct mtia_compute_grid {
    uint32_t pe_rows;
    uint32_t pe_cols;
};

/* mtia_compute_run with the timing model scaled to @grid (NULL: 8x8). */
uint16_t mtia_compute_run_grid(const struct mtia_compute_grid *grid, const struct mtia_op *ops, uint32_t n_ops,
                               uint8_t *arena, uint64_t arena_bytes, int (*should_stop)(void *), void *opaque,
                               uint64_t *result);

/*
 * Per-op profile of a run (MTIA_CMD_F_PROFILE): clock_ns(opaque) is the
 * device clock; header and ops (n_ops records) are filled in as described
 * for struct mtia_profile_header / mtia_op_profile in mtia_spec.h. They are
 * complete only when the run returns MTIA_CQE_OK (otherwise partly
 * written).
 */
struct mtia_compute_profile {
    uint64_t (*clock_ns)(void *opaque);
    void *opaque;
    struct mtia_profile_header *header;
    struct mtia_op_profile *ops;
};

/* mtia_compute_run_grid, recording the profile into @prof (NULL: none;
 * then the run does nothing more than mtia_compute_run_grid). */
uint16_t mtia_compute_run_profiled(const struct mtia_compute_grid *grid, const struct mtia_op *ops, uint32_t n_ops,
                                   uint8_t *arena, uint64_t arena_bytes, int (*should_stop)(void *), void *opaque,
                                   const struct mtia_compute_profile *prof, uint64_t *result);

/*
 * Write tracking of the arena (docs/compute.md, "Reused weights"). The
 * engine keeps data derived from arena bytes (convolution weights in
 * oneDNN's layout) between runs. Without a tracker it compares a private
 * copy of those bytes with the arena before each reuse. With one it reuses
 * them while last_write() of their range is not later than the now() it
 * read before deriving, comparing nothing: the caller promises that every
 * write to the arena's memory, by anyone, is reported (wrote() of the
 * tracker, after the bytes are stored) before a run that must see it
 * starts. The engine reports its own writes (each op's output, after the
 * op) through wrote(). Offsets are arena offsets.
 */
struct mtia_compute_tracker {
    uint64_t id; /* the tracked memory: unique in the process, never reused */
    void *opaque;
    uint64_t (*now)(void *opaque);
    uint64_t (*last_write)(void *opaque, uint64_t off, uint64_t len);
    void (*wrote)(void *opaque, uint64_t off, uint64_t len);
};

/* mtia_compute_run_profiled over tracked memory (@tracker NULL: untracked,
 * the same as mtia_compute_run_profiled). */
uint16_t mtia_compute_run_tracked(const struct mtia_compute_grid *grid, const struct mtia_op *ops, uint32_t n_ops,
                                  uint8_t *arena, uint64_t arena_bytes, int (*should_stop)(void *), void *opaque,
                                  const struct mtia_compute_profile *prof, const struct mtia_compute_tracker *tracker,
                                  uint64_t *result);

/* Bytes op reads (every input, and out with MTIA_OP_F_ACCUM) and writes
 * (its output); op validates. */
uint64_t mtia_compute_op_bytes(const struct mtia_op *op);

/* The timing model's estimate for one op that validates (ns, >= the
 * per-op launch cost), on @grid (NULL: 8x8). */
uint64_t mtia_compute_op_ns(const struct mtia_compute_grid *grid, const struct mtia_op *op);

/* Drops every cached kernel, for tests and benchmarks that change the
 * environment overrides read when a kernel is built (MTIA_CONV_LAYOUT,
 * MTIA_COMPUTE_CHUNK_WORK). A run in progress keeps the kernels it holds. */
void mtia_compute_drop_kernels(void);

#ifdef __cplusplus
}
#endif

#endif /* MTIA_COMPUTE_H */
