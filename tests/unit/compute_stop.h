// SPDX-License-Identifier: MIT
// Abort polling in the compute engine's tests: an op run with a stop request
// at a given poll (compute_ref.h's Arena; the engine's C ABI, which the
// in-VM tests that share compute_ref.h do not link).
#ifndef MTIA_TEST_COMPUTE_STOP_H
#define MTIA_TEST_COMPUTE_STOP_H

#include <atomic>

#include "compute_ref.h"
#include "mtia_compute.h"

namespace cref {

// Runs @o with an abort requested at its second poll: the status, and in
// *@polls the polls made. A chunked op polls before it starts and after its
// first chunk, so it ends ABORTED after 2.
inline uint16_t run_stopping_at_second_poll(Arena &a, const mtia_op &o, int *polls)
{
    std::atomic<int> n{0};
    auto stop = [](void *p) -> int { return ++*static_cast<std::atomic<int> *>(p) >= 2; };
    uint64_t result = 0;
    const uint16_t st = mtia_compute_run(&o, 1, a.data(), a.size(), stop, &n, &result);
    *polls = n.load();
    return st;
}

}  // namespace cref

#endif  // MTIA_TEST_COMPUTE_STOP_H
