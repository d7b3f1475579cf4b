// SPDX-License-Identifier: MIT
// mtia-compile's one error type: every failure the user can cause (bad file,
// unsupported op, dynamic shape, ...) is a CompileError whose kind picks the
// tool's exit code and whose message names the node or value at fault.
#pragma once

#include <stdexcept>
#include <string>

namespace mtia::compiler {

// Exit codes of mtia-compile (docs/mtia-compile.md).
enum class ErrorKind : int {
    kInternal = 1,     // a compiler bug (an invariant did not hold)
    kUsage = 2,        // bad command line
    kBadInput = 3,     // the file cannot be read or is not a valid ONNX model
    kUnsupported = 4,  // valid ONNX the device cannot run (op, dtype, shape)
    kOutput = 5,       // the .mtia file cannot be written
};

class CompileError : public std::runtime_error {
public:
    CompileError(ErrorKind kind, const std::string &msg) : std::runtime_error(msg), kind_(kind) {}
    ErrorKind kind() const { return kind_; }
    int exit_code() const { return static_cast<int>(kind_); }

private:
    ErrorKind kind_;
};

[[noreturn]] inline void fail(ErrorKind kind, const std::string &msg) { throw CompileError(kind, msg); }
[[noreturn]] inline void unsupported(const std::string &msg) { fail(ErrorKind::kUnsupported, msg); }
[[noreturn]] inline void bad_input(const std::string &msg) { fail(ErrorKind::kBadInput, msg); }
[[noreturn]] inline void internal_error(const std::string &msg)
{
    fail(ErrorKind::kInternal, "internal error: " + msg);
}

}  // namespace mtia::compiler
