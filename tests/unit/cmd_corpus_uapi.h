// SPDX-License-Identifier: MIT
// The command corpus (cmd_corpus.h) as user space writes it to SUBMIT: for
// the driver's check in user space (driver_cmd_test.cc) and in a VM
// (tests/vm/submit_test.cc). The job lists two BOs, kSrcBo and kDstBo.
#ifndef MTIA_TESTS_CMD_CORPUS_UAPI_H
#define MTIA_TESTS_CMD_CORPUS_UAPI_H

#include "cmd_corpus.h"
#include "uapi/drm/mtia_accel.h"

namespace corpus {

constexpr uint32_t kSrcBo = 0, kDstBo = 1, kBos = 2;

// Operand addresses become BO indices; an operand the corpus leaves at
// address 0 is not named. reserved goes to reserved[0].
inline drm_mtia_cmd to_uapi(const mtia_cmd &c)
{
    drm_mtia_cmd u{};
    u.opcode = c.opcode;
    u.flags = c.flags;
    u.len = c.len;
    u.value = c.value;
    u.reserved[0] = c.reserved;
    if (c.src.addr) u.src_bo = kSrcBo, u.src_offset = c.src.offset;
    if (c.dst.addr) u.dst_bo = kDstBo, u.dst_offset = c.dst.offset;
    return u;
}

// Whether SUBMIT must fail with EINVAL; entries about addresses
// (Uapi::kNoAddress) are not driver cases.
inline bool uapi_refused(const Case &k) { return k.status != MTIA_CQE_OK || k.uapi == Uapi::kUnusedSet; }

}  // namespace corpus

#endif  // MTIA_TESTS_CMD_CORPUS_UAPI_H
