// SPDX-License-Identifier: MIT
// Status codes: names, messages, the Error exception and the per-thread
// detail string behind mtia_last_error().
#include "runtime_internal.h"

namespace mtia {

namespace {
thread_local std::string last_error_detail;
}

Error::Error(mtia_status status, const std::string &detail) : std::runtime_error(detail), status_(status) {}

void set_last_error(const std::string &detail) { last_error_detail = detail; }
const std::string &last_error() { return last_error_detail; }

}  // namespace mtia

extern "C" {

const char *mtia_status_name(mtia_status status)
{
    switch (status) {
        case MTIA_SUCCESS:
            return "MTIA_SUCCESS";
        case MTIA_ERROR_INVALID_ARGUMENT:
            return "MTIA_ERROR_INVALID_ARGUMENT";
        case MTIA_ERROR_NO_DEVICE:
            return "MTIA_ERROR_NO_DEVICE";
        case MTIA_ERROR_NO_DRIVER:
            return "MTIA_ERROR_NO_DRIVER";
        case MTIA_ERROR_PERMISSION:
            return "MTIA_ERROR_PERMISSION";
        case MTIA_ERROR_IO:
            return "MTIA_ERROR_IO";
        case MTIA_ERROR_VERSION:
            return "MTIA_ERROR_VERSION";
        case MTIA_ERROR_OUT_OF_MEMORY:
            return "MTIA_ERROR_OUT_OF_MEMORY";
        case MTIA_ERROR_INTERNAL:
            return "MTIA_ERROR_INTERNAL";
        case MTIA_ERROR_TIMEOUT:
            return "MTIA_ERROR_TIMEOUT";
        case MTIA_ERROR_INVALID_HANDLE:
            return "MTIA_ERROR_INVALID_HANDLE";
        case MTIA_ERROR_INVALID_MODEL:
            return "MTIA_ERROR_INVALID_MODEL";
        case MTIA_ERROR_INDEX_OUT_OF_RANGE:
            return "MTIA_ERROR_INDEX_OUT_OF_RANGE";
        case MTIA_ERROR_NOT_SUPPORTED:
            return "MTIA_ERROR_NOT_SUPPORTED";
        case MTIA_ERROR_INSUFFICIENT_SIZE:
            return "MTIA_ERROR_INSUFFICIENT_SIZE";
    }
    return "MTIA_ERROR_UNKNOWN";
}

const char *mtia_status_string(mtia_status status)
{
    switch (status) {
        case MTIA_SUCCESS:
            return "success";
        case MTIA_ERROR_INVALID_ARGUMENT:
            return "invalid argument";
        case MTIA_ERROR_NO_DEVICE:
            return "no such mtia device";
        case MTIA_ERROR_NO_DRIVER:
            return "the mtia kernel driver is not loaded";
        case MTIA_ERROR_PERMISSION:
            return "permission denied opening the device";
        case MTIA_ERROR_IO:
            return "the device or driver reported an error";
        case MTIA_ERROR_VERSION:
            return "driver and runtime versions are incompatible";
        case MTIA_ERROR_OUT_OF_MEMORY:
            return "out of memory";
        case MTIA_ERROR_INTERNAL:
            return "internal runtime error";
        case MTIA_ERROR_TIMEOUT:
            return "timed out";
        case MTIA_ERROR_INVALID_HANDLE:
            return "invalid handle (freed, destroyed, or its device closed)";
        case MTIA_ERROR_INVALID_MODEL:
            return "invalid model file (corrupt, malformed or unsupported version)";
        case MTIA_ERROR_INDEX_OUT_OF_RANGE:
            return "an ids/indices input holds a value outside its table";
        case MTIA_ERROR_NOT_SUPPORTED:
            return "not supported: the driver does not report this value";
        case MTIA_ERROR_INSUFFICIENT_SIZE:
            return "the output buffer is too small";
    }
    return "unknown status";
}

const char *mtia_last_error(void) { return mtia::last_error().c_str(); }

void mtia_runtime_version(int *major, int *minor, int *patch)
{
    if (major) *major = MTIA_RUNTIME_VERSION_MAJOR;
    if (minor) *minor = MTIA_RUNTIME_VERSION_MINOR;
    if (patch) *patch = MTIA_RUNTIME_VERSION_PATCH;
}

}  // extern "C"
