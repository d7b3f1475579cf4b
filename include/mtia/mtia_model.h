/* SPDX-License-Identifier: MIT */
/*
 * Compiled-model (.mtia) constants shared by mtia-compile and libmtia. The
 * layout itself is the FlatBuffers schema mtia_model.fbs next to this file.
 */
#ifndef MTIA_MODEL_H
#define MTIA_MODEL_H

#define MTIA_MODEL_FILE_IDENTIFIER "MTIM"
/* major << 16 | minor: readers accept any minor of the majors they know.
 * 1.1: Model.programs (batch buckets); 1.2: I8/U8 tensors; 1.3: U8 weights
 * without a scale (8-bit rowwise tables). 2.0: Op.flags (channels-last
 * CONV/POOL tensors, whose dims a 1.x reader would misread): writers use
 * 2.x only for a file with flags, so 1.x readers still read all others.
 * 2.1: MTIA_OP_F_ACCUM (a Conv adding into its output; a device that does
 * not know the flag refuses the op by name). 2.2: MTIA_OP_F_IN_BLK16 /
 * MTIA_OP_F_OUT_BLK16 (nChw16c tensors, likewise refused by name). */
#define MTIA_MODEL_FORMAT_MAJOR    2u
#define MTIA_MODEL_FORMAT_MINOR    2u
#define MTIA_MODEL_FORMAT_VERSION  (MTIA_MODEL_FORMAT_MAJOR << 16 | MTIA_MODEL_FORMAT_MINOR)
#define MTIA_MODEL_FORMAT_V1       (1u << 16 | 3u) /* what a file without Op.flags is written as */
/* Arena alignment the compiler uses for every tensor offset. */
#define MTIA_MODEL_TENSOR_ALIGN    64u
/* Most batch buckets (Model.programs) a file may hold. */
#define MTIA_MODEL_MAX_BUCKETS     16u

#endif /* MTIA_MODEL_H */
