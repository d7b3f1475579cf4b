// SPDX-License-Identifier: MIT
// FUZZ_CHECK(cond, what): a property a fuzz target holds the code under
// test to. A violation is a crash (abort), so libFuzzer saves the input
// like any sanitizer report; the message says which property broke.
#ifndef MTIA_FUZZ_CHECK_H
#define MTIA_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, what)                                                                  \
    do {                                                                                        \
        if (!(cond)) {                                                                          \
            fprintf(stderr, "fuzz property violated at %s:%d: %s\n", __FILE__, __LINE__, what); \
            abort();                                                                            \
        }                                                                                       \
    } while (0)

#endif /* MTIA_FUZZ_CHECK_H */
