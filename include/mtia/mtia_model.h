/* SPDX-License-Identifier: MIT */
/*
 * Compiled-model (.mtia) constants shared by mtia-compile and libmtia. The
 * layout itself is the FlatBuffers schema mtia_model.fbs next to this file.
 */
#ifndef MTIA_MODEL_H
#define MTIA_MODEL_H

#define MTIA_MODEL_FILE_IDENTIFIER "MTIM"
/* major << 16 | minor: readers accept any minor of their major. */
#define MTIA_MODEL_FORMAT_MAJOR    1u
#define MTIA_MODEL_FORMAT_MINOR    3u  /* 1: Model.programs (batch buckets); 2: I8/U8 tensors;
                                          3: U8 weights without a scale (8-bit rowwise tables) */
#define MTIA_MODEL_FORMAT_VERSION  (MTIA_MODEL_FORMAT_MAJOR << 16 | MTIA_MODEL_FORMAT_MINOR)
/* Arena alignment the compiler uses for every tensor offset. */
#define MTIA_MODEL_TENSOR_ALIGN    64u
/* Most batch buckets (Model.programs) a file may hold. */
#define MTIA_MODEL_MAX_BUCKETS     16u

#endif /* MTIA_MODEL_H */
