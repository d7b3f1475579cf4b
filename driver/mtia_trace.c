// SPDX-License-Identifier: GPL-2.0-only
/*
 * mtia-open DRM accel driver: instantiates the tracepoints declared in
 * mtia_trace.h (the other files only include it).
 */

#define CREATE_TRACE_POINTS
#include "mtia_trace.h"
