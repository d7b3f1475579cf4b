# SPDX-License-Identifier: MIT
"""What the Python test drivers share (tests/device-plugin/, tests/vm/):
PASS/FAIL counting with the "N passed, N failed" line every suite ends with
(tests/checks.sh is the shell side), a bounded wait for a state, and gRPC
stubs generated from one of our .proto files at run time with Debian's
protoc and grpc_python_plugin (protobuf-compiler, protobuf-compiler-grpc),
so they always match the C++ ones the build generates."""

import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import time


class Checks:
    """PASS/FAIL lines and the "N passed, N failed" summary the suites count."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, what, ok, detail=""):
        if ok:
            self.passed += 1
            print("PASS: " + what, flush=True)
        else:
            self.failed += 1
            print("FAIL: " + what + (" (" + str(detail) + ")" if detail != "" else ""), flush=True)
        return ok

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed), flush=True)
        return 0 if self.failed == 0 else 1


def wait_until(pred, timeout, step=0.05):
    """Polls pred (a state, e.g. a file gone or a process exited) until true
    or timeout s; the last result."""
    end = time.monotonic() + timeout
    while True:
        r = pred()
        if r or time.monotonic() >= end:
            return r
        time.sleep(step)


def grpc_stubs(proto):
    """(messages module, services module) generated from the .proto file
    proto into a temporary directory removed at exit."""
    out = tempfile.mkdtemp(prefix="grpc-stubs-")
    atexit.register(shutil.rmtree, out, True)
    subprocess.run(["protoc", "-I", os.path.dirname(proto), "--python_out=" + out,
                    "--plugin=protoc-gen-grpc_python=" + shutil.which("grpc_python_plugin"),
                    "--grpc_python_out=" + out, proto], check=True)
    sys.path.insert(0, out)
    stem = os.path.splitext(os.path.basename(proto))[0]
    return importlib.import_module(stem + "_pb2"), importlib.import_module(stem + "_pb2_grpc")
